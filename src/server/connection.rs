//! The connection driver: read a head → maybe `100 Continue` → route → read
//! the body if the route wants it → write the response → keep or close, and
//! again, with bytes of pipelined requests kept in the buffer between rounds.
//!
//! Framing and persistence are decided by `proto`; what answers is decided by
//! `service`; bytes move through a [`Transport`]; this file owns only the
//! order of events and the clocks.

use super::access_log::{AccessLog, LogRecord, RequestLine};
use super::client_address::ClientAddress;
use super::clock;
use super::failed_logins::log_failed_login;
use super::metrics::WorkerMetrics;
use super::password_checks::check_off_worker;
use super::shutdown::ShutdownSignal;
use super::transmit::{coalesced_len, send_response};
use super::transport::{self, Accepted, Transport};
use crate::config::Config;
use crate::proto::framing::{expectation, Expectation};
use crate::proto::persistence::{
    announced_persistence, settled_persistence, unread_body, Admission, Exchange, RequestBody,
};
use crate::proto::response::{
    encode_continue, encode_response_head, response_head_len_bound, status_allows_body,
};
use crate::proto::{
    self, request_framing, wants_keep_alive, BodyDecoder, BodyEvent, BodyFraming, HeadBuffers,
    Method, Persistence, RequestHead, Version,
};
use crate::service::{Body, Response, Routed, Router};
use bytes::{Buf, BytesMut};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{timeout, timeout_at, Instant};

/// Bytes asked of the socket per read.
const READ_CHUNK_BYTES: usize = 8 * 1024;

/// Bytes asked of the socket for the first read of a request, when the
/// connection starts or comes back from parking.
const FIRST_READ_BYTES: usize = 1024;

/// How long a connection waits for its next request as a task, with its
/// buffers kept; after that it is parked outside any task (see `parking`)
/// until bytes arrive.
const PARK_AFTER: Duration = Duration::from_millis(20);

/// The most bytes of an unwanted request body that are read and thrown away
/// to keep the connection open; a larger one closes the connection instead.
const MAX_DRAIN_BYTES: u64 = 256 * 1024;

/// While lingering (see `Connection::linger`), how long the client may send
/// nothing before the connection closes: a client that read its response
/// and keeps the connection open has nothing left to lose to a reset.
const LINGER_STALL: Duration = Duration::from_secs(2);

/// Bytes asked of the socket per read while lingering: a refused upload of
/// megabytes is discarded in a few hundred reads, not a thousand.
const LINGER_READ_BYTES: usize = 64 * 1024;

/// What every connection of one listener on one worker shares.
pub struct ConnectionContext {
    pub config: Arc<Config>,
    /// What this connection's listener serves.
    pub service: Arc<Router>,
    /// Where its responses are logged; `None`: not logged (the admin
    /// listener, by default).
    pub log: Option<AccessLog>,
    /// The worker's counters, written only from its thread; `None`: not
    /// counted (the admin listener).
    pub metrics: Option<Arc<WorkerMetrics>>,
}

/// How waiting for a head (or a body) ended, when it did not end in bytes.
enum ReadFailure {
    Protocol(proto::Error),
    TimedOut,
    /// The peer closed or reset the connection; nobody is left to answer.
    Gone,
}

/// How waiting for the next request ended.
enum Arrival {
    Bytes,
    Gone,
    /// Still idle after [`PARK_AFTER`]; closes at this deadline unless
    /// bytes arrive.
    Idle(Instant),
}

/// A connection that went idle: to be parked, and served again by a new
/// task when its client sends bytes.
pub struct IdleConnection<T> {
    pub transport: T,
    /// When the idle timeout closes it.
    pub deadline: Instant,
}

/// Serve one connection until it closes, or until it has been idle long
/// enough to be parked: then it is handed back. The bytes `accepted` holds
/// already read are parsed before anything is read from its transport.
pub async fn serve_connection<T: Transport>(
    accepted: Accepted<T>,
    context: Arc<ConnectionContext>,
    shutdown: ShutdownSignal,
) -> Option<IdleConnection<T>> {
    let mut connection = Connection {
        transport: accepted.transport,
        peer: accepted.peer,
        client: accepted.client,
        context,
        shutdown,
        input: accepted.preread,
        output: Vec::new(),
        head_buffers: HeadBuffers::default(),
    };
    let deadline = connection.run().await?;
    Some(IdleConnection {
        transport: connection.transport,
        deadline,
    })
}

