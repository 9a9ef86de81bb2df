//! The byte stream under a connection, whatever carries it.
//!
//! The driver (`connection`), `transmit` and `parking` speak to a
//! [`Transport`], never to a socket: plain TCP ([`PlainTcp`]) or TLS over
//! it ([`TlsTransport`]). The trait is shaped after readiness, as
//! tokio's sockets are, so a response that fits the socket leaves in one
//! system call with no timer set, and time stays with the caller: the
//! driver and `transmit` own every deadline.
//!
//! - Reading goes into the connection's own buffer ([`Transport::try_read`],
//!   [`Transport::readable`]); a transport that must read ahead of the
//!   plaintext (TLS records) keeps that state inside itself.
//! - Writing takes bytes, with a hint that more follow at once (TCP's
//!   `MSG_MORE`; others may ignore it).
//! - Zero-copy file sending is an optional capability: the provided
//!   [`Transport::try_send_file`] copies file bytes through
//!   [`Transport::try_write`]; [`PlainTcp`] overrides it with `sendfile`.
//!   `transmit` calls the one method either way and never asks which.
//! - Parking works for any transport: a parked connection is its
//!   transport, session state and all, and [`Transport::poll_readable`]
//!   says when it has something to read, so a TLS transport holding
//!   decrypted bytes comes back at once.
//!
//! Generic parameters, not trait objects: each transport gets its own
//! driver, and the plain-TCP path costs what it did before the seam.
//! A transport may also have read bytes before HTTP starts (a PROXY
//! header's tail, bytes that arrived with a handshake's last flight): they
//! travel with it in [`Accepted`] and are served first. The PROXY
//! preamble (`proxy.rs`) is such a step: it reads the header from any
//! transport and hands the connection on with its client's address.

pub mod proxy;
mod tcp;
pub mod tls;

pub use tcp::PlainTcp;
pub use tls::TlsTransport;

use bytes::BytesMut;
use std::fs::File;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::FileExt;
use std::task::{Context, Poll};

/// Bytes read from a file per call when a transport copies file bytes
/// instead of sending them without a copy: small enough for the stack.
const COPY_CHUNK_BYTES: usize = 16 * 1024;

/// A connection's byte stream: plain TCP, TLS, or anything that can read
/// into a buffer, write bytes and report readiness.
///
/// The `try_` methods never wait: they return `WouldBlock` when nothing can
/// be done now, and the matching wait ([`Transport::readable`],
/// [`Transport::writable`]) resolves once it may be.
pub trait Transport: Send + 'static {
    /// Read into `buf`'s spare capacity whatever is available now: the
    /// count (0 at end of stream), or `WouldBlock` when nothing is there.
    fn try_read(&mut self, buf: &mut BytesMut) -> io::Result<usize>;

    /// Wait until [`Transport::try_read`] may make progress: bytes, the end
    /// of the stream, or an error.
    fn readable(&mut self) -> impl Future<Output = io::Result<()>> + Send;

    /// [`Transport::readable`] for code outside any task: `Ready` if a read
    /// may make progress now, else `Pending`, with `cx`'s waker woken when
    /// it may. What a parked connection waits on.
    fn poll_readable(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// Write from `bytes` what fits now: the count, or `WouldBlock`. With
    /// `more`, more bytes follow at once, so a transport may hold these
    /// back to send them together.
    fn try_write(&mut self, bytes: &[u8], more: bool) -> io::Result<usize>;

    /// Wait until [`Transport::try_write`] may make progress.
    fn writable(&mut self) -> impl Future<Output = io::Result<()>> + Send;

    /// Send up to `count` bytes of `file` from `*offset`, advancing it by
    /// what was sent: the count (0 when the file ends), or `WouldBlock`.
    ///
    /// The provided method reads the bytes and writes them with
    /// [`Transport::try_write`]; a transport that can send a file without
    /// copying it through memory (plain TCP's `sendfile`) overrides it.
    fn try_send_file(&mut self, file: &File, offset: &mut u64, count: usize) -> io::Result<usize> {
        let mut chunk = [0u8; COPY_CHUNK_BYTES];
        let wanted = count.min(chunk.len());
        let read = file.read_at(&mut chunk[..wanted], *offset)?;
        if read == 0 {
            return Ok(0);
        }
        // What did not fit is read again next time: a copy is cheaper than
        // a second buffer held across waits.
        let written = self.try_write(&chunk[..read], false)?;
        *offset += written as u64;
        Ok(written)
    }

    /// End our sending side (TCP's FIN; TLS sends `close_notify` first),
    /// sending whatever `more` held back. Reading still works.
    fn shutdown_write(&mut self) -> impl Future<Output = io::Result<()>> + Send;

    /// About to be dropped outside any task (an idle connection closed by
    /// its deadline or by shutdown): say goodbye if it costs no wait. The
    /// provided method does nothing (the socket's close sends the FIN);
    /// TLS sends `close_notify` if the socket takes it now.
    fn close_now(&mut self) {}
}

/// A connection as the listener hands it to the driver: its transport,
/// its peer, whom it speaks for, and the bytes already read from it before
/// HTTP starts.
pub struct Accepted<T> {
    pub transport: T,
    /// The socket's peer (a load balancer, behind one).
    pub peer: SocketAddr,
    /// The client the connection is from: a PROXY header's source address,
    /// or else `peer`. What the access log names, unless a request's
    /// forwarded field names someone else (see `client_address`).
    pub client: SocketAddr,
    /// Read before the first request (empty for plain TCP): the driver
    /// parses them before it reads the transport.
    pub preread: BytesMut,
}

/// Read into `buf`'s spare capacity, waiting (without a deadline: the
/// caller sets one) until something arrives.
pub async fn read<T: Transport>(transport: &mut T, buf: &mut BytesMut) -> io::Result<usize> {
    loop {
        match transport.try_read(buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => transport.readable().await?,
            other => return other,
        }
    }
}

#[cfg(test)]
pub mod test_transport;
