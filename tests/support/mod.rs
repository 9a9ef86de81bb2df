//! Test support: a server on 127.0.0.1 with a temporary root, and a client
//! that speaks raw bytes with a deadline on every read.

#![allow(dead_code)]

pub mod binary;
pub mod tcp_info;
pub mod tls;

use httpserver::server::RunningServer;
use httpserver::{Config, Server};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Every read in a test gives up after this long, so a bug fails a test
/// instead of hanging it.
pub const READ_DEADLINE: Duration = Duration::from_secs(5);

/// A server running in this process, stopped when dropped.
pub struct TestServer {
    running: Option<RunningServer>,
    pub addr: SocketAddr,
    /// Every listener's address, in the order the server was handed them.
    pub addrs: Vec<SocketAddr>,
    /// The admin listener's address, when the configuration asked for one.
    pub admin: Option<SocketAddr>,
    log: Arc<Mutex<Vec<u8>>>,
    pub root: tempfile::TempDir,
}

/// The files every test root holds.
pub fn write_fixture(root: &Path) {
    std::fs::write(
        root.join("index.html"),
        "<!DOCTYPE html><title>t</title><h1>home</h1>\n",
    )
    .unwrap();
    std::fs::write(root.join("style.css"), "body { color: #222; }\n").unwrap();
    std::fs::write(root.join("data.bin"), vec![7u8; 100_000]).unwrap();
    std::fs::create_dir(root.join("docs")).unwrap();
    std::fs::write(root.join("docs/index.html"), "<h1>docs</h1>\n").unwrap();
    std::fs::create_dir(root.join("empty")).unwrap();
}

/// Start a server on 127.0.0.1 (a free port) over a fresh fixture root;
/// `configure` may change limits and timeouts first.
pub fn start_server(configure: impl FnOnce(&mut Config)) -> TestServer {
    let root = tempfile::tempdir().unwrap();
    write_fixture(root.path());
    let mut config = Config::new(
        "127.0.0.1:0".parse().unwrap(),
        root.path().canonicalize().unwrap(),
    );
    config.workers = 2;
    configure(&mut config);
    let server = Server::bind(config).unwrap();
    let addr = server.local_addr();
    let addrs = server.local_addrs();
    let admin = server.admin_addr();
    let log = Arc::new(Mutex::new(Vec::new()));
    let running = server
        .start(Box::new(SharedSink(Arc::clone(&log))))
        .unwrap();
    TestServer {
        running: Some(running),
        addr,
        addrs,
        admin,
        log,
        root,
    }
}

impl TestServer {
    pub fn connect(&self) -> Client {
        Client::connect(self.addr)
    }

    /// Send one request on a new connection and read one response.
    pub fn request(&self, raw: &[u8]) -> Response {
        let mut client = self.connect();
        client.send(raw);
        client.response()
    }

    /// How many connections the server has open right now.
    pub fn open_connections(&self) -> usize {
        self.running
            .as_ref()
            .map_or(0, |running| running.open_connections())
    }

    /// Connections closed before HTTP for want of a valid PROXY header from
    /// a trusted address: the count for `reason` (a `Rejection::reason`).
    pub fn proxy_rejections(&self, reason: &str) -> u64 {
        let running = self.running.as_ref().expect("the server is running");
        running
            .proxy_rejections()
            .by_reason()
            .find(|(name, _)| *name == reason)
            .map(|(_, count)| count)
            .unwrap_or_else(|| panic!("no rejection reason {reason:?}"))
    }