struct Connection<T> {
    transport: T,
    /// The socket's peer.
    peer: SocketAddr,
    /// Whom the connection speaks for: a PROXY header's source, or `peer`.
    client: SocketAddr,
    context: Arc<ConnectionContext>,
    shutdown: ShutdownSignal,
    /// Received bytes not yet parsed: the rest of a head, body bytes, or
    /// pipelined requests.
    input: BytesMut,
    /// The response being encoded; reused between responses.
    output: Vec<u8>,
    /// The last request head's storage, reused for the next one.
    head_buffers: HeadBuffers,
}

impl<T: Transport> Connection<T> {
    /// Serve requests until the connection closes (`None`) or goes idle
    /// (`Some` of its idle deadline).
    async fn run(&mut self) -> Option<Instant> {
        let mut persistence = Persistence::KeepAlive;
        while persistence == Persistence::KeepAlive {
            if self.input.is_empty() {
                match self.await_request().await {
                    Arrival::Bytes => {}
                    Arrival::Gone => return None,
                    Arrival::Idle(deadline) => return Some(deadline),
                }
            }
            // Boxed: the exchange's state (a few KiB across its awaits)
            // exists only while a request is in flight, instead of being
            // part of every connection's task, idle or not.
            persistence = Box::pin(self.exchange()).await;
        }
        if persistence == Persistence::Close {
            // Boxed for the same reason as the exchange.
            Box::pin(self.linger()).await;
        }
        None
    }

    /// Wait for the first bytes of the next request, for at most the idle
    /// timeout; returns `Gone` on idle timeout or close, and `Idle` once it
    /// is time to park the connection.
    ///
    /// Shutdown is checked before each wait but not watched during one: a
    /// waiting connection parks within [`PARK_AFTER`], and parking after
    /// shutdown closes it. Registering with the shutdown signal on every
    /// wait cost about 6% of a keep-alive request's instructions.
    async fn await_request(&mut self) -> Arrival {
        // Set at the first wait: a pipelining or busy client's next request
        // is often there already, and then no clock is read.
        let mut deadlines: Option<(Instant, Instant)> = None;
        loop {
            // An empty buffer that is kept reclaims its space: no allocation.
            // A new one starts small: most request heads fit, and read_head
            // grows it when one does not.
            self.input.reserve(FIRST_READ_BYTES);
            match self.transport.try_read(&mut self.input) {
                Ok(0) => return Arrival::Gone,
                Ok(_) => return Arrival::Bytes,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => return Arrival::Gone,
            }
            // Nothing yet. A client on keep-alive usually sends its next
            // request within moments, so the task and its buffers are kept
            // for a short while (ending and respawning the task per request
            // would cost allocations each time); a connection idle for
            // longer is parked, so it costs little more than its socket.
            let now = Instant::now();
            let (park_at, deadline) = *deadlines
                .get_or_insert_with(|| (now + PARK_AFTER, now + self.context.config.timeouts.idle));
            // Deadline first: a task that runs late (a busy worker, a
            // stopped process, an idle timeout just above PARK_AFTER) may
            // find both passed.
            if now >= deadline || self.shutdown.is_triggered() {
                return Arrival::Gone;
            }
            if now >= park_at {
                return Arrival::Idle(deadline);
            }
            // Readable or timed out, the checks above decide next.
            if let Ok(Err(_)) = timeout_at(park_at.min(deadline), self.transport.readable()).await {
                return Arrival::Gone;
            }
        }
    }

    /// One request and its response.
    async fn exchange(&mut self) -> Persistence {
        let started = Instant::now();
        let header_deadline = started + self.context.config.timeouts.header_read;
        let head = match self.read_head(header_deadline).await {
            Ok(head) => head,
            Err(failure) => return self.fail(failure, None, started).await,
        };
        if let Some(metrics) = &self.context.metrics {
            metrics.start_exchange();
        }
        let persistence = self.answer(&head, started).await;
        if let Some(metrics) = &self.context.metrics {
            metrics.finish_exchange();
        }
        self.head_buffers = head.into_buffers();
        persistence
    }

