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
//! letting memory grow without bound or stalling the server. The report
//! comes from a thread of its own: the writer may be the one that is stuck
//! (a `write` blocked on a full pipe), and a report it would make after
//! the write returns might never come.

mod format;

use crate::diag;
pub(crate) use format::escape_into as escape_log_bytes;
pub use format::{LogFormat, LogRecord, LogTime, RequestLine};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Lines waiting for the writer, in bytes, before new lines are dropped.
pub const MAX_PENDING_BYTES: usize = 4 * 1024 * 1024;

/// How long the writer lets lines gather after the first one arrives: a
/// line reaches the sink at most this late (and at once on shutdown).
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(50);

/// Pending bytes that wake the writer before the interval is over.
const FLUSH_BYTES: usize = 256 * 1024;

/// How long [`LogWriter::finish`] waits for the writer to write out what is
/// queued: an output that takes nothing (a FIFO nobody reads) must not
/// keep a stopping server from exiting.
pub const FINISH_TIMEOUT: Duration = Duration::from_secs(5);

/// `--access-log`: where lines go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum LogDestination {
    /// `-`: standard output (the default).
    #[default]
    Stdout,
    /// A file, opened for append (created with mode 0640) and reopened on
    /// SIGUSR1, for logrotate.
    File(PathBuf),
    /// `off`: no access log at all.
    Off,
}

impl std::str::FromStr for LogDestination {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "-" => Ok(LogDestination::Stdout),
            "off" => Ok(LogDestination::Off),
            "" => Err("empty access-log path (use -, a path or off)".to_owned()),
            path => Ok(LogDestination::File(PathBuf::from(path))),
        }
    }
}

impl std::fmt::Display for LogDestination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LogDestination::Stdout => f.write_str("-"),
            LogDestination::File(path) => write!(f, "{}", path.display()),
            LogDestination::Off => f.write_str("off"),
        }
    }
}

/// The access log's settings, from `--log-format` and `--access-log`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessLogOptions {
    pub format: LogFormat,
    pub destination: LogDestination,
}

#[derive(Default)]
struct Pending {
    lines: Vec<u8>,
    dropped: u64,
    closed: bool,
    /// SIGUSR1 asked for the file to be reopened.
    reopen: bool,
}

struct Shared {
    pending: Mutex<Pending>,
    /// Wakes the writer: lines to write, a reopen, the close.
    wake: Condvar,
    /// Wakes the drop reporter: the first line dropped since its last
    /// look, the close.
    drops_wake: Condvar,
    /// Every line dropped since the start, for `/metrics`; written under
    /// the `pending` lock.
    dropped_total: AtomicU64,
}

/// A handle to the access log; clone it freely.
#[derive(Clone)]
pub struct AccessLog {
    shared: Arc<Shared>,
    format: LogFormat,
}

/// Owns the writer thread; [`LogWriter::finish`] flushes and stops it.
pub struct LogWriter {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    reporter: Option<JoinHandle<()>>,
    /// Disconnected when the writer thread ends.
    writer_done: mpsc::Receiver<()>,
}

impl AccessLog {
    /// Start a writer thread that writes lines to `sink` in the default
    /// format.
    pub fn start(sink: Box<dyn Write + Send>) -> (AccessLog, LogWriter) {
        AccessLog::start_with(sink, LogFormat::Default)
    }

    /// Start a writer thread that writes lines in `format` to `sink`.
    pub fn start_with(sink: Box<dyn Write + Send>, format: LogFormat) -> (AccessLog, LogWriter) {
        AccessLog::spawn(sink, None, format)
    }

    /// Start a writer thread that appends lines in `format` to the file at
    /// `path`, created with mode 0640 if need be; [`AccessLog::reopen`]
    /// opens `path` anew (after logrotate renamed the file).
    pub fn start_file(path: PathBuf, format: LogFormat) -> io::Result<(AccessLog, LogWriter)> {
        let file = open_log_file(&path)?;
        Ok(AccessLog::spawn(Box::new(file), Some(path), format))
    }

