//! Plain TCP: tokio's `TcpStream`, with the system calls that only a
//! socket offers: `send` with `MSG_MORE`, `sendfile`, `shutdown`.

use super::Transport;
use bytes::BytesMut;
use std::fs::File;
use std::future::Future;
use std::io;
use std::task::{Context, Poll};
use tokio::io::Interest;
use tokio::net::TcpStream;

/// A plain TCP connection.
#[derive(Debug)]
pub struct PlainTcp {
    stream: TcpStream,
}

impl PlainTcp {
    pub fn new(stream: TcpStream) -> PlainTcp {
        PlainTcp { stream }
    }

    /// The socket, for a transport that layers on it (TLS).
    pub fn into_stream(self) -> TcpStream {
        self.stream
    }

    /// The socket, for what the transport does not cover (socket options).
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }
}

impl Transport for PlainTcp {
    /// A read that leaves spare capacity unfilled emptied the kernel's
    /// queue, so it also consumes the socket's read readiness, as tokio's
    /// own `poll_read` does; more bytes, or the peer's FIN (a closed state
    /// is never consumed), bring a new epoll event. Without this the next
    /// read after a response would be a `recvfrom` that can only fail with
    /// `EAGAIN`: one wasted syscall per keep-alive request. The clearing
    /// goes through `try_io`, so a readiness event newer than the read is
    /// never lost.
    #[inline]
    fn try_read(&mut self, buf: &mut BytesMut) -> io::Result<usize> {
        let stream = &self.stream;
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

    // tokio's future itself, not one wrapped around it: one state machine
    // fewer to poll on every wait.
    #[inline]
    fn readable(&mut self) -> impl Future<Output = io::Result<()>> + Send {
        self.stream.readable()
    }

    fn poll_readable(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream.poll_read_ready(cx)
    }

    /// `MSG_MORE` holds the bytes for what follows, so they leave in the
    /// same segment instead of alone: the first file bytes after a head,
    /// as with nginx's `tcp_nopush` (in alternated runs 7–11% off the CPU
    /// time of a 1 MiB response), or the FIN after a connection's last
    /// response. `MSG_NOSIGNAL`: a reset peer is an error here, never a
    /// SIGPIPE, even in a program that embeds the library without ignoring
    /// that signal.
    #[inline]
    fn try_write(&mut self, bytes: &[u8], more: bool) -> io::Result<usize> {
        let flags = if more {
            rustix::net::SendFlags::MORE | rustix::net::SendFlags::NOSIGNAL
        } else {
            rustix::net::SendFlags::NOSIGNAL
        };
        let stream = &self.stream;
        stream.try_io(Interest::WRITABLE, || {
            rustix::net::send(stream, bytes, flags).map_err(io::Error::from)
        })
    }

    #[inline]
    fn writable(&mut self) -> impl Future<Output = io::Result<()>> + Send {
        self.stream.writable()
    }

    /// `sendfile`: the file's pages go to the socket without a copy
    /// through user space.
    fn try_send_file(&mut self, file: &File, offset: &mut u64, count: usize) -> io::Result<usize> {
        let stream = &self.stream;
        stream.try_io(Interest::WRITABLE, || {
            rustix::fs::sendfile(stream, file, Some(&mut *offset), count).map_err(io::Error::from)
        })
    }

    async fn shutdown_write(&mut self) -> io::Result<()> {
        rustix::net::shutdown(&self.stream, rustix::net::Shutdown::Write).map_err(io::Error::from)
    }
}
