//! Putting a response on a transport: the head and a small body in one
//! write, the transport's file path (`sendfile` on plain TCP) for file
//! bodies, and a stall timeout that every byte that leaves resets, so a
//! slow but live client is served and a dead one is not.

use super::transport::Transport;
use crate::service::{Body, Part};
use std::io;
use std::os::unix::fs::FileExt;
use std::time::Duration;
use tokio::time::timeout;

/// A body this small is copied behind the head so both leave in one write.
pub const COALESCE_MAX_BYTES: u64 = 32 * 1024;

/// Most bytes asked of one file-sending call (`sendfile` on plain TCP). After each call that leaves
/// more to send, the task yields, so the worker's other connections take
/// their turn: large downloads share a worker round-robin instead of one
/// of them holding it until its socket buffer fills (lighttpd's file
/// writes take turns the same way). On loopback, with 16 clients of a
/// 1 MiB file, turns of 512 KiB also cost less CPU per byte than whole-file
/// calls (alternated rounds: about 150 against 240 µs per response).
const SENDFILE_CHUNK_BYTES: usize = 512 * 1024;

/// What became of a response on the wire.
#[derive(Debug)]
pub struct Transmitted {
    /// The bytes of head and body that left (the kernel took them), whether
    /// or not the whole response did: what the access log reports.
    pub bytes_sent: u64,
    pub result: io::Result<()>,
}

/// Write `head` (already encoded into `out`) and then `body`, if `send_body`.
/// `out` is the connection's reusable output buffer; it is left empty.
///
/// With `closing` (the connection's last response), our side of the
/// connection is shut down once the response is written, and a response
/// sent in one write leaves in the same segment as our FIN: one segment
/// fewer for both ends of a connection per request.
pub async fn send_response<T: Transport>(
    transport: &mut T,
    out: &mut Vec<u8>,
    body: Body,
    send_body: bool,
    stall: Duration,
    closing: bool,
) -> Transmitted {
    let mut wire = Wire {
        transport,
        stall,
        sent: 0,
    };
    let body = if send_body { body } else { Body::Empty };
    let mut result = match body {
        Body::Empty => wire.send_all(out, closing).await,
        Body::Bytes(bytes) if bytes.len() as u64 <= COALESCE_MAX_BYTES => {
            out.extend_from_slice(&bytes);
            wire.send_all(out, closing).await
        }
        Body::Bytes(bytes) => match wire.send_all(out, false).await {
            Ok(()) => wire.send_all(&bytes, false).await,
            Err(e) => Err(e),
        },
        Body::File { file, offset, len } if len <= COALESCE_MAX_BYTES => {
            match read_exact_at(&file, out, offset, len) {
                Ok(()) => wire.send_all(out, closing).await,
                Err(e) => Err(e),
            }
        }
        Body::File { file, offset, len } => match wire.send_all(out, true).await {
            Ok(()) => wire.send_file(&file, offset, len).await,
            Err(e) => Err(e),
        },
        Body::Parts { file, parts } => wire.send_parts(out, &file, parts).await,
    };
    out.clear();
    if closing && result.is_ok() {
        // Sends the FIN, and with it whatever `send_all` held back.
        // Under the stall timeout: over TLS the end sends `close_notify`
        // after whatever ciphertext the socket has not taken yet, and a
        // client that stopped reading must not hold the connection.
        result = match timeout(wire.stall, wire.transport.shutdown_write()).await {
            Ok(result) => result,
            Err(_) => Err(io::ErrorKind::TimedOut.into()),
        };
    }
    Transmitted {
        bytes_sent: wire.sent,
        result,
    }
}

/// How many bytes of `body` [`send_response`] copies behind the head in
/// `out`, so the driver can size `out` once.
pub fn coalesced_len(body: &Body, send_body: bool) -> usize {
    match body {
        Body::Bytes(_) | Body::File { .. } if send_body && body.len() <= COALESCE_MAX_BYTES => {
            body.len() as usize
        }
        _ => 0,
    }
}