    /// Answer a parsed head: body, service, response, drain.
    async fn answer(&mut self, head: &RequestHead, started: Instant) -> Persistence {
        let context = Arc::clone(&self.context);
        let timeouts = &context.config.timeouts;
        let limits = &context.config.limits;
        let framing = match request_framing(head, limits) {
            Ok(framing) => framing,
            Err(e) => {
                return self
                    .fail(ReadFailure::Protocol(e), Some(head), started)
                    .await
            }
        };
        // HTTP/1.0's 100-continue is ignored inside `expectation` (RFC 9110
        // §10.1.1), the one place that decides it.
        let expect = expectation(head);
        let mut decoder = BodyDecoder::new(framing, limits);
        let mut body_read = framing == BodyFraming::None;

        let response = if expect == Expectation::Unsupported {
            Response::text(417, "unsupported expectation\n")
        } else {
            let routed = match context.service.route(head) {
                Routed::CheckPassword(check) => {
                    // Waiting for a free core counts against the same
                    // budget as the head: a flood of guesses is answered
                    // 503 rather than held without end.
                    match check_off_worker(check, timeouts.header_read).await {
                        Ok(verdict) => {
                            if let Some(failure) = verdict.failure() {
                                log_failed_login(self.client, head.path(), failure);
                            }
                            context.service.route_checked(head, &verdict)
                        }
                        Err(_) => Routed::Respond(
                            Response::text(503, "Service Unavailable")
                                .with_field("Retry-After", "1"),
                        ),
                    }
                }
                routed => routed,
            };
            match routed {
                Routed::Respond(response) => response,
                // `route_checked` never asks for a second check.
                Routed::CheckPassword(_) => Response::text(500, "Internal Server Error"),
                Routed::ReadBody(handler) => {
                    if expect == Expectation::Continue
                        && framing != BodyFraming::None
                        && self.input.is_empty()
                    {
                        let sent =
                            write_interim_continue(&mut self.transport, timeouts.write).await;
                        if sent.is_err() {
                            return Persistence::CloseNow;
                        }
                    }
                    let mut body = Vec::new();
                    let deadline_stall = timeouts.body_read;
                    match self
                        .consume_body(&mut decoder, Some(&mut body), u64::MAX, deadline_stall)
                        .await
                    {
                        Ok(()) => {
                            body_read = true;
                            context.service.respond_with_body(handler, head, &body)
                        }
                        Err(failure) => return self.fail(failure, Some(head), started).await,
                    }
                }
            }
        };

        let body = if body_read {
            RequestBody::Consumed
        } else {
            self.plan_drain(framing, expect, &mut decoder)
        };
        // Once draining or shutdown begins, a connection answers the
        // requests it has already received (pipelined before the client
        // could know) and no more, so that its client moves to another
        // instance; `announced_persistence` weighs that against the body.
        let admission = if self.shutdown.is_closing() {
            Admission::Closing {
                next_head_received: self.has_received_next_head(),
            }
        } else {
            Admission::Open
        };
        let exchange = Exchange {
            client_keeps_alive: wants_keep_alive(head),
            body,
            admission,
        };
        let persistence = announced_persistence(&exchange);
        let sent = self
            .respond(response, Some(head), persistence, started)
            .await;
        if sent.is_err() {
            return Persistence::CloseNow;
        }
        if persistence == Persistence::KeepAlive && body == RequestBody::Drain {
            let drained = self
                .consume_body(&mut decoder, None, MAX_DRAIN_BYTES, timeouts.body_read)
                .await;
            if drained.is_err() {
                return Persistence::Close;
            }
        }
        settled_persistence(persistence, &exchange, self.input.is_empty())
    }

    /// Whether the next request's head has arrived in full: in the buffer,
    /// or in the kernel's, which is taken in without waiting.
    fn has_received_next_head(&mut self) -> bool {
        let limits = &self.context.config.limits;
        if self.input.len() <= limits.max_head_bytes {
            self.input.reserve(READ_CHUNK_BYTES);
            let _ = self.transport.try_read(&mut self.input);
        }
        matches!(proto::parse_head(&self.input, limits), Ok(Some(_)))
    }

