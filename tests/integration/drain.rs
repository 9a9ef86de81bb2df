//! Draining (issue 13, item 2): `/readyz` turns 503 at once, the server
//! keeps accepting and answering with `Connection: close`, then stops
//! accepting and finishes. Through the server's own API (as the first
//! signal calls it) and through real signals to the binary. No timing is
//! asserted, only the order of events.

use crate::support::binary::Binary;
use crate::support::{start_server, write_fixture, Client, READ_DEADLINE};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const GET_STYLE: &[u8] = b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n";
const GET_READYZ: &[u8] = b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n";

fn readyz(admin: SocketAddr) -> u16 {
    let mut client = Client::connect(admin);
    client.send(GET_READYZ);
    client.response().status
}

#[test]
fn issue_13_drain_answers_with_close_keeps_accepting_then_stop_refuses() {
    let server = start_server(|c| c.balancer.admin = Some("127.0.0.1:0".parse().unwrap()));
    let admin = server.admin.unwrap();
    let mut kept_alive = server.connect();
    kept_alive.send(GET_STYLE);
    let before = kept_alive.response();
    assert_eq!(before.field("Connection"), Some("keep-alive"));
    assert_eq!(readyz(admin), 200);

    server.drain();
    // 1. Readiness turns at once.
    assert_eq!(readyz(admin), 503);
    // 2. A keep-alive connection's next response says close, and it closes.
    kept_alive.send(GET_STYLE);
    let during = kept_alive.response();
    assert_eq!(during.status, 200);
    assert_eq!(during.field("Connection"), Some("close"));
    assert!(kept_alive.is_closed_by_server());
    // 3. New connections are still accepted and answered, with close.
    let mut newcomer = server.connect();
    newcomer.send(GET_STYLE);
    let fresh = newcomer.response();
    assert_eq!(fresh.status, 200);
    assert_eq!(fresh.field("Connection"), Some("close"));
    // 4. Stopping ends accepting.
    let addr = server.addr;
    let lines = server.stop_and_log_lines();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
        "still accepting after stop"
    );
}

#[test]
fn issue_13_an_idle_connection_during_the_drain_is_closed_at_stop() {
    let server = start_server(|c| c.balancer.admin = Some("127.0.0.1:0".parse().unwrap()));
    let mut idle = server.connect();
    idle.send(GET_STYLE);
    assert_eq!(idle.response().status, 200);
    server.drain();
    // Idle through the drain: nothing is sent to it, and it stays open
    // until the stop closes it.
    let stopping = std::thread::spawn(move || server.stop());
    assert!(idle.is_closed_by_server());
    stopping.join().unwrap();
}

/// The binary and its admin address (the second stdout line).
fn start_binary(drain_delay: &str) -> (tempfile::TempDir, Binary, SocketAddr) {
    let root = tempfile::tempdir().unwrap();
    write_fixture(root.path());
    let server = Binary::start(&[
        "--root",
        root.path().to_str().unwrap(),
        "--workers",
        "2",
        "--admin",
        "127.0.0.1:0",
        "--drain-delay",
        drain_delay,
    ]);
    let line = server.next_line().expect("the admin line");
    let admin = line
        .strip_prefix("Admin listening on ")
        .unwrap_or_else(|| panic!("second line {line:?}"))
        .parse()
        .expect("an address");
    (root, server, admin)
}

/// Poll `/readyz` (for at most the read deadline) until it is 503.
fn await_not_ready(admin: SocketAddr) -> bool {
    let deadline = Instant::now() + READ_DEADLINE;
    while Instant::now() < deadline {
        if readyz(admin) == 503 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn issue_13_sigterm_drains_then_exits_0() {
    // Long enough for the steps below to happen inside the drain; the test
    // asserts their order, not the delay.
    let (_root, mut server, admin) = start_binary("4");
    let mut kept_alive = Client::connect(server.addr());
    kept_alive.send(GET_STYLE);
    assert_eq!(
        kept_alive.response().field("Connection"),
        Some("keep-alive")
    );
    assert_eq!(readyz(admin), 200);

    server.signal_terminate();
    assert!(await_not_ready(admin), "/readyz still 200 after SIGTERM");
    kept_alive.send(GET_STYLE);
    let during = kept_alive.response();
    assert_eq!(
        (during.status, during.field("Connection")),
        (200, Some("close"))
    );
    let mut newcomer = Client::connect(server.addr());
    newcomer.send(GET_STYLE);
    let fresh = newcomer.response();
    assert_eq!(
        (fresh.status, fresh.field("Connection")),
        (200, Some("close"))
    );

    let status = server
        .wait_exit(Duration::from_secs(30))
        .expect("exits after the drain");
    assert!(status.success(), "exit status {status}");
    assert_eq!(server.stderr_text(), "");
    assert!(
        std::net::TcpStream::connect_timeout(&server.addr(), Duration::from_secs(1)).is_err(),
        "still accepting after exit"
    );
}

#[test]
fn issue_13_a_second_signal_exits_at_once_non_zero() {
    use std::os::unix::process::ExitStatusExt;
    // A drain far longer than the wait below: only the second signal can
    // end the process in time.
    let (_root, mut server, admin) = start_binary("600");
    server.signal_terminate();
    assert!(await_not_ready(admin), "/readyz still 200 after SIGTERM");
    server.signal_terminate();
    let status = server
        .wait_exit(Duration::from_secs(30))
        .expect("the second signal ends the process");
    assert_eq!(status.code(), Some(128 + 15), "exit status {status}");
    assert_eq!(status.signal(), None, "exited, not killed");
    assert!(
        server.stderr_text().contains("second signal"),
        "{}",
        server.stderr_text()
    );
}
