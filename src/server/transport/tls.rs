//! TLS over TCP: rustls's `ServerConnection` driven by hand over the
//! socket's readiness.
//!
//! Why not `tokio-rustls`: its stream is `AsyncRead + AsyncWrite`, shaped
//! for poll functions and a waker, while [`Transport`] is readiness-shaped
//! (`try_read` into the connection's own buffer, then a wait). Driving the
//! `ServerConnection` directly keeps one buffer per direction inside rustls
//! and the connection's own `BytesMut` for plaintext, with no adapter layer
//! and no waker juggling: plaintext is copied once from rustls's buffer into
//! the connection's, as `tokio-rustls` would copy it too.
//!
//! Writes are encrypted at once into rustls's outgoing buffer and flushed
//! as far as the socket takes them; what is left (a full socket buffer) is
//! flushed first by the next write, and by every wait: a keep-alive
//! connection waiting for its next request, a parked one, or a shutdown
//! never leaves a response's tail behind in user space.
//!
//! The handshake ([`handshake`]) runs before the driver starts, under a
//! deadline the caller sets (the header timeout), like the PROXY preamble.

use super::{Accepted, Transport};
use bytes::{Buf, BytesMut};
use rustls::ServerConnection;
use std::fs::File;
use std::future::Future;
use std::io::{self, BufRead, Read, Write};
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::Interest;
use tokio::net::TcpStream;

/// Plaintext accepted per write: four full records, so a file copied
/// through [`Transport::try_send_file`] leaves in bounded, record-sized
/// pieces and rustls's outgoing buffer never grows past a few records.
const MAX_PLAINTEXT_PER_WRITE: usize = 4 * 16 * 1024;

thread_local! {
    /// The file bytes a worker thread is encrypting: one buffer per thread,
    /// not per connection, as a connection holds none across a wait.
    static FILE_CHUNK: std::cell::RefCell<Vec<u8>> =
        std::cell::RefCell::new(vec![0; MAX_PLAINTEXT_PER_WRITE]);
}

/// A TLS connection after its handshake.
pub struct TlsTransport {
    stream: TcpStream,
    session: ServerConnection,
    /// The peer's end of stream (TCP FIN or `close_notify`) was read.
    peer_closed: bool,
    /// Queued ciphertext is held for the next write (`more`).
    held: bool,
}

impl std::fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsTransport")
            .field("stream", &self.stream)
            .field("peer_closed", &self.peer_closed)
            .finish_non_exhaustive()
    }
}

/// Why a handshake did not complete.
#[derive(Debug)]
pub enum HandshakeError {
    /// The peer's bytes are not TLS, or TLS we refuse (no shared version,
    /// cipher or application protocol): an alert was sent if one could be.
    Refused(rustls::Error),
    /// The connection closed or failed underneath.
    Io(io::Error),
    /// The client spoke plain HTTP: it was answered with a 400 that says
    /// so, and closed.
    PlainHttp,
}

impl std::fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HandshakeError::Refused(e) => write!(f, "TLS handshake refused: {e}"),
            HandshakeError::Io(e) => write!(f, "TLS handshake failed: {e}"),
            HandshakeError::PlainHttp => f.write_str("plain HTTP sent to the HTTPS port"),
        }
    }
}

