//! Putting a response on the wire: the head and a small body in one write,
//! `sendfile` for file bodies, and a stall timeout that every byte that
//! leaves resets, so a slow but live client is served and a dead one is not.

use crate::service::{Body, Part};
use std::io;
use std::os::unix::fs::FileExt;
use std::time::Duration;
use tokio::io::Interest;
use tokio::net::TcpStream;
use tokio::time::timeout;

/// A body this small is copied behind the head so both leave in one write.
pub const COALESCE_MAX_BYTES: u64 = 32 * 1024;

/// Most bytes asked of one `sendfile` call. After each call that leaves
/// more to send, the task yields, so the worker's other connections take
/// their turn: large downloads share a worker round-robin instead of one
/// of them holding it until its socket buffer fills (lighttpd's file
/// writes take turns the same way). On loopback, with 16 clients of a
/// 1 MiB file, turns of 512 KiB also cost less CPU per byte than whole-file
/// calls (alternated rounds: about 150 against 240 µs per response).
const SENDFILE_CHUNK_BYTES: usize = 512 * 1024;

/// Write `head` (already encoded into `out`) and then `body`, if `send_body`.
/// `out` is the connection's reusable output buffer; it is left empty.
///
/// With `closing` (the connection's last response), our side of the
/// connection is shut down once the response is written, and a response
/// sent in one write leaves in the same segment as our FIN: one segment
/// fewer for both ends of a connection per request.
pub async fn send_response(
    stream: &mut TcpStream,
    out: &mut Vec<u8>,
    body: Body,
    send_body: bool,
    stall: Duration,
    closing: bool,
) -> io::Result<()> {
    let body = if send_body { body } else { Body::Empty };
    let result = match body {
        Body::Empty => send_all(stream, out, closing, stall).await,
        Body::Bytes(bytes) if bytes.len() as u64 <= COALESCE_MAX_BYTES => {
            out.extend_from_slice(&bytes);
            send_all(stream, out, closing, stall).await
        }
        Body::Bytes(bytes) => {
            send_all(stream, out, false, stall).await?;
            send_all(stream, &bytes, false, stall).await
        }
        Body::File { file, offset, len } if len <= COALESCE_MAX_BYTES => {
            read_exact_at(&file, out, offset, len)?;
            send_all(stream, out, closing, stall).await
        }
        Body::File { file, offset, len } => {
            send_all(stream, out, true, stall).await?;
            send_file(stream, &file, offset, len, stall).await
        }
        Body::Parts { file, parts } => send_parts(stream, out, &file, parts, stall).await,
    };
    out.clear();
    if closing && result.is_ok() {
        // Sends the FIN, and with it whatever `send_all` held back.
        rustix::net::shutdown(&*stream, rustix::net::Shutdown::Write)?;
    }
    result
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

/// Send a body made of pieces (a `multipart/byteranges` body): bytes and
/// small file ranges gather in `out` and leave together; a large file range
/// flushes what was gathered and goes by `sendfile`.
async fn send_parts(
    stream: &mut TcpStream,
    out: &mut Vec<u8>,
    file: &std::fs::File,
    parts: Vec<Part>,
    stall: Duration,
) -> io::Result<()> {
    for part in parts {
        match part {
            Part::Bytes(bytes) => out.extend_from_slice(&bytes),
            Part::File { offset, len } if len <= COALESCE_MAX_BYTES => {
                read_exact_at(file, out, offset, len)?
            }
            Part::File { offset, len } => {
                send_all(stream, out, false, stall).await?;
                out.clear();
                send_file(stream, file, offset, len, stall).await?;
            }
        }
        if out.len() as u64 > COALESCE_MAX_BYTES {
            send_all(stream, out, false, stall).await?;
            out.clear();
        }
    }
    send_all(stream, out, false, stall).await
}

/// Send all of `bytes`. With `more` (`MSG_MORE`) they wait for what
/// follows and leave in the same segment instead of alone: the first file
/// bytes after a head, as with nginx's `tcp_nopush` (in alternated runs
/// 7–11% off the CPU time of a 1 MiB response), or the FIN after a
/// connection's last response. `MSG_NOSIGNAL`: a reset peer is an error
/// here, never a SIGPIPE, even in a program that embeds the library
/// without ignoring that signal.
async fn send_all(
    stream: &TcpStream,
    mut bytes: &[u8],
    more: bool,
    stall: Duration,
) -> io::Result<()> {
    let flags = if more {
        rustix::net::SendFlags::MORE | rustix::net::SendFlags::NOSIGNAL
    } else {
        rustix::net::SendFlags::NOSIGNAL
    };
    while !bytes.is_empty() {
        let written = write_op(stream, stall, || rustix::net::send(stream, bytes, flags)).await?;
        bytes = &bytes[written..];
    }
    Ok(())
}

/// Run the non-blocking write `op` once the socket is writable, again on
/// `WouldBlock`, for at most `stall`. A write of 0 bytes is `WriteZero`.
async fn write_op(
    stream: &TcpStream,
    stall: Duration,
    mut op: impl FnMut() -> rustix::io::Result<usize>,
) -> io::Result<usize> {
    // Most writes fit the socket buffer: one try without a timer, and
    // without reading the clock to set one.
    let written = match stream.try_io(Interest::WRITABLE, || op().map_err(io::Error::from)) {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => timeout(stall, async {
            loop {
                stream.writable().await?;
                match stream.try_io(Interest::WRITABLE, || op().map_err(io::Error::from)) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    other => return other,
                }
            }
        })
        .await
        .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??,
        other => other?,
    };
    if written == 0 {
        return Err(io::ErrorKind::WriteZero.into());
    }
    Ok(written)
}

async fn send_file(
    stream: &TcpStream,
    file: &std::fs::File,
    mut offset: u64,
    mut remaining: u64,
    stall: Duration,
) -> io::Result<()> {
    while remaining > 0 {
        let count = usize::try_from(remaining)
            .map_or(SENDFILE_CHUNK_BYTES, |r| r.min(SENDFILE_CHUNK_BYTES));
        let sent = match write_op(stream, stall, || {
            rustix::fs::sendfile(stream, file, Some(&mut offset), count)
        })
        .await
        {
            // The file ended early: it was truncated after the head went out.
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
