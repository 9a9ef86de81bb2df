//! The access log: one line per response, written by a single writer thread.
//!
//! Connections format a [`LogRecord`] into a shared buffer under a short lock
//! and return at once; the writer thread swaps the buffer out and writes it.
//! The writer is woken only by the first line into an empty buffer (or by a
//! buffer past [`FLUSH_BYTES`]); it then lets lines gather for
//! [`FLUSH_INTERVAL`] before one `write`, so under load the log costs one
//! wake-up and one `write` per interval rather than per line: waking it per
//! line cost two `futex` calls, a `write` and two context switches per
//! request on a busy core.
//! A connection never waits for the log's output: if the output falls so far
//! behind that the buffer reaches [`MAX_PENDING_BYTES`], further lines are
//! counted and dropped, and the count is reported on stderr, rather than
//! letting memory grow without bound or stalling the server.

use super::client_address::ClientAddress;
use crate::proto::response::encode_decimal;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Lines waiting for the writer, in bytes, before new lines are dropped.
pub const MAX_PENDING_BYTES: usize = 4 * 1024 * 1024;

/// How long the writer lets lines gather after the first one arrives: a
/// line reaches the sink at most this late (and at once on shutdown).
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(50);

/// Pending bytes that wake the writer before the interval is over.
const FLUSH_BYTES: usize = 256 * 1024;

/// What one log line says about one response.
#[derive(Debug, Clone, Copy)]
pub struct LogRecord<'a> {
    /// Local time, `YYYY-MM-DD HH:MM:SS`.
    pub time: [u8; 19],
    /// The socket's peer: the client, or the load balancer in front of it.
    /// Not in the line format; for diagnostics and metrics.
    pub peer: SocketAddr,
    /// Whom the request is from: the peer, a PROXY header's source, or the
    /// address a trusted proxy's forwarded field names (whose port may be
    /// unknown). The line names it.
    pub client: ClientAddress,
    /// The method and target as sent, or `None` when the request was rejected
    /// before they could be read.
    pub request: Option<(&'a [u8], &'a [u8])>,
    pub status: u16,
    pub duration: Duration,
    /// The bytes of head and body that left for this response (fewer than
    /// it has when the client went away). Not in today's line format; for
    /// the formats that report it.
    pub bytes_sent: u64,
}

impl LogRecord<'_> {
    /// Append the line, newline included:
    /// `[2025-01-10 14:32:01] 192.168.1.5:52341 - GET /index.html - 200 - 2ms`
    /// (the client's address alone when its port is unknown).
    pub fn format(&self, out: &mut Vec<u8>) {
        // Written straight into `out` (io::Write for Vec cannot fail): no
        // temporary String per line.
        out.push(b'[');
        out.extend_from_slice(&self.time);
        out.extend_from_slice(b"] ");
        // An IPv4 client of a dual-stack listener shows as itself, not as
        // an IPv4-mapped IPv6 address.
        // IPv4 by hand: `write!` through the formatting machinery was a
        // tenth of a short connection's instructions.
        match self.client.ip.to_canonical() {
            IpAddr::V4(ip) => {
                for (i, octet) in ip.octets().into_iter().enumerate() {
                    if i > 0 {
                        out.push(b'.');
                    }
                    encode_decimal(u64::from(octet), out);
                }
            }
            // In brackets, as `SocketAddr` shows it.
            IpAddr::V6(ip) => {
                let _ = write!(out, "[{ip}]");
            }
        }
        if let Some(port) = self.client.port {
            out.push(b':');
            encode_decimal(u64::from(port), out);
        }
        out.extend_from_slice(b" - ");
        match self.request {
            Some((method, target)) => {
                escape_into(method, out);
                out.push(b' ');
                escape_into(target, out);
            }
            None => out.extend_from_slice(b"- -"),
        }
        out.extend_from_slice(b" - ");
        encode_decimal(u64::from(self.status), out);
        out.extend_from_slice(b" - ");
        encode_decimal(
            u64::try_from(self.duration.as_millis()).unwrap_or(u64::MAX),
            out,
        );
        out.extend_from_slice(b"ms\n");
    }
}

