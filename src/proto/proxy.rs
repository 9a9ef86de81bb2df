//! The PROXY protocol header (haproxy's `doc/proxy-protocol.txt`, versions 1
//! and 2): what a load balancer sends before the first byte of a connection
//! it relays, naming the client it relays for.
//!
//! [`parse_proxy_header`] works like the request parser: over a borrowed
//! buffer, it returns `Ok(None)` until a whole header is there, then the
//! header and the bytes it used; what follows (the HTTP request, often in
//! the same segment) is left untouched. Any prefix of an input gives either
//! "need more" or the whole input's answer, so the answer does not depend on
//! how TCP split the bytes. Both formats are bounded: a version 1 line is at
//! most [`MAX_V1_LINE_BYTES`], a version 2 header at most
//! [`MAX_V2_HEADER_BYTES`].
//!
//! Addresses are `core::net` values: plain data, no sockets. Who may send a
//! header, and what the server does after an error (it closes the
//! connection without a response: the spec's §2.1 "abort the connection"),
//! is `server`'s business.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The longest version 1 line, CRLF included (§2.1: `PROXY UNKNOWN` with two
/// full IPv6 addresses and two five-digit ports). With no CRLF by then the
/// line is refused.
pub const MAX_V1_LINE_BYTES: usize = 107;

/// The version 2 signature (§2.2): it cannot start an HTTP request, a TLS
/// record or a version 1 line.
pub const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";

/// The largest version 2 header accepted, fixed part included: the 16
/// fixed bytes, the addresses (216 bytes at most, for AF_UNIX) and TLVs. The
/// length field allows 64 KiB; balancers send a few dozen bytes of TLVs
/// (AWS's VPC endpoint, Azure's link ID, haproxy's SSL details), so 4 KiB
/// leaves room and bounds what a connection buffers before HTTP starts.
pub const MAX_V2_HEADER_BYTES: usize = 4096;

/// The version 2 fixed part: signature, version and command, family and
/// protocol, length.
const V2_FIXED_BYTES: usize = 16;

/// The version 1 signature, with the space that follows it.
const V1_SIGNATURE: &[u8] = b"PROXY ";

/// Which versions a listener accepts (`--proxy-protocol v1|v2|any`). The spec
/// (§2) forbids guessing whether a header is there at all; it allows a
/// receiver to accept both versions, told apart by their signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyVersions {
    V1,
    V2,
    Any,
}

impl ProxyVersions {
    fn accepts(self, version: ProxyVersion) -> bool {
        matches!(
            (self, version),
            (ProxyVersions::Any, _)
                | (ProxyVersions::V1, ProxyVersion::V1)
                | (ProxyVersions::V2, ProxyVersion::V2)
        )
    }

    /// The flag's spelling: `v1`, `v2` or `any`.
    pub fn name(self) -> &'static str {
        match self {
            ProxyVersions::V1 => "v1",
            ProxyVersions::V2 => "v2",
            ProxyVersions::Any => "any",
        }
    }
}

impl core::str::FromStr for ProxyVersions {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "v1" => Ok(ProxyVersions::V1),
            "v2" => Ok(ProxyVersions::V2),
            "any" => Ok(ProxyVersions::Any),
            _ => Err(format!("expected v1, v2 or any, got {text:?}")),
        }
    }
}

/// The version a header was sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyVersion {
    V1,
    V2,
}

/// A parsed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyHeader {
    pub version: ProxyVersion,
    /// The relayed connection's endpoints, or `None` when the connection is
    /// to be taken as it is, with the socket's own addresses: version 1
    /// `UNKNOWN`, version 2 `LOCAL` (a balancer's health check), and version
    /// 2 families or protocols other than TCP over IPv4 or IPv6 (§2.2 lets a
    /// receiver fall back to "unspecified" for those).
    pub addresses: Option<ProxiedAddresses>,
}

/// The endpoints of the connection a balancer relays: the client's
/// (`source`) and the one the client connected to (`destination`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxiedAddresses {
    pub source: SocketAddr,
    pub destination: SocketAddr,
}

