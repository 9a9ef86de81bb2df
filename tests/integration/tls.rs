//! Issue 15: HTTPS. Handshakes with certificates made by `rcgen`, SNI,
//! ALPN, resumption, hostile and confused clients, and everything HTTP
//! does (keep-alive, pipelining, ranges, 100-continue, files) over TLS.

use crate::support::tls::{
    client_config, connect, default_client_config, server_leaf, try_connect, Leaf, TestCa,
};
use crate::support::{start_server, Client, TestServer};
use httpserver::config::tls::CertificatePair;
use std::io::Read;
use std::time::Duration;

/// A server with HTTPS on its listener, serving `leaves` (the first is the
/// default), with `configure` applied after.
fn tls_server(leaves: &[&Leaf], configure: impl FnOnce(&mut httpserver::Config)) -> TestServer {
    let pairs: Vec<CertificatePair> = leaves
        .iter()
        .map(|leaf| CertificatePair {
            cert: leaf.cert.clone(),
            key: leaf.key.clone(),
        })
        .collect();
    start_server(move |config| {
        config.tls.pairs = pairs;
        configure(config);
    })
}

fn one_leaf() -> (tempfile::TempDir, Leaf) {
    let dir = tempfile::tempdir().unwrap();
    let leaf = TestCa::new().issue(dir.path(), "site", &["localhost"], 30);
    (dir, leaf)
}

#[test]
fn keep_alive_pipelining_ranges_and_head_over_tls() {
    let (_dir, leaf) = one_leaf();
    let server = tls_server(&[&leaf], |_| {});
    let mut client = connect(server.addr, "localhost", &default_client_config());
    assert_eq!(client.stream.conn.alpn_protocol(), Some(&b"http/1.1"[..]));
    // Three requests in one write: the server answers each, in order.
    client.send(
        b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /data.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=10-19\r\n\r\n\
          HEAD /index.html HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let css = client.response();
    assert_eq!(
        (css.status, css.text()),
        (200, "body { color: #222; }\n".into())
    );
    let range = client.response();
    assert_eq!(range.status, 206);
    assert_eq!(range.body, vec![7u8; 10]);
    assert_eq!(range.field("content-range"), Some("bytes 10-19/100000"));
    let head = client.head_response();
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    // And the connection stays usable.
    client.send(b"GET /data.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(client.response().body, vec![7u8; 100_000]);
}

#[test]
fn files_larger_than_a_record_arrive_whole_over_tls_1_2_and_1_3() {
    let (_dir, leaf) = one_leaf();
    let server = tls_server(&[&leaf], |_| {});
    // Bytes that differ along the file, so a chunk out of place shows.
    let content: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(server.root.path().join("big.bin"), &content).unwrap();
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let config = client_config(&[version], &[b"http/1.1"]);
        let mut client = connect(server.addr, "localhost", &config);
        client.send(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
        let response = client.response();
        assert_eq!(response.status, 200, "{version:?}");
        assert!(response.body == content, "{version:?}: the body differs");
        // A range inside the file, across record boundaries.
        client.send(b"GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=20000-99999\r\n\r\n");
        let range = client.response();
        assert_eq!(range.status, 206);
        assert!(range.body == content[20_000..100_000], "{version:?}: range");
    }
}

#[test]
fn a_hundred_continue_over_tls() {
    let (_dir, leaf) = one_leaf();
    let server = tls_server(&[&leaf], |_| {});
    let mut client = connect(server.addr, "localhost", &default_client_config());
    client.send(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 10\r\nExpect: 100-continue\r\n\r\n",
    );
    assert_eq!(client.response().status, 100);
    client.send(b"{\"a\":\"hi\"}");
    let echoed = client.response();
    assert_eq!(echoed.status, 200, "{}", echoed.text());
    assert!(echoed.text().contains("\"hi\""), "{}", echoed.text());
}

#[test]
fn sni_chooses_the_exact_name_then_a_wildcard_then_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let default = ca.issue(dir.path(), "default", &["default.test"], 30);
    let exact = ca.issue(dir.path(), "exact", &["a.example.test"], 30);
    let wildcard = ca.issue(dir.path(), "wild", &["*.example.test"], 30);
    let server = tls_server(&[&default, &exact, &wildcard], |_| {});
    let config = default_client_config();
    let cases = [
        ("a.example.test", &exact),
        ("A.Example.Test", &exact),
        ("b.example.test", &wildcard),
        // A wildcard covers one label only (RFC 6125 §6.4.3).
        ("x.b.example.test", &default),
        ("other.test", &default),
        ("default.test", &default),
    ];
    for (name, leaf) in cases {
        let stream = try_connect(server.addr, name, &config).expect("handshake");
        assert!(
            server_leaf(&stream) == leaf.der,
            "{name} got another certificate"
        );
    }
    // No SNI at all (an IP address is never sent as SNI): the default.
    let stream = try_connect(server.addr, "127.0.0.1", &config).expect("handshake");
    assert!(server_leaf(&stream) == default.der);
}

#[test]
fn tls_dir_serves_every_pair_in_it_by_sni() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let first = ca.issue(dir.path(), "a-first", &["first.test"], 30);
    let second = ca.issue(dir.path(), "b-second", &["second.test"], 30);
    let certs = dir.path().to_owned();
    let server = start_server(move |config| config.tls.dir = Some(certs));
    let config = default_client_config();
    let stream = try_connect(server.addr, "second.test", &config).unwrap();
    assert!(server_leaf(&stream) == second.der);
    // The default is the first by name.
    let stream = try_connect(server.addr, "unknown.test", &config).unwrap();
    assert!(server_leaf(&stream) == first.der);
}