    /// Decide what to do with a body the service did not read.
    fn plan_drain(
        &mut self,
        framing: BodyFraming,
        expect: Expectation,
        decoder: &mut BodyDecoder,
    ) -> RequestBody {
        // Whatever of it is already buffered is thrown away now; if that
        // was all of it, the connection stays usable.
        loop {
            match decoder.decode(&self.input) {
                Ok((BodyEvent::Data(_), used)) => self.input.advance(used),
                Ok((BodyEvent::End, used)) => {
                    self.input.advance(used);
                    return RequestBody::Consumed;
                }
                Ok((BodyEvent::NeedMore, used)) => {
                    self.input.advance(used);
                    break;
                }
                Err(_) => return RequestBody::Abandoned,
            }
        }
        unread_body(framing, expect, MAX_DRAIN_BYTES)
    }

    /// Read until a complete head is buffered, or the deadline passes.
    async fn read_head(&mut self, deadline: Instant) -> Result<RequestHead, ReadFailure> {
        let limits = &self.context.config.limits;
        let mut scanned = 0;
        loop {
            if should_parse(&self.input, scanned, limits) {
                match proto::parse_head_reusing(&self.input, limits, &mut self.head_buffers) {
                    Ok(Some((head, used))) => {
                        self.input.advance(used);
                        return Ok(head);
                    }
                    Ok(None) => {}
                    Err(e) => return Err(ReadFailure::Protocol(e)),
                }
            }
            scanned = self.input.len();
            self.input.reserve(READ_CHUNK_BYTES);
            match timeout_at(
                deadline,
                transport::read(&mut self.transport, &mut self.input),
            )
            .await
            {
                Err(_) => return Err(ReadFailure::TimedOut),
                Ok(Ok(0)) | Ok(Err(_)) => return Err(ReadFailure::Gone),
                Ok(Ok(_)) => {}
            }
        }
    }

    /// Feed buffered and then received bytes to `decoder` until the body
    /// ends, appending data to `sink` if given. At most `max_bytes` are read
    /// from the socket; each read may take at most `stall`.
    async fn consume_body(
        &mut self,
        decoder: &mut BodyDecoder,
        mut sink: Option<&mut Vec<u8>>,
        max_bytes: u64,
        stall: Duration,
    ) -> Result<(), ReadFailure> {
        let mut received: u64 = 0;
        loop {
            match decoder.decode(&self.input).map_err(ReadFailure::Protocol)? {
                (BodyEvent::Data(range), used) => {
                    if let Some(sink) = sink.as_deref_mut() {
                        sink.extend_from_slice(&self.input[range]);
                    }
                    self.input.advance(used);
                    continue;
                }
                (BodyEvent::End, used) => {
                    self.input.advance(used);
                    return Ok(());
                }
                (BodyEvent::NeedMore, used) => self.input.advance(used),
            }
            if received >= max_bytes {
                return Err(ReadFailure::Gone);
            }
            self.input.reserve(READ_CHUNK_BYTES);
            match timeout(stall, transport::read(&mut self.transport, &mut self.input)).await {
                Err(_) => return Err(ReadFailure::TimedOut),
                Ok(Ok(0)) | Ok(Err(_)) => return Err(ReadFailure::Gone),
                Ok(Ok(n)) => received += n as u64,
            }
        }
    }

    /// Answer a request that failed before the service saw it, then close.
    async fn fail(
        &mut self,
        failure: ReadFailure,
        head: Option<&RequestHead>,
        started: Instant,
    ) -> Persistence {
        let response = match failure {
            ReadFailure::Protocol(e) => Response::text(e.status(), e.message()),
            ReadFailure::TimedOut => Response::text(408, "request timeout"),
            ReadFailure::Gone => return Persistence::Close,
        };
        match self
            .respond(response, head, Persistence::Close, started)
            .await
        {
            Ok(()) => Persistence::Close,
            Err(_) => Persistence::CloseNow,
        }
    }

