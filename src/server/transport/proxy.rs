//! The PROXY protocol preamble: before HTTP, a connection from a trusted
//! load balancer names the client it relays for.
//!
//! With `--proxy-protocol` on, a listener's connections must come from
//! `--trusted-proxies` and start with a valid header, read within the
//! header timeout; the header's source becomes the connection's client
//! address, and the bytes after it (often the start of the request, in the
//! same segment) are the first bytes HTTP reads ([`Accepted::preread`]).
//! Anything else is closed without a response, as the spec asks (a
//! response would be HTTP spoken to something that did not speak it), and
//! counted by reason in [`ProxyRejections`]. The parsing is
//! `proto::proxy`'s; this file only reads, times and counts.

use super::{read, Accepted, Transport};
use crate::proto::proxy::{parse_proxy_header, ProxyError, ProxyVersions};
use crate::server::client_address::TrustedProxies;
use bytes::{Buf, BytesMut};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{timeout_at, Instant};

/// Bytes asked of the transport per read of the preamble: a v1 line or a
/// typical v2 header and the request head behind it, in one read.
const PREAMBLE_READ_BYTES: usize = 2 * 1024;

/// What a listener with `--proxy-protocol` on requires of a connection
/// before HTTP.
#[derive(Debug)]
pub struct ProxyPreamble {
    versions: ProxyVersions,
    trusted: TrustedProxies,
    header_timeout: Duration,
    rejections: Arc<ProxyRejections>,
}

/// Why a connection was closed before HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Its peer is not in `--trusted-proxies`: only a trusted balancer may
    /// say whom a connection is from.
    Untrusted,
    /// No complete header within the header timeout.
    TimedOut,
    /// The peer closed (or reset) the connection before a complete header.
    Closed,
    /// The first bytes are not a header this listener accepts.
    Invalid(ProxyError),
}

/// Number of distinct rejection reasons: the three of [`Rejection`] and
/// each [`ProxyError`].
const REASONS: usize = 3 + ProxyError::ALL.len();

impl Rejection {
    /// Every reason, in [`Rejection::index`] order.
    pub fn all() -> impl Iterator<Item = Rejection> {
        [Rejection::Untrusted, Rejection::TimedOut, Rejection::Closed]
            .into_iter()
            .chain(ProxyError::ALL.into_iter().map(Rejection::Invalid))
    }

    fn index(self) -> usize {
        match self {
            Rejection::Untrusted => 0,
            Rejection::TimedOut => 1,
            Rejection::Closed => 2,
            Rejection::Invalid(error) => 3 + error.index(),
        }
    }

    /// A fixed label (a metric's `reason`): `untrusted`, `timeout`,
    /// `closed`, or the parser's reason.
    pub fn reason(self) -> &'static str {
        match self {
            Rejection::Untrusted => "untrusted",
            Rejection::TimedOut => "timeout",
            Rejection::Closed => "closed",
            Rejection::Invalid(error) => error.reason(),
        }
    }
}

/// Connections closed before HTTP, by reason, across every worker. A
/// rejection is rare and already costs a connection, so each count is one
/// relaxed atomic add; nothing here is touched on the request path.
#[derive(Debug, Default)]
pub struct ProxyRejections {
    counts: [AtomicU64; REASONS],
}

