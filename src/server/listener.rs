//! The listening socket and the process limits it depends on.

use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, TcpListener};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::Duration;

/// Pending connections the kernel may queue while every worker is busy
/// (the kernel caps it at `net.core.somaxconn`).
const LISTEN_BACKLOG: i32 = 4096;

/// Why the server could not listen, in words for the one stderr line.
#[derive(Debug)]
pub struct ListenError {
    pub addr: SocketAddr,
    pub source: io::Error,
}

impl std::fmt::Display for ListenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let reason = match self.source.kind() {
            io::ErrorKind::AddrInUse => "address in use".to_string(),
            io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            io::ErrorKind::AddrNotAvailable => "address not available".to_string(),
            _ => self.source.to_string(),
        };
        write!(f, "cannot listen on {}: {reason}", self.addr)
    }
}

impl std::error::Error for ListenError {}

/// Bind and listen on `addr`. The unspecified IPv6 address listens on IPv4
/// too; where the machine has no IPv6 it falls back to `0.0.0.0`. New
/// connections wait in the kernel for their first bytes for up to
/// `defer_accept` (see `Timeouts::defer_accept`; zero: not at all).
pub fn listen(addr: SocketAddr, defer_accept: Duration) -> Result<TcpListener, ListenError> {
    match bind(addr, defer_accept) {
        Err(e) if addr.ip() == IpAddr::V6(Ipv6Addr::UNSPECIFIED) && is_no_ipv6(&e) => {
            let v4 = SocketAddr::from(([0, 0, 0, 0], addr.port()));
            bind(v4, defer_accept).map_err(|source| ListenError { addr: v4, source })
        }
        result => result.map_err(|source| ListenError { addr, source }),
    }
}

fn is_no_ipv6(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::AddrNotAvailable
        || e.raw_os_error() == Some(rustix::io::Errno::AFNOSUPPORT.raw_os_error())
}

fn bind(addr: SocketAddr, defer_accept: Duration) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(false)?;
    }
    // Lets a restarted server bind while old connections sit in TIME_WAIT;
    // on Linux it does not let two servers listen on one port.
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    // Responses are written whole, so Nagle's delay only adds latency. Set
    // on the listener, Linux copies it to every accepted socket, which saves
    // a setsockopt per connection.
    socket.set_tcp_nodelay(true)?;
    socket.set_cloexec(true)?;
    set_defer_accept(socket.as_fd(), defer_accept)?;
    // Inherited by accepted sockets, like TCP_NODELAY. Only a tuning: where
    // the kernel lacks it (before Linux 3.12, some emulated stacks), serve
    // without it rather than not at all.
    let _ = set_tcp_option(socket.as_fd(), libc::TCP_NOTSENT_LOWAT, NOTSENT_LOWAT_BYTES);
    socket.bind(&addr.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    Ok(socket.into())
}

/// Set `TCP_DEFER_ACCEPT` on a listening socket: a connection is queued for
/// `accept` once its first bytes arrive, or after about `wait` (whole
/// seconds, rounded up; the kernel rounds further up to its SYN-ACK
/// retransmission schedule). With it the common connection costs the server
/// one wakeup less (accept and read together) and no bare-ACK processing:
/// CPU per connection-per-request 28.4 -> 21.0 µs in alternated rounds.
fn set_defer_accept(socket: BorrowedFd<'_>, wait: Duration) -> io::Result<()> {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = libc::c_int::try_from(seconds).unwrap_or(libc::c_int::MAX);
    set_tcp_option(socket, libc::TCP_DEFER_ACCEPT, seconds)
}

/// The most bytes a connection may hold in the kernel unsent before it
/// stops being writable (`TCP_NOTSENT_LOWAT`). Without a bound, `sendfile`
/// queued megabytes per connection; on loopback nstat then showed
/// thousands of out-of-order segments and spurious retransmissions per 5 s
/// with four 100 MiB downloads, and the server idle a tenth of the time.
/// With 128 KiB, in alternated rounds: 5.1 -> 7.5 GB/s and 16.0 -> 13.9 ms
/// of CPU per response, retransmissions in the tens; 32 KiB to 1 MiB all
/// helped, 1 MiB files and small responses did not change. It also bounds
/// the kernel memory a slow client holds.
const NOTSENT_LOWAT_BYTES: libc::c_int = 128 * 1024;

