//! The listening socket and the process limits it depends on.

use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, TcpListener};

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
/// too; where the machine has no IPv6 it falls back to `0.0.0.0`.
pub fn listen(addr: SocketAddr) -> Result<TcpListener, ListenError> {
    match bind(addr) {
        Err(e) if addr.ip() == IpAddr::V6(Ipv6Addr::UNSPECIFIED) && is_no_ipv6(&e) => {
            let v4 = SocketAddr::from(([0, 0, 0, 0], addr.port()));
            bind(v4).map_err(|source| ListenError { addr: v4, source })
        }
        result => result.map_err(|source| ListenError { addr, source }),
    }
}

fn is_no_ipv6(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::AddrNotAvailable
        || e.raw_os_error() == Some(rustix::io::Errno::AFNOSUPPORT.raw_os_error())
}

fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
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
    socket.bind(&addr.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    Ok(socket.into())
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
        let listener = listen(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
        listener.set_nonblocking(false).unwrap();
        let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (accepted, _) = listener.accept().unwrap();
        assert!(accepted.nodelay().unwrap());
    }
}