impl ProxyRejections {
    pub fn count(&self, rejection: Rejection) {
        self.counts[rejection.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// How many connections were closed for `rejection`.
    pub fn get(&self, rejection: Rejection) -> u64 {
        self.counts[rejection.index()].load(Ordering::Relaxed)
    }

    /// Every reason with its count (zeros included, so a scrape always
    /// shows the same series).
    pub fn by_reason(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        Rejection::all().map(|rejection| (rejection.reason(), self.get(rejection)))
    }

    pub fn total(&self) -> u64 {
        self.counts
            .iter()
            .map(|count| count.load(Ordering::Relaxed))
            .sum()
    }
}

impl crate::server::metrics::ProxyRejectionCounts for ProxyRejections {
    fn visit(&self, visit: &mut dyn FnMut(&'static str, u64)) {
        for (reason, count) in self.by_reason() {
            visit(reason, count);
        }
    }
}

impl ProxyPreamble {
    pub fn new(
        versions: ProxyVersions,
        trusted: TrustedProxies,
        header_timeout: Duration,
        rejections: Arc<ProxyRejections>,
    ) -> ProxyPreamble {
        ProxyPreamble {
            versions,
            trusted,
            header_timeout,
            rejections,
        }
    }

    /// Whether a connection from `peer` may go on to send a header; if not,
    /// it is counted, and the caller closes it at once.
    pub fn admits(&self, peer: SocketAddr) -> bool {
        let trusted = self.trusted.contains(peer.ip());
        if !trusted {
            self.rejections.count(Rejection::Untrusted);
        }
        trusted
    }

    /// Read the header from a connection's first bytes, within the header
    /// timeout: the connection with its client's address (the header's
    /// source, or `peer` for LOCAL and UNKNOWN headers) and the bytes that
    /// followed the header. A rejection is counted; the caller closes the
    /// transport by dropping it.
    pub async fn read_header<T: Transport>(
        &self,
        mut transport: T,
        peer: SocketAddr,
    ) -> Result<Accepted<T>, Rejection> {
        let result = self.read_header_within_timeout(&mut transport, peer).await;
        match result {
            Ok((client, preread)) => Ok(Accepted {
                transport,
                peer,
                client,
                preread,
            }),
            Err(rejection) => {
                self.rejections.count(rejection);
                Err(rejection)
            }
        }
    }

    async fn read_header_within_timeout<T: Transport>(
        &self,
        transport: &mut T,
        peer: SocketAddr,
    ) -> Result<(SocketAddr, BytesMut), Rejection> {
        let deadline = Instant::now() + self.header_timeout;
        let mut input = BytesMut::new();
        loop {
            // The parser bounds what is read: past a version's bound it
            // answers with an error, never "need more".
            match parse_proxy_header(&input, self.versions) {
                Ok(Some((header, used))) => {
                    input.advance(used);
                    let client = header.addresses.map_or(peer, |found| found.source);
                    return Ok((client, input));
                }
                Ok(None) => {}
                Err(error) => return Err(Rejection::Invalid(error)),
            }
            input.reserve(PREAMBLE_READ_BYTES);
            match timeout_at(deadline, read(transport, &mut input)).await {
                Err(_) => return Err(Rejection::TimedOut),
                Ok(Ok(0)) | Ok(Err(_)) => return Err(Rejection::Closed),
                Ok(Ok(_)) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::transport::test_transport::UnixTransport;
    use std::io::Write;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    fn preamble(versions: ProxyVersions, timeout: Duration) -> ProxyPreamble {
        ProxyPreamble::new(
            versions,
            "127.0.0.0/8".parse().unwrap(),
            timeout,
            Arc::new(ProxyRejections::default()),
        )
    }

    const PEER: &str = "127.0.0.1:40000";

    /// Send `bytes` in the given pieces (then keep the connection open
    /// until the reader is done) and read the header.
    fn read_from(
        preamble: &ProxyPreamble,
        pieces: Vec<Vec<u8>>,
        then_close: bool,
    ) -> Result<(SocketAddr, Vec<u8>), Rejection> {
        let runtime = runtime();
        let (transport, mut client) = runtime.block_on(async { UnixTransport::pair() });
        let writer = std::thread::spawn(move || {
            for piece in pieces {
                client.write_all(&piece).unwrap();
                std::thread::sleep(Duration::from_millis(1));
            }
            if then_close {
                drop(client);
                None
            } else {
                Some(client)
            }
        });
        let result = runtime.block_on(preamble.read_header(transport, PEER.parse().unwrap()));
        let _client = writer.join().unwrap();
        result.map(|accepted| {
            assert_eq!(accepted.peer, PEER.parse().unwrap());
            (accepted.client, accepted.preread.to_vec())
        })
    }

    #[test]
    fn a_header_split_byte_by_byte_names_the_client_and_keeps_what_follows() {
        let preamble = preamble(ProxyVersions::Any, Duration::from_secs(5));
        let sent = b"PROXY TCP4 203.0.113.7 192.0.2.1 51234 443\r\nGET / HTTP/1.1\r\n";
        let pieces = sent.iter().map(|&b| vec![b]).collect();
        let (client, preread) = read_from(&preamble, pieces, false).unwrap();
        assert_eq!(client, "203.0.113.7:51234".parse().unwrap());
        // Read one byte at a time, the header ends the read that completes
        // it; whatever came in that read is handed on.
        assert!(b"GET / HTTP/1.1\r\n".starts_with(&preread));
        assert_eq!(preamble.rejections.total(), 0);
    }

    #[test]
    fn bytes_after_the_header_in_the_same_read_are_handed_to_http() {
        let preamble = preamble(ProxyVersions::V1, Duration::from_secs(5));
        let sent = b"PROXY UNKNOWN\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec();
        let (client, preread) = read_from(&preamble, vec![sent], false).unwrap();
        assert_eq!(client, PEER.parse().unwrap(), "UNKNOWN keeps the peer");
        assert_eq!(preread, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    }

    #[test]
    fn rejections_are_counted_by_reason() {
        let preamble = preamble(ProxyVersions::V2, Duration::from_millis(200));
        let not_a_header = read_from(&preamble, vec![b"GET / HTTP/1.1\r\n".to_vec()], false);
        assert_eq!(
            not_a_header,
            Err(Rejection::Invalid(ProxyError::NotProxyHeader))
        );
        let closed = read_from(&preamble, vec![b"\r\n\r\n".to_vec()], true);
        assert_eq!(closed, Err(Rejection::Closed));
        let silent = read_from(&preamble, vec![], false);
        assert_eq!(silent, Err(Rejection::TimedOut));
        assert!(!preamble.admits("192.0.2.1:1".parse().unwrap()));
        assert!(preamble.admits("[::ffff:127.0.0.2]:1".parse().unwrap()));

        let counts: Vec<(&str, u64)> = preamble
            .rejections
            .by_reason()
            .filter(|(_, count)| *count > 0)
            .collect();
        assert_eq!(
            counts,
            [
                ("untrusted", 1),
                ("timeout", 1),
                ("closed", 1),
                ("not_proxy_header", 1)
            ]
        );
        assert_eq!(preamble.rejections.total(), 4);
        assert_eq!(preamble.rejections.by_reason().count(), REASONS);
    }
}