#[test]
fn a_client_offering_only_h2_gets_the_no_application_protocol_alert() {
    let (_dir, leaf) = one_leaf();
    let server = tls_server(&[&leaf], |_| {});
    let h2_only = client_config(rustls::ALL_VERSIONS, &[b"h2"]);
    let Err(error) = try_connect(server.addr, "localhost", &h2_only) else {
        panic!("the handshake should fail");
    };
    let alert = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .cloned();
    assert_eq!(
        alert,
        Some(rustls::Error::AlertReceived(
            rustls::AlertDescription::NoApplicationProtocol
        )),
        "{error}"
    );
    // Offering both, or nothing, is served with HTTP/1.1.
    for offers in [&[&b"h2"[..], b"http/1.1"][..], &[]] {
        let config = client_config(rustls::ALL_VERSIONS, offers);
        let mut client = connect(server.addr, "localhost", &config);
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(client.response().status, 200);
    }
}

#[test]
fn sessions_resume_with_tls_1_3_tickets_and_tls_1_2() {
    let (_dir, leaf) = one_leaf();
    let server = tls_server(&[&leaf], |_| {});
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let config = client_config(&[version], &[b"http/1.1"]);
        let mut first = connect(server.addr, "localhost", &config);
        // TLS 1.3 tickets arrive after the handshake: a request reads them.
        first.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(first.response().status, 200);
        assert_eq!(
            first.stream.conn.handshake_kind(),
            Some(rustls::HandshakeKind::Full)
        );
        let mut second = connect(server.addr, "localhost", &config);
        assert_eq!(
            second.stream.conn.handshake_kind(),
            Some(rustls::HandshakeKind::Resumed),
            "{version:?}"
        );
        second.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(second.response().status, 200);
    }
}

#[test]
fn a_handshake_that_stalls_is_cut_at_the_header_timeout() {
    let (_dir, leaf) = one_leaf();
    let server = tls_server(&[&leaf], |config| {
        config.timeouts.header_read = Duration::from_millis(300);
        config.timeouts.defer_accept = Duration::ZERO;
    });
    // The first bytes of a ClientHello record, then nothing.
    let mut client = Client::connect(server.addr);
    client.send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");
    // Closed (within the client's 5 s read deadline, else this panics),
    // with nothing sent back.
    assert_eq!(client.read_to_close(), b"");
    // The same for a client that connects and says nothing.
    let mut silent = Client::connect(server.addr);
    assert_eq!(silent.read_to_close(), b"");
    assert_eq!(server.await_no_connections(Duration::from_secs(5)), 0);
    assert!(server.stop_and_log_lines().is_empty());
}

#[test]
fn garbage_instead_of_a_client_hello_is_closed_and_not_logged() {
    let (_dir, leaf) = one_leaf();
    let server = tls_server(&[&leaf], |_| {});
    for garbage in [
        &b"\x00\x01\x02\x03 not TLS at all \xff\xfe"[..],
        b"\x16\x03\x01\x00\x05hello",
        b"\x17\x03\x03\x00\x10 sixteen bytes!!",
    ] {
        let mut client = Client::connect(server.addr);
        client.send(garbage);
        let answer = client.read_to_close();
        // At most a TLS alert record (content type 21), never HTTP.
        assert!(
            answer.is_empty() || answer[0] == 21,
            "{garbage:?} got {answer:?}"
        );
    }
    assert_eq!(server.await_no_connections(Duration::from_secs(5)), 0);
    assert!(server.stop_and_log_lines().is_empty());
}