/// Why a connection's first bytes are not a header this listener accepts.
/// Each closes the connection without a response (§2.1: "abort").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyError {
    /// The bytes start with neither signature: `PROXY ` (v1) nor the 12-byte
    /// v2 block. A plain HTTP request sent where a header must come lands
    /// here.
    NotProxyHeader,
    /// A well-signed header of a version the listener does not accept
    /// (`--proxy-protocol v1` receiving v2, or the reverse).
    VersionNotAccepted,
    /// v1: no CRLF within [`MAX_V1_LINE_BYTES`] (§2.1).
    V1LineTooLong,
    /// v1: a CR not followed by LF, or a LF without CR (§2.1: "must not
    /// tolerate a single CR or LF").
    V1BareLineEnding,
    /// v1: a protocol other than `TCP4`, `TCP6` or `UNKNOWN`.
    V1UnknownProtocol,
    /// v1: not exactly `proto SP src SP dst SP sport SP dport` (a field
    /// missing or extra, or two spaces in a row).
    V1Malformed,
    /// v1: an address that is not one of its protocol's family, in
    /// canonical text (IPv4 without leading zeroes).
    V1InvalidAddress,
    /// v1: a port that is not decimal 0 to 65535 without leading zeroes.
    V1InvalidPort,
    /// v2: a version other than 2 in the 13th byte's high nibble.
    V2UnsupportedVersion,
    /// v2: a command other than LOCAL (0) or PROXY (1).
    V2UnknownCommand,
    /// v2 PROXY: an address family above AF_UNIX (3) or a transport
    /// protocol above DGRAM (2) (§2.2: "must be rejected as invalid").
    V2UnknownFamily,
    /// v2: the length field announces a header over [`MAX_V2_HEADER_BYTES`].
    V2TooLong,
    /// v2: fewer bytes than the family's addresses take (12 for IPv4, 36 for
    /// IPv6, 216 for AF_UNIX).
    V2AddressesTruncated,
    /// v2: the bytes after the addresses are not a sequence of whole TLVs
    /// (type, 16-bit length, value).
    V2MalformedTlv,
}

impl ProxyError {
    /// Every variant, for counters indexed by [`ProxyError::index`].
    pub const ALL: [ProxyError; 14] = [
        ProxyError::NotProxyHeader,
        ProxyError::VersionNotAccepted,
        ProxyError::V1LineTooLong,
        ProxyError::V1BareLineEnding,
        ProxyError::V1UnknownProtocol,
        ProxyError::V1Malformed,
        ProxyError::V1InvalidAddress,
        ProxyError::V1InvalidPort,
        ProxyError::V2UnsupportedVersion,
        ProxyError::V2UnknownCommand,
        ProxyError::V2UnknownFamily,
        ProxyError::V2TooLong,
        ProxyError::V2AddressesTruncated,
        ProxyError::V2MalformedTlv,
    ];

    /// This variant's position in [`ProxyError::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// A fixed label for logs and metrics (a fixed set: nothing a peer
    /// sends can make a new one).
    pub fn reason(self) -> &'static str {
        match self {
            ProxyError::NotProxyHeader => "not_proxy_header",
            ProxyError::VersionNotAccepted => "version_not_accepted",
            ProxyError::V1LineTooLong => "v1_line_too_long",
            ProxyError::V1BareLineEnding => "v1_bare_line_ending",
            ProxyError::V1UnknownProtocol => "v1_unknown_protocol",
            ProxyError::V1Malformed => "v1_malformed",
            ProxyError::V1InvalidAddress => "v1_invalid_address",
            ProxyError::V1InvalidPort => "v1_invalid_port",
            ProxyError::V2UnsupportedVersion => "v2_unsupported_version",
            ProxyError::V2UnknownCommand => "v2_unknown_command",
            ProxyError::V2UnknownFamily => "v2_unknown_family",
            ProxyError::V2TooLong => "v2_too_long",
            ProxyError::V2AddressesTruncated => "v2_addresses_truncated",
            ProxyError::V2MalformedTlv => "v2_malformed_tlv",
        }
    }
}

impl core::fmt::Display for ProxyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.reason())
    }
}

impl std::error::Error for ProxyError {}

/// Parse the PROXY header at the start of `input`, of a version `accepted`
/// allows: the header and the bytes it used, `Ok(None)` if more bytes are
/// needed to tell, or why these bytes are refused.
///
/// The answer is decided as early as the bytes allow (the first byte of a
/// plain HTTP request is refused at once), never later than the bound of
/// the version being read.
pub fn parse_proxy_header(
    input: &[u8],
    accepted: ProxyVersions,
) -> Result<Option<(ProxyHeader, usize)>, ProxyError> {
    let (signature, version): (&[u8], ProxyVersion) = match input.first() {
        None => return Ok(None),
        Some(b'P') => (V1_SIGNATURE, ProxyVersion::V1),
        Some(b'\r') => (&V2_SIGNATURE, ProxyVersion::V2),
        Some(_) => return Err(ProxyError::NotProxyHeader),
    };
    let seen = input.len().min(signature.len());
    if input[..seen] != signature[..seen] {
        return Err(ProxyError::NotProxyHeader);
    }
    if seen < signature.len() {
        return Ok(None);
    }
    if !accepted.accepts(version) {
        return Err(ProxyError::VersionNotAccepted);
    }
    match version {
        ProxyVersion::V1 => parse_v1(input),
        ProxyVersion::V2 => parse_v2(input),
    }
}

