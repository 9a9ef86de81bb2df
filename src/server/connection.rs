//! The connection driver: read a head → maybe `100 Continue` → route → read
//! the body if the route wants it → write the response → keep or close, and
//! again, with bytes of pipelined requests kept in the buffer between rounds.
//!
//! Framing and persistence are decided by `proto`; what answers is decided by
//! `service`; this file owns only the order of events, the clocks and the socket.

use super::access_log::{AccessLog, LogRecord};
use super::clock;
use super::shutdown::ShutdownSignal;
use super::transmit::{coalesced_len, send_response};
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
    Method, Persistence, RequestHead,
};
use crate::service::{Body, Response, Routed, Router};
use bytes::{Buf, BytesMut};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::TcpStream;
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

/// Read what the socket holds into `buf`'s spare capacity, without waiting
/// (`WouldBlock` if nothing is there).
///
/// A read that leaves spare capacity unfilled emptied the kernel's queue, so
/// it also consumes the socket's read readiness, as tokio's own `poll_read`
/// does; more bytes, or the peer's FIN (a closed state is never consumed),
/// bring a new epoll event. Without this the next read after a response
/// would be a `recvfrom` that can only fail with `EAGAIN`: one wasted
/// syscall per keep-alive request. The clearing goes through `try_io`, so a
/// readiness event newer than the read is never lost.
fn try_read_available(stream: &TcpStream, buf: &mut BytesMut) -> io::Result<usize> {
    let spare = buf.capacity() - buf.len();
    let mut read = 0;
    let outcome = stream.try_io(Interest::READABLE, || {
        read = stream.try_read_buf(buf)?;
        if 0 < read && read < spare {
            Err(io::ErrorKind::WouldBlock.into())
        } else {
            Ok(read)
        }
    });
    match outcome {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock && read > 0 => Ok(read),
        other => other,
    }
}

/// What every connection shares.
pub struct ConnectionContext {
    pub config: Arc<Config>,
    pub router: Arc<Router>,
    pub log: AccessLog,
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
pub struct IdleConnection {
    pub stream: TcpStream,
    /// When the idle timeout closes it.
    pub deadline: Instant,
}

/// Serve one connection until it closes, or until it has been idle long
/// enough to be parked: then it is handed back.
pub async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    context: Arc<ConnectionContext>,
    shutdown: ShutdownSignal,
) -> Option<IdleConnection> {
    let mut connection = Connection {
        stream,
        peer,
        context,
        shutdown,
        input: BytesMut::new(),
        output: Vec::new(),
        head_buffers: HeadBuffers::default(),
    };
    let deadline = connection.run().await?;
    Some(IdleConnection {
        stream: connection.stream,
        deadline,
    })
}

struct Connection {
    stream: TcpStream,
    peer: SocketAddr,
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

impl Connection {
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
            match try_read_available(&self.stream, &mut self.input) {
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
            if let Ok(Err(_)) = timeout_at(park_at.min(deadline), self.stream.readable()).await {
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
        let persistence = self.answer(&head, started).await;
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
            match context.router.route(head) {
                Routed::Respond(response) => response,
                Routed::ReadBody(handler) => {
                    if expect == Expectation::Continue
                        && framing != BodyFraming::None
                        && self.input.is_empty()
                    {
                        let sent = write_interim_continue(&mut self.stream, timeouts.write).await;
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
                            context.router.respond_with_body(handler, head, &body)
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
        // Once shutdown begins, a connection answers the requests it has
        // already received (pipelined before the client could know) and no
        // more; `announced_persistence` weighs that against the body.
        let admission = if self.shutdown.is_triggered() {
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
            let _ = try_read_available(&self.stream, &mut self.input);
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
            match timeout_at(deadline, self.stream.read_buf(&mut self.input)).await {
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
            match timeout(stall, self.stream.read_buf(&mut self.input)).await {
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
        let transmitted = send_response(
            &mut self.stream,
            &mut self.output,
            response.body,
            send_body,
            self.context.config.timeouts.write,
            persistence != Persistence::KeepAlive,
        )
        .await;
        self.context.log.record(&LogRecord {
            time: clock::log_time_now(),
            peer: self.peer,
            request: head.map(|h| (h.method_bytes(), h.target())),
            status,
            duration: started.elapsed(),
            bytes_sent: transmitted.bytes_sent,
        });
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
        let _ = timeout(Duration::from_millis(500), self.stream.shutdown()).await;
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
            match timeout_at(stall_deadline, self.stream.read_buf(&mut self.input)).await {
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

async fn write_interim_continue(stream: &mut TcpStream, stall: Duration) -> io::Result<()> {
    let mut out = Vec::with_capacity(32);
    encode_continue(&mut out);
    send_response(stream, &mut out, Body::Empty, false, stall, false)
        .await
        .result
}