/// Append exactly `len` bytes of `file` from `offset` to `out`. A file that
/// shrank since it was opened is an error: the head already promised `len`.
fn read_exact_at(file: &std::fs::File, out: &mut Vec<u8>, offset: u64, len: u64) -> io::Result<()> {
    let start = out.len();
    let len = usize::try_from(len).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    out.resize(start + len, 0);
    let result = file.read_exact_at(&mut out[start..], offset);
    if result.is_err() {
        out.truncate(start);
    }
    result
}

/// A response on its way out: the transport, the stall timeout, and the
/// count of bytes that left so far.
struct Wire<'a, T> {
    transport: &'a mut T,
    stall: Duration,
    sent: u64,
}

impl<T: Transport> Wire<'_, T> {
    /// Send a body made of pieces (a `multipart/byteranges` body): bytes and
    /// small file ranges gather in `out` and leave together; a large file
    /// range flushes what was gathered and goes by the file path.
    async fn send_parts(
        &mut self,
        out: &mut Vec<u8>,
        file: &std::fs::File,
        parts: Vec<Part>,
    ) -> io::Result<()> {
        for part in parts {
            match part {
                Part::Bytes(bytes) => out.extend_from_slice(&bytes),
                Part::File { offset, len } if len <= COALESCE_MAX_BYTES => {
                    read_exact_at(file, out, offset, len)?
                }
                Part::File { offset, len } => {
                    self.send_all(out, false).await?;
                    out.clear();
                    self.send_file(file, offset, len).await?;
                }
            }
            if out.len() as u64 > COALESCE_MAX_BYTES {
                self.send_all(out, false).await?;
                out.clear();
            }
        }
        self.send_all(out, false).await
    }

    /// Send all of `bytes`. With `more`, they may wait for what follows and
    /// leave with it (see `PlainTcp::try_write`).
    async fn send_all(&mut self, mut bytes: &[u8], more: bool) -> io::Result<()> {
        while !bytes.is_empty() {
            let written = self
                .write_op(|transport| transport.try_write(bytes, more))
                .await?;
            bytes = &bytes[written..];
        }
        Ok(())
    }

    async fn send_file(
        &mut self,
        file: &std::fs::File,
        mut offset: u64,
        mut remaining: u64,
    ) -> io::Result<()> {
        while remaining > 0 {
            let count = usize::try_from(remaining)
                .map_or(SENDFILE_CHUNK_BYTES, |r| r.min(SENDFILE_CHUNK_BYTES));
            let sent = match self
                .write_op(|transport| transport.try_send_file(file, &mut offset, count))
                .await
            {
                // The file ended early: it was truncated after the head went
                // out.
                Err(e) if e.kind() == io::ErrorKind::WriteZero => {
                    return Err(io::ErrorKind::UnexpectedEof.into())
                }
                other => other?,
            };
            remaining -= sent as u64;
            if remaining > 0 {
                tokio::task::yield_now().await;
            }
        }
        Ok(())
    }

    /// Run the non-blocking write `op` now, and again each time the
    /// transport is writable while it returns `WouldBlock`, for at most the
    /// stall timeout; count what it wrote. A write of 0 bytes is
    /// `WriteZero`.
    async fn write_op(
        &mut self,
        mut op: impl FnMut(&mut T) -> io::Result<usize>,
    ) -> io::Result<usize> {
        // Most writes fit the socket buffer: one try without a timer, and
        // without reading the clock to set one.
        let written = match op(self.transport) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let transport = &mut *self.transport;
                timeout(self.stall, async {
                    loop {
                        transport.writable().await?;
                        match op(transport) {
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                            other => return other,
                        }
                    }
                })
                .await
                .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??
            }
            other => other?,
        };
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        self.sent += written as u64;
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::transport::test_transport::UnixTransport;
    use crate::server::transport::PlainTcp;
    use bytes::Bytes;
    use std::io::{Read, Write};
    use tokio::net::TcpStream;

    const STALL: Duration = Duration::from_secs(5);
    const HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: n\r\n\r\n";

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// A connected pair: the client's blocking end, the server's transport.
    fn pair() -> (std::net::TcpStream, PlainTcp) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        client.set_read_timeout(Some(STALL)).unwrap();
        let (server, _) = listener.accept().unwrap();
        server.set_nonblocking(true).unwrap();
        (client, PlainTcp::new(TcpStream::from_std(server).unwrap()))
    }

    /// A file holding `len` bytes counting up from 0 (mod 251).
    fn file_of(len: usize) -> (std::fs::File, Vec<u8>) {
        let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&bytes).unwrap();
        (file, bytes)
    }

    /// Send `body` after [`HEAD`] on a connection's last response, over
    /// plain TCP or (`unix`) a transport that copies file bytes; the count
    /// the transmission reports, and what the client received.
    fn transmit(body: Body, send_body: bool, unix: bool) -> (Transmitted, Vec<u8>) {
        runtime().block_on(async {
            if unix {
                let (server, client) = UnixTransport::pair();
                transmit_over(server, client, body, send_body).await
            } else {
                let (client, server) = pair();
                transmit_over(server, client, body, send_body).await
            }
        })
    }

    async fn transmit_over<T: Transport>(
        mut server: T,
        mut client: impl Read + Send + 'static,
        body: Body,
        send_body: bool,
    ) -> (Transmitted, Vec<u8>) {
        let reader = std::thread::spawn(move || {
            let mut received = Vec::new();
            client.read_to_end(&mut received).unwrap();
            received
        });
        let mut out = HEAD.to_vec();
        let transmitted = send_response(&mut server, &mut out, body, send_body, STALL, true).await;
        assert!(out.is_empty(), "the output buffer is left empty");
        drop(server);
        (transmitted, reader.join().unwrap())
    }

    #[test]
    fn the_bytes_sent_are_the_bytes_the_client_receives() {
        for unix in [false, true] {
            every_body_arrives_and_is_counted(unix);
        }
    }

    /// `unix`: over a transport without zero-copy, file bodies take the
    /// provided copying path and arrive the same.
    fn every_body_arrives_and_is_counted(unix: bool) {
        let (small_file, small) = file_of(1000);
        let (large_file, large) = file_of(COALESCE_MAX_BYTES as usize * 3 + 7);
        let (parts_file, parts_bytes) = file_of(200_000);
        let big_bytes = Bytes::from(large.clone());
        // (case, body, send the body, expected body bytes)
        let cases: Vec<(&str, Body, bool, Vec<u8>)> = vec![
            ("empty", Body::Empty, true, Vec::new()),
            (
                "bytes",
                Body::Bytes(Bytes::from_static(b"hello")),
                true,
                b"hello".to_vec(),
            ),
            ("large bytes", Body::Bytes(big_bytes), true, large.clone()),
            (
                "small file",
                Body::File {
                    file: small_file,
                    offset: 10,
                    len: 900,
                },
                true,
                small[10..910].to_vec(),
            ),
            (
                "large file",
                Body::File {
                    file: large_file,
                    offset: 0,
                    len: large.len() as u64,
                },
                true,
                large.clone(),
            ),
            (
                "parts",
                Body::Parts {
                    file: parts_file,
                    parts: vec![
                        Part::Bytes(Bytes::from_static(b"--a\r\n\r\n")),
                        Part::File { offset: 5, len: 10 },
                        Part::Bytes(Bytes::from_static(b"\r\n--a\r\n\r\n")),
                        Part::File {
                            offset: 100,
                            len: 150_000,
                        },
                        Part::Bytes(Bytes::from_static(b"\r\n--a--\r\n")),
                    ],
                },
                true,
                [
                    &b"--a\r\n\r\n"[..],
                    &parts_bytes[5..15],
                    b"\r\n--a\r\n\r\n",
                    &parts_bytes[100..150_100],
                    b"\r\n--a--\r\n",
                ]
                .concat(),
            ),
            // A response to HEAD: the body stays behind.
            (
                "head",
                Body::Bytes(Bytes::from_static(b"hello")),
                false,
                Vec::new(),
            ),
        ];
        for (case, body, send_body, expected) in cases {
            let (transmitted, received) = transmit(body, send_body, unix);
            let case = format!("{case} (unix: {unix})");
            transmitted.result.unwrap_or_else(|e| panic!("{case}: {e}"));
            assert_eq!(received, [HEAD, &expected].concat(), "{case}");
            assert_eq!(transmitted.bytes_sent, received.len() as u64, "{case}");
        }
    }

    #[test]
    fn a_response_cut_short_counts_only_what_left() {
        // Sparse: larger than any loopback socket buffer, without the disk.
        const LEN: u64 = 256 * 1024 * 1024;
        let file = tempfile::tempfile().unwrap();
        file.set_len(LEN).unwrap();
        runtime().block_on(async {
            let (mut client, mut server) = pair();
            let vanisher = std::thread::spawn(move || {
                let mut first = [0u8; 1];
                client.read_exact(&mut first).unwrap();
                // SO_LINGER 0: closing resets the connection.
                socket2::SockRef::from(&client)
                    .set_linger(Some(Duration::ZERO))
                    .unwrap();
            });
            let mut out = HEAD.to_vec();
            let body = Body::File {
                file,
                offset: 0,
                len: LEN,
            };
            let transmitted = send_response(&mut server, &mut out, body, true, STALL, false).await;
            vanisher.join().unwrap();
            assert!(transmitted.result.is_err(), "the peer reset");
            assert!(transmitted.bytes_sent > HEAD.len() as u64);
            assert!(transmitted.bytes_sent < HEAD.len() as u64 + LEN);
        });
    }
}