#[test]
fn plain_http_to_the_https_port_gets_a_400_that_says_why() {
    let (_dir, leaf) = one_leaf();
    let server = tls_server(&[&leaf], |_| {});
    let mut client = Client::connect(server.addr);
    client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let response = client.response();
    assert_eq!(response.status, 400);
    assert_eq!(response.field("connection"), Some("close"));
    assert!(response.text().contains("HTTPS"), "{}", response.text());
    assert!(client.is_closed_by_server());
    assert!(server.stop_and_log_lines().is_empty());
}

#[test]
fn connection_close_ends_with_close_notify() {
    let (_dir, leaf) = one_leaf();
    let server = tls_server(&[&leaf], |_| {});
    let mut client = connect(server.addr, "localhost", &default_client_config());
    client.send(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(client.response().status, 200);
    // rustls reports a FIN without close_notify as UnexpectedEof; a clean
    // end is a read of 0.
    let mut rest = Vec::new();
    let end = client.stream.read_to_end(&mut rest);
    assert!(end.is_ok(), "{end:?}");
    assert!(rest.is_empty());
}

#[test]
fn hsts_is_on_https_responses_and_the_redirect_listener_sends_308() {
    let (_dir, leaf) = one_leaf();
    let server = tls_server(&[&leaf], |config| {
        config.tls.hsts = Some(600);
        config.tls.redirect_http = Some("127.0.0.1:0".parse().unwrap());
        // What `Cli::into_config` derives from --hsts.
        config
            .response_policy
            .extra_fields
            .push(httpserver::service::extra_fields::ExtraField {
                name: "Strict-Transport-Security",
                value: "max-age=600".into(),
            });
    });
    let mut client = connect(server.addr, "localhost", &default_client_config());
    client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let response = client.response();
    assert_eq!(
        response.field("strict-transport-security"),
        Some("max-age=600")
    );
    drop(client);
    let redirect_addr = server.addrs[1];
    let mut plain = Client::connect(redirect_addr);
    plain.send(b"POST /a/b?c=d HTTP/1.1\r\nHost: example.test:80\r\nContent-Length: 3\r\n\r\nabc");
    let redirect = plain.response();
    assert_eq!(redirect.status, 308);
    let location = format!("https://example.test:{}/a/b?c=d", server.addr.port());
    assert_eq!(redirect.field("location"), Some(location.as_str()));
    // HSTS is for HTTPS responses only (RFC 6797 §7.2).
    assert_eq!(redirect.field("strict-transport-security"), None);
    // The redirect listener answers nothing else: not the site's files.
    plain.send(b"GET /style.css HTTP/1.1\r\nHost: example.test\r\n\r\n");
    assert_eq!(plain.response().status, 308);
}

#[test]
fn an_idle_connection_gets_close_notify_at_shutdown() {
    let (_dir, leaf) = one_leaf();
    let server = tls_server(&[&leaf], |_| {});
    let mut client = connect(server.addr, "localhost", &default_client_config());
    client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(client.response().status, 200);
    // Idle long enough to be parked (20 ms), then the server stops.
    std::thread::sleep(Duration::from_millis(200));
    server.stop();
    let mut rest = Vec::new();
    let end = client.stream.read_to_end(&mut rest);
    assert!(end.is_ok(), "a clean TLS end, not a bare FIN: {end:?}");
    assert!(rest.is_empty());
}

#[test]
fn a_proxy_header_comes_before_the_handshake() {
    use httpserver::proto::proxy::ProxyVersions;
    use httpserver::server::client_address::ClientAddressPolicy;
    use rustls::pki_types::ServerName;
    let (_dir, leaf) = one_leaf();
    let server = tls_server(&[&leaf], |config| {
        config.client_address = ClientAddressPolicy {
            proxy_protocol: Some(ProxyVersions::V1),
            trusted_proxies: "127.0.0.1/32".parse().unwrap(),
            real_ip_header: None,
        };
    });
    let mut tcp = std::net::TcpStream::connect(server.addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    std::io::Write::write_all(&mut tcp, b"PROXY TCP4 192.0.2.7 127.0.0.1 4242 443\r\n").unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let connection = rustls::ClientConnection::new(default_client_config(), name).unwrap();
    let mut client = Client::over(rustls::StreamOwned::new(connection, tcp));
    client.send(b"GET /style.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(client.response().status, 200);
    let lines = server.stop_and_log_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("192.0.2.7:4242"), "{lines:?}");
}
