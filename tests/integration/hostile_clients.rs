//! Slow and hostile clients (issue 4, part 3): each is cut off within its
//! timeout, is not logged as a server error, and leaves nothing behind (the
//! open-connection count returns to 0; for the binary, its descriptor count
//! returns to its baseline and its memory stays near it). Normal clients
//! keep being served meanwhile.
//!
//! Timing bounds here only check that a client "was cut off within its
//! timeout", with a wide margin for a loaded machine; none measures speed.

use crate::support::binary::{ensure_open_file_limit, Binary};
use crate::support::{start_server, write_fixture, Client, TestServer};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A request head still missing its end, as a slowloris client sends it.
const PARTIAL_HEAD: &[u8] = b"GET /index.html HTTP/1.1\r\nHost: x\r\nX-Slow: ";
/// A complete head announcing a body of 100 bytes, and the start of it.
const PARTIAL_BODY: &[u8] = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n[1,";
const BIG_FILE_BYTES: u64 = 64 * 1024 * 1024;

fn raw_connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
}

/// Vanish abruptly: with SO_LINGER 0, closing sends RST instead of FIN.
fn reset(stream: TcpStream) {
    socket2::SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(stream);
}

/// A sparse file of `len` bytes: no disk is used, every byte reads as 0.
fn sparse_file(path: &std::path::Path, len: u64) {
    std::fs::File::create(path).unwrap().set_len(len).unwrap();
}

/// Read whatever arrives until the server closes (end of stream or reset),
/// waiting at most `within`; returns the bytes and whether it closed.
fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (Vec<u8>, bool) {
    let deadline = Instant::now() + within;
    let mut received = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    while Instant::now() < deadline {
        match stream.read(&mut chunk) {
            Ok(0) => return (received, true),
            Ok(n) => received.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return (received, true),
        }
    }
    (received, false)
}

/// Send `bytes` one at a time, `gap` apart, until the server answers or
/// closes; returns what it answered (read until it closed) and when the
/// first byte left.
fn trickle(stream: &mut TcpStream, bytes: &[u8], gap: Duration) -> (Vec<u8>, Instant) {
    let started = Instant::now();
    stream.set_read_timeout(Some(gap)).unwrap();
    let mut chunk = [0u8; 4096];
    for byte in bytes {
        if stream.write_all(std::slice::from_ref(byte)).is_err() {
            break;
        }
        // The read doubles as the pause between bytes.
        match stream.read(&mut chunk) {
            Ok(0) => return (Vec::new(), started),
            Ok(n) => {
                let mut answer = chunk[..n].to_vec();
                answer.extend(read_until_closed(stream, Duration::from_secs(5)).0);
                return (answer, started);
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return (Vec::new(), started),
        }
    }
    (read_until_closed(stream, Duration::from_secs(5)).0, started)
}

/// Every access-log line is well formed and has one of `statuses`.
fn assert_log_statuses(lines: &[String], statuses: &[u16]) {
    for line in lines {
        let status = line
            .rsplit(" - ")
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or_else(|| panic!("malformed log line {line:?}"));
        assert!(
            line.starts_with('[') && statuses.contains(&status),
            "unexpected log line {line:?}"
        );
    }
}

fn assert_no_connection_left(server: &TestServer, within: Duration) {
    let left = server.await_no_connections(within);
    assert_eq!(left, 0, "{left} connections still open after {within:?}");
}

#[test]
fn slowloris_is_cut_off_at_the_header_timeout_with_408() {
    let server = start_server(|c| c.timeouts.header_read = Duration::from_millis(300));
    let mut stream = raw_connect(server.addr);
    let mut slow = PARTIAL_HEAD.to_vec();
    slow.extend_from_slice(&[b'a'; 40]);
    // One byte every 150 ms: never a long pause, but never done either.
    let (answer, started) = trickle(&mut stream, &slow, Duration::from_millis(150));
    let took = started.elapsed();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer:?}");
    assert!(answer.contains("Connection: close\r\n"), "{answer:?}");
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(3),
        "cut off after {took:?} with a 300 ms header timeout"
    );
    drop(stream);
    assert_no_connection_left(&server, Duration::from_secs(5));
    let lines = server.stop_and_log_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains(" - - - - 408 - "), "{lines:?}");
}

#[test]
fn slow_body_sender_is_cut_off_at_the_body_timeout_with_408() {
    let server = start_server(|c| {
        c.timeouts.body_read = Duration::from_millis(300);
        c.timeouts.header_read = Duration::from_secs(30);
    });
    let mut stream = raw_connect(server.addr);
    stream.write_all(PARTIAL_BODY).unwrap();
    // A byte every 700 ms: each gap is longer than the body timeout.
    let (answer, started) = trickle(&mut stream, b"2,3,4,5,6,7", Duration::from_millis(700));
    let took = started.elapsed();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer:?}");
    assert!(took < Duration::from_secs(3), "cut off after {took:?}");
    drop(stream);
    assert_no_connection_left(&server, Duration::from_secs(5));
    let lines = server.stop_and_log_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains(" - POST /echo - 408 - "), "{lines:?}");
}