/// Version 1: `PROXY SP proto SP src SP dst SP sport SP dport CRLF`, or
/// `PROXY SP UNKNOWN [anything] CRLF`. `input` starts with `PROXY `.
fn parse_v1(input: &[u8]) -> Result<Option<(ProxyHeader, usize)>, ProxyError> {
    // The first CR or LF ends the line, and it must be a CR followed by LF
    // within the bound; until one arrives, only the bound can refuse.
    let window = &input[..input.len().min(MAX_V1_LINE_BYTES)];
    let cr = match memchr::memchr2(b'\r', b'\n', window) {
        None if input.len() >= MAX_V1_LINE_BYTES => return Err(ProxyError::V1LineTooLong),
        None => return Ok(None),
        Some(at) if window[at] == b'\n' => return Err(ProxyError::V1BareLineEnding),
        Some(at) => at,
    };
    let used = cr + 2;
    if used > MAX_V1_LINE_BYTES {
        return Err(ProxyError::V1LineTooLong);
    }
    match input.get(cr + 1) {
        None => return Ok(None),
        Some(b'\n') => {}
        Some(_) => return Err(ProxyError::V1BareLineEnding),
    }
    let addresses = parse_v1_fields(&input[V1_SIGNATURE.len()..cr])?;
    let header = ProxyHeader {
        version: ProxyVersion::V1,
        addresses,
    };
    Ok(Some((header, used)))
}

/// The fields of a version 1 line after `PROXY `, without the CRLF.
fn parse_v1_fields(line: &[u8]) -> Result<Option<ProxiedAddresses>, ProxyError> {
    let mut fields = line.split(|&b| b == b' ');
    let protocol = fields.next().unwrap_or_default();
    let is_v6 = match protocol {
        // §2.1: the receiver ignores whatever follows UNKNOWN before the CRLF.
        b"UNKNOWN" => return Ok(None),
        b"TCP4" => false,
        b"TCP6" => true,
        _ => return Err(ProxyError::V1UnknownProtocol),
    };
    let mut next = || match fields.next() {
        Some(field) if !field.is_empty() => Ok(field),
        _ => Err(ProxyError::V1Malformed),
    };
    let (source, destination) = (next()?, next()?);
    let (source_port, destination_port) = (next()?, next()?);
    if fields.next().is_some() {
        return Err(ProxyError::V1Malformed);
    }
    let source_ip = parse_v1_address(source, is_v6)?;
    let destination_ip = parse_v1_address(destination, is_v6)?;
    Ok(Some(ProxiedAddresses {
        source: SocketAddr::new(source_ip, parse_v1_port(source_port)?),
        destination: SocketAddr::new(destination_ip, parse_v1_port(destination_port)?),
    }))
}

/// An address of the line's family. The standard parsers are the strict
/// ones §2.1 asks for: IPv4 as four decimal numbers without leading zeroes,
/// IPv6 as colon-separated hex groups with at most one `::`.
fn parse_v1_address(text: &[u8], is_v6: bool) -> Result<IpAddr, ProxyError> {
    let text = core::str::from_utf8(text).map_err(|_| ProxyError::V1InvalidAddress)?;
    let parsed = if is_v6 {
        text.parse::<Ipv6Addr>().map(IpAddr::V6)
    } else {
        text.parse::<Ipv4Addr>().map(IpAddr::V4)
    };
    parsed.map_err(|_| ProxyError::V1InvalidAddress)
}

/// A port: `0`, or one to five digits without a leading zero, at most
/// 65535. (`str::parse` would also take a `+` sign.)
fn parse_v1_port(text: &[u8]) -> Result<u16, ProxyError> {
    let well_formed = matches!(text, [b'0'] | [b'1'..=b'9', ..])
        && text.len() <= 5
        && text.iter().all(u8::is_ascii_digit);
    if !well_formed {
        return Err(ProxyError::V1InvalidPort);
    }
    let value = text
        .iter()
        .fold(0u32, |value, &digit| value * 10 + u32::from(digit - b'0'));
    u16::try_from(value).map_err(|_| ProxyError::V1InvalidPort)
}