#[cfg(test)]
mod end_tests {
    use super::*;
    use bytes::BytesMut;
    use std::task::{Context, Poll};

    /// A transport that takes every write but whose end never completes, as
    /// a TLS end does while `close_notify` waits behind ciphertext a client
    /// no longer reads.
    struct EndNeverCompletes;

    impl Transport for EndNeverCompletes {
        fn try_read(&mut self, _: &mut BytesMut) -> io::Result<usize> {
            Err(io::ErrorKind::WouldBlock.into())
        }
        async fn readable(&mut self) -> io::Result<()> {
            std::future::pending().await
        }
        fn poll_readable(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Pending
        }
        fn try_write(&mut self, bytes: &[u8], _: bool) -> io::Result<usize> {
            Ok(bytes.len())
        }
        async fn writable(&mut self) -> io::Result<()> {
            Ok(())
        }
        async fn shutdown_write(&mut self) -> io::Result<()> {
            std::future::pending().await
        }
    }

    /// Issue 15: the end of a connection's last response is under the
    /// stall timeout too; before, a TLS client that stopped reading just
    /// before `close_notify` held its connection for ever.
    #[test]
    fn the_end_of_a_last_response_is_under_the_stall_timeout() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let transmitted = runtime.block_on(async {
            let mut out = b"HTTP/1.1 204 No Content\r\n\r\n".to_vec();
            let mut transport = EndNeverCompletes;
            let send = send_response(
                &mut transport,
                &mut out,
                Body::Empty,
                false,
                Duration::from_millis(50),
                true,
            );
            // A generous outer bound, so that a regression fails instead of
            // hanging the test run.
            tokio::time::timeout(Duration::from_secs(10), send).await
        });
        let transmitted = transmitted.expect("send_response returned");
        let error = transmitted.result.expect_err("the end timed out");
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
    }
}
