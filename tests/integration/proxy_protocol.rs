//! Issue 13.3 and 13.4: the PROXY protocol in front of HTTP. A connection
//! from a trusted address starts with a header naming the client; the
//! access log names that client; anything else is closed unanswered and
//! counted by reason.

use crate::support::binary::Binary;
use crate::support::{start_server, write_fixture, Client, TestServer};
use httpserver::proto::proxy::ProxyVersions;
use httpserver::server::client_address::ClientAddressPolicy;
use std::process::Command;
use std::time::Duration;

const REQUEST: &[u8] = b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n";

/// A server that requires a PROXY header of `versions` from `trusted`.
fn proxied_server(versions: ProxyVersions, trusted: &str) -> TestServer {
    start_server(|config| {
        config.client_address = ClientAddressPolicy {
            proxy_protocol: Some(versions),
            trusted_proxies: trusted.parse().unwrap(),
            real_ip_header: None,
        };
        // A silent client is handed over at once, so only the header
        // timeout governs it.
        config.timeouts.defer_accept = Duration::ZERO;
    })
}

/// A version 2 header: PROXY over TCP with `family` (0x11 or 0x21), the
/// address block, then `tlvs`.
fn v2_header(command: u8, family: u8, addresses: &[u8], tlvs: &[u8]) -> Vec<u8> {
    let mut out = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    out.push(command);
    out.push(family);
    let length = u16::try_from(addresses.len() + tlvs.len()).unwrap();
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(addresses);
    out.extend_from_slice(tlvs);
    out
}

fn tlv(kind: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend_from_slice(&u16::try_from(value.len()).unwrap().to_be_bytes());
    out.extend_from_slice(value);
    out
}

/// 2001:db8::7 port 51234 to 2001:db8::1 port 443.
fn ipv6_addresses() -> Vec<u8> {
    let source: std::net::Ipv6Addr = "2001:db8::7".parse().unwrap();
    let destination: std::net::Ipv6Addr = "2001:db8::1".parse().unwrap();
    let mut block = source.octets().to_vec();
    block.extend_from_slice(&destination.octets());
    block.extend_from_slice(&51234u16.to_be_bytes());
    block.extend_from_slice(&443u16.to_be_bytes());
    block
}

fn log_lines_for(lines: &[String], needle: &str) -> usize {
    lines.iter().filter(|line| line.contains(needle)).count()
}

#[test]
fn issue13_v1_header_and_request_in_one_segment_names_the_client() {
    let server = proxied_server(ProxyVersions::V1, "127.0.0.0/8");
    let mut client = server.connect();
    // Header and request in one write: the bytes after the header are the
    // request, and a second request follows on the same connection.
    let mut sent = b"PROXY TCP4 203.0.113.7 192.0.2.1 51234 443\r\n".to_vec();
    sent.extend_from_slice(REQUEST);
    client.send(&sent);
    assert_eq!(client.response().status, 200);
    client.send(b"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(client.response().status, 404);
    drop(client);
    let lines = server.stop_and_log_lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].contains("] 203.0.113.7:51234 - GET /style.css - 200 - "),
        "{lines:?}"
    );
    assert!(
        lines[1].contains("] 203.0.113.7:51234 - GET /missing - 404 - "),
        "{lines:?}"
    );
}

#[test]
fn issue13_v2_header_with_tlvs_names_an_ipv6_client() {
    let server = proxied_server(ProxyVersions::V2, "127.0.0.1");
    let mut tlvs = tlv(0x01, b"http/1.1"); // ALPN
    tlvs.extend(tlv(0x02, b"example.com")); // AUTHORITY
    tlvs.extend(tlv(0x05, &[0xAB; 64])); // UNIQUE_ID
    tlvs.extend(tlv(0xEA, &[0x01, b'v', b'p', b'c'])); // a balancer's own
    tlvs.extend(tlv(0x04, b"")); // NOOP
    let mut sent = v2_header(0x21, 0x21, &ipv6_addresses(), &tlvs);
    sent.extend_from_slice(REQUEST);
    let response = server.request(&sent);
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "body { color: #222; }\n");
    let lines = server.stop_and_log_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("] [2001:db8::7]:51234 - GET /style.css - 200 - "),
        "{lines:?}"
    );
}