/// Copy `bytes`, escaping everything but visible ASCII as `\xHH` (and `\` as
/// `\\`), so that no client can split a log line or forge one.
fn escape_into(bytes: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x21..=0x7e => out.push(b),
            _ => out.extend_from_slice(&[
                b'\\',
                b'x',
                HEX[(b >> 4) as usize],
                HEX[(b & 15) as usize],
            ]),
        }
    }
}

#[derive(Default)]
struct Pending {
    lines: Vec<u8>,
    dropped: u64,
    closed: bool,
}

struct Shared {
    pending: Mutex<Pending>,
    wake: Condvar,
    /// Every line dropped since the start, for `/metrics`; written under
    /// the `pending` lock.
    dropped_total: AtomicU64,
}

/// A handle to the access log; clone it freely.
#[derive(Clone)]
pub struct AccessLog {
    shared: Arc<Shared>,
}

/// Owns the writer thread; [`LogWriter::finish`] flushes and stops it.
pub struct LogWriter {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl AccessLog {
    /// Start a writer thread that writes lines to `sink`.
    pub fn start(sink: Box<dyn Write + Send>) -> (AccessLog, LogWriter) {
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending::default()),
            wake: Condvar::new(),
            dropped_total: AtomicU64::new(0),
        });
        let writer_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || write_lines(&writer_shared, sink))
            .expect("spawning the access-log thread");
        (
            AccessLog {
                shared: Arc::clone(&shared),
            },
            LogWriter {
                shared,
                thread: Some(thread),
            },
        )
    }

    /// Queue one line. Never waits for output.
    pub fn record(&self, record: &LogRecord<'_>) {
        let mut pending = self
            .shared
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if pending.lines.len() >= MAX_PENDING_BYTES {
            pending.dropped += 1;
            self.shared.dropped_total.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let before = pending.lines.len();
        record.format(&mut pending.lines);
        let crossed = before < FLUSH_BYTES && pending.lines.len() >= FLUSH_BYTES;
        drop(pending);
        // Only these two moments need the writer: otherwise it is already
        // awake and gathering, and a notification would be a wasted syscall.
        if before == 0 || crossed {
            self.shared.wake.notify_one();
        }
    }
}

impl AccessLog {
    /// How many lines were dropped since the log started because its
    /// output fell behind.
    pub fn dropped_lines(&self) -> u64 {
        self.shared.dropped_total.load(Ordering::Relaxed)
    }
}

impl LogWriter {
    /// Write out every queued line, then stop the writer thread.
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.shared
                .pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .closed = true;
            self.shared.wake.notify_one();
            let _ = thread.join();
        }
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        self.stop();
    }
}

