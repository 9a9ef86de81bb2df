//! Issue 13.3: the client named by a trusted proxy's forwarded field
//! (`--real-ip-header`), in the access log.

use crate::support::{start_server, TestServer};
use httpserver::proto::forwarded::ForwardingField;
use httpserver::proto::proxy::ProxyVersions;
use httpserver::server::client_address::ClientAddressPolicy;

fn server_trusting(
    trusted: &str,
    field: ForwardingField,
    proxy_protocol: Option<ProxyVersions>,
) -> TestServer {
    start_server(|config| {
        // One worker: the log's lines are then in the order the requests
        // were sent (each worker flushes its own batch of lines).
        config.workers = 1;
        config.client_address = ClientAddressPolicy {
            proxy_protocol,
            trusted_proxies: trusted.parse().unwrap(),
            real_ip_header: Some(field),
        };
    })
}

/// Send each request on its own connection; return the log lines.
fn log_after(server: TestServer, requests: &[&[u8]]) -> Vec<String> {
    for request in requests {
        assert_eq!(server.request(request).status, 200);
    }
    server.stop_and_log_lines()
}

#[test]
fn issue13_x_forwarded_for_from_a_trusted_peer_names_the_client() {
    let server = server_trusting(
        "127.0.0.1, 10.0.0.0/8",
        ForwardingField::XForwardedFor,
        None,
    );
    let lines = log_after(
        server,
        &[
            // The rightmost untrusted address, lines joined in order.
            b"GET /style.css HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 192.0.2.66, 203.0.113.7\r\n\
              X-Forwarded-For: 10.1.1.1\r\n\r\n",
            // A port when the proxy gave one.
            b"GET /style.css HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: [2001:db8::7]:4711\r\n\r\n",
            // An unparsable entry stops the walk at the last address reached.
            b"GET /style.css HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.7, bogus, 10.2.2.2\r\n\r\n",
        ],
    );
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[0].contains("] 203.0.113.7 - GET /style.css - 200 - "),
        "{lines:?}"
    );
    assert!(
        lines[1].contains("] [2001:db8::7]:4711 - GET "),
        "{lines:?}"
    );
    assert!(lines[2].contains("] 10.2.2.2 - GET "), "{lines:?}");
}

#[test]
fn issue13_forwarded_from_an_untrusted_peer_is_ignored() {
    let server = server_trusting("10.0.0.0/8", ForwardingField::Forwarded, None);
    let lines = log_after(
        server,
        &[b"GET /style.css HTTP/1.1\r\nHost: x\r\nForwarded: for=203.0.113.7\r\n\r\n"],
    );
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("] 127.0.0.1:"), "{lines:?}");
    assert!(!lines[0].contains("203.0.113.7"), "{lines:?}");
}

#[test]
fn issue13_forwarded_for_from_a_trusted_peer_names_the_client() {
    let server = server_trusting("127.0.0.1", ForwardingField::Forwarded, None);
    let lines = log_after(
        server,
        &[
            b"GET /style.css HTTP/1.1\r\nHost: x\r\n\
              Forwarded: for=192.0.2.66, for=\"[2001:db8:cafe::17]:4711\";proto=https\r\n\r\n",
            // An obfuscated identifier stops the walk: the peer stands.
            b"GET /style.css HTTP/1.1\r\nHost: x\r\nForwarded: for=192.0.2.66, for=_hidden\r\n\r\n",
            // X-Forwarded-For is not the configured field.
            b"GET /style.css HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n",
        ],
    );
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[0].contains("] [2001:db8:cafe::17]:4711 - GET "),
        "{lines:?}"
    );
    assert!(lines[1].contains("] 127.0.0.1:"), "{lines:?}");
    assert!(lines[2].contains("] 127.0.0.1:"), "{lines:?}");
}

/// Behind PROXY and an HTTP proxy: the header's source is the connection's
/// address, and the field is read only if that address is trusted.
#[test]
fn issue13_with_proxy_protocol_the_header_source_must_be_trusted_too() {
    let server = server_trusting(
        "127.0.0.1, 10.0.0.0/8",
        ForwardingField::XForwardedFor,
        Some(ProxyVersions::V1),
    );
    let lines = log_after(
        server,
        &[
            b"PROXY TCP4 10.9.9.9 10.0.0.1 3000 80\r\n\
              GET /style.css HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n",
            b"PROXY TCP4 198.51.100.4 10.0.0.1 3001 80\r\n\
              GET /style.css HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n",
        ],
    );
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].contains("] 203.0.113.7 - GET "), "{lines:?}");
    assert!(lines[1].contains("] 198.51.100.4:3001 - GET "), "{lines:?}");
}