#[test]
fn issue13_v2_local_from_a_health_check_keeps_the_peer_address() {
    let server = proxied_server(ProxyVersions::Any, "127.0.0.1");
    let mut client = server.connect();
    let local_port = client.stream.local_addr().unwrap().port();
    let mut sent = v2_header(0x20, 0x00, &[], &[]);
    sent.extend_from_slice(REQUEST);
    client.send(&sent);
    assert_eq!(client.response().status, 200);
    drop(client);
    let lines = server.stop_and_log_lines();
    assert_eq!(
        log_lines_for(
            &lines,
            &format!("] 127.0.0.1:{local_port} - GET /style.css - 200")
        ),
        1,
        "{lines:?}"
    );
}

#[test]
fn issue13_a_header_split_byte_by_byte_is_read_whole() {
    let server = proxied_server(ProxyVersions::Any, "127.0.0.0/8");
    let mut client = server.connect();
    client.stream.set_nodelay(true).unwrap();
    let mut sent = v2_header(
        0x21,
        0x11,
        &[198, 51, 100, 9, 127, 0, 0, 1, 0x30, 0x39, 0, 80],
        &tlv(0x02, b"x"),
    );
    sent.extend_from_slice(REQUEST);
    for byte in &sent {
        client.send(&[*byte]);
        // A pause, so the bytes arrive in separate segments and reads.
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(client.response().status, 200);
    drop(client);
    let lines = server.stop_and_log_lines();
    assert_eq!(
        log_lines_for(&lines, "] 198.51.100.9:12345 - GET /style.css - 200"),
        1,
        "{lines:?}"
    );
}

/// An idle connection is parked outside its task and served by a new one
/// when it speaks again: the client the header named goes with it.
#[test]
fn issue13_a_parked_connection_keeps_the_header_client() {
    let server = proxied_server(ProxyVersions::V1, "127.0.0.1");
    let mut client = server.connect();
    let mut sent = b"PROXY TCP6 2001:db8::9 2001:db8::1 4711 443\r\n".to_vec();
    sent.extend_from_slice(REQUEST);
    client.send(&sent);
    assert_eq!(client.response().status, 200);
    // Longer than a connection waits in its task before it is parked.
    std::thread::sleep(Duration::from_millis(200));
    client.send(REQUEST);
    assert_eq!(client.response().status, 200);
    drop(client);
    let lines = server.stop_and_log_lines();
    assert_eq!(
        log_lines_for(&lines, "] [2001:db8::9]:4711 - GET /style.css - 200"),
        2,
        "{lines:?}"
    );
}

#[test]
fn issue13_a_connection_from_an_untrusted_address_is_closed_unanswered() {
    let server = proxied_server(ProxyVersions::Any, "10.0.0.0/8, ::1");
    let mut client = server.connect();
    let mut sent = b"PROXY TCP4 203.0.113.7 192.0.2.1 51234 443\r\n".to_vec();
    sent.extend_from_slice(REQUEST);
    // The server may close before this write lands; a reset is a close.
    let _ = std::io::Write::write_all(&mut client.stream, &sent);
    assert_eq!(client.read_to_close(), b"", "no byte of a response");
    assert_eq!(server.await_no_connections(Duration::from_secs(5)), 0);
    assert_eq!(server.proxy_rejections("untrusted"), 1);
    assert_eq!(server.stop_and_log_lines(), Vec::<String>::new());
}

#[test]
fn issue13_a_request_without_a_header_is_closed_unanswered() {
    let server = proxied_server(ProxyVersions::Any, "127.0.0.1");
    let mut client = server.connect();
    client.send(REQUEST);
    assert_eq!(client.read_to_close(), b"");
    let mut client = server.connect();
    client.send(b"PROXY TCP4 203.0.113.7 192.0.2.1 51234 443\n");
    assert_eq!(client.read_to_close(), b"");
    assert_eq!(server.await_no_connections(Duration::from_secs(5)), 0);
    assert_eq!(server.proxy_rejections("not_proxy_header"), 1);
    assert_eq!(server.proxy_rejections("v1_bare_line_ending"), 1);
    assert_eq!(server.stop_and_log_lines(), Vec::<String>::new());
}

#[test]
fn issue13_a_silent_client_is_closed_at_the_header_timeout() {
    let server = start_server(|config| {
        config.client_address = ClientAddressPolicy {
            proxy_protocol: Some(ProxyVersions::Any),
            trusted_proxies: "127.0.0.1".parse().unwrap(),
            real_ip_header: None,
        };
        config.timeouts.defer_accept = Duration::ZERO;
        config.timeouts.header_read = Duration::from_millis(300);
    });
    let mut silent = server.connect();
    // Half a header is as good as none.
    let mut halfway = server.connect();
    halfway.send(b"PROXY TCP4 203.0.113.7 ");
    // Closed by the server (within the client's read deadline), unanswered.
    assert_eq!(silent.read_to_close(), b"");
    assert_eq!(halfway.read_to_close(), b"");
    assert_eq!(server.await_no_connections(Duration::from_secs(5)), 0);
    assert_eq!(server.proxy_rejections("timeout"), 2);
    assert_eq!(server.stop_and_log_lines(), Vec::<String>::new());
}

/// Without `--proxy-protocol` the same bytes are not a header: the server
/// does not guess (the spec forbids it), so `PROXY ...` is a bad request.
#[test]
fn issue13_without_the_flag_a_header_is_not_read() {
    let server = start_server(|config| {
        config.client_address.trusted_proxies = "127.0.0.1".parse().unwrap();
    });
    let mut sent = b"PROXY TCP4 203.0.113.7 192.0.2.1 51234 443\r\n".to_vec();
    sent.extend_from_slice(REQUEST);
    let mut client = Client::connect(server.addr);
    client.send(&sent);
    assert_eq!(client.response().status, 400);
}

#[test]
fn issue13_proxy_flags_without_trusted_proxies_are_usage_errors() {
    for args in [
        &["--proxy-protocol", "v1"][..],
        &["--proxy-protocol", "any", "--trusted-proxies", ""][..],
        &["--real-ip-header", "x-forwarded-for"][..],
        &["--proxy-protocol", "v3", "--trusted-proxies", "127.0.0.1"][..],
        &["--proxy-protocol", "v2", "--trusted-proxies", "10.0.0.1/8"][..],
        &[
            "--real-ip-header",
            "x-real-ip",
            "--trusted-proxies",
            "10.0.0.0/8",
        ][..],
    ] {
        let (code, stderr) = crate::cli::run_to_exit(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("httpserver: "), "{args:?}: {stderr}");
    }
    let (_, stderr) = crate::cli::run_to_exit(&["--proxy-protocol", "v1"]);
    assert!(stderr.contains("--trusted-proxies"), "{stderr}");
}

/// What a person would run: `curl --haproxy-protocol` sends a v1 line
/// naming its own socket's addresses.
#[test]
fn issue13_curl_haproxy_protocol_v1_is_served() {
    let curl_version = Command::new("curl").arg("--version").output();
    assert!(
        curl_version.is_ok_and(|output| output.status.success()),
        "this test needs curl (Debian package curl)"
    );
    let root = tempfile::tempdir().unwrap();
    write_fixture(root.path());
    let server = Binary::start(&[
        "--root",
        root.path().to_str().unwrap(),
        "--proxy-protocol",
        "v1",
        "--trusted-proxies",
        "127.0.0.1",
    ]);
    let url = format!("http://127.0.0.1:{}/style.css", server.port);
    let curl = |extra: &[&str]| {
        Command::new("curl")
            .args(["--silent", "--show-error", "--max-time", "5"])
            .args(extra)
            .arg(&url)
            .output()
            .unwrap()
    };
    let with_header = curl(&["--haproxy-protocol", "--write-out", "%{local_port}"]);
    assert!(with_header.status.success(), "{with_header:?}");
    let stdout = String::from_utf8(with_header.stdout).unwrap();
    let local_port = stdout
        .strip_prefix("body { color: #222; }\n")
        .unwrap_or_else(|| panic!("the file, then curl's port: {stdout:?}"));
    // Without the header the connection is closed unanswered: curl says
    // "Empty reply from server" (52) or a receive failure (56).
    let without = curl(&[]);
    assert!(
        matches!(without.status.code(), Some(52 | 56)),
        "{without:?}"
    );
    let (status, _stderr, lines) = server.stop_with_stdout();
    assert!(status.success());
    let requests: Vec<&String> = lines.iter().filter(|l| l.contains(" - GET ")).collect();
    assert_eq!(requests.len(), 1, "{lines:?}");
    assert!(
        requests[0].contains(&format!(
            "] 127.0.0.1:{local_port} - GET /style.css - 200 - "
        )),
        "{lines:?}"
    );
}