/// Run the server side of a TLS handshake on `accepted` (plain TCP; its
/// pre-read bytes, the tail of a PROXY header, are the first handshake
/// bytes). No deadline here: the caller wraps it in one. On success the
/// connection carries its peer and client on, with nothing pre-read: the
/// plaintext that came with the client's last flight stays in rustls and is
/// the driver's first read.
pub async fn handshake(
    accepted: Accepted<super::PlainTcp>,
    config: Arc<rustls::ServerConfig>,
) -> Result<Accepted<TlsTransport>, HandshakeError> {
    let stream = accepted.transport.into_stream();
    let first = match accepted.preread.first() {
        Some(&byte) => byte,
        None => peek_first_byte(&stream).await.map_err(HandshakeError::Io)?,
    };
    // A TLS record starts with its content type (22 for a handshake); a
    // request line starts with a method's letters. A person who typed
    // http:// gets a reason, not an alert their client cannot show.
    if first.is_ascii_uppercase() {
        refuse_plain_http(&stream).await;
        return Err(HandshakeError::PlainHttp);
    }
    let session = ServerConnection::new(config).map_err(HandshakeError::Refused)?;
    let mut tls = TlsTransport {
        stream,
        session,
        peer_closed: false,
        held: false,
    };
    let mut preread = accepted.preread;
    while preread.has_remaining() {
        let mut chunk = &preread[..];
        let taken = tls
            .session
            .read_tls(&mut chunk)
            .map_err(HandshakeError::Io)?;
        preread.advance(taken);
        tls.process().map_err(HandshakeError::Refused)?;
    }
    while tls.session.is_handshaking() {
        tls.flush_all().await.map_err(HandshakeError::Io)?;
        if !tls.session.is_handshaking() {
            break;
        }
        match tls.read_records() {
            Ok(0) => return Err(HandshakeError::Io(io::ErrorKind::UnexpectedEof.into())),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                tls.stream.readable().await.map_err(HandshakeError::Io)?;
            }
            Err(e) => {
                return Err(match e.into_inner() {
                    Some(inner) => match inner.downcast::<rustls::Error>() {
                        Ok(tls_error) => HandshakeError::Refused(*tls_error),
                        Err(other) => HandshakeError::Io(io::Error::other(other)),
                    },
                    None => HandshakeError::Io(io::ErrorKind::InvalidData.into()),
                })
            }
        }
    }
    // The server's last flight (TLS 1.2 Finished, TLS 1.3 tickets).
    tls.flush_all().await.map_err(HandshakeError::Io)?;
    Ok(Accepted {
        transport: tls,
        peer: accepted.peer,
        client: accepted.client,
        preread: BytesMut::new(),
    })
}

/// The answer to plain HTTP on the HTTPS port (as nginx's 497, but a
/// standard status): the server cannot know the target's host to redirect.
const PLAIN_HTTP_RESPONSE: &[u8] = b"HTTP/1.1 400 Bad Request\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Length: 49\r\n\
Connection: close\r\n\
\r\n\
This port speaks HTTPS: use https:// to reach it\n";