#[test]
fn client_that_never_reads_a_large_response_is_cut_off_at_the_write_timeout() {
    let server = start_server(|c| c.timeouts.write = Duration::from_millis(300));
    sparse_file(&server.root.path().join("big.bin"), BIG_FILE_BYTES);
    let mut stream = raw_connect(server.addr);
    let started = Instant::now();
    stream
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // Never read: the socket buffers fill, the server's write stalls, and
    // the server lets go of the connection.
    assert!(
        server.await_connections_at_least(1, Duration::from_secs(5)),
        "the connection was never accepted"
    );
    let left = server.await_no_connections(Duration::from_secs(10));
    let took = started.elapsed();
    assert_eq!(left, 0, "the stalled connection is still open");
    assert!(
        took < Duration::from_secs(3),
        "cut off after {took:?} with a 300 ms write timeout"
    );
    let (received, closed) = read_until_closed(&mut stream, Duration::from_secs(10));
    assert!(
        closed,
        "the connection is still open after {} bytes",
        received.len()
    );
    assert!(
        (received.len() as u64) < BIG_FILE_BYTES,
        "the whole file arrived: the write never stalled"
    );
    // Logged as the 200 it started as, not as an error.
    let lines = server.stop_and_log_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains(" - GET /big.bin - 200 - "), "{lines:?}");
}

#[test]
fn clients_vanishing_mid_request_are_let_go_without_answer_or_log_line() {
    // Long timeouts: the server must notice the peer left, not time out.
    let server = start_server(|c| {
        c.timeouts.header_read = Duration::from_secs(30);
        c.timeouts.body_read = Duration::from_secs(30);
    });
    let mut half_closed = Vec::new();
    for round in 0..10 {
        let mut reset_in_head = raw_connect(server.addr);
        reset_in_head.write_all(PARTIAL_HEAD).unwrap();
        let mut reset_in_body = raw_connect(server.addr);
        reset_in_body.write_all(PARTIAL_BODY).unwrap();
        let mut shut_in_head = raw_connect(server.addr);
        shut_in_head.write_all(PARTIAL_HEAD).unwrap();
        shut_in_head.shutdown(Shutdown::Write).unwrap();
        let mut shut_in_body = raw_connect(server.addr);
        shut_in_body.write_all(PARTIAL_BODY).unwrap();
        shut_in_body.shutdown(Shutdown::Write).unwrap();
        if round == 0 {
            // Let the server start reading before the peers vanish.
            std::thread::sleep(Duration::from_millis(100));
        }
        reset(reset_in_head);
        reset(reset_in_body);
        half_closed.push(shut_in_head);
        half_closed.push(shut_in_body);
    }
    // A half-closed client can still read: it gets no answer, just the end.
    for mut stream in half_closed {
        let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(5));
        assert!(closed && answer.is_empty(), "answered {answer:?}");
    }
    assert_no_connection_left(&server, Duration::from_secs(10));
    // The server is unharmed.
    assert_eq!(
        server.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").status,
        200
    );
    let lines = server.stop_and_log_lines();
    assert_eq!(lines.len(), 1, "only the last request is logged: {lines:?}");
}

#[test]
fn clients_vanishing_mid_response_are_let_go_promptly() {
    // A 30 s write timeout: the server must notice the reset, not time out.
    let server = start_server(|c| c.timeouts.write = Duration::from_secs(30));
    sparse_file(&server.root.path().join("big.bin"), BIG_FILE_BYTES);
    for _ in 0..10 {
        let mut stream = raw_connect(server.addr);
        stream
            .write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut chunk = vec![0u8; 64 * 1024];
        stream.read_exact(&mut chunk).unwrap();
        reset(stream);
    }
    assert_no_connection_left(&server, Duration::from_secs(10));
    let lines = server.stop_and_log_lines();
    assert_eq!(lines.len(), 10, "{lines:?}");
    assert_log_statuses(&lines, &[200]);
}

