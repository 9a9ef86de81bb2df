//! A small load client for `bench/run.sh`, for the two scenarios `wrk`
//! cannot measure:
//!
//! - `download`: keep-alive GETs of one large file over N connections,
//!   reading 64 KiB per `read` (wrk reads 8 KiB at a time, which caps it
//!   well below what the servers can send). Prints
//!   `requests=N bytes=B seconds=S p99_ms=X`.
//! - `idle`: open N keep-alive connections, complete one small GET on each,
//!   then hold them all open and idle; prints `ready=N` once they are open,
//!   and exits after `--hold` seconds or when stdin closes.
//!
//! It speaks just enough HTTP/1.1 to count responses: it finds the end of the
//! head and reads `Content-Length` bytes. It is a load generator for our own
//! servers on loopback, not a general client.
//!
//! Usage: `bench_client download ADDR PATH CONNECTIONS SECONDS`
//!        `bench_client idle ADDR PATH CONNECTIONS HOLD_SECONDS`

use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Bytes asked of the socket per read.
const READ_BYTES: usize = 64 * 1024;

/// Connections being opened at once in `idle` mode, so a listener's accept
/// backlog (nginx's defaults to 511) does not overflow into SYN retries.
const OPEN_AT_ONCE: usize = 256;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = match args.as_slice() {
        [mode, addr, path, connections, seconds] => {
            match (
                addr.parse::<SocketAddr>(),
                connections.parse::<usize>(),
                seconds.parse::<f64>(),
            ) {
                (Ok(addr), Ok(n), Ok(secs)) if mode == "download" => {
                    runtime.block_on(download(addr, path, n, Duration::from_secs_f64(secs)))
                }
                (Ok(addr), Ok(n), Ok(secs)) if mode == "idle" => {
                    runtime.block_on(idle(addr, path, n, Duration::from_secs_f64(secs)))
                }
                _ => Err(io::Error::other("bad arguments")),
            }
        }
        _ => Err(io::Error::other(
            "usage: bench_client download|idle ADDR PATH CONNECTIONS SECONDS",
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_client: {e}");
            ExitCode::FAILURE
        }
    }
}

fn request_bytes(addr: SocketAddr, path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes()
}

/// Read one response; returns its body length. `buf` keeps bytes read past
/// the response (there are none without pipelining, but be exact).
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<u64> {
    let mut chunk = vec![0u8; READ_BYTES];
    let head_end = loop {
        if let Some(at) = memchr::memmem::find(buf, b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    if !head.starts_with("http/1.1 200") {
        return Err(io::Error::other(format!(
            "unexpected response: {}",
            head.lines().next().unwrap_or("")
        )));
    }
    let length: u64 = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| io::Error::other("response without Content-Length"))?;
    let buffered = (buf.len() - head_end) as u64;
    if buffered >= length {
        buf.drain(..head_end + length as usize);
        return Ok(length);
    }
    buf.clear();
    let mut remaining = length - buffered;
    while remaining > 0 {
        let want = usize::try_from(remaining).map_or(READ_BYTES, |r| r.min(READ_BYTES));
        let n = stream.read(&mut chunk[..want]).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        remaining -= n as u64;
    }
    Ok(length)
}

struct Tally {
    requests: u64,
    bytes: u64,
    latencies: Vec<Duration>,
}

async fn download_one(addr: SocketAddr, path: String, until: Instant) -> io::Result<Tally> {
    let request = request_bytes(addr, &path);
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut buf = Vec::with_capacity(READ_BYTES);
    let mut tally = Tally {
        requests: 0,
        bytes: 0,
        latencies: Vec::new(),
    };
    while Instant::now() < until {
        let started = Instant::now();
        stream.write_all(&request).await?;
        let len = read_response(&mut stream, &mut buf).await?;
        tally.latencies.push(started.elapsed());
        tally.requests += 1;
        tally.bytes += len;
    }
    Ok(tally)
}

async fn download(
    addr: SocketAddr,
    path: &str,
    connections: usize,
    duration: Duration,
) -> io::Result<()> {
    let started = Instant::now();
    let until = started + duration;
    let local = tokio::task::LocalSet::new();
    let tallies = local
        .run_until(async {
            let tasks: Vec<_> = (0..connections)
                .map(|_| tokio::task::spawn_local(download_one(addr, path.to_owned(), until)))
                .collect();
            let mut tallies = Vec::new();
            for task in tasks {
                tallies.push(task.await.map_err(io::Error::other)??);
            }
            Ok::<_, io::Error>(tallies)
        })
        .await?;
    let seconds = started.elapsed().as_secs_f64();
    let requests: u64 = tallies.iter().map(|t| t.requests).sum();
    let bytes: u64 = tallies.iter().map(|t| t.bytes).sum();
    let mut latencies: Vec<Duration> = tallies.into_iter().flat_map(|t| t.latencies).collect();
    latencies.sort_unstable();
    let p99 = latencies
        .get((latencies.len() * 99 / 100).min(latencies.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default();
    println!(
        "requests={requests} bytes={bytes} seconds={seconds:.3} p99_ms={:.3}",
        p99.as_secs_f64() * 1e3
    );
    Ok(())
}

async fn open_idle(addr: SocketAddr, request: &[u8]) -> io::Result<TcpStream> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(request).await?;
    let mut buf = Vec::new();
    read_response(&mut stream, &mut buf).await?;
    Ok(stream)
}

async fn idle(addr: SocketAddr, path: &str, connections: usize, hold: Duration) -> io::Result<()> {
    let request = request_bytes(addr, path);
    let mut open = Vec::with_capacity(connections);
    let mut failed = 0usize;
    while open.len() + failed < connections {
        let batch = OPEN_AT_ONCE.min(connections - open.len() - failed);
        let attempts: Vec<_> = (0..batch).map(|_| open_idle(addr, &request)).collect();
        for result in futures_join_all(attempts).await {
            match result {
                Ok(stream) => open.push(stream),
                Err(_) => failed += 1,
            }
        }
    }
    println!("ready={} failed={failed}", open.len());
    // Hold until the deadline or until the script closes our stdin.
    let stdin_closed = tokio::task::spawn_blocking(|| {
        use std::io::Read;
        let mut scratch = [0u8; 64];
        let _ = std::io::stdin().read(&mut scratch);
    });
    let _ = tokio::time::timeout(hold, stdin_closed).await;
    drop(open);
    Ok(())
}

/// Await all futures concurrently on this thread (a tiny `join_all`, to keep
/// the `futures` crate out of the dependency tree).
async fn futures_join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    use std::task::Poll;
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, future) in outputs.iter_mut().zip(pinned.iter_mut()) {
            if slot.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *slot = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs
        .into_iter()
        .map(|o| o.expect("every future finished"))
        .collect()
}
