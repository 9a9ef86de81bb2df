//! Malformed requests get the right status, `Connection: close`, and a
//! closed connection: nothing after a framing error is trusted.

use crate::support::start_server;

/// Send `request` followed by a pipelined request that must never be
/// answered, and check the one response and the close.
fn assert_rejected(request: &[u8], status: u16) {
    let server = start_server(|_| {});
    let mut client = server.connect();
    client.send(request);
    // A second, valid request that must never be answered.
    let _ = std::io::Write::write_all(
        &mut client.stream,
        b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let response = client.response();
    assert_eq!(
        response.status,
        status,
        "{:?}",
        String::from_utf8_lossy(request)
    );
    assert_eq!(response.field("Connection"), Some("close"));
    assert!(
        client.is_closed_by_server(),
        "a second response followed {:?}",
        String::from_utf8_lossy(request)
    );
}

#[test]
fn malformed_request_line_is_400() {
    assert_rejected(b"GET  /index.html HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    assert_rejected(b"GET /index.html\r\nHost: x\r\n\r\n", 400);
}

#[test]
fn invalid_method_token_is_400() {
    assert_rejected(b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n", 400);
}

#[test]
fn whitespace_before_colon_is_400() {
    assert_rejected(b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400);
}

#[test]
fn obs_fold_is_400() {
    assert_rejected(
        b"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n",
        400,
    );
}

#[test]
fn bare_lf_and_bare_cr_are_400() {
    assert_rejected(b"GET / HTTP/1.1\nHost: x\n\n", 400);
    assert_rejected(b"GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n", 400);
}

#[test]
fn nul_in_a_field_value_is_400() {
    assert_rejected(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400);
}

#[test]
fn missing_or_duplicate_host_is_400() {
    assert_rejected(b"GET / HTTP/1.1\r\n\r\n", 400);
    assert_rejected(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
}

#[test]
fn an_invalid_host_or_an_empty_authority_is_400() {
    assert_rejected(b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400);
    assert_rejected(b"GET / HTTP/1.1\r\nHost: a@b\r\n\r\n", 400);
    assert_rejected(b"GET http:///index.html HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    assert_rejected(
        b"GET http://u:p@x/index.html HTTP/1.1\r\nHost: x\r\n\r\n",
        400,
    );
}

#[test]
fn hosts_in_every_valid_form_are_served() {
    let server = start_server(|_| {});
    for host in [
        "localhost:8080",
        "127.0.0.1",
        "[::1]:8080",
        "[fe80::1%25eth0]",
        "xn--bcher-kva.example.",
        "",
    ] {
        let request = format!("GET /index.html HTTP/1.1\r\nHost: {host}\r\n\r\n");
        assert_eq!(
            server.request(request.as_bytes()).status,
            200,
            "Host: {host}"
        );
    }
    let absolute = b"GET http://[::1]:8080/index.html HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_eq!(server.request(absolute).status, 200);
}

#[test]
fn http_2_or_later_is_505() {
    assert_rejected(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505);
}

#[test]
fn content_length_that_is_not_plain_digits_is_400() {
    for value in ["+5", "-1", "0x10", "5 5", "1e3", ""] {
        let request =
            format!("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {value}\r\n\r\n{{}}");
        assert_rejected(request.as_bytes(), 400);
    }
}

#[test]
fn differing_content_lengths_are_400() {
    assert_rejected(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        400,
    );
    assert_rejected(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 3\r\n\r\n{}",
        400,
    );
}

#[test]
fn transfer_encoding_with_content_length_is_400_and_closes() {
    assert_rejected(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    );
}

#[test]
fn transfer_encoding_not_ending_in_chunked_is_400() {
    assert_rejected(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
        400,
    );
}

#[test]
fn unknown_transfer_coding_is_501() {
    assert_rejected(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: frobnicate, chunked\r\n\r\n0\r\n\r\n", 501);
}

#[test]
fn bad_chunk_sizes_are_400() {
    for chunk in [
        "0x2\r\n{}\r\n0\r\n\r\n",
        "-2\r\n{}\r\n0\r\n\r\n",
        "zz\r\n{}\r\n0\r\n\r\n",
        "10000000000000002\r\n{}\r\n0\r\n\r\n",
    ] {
        let request =
            format!("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{chunk}");
        assert_rejected(request.as_bytes(), 400);
    }
}

#[test]
fn chunk_data_without_its_crlf_is_400() {
    assert_rejected(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n",
        400,
    );
}

#[test]
fn bare_cr_late_in_the_request_line_is_rejected_at_once_not_at_the_timeout() {
    let server = start_server(|c| c.timeouts.header_read = std::time::Duration::from_secs(30));
    let mut client = server.connect();
    let started = std::time::Instant::now();
    client.stream.set_nodelay(true).unwrap();
    client.send(format!("GET /{}", "a".repeat(64)).as_bytes());
    // A second read that holds a CR but no LF.
    std::thread::sleep(std::time::Duration::from_millis(100));
    client.send(b"\rX");
    let response = client.response();
    assert_eq!(response.status, 400);
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
}
