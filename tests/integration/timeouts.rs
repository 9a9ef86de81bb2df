//! Each timeout, with tiny configured values.

use crate::support::start_server;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

#[test]
fn header_timeout_answers_408_to_a_slow_head() {
    let server = start_server(|c| c.timeouts.header_read = Duration::from_millis(300));
    let mut client = server.connect();
    let started = Instant::now();
    client.send(b"GET / HTTP/1.1\r\n");
    std::thread::sleep(Duration::from_millis(100));
    client.send(b"Host: x\r\n");
    let response = client.response();
    assert_eq!(response.status, 408);
    assert_eq!(response.field("Connection"), Some("close"));
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(client.is_closed_by_server());
}

#[test]
fn header_timeout_counts_from_the_first_byte_not_per_read() {
    // A slowloris client keeps sending a byte at a time; it is cut off at
    // the deadline even though bytes keep arriving.
    let server = start_server(|c| c.timeouts.header_read = Duration::from_millis(400));
    let mut client = server.connect();
    let started = Instant::now();
    let mut cut_off = false;
    for byte in b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".iter() {
        if client.stream.write_all(std::slice::from_ref(byte)).is_err() {
            cut_off = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(40));
        if started.elapsed() > Duration::from_millis(1500) {
            break;
        }
    }
    let answer = client.read_to_close();
    assert!(
        cut_off || String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 408"),
        "{answer:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[test]
fn idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let server = start_server(|c| c.timeouts.idle = Duration::from_millis(300));
    let mut client = server.connect();
    client.send(b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(client.response().status, 200);
    let started = Instant::now();
    assert!(client.is_closed_by_server());
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
}

/// An idle timeout just above the 20 ms after which a waiting connection
/// is parked: the task wakes to park it with both moments passed (timers
/// fire on whole milliseconds), and must close it, not wait again at once.
#[test]
fn an_idle_timeout_just_after_the_parking_moment_still_closes_the_connection() {
    let server = start_server(|c| c.timeouts.idle = Duration::from_micros(20_500));
    let mut client = server.connect();
    client.send(b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(client.response().status, 200);
    assert!(client.is_closed_by_server());
}

#[test]
fn a_connection_that_never_sends_is_closed_after_the_idle_timeout() {
    let server = start_server(|c| c.timeouts.idle = Duration::from_millis(300));
    let mut client = server.connect();
    // The kernel holds it for the default --defer-accept (about 1 s) before
    // the server sees it; then the idle timeout closes it as any other.
    assert!(client.is_closed_by_server());
    // Nothing was requested, so nothing is logged.
    assert!(server.stop_and_log_lines().is_empty());
}

#[test]
fn defer_accept_keeps_a_silent_client_in_the_kernel_until_its_first_bytes() {
    let server = start_server(|c| c.timeouts.defer_accept = Duration::from_secs(60));
    let mut client = server.connect();
    // Deferred for a minute: however long we look, the server has no
    // connection until the client speaks.
    assert!(!server.await_connections_at_least(1, Duration::from_millis(300)));
    client.send(b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(client.response().status, 200);
}

#[test]
fn with_defer_accept_zero_a_silent_client_is_accepted_at_once() {
    let server = start_server(|c| c.timeouts.defer_accept = Duration::ZERO);
    let _client = server.connect();
    assert!(server.await_connections_at_least(1, Duration::from_secs(5)));
}

#[test]
fn body_timeout_answers_408_to_a_stalled_body() {
    let server = start_server(|c| c.timeouts.body_read = Duration::from_millis(300));
    let mut client = server.connect();
    client.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n[1,");
    let response = client.response();
    assert_eq!(response.status, 408);
    assert!(client.is_closed_by_server());
}

#[test]
fn body_timeout_is_a_stall_timeout_so_a_slow_live_sender_succeeds() {
    let server = start_server(|c| c.timeouts.body_read = Duration::from_millis(300));
    let mut client = server.connect();
    client.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n");
    for byte in b"[1,2,3,4]" {
        std::thread::sleep(Duration::from_millis(100));
        client.send(std::slice::from_ref(byte));
    }
    // 900 ms in all, but never 300 ms without a byte.
    assert_eq!(client.response().text(), r#"{"received": [1, 2, 3, 4]}"#);
}

#[test]
fn write_timeout_cuts_off_a_client_that_never_reads() {
    let server = start_server(|c| c.timeouts.write = Duration::from_millis(300));
    let size = 64 * 1024 * 1024;
    let file = std::fs::File::create(server.root.path().join("big.bin")).unwrap();
    file.set_len(size).unwrap();
    let mut client = server.connect();
    client.send(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    // Never read: the socket buffers fill and the server's write stalls.
    std::thread::sleep(Duration::from_millis(1500));
    let mut total = 0u64;
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        match client.stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => total += n as u64,
        }
    }
    assert!(
        total < size,
        "the whole file arrived: the write never stalled out"
    );
}

#[test]
fn write_timeout_lets_go_of_the_connection_at_once_without_lingering() {
    // Once a write has stalled out, nothing more can reach the client, so
    // the server must not then linger (for seconds) reading from it: the
    // connection, and its slot, go at the write timeout.
    let server = start_server(|c| c.timeouts.write = Duration::from_millis(100));
    let file = std::fs::File::create(server.root.path().join("big.bin")).unwrap();
    file.set_len(64 * 1024 * 1024).unwrap();
    let mut client = server.connect();
    client.send(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(server.await_connections_at_least(1, Duration::from_secs(5)));
    let started = Instant::now();
    // Never read; the connection must be gone well before the 2 s the
    // server lingers after a response it did deliver.
    let left = server.await_no_connections(Duration::from_secs(10));
    let took = started.elapsed();
    assert_eq!(left, 0);
    assert!(took < Duration::from_millis(1500), "let go after {took:?}");
}

#[test]
fn write_timeout_is_a_stall_timeout_so_a_slow_reader_gets_everything() {
    let server = start_server(|c| c.timeouts.write = Duration::from_millis(500));
    let size = 4 * 1024 * 1024usize;
    std::fs::write(server.root.path().join("medium.bin"), vec![1u8; size]).unwrap();
    let mut client = server.connect();
    client.send(b"GET /medium.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut received = 0usize;
    let mut chunk = vec![0u8; 256 * 1024];
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
        match client.stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => received += n,
        }
        if received >= size {
            break;
        }
    }
    // The head plus every byte of the file.
    assert!(received > size, "received {received} of {size}");
}
