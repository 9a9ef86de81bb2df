//! SIGTERM under load (issue 4, part 5): the built binary, 50 keep-alive
//! clients with requests in flight in every state, then the signal. Every
//! request whose bytes were all sent gets its whole response, new
//! connections are refused, and the process exits 0 within the grace period.

use crate::support::binary::Binary;
use crate::support::{write_fixture, Client};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const BIG_FILE_BYTES: u64 = 16 * 1024 * 1024;
const GRACE_SECONDS: u64 = 5;

/// What a client has in flight when the signal arrives.
#[derive(Debug, Clone, Copy)]
enum InFlight {
    /// A complete head and half a body; the rest is sent after the signal.
    PartialBody,
    /// Half a head; the rest is sent after the signal.
    PartialHead,
    /// A large download, barely read before the signal.
    Download,
    /// A large download and two small requests pipelined behind it, none
    /// of the responses read before the signal.
    PipelinedBehindDownload,
    /// Nothing: an idle keep-alive connection.
    Idle,
}

const ECHO_BODY: &[u8] = b"[1,2,3,4,5,6,7,8]";

impl InFlight {
    fn of(index: usize) -> InFlight {
        match index % 5 {
            0 => InFlight::PartialBody,
            1 => InFlight::PartialHead,
            2 => InFlight::Download,
            3 => InFlight::PipelinedBehindDownload,
            _ => InFlight::Idle,
        }
    }

    /// Send what goes before the signal.
    fn before_signal(self, client: &mut Client) {
        match self {
            InFlight::PartialBody => {
                client.send(
                    format!(
                        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
                        ECHO_BODY.len()
                    )
                    .as_bytes(),
                );
                client.send(&ECHO_BODY[..5]);
            }
            InFlight::PartialHead => client.send(b"GET /index.html HTTP/1.1\r\nHost"),
            InFlight::Download => {
                client.send(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
                client.buffer_at_least(4096);
            }
            InFlight::PipelinedBehindDownload => client.send(
                b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n\
                  GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n\
                  GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n",
            ),
            InFlight::Idle => {}
        }
    }

    /// Send the rest after the signal; returns how many requests this
    /// client has then sent in full and the body length each should have.
    fn after_signal(self, client: &mut Client) -> Vec<usize> {
        match self {
            InFlight::PartialBody => {
                client.send(&ECHO_BODY[5..]);
                vec![r#"{"received": [1, 2, 3, 4, 5, 6, 7, 8]}"#.len()]
            }
            InFlight::PartialHead => {
                client.send(b": x\r\n\r\n");
                vec![INDEX_HTML.len()]
            }
            InFlight::Download => vec![BIG_FILE_BYTES as usize],
            InFlight::PipelinedBehindDownload => {
                vec![BIG_FILE_BYTES as usize, STYLE_CSS.len(), INDEX_HTML.len()]
            }
            InFlight::Idle => Vec::new(),
        }
    }
}

/// The fixture's files, as `write_fixture` writes them.
const INDEX_HTML: &str = "<!DOCTYPE html><title>t</title><h1>home</h1>\n";
const STYLE_CSS: &str = "body { color: #222; }\n";

/// What one client saw after the signal.
#[derive(Debug, Default)]
struct Outcome {
    sent: usize,
    complete: usize,
    truncated: usize,
    closed_after: bool,
}

/// Read the responses `expected` (body lengths) announces, counting the
/// complete ones; then the server must close.
fn collect(client: &mut Client, expected: &[usize]) -> Outcome {
    let mut outcome = Outcome {
        sent: expected.len(),
        ..Outcome::default()
    };
    for &length in expected {
        match client.try_response() {
            Some(response) if response.status == 200 && response.body.len() == length => {
                outcome.complete += 1
            }
            Some(_) | None => {
                outcome.truncated += 1;
                return outcome;
            }
        }
    }
    outcome.closed_after = client.is_closed_by_server();
    outcome
}

/// Whether new connections are refused, polling for at most `within`.
fn refuses_connections(addr: SocketAddr, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return true,
            // Still listening (or racing the close): try again shortly.
            Ok(_) | Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    false
}

#[test]
fn sigterm_under_load_answers_every_sent_request_refuses_new_ones_and_exits_0() {
    const CLIENTS: usize = 50;
    let root = tempfile::tempdir().unwrap();
    write_fixture(root.path());
    std::fs::File::create(root.path().join("big.bin"))
        .unwrap()
        .set_len(BIG_FILE_BYTES)
        .unwrap();
    let grace = GRACE_SECONDS.to_string();
    let mut server = Binary::start(&[
        "--root",
        root.path().to_str().unwrap(),
        "--workers",
        "2",
        "--shutdown-grace",
        &grace,
    ]);
    let addr = server.addr();

    // Every client first completes a request, so that the server has
    // accepted it and it is a live keep-alive connection.
    let mut clients: Vec<(InFlight, Client)> = (0..CLIENTS)
        .map(|i| {
            let mut client = Client::connect(addr);
            client.send(b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
            assert_eq!(client.response().status, 200);
            (InFlight::of(i), client)
        })
        .collect();
    for (in_flight, client) in &mut clients {
        in_flight.before_signal(client);
    }
    // Let the server read what was sent (and block writing the downloads).
    std::thread::sleep(Duration::from_millis(300));

    let signalled = Instant::now();
    server.signal_terminate();
    let refused = refuses_connections(addr, Duration::from_secs(3));

    // Each client finishes its requests and reads, on its own thread.
    let outcomes: Vec<(InFlight, Outcome)> = std::thread::scope(|scope| {
        let handles: Vec<_> = clients
            .iter_mut()
            .map(|(in_flight, client)| {
                let in_flight = *in_flight;
                scope.spawn(move || {
                    let expected = in_flight.after_signal(client);
                    (in_flight, collect(client, &expected))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let exit = server.wait_exit(Duration::from_secs(GRACE_SECONDS + 5));
    let exited_after = signalled.elapsed();

    let sent: usize = outcomes.iter().map(|(_, o)| o.sent).sum();
    let complete: usize = outcomes.iter().map(|(_, o)| o.complete).sum();
    let truncated: usize = outcomes.iter().map(|(_, o)| o.truncated).sum();
    let summary = format!(
        "{sent} requests sent in full, {complete} complete responses, {truncated} truncated or missing"
    );
    for (in_flight, outcome) in &outcomes {
        assert!(
            outcome.complete == outcome.sent && outcome.closed_after,
            "{in_flight:?}: {outcome:?} ({summary})"
        );
    }
    // Per five clients: a body, a head, a download, three pipelined, idle.
    assert_eq!(sent, CLIENTS / 5 * 6, "{summary}");
    assert_eq!(complete, sent, "{summary}");
    assert_eq!(truncated, 0, "{summary}");
    assert!(refused, "still accepting 3 s after SIGTERM ({summary})");
    let status =
        exit.unwrap_or_else(|| panic!("no exit within the grace period + 5 s ({summary})"));
    assert!(status.success(), "exit status {status} ({summary})");
    assert!(
        exited_after < Duration::from_secs(GRACE_SECONDS + 3),
        "exited {exited_after:?} after SIGTERM, grace {GRACE_SECONDS} s ({summary})"
    );
    assert_eq!(server.stderr_text(), "", "stderr ({summary})");
}