    /// Encode and send `response`, then log it.
    async fn respond(
        &mut self,
        response: Response,
        head: Option<&RequestHead>,
        persistence: Persistence,
        started: Instant,
    ) -> io::Result<()> {
        let is_head_request = head.is_some_and(|h| h.method() == Method::Head);
        let status = response.status;
        let send_body = status_allows_body(status) && !is_head_request;
        self.output.clear();
        // Sized once for the head and a body copied behind it.
        self.output.reserve(
            response_head_len_bound(response.field_lines())
                + coalesced_len(&response.body, send_body),
        );
        encode_response_head(
            status,
            response.field_lines(),
            &clock::http_date_now(),
            response.body.len(),
            persistence == Persistence::KeepAlive,
            &mut self.output,
        );
        let head_bytes = self.output.len() as u64;
        let transmitted = send_response(
            &mut self.transport,
            &mut self.output,
            response.body,
            send_body,
            self.context.config.timeouts.write,
            persistence != Persistence::KeepAlive,
        )
        .await;
        let duration = started.elapsed();
        if let Some(metrics) = &self.context.metrics {
            let method = head.map(RequestHead::method);
            metrics.count_response(method, status, duration, transmitted.bytes_sent);
        }
        if let Some(log) = &self.context.log {
            let policy = &self.context.config.client_address;
            let client = match head {
                Some(head) => policy.request_client(self.client, head),
                None => ClientAddress::from(self.client),
            };
            log.record(&LogRecord {
                time: clock::log_time_now(),
                peer: self.peer,
                client,
                request: head.map(|h| request_line(h, log.format().wants_fields())),
                status,
                duration,
                // What left beyond the head (CLF's `%b`): the whole head
                // leaves before any of the body.
                body_bytes: transmitted.bytes_sent.saturating_sub(head_bytes),
            });
        }
        transmitted.result
    }

    /// Close politely (RFC 9112 §9.6): send FIN (a no-op if the last
    /// response already did), then read and discard what the client is
    /// still sending, so that unread bytes do not make the kernel reset the
    /// connection and destroy our last response before the client reads it.
    /// Clients that write a whole refused upload before reading (Node's
    /// `fetch`, Go, Python's urllib) need this. It ends when the client
    /// closes, stalls for [`LINGER_STALL`], or reaches the configured time
    /// or byte bound, so no client holds its slot by sending forever.
    async fn linger(&mut self) {
        let _ = timeout(Duration::from_millis(500), self.transport.shutdown_write()).await;
        let config = &self.context.config;
        let deadline = Instant::now() + config.timeouts.linger;
        let max_bytes = config.max_linger_bytes;
        let mut discarded: u64 = 0;
        // Read into the input buffer rather than a scratch array on the
        // stack: an array held across this await would be part of every
        // connection's task, idle or not.
        while discarded < max_bytes {
            self.input.clear();
            self.input.reserve(LINGER_READ_BYTES);
            let stall_deadline = deadline.min(Instant::now() + LINGER_STALL);
            let read = transport::read(&mut self.transport, &mut self.input);
            match timeout_at(stall_deadline, read).await {
                Ok(Ok(n)) if n > 0 => discarded += n as u64,
                _ => break,
            }
        }
    }
}

/// Whether the bytes received since the last parse could change its answer:
/// a line ended (or a CR arrived, which may be a bare one), a size limit was
/// crossed, or the method is still being checked byte by byte. Re-parsing
/// only then keeps a client that sends one byte at a time from costing time
/// quadratic in the head size.
fn should_parse(input: &[u8], scanned: usize, limits: &proto::Limits) -> bool {
    const EARLY_BYTES: usize = 32;
    let fresh = &input[scanned.min(input.len())..];
    let crossed = |limit: usize| scanned <= limit && input.len() > limit;
    scanned == 0
        || input.len() <= EARLY_BYTES
        || memchr::memchr2(b'\n', b'\r', fresh).is_some()
        || crossed(limits.max_request_line_bytes)
        || crossed(limits.max_head_bytes)
}

async fn write_interim_continue<T: Transport>(
    transport: &mut T,
    stall: Duration,
) -> io::Result<()> {
    let mut out = Vec::with_capacity(32);
    encode_continue(&mut out);
    send_response(transport, &mut out, Body::Empty, false, stall, false)
        .await
        .result
}