/// Version 2: the signature, then version and command, family and protocol,
/// a big-endian length, and that many bytes of addresses and TLVs. `input`
/// starts with the signature.
fn parse_v2(input: &[u8]) -> Result<Option<(ProxyHeader, usize)>, ProxyError> {
    let [.., version_command, family_protocol, length_high, length_low] =
        match input.get(..V2_FIXED_BYTES) {
            Some(fixed) => <[u8; V2_FIXED_BYTES]>::try_from(fixed).expect("16 bytes taken"),
            None => return Ok(None),
        };
    if version_command >> 4 != 2 {
        return Err(ProxyError::V2UnsupportedVersion);
    }
    let is_local = match version_command & 0x0F {
        0 => true,
        1 => false,
        _ => return Err(ProxyError::V2UnknownCommand),
    };
    // LOCAL ignores the family (§2.2: "discard the protocol block including
    // the family"); PROXY must name a defined one.
    let (family, protocol) = (family_protocol >> 4, family_protocol & 0x0F);
    if !is_local && (family > 3 || protocol > 2) {
        return Err(ProxyError::V2UnknownFamily);
    }
    let length = usize::from(u16::from_be_bytes([length_high, length_low]));
    if V2_FIXED_BYTES + length > MAX_V2_HEADER_BYTES {
        return Err(ProxyError::V2TooLong);
    }
    let used = V2_FIXED_BYTES + length;
    let Some(block) = input.get(V2_FIXED_BYTES..used) else {
        return Ok(None);
    };
    let header = |addresses| {
        Ok(Some((
            ProxyHeader {
                version: ProxyVersion::V2,
                addresses,
            },
            used,
        )))
    };
    if is_local {
        return header(None);
    }
    // The address block's size for each family with a defined protocol
    // (STREAM or DGRAM); with UNSPEC in either, nothing is known of its
    // layout, so it is skipped whole, TLVs and all.
    let address_bytes = match (family, protocol) {
        (1, 1 | 2) => 12,
        (2, 1 | 2) => 36,
        (3, 1 | 2) => 216,
        _ => return header(None),
    };
    let Some((addresses, tlvs)) = block.split_at_checked(address_bytes) else {
        return Err(ProxyError::V2AddressesTruncated);
    };
    check_tlvs(tlvs)?;
    // Only TCP names a client this server can have: UDP and AF_UNIX fall
    // back to the socket's addresses, as §2.2 allows for what a receiver
    // does not support.
    let addresses = match (family, protocol) {
        (1, 1) => {
            let ip = |at: usize| {
                IpAddr::V4(Ipv4Addr::from(
                    <[u8; 4]>::try_from(&addresses[at..at + 4]).expect("4 bytes"),
                ))
            };
            Some(v2_endpoints(ip(0), ip(4), &addresses[8..12]))
        }
        (2, 1) => {
            let ip = |at: usize| {
                IpAddr::V6(Ipv6Addr::from(
                    <[u8; 16]>::try_from(&addresses[at..at + 16]).expect("16 bytes"),
                ))
            };
            Some(v2_endpoints(ip(0), ip(16), &addresses[32..36]))
        }
        _ => None,
    };
    header(addresses)
}

/// Source and destination from their addresses and the four port bytes
/// (source port first, both big-endian).
fn v2_endpoints(source: IpAddr, destination: IpAddr, ports: &[u8]) -> ProxiedAddresses {
    ProxiedAddresses {
        source: SocketAddr::new(source, u16::from_be_bytes([ports[0], ports[1]])),
        destination: SocketAddr::new(destination, u16::from_be_bytes([ports[2], ports[3]])),
    }
}

