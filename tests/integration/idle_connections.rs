//! Idle keep-alive connections: after a moment without a request they are
//! parked outside any task (see `server::parking`), and must behave exactly
//! as before: served again when the client writes, counted as open, closed
//! when the client leaves, at the idle timeout and at shutdown, and cheap.

use crate::support::binary::{ensure_open_file_limit, Binary};
use crate::support::{start_server, write_fixture, Client};
use std::time::Duration;

/// Longer than the driver waits before parking an idle connection (20 ms).
const PARKED: Duration = Duration::from_millis(150);

const GET: &[u8] = b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n";

#[test]
fn a_parked_connection_is_served_again_each_time_its_client_writes() {
    let server = start_server(|_| {});
    let mut client = server.connect();
    for round in 0..4 {
        client.send(GET);
        assert_eq!(client.response().status, 200, "round {round}");
        std::thread::sleep(PARKED);
        assert_eq!(server.open_connections(), 1, "a parked connection is open");
    }
    // Pipelined requests after a pause, sent one byte at a time.
    let pair = [GET, b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"].concat();
    for byte in &pair {
        client.send(std::slice::from_ref(byte));
    }
    assert_eq!(client.response().status, 200);
    assert_eq!(client.response().status, 200);
    assert_eq!(server.stop_and_log_lines().len(), 6);
}

#[test]
fn a_parked_connection_whose_client_leaves_is_closed_and_forgotten() {
    let server = start_server(|_| {});
    let mut client = server.connect();
    client.send(GET);
    assert_eq!(client.response().status, 200);
    std::thread::sleep(PARKED);
    drop(client);
    assert_eq!(server.await_no_connections(Duration::from_secs(3)), 0);
    assert_eq!(
        server.stop_and_log_lines().len(),
        1,
        "leaving is not logged"
    );
}

#[test]
fn shutdown_closes_parked_connections_at_once() {
    let server = start_server(|_| {});
    let mut clients: Vec<Client> = (0..20).map(|_| server.connect()).collect();
    for client in &mut clients {
        client.send(GET);
        assert_eq!(client.response().status, 200);
    }
    std::thread::sleep(PARKED);
    let started = std::time::Instant::now();
    server.stop();
    assert!(started.elapsed() < Duration::from_secs(3));
    for client in &mut clients {
        assert!(client.is_closed_by_server());
    }
}

#[test]
fn an_idle_connection_costs_under_one_and_a_quarter_kib() {
    // A task per idle connection cost about 1.8 KiB; parked, one costs its
    // socket's registration, a waker and a slot (about 0.8 KiB here).
    const CONNECTIONS: usize = 1000;
    const MAX_BYTES_EACH: u64 = 1280;
    ensure_open_file_limit(CONNECTIONS as u64 + 256);
    let root = tempfile::tempdir().unwrap();
    write_fixture(root.path());
    let server = Binary::start(&["--root", root.path().to_str().unwrap(), "--workers", "1"]);
    // Warm up: the worker, its runtime and the log exist before measuring.
    let mut warm = Client::connect(server.addr());
    warm.send(GET);
    assert_eq!(warm.response().status, 200);
    drop(warm);
    std::thread::sleep(PARKED);
    let baseline = server.rss_kib();
    let clients: Vec<Client> = (0..CONNECTIONS)
        .map(|_| {
            let mut client = Client::connect(server.addr());
            client.send(GET);
            assert_eq!(client.response().status, 200);
            client
        })
        .collect();
    std::thread::sleep(PARKED);
    let held = server.rss_kib();
    let each = held.saturating_sub(baseline) * 1024 / CONNECTIONS as u64;
    assert!(
        each < MAX_BYTES_EACH,
        "{each} bytes per idle connection (RSS {baseline} KiB → {held} KiB)"
    );
    drop(clients);
}
