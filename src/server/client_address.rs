//! Who a connection and a request are from, behind proxies.
//!
//! Without proxies the client is the socket's peer. Behind a load balancer
//! the peer is the balancer, and the client's address arrives in a PROXY
//! protocol header (per connection: `transport::proxy`) or in a forwarded
//! field (per request: [`ClientAddressPolicy::request_client`]). Both are
//! believed only from [`TrustedProxies`]: from anyone else they would let
//! a client pick the address it is logged under.

use crate::proto::forwarded::{self, ForwardingField, Hop};
use crate::proto::proxy::ProxyVersions;
use crate::proto::RequestHead;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// How the client's address is learned (`--proxy-protocol`,
/// `--trusted-proxies`, `--real-ip-header`). The default believes no one:
/// the socket's peer is the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientAddressPolicy {
    /// Whether connections start with a PROXY header, and of which
    /// versions. Default: off. When on, a connection from an address not
    /// in `trusted_proxies`, or whose first bytes are not a valid header
    /// within the header timeout, is closed without a response.
    pub proxy_protocol: Option<ProxyVersions>,
    /// Who may send PROXY headers and forwarded fields. Default: no one.
    pub trusted_proxies: TrustedProxies,
    /// The field whose chain names the client, read only on connections
    /// from a trusted proxy. Default: off.
    pub real_ip_header: Option<ForwardingField>,
}

impl ClientAddressPolicy {
    /// The client `head` is from, on a connection from `connection_client`
    /// (the PROXY header's source, or the socket's peer): with a real-IP
    /// field configured and `connection_client` trusted, the rightmost
    /// address in the field's chain that is not a trusted proxy; otherwise
    /// `connection_client` itself.
    pub fn request_client(
        &self,
        connection_client: SocketAddr,
        head: &RequestHead,
    ) -> ClientAddress {
        let connection = ClientAddress::from(connection_client);
        let Some(field) = self.real_ip_header else {
            return connection;
        };
        if !self.trusted_proxies.contains(connection_client.ip()) {
            return connection;
        }
        let mut hops: Vec<Hop> = Vec::new();
        for value in head.fields_named(field.name()) {
            forwarded::parse_hops(field, value, &mut hops);
        }
        match forwarded::rightmost_untrusted(&hops, |ip| self.trusted_proxies.contains(ip)) {
            Some(found) => ClientAddress {
                ip: found.ip,
                port: found.port,
            },
            None => connection,
        }
    }
}

/// A client's address, with its port when known: a forwarded field often
/// names the address alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress {
    pub ip: IpAddr,
    pub port: Option<u16>,
}

impl From<SocketAddr> for ClientAddress {
    fn from(address: SocketAddr) -> ClientAddress {
        ClientAddress {
            ip: address.ip(),
            port: Some(address.port()),
        }
    }
}

/// The addresses allowed to speak for others (`--trusted-proxies`): a list
/// of CIDR ranges, each also given as a single address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    ranges: Vec<Cidr>,
}

impl TrustedProxies {
    /// Whether `ip` is in one of the ranges. An IPv4-mapped IPv6 address (an
    /// IPv4 client of a dual-stack socket) is its IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.ranges.iter().any(|range| range.contains(ip))
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Both lists' ranges (the flag may be given more than once).
    pub fn merged(mut self, other: TrustedProxies) -> TrustedProxies {
        self.ranges.extend(other.ranges);
        self
    }
}

impl std::str::FromStr for TrustedProxies {
    type Err = String;

    /// `CIDR,...`: comma-separated ranges (`10.0.0.0/8`, `2001:db8::/32`)
    /// or addresses (`192.0.2.1`, `::1`); spaces around items are allowed.
    fn from_str(text: &str) -> Result<TrustedProxies, String> {
        let ranges = text
            .split(',')
            .map(|item| item.trim().parse::<Cidr>())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustedProxies { ranges })
    }
}