/// What the access log shows of `head`; the host, referer and user agent
/// are looked up only if the format shows them (`with_fields`).
fn request_line(head: &RequestHead, with_fields: bool) -> RequestLine<'_> {
    let mut line = RequestLine::new(head.method_bytes(), head.target());
    line.protocol = match head.version() {
        Version::Http10 => b"HTTP/1.0",
        Version::Http11 => b"HTTP/1.1",
    };
    if with_fields {
        line.host = head.field("host");
        line.referer = head.field("referer");
        line.user_agent = head.field("user-agent");
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::access_log::{LogFormat, LogWriter};
    use crate::server::shutdown::shutdown_channel;
    use crate::server::transport::test_transport::UnixTransport;
    use crate::server::transport::PlainTcp;
    use crate::service::static_files::StaticFiles;
    use std::io::{Read, Write};

    const FILE_BYTES: usize = 100_000;

    /// A driver's context over a temporary root holding `small.txt` and
    /// `large.bin` (too large to be copied behind the head), with the
    /// access log going to the returned buffer once its writer finishes.
    fn context() -> (
        tempfile::TempDir,
        Arc<ConnectionContext>,
        LogSink,
        LogWriter,
    ) {
        context_with(LogFormat::Default)
    }

    fn context_with(
        format: LogFormat,
    ) -> (
        tempfile::TempDir,
        Arc<ConnectionContext>,
        LogSink,
        LogWriter,
    ) {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("small.txt"), "hello\n").unwrap();
        std::fs::write(root.path().join("large.bin"), large_body()).unwrap();
        let root_path = root.path().canonicalize().unwrap();
        let config = Config::new("127.0.0.1:0".parse().unwrap(), root_path.clone());
        let files = StaticFiles::new(root_path, config.static_files.clone()).unwrap();
        let sink = LogSink::default();
        let (log, writer) = AccessLog::start_with(Box::new(sink.clone()), format);
        let context = ConnectionContext {
            config: Arc::new(config),
            service: Arc::new(
                Router::new()
                    .with_route(Method::Post, "/echo", crate::service::echo::echo)
                    .with_static_files(files),
            ),
            log: Some(log),
            metrics: None,
        };
        (root, Arc::new(context), sink, writer)
    }

    fn large_body() -> Vec<u8> {
        (0..FILE_BYTES).map(|i| (i % 251) as u8).collect()
    }

    #[derive(Clone, Default)]
    struct LogSink(Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for LogSink {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// Read one response (framed by Content-Length): its head and body.
    fn read_response(client: &mut impl Read, buffered: &mut Vec<u8>) -> (String, Vec<u8>) {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some(end) = buffered.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8(buffered[..end + 4].to_vec()).unwrap();
                let length: usize = head
                    .lines()
                    .find_map(|line| line.strip_prefix("Content-Length: "))
                    .map_or(0, |n| n.parse().unwrap());
                if buffered.len() >= end + 4 + length {
                    let body = buffered[end + 4..end + 4 + length].to_vec();
                    buffered.drain(..end + 4 + length);
                    return (head, body);
                }
            }
            let n = client
                .read(&mut chunk)
                .expect("a response within the deadline");
            assert!(
                n > 0,
                "closed after {:?}",
                String::from_utf8_lossy(buffered)
            );
            buffered.extend_from_slice(&chunk[..n]);
        }
    }

    /// Issue 12: a connection may start with bytes already read (a PROXY
    /// header's tail, bytes that came with a TLS handshake): they are
    /// served first, and a request split between them and the transport is
    /// whole.
    #[test]
    fn bytes_read_before_the_driver_starts_are_served_first() {
        let (_root, context, log, log_writer) = context();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let (server, peer) = listener.accept().unwrap();
        server.set_nonblocking(true).unwrap();
        let preread = b"GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /missing HTTP/1.1\r\nHo";
        let client_thread = std::thread::spawn(move || {
            client
                .write_all(b"st: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut buffered = Vec::new();
            let first = read_response(&mut client, &mut buffered);
            let second = read_response(&mut client, &mut buffered);
            let mut rest = Vec::new();
            client.read_to_end(&mut rest).unwrap();
            (first, second, rest)
        });
        let (_trigger, shutdown) = shutdown_channel();
        runtime().block_on(async {
            let accepted = Accepted {
                transport: PlainTcp::new(tokio::net::TcpStream::from_std(server).unwrap()),
                peer,
                client: peer,
                preread: BytesMut::from(&preread[..]),
            };
            let idle = serve_connection(accepted, context, shutdown).await;
            assert!(idle.is_none(), "the client asked to close");
        });
        let ((first, body), (second, _), rest) = client_thread.join().unwrap();
        assert!(first.starts_with("HTTP/1.1 200 OK\r\n"), "{first}");
        assert_eq!(body, b"hello\n");
        assert!(second.starts_with("HTTP/1.1 404 "), "{second}");
        assert!(second.contains("Connection: close\r\n"), "{second}");
        assert!(rest.is_empty(), "nothing after the last response");
        log_writer.finish();
        let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = log.lines().collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].contains(" - GET /small.txt - 200 - "), "{lines:?}");
        assert!(lines[1].contains(" - GET /missing - 404 - "), "{lines:?}");
    }

    /// The driver knows its transport only by `Transport`: over a Unix
    /// socket, which has no zero-copy file path, a file too large to be
    /// copied behind the head is sent by the provided copy, an uploaded
    /// body is read, and an idle connection is handed back for parking.
    #[test]
    fn the_driver_serves_any_transport() {
        let (_root, context, _log, _log_writer) = context();
        let runtime = runtime();
        // The transport registers with this runtime's reactor.
        let (transport, mut client) = runtime.block_on(async { UnixTransport::pair() });
        let client_thread = std::thread::spawn(move || {
            client
                .write_all(
                    b"GET /large.bin HTTP/1.1\r\nHost: x\r\n\r\n\
                      POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\ntrue",
                )
                .unwrap();
            let mut buffered = Vec::new();
            let file = read_response(&mut client, &mut buffered);
            let echo = read_response(&mut client, &mut buffered);
            // Stay connected and silent: the connection goes idle.
            (file, echo, client)
        });
        let (_trigger, shutdown) = shutdown_channel();
        let idle = runtime.block_on(async {
            let accepted = Accepted {
                transport,
                peer: "127.0.0.1:1".parse().unwrap(),
                client: "127.0.0.1:1".parse().unwrap(),
                preread: BytesMut::new(),
            };
            serve_connection(accepted, context, shutdown).await
        });
        let ((file_head, file_body), (echo_head, echo_body), _client) =
            client_thread.join().unwrap();
        assert!(file_head.starts_with("HTTP/1.1 200 OK\r\n"), "{file_head}");
        assert!(file_body == large_body(), "the file arrived whole");
        assert!(echo_head.starts_with("HTTP/1.1 200 OK\r\n"), "{echo_head}");
        assert!(!echo_body.is_empty());
        assert!(idle.is_some(), "handed back to be parked");
    }

    /// Issue 14.1: the combined line reports the body bytes sent (not the
    /// head), `-` for none, the request line as sent, referer and agent.
    #[test]
    fn the_combined_line_counts_body_bytes_and_names_referer_and_agent() {
        let (_root, context, log, log_writer) = context_with(LogFormat::Combined);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let (server, peer) = listener.accept().unwrap();
        server.set_nonblocking(true).unwrap();
        let client_thread = std::thread::spawn(move || {
            client
                .write_all(
                    b"GET /small.txt HTTP/1.1\r\nHost: x\r\nReferer: http://a/\"q\r\n\
                      User-Agent: t\\1\r\n\r\n\
                      HEAD /small.txt HTTP/1.1\r\nHost: x\r\n\r\n\
                      GET /large.bin HTTP/1.0\r\nHost: x\r\n\r\n",
                )
                .unwrap();
            let mut rest = Vec::new();
            client.read_to_end(&mut rest).unwrap();
            rest
        });
        let (_trigger, shutdown) = shutdown_channel();
        runtime().block_on(async {
            let accepted = Accepted {
                transport: PlainTcp::new(tokio::net::TcpStream::from_std(server).unwrap()),
                peer,
                client: peer,
                preread: BytesMut::new(),
            };
            serve_connection(accepted, context, shutdown).await;
        });
        let received = client_thread.join().unwrap();
        assert!(received.len() > FILE_BYTES, "everything arrived");
        log_writer.finish();
        let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = log.lines().collect();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(
            lines[0].ends_with("] \"GET /small.txt HTTP/1.1\" 200 6 \"http://a/\\\"q\" \"t\\\\1\""),
            "{lines:?}"
        );
        assert!(
            lines[1].ends_with("] \"HEAD /small.txt HTTP/1.1\" 200 - \"-\" \"-\""),
            "{lines:?}"
        );
        assert!(
            lines[2].ends_with(&format!(
                "] \"GET /large.bin HTTP/1.0\" 200 {FILE_BYTES} \"-\" \"-\""
            )),
            "{lines:?}"
        );
    }
}
