//! The listening socket and the process limits it depends on.

use super::inherited::{InheritError, SocketName};
use crate::proto::proxy::ProxyVersions;
use crate::server::tls::TlsSetup;
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, TcpListener};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::time::Duration;

/// Pending connections the kernel may queue while every worker is busy
/// (the kernel caps it at `net.core.somaxconn`).
const LISTEN_BACKLOG: i32 = 4096;

/// A bound, listening socket, not yet accepting: what a server is handed,
/// paired with the service it serves (see `Server::new`).
#[derive(Debug)]
pub struct Listener {
    socket: TcpListener,
    local_addr: SocketAddr,
    /// Whether its connections start with a PROXY header (and of which
    /// versions); see [`Listener::with_proxy_protocol`].
    proxy_protocol: Option<ProxyVersions>,
    /// Whether its connections speak TLS; see [`Listener::with_tls`].
    tls: Option<TlsSetup>,
}

impl Listener {
    /// Listen on `addr`: dual-stack for the unspecified IPv6 address, with
    /// the socket options `listen` sets.
    pub fn bind(addr: SocketAddr, defer_accept: Duration) -> Result<Listener, ListenError> {
        let socket = listen(addr, defer_accept)?;
        let local_addr = socket
            .local_addr()
            .map_err(|source| ListenError { addr, source })?;
        Ok(Listener {
            socket,
            local_addr,
            proxy_protocol: None,
            tls: None,
        })
    }

    /// Listen on a socket passed by systemd or by the previous process of
    /// an upgrade (see `server::inherited`), after checking it is a
    /// listening TCP socket over IPv4 or IPv6; it gets the options `listen`
    /// sets (they are harmless to set again, and a socket unit may not have
    /// set them), non-blocking mode above all.
    pub fn from_inherited(
        name: SocketName,
        fd: OwnedFd,
        defer_accept: Duration,
    ) -> Result<Listener, InheritError> {
        let raw = fd.as_raw_fd();
        let socket = Socket::from(fd);
        let unusable = |what: String| {
            InheritError(format!(
                "inherited socket {name} (descriptor {raw}) {what}; it must be a listening \
                 TCP socket (ListenStream= with an address and port)"
            ))
        };
        let failed = |e: io::Error| unusable(format!("cannot be inspected: {e}"));
        let domain = socket
            .domain()
            .map_err(|_| unusable("is not a socket".into()))?;
        if domain != Domain::IPV4 && domain != Domain::IPV6 {
            return Err(unusable(format!("is a {} socket", describe_domain(domain))));
        }
        if socket.r#type().map_err(failed)? != Type::STREAM {
            return Err(unusable("is not a stream socket".into()));
        }
        if socket.protocol().map_err(failed)? != Some(Protocol::TCP) {
            return Err(unusable("is not a TCP socket".into()));
        }
        if !socket.is_listener().map_err(failed)? {
            return Err(unusable("is not listening".into()));
        }
        let configure = || -> io::Result<()> {
            socket.set_nonblocking(true)?;
            socket.set_cloexec(true)?;
            socket.set_tcp_nodelay(true)?;
            set_defer_accept(socket.as_fd(), defer_accept)?;
            let _ = set_tcp_option(socket.as_fd(), libc::TCP_NOTSENT_LOWAT, NOTSENT_LOWAT_BYTES);
            Ok(())
        };
        configure().map_err(|e| unusable(format!("cannot be configured: {e}")))?;
        let socket: TcpListener = socket.into();
        let local_addr = socket.local_addr().map_err(failed)?;
        Ok(Listener {
            socket,
            local_addr,
            proxy_protocol: None,
            tls: None,
        })
    }

    /// The listening socket itself, for an upgrade to pass on.
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }

    /// Require a PROXY protocol header of `versions` before HTTP on this
    /// listener's connections (`None`: plain HTTP, the default). A property
    /// of the listener, as haproxy's `accept-proxy` is of a `bind`: the
    /// site's listener may sit behind a balancer while an admin listener
    /// does not. Who may send the header is the configuration's
    /// `client_address.trusted_proxies`.
    pub fn with_proxy_protocol(mut self, versions: Option<ProxyVersions>) -> Listener {
        self.proxy_protocol = versions;
        self
    }

    /// The PROXY protocol versions this listener requires, if any.
    pub fn proxy_protocol(&self) -> Option<ProxyVersions> {
        self.proxy_protocol
    }

    /// Speak TLS on this listener's connections, with `setup`'s
    /// certificates (after the PROXY header, if one is required, as
    /// haproxy's `send-proxy` precedes the handshake). `None`: plain HTTP.
    pub fn with_tls(mut self, setup: Option<TlsSetup>) -> Listener {
        self.tls = setup;
        self
    }

    /// The TLS setup this listener's connections handshake with, if any.
    pub fn tls(&self) -> Option<&TlsSetup> {
        self.tls.as_ref()
    }

    /// The address actually bound (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Another handle to the same socket, for another worker to accept from.
    pub(super) fn try_clone_socket(&self) -> io::Result<TcpListener> {
        self.socket.try_clone()
    }
}