/// The first byte the client sent, left in the socket.
async fn peek_first_byte(stream: &TcpStream) -> io::Result<u8> {
    let mut byte = [0u8; 1];
    loop {
        stream.readable().await?;
        let peeked = stream.try_io(Interest::READABLE, || {
            rustix::net::recv(stream, &mut byte, rustix::net::RecvFlags::PEEK)
                .map(|(read, _)| read)
                .map_err(io::Error::from)
        });
        match peeked {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(_) => return Ok(byte[0]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Answer plain HTTP with [`PLAIN_HTTP_RESPONSE`] and end our side. What
/// the client already sent is read first (a request head, at most 16 KiB),
/// so that closing with unread bytes does not make the kernel reset the
/// connection and destroy the answer.
async fn refuse_plain_http(stream: &TcpStream) {
    let mut discard = vec![0u8; 16 * 1024];
    let _ = rustix::net::recv(stream, &mut discard, rustix::net::RecvFlags::DONTWAIT);
    let mut rest = PLAIN_HTTP_RESPONSE;
    while !rest.is_empty() {
        if stream.writable().await.is_err() {
            return;
        }
        match stream.try_io(Interest::WRITABLE, || {
            rustix::net::send(stream, rest, rustix::net::SendFlags::NOSIGNAL)
                .map_err(io::Error::from)
        }) {
            Ok(sent) => rest = &rest[sent..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => return,
        }
    }
    let _ = rustix::net::shutdown(stream, rustix::net::Shutdown::Write);
}

impl TlsTransport {
    /// The session, for what the transport does not cover (the SNI name,
    /// the protocol version, ALPN).
    pub fn session(&self) -> &ServerConnection {
        &self.session
    }

    /// Decrypt what `read_tls` buffered. On a protocol error the alert
    /// rustls queued is sent if the socket takes it now: the peer learns why,
    /// and the connection is closed either way.
    fn process(&mut self) -> Result<(), rustls::Error> {
        match self.session.process_new_packets() {
            Ok(state) => {
                if state.peer_has_closed() {
                    self.peer_closed = true;
                }
                Ok(())
            }
            Err(e) => {
                let _ = self.flush();
                Err(e)
            }
        }
    }

    /// One read of ciphertext from the socket into rustls, then decrypted:
    /// the bytes read (0 at the peer's FIN), or `WouldBlock`. A TLS error
    /// comes back as `InvalidData` wrapping the `rustls::Error`.
    fn read_records(&mut self) -> io::Result<usize> {
        let stream = &self.stream;
        let session = &mut self.session;
        // As in `PlainTcp::try_read`: a read shorter than asked emptied
        // the socket, so it also consumes the read readiness, and the next
        // read after a response waits for an event instead of costing a
        // `recvfrom` that can only fail with `EAGAIN`.
        let mut read = 0;
        let outcome = stream.try_io(Interest::READABLE, || {
            let mut reader = SocketReader { stream, asked: 0 };
            read = session.read_tls(&mut reader)?;
            if 0 < read && read < reader.asked {
                Err(io::ErrorKind::WouldBlock.into())
            } else {
                Ok(read)
            }
        });
        let read = match outcome {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && read > 0 => read,
            other => other?,
        };
        if read == 0 {
            self.peer_closed = true;
            return Ok(0);
        }
        self.process()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        Ok(read)
    }

    /// Write queued ciphertext until the socket is full or none is left:
    /// `Ok(true)` when all of it left.
    fn flush(&mut self) -> io::Result<bool> {
        let stream = &self.stream;
        while self.session.wants_write() {
            let written = stream.try_io(Interest::WRITABLE, || {
                self.session.write_tls(&mut SocketWriter(stream))
            });
            match written {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Write all queued ciphertext, waiting for the socket as needed (no
    /// deadline: the caller's applies).
    async fn flush_all(&mut self) -> io::Result<()> {
        while !self.flush()? {
            self.stream.writable().await?;
        }
        Ok(())
    }

    /// Whether a read would return at once: plaintext or an end is waiting.
    fn has_buffered_input(&mut self) -> bool {
        // Plaintext, or a clean end (an empty chunk), or an unclean one
        // (an error): a read answers at once. Only `WouldBlock` means wait.
        self.peer_closed
            || !matches!(
                self.session.reader().fill_buf(),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock
            )
    }

    /// Move decrypted bytes into `buf`'s spare capacity: the count, or
    /// `None` when rustls holds none. A peer that ended without
    /// `close_notify` (a truncation rustls reports as `UnexpectedEof`) ends
    /// the stream as plainly as one that sent it: HTTP framing, not TLS,
    /// says whether a message was complete.
    fn take_plaintext(&mut self, buf: &mut BytesMut) -> io::Result<Option<usize>> {
        let spare = buf.capacity() - buf.len();
        let mut reader = self.session.reader();
        match reader.fill_buf() {
            Ok([]) => Ok(Some(0)),
            Ok(plaintext) => {
                let taken = plaintext.len().min(spare.max(1));
                buf.extend_from_slice(&plaintext[..taken]);
                reader.consume(taken);
                Ok(Some(taken))
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(Some(0)),
            Err(e) => Err(e),
        }
    }
}

impl Transport for TlsTransport {
    fn try_read(&mut self, buf: &mut BytesMut) -> io::Result<usize> {
        loop {
            if let Some(taken) = self.take_plaintext(buf)? {
                return Ok(taken);
            }
            if self.peer_closed {
                // A FIN without `close_notify`: rustls still waits for
                // records that will never come.
                return Ok(0);
            }
            // Records in, then plaintext out; a record split across
            // segments takes more than one read. rustls's incoming buffer
            // is bounded, so this loop ends at `WouldBlock` at the latest.
            if self.read_records()? == 0 {
                return Ok(0);
            }
            // Whatever processing queued (a key update's answer) goes out
            // with the next write or wait; try now, it costs nothing when
            // nothing is queued.
            if self.session.wants_write() {
                self.flush()?;
            }
        }
    }

    async fn readable(&mut self) -> io::Result<()> {
        self.flush_all().await?;
        if self.has_buffered_input() {
            return Ok(());
        }
        self.stream.readable().await
    }

    fn poll_readable(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // A parked connection's last response may still be on its way out.
        while self.session.wants_write() {
            match self.flush() {
                Ok(true) => break,
                Ok(false) => match self.stream.poll_write_ready(cx) {
                    Poll::Ready(Ok(())) => continue,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                },
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        if self.has_buffered_input() {
            return Poll::Ready(Ok(()));
        }
        self.stream.poll_read_ready(cx)
    }

    /// Plaintext is encrypted at once. With `more`, its ciphertext is held
    /// until the next write has been encrypted too, so that a head and the
    /// first file bytes behind it leave in one `sendmsg`.
    fn try_write(&mut self, bytes: &[u8], more: bool) -> io::Result<usize> {
        // Ciphertext queued before goes first; while some of it waits for
        // the socket, nothing new is accepted, which bounds what rustls
        // holds to one write's worth.
        if self.session.wants_write() && !self.held && !self.flush()? {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.held = false;
        let wanted = bytes.len().min(MAX_PLAINTEXT_PER_WRITE);
        let accepted = self.session.writer().write(&bytes[..wanted])?;
        if accepted == 0 && wanted > 0 {
            // rustls's outgoing buffer is full: the socket must take some.
            self.flush()?;
            return Err(io::ErrorKind::WouldBlock.into());
        }
        if more {
            self.held = true;
        } else {
            // What the socket does not take now leaves with the next write
            // or wait.
            self.flush()?;
        }
        Ok(accepted)
    }

    fn writable(&mut self) -> impl Future<Output = io::Result<()>> + Send {
        self.stream.writable()
    }

    /// File bytes are read into a per-thread buffer and encrypted four
    /// records at a time: the provided method's 16 KiB stack chunk would
    /// make a `pread`, an encryption call and a `sendmsg` per record.
    /// Nothing is read while earlier ciphertext still waits for the socket,
    /// so what rustls holds stays bounded by one call's worth.
    fn try_send_file(&mut self, file: &File, offset: &mut u64, count: usize) -> io::Result<usize> {
        if self.session.wants_write() && !self.held && !self.flush()? {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        FILE_CHUNK.with(|chunk| {
            let mut chunk = chunk.borrow_mut();
            let wanted = count.min(chunk.len());
            let read = file.read_at(&mut chunk[..wanted], *offset)?;
            if read == 0 {
                return Ok(0);
            }
            // What rustls does not take is read again next time.
            let written = self.try_write(&chunk[..read], false)?;
            *offset += written as u64;
            Ok(written)
        })
    }

    /// An idle connection closed by its deadline or by shutdown: the
    /// client learns it was a clean end (RFC 8446 §6.1), if the socket
    /// takes the alert now.
    fn close_now(&mut self) {
        self.session.send_close_notify();
        let _ = self.flush();
    }

    /// `close_notify`, then the TCP FIN: the peer can tell a complete
    /// response stream from a truncated one.
    async fn shutdown_write(&mut self) -> io::Result<()> {
        self.session.send_close_notify();
        self.flush_all().await?;
        rustix::net::shutdown(&self.stream, rustix::net::Shutdown::Write).map_err(io::Error::from)
    }
}

/// The socket as `Read` for `read_tls`: one non-blocking `recv`, noting
/// how much was asked.
struct SocketReader<'a> {
    stream: &'a TcpStream,
    asked: usize,
}

impl Read for SocketReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.asked += buf.len();
        rustix::net::recv(self.stream, buf, rustix::net::RecvFlags::empty())
            .map(|(read, _)| read)
            .map_err(io::Error::from)
    }
}

/// The socket as `Write` for `write_tls`: one non-blocking `send`, never a
/// SIGPIPE.
struct SocketWriter<'a>(&'a TcpStream);

impl Write for SocketWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        rustix::net::send(self.0, bytes, rustix::net::SendFlags::NOSIGNAL).map_err(io::Error::from)
    }

    fn write_vectored(&mut self, parts: &[io::IoSlice<'_>]) -> io::Result<usize> {
        rustix::net::sendmsg(
            self.0,
            parts,
            &mut rustix::net::SendAncillaryBuffer::default(),
            rustix::net::SendFlags::NOSIGNAL,
        )
        .map_err(io::Error::from)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