fn write_lines(shared: &Shared, mut sink: Box<dyn Write + Send>) {
    let mut batch = Vec::new();
    loop {
        let (dropped, closed) = {
            let mut pending = shared.pending.lock().unwrap_or_else(|e| e.into_inner());
            while pending.lines.is_empty() && pending.dropped == 0 && !pending.closed {
                pending = shared.wake.wait(pending).unwrap_or_else(|e| e.into_inner());
            }
            // Let more lines gather, unless there are enough already or the
            // log is closing.
            let gathering_until = std::time::Instant::now() + FLUSH_INTERVAL;
            while pending.lines.len() < FLUSH_BYTES && !pending.closed {
                let now = std::time::Instant::now();
                if now >= gathering_until {
                    break;
                }
                pending = shared
                    .wake
                    .wait_timeout(pending, gathering_until - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            std::mem::swap(&mut batch, &mut pending.lines);
            (std::mem::take(&mut pending.dropped), pending.closed)
        };
        if !batch.is_empty() {
            // A failing sink (a closed pipe) must not take the server down;
            // the lines are lost, which is all that can happen to them.
            let _ = sink.write_all(&batch).and_then(|()| sink.flush());
            batch.clear();
        }
        if dropped > 0 {
            eprintln!("httpserver: access log fell behind; {dropped} lines dropped");
        }
        if closed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(request: Option<(&[u8], &[u8])>, peer: &str) -> String {
        let mut out = Vec::new();
        let peer: SocketAddr = peer.parse().unwrap();
        LogRecord {
            time: *b"2025-01-10 14:32:01",
            peer,
            client: ClientAddress::from(peer),
            request,
            status: 200,
            duration: Duration::from_micros(2_700),
            bytes_sent: 0,
        }
        .format(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn line_has_the_documented_format() {
        assert_eq!(
            line(Some((b"GET", b"/index.html")), "192.168.1.5:52341"),
            "[2025-01-10 14:32:01] 192.168.1.5:52341 - GET /index.html - 200 - 2ms\n"
        );
    }

    #[test]
    fn request_rejected_before_its_line_was_read_shows_dashes() {
        assert_eq!(
            line(None, "127.0.0.1:9"),
            "[2025-01-10 14:32:01] 127.0.0.1:9 - - - - 200 - 2ms\n"
        );
    }

    #[test]
    fn ipv4_mapped_peer_is_shown_as_ipv4() {
        assert!(line(None, "[::ffff:10.0.0.1]:80").contains("] 10.0.0.1:80 - "));
    }

    #[test]
    fn ipv6_peer_is_bracketed() {
        assert!(line(None, "[2001:db8::1]:443").contains("] [2001:db8::1]:443 - "));
        assert!(line(None, "[::1]:65535").contains("] [::1]:65535 - "));
    }

    /// Issue 13.3: behind a balancer the line names the client, not the
    /// socket's peer, and a client whose port no one said has none shown.
    #[test]
    fn the_line_names_the_client_not_the_peer() {
        let format = |client: ClientAddress| {
            let mut out = Vec::new();
            LogRecord {
                time: *b"2025-01-10 14:32:01",
                peer: "10.0.0.2:40000".parse().unwrap(),
                client,
                request: Some((b"GET", b"/")),
                status: 200,
                duration: Duration::ZERO,
                bytes_sent: 0,
            }
            .format(&mut out);
            String::from_utf8(out).unwrap()
        };
        let from_header = format(ClientAddress::from(
            "203.0.113.7:51234".parse::<SocketAddr>().unwrap(),
        ));
        assert_eq!(
            from_header,
            "[2025-01-10 14:32:01] 203.0.113.7:51234 - GET / - 200 - 0ms\n"
        );
        let without_port = |ip: &str| {
            format(ClientAddress {
                ip: ip.parse().unwrap(),
                port: None,
            })
        };
        assert!(without_port("203.0.113.7").contains("] 203.0.113.7 - GET / - "));
        assert!(without_port("2001:db8::7").contains("] [2001:db8::7] - GET / - "));
        assert!(without_port("::ffff:203.0.113.7").contains("] 203.0.113.7 - GET / - "));
    }

    #[test]
    fn numbers_are_written_whole() {
        let mut out = Vec::new();
        LogRecord {
            time: *b"2025-01-10 14:32:01",
            peer: "0.0.0.0:0".parse().unwrap(),
            client: ClientAddress::from("0.0.0.0:0".parse::<SocketAddr>().unwrap()),
            request: Some((b"GET", b"/")),
            status: 505,
            duration: Duration::from_secs(100_000),
            bytes_sent: 0,
        }
        .format(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[2025-01-10 14:32:01] 0.0.0.0:0 - GET / - 505 - 100000000ms\n"
        );
    }

    #[test]
    fn control_bytes_cannot_split_or_forge_a_line() {
        let text = line(
            Some((b"GET", b"/a\r\n[2025-01-01 00:00:00] x\x1b\\")),
            "127.0.0.1:1",
        );
        assert_eq!(text.matches('\n').count(), 1);
        assert!(text.contains("/a\\x0d\\x0a[2025-01-01\\x2000:00:00]\\x20x\\x1b\\\\ - 200"));
    }

    #[test]
    fn writer_flushes_every_line_on_finish() {
        #[derive(Clone)]
        struct Shared(Arc<Mutex<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let sink = Shared(Arc::new(Mutex::new(Vec::new())));
        let (log, writer) = AccessLog::start(Box::new(sink.clone()));
        for _ in 0..1000 {
            log.record(&LogRecord {
                time: *b"2025-01-10 14:32:01",
                peer: "127.0.0.1:1".parse().unwrap(),
                client: ClientAddress::from("127.0.0.1:1".parse::<SocketAddr>().unwrap()),
                request: Some((b"GET", b"/")),
                status: 200,
                duration: Duration::ZERO,
                bytes_sent: 0,
            });
        }
        writer.finish();
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1000);
    }
}