    fn spawn(
        sink: Box<dyn Write + Send>,
        path: Option<PathBuf>,
        format: LogFormat,
    ) -> (AccessLog, LogWriter) {
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending::default()),
            wake: Condvar::new(),
            drops_wake: Condvar::new(),
            dropped_total: AtomicU64::new(0),
        });
        let writer_shared = Arc::clone(&shared);
        let (done, writer_done) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || {
                // Dropped when the thread ends, however it ends.
                let _done = done;
                write_lines(&writer_shared, sink, path.as_deref());
            })
            .expect("spawning the access-log thread");
        let reporter_shared = Arc::clone(&shared);
        let reporter = std::thread::Builder::new()
            .name("access-log-drops".into())
            .spawn(move || report_drops(&reporter_shared))
            .expect("spawning the access-log drop reporter");
        (
            AccessLog {
                shared: Arc::clone(&shared),
                format,
            },
            LogWriter {
                shared,
                thread: Some(thread),
                reporter: Some(reporter),
                writer_done,
            },
        )
    }

    /// Reopen the log file (SIGUSR1): lines queued so far go to the file
    /// open now, every later line to the reopened one, so no line is lost
    /// or written twice. Nothing happens for a log that is not a file.
    pub fn reopen(&self) {
        self.shared
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .reopen = true;
        self.shared.wake.notify_one();
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
            let first = pending.dropped == 1;
            drop(pending);
            // The reporter sleeps until a first drop (or until a report is
            // due): later ones need no wake-up.
            if first {
                self.shared.drops_wake.notify_one();
            }
            return;
        }
        let before = pending.lines.len();
        record.format(self.format, &mut pending.lines);
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
    /// The format lines are written in.
    pub fn format(&self) -> LogFormat {
        self.format
    }

    /// How many lines were dropped since the log started because its
    /// output fell behind.
    pub fn dropped_lines(&self) -> u64 {
        self.shared.dropped_total.load(Ordering::Relaxed)
    }
}

impl LogWriter {
    /// Write out every queued line, then stop the writer thread; if the
    /// output takes nothing for [`FINISH_TIMEOUT`], give up on the lines
    /// still queued (said on stderr) and leave the thread behind.
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
            self.shared.drops_wake.notify_one();
            // The reporter first: it says the last drops even while the
            // writer is still blocked on its output.
            if let Some(reporter) = self.reporter.take() {
                let _ = reporter.join();
            }
            match self.writer_done.recv_timeout(FINISH_TIMEOUT) {
                Err(mpsc::RecvTimeoutError::Timeout) => diag::error(format_args!(
                    "access log output took nothing for {} s; exiting without the lines still queued",
                    FINISH_TIMEOUT.as_secs()
                )),
                _ => {
                    let _ = thread.join();
                }
            }
        }
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Open `path` for appending, creating it with mode 0640 (owner reads and
/// writes, group reads: the `adm` group of log readers, as nginx's logs).
fn open_log_file(path: &Path) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o640)
        .open(path)
        .map_err(|e| io::Error::new(e.kind(), format!("access log {}: {e}", path.display())))
}

/// How often, at most, the writer reports dropped lines on stderr.
const DROP_REPORT_INTERVAL: Duration = Duration::from_secs(1);

/// Dropped lines and when they were last reported: at most one warning per
/// [`DROP_REPORT_INTERVAL`], however many batches drop lines, so a flood of
/// drops does not become a flood on stderr.
#[derive(Debug, Default)]
struct DropReports {
    unreported: u64,
    last_report: Option<Instant>,
}

impl DropReports {
    /// Count `dropped` more lines at `now`; the count to report, if a
    /// report is due (or `closing`: the last chance).
    fn add(&mut self, dropped: u64, now: Instant, closing: bool) -> Option<u64> {
        self.unreported += dropped;
        let due = match self.last_report {
            None => true,
            Some(at) => now.duration_since(at) >= DROP_REPORT_INTERVAL,
        };
        if self.unreported == 0 || !(due || closing) {
            return None;
        }
        self.last_report = Some(now);
        Some(std::mem::take(&mut self.unreported))
    }

    /// When the unreported drops' report is due, if there are any.
    fn next_due(&self) -> Option<Instant> {
        match (self.unreported, self.last_report) {
            (0, _) | (_, None) => None,
            (_, Some(at)) => Some(at + DROP_REPORT_INTERVAL),
        }
    }
}