    /// Wait (at most `within`) until the server has no connection open;
    /// returns how many were still open when it gave up (0 on success).
    pub fn await_no_connections(&self, within: Duration) -> usize {
        let deadline = Instant::now() + within;
        loop {
            let open = self.open_connections();
            if open == 0 || Instant::now() > deadline {
                return open;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait (at most `within`) until the server has at least `count`
    /// connections open; whether it got there.
    pub fn await_connections_at_least(&self, count: usize, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while self.open_connections() < count {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        true
    }

    /// Start draining, as the first SIGTERM does (see `RunningServer::drain`).
    pub fn drain(&self) {
        self.running.as_ref().expect("running").drain();
    }

    /// Send one request to the admin listener on a new connection.
    pub fn admin_request(&self, raw: &[u8]) -> Response {
        let mut client = Client::connect(self.admin.expect("an admin listener"));
        client.send(raw);
        client.response()
    }

    /// Stop the server (gracefully) and return the access log it wrote.
    pub fn stop(mut self) -> String {
        if let Some(running) = self.running.take() {
            running.shutdown();
        }
        String::from_utf8(self.log.lock().unwrap().clone()).unwrap()
    }

    /// Stop the server and return every line of its access log. Lines are
    /// read only once the server has flushed the log at shutdown, so a
    /// stray extra line (a request logged twice, a vanished client logged)
    /// is caught rather than missed by reading too early.
    pub fn stop_and_log_lines(self) -> Vec<String> {
        self.stop().lines().map(str::to_owned).collect()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown();
        }
    }
}

/// An access-log sink whose bytes the test can read.
pub struct SharedSink(pub Arc<Mutex<Vec<u8>>>);

impl Write for SharedSink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A response as read off the wire.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// The status line and fields, exactly as received.
    pub head: String,
    pub fields: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The value of the first field with this name (case-insensitive).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A raw-bytes client with a deadline on every read: over TCP, or over
/// any stream whose reads have one (a TLS stream on such a socket).
pub struct Client<S = TcpStream> {
    pub stream: S,
    buffered: Vec<u8>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect_timeout(&addr, READ_DEADLINE).unwrap();
        stream.set_read_timeout(Some(READ_DEADLINE)).unwrap();
        stream.set_write_timeout(Some(READ_DEADLINE)).unwrap();
        Client::over(stream)
    }
}

impl<S: Read + Write> Client<S> {
    /// A client over `stream`, which must already have read deadlines.
    pub fn over(stream: S) -> Client<S> {
        Client {
            stream,
            buffered: Vec::new(),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// Read more bytes into the buffer; false at end of stream (or reset).
    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 16 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => false,
            Ok(n) => {
                self.buffered.extend_from_slice(&chunk[..n]);
                true
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                panic!(
                    "no response within {READ_DEADLINE:?}; got so far: {:?}",
                    String::from_utf8_lossy(&self.buffered)
                )
            }
            Err(_) => false,
        }
    }

    /// Read one response. Its body is framed by Content-Length (or absent
    /// for 1xx, 204, 304 and responses to HEAD when `head_request`).
    pub fn response(&mut self) -> Response {
        self.read_response(false)
    }

    /// Read one response to a HEAD request: no body follows the head.
    pub fn head_response(&mut self) -> Response {
        self.read_response(true)
    }

    /// Read one response, or `None` if the connection closes before all of
    /// it arrived (a hang still fails, at the read deadline).
    pub fn try_response(&mut self) -> Option<Response> {
        self.parse_response(false).ok()
    }

    /// Receive until at least `count` bytes are buffered (or the connection
    /// closes); they are still parsed by the next `response`.
    pub fn buffer_at_least(&mut self, count: usize) {
        while self.buffered.len() < count && self.fill() {}
    }

    fn read_response(&mut self, head_request: bool) -> Response {
        self.parse_response(head_request)
            .unwrap_or_else(|message| panic!("{message}"))
    }

    fn parse_response(&mut self, head_request: bool) -> Result<Response, String> {
        let end = loop {
            if let Some(i) = find(&self.buffered, b"\r\n\r\n") {
                break i + 4;
            }
            if !self.fill() {
                return Err(format!(
                    "connection closed before a response head; got {:?}",
                    String::from_utf8_lossy(&self.buffered)
                ));
            }
        };
        let head =
            String::from_utf8(self.buffered[..end].to_vec()).expect("response head is ASCII");
        self.buffered.drain(..end);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
        assert!(
            status_line.starts_with("HTTP/1.1 "),
            "status line {status_line:?}"
        );
        let fields: Vec<(String, String)> = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (n, v) = l.split_once(':').expect("field line has a colon");
                (n.to_string(), v.trim().to_string())
            })
            .collect();
        let length = fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse::<usize>().unwrap());
        let bodyless = head_request || status < 200 || status == 204 || status == 304;
        let body = match length {
            Some(n) if !bodyless => {
                while self.buffered.len() < n {
                    if !self.fill() {
                        return Err(format!(
                            "connection closed after {} of {n} body bytes",
                            self.buffered.len()
                        ));
                    }
                }
                self.buffered.drain(..n).collect()
            }
            _ => Vec::new(),
        };
        Ok(Response {
            status,
            head,
            fields,
            body,
        })
    }

    /// Read until the server closes the connection; returns what arrived.
    pub fn read_to_close(&mut self) -> Vec<u8> {
        while self.fill() {}
        std::mem::take(&mut self.buffered)
    }

    /// Whether the server has closed the connection (after any buffered
    /// responses were read): reads return end of stream or a reset.
    pub fn is_closed_by_server(&mut self) -> bool {
        self.buffered.is_empty() && !self.fill()
    }
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