/// An address range: the first `prefix_len` bits of `network`. IPv4
/// ranges are kept as IPv4, and so are IPv6 ranges inside `::ffff:0:0/96`
/// (IPv4-mapped addresses), since the addresses they are matched against
/// are made canonical first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix_len: u8,
}

impl Cidr {
    /// Whether `ip` (already canonical) is in the range.
    fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(network), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix_len))
                    .unwrap_or(0);
                u32::from(ip) & mask == u32::from(network)
            }
            (IpAddr::V6(network), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix_len))
                    .unwrap_or(0);
                u128::from(ip) & mask == u128::from(network)
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Cidr, String> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("{text:?} is not an address or CIDR range"))?;
        let bits: u8 = if network.is_ipv4() { 32 } else { 128 };
        let prefix_len = match prefix {
            None => bits,
            Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                match digits.parse::<u8>() {
                    Ok(len) if len <= bits => len,
                    _ => return Err(format!("{text:?}: the prefix length is over {bits}")),
                }
            }
            Some(_) => return Err(format!("{text:?}: the prefix length is not a number")),
        };
        let cidr = Cidr {
            network,
            prefix_len,
        };
        if !cidr.contains(network) {
            let masked = cidr.masked();
            return Err(format!(
                "{text:?} has bits set past its prefix (did you mean {masked}/{prefix_len}?)"
            ));
        }
        Ok(cidr.canonical())
    }
}