#[test]
fn client_half_closing_after_its_request_still_gets_the_whole_response() {
    // RFC 9112 §9.6: a client may close its sending side after the last
    // request; the response must still arrive in full.
    let server = start_server(|_| {});
    sparse_file(&server.root.path().join("big.bin"), BIG_FILE_BYTES);
    let mut client = server.connect();
    client.send(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    client.stream.shutdown(Shutdown::Write).unwrap();
    let response = client.response();
    assert_eq!(response.status, 200);
    assert_eq!(response.body.len() as u64, BIG_FILE_BYTES);
    assert!(client.is_closed_by_server());
    assert_no_connection_left(&server, Duration::from_secs(5));
}

#[test]
fn normal_client_is_served_promptly_while_300_slowloris_connections_are_open() {
    const SLOWLORIS: usize = 300;
    // Each slowloris costs a socket here and one in the server.
    ensure_open_file_limit(2 * SLOWLORIS as u64 + 256);
    let header_timeout = Duration::from_secs(4);
    let server = start_server(|c| c.timeouts.header_read = header_timeout);
    let started = Instant::now();
    let mut slow: Vec<TcpStream> = (0..SLOWLORIS)
        .map(|_| {
            let mut stream = raw_connect(server.addr);
            stream.write_all(PARTIAL_HEAD).unwrap();
            stream
        })
        .collect();
    for round in 0..3 {
        // Another byte from each, as a slowloris does...
        for stream in &mut slow {
            stream.write_all(b"a").unwrap();
        }
        // ...while a normal client is served.
        let asked = Instant::now();
        let response = server.request(b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
        let took = asked.elapsed();
        assert_eq!(response.status, 200);
        assert!(
            took < Duration::from_secs(2),
            "round {round}: a normal request took {took:?} beside {SLOWLORIS} slowloris"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Every slowloris is then cut off by the header timeout.
    for (i, stream) in slow.iter_mut().enumerate() {
        let (answer, closed) = read_until_closed(stream, Duration::from_secs(15));
        assert!(
            closed && answer.starts_with(b"HTTP/1.1 408 "),
            "slowloris {i}: {:?}",
            String::from_utf8_lossy(&answer)
        );
    }
    assert!(
        started.elapsed() < header_timeout + Duration::from_secs(10),
        "the slowloris connections were cut off only after {:?}",
        started.elapsed()
    );
    drop(slow);
    assert_no_connection_left(&server, Duration::from_secs(10));
}

/// Start the binary with tiny timeouts (but `idle_seconds` between
/// requests) over a root holding a 64 MiB file.
fn start_binary_with_tiny_timeouts(
    root: &std::path::Path,
    idle_seconds: &str,
    extra: &[&str],
) -> Binary {
    write_fixture(root);
    sparse_file(&root.join("big.bin"), BIG_FILE_BYTES);
    let mut args = vec![
        "--root",
        root.to_str().unwrap(),
        "--workers",
        "2",
        "--header-timeout",
        "0.3",
        "--body-timeout",
        "0.3",
        "--write-timeout",
        "0.3",
        "--idle-timeout",
        idle_seconds,
    ];
    args.extend_from_slice(extra);
    Binary::start(&args)
}

/// Serve `requests` requests (each on its own connection) so that worker
/// threads, their event loops and the log exist, then return the settled
/// descriptor count: the baseline a leak would rise above.
fn warm_up(server: &Binary, requests: usize) -> usize {
    for _ in 0..requests {
        let mut client = Client::connect(server.addr());
        client.send(b"GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        client.stream.shutdown(Shutdown::Write).unwrap();
        assert_eq!(client.response().status, 200);
        assert!(client.is_closed_by_server());
    }
    std::thread::sleep(Duration::from_millis(300));
    server.fd_count()
}

/// One burst of every kind of hostile client; returns how many 408s and
/// 200s it should have caused in the access log.
fn hostile_burst(addr: SocketAddr) -> (usize, usize) {
    let mut held = Vec::new();
    // Slowloris and stalled bodies: cut off by the header and body timeouts.
    for _ in 0..100 {
        let mut stream = raw_connect(addr);
        stream.write_all(PARTIAL_HEAD).unwrap();
        held.push(stream);
    }
    for _ in 0..20 {
        let mut stream = raw_connect(addr);
        stream.write_all(PARTIAL_BODY).unwrap();
        held.push(stream);
    }
    // Vanishing mid-request, by reset and by half-close.
    for _ in 0..50 {
        let mut stream = raw_connect(addr);
        stream.write_all(PARTIAL_HEAD).unwrap();
        reset(stream);
        let mut stream = raw_connect(addr);
        stream.write_all(PARTIAL_BODY).unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        held.push(stream);
    }
    // Vanishing mid-response, and never reading one.
    for _ in 0..20 {
        let mut stream = raw_connect(addr);
        stream
            .write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut chunk = vec![0u8; 64 * 1024];
        stream.read_exact(&mut chunk).unwrap();
        reset(stream);
    }
    for _ in 0..10 {
        let mut stream = raw_connect(addr);
        stream
            .write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        held.push(stream);
    }
    // Let every timeout fire, then go.
    std::thread::sleep(Duration::from_millis(1000));
    drop(held);
    (100 + 20, 20 + 10)
}

#[test]
fn hostile_bursts_leak_no_descriptor_nor_memory_and_print_nothing_on_stderr() {
    ensure_open_file_limit(1024);
    let root = tempfile::tempdir().unwrap();
    // A cap that fits under 1024 descriptors, so that no lowered-cap notice
    // reaches stderr on a machine whose limit is below the default cap's.
    let server = start_binary_with_tiny_timeouts(root.path(), "1", &["--max-connections", "512"]);
    let addr = server.addr();
    let baseline_fds = warm_up(&server, 5);
    let baseline_rss = server.rss_kib();
    let mut expected_408 = 0;
    let mut expected_200 = 5;
    for round in 0..2 {
        let (timeouts, oks) = hostile_burst(addr);
        expected_408 += timeouts;
        expected_200 += oks;
        let fds = server.await_fd_count_at_most(baseline_fds, Duration::from_secs(15));
        assert!(
            fds <= baseline_fds,
            "round {round}: {fds} descriptors open, baseline {baseline_fds}: {:?}",
            server.fd_targets()
        );
        let rss = server.rss_kib();
        assert!(
            rss < baseline_rss + 64 * 1024,
            "round {round}: RSS {rss} KiB, baseline {baseline_rss} KiB"
        );
        // Still serving.
        let mut client = Client::connect(addr);
        client.send(b"GET /style.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assert_eq!(client.response().status, 200);
        expected_200 += 1;
    }
    let (status, stderr, lines) = server.stop_with_stdout();
    assert!(status.success(), "exit status {status}");
    assert_eq!(stderr, "", "the server complained on stderr");
    let log: Vec<String> = lines
        .into_iter()
        .filter(|l| !l.starts_with("Cache policy: "))
        .collect();
    assert_log_statuses(&log, &[200, 408]);
    let count = |status: &str| log.iter().filter(|l| l.contains(status)).count();
    assert_eq!(count(" - 408 - "), expected_408, "{log:#?}");
    assert_eq!(count(" - 200 - "), expected_200, "{log:#?}");
}

#[test]
fn at_the_connection_cap_clients_wait_in_the_accept_queue_and_are_served_in_turn() {
    // The documented behaviour: with `max_connections` open, the server stops
    // accepting; further clients wait in the kernel's accept queue (costing
    // the server neither a descriptor nor memory) and are served, in turn,
    // as slots free.
    const CAP: usize = 4;
    const WAITING: usize = 200;
    ensure_open_file_limit(2 * WAITING as u64 + 256);
    let root = tempfile::tempdir().unwrap();
    let server = start_binary_with_tiny_timeouts(root.path(), "30", &["--max-connections", "4"]);
    let addr = server.addr();
    let baseline_fds = warm_up(&server, 2);
    let baseline_rss = server.rss_kib();
    // Hold every slot with an idle keep-alive connection.
    let holders: Vec<Client> = (0..CAP)
        .map(|_| {
            let mut client = Client::connect(addr);
            client.send(b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
            assert_eq!(client.response().status, 200);
            client
        })
        .collect();
    let mut waiting: Vec<Client> = (0..WAITING)
        .map(|_| {
            // The kernel completes the handshake; the server does not accept.
            let mut client = Client::connect(addr);
            client.send(b"GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            // Half-close, so that the server may let go as soon as it answered.
            client.stream.shutdown(Shutdown::Write).unwrap();
            client
        })
        .collect();
    let fds = server.fd_count();
    let rss = server.rss_kib();
    assert!(
        fds <= baseline_fds + CAP + 8,
        "{fds} descriptors with {WAITING} clients waiting (baseline {baseline_fds}): {:?}",
        server.fd_targets()
    );
    assert!(
        rss < baseline_rss + 32 * 1024,
        "RSS {rss} KiB with {WAITING} clients waiting (baseline {baseline_rss} KiB)"
    );
    // A waiting client gets nothing while every slot is held.
    let probe = &mut waiting[0].stream;
    probe
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut byte = [0u8; 1];
    let early = probe.read(&mut byte);
    assert!(
        matches!(&early, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "a client beyond the cap was answered: {early:?}"
    );
    probe
        .set_read_timeout(Some(crate::support::READ_DEADLINE))
        .unwrap();
    // Free the slots: every waiting client is served, in turn.
    drop(holders);
    for (i, client) in waiting.iter_mut().enumerate() {
        let response = client.response();
        assert_eq!(response.status, 200, "waiting client {i}");
        assert!(client.is_closed_by_server(), "waiting client {i}");
    }
    drop(waiting);
    let fds = server.await_fd_count_at_most(baseline_fds, Duration::from_secs(10));
    assert!(
        fds <= baseline_fds,
        "{fds} descriptors, baseline {baseline_fds}: {:?}",
        server.fd_targets()
    );
    let (status, stderr) = server.stop();
    assert!(status.success(), "exit status {status}");
    assert_eq!(stderr, "", "the server complained on stderr");
}
