//! Keep-alive, pipelining, HTTP/1.0 and unread bodies.

use crate::support::tcp_info::segments_received;
use crate::support::{start_server, Client};
use std::time::Duration;

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let server = start_server(|_| {});
    let mut client = server.connect();
    for path in ["/index.html", "/style.css", "/index.html"] {
        client.send(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        let response = client.response();
        assert_eq!(response.status, 200);
        assert_eq!(response.field("Connection"), Some("keep-alive"));
    }
    assert_eq!(server.stop_and_log_lines().len(), 3);
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = start_server(|_| {});
    let mut client = server.connect();
    client.send(
        b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\nGET /not-here HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\ntrueGET /index.html HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let statuses: Vec<u16> = (0..4).map(|_| client.response().status).collect();
    assert_eq!(statuses, [200, 404, 200, 200]);
}

#[test]
fn pipelined_requests_split_at_every_byte_still_work() {
    let server = start_server(|_| {});
    let mut client = server.connect();
    let requests = b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
    client.stream.set_nodelay(true).unwrap();
    for byte in requests.iter() {
        client.send(std::slice::from_ref(byte));
    }
    assert_eq!(client.response().status, 200);
    assert_eq!(client.response().text(), r#"{"received": {}}"#);
}

#[test]
fn connection_close_from_the_client_ends_the_connection() {
    let server = start_server(|_| {});
    let mut client = server.connect();
    client.send(b"GET /style.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let response = client.response();
    assert_eq!(response.field("Connection"), Some("close"));
    assert!(client.is_closed_by_server());
}

/// A connection's last response leaves in one segment with our FIN, not
/// followed by a FIN of its own: a segment fewer for both ends of every
/// connection that closes after one request.
#[test]
fn a_last_response_and_the_fin_share_one_segment() {
    // Without deferred accept: a client paused for a second before sending
    // would otherwise receive the kernel's SYN-ACK again and count it.
    let server = start_server(|c| c.timeouts.defer_accept = Duration::ZERO);
    let last_responses: [&[u8]; 2] = [
        // The client asks to close: the connection closes at once.
        b"GET /style.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        // A malformed request: 400, then the connection lingers and closes.
        b"GET /style.css HTTP/1.1\r\nHost: x\r\nBad Field: x\r\n\r\n",
    ];
    for request in last_responses {
        let mut client = server.connect();
        let before = segments_received(&client.stream);
        client.send(request);
        let response = client.response();
        assert_eq!(response.field("Connection"), Some("close"));
        assert!(client.is_closed_by_server());
        // The kernel's ACK of the request, if it went alone, and one segment
        // with the response and the FIN. Sent apart they would make three.
        let segments = segments_received(&client.stream) - before;
        assert!(
            segments <= 2,
            "{segments} segments after {:?}",
            String::from_utf8_lossy(request)
        );
    }
}

#[test]
fn http_1_0_closes_by_default() {
    let server = start_server(|_| {});
    let mut client = server.connect();
    client.send(b"GET /style.css HTTP/1.0\r\n\r\n");
    let response = client.response();
    assert_eq!(response.status, 200);
    assert_eq!(response.field("Connection"), Some("close"));
    assert!(client.is_closed_by_server());
}

#[test]
fn http_1_0_keep_alive_is_honoured_and_echoed() {
    let server = start_server(|_| {});
    let mut client = server.connect();
    for _ in 0..2 {
        client.send(b"GET /style.css HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        let response = client.response();
        assert_eq!(response.status, 200);
        assert_eq!(response.field("Connection"), Some("keep-alive"));
    }
}

#[test]
fn an_unread_body_is_drained_and_never_parsed_as_a_request() {
    let server = start_server(|_| {});
    let mut client = server.connect();
    // The body of the rejected PUT looks like a request; it must be skipped.
    let smuggled = b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
    let put = format!(
        "PUT /style.css HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        smuggled.len()
    );
    client.send(put.as_bytes());
    client.send(smuggled);
    client.send(b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(client.response().status, 405);
    let next = client.response();
    assert_eq!(next.status, 200);
    assert_eq!(next.field("Content-Type"), Some("text/css; charset=utf-8"));
}

#[test]
fn an_unread_chunked_body_is_drained_too() {
    let server = start_server(|_| {});
    let mut client = server.connect();
    client.send(b"DELETE /style.css HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nGET \r\n0\r\n\r\nGET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(client.response().status, 405);
    assert_eq!(client.response().status, 200);
}

#[test]
fn a_large_unread_body_closes_the_connection_instead() {
    let server = start_server(|_| {});
    let mut client = server.connect();
    client.send(b"PUT /style.css HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n");
    let response = client.response();
    assert_eq!(response.status, 405);
    assert_eq!(response.field("Connection"), Some("close"));
    assert!(client.is_closed_by_server());
}

#[test]
fn every_response_gets_one_log_line_in_the_documented_format() {
    let server = start_server(|_| {});
    let mut client = Client::connect(server.addr);
    client.send(b"GET /index.html?q=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    client.response();
    client.send(b"GET /missing%0a HTTP/1.1\r\nHost: x\r\n\r\n");
    client.response();
    let lines = server.stop_and_log_lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let first = &lines[0];
    // [YYYY-MM-DD HH:MM:SS] 127.0.0.1:PORT - GET /index.html?q=1 - 200 - Nms
    assert_eq!(first.as_bytes()[0], b'[');
    assert_eq!(&first[20..32], "] 127.0.0.1:");
    assert!(first.contains(" - GET /index.html?q=1 - 200 - "), "{first}");
    assert!(first.ends_with("ms"));
    assert!(
        lines[1].contains(" - GET /missing%0a - 404 - "),
        "{}",
        lines[1]
    );
}

#[test]
fn a_request_rejected_before_its_line_was_read_is_logged_with_dashes() {
    let server = start_server(|_| {});
    let response = server.request(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n");
    assert_eq!(response.status, 400);
    let lines = server.stop_and_log_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains(" - - - - 400 - "), "{lines:?}");
}

#[test]
fn a_client_that_half_closes_after_its_request_gets_the_response_and_a_prompt_close() {
    // The idle timeout is long, so a prompt close proves the server saw the
    // FIN rather than timing out.
    let server = start_server(|c| c.timeouts.idle = std::time::Duration::from_secs(30));
    let mut client = server.connect();
    client.send(b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
    client.stream.shutdown(std::net::Shutdown::Write).unwrap();
    let started = std::time::Instant::now();
    assert_eq!(client.response().status, 200);
    assert!(client.is_closed_by_server());
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // Pipelined requests before the FIN are all answered first.
    let mut client = server.connect();
    client.send(b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    client.stream.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(client.response().status, 200);
    assert_eq!(client.response().status, 404);
    assert!(client.is_closed_by_server());
}
