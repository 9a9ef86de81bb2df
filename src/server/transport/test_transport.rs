//! A second transport, for tests: a Unix stream socket. It has readiness
//! but none of plain TCP's extras, so it takes every provided path of
//! [`Transport`] (file bytes are copied, not sent by `sendfile`) and shows
//! the driver, `transmit` and `parking` working over something other than
//! TCP.

use super::Transport;
use bytes::BytesMut;
use std::io;
use std::task::{Context, Poll};
use tokio::net::UnixStream;

/// No `try_send_file` of its own: file bodies take the provided copy.
pub struct UnixTransport {
    stream: UnixStream,
}

impl UnixTransport {
    /// A connected pair: the server's transport and the client's blocking
    /// end (with a read deadline, so a bug fails a test instead of hanging
    /// it). Call inside a runtime.
    pub fn pair() -> (UnixTransport, std::os::unix::net::UnixStream) {
        let (server, client) = std::os::unix::net::UnixStream::pair().expect("socketpair");
        server.set_nonblocking(true).expect("non-blocking");
        client
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .expect("read timeout");
        let transport = UnixTransport {
            stream: UnixStream::from_std(server).expect("register with the reactor"),
        };
        (transport, client)
    }
}

impl Transport for UnixTransport {
    fn try_read(&mut self, buf: &mut BytesMut) -> io::Result<usize> {
        self.stream.try_read_buf(buf)
    }

    async fn readable(&mut self) -> io::Result<()> {
        self.stream.readable().await
    }

    fn poll_readable(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream.poll_read_ready(cx)
    }

    fn try_write(&mut self, bytes: &[u8], _more: bool) -> io::Result<usize> {
        self.stream.try_write(bytes)
    }

    async fn writable(&mut self) -> io::Result<()> {
        self.stream.writable().await
    }

    async fn shutdown_write(&mut self) -> io::Result<()> {
        let stream = &self.stream;
        rustix::net::shutdown(stream, rustix::net::Shutdown::Write).map_err(io::Error::from)
    }
}