/// Set an integer `IPPROTO_TCP` option. Neither rustix nor socket2 wraps
/// `TCP_DEFER_ACCEPT` or `TCP_NOTSENT_LOWAT`, and std's wrappers are
/// unstable, hence the one `unsafe` block of the crate.
fn set_tcp_option(
    socket: BorrowedFd<'_>,
    option: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    let size = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the descriptor is borrowed, so open for the call; the option
    // value is a c_int that lives across the call, and `size` is its size,
    // as both options expect.
    #[allow(unsafe_code)]
    let result = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_TCP,
            option,
            std::ptr::from_ref(&value).cast(),
            size,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// File descriptors kept aside for the listener, the log, files being sent
/// and the runtime itself, below the open-file limit.
const SPARE_DESCRIPTORS: u64 = 64;

/// Raise the soft open-file limit to the hard limit, and return the largest
/// connection count that fits under it: each connection needs a socket and,
/// while it sends a file, that file.
pub fn raise_open_file_limit(wanted_connections: usize) -> usize {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let limit = getrlimit(Resource::Nofile);
    let hard = limit.maximum;
    if limit.current != hard {
        let _ = setrlimit(
            Resource::Nofile,
            rustix::process::Rlimit {
                current: hard,
                maximum: hard,
            },
        );
    }
    let soft = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX);
    let fitting = soft.saturating_sub(SPARE_DESCRIPTORS) / 2;
    wanted_connections
        .min(usize::try_from(fitting).unwrap_or(usize::MAX))
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_sockets_inherit_tcp_nodelay_from_the_listener() {
        let listener = listen(SocketAddr::from(([127, 0, 0, 1], 0)), Duration::ZERO).unwrap();
        listener.set_nonblocking(false).unwrap();
        let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (accepted, _) = listener.accept().unwrap();
        assert!(accepted.nodelay().unwrap());
    }

    /// Read an integer `IPPROTO_TCP` option back (test-only, as nothing
    /// wraps the options [`set_tcp_option`] sets).
    fn tcp_option(socket: BorrowedFd<'_>, option: libc::c_int) -> libc::c_int {
        let mut value: libc::c_int = -1;
        let mut size = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: the descriptor is borrowed, so open for the call; `value`
        // and `size` live across it, and `size` says how much may be written.
        #[allow(unsafe_code)]
        let result = unsafe {
            libc::getsockopt(
                socket.as_raw_fd(),
                libc::IPPROTO_TCP,
                option,
                std::ptr::from_mut(&mut value).cast(),
                &mut size,
            )
        };
        assert_eq!(result, 0, "getsockopt: {}", io::Error::last_os_error());
        value
    }

    #[test]
    fn accepted_sockets_inherit_the_unsent_bytes_bound_from_the_listener() {
        let listener = listen(SocketAddr::from(([127, 0, 0, 1], 0)), Duration::ZERO).unwrap();
        let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let accepted = accept_within_5s(&listener);
        assert_eq!(
            tcp_option(accepted.as_fd(), libc::TCP_NOTSENT_LOWAT),
            NOTSENT_LOWAT_BYTES
        );
    }

    /// Accept from a non-blocking listener, retrying for up to 5 s.
    fn accept_within_5s(listener: &TcpListener) -> std::net::TcpStream {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            match listener.accept() {
                Ok((stream, _)) => return stream,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    assert!(std::time::Instant::now() < deadline, "not accepted in 5 s");
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => panic!("accept: {e}"),
            }
        }
    }

    #[test]
    fn a_deferred_connection_is_accepted_with_its_first_bytes_and_not_before() {
        use std::io::{Read, Write};
        // Far longer than the test, so "not yet" cannot be a slow machine.
        let listener = listen(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            Duration::from_secs(60),
        )
        .unwrap();
        let addr = listener.local_addr().unwrap();
        let mut silent = std::net::TcpStream::connect(addr).unwrap();
        let mut talking = std::net::TcpStream::connect(addr).unwrap();
        talking.write_all(b"GET / HTTP/1.1\r\n").unwrap();
        let mut accepted = accept_within_5s(&listener);
        assert_eq!(accepted.peer_addr().unwrap(), talking.local_addr().unwrap());
        accepted.set_nonblocking(false).unwrap();
        let mut bytes = [0u8; 64];
        let n = accepted.read(&mut bytes).unwrap();
        assert_eq!(&bytes[..n], b"GET / HTTP/1.1\r\n", "readable on arrival");
        let held = listener.accept().map(|_| ()).unwrap_err();
        assert_eq!(
            held.kind(),
            io::ErrorKind::WouldBlock,
            "the silent one waits"
        );
        silent.write_all(b"G").unwrap();
        let accepted = accept_within_5s(&listener);
        assert_eq!(accepted.peer_addr().unwrap(), silent.local_addr().unwrap());
    }

    #[test]
    fn without_deferral_a_silent_connection_is_accepted_at_once() {
        let listener = listen(SocketAddr::from(([127, 0, 0, 1], 0)), Duration::ZERO).unwrap();
        let silent = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let accepted = accept_within_5s(&listener);
        assert_eq!(accepted.peer_addr().unwrap(), silent.local_addr().unwrap());
    }
}