/// Wait until the writer is woken, or until `deadline` when there is one:
/// `Ok` after a wake-up (or a timeout: the caller checks again), `Err`
/// with the lock, without waiting, once the deadline has passed.
fn wait_for_news<'a>(
    wake: &Condvar,
    pending: MutexGuard<'a, Pending>,
    deadline: Option<Instant>,
) -> Result<MutexGuard<'a, Pending>, MutexGuard<'a, Pending>> {
    let Some(deadline) = deadline else {
        return Ok(wake.wait(pending).unwrap_or_else(|e| e.into_inner()));
    };
    let now = Instant::now();
    if now >= deadline {
        return Err(pending);
    }
    Ok(wake
        .wait_timeout(pending, deadline - now)
        .unwrap_or_else(|e| e.into_inner())
        .0)
}

/// The drop reporter's loop: at most one warning per
/// [`DROP_REPORT_INTERVAL`], the first at once, the last on close. It
/// sleeps while nothing is dropped, and while a report is not yet due
/// (drops in between are taken together when it is).
fn report_drops(shared: &Shared) {
    let mut drops = DropReports::default();
    loop {
        let (dropped, closed) = {
            let mut pending = shared.pending.lock().unwrap_or_else(|e| e.into_inner());
            match drops.next_due() {
                Some(due) => {
                    while !pending.closed {
                        match wait_for_news(&shared.drops_wake, pending, Some(due)) {
                            Ok(woken) => pending = woken,
                            Err(at_due) => {
                                pending = at_due;
                                break;
                            }
                        }
                    }
                }
                None => {
                    while pending.dropped == 0 && !pending.closed {
                        pending = shared
                            .drops_wake
                            .wait(pending)
                            .unwrap_or_else(|e| e.into_inner());
                    }
                }
            }
            (std::mem::take(&mut pending.dropped), pending.closed)
        };
        if let Some(count) = drops.add(dropped, Instant::now(), closed) {
            diag::warn(format_args!(
                "access log fell behind; {count} lines dropped"
            ));
        }
        if closed {
            return;
        }
    }
}

