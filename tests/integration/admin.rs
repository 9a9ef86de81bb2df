//! The admin listener (issue 13, item 1): `/livez`, `/readyz` and
//! `/metrics`, nothing else; its own requests neither logged nor counted;
//! `/readyz` 503 at the connection cap.

use crate::support::{start_server, Client, TestServer, READ_DEADLINE};
use std::time::Instant;

fn with_admin() -> TestServer {
    start_server(|c| c.balancer.admin = Some("127.0.0.1:0".parse().unwrap()))
}

fn scrape(server: &TestServer) -> String {
    let response = server.admin_request(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.status, 200);
    assert_eq!(
        response.field("Content-Type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    response.text()
}

/// Scrape until `line` appears (a response is counted just after its last
/// byte is sent, so a client can read it before it is counted), for at
/// most the read deadline; the last scrape.
fn scrape_until(server: &TestServer, line: &str) -> String {
    let deadline = Instant::now() + READ_DEADLINE;
    loop {
        let text = scrape(server);
        if text.lines().any(|l| l == line) || Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn issue_13_admin_answers_health_and_metrics_and_nothing_else() {
    let server = with_admin();
    let livez = server.admin_request(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!((livez.status, livez.text().as_str()), (200, "ok\n"));
    assert_eq!(livez.field("Cache-Control"), Some("no-store"));
    let readyz = server.admin_request(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!((readyz.status, readyz.text().as_str()), (200, "ready\n"));
    let mut client = Client::connect(server.admin.unwrap());
    client.send(b"HEAD /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(client.head_response().status, 200);
    // The site's files are not served there, nor is anything else.
    for target in ["/index.html", "/", "/echo"] {
        let request = format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(
            server.admin_request(request.as_bytes()).status,
            404,
            "{target}"
        );
    }
    let post =
        server.admin_request(b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(post.status, 405);
    assert_eq!(post.field("Allow"), Some("GET, HEAD, OPTIONS"));
    // And the health endpoints are not on the site.
    let site = server.request(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(site.status, 404);
}

#[test]
fn issue_13_metrics_count_the_site_by_method_and_code_from_fixed_sets() {
    let server = with_admin();
    assert_eq!(
        server
            .request(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
            .status,
        200
    );
    assert_eq!(
        server
            .request(b"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n")
            .status,
        404
    );
    // A method no standard names, and one that could be a new series each
    // time: both are OTHER.
    assert_eq!(
        server.request(b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n").status,
        501
    );
    assert_eq!(
        server
            .request(b"X-12345 / HTTP/1.1\r\nHost: x\r\n\r\n")
            .status,
        501
    );
    let text = scrape_until(
        &server,
        "httpserver_http_requests_total{method=\"OTHER\",code=\"501\"} 2",
    );
    for line in [
        "httpserver_http_requests_total{method=\"GET\",code=\"200\"} 1",
        "httpserver_http_requests_total{method=\"GET\",code=\"404\"} 1",
        "httpserver_http_requests_total{method=\"OTHER\",code=\"501\"} 2",
        "httpserver_http_request_duration_seconds_count 4",
        "httpserver_http_request_duration_seconds_bucket{le=\"+Inf\"} 4",
        "httpserver_http_response_size_bytes_count 4",
        "httpserver_connections_accepted_total 4",
        "httpserver_ready 1",
        "httpserver_draining 0",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
    }
    assert!(
        !text.contains("X-12345") && !text.contains("BREW"),
        "{text}"
    );
    // The admin listener's own requests (the scrapes) are not counted:
    // exactly the four site requests are.
    let counted: u64 = text
        .lines()
        .filter(|l| l.starts_with("httpserver_http_requests_total{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(counted, 4, "{text}");
    for family in [
        "process_resident_memory_bytes ",
        "process_open_fds ",
        "process_start_time_seconds ",
    ] {
        assert!(text.contains(family), "no {family} in\n{text}");
    }
    // Nor logged: the access log has the site's four lines only.
    let lines = server.stop_and_log_lines();
    assert_eq!(lines.len(), 4, "{lines:?}");
}

#[test]
fn issue_13_admin_requests_are_logged_when_asked() {
    let server = start_server(|c| {
        c.balancer.admin = Some("127.0.0.1:0".parse().unwrap());
        c.balancer.admin_access_log = true;
    });
    assert_eq!(
        server
            .admin_request(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
            .status,
        200
    );
    let lines = server.stop_and_log_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains(" - GET /livez - 200 - "), "{lines:?}");
}

/// At the connection cap, new clients would wait in the accept queue: the
/// balancer should send them elsewhere. The admin listener has its own
/// slots, so it still answers.
#[test]
fn issue_13_readyz_is_503_while_the_connection_cap_is_reached() {
    let server = start_server(|c| {
        c.balancer.admin = Some("127.0.0.1:0".parse().unwrap());
        c.max_connections = 2;
    });
    let mut first = server.connect();
    first.send(b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(first.response().status, 200);
    assert_eq!(
        server
            .admin_request(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
            .status,
        200,
        "one of two slots taken"
    );
    let mut second = server.connect();
    second.send(b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(second.response().status, 200);
    let at_cap = server.admin_request(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(
        (at_cap.status, at_cap.text().as_str()),
        (503, "at connection cap\n")
    );
    let text = scrape(&server);
    assert!(text.contains("\nhttpserver_ready 0\n"), "{text}");
    assert!(text.contains("\nhttpserver_connections_open 2\n"), "{text}");
    // A slot comes free once a client leaves.
    drop(first);
    let deadline = Instant::now() + READ_DEADLINE;
    let ready = loop {
        let status = server
            .admin_request(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
            .status;
        if status == 200 || Instant::now() > deadline {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(ready, 200, "ready again once a connection closed");
}

#[test]
fn issue_13_proxy_protocol_rejections_are_in_the_metrics_by_reason() {
    use httpserver::proto::proxy::ProxyVersions;
    use httpserver::server::client_address::ClientAddressPolicy;
    let server = start_server(|c| {
        c.balancer.admin = Some("127.0.0.1:0".parse().unwrap());
        c.client_address = ClientAddressPolicy {
            proxy_protocol: Some(ProxyVersions::Any),
            trusted_proxies: "127.0.0.1".parse().unwrap(),
            real_ip_header: None,
        };
    });
    // A plain request where the PROXY header belongs: closed unanswered.
    let mut client = server.connect();
    client.send(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(client.is_closed_by_server());
    let text = scrape_until(
        &server,
        "httpserver_proxy_protocol_rejections_total{reason=\"not_proxy_header\"} 1",
    );
    assert!(
        text.lines()
            .any(|l| l
                == "httpserver_proxy_protocol_rejections_total{reason=\"not_proxy_header\"} 1"),
        "{text}"
    );
    // Every reason is a series from the start, at zero.
    assert!(
        text.lines()
            .any(|l| l == "httpserver_proxy_protocol_rejections_total{reason=\"untrusted\"} 0"),
        "{text}"
    );
}
