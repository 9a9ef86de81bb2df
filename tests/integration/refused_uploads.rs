//! Issue 11, part 1: a request refused while its body is still arriving.
//!
//! Node's `fetch`, Go's client and Python's urllib write their whole body
//! before they read anything. If the server closes with body bytes unread,
//! the kernel answers them with a reset and the client reports a broken pipe
//! instead of the status. RFC 9112 §9.6: close the sending side, then keep
//! reading (and discarding) for a bounded time and amount.

use crate::support::{start_server, Client, READ_DEADLINE};
use std::io::Write;
use std::time::{Duration, Instant};

const NINE_MB: usize = 9_000_000;

/// Write `body` in full as such a client does; the error if the server
/// stopped reading before the end.
fn write_whole_body(client: &mut Client, body: &[u8]) -> std::io::Result<()> {
    for chunk in body.chunks(64 * 1024) {
        client.stream.write_all(chunk)?;
    }
    Ok(())
}

#[test]
fn issue_11_a_413_reaches_a_client_that_writes_its_whole_9_mb_body_first() {
    let server = start_server(|_| {});
    let mut client = server.connect();
    client.send(
        format!("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {NINE_MB}\r\n\r\n").as_bytes(),
    );
    write_whole_body(&mut client, &vec![b'x'; NINE_MB]).expect("the server kept reading");
    let response = client.response();
    assert_eq!(response.status, 413);
    assert_eq!(response.field("Connection"), Some("close"));
    assert!(client.is_closed_by_server());
}

#[test]
fn issue_11_a_405_reaches_a_client_that_writes_its_whole_7_mb_put_first() {
    let server = start_server(|_| {});
    let mut client = server.connect();
    let length = 7_000_000;
    client.send(
        format!("PUT /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n")
            .as_bytes(),
    );
    write_whole_body(&mut client, &vec![b'x'; length]).expect("the server kept reading");
    let response = client.response();
    assert_eq!(response.status, 405);
    assert_eq!(response.field("Allow"), Some("GET, HEAD, OPTIONS"));
    assert!(client.is_closed_by_server());
}

#[test]
fn issue_11_a_413_found_inside_a_chunked_body_reaches_its_client() {
    let server = start_server(|config| config.limits.max_body_bytes = 1_000_000);
    let mut client = server.connect();
    client.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    let mut body = Vec::new();
    for _ in 0..(NINE_MB / 0x10000) {
        body.extend_from_slice(b"10000\r\n");
        body.extend_from_slice(&[b'x'; 0x10000]);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    write_whole_body(&mut client, &body).expect("the server kept reading");
    let response = client.response();
    assert_eq!(response.status, 413);
    assert!(client.is_closed_by_server());
}

#[test]
fn issue_11_a_client_that_sends_forever_is_cut_off_at_the_byte_bound() {
    let server = start_server(|config| config.max_linger_bytes = 1_000_000);
    let mut client = server.connect();
    client.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000000\r\n\r\n");
    let started = Instant::now();
    let chunk = vec![b'x'; 64 * 1024];
    let mut sent = 0usize;
    let outcome = loop {
        if let Err(e) = client.stream.write_all(&chunk) {
            break Err(e);
        }
        sent += chunk.len();
        if started.elapsed() > READ_DEADLINE {
            break Ok(());
        }
    };
    assert!(outcome.is_err(), "still accepted after {sent} bytes");
    // The kernel's buffers hold a few MiB beyond what the server read.
    assert!(sent < 64_000_000, "cut off only after {sent} bytes");
    assert_eq!(server.await_no_connections(READ_DEADLINE), 0);
}

#[test]
fn issue_11_a_client_that_trickles_forever_is_cut_off_at_the_time_bound() {
    let server = start_server(|config| config.timeouts.linger = Duration::from_millis(300));
    let mut client = server.connect();
    client.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000000\r\n\r\n");
    let response = client.response();
    assert_eq!(response.status, 413);
    // A byte every 50 ms never stalls, so only the time bound ends it.
    let started = Instant::now();
    let cut_off = loop {
        std::thread::sleep(Duration::from_millis(50));
        if client.stream.write_all(b"x").is_err() {
            break true;
        }
        if started.elapsed() > READ_DEADLINE {
            break false;
        }
    };
    assert!(
        cut_off,
        "the server still read after {:?}",
        started.elapsed()
    );
    assert_eq!(server.await_no_connections(READ_DEADLINE), 0);
}

#[test]
fn issue_11_a_404_and_a_417_reach_clients_still_sending_their_bodies() {
    let server = start_server(|_| {});
    let length = 5_000_000;
    for (head, status) in [
        (
            format!(
                "PUT /missing/deep.bin HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n"
            ),
            405,
        ),
        (
            format!("GET /missing.bin HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n"),
            404,
        ),
        (
            format!(
                "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\n\
                 Content-Length: {length}\r\n\r\n"
            ),
            417,
        ),
    ] {
        let mut client = server.connect();
        client.send(head.as_bytes());
        write_whole_body(&mut client, &vec![b'x'; length]).expect("the server kept reading");
        let response = client.response();
        assert_eq!(response.status, status, "{head}");
        assert!(client.is_closed_by_server(), "{head}");
    }
}