impl Cidr {
    /// The network address with the bits past the prefix cleared.
    fn masked(&self) -> IpAddr {
        match self.network {
            IpAddr::V4(ip) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix_len))
                    .unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(u32::from(ip) & mask))
            }
            IpAddr::V6(ip) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix_len))
                    .unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(ip) & mask))
            }
        }
    }

    /// A range of IPv4-mapped IPv6 addresses as the IPv4 range it is.
    fn canonical(self) -> Cidr {
        match self.network {
            IpAddr::V6(ip) if self.prefix_len >= 96 => match ip.to_ipv4_mapped() {
                Some(v4) => Cidr {
                    network: IpAddr::V4(v4),
                    prefix_len: self.prefix_len - 96,
                },
                None => self,
            },
            _ => self,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(list: &str) -> TrustedProxies {
        list.parse().unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ranges_contain_their_addresses_and_no_others() {
        let list = trusted("10.0.0.0/8, 192.0.2.1,2001:db8::/32 ,::1, 172.16.0.0/12");
        for inside in [
            "10.0.0.0",
            "10.255.255.255",
            "192.0.2.1",
            "2001:db8::",
            "2001:db8:ffff:ffff::1",
            "::1",
            "172.31.255.255",
        ] {
            assert!(list.contains(ip(inside)), "{inside}");
        }
        for outside in [
            "11.0.0.0",
            "9.255.255.255",
            "192.0.2.2",
            "2001:db9::",
            "::2",
            "172.32.0.0",
            "0.0.0.1",
        ] {
            assert!(!list.contains(ip(outside)), "{outside}");
        }
        assert!(!TrustedProxies::default().contains(ip("127.0.0.1")));
    }

    #[test]
    fn zero_and_full_prefixes() {
        assert!(trusted("0.0.0.0/0").contains(ip("203.0.113.7")));
        assert!(!trusted("0.0.0.0/0").contains(ip("2001:db8::1")));
        assert!(trusted("::/0").contains(ip("2001:db8::1")));
        assert!(trusted("203.0.113.7/32").contains(ip("203.0.113.7")));
        assert!(!trusted("203.0.113.7/32").contains(ip("203.0.113.6")));
        assert!(trusted("2001:db8::1/128").contains(ip("2001:db8::1")));
    }

    /// A dual-stack listener sees an IPv4 client as `::ffff:a.b.c.d`: it is
    /// still in the IPv4 range, and an IPv4-mapped range matches IPv4 too.
    #[test]
    fn ipv4_mapped_peers_match_ipv4_ranges() {
        let list = trusted("127.0.0.0/8");
        assert!(list.contains(ip("::ffff:127.0.0.1")));
        assert!(!list.contains(ip("::ffff:128.0.0.1")));
        let mapped = trusted("::ffff:10.0.0.0/104");
        assert!(mapped.contains(ip("10.1.2.3")));
        assert!(mapped.contains(ip("::ffff:10.1.2.3")));
        assert!(!mapped.contains(ip("11.1.2.3")));
        // ::1 is not IPv4-mapped, and 0.0.0.1 is not ::1.
        assert!(!trusted("::1").contains(ip("0.0.0.1")));
    }

    #[test]
    fn bad_ranges_are_refused_with_a_reason() {
        for (text, says) in [
            ("10.0.0.0/33", "over 32"),
            ("2001:db8::/129", "over 128"),
            ("10.0.0.0/", "not a number"),
            ("10.0.0.0/+8", "not a number"),
            ("10.0.0.0/8/8", "not a number"),
            ("10.0.0.1/8", "did you mean 10.0.0.0/8?"),
            ("2001:db8::1/32", "did you mean 2001:db8::/32?"),
            ("10.0.0", "not an address"),
            ("example.com", "not an address"),
            ("", "not an address"),
            ("10.0.0.0/8,", "not an address"),
        ] {
            let error = text.parse::<TrustedProxies>().unwrap_err();
            assert!(error.contains(says), "{text:?}: {error}");
        }
    }

    fn head(fields: &[(&str, &str)]) -> RequestHead {
        RequestHead::for_test("GET", "/", fields)
    }

    fn policy(field: Option<ForwardingField>) -> ClientAddressPolicy {
        ClientAddressPolicy {
            proxy_protocol: None,
            trusted_proxies: trusted("10.0.0.0/8"),
            real_ip_header: field,
        }
    }

    #[test]
    fn forwarded_fields_are_read_only_from_trusted_connections() {
        let request = head(&[("X-Forwarded-For", "203.0.113.7, 10.0.0.9")]);
        let from_proxy: SocketAddr = "10.0.0.2:4000".parse().unwrap();
        let from_client: SocketAddr = "198.51.100.1:5000".parse().unwrap();
        let with_field = policy(Some(ForwardingField::XForwardedFor));
        assert_eq!(
            with_field.request_client(from_proxy, &request),
            ClientAddress {
                ip: ip("203.0.113.7"),
                port: None
            }
        );
        // An untrusted peer's field is ignored: it names itself.
        assert_eq!(
            with_field.request_client(from_client, &request),
            ClientAddress::from(from_client)
        );
        // Off by default, even from a trusted peer.
        assert_eq!(
            policy(None).request_client(from_proxy, &request),
            ClientAddress::from(from_proxy)
        );
        // The other field is not read.
        assert_eq!(
            policy(Some(ForwardingField::Forwarded)).request_client(from_proxy, &request),
            ClientAddress::from(from_proxy)
        );
        // A trusted IPv4 peer on a dual-stack socket.
        let mapped: SocketAddr = "[::ffff:10.0.0.2]:4000".parse().unwrap();
        assert_eq!(
            with_field.request_client(mapped, &request).ip,
            ip("203.0.113.7")
        );
        // No field, or nothing usable at its right end: the peer stands.
        assert_eq!(
            with_field.request_client(from_proxy, &head(&[])),
            ClientAddress::from(from_proxy)
        );
        let forwarded = head(&[
            ("Forwarded", "for=203.0.113.7"),
            ("Forwarded", "for=\"[2001:db8::7]:4711\", for=10.0.0.9"),
        ]);
        assert_eq!(
            policy(Some(ForwardingField::Forwarded)).request_client(from_proxy, &forwarded),
            ClientAddress {
                ip: ip("2001:db8::7"),
                port: Some(4711)
            }
        );
    }
}