fn describe_domain(domain: Domain) -> &'static str {
    if domain == Domain::UNIX {
        "unix"
    } else {
        "non-IP"
    }
}

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

/// Descriptors a connection holds for as long as it is open: its socket.
/// A file being sent, a directory being listed or a sidecar being checked
/// is held only while that response is made or sent, and comes out of
/// [`SPARE_DESCRIPTORS`]; a connection that is idle, parked, or answered
/// from memory (the hot cache, errors, `/echo`) holds nothing else. Holding
/// two per connection for a file it may never send halved the clients a
/// limit admits (20,000 gave 9,968, not 10,000).
const DESCRIPTORS_PER_CONNECTION: u64 = 1;

/// Descriptors kept below the open-file limit for all that is not a
/// connection's socket: stdio, the listener, each worker's event loop, the
/// signal handler, the root directory, and the files and directories open
/// while responses are made and sent. At most a quarter of the limit, so a
/// small limit still admits connections. When they run out anyway (many
/// files sent at once with every connection slot taken), opening a file
/// fails with `EMFILE` and that request is answered at once (500) rather
/// than kept waiting, and `accept` backs off until a file is closed.
const SPARE_DESCRIPTORS: u64 = 256;

/// A connection cap lowered to fit the open-file limit: what was asked,
/// what is in force, and why, for one line on stderr at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoweredCap {
    pub asked: usize,
    pub in_force: usize,
    /// The soft open-file limit, after raising it to the hard limit.
    pub open_file_limit: u64,
    /// `None`: unlimited.
    pub hard_limit: Option<u64>,
    pub per_connection: u64,
    pub spare: u64,
}

impl std::fmt::Display for LoweredCap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hard = self
            .hard_limit
            .map_or_else(|| "unlimited".to_string(), |hard| hard.to_string());
        let plural = if self.per_connection == 1 { "" } else { "s" };
        write!(
            f,
            "--max-connections lowered: asked {}, in force {}, because the open-file limit \
             is {} (hard limit {hard}) and each connection needs {} descriptor{plural}, \
             with {} more kept for files being sent, the listener and the log",
            self.asked, self.in_force, self.open_file_limit, self.per_connection, self.spare
        )
    }
}

/// Raise the soft open-file limit to the hard limit, and fit the connection
/// cap under it: the cap in force, and the reason when it is lower than
/// `wanted_connections`.
pub fn raise_open_file_limit(wanted_connections: usize) -> (usize, Option<LoweredCap>) {
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
    let Some(soft) = getrlimit(Resource::Nofile).current else {
        return (wanted_connections, None);
    };
    let in_force = fit_connections(wanted_connections, soft);
    let lowered = (in_force < wanted_connections).then(|| LoweredCap {
        asked: wanted_connections,
        in_force,
        open_file_limit: soft,
        hard_limit: hard,
        per_connection: DESCRIPTORS_PER_CONNECTION,
        spare: spare_descriptors(soft),
    });
    (in_force, lowered)
}

/// The descriptors kept aside under an open-file limit of `limit`.
fn spare_descriptors(limit: u64) -> u64 {
    SPARE_DESCRIPTORS.min(limit / 4)
}

/// The largest connection count up to `wanted` that fits under an
/// open-file limit of `limit` (at least one).
fn fit_connections(wanted: usize, limit: u64) -> usize {
    let fitting = (limit - spare_descriptors(limit)) / DESCRIPTORS_PER_CONNECTION;
    wanted
        .min(usize::try_from(fitting).unwrap_or(usize::MAX))
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 11: one descriptor per connection plus a fixed reserve, so a
    /// limit of 20,000 admits the default 10,000 connections.
    #[test]
    fn issue11_connections_fit_under_the_open_file_limit() {
        // (asked, open-file limit, in force)
        let cases: &[(usize, u64, usize)] = &[
            (10_000, 20_000, 10_000),
            (20_000, 20_000, 19_744),
            (10_000, 1_048_576, 10_000),
            (10_000, 1024, 768),
            (1000, 400, 300),
            (300, 400, 300),
            (10, 4, 3),
            (10, 1, 1),
            (10, 0, 1),
            (10_000, u64::MAX, 10_000),
        ];
        for &(asked, limit, in_force) in cases {
            assert_eq!(
                fit_connections(asked, limit),
                in_force,
                "{asked} under {limit}"
            );
        }
    }

    #[test]
    fn issue11_a_lowered_cap_says_asked_in_force_and_why() {
        let lowered = LoweredCap {
            asked: 10_000,
            in_force: 768,
            open_file_limit: 1024,
            hard_limit: Some(1024),
            per_connection: 1,
            spare: 256,
        };
        assert_eq!(
            lowered.to_string(),
            "--max-connections lowered: asked 10000, in force 768, because the open-file \
             limit is 1024 (hard limit 1024) and each connection needs 1 descriptor, with 256 \
             more kept for files being sent, the listener and the log"
        );
        let unlimited = LoweredCap {
            hard_limit: None,
            ..lowered
        };
        assert!(unlimited.to_string().contains("(hard limit unlimited)"));
    }

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