fn write_lines(shared: &Shared, mut sink: Box<dyn Write + Send>, path: Option<&Path>) {
    let mut batch = Vec::new();
    let mut write_failed = false;
    loop {
        let (closed, reopen) = {
            let mut pending = shared.pending.lock().unwrap_or_else(|e| e.into_inner());
            while pending.lines.is_empty() && !pending.closed && !pending.reopen {
                pending = shared.wake.wait(pending).unwrap_or_else(|e| e.into_inner());
            }
            // Let more lines gather, unless there are enough already, the
            // log is closing or is to be reopened.
            let gathering_until = Instant::now() + FLUSH_INTERVAL;
            while pending.lines.len() < FLUSH_BYTES && !pending.closed && !pending.reopen {
                match wait_for_news(&shared.wake, pending, Some(gathering_until)) {
                    Ok(woken) => pending = woken,
                    Err(due) => {
                        pending = due;
                        break;
                    }
                }
            }
            std::mem::swap(&mut batch, &mut pending.lines);
            (pending.closed, std::mem::take(&mut pending.reopen))
        };
        if !batch.is_empty() {
            // A failing sink (a closed pipe, a full disk) must not take the
            // server down; the lines are lost, which is all that can happen
            // to them. Said once until a write succeeds again.
            match sink.write_all(&batch).and_then(|()| sink.flush()) {
                Ok(()) => write_failed = false,
                Err(e) if !write_failed => {
                    write_failed = true;
                    diag::warn(format_args!("cannot write the access log: {e}"));
                }
                Err(_) => {}
            }
            batch.clear();
        }
        // The batch taken with the request went to the old file; from here
        // on lines go to the new one.
        if let (true, Some(path)) = (reopen, path) {
            match open_log_file(path) {
                Ok(file) => {
                    sink = Box::new(file);
                    diag::info(format_args!("reopened access log {}", path.display()));
                }
                Err(e) => diag::error(format_args!("{e}; still writing to the old file")),
            }
        }
        if closed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::client_address::ClientAddress;
    use std::net::SocketAddr;

    fn line(request: Option<(&[u8], &[u8])>, peer: &str) -> String {
        let mut out = Vec::new();
        let peer: SocketAddr = peer.parse().unwrap();
        LogRecord {
            time: LogTime::utc(b"2025-01-10 14:32:01"),
            peer,
            client: ClientAddress::from(peer),
            request: request.map(|(m, t)| RequestLine::new(m, t)),
            status: 200,
            duration: Duration::from_micros(2_700),
            body_bytes: 0,
        }
        .format(LogFormat::Default, &mut out);
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
                time: LogTime::utc(b"2025-01-10 14:32:01"),
                peer: "10.0.0.2:40000".parse().unwrap(),
                client,
                request: Some(RequestLine::new(b"GET", b"/")),
                status: 200,
                duration: Duration::ZERO,
                body_bytes: 0,
            }
            .format(LogFormat::Default, &mut out);
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
            time: LogTime::utc(b"2025-01-10 14:32:01"),
            peer: "0.0.0.0:0".parse().unwrap(),
            client: ClientAddress::from("0.0.0.0:0".parse::<SocketAddr>().unwrap()),
            request: Some(RequestLine::new(b"GET", b"/")),
            status: 505,
            duration: Duration::from_secs(100_000),
            body_bytes: 0,
        }
        .format(LogFormat::Default, &mut out);
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
                time: LogTime::utc(b"2025-01-10 14:32:01"),
                peer: "127.0.0.1:1".parse().unwrap(),
                client: ClientAddress::from("127.0.0.1:1".parse::<SocketAddr>().unwrap()),
                request: Some(RequestLine::new(b"GET", b"/")),
                status: 200,
                duration: Duration::ZERO,
                body_bytes: 0,
            });
        }
        writer.finish();
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1000);
    }

    #[test]
    fn drops_are_reported_at_most_once_a_second() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut drops = DropReports::default();
        assert_eq!(drops.add(0, at(0), false), None, "nothing to report");
        assert_eq!(drops.add(3, at(0), false), Some(3), "the first at once");
        assert_eq!(drops.add(5, at(10), false), None);
        assert_eq!(drops.next_due(), Some(at(1000)));
        assert_eq!(drops.add(2, at(999), false), None);
        assert_eq!(drops.add(0, at(1000), false), Some(7), "the rest when due");
        assert_eq!(drops.next_due(), None);
        assert_eq!(drops.add(4, at(1001), false), None);
        assert_eq!(drops.add(0, at(1002), true), Some(4), "and on closing");
    }

    /// A sink that stalls (a full disk, a stopped pipe reader) never makes
    /// `record` wait: past the bound lines are dropped, and every line is
    /// either written or counted as dropped (the count `/metrics` shows).
    #[test]
    fn a_stalled_sink_drops_and_counts_lines_instead_of_blocking() {
        struct Stalled {
            gate: Arc<(Mutex<bool>, Condvar)>,
            written: Arc<Mutex<Vec<u8>>>,
        }
        impl Write for Stalled {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                let (open, opened) = &*self.gate;
                let mut open = open.lock().unwrap();
                while !*open {
                    open = opened.wait(open).unwrap();
                }
                self.written.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let written = Arc::new(Mutex::new(Vec::new()));
        let (log, writer) = AccessLog::start(Box::new(Stalled {
            gate: Arc::clone(&gate),
            written: Arc::clone(&written),
        }));
        let record = LogRecord {
            time: LogTime::utc(b"2025-01-10 14:32:01"),
            peer: "127.0.0.1:1".parse().unwrap(),
            client: ClientAddress::from("127.0.0.1:1".parse::<SocketAddr>().unwrap()),
            request: Some(RequestLine::new(b"GET", b"/")),
            status: 200,
            duration: Duration::ZERO,
            body_bytes: 0,
        };
        let mut recorded = 0u64;
        // Enough lines to fill the pending bound several times over.
        let bound = MAX_PENDING_BYTES as u64 / 40 * 3;
        while log.dropped_lines() == 0 {
            log.record(&record);
            recorded += 1;
            assert!(recorded < bound, "never dropped");
        }
        for _ in 0..100 {
            log.record(&record);
            recorded += 1;
        }
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        writer.finish();
        let lines = written
            .lock()
            .unwrap()
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        assert!(log.dropped_lines() >= 100);
        assert_eq!(lines + log.dropped_lines(), recorded);
    }
}