/// The TLVs after the addresses must tile the rest of the block exactly:
/// each a type byte, a big-endian 16-bit length and that many bytes. Their
/// contents are not needed (a CRC32C one is not checked: §2.2.3 asks that
/// only of receivers that support it) and are skipped. The walk is bounded
/// by the block, itself under [`MAX_V2_HEADER_BYTES`].
fn check_tlvs(mut tlvs: &[u8]) -> Result<(), ProxyError> {
    while !tlvs.is_empty() {
        let [_type, length_high, length_low, rest @ ..] = tlvs else {
            return Err(ProxyError::V2MalformedTlv);
        };
        let length = usize::from(u16::from_be_bytes([*length_high, *length_low]));
        tlvs = rest.get(length..).ok_or(ProxyError::V2MalformedTlv)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Parsed = Result<Option<(ProxyHeader, usize)>, ProxyError>;

    /// What follows a header: the HTTP request, untouched.
    const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

    /// Feed `input` whole, one byte at a time, split at every point, and
    /// with a request after it; every way must give the same answer, and
    /// the request must be left for HTTP.
    fn parse_all_ways(input: &[u8], accepted: ProxyVersions) -> Parsed {
        let whole = parse_proxy_header(input, accepted);

        let mut trickled = Ok(None);
        for end in 0..=input.len() {
            trickled = parse_proxy_header(&input[..end], accepted);
            if !matches!(trickled, Ok(None)) {
                break;
            }
        }
        assert_eq!(trickled, whole, "byte by byte vs whole: {input:?}");

        for split in 0..input.len() {
            let first = parse_proxy_header(&input[..split], accepted);
            assert!(
                first == Ok(None) || first == whole,
                "prefix of {split} bytes gave {first:?}, whole gave {whole:?}: {input:?}"
            );
            assert_eq!(parse_proxy_header(input, accepted), whole);
        }

        if !matches!(whole, Ok(None)) {
            let mut extended = input.to_vec();
            extended.extend_from_slice(REQUEST);
            let with_more = parse_proxy_header(&extended, accepted);
            assert_eq!(with_more, whole, "with a request after: {input:?}");
            if let Ok(Some((_, used))) = with_more {
                assert_eq!(&extended[used..], REQUEST);
            }
        }
        whole
    }

    fn parsed(input: &[u8], accepted: ProxyVersions) -> (ProxyHeader, usize) {
        match parse_all_ways(input, accepted) {
            Ok(Some(parsed)) => parsed,
            other => panic!("expected a header from {input:?}, got {other:?}"),
        }
    }

    fn addresses(source: &str, destination: &str) -> Option<ProxiedAddresses> {
        Some(ProxiedAddresses {
            source: source.parse().unwrap(),
            destination: destination.parse().unwrap(),
        })
    }

    /// A version 2 header: `version_command`, `family_protocol`, then
    /// `block` with its length.
    fn v2(version_command: u8, family_protocol: u8, block: &[u8]) -> Vec<u8> {
        let mut out = V2_SIGNATURE.to_vec();
        out.push(version_command);
        out.push(family_protocol);
        out.extend_from_slice(&u16::try_from(block.len()).unwrap().to_be_bytes());
        out.extend_from_slice(block);
        out
    }

    /// TCP over IPv4 from 203.0.113.7:51234 to 192.0.2.1:443.
    const V4_BLOCK: [u8; 12] = [203, 0, 113, 7, 192, 0, 2, 1, 0xC8, 0x22, 0x01, 0xBB];

    fn v6_block() -> Vec<u8> {
        let mut block = "2001:db8::7".parse::<Ipv6Addr>().unwrap().octets().to_vec();
        block.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
        block.extend_from_slice(&[0xC8, 0x22, 0x01, 0xBB]);
        block
    }

    fn tlv(kind: u8, value: &[u8]) -> Vec<u8> {
        let mut out = vec![kind];
        out.extend_from_slice(&u16::try_from(value.len()).unwrap().to_be_bytes());
        out.extend_from_slice(value);
        out
    }

    #[test]
    fn v1_tcp4_and_tcp6_name_the_client() {
        let line = b"PROXY TCP4 203.0.113.7 192.0.2.1 51234 443\r\n";
        let (header, used) = parsed(line, ProxyVersions::V1);
        assert_eq!(used, line.len());
        assert_eq!(header.version, ProxyVersion::V1);
        assert_eq!(
            header.addresses,
            addresses("203.0.113.7:51234", "192.0.2.1:443")
        );

        let line = b"PROXY TCP6 2001:db8::7 2001:DB8:0:0:0:0:0:1 0 65535\r\n";
        let (header, used) = parsed(line, ProxyVersions::Any);
        assert_eq!(used, line.len());
        assert_eq!(
            header.addresses,
            addresses("[2001:db8::7]:0", "[2001:db8::1]:65535")
        );
    }

    #[test]
    fn v1_unknown_keeps_the_socket_addresses_and_ignores_the_rest() {
        for line in [
            &b"PROXY UNKNOWN\r\n"[..],
            b"PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
            b"PROXY UNKNOWN anything at all, even \x00\r\n",
        ] {
            let (header, used) = parsed(line, ProxyVersions::V1);
            assert_eq!(header.addresses, None, "{line:?}");
            assert_eq!(used, line.len());
        }
    }

    #[test]
    fn v1_line_of_exactly_the_bound_is_accepted() {
        // §2.1's worst case is exactly 107 bytes.
        let line = b"PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
        assert_eq!(line.len(), MAX_V1_LINE_BYTES);
        assert_eq!(parsed(line, ProxyVersions::V1).1, MAX_V1_LINE_BYTES);
    }

    #[test]
    fn v2_proxy_over_tcp4_and_tcp6_names_the_client() {
        let (header, used) = parsed(&v2(0x21, 0x11, &V4_BLOCK), ProxyVersions::V2);
        assert_eq!(used, 16 + 12);
        assert_eq!(header.version, ProxyVersion::V2);
        assert_eq!(
            header.addresses,
            addresses("203.0.113.7:51234", "192.0.2.1:443")
        );

        let (header, used) = parsed(&v2(0x21, 0x21, &v6_block()), ProxyVersions::Any);
        assert_eq!(used, 16 + 36);
        assert_eq!(
            header.addresses,
            addresses("[2001:db8::7]:51234", "[2001:db8::1]:443")
        );
    }

    #[test]
    fn v2_tlvs_are_skipped_and_counted_in_the_length() {
        let mut block = V4_BLOCK.to_vec();
        block.extend(tlv(0x01, b"http/1.1")); // ALPN
        block.extend(tlv(0x02, b"example.com")); // AUTHORITY
        block.extend(tlv(0x04, b"")); // NOOP, empty
        block.extend(tlv(0xEA, &[0x01; 300])); // AWS-style custom TLV
        block.extend(tlv(0x03, &[0, 0, 0, 0])); // CRC32C, not checked
        let input = v2(0x21, 0x11, &block);
        let (header, used) = parsed(&input, ProxyVersions::V2);
        assert_eq!(used, input.len());
        assert_eq!(
            header.addresses,
            addresses("203.0.113.7:51234", "192.0.2.1:443")
        );
    }

    #[test]
    fn v2_local_keeps_the_socket_addresses_whatever_follows() {
        // A health check: no addresses, or addresses and a family that are
        // ignored, or a family byte no PROXY command may carry.
        for (family, block) in [
            (0x00, Vec::new()),
            (0x11, V4_BLOCK.to_vec()),
            (0xFF, vec![1, 2, 3]),
        ] {
            let input = v2(0x20, family, &block);
            let (header, used) = parsed(&input, ProxyVersions::V2);
            assert_eq!(header.addresses, None, "family {family:#x}");
            assert_eq!(used, input.len());
        }
    }

    #[test]
    fn v2_families_without_a_tcp_client_keep_the_socket_addresses() {
        let unix = [0u8; 216];
        for (family, block) in [
            (0x00, &[][..]),        // UNSPEC
            (0x00, &[9, 9, 9][..]), // UNSPEC: whatever it holds is skipped
            (0x10, &V4_BLOCK[..]),  // AF_INET, protocol UNSPEC
            (0x01, &[][..]),        // family UNSPEC, STREAM
            (0x12, &V4_BLOCK[..]),  // UDP over IPv4
            (0x31, &unix[..]),      // UNIX stream
            (0x32, &unix[..]),      // UNIX datagram
        ] {
            let input = v2(0x21, family, block);
            let (header, used) = parsed(&input, ProxyVersions::Any);
            assert_eq!(header.addresses, None, "family {family:#x}");
            assert_eq!(used, input.len());
        }
        let mut udp6 = v6_block();
        udp6.extend(tlv(0x05, b"id"));
        let (header, _) = parsed(&v2(0x21, 0x22, &udp6), ProxyVersions::Any);
        assert_eq!(header.addresses, None);
    }

    #[test]
    fn v2_of_exactly_the_bound_is_accepted() {
        let mut block = V4_BLOCK.to_vec();
        block.extend(tlv(0xE0, &vec![0; MAX_V2_HEADER_BYTES - 16 - 12 - 3]));
        let input = v2(0x21, 0x11, &block);
        assert_eq!(input.len(), MAX_V2_HEADER_BYTES);
        assert_eq!(parsed(&input, ProxyVersions::V2).1, MAX_V2_HEADER_BYTES);
    }

    #[test]
    fn empty_and_partial_signatures_need_more() {
        for input in [
            &b""[..],
            b"P",
            b"PROXY",
            b"PROXY TCP4 1.2.3.4",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r",
            b"\r\n\r\n\0\r\nQUI",
            b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00",
        ] {
            assert_eq!(
                parse_proxy_header(input, ProxyVersions::Any),
                Ok(None),
                "{input:?}"
            );
        }
        // Twelve of twenty-eight bytes of a v2 header.
        let input = v2(0x21, 0x11, &V4_BLOCK);
        assert_eq!(
            parse_proxy_header(&input[..27], ProxyVersions::V2),
            Ok(None)
        );
    }

    /// Each input must be refused with `expected`, however it is fed.
    fn assert_refuses(cases: &[&[u8]], accepted: ProxyVersions, expected: ProxyError) {
        for input in cases {
            assert_eq!(
                parse_all_ways(input, accepted),
                Err(expected),
                "input {:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn anything_but_a_signature_is_refused_at_once() {
        assert_refuses(
            &[
                b"GET / HTTP/1.1\r\n",
                b"G",
                b"\x16\x03\x01\x02\x00", // a TLS ClientHello
                b"proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
                b"PROXYTCP4",
                b"PRO\r\n",
                b"\r\n\r\n\0\r\nQUIX",
                b"\r\nGET / HTTP/1.1\r\n", // an empty line before a request
                b"\n",
            ],
            ProxyVersions::Any,
            ProxyError::NotProxyHeader,
        );
        // Refused from the first byte that cannot belong to a signature.
        assert_eq!(
            parse_proxy_header(b"G", ProxyVersions::V1),
            Err(ProxyError::NotProxyHeader)
        );
    }

    #[test]
    fn a_version_the_listener_does_not_accept_is_refused() {
        let v2_header = v2(0x21, 0x11, &V4_BLOCK);
        assert_refuses(
            &[&v2_header, &V2_SIGNATURE],
            ProxyVersions::V1,
            ProxyError::VersionNotAccepted,
        );
        assert_refuses(
            &[b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", b"PROXY "],
            ProxyVersions::V2,
            ProxyError::VersionNotAccepted,
        );
    }

    #[test]
    fn v1_without_crlf_within_the_bound_is_refused() {
        let long = [b"PROXY UNKNOWN ".as_slice(), &[b'x'; 100]].concat();
        // A CR as the 107th byte would make a 108-byte line.
        let cr_too_late = [b"PROXY UNKNOWN ".as_slice(), &[b'x'; 92], b"\r\n"].concat();
        assert_eq!(cr_too_late.len(), MAX_V1_LINE_BYTES + 1);
        assert_refuses(
            &[&long, &cr_too_late],
            ProxyVersions::V1,
            ProxyError::V1LineTooLong,
        );
    }

    #[test]
    fn v1_bare_cr_or_lf_is_refused() {
        assert_refuses(
            &[
                b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
                b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX\n",
                b"PROXY UNKNOWN\r\r\n",
                b"PROXY \n",
            ],
            ProxyVersions::Any,
            ProxyError::V1BareLineEnding,
        );
    }

    #[test]
    fn v1_protocols_other_than_tcp4_tcp6_unknown_are_refused() {
        assert_refuses(
            &[
                b"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
                b"PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n",
                b"PROXY UNKNOWNX\r\n",
                b"PROXY \r\n",
                b"PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
            ],
            ProxyVersions::V1,
            ProxyError::V1UnknownProtocol,
        );
    }

    #[test]
    fn v1_fields_missing_extra_or_doubly_spaced_are_refused() {
        assert_refuses(
            &[
                b"PROXY TCP4\r\n",
                b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
                b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
                b"PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n",
                b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",
                b"PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n",
            ],
            ProxyVersions::V1,
            ProxyError::V1Malformed,
        );
    }

    #[test]
    fn v1_addresses_of_the_wrong_family_or_not_canonical_are_refused() {
        assert_refuses(
            &[
                b"PROXY TCP4 2001:db8::1 5.6.7.8 1 2\r\n",
                b"PROXY TCP6 1.2.3.4 2001:db8::1 1 2\r\n",
                b"PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n",
                b"PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n",
                b"PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",
                b"PROXY TCP4 1.2.3.4 5.6.7.8.9 1 2\r\n",
                b"PROXY TCP6 2001:db8::1::2 ::1 1 2\r\n",
                b"PROXY TCP6 [::1] ::1 1 2\r\n",
                b"PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n",
                b"PROXY TCP4 1.2.3.\xff 5.6.7.8 1 2\r\n",
            ],
            ProxyVersions::V1,
            ProxyError::V1InvalidAddress,
        );
    }

    #[test]
    fn v1_ports_out_of_range_or_with_leading_zeroes_are_refused() {
        assert_refuses(
            &[
                b"PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
                b"PROXY TCP4 1.2.3.4 5.6.7.8 1 080\r\n",
                b"PROXY TCP4 1.2.3.4 5.6.7.8 00 2\r\n",
                b"PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n",
                b"PROXY TCP4 1.2.3.4 5.6.7.8 1 -2\r\n",
                b"PROXY TCP4 1.2.3.4 5.6.7.8 123456 2\r\n",
                b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2x\r\n",
            ],
            ProxyVersions::V1,
            ProxyError::V1InvalidPort,
        );
    }

    #[test]
    fn v2_versions_other_than_2_are_refused() {
        assert_refuses(
            &[&v2(0x11, 0x11, &V4_BLOCK), &v2(0x31, 0x11, &V4_BLOCK)],
            ProxyVersions::V2,
            ProxyError::V2UnsupportedVersion,
        );
    }

    #[test]
    fn v2_commands_other_than_local_and_proxy_are_refused() {
        assert_refuses(
            &[&v2(0x22, 0x11, &V4_BLOCK), &v2(0x2F, 0x11, &V4_BLOCK)],
            ProxyVersions::V2,
            ProxyError::V2UnknownCommand,
        );
    }

    #[test]
    fn v2_undefined_families_and_protocols_are_refused() {
        assert_refuses(
            &[
                &v2(0x21, 0x41, &V4_BLOCK),
                &v2(0x21, 0x13, &V4_BLOCK),
                &v2(0x21, 0xFF, &[]),
            ],
            ProxyVersions::V2,
            ProxyError::V2UnknownFamily,
        );
    }

    #[test]
    fn v2_lengths_over_the_bound_are_refused_before_the_bytes_arrive() {
        let mut fixed = V2_SIGNATURE.to_vec();
        fixed.extend_from_slice(&[0x21, 0x11]);
        let over = u16::try_from(MAX_V2_HEADER_BYTES - 16 + 1).unwrap();
        assert_refuses(
            &[
                &[fixed.as_slice(), &over.to_be_bytes()].concat(),
                &[fixed.as_slice(), &[0xFF, 0xFF]].concat(),
            ],
            ProxyVersions::V2,
            ProxyError::V2TooLong,
        );
    }

    #[test]
    fn v2_blocks_shorter_than_their_addresses_are_refused() {
        assert_refuses(
            &[
                &v2(0x21, 0x11, &V4_BLOCK[..11]),
                &v2(0x21, 0x21, &V4_BLOCK),
                &v2(0x21, 0x12, &[]),
                &v2(0x21, 0x31, &[0; 215]),
            ],
            ProxyVersions::V2,
            ProxyError::V2AddressesTruncated,
        );
    }

    #[test]
    fn v2_tlvs_that_do_not_tile_the_block_are_refused() {
        let with = |tail: &[u8]| v2(0x21, 0x11, &[V4_BLOCK.as_slice(), tail].concat());
        let mut overrun = tlv(0x01, b"h2");
        overrun[2] += 1; // one byte more than there is
        assert_refuses(
            &[
                &with(&[0x04]),
                &with(&[0x04, 0x00]),
                &with(&overrun),
                &with(&[tlv(0x04, b"").as_slice(), &[0xEE]].concat()),
            ],
            ProxyVersions::V2,
            ProxyError::V2MalformedTlv,
        );
    }

    #[test]
    fn every_error_has_its_own_index_and_reason() {
        for (position, error) in ProxyError::ALL.iter().enumerate() {
            assert_eq!(error.index(), position);
            let reason = error.reason();
            assert!(reason
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
            let same: Vec<_> = ProxyError::ALL
                .iter()
                .filter(|e| e.reason() == reason)
                .collect();
            assert_eq!(same.len(), 1, "{reason}");
        }
    }

    #[test]
    fn versions_flag_values_round_trip() {
        for versions in [ProxyVersions::V1, ProxyVersions::V2, ProxyVersions::Any] {
            assert_eq!(versions.name().parse(), Ok(versions));
        }
        assert!("V1".parse::<ProxyVersions>().is_err());
        assert!("both".parse::<ProxyVersions>().is_err());
    }

    /// Inputs that start like a header, so the fuzzer-free test explores
    /// past the signature.
    fn header_like() -> impl Strategy<Value = Vec<u8>> {
        let v1 = proptest::collection::vec(
            prop_oneof![
                Just(b' '),
                Just(b'\r'),
                Just(b'\n'),
                Just(b':'),
                Just(b'.'),
                b'0'..=b'9',
                b'A'..=b'Z'
            ],
            0..120,
        )
        .prop_map(|tail| [b"PROXY ".as_slice(), &tail].concat());
        let v2 = (any::<u8>(), any::<u8>(), 0u16..400, any::<Vec<u8>>()).prop_map(
            |(version_command, family, length, tail)| {
                let mut out = V2_SIGNATURE.to_vec();
                out.extend_from_slice(&[version_command, family]);
                out.extend_from_slice(&length.to_be_bytes());
                out.extend_from_slice(&tail);
                out
            },
        );
        prop_oneof![v1, v2, any::<Vec<u8>>()]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Total and split-stable: a value for every input, prefixes agree
        /// with the whole, and `used` stays within the input and the bound.
        #[test]
        fn arbitrary_bytes_never_panic_and_splits_agree(
            input in header_like(),
            split in any::<proptest::sample::Index>(),
            accepted in prop_oneof![
                Just(ProxyVersions::V1),
                Just(ProxyVersions::V2),
                Just(ProxyVersions::Any)
            ],
        ) {
            let whole = parse_proxy_header(&input, accepted);
            let at = split.index(input.len() + 1);
            let prefix = parse_proxy_header(&input[..at], accepted);
            prop_assert!(prefix == Ok(None) || prefix == whole);
            if let Ok(Some((header, used))) = whole {
                prop_assert!(used <= input.len());
                let bound = match header.version {
                    ProxyVersion::V1 => MAX_V1_LINE_BYTES,
                    ProxyVersion::V2 => MAX_V2_HEADER_BYTES,
                };
                prop_assert!(used <= bound);
                prop_assert_eq!(parse_proxy_header(&input[..used], accepted), whole);
            }
            if whole == Ok(None) {
                prop_assert!(input.len() < MAX_V2_HEADER_BYTES);
            }
        }
    }
}
