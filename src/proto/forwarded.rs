//! Who a request was forwarded for: the `X-Forwarded-For` list and the
//! `for=` parameters of `Forwarded` (RFC 7239), read into a chain of hops,
//! and the walk that picks the client from it.
//!
//! Each proxy appends the address it received the request from, so the
//! chain reads client first, nearest proxy last, and only its right end is
//! vouched for: anything left of the first address no trusted proxy wrote
//! may be what the client made up. [`rightmost_untrusted`] walks from the
//! right past trusted proxies (nginx's `real_ip_recursive on`) and stops at
//! the first address that is not one, or at the first entry it cannot read.
//! Whether the connection itself is from a trusted proxy (without which
//! the fields are ignored), and which addresses are trusted, is the
//! caller's business: the walk takes a predicate.

use super::fields::is_tchar;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The field a deployment's proxies write (`--real-ip-header`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardingField {
    /// `X-Forwarded-For: client, proxy1, proxy2`: addresses, with or
    /// without a port, IPv6 bare or in brackets.
    XForwardedFor,
    /// `Forwarded: for=client;proto=https, for="[2001:db8::1]:4711"`
    /// (RFC 7239 §4, §6).
    Forwarded,
}

impl ForwardingField {
    /// The field name, lowercase, as `RequestHead::fields_named` takes it.
    pub fn name(self) -> &'static str {
        match self {
            ForwardingField::XForwardedFor => "x-forwarded-for",
            ForwardingField::Forwarded => "forwarded",
        }
    }
}

impl core::str::FromStr for ForwardingField {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "x-forwarded-for" => Ok(ForwardingField::XForwardedFor),
            "forwarded" => Ok(ForwardingField::Forwarded),
            _ => Err(format!(
                "expected x-forwarded-for or forwarded, got {text:?}"
            )),
        }
    }
}

/// An address a hop names, with its port when one was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeAddress {
    pub ip: IpAddr,
    pub port: Option<u16>,
}

/// One entry of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hop {
    Address(NodeAddress),
    /// Not an address the walk can go past: `unknown`, an obfuscated
    /// identifier (RFC 7239 §6.3), an element without `for=`, text that is
    /// no address, or the point where a field line stopped being readable.
    Unusable,
}

/// Append the hops one field line names, left to right. Field lines of the
/// same name are one list (RFC 9110 §5.3): call this for each, in order.
pub fn parse_hops(field: ForwardingField, value: &[u8], hops: &mut Vec<Hop>) {
    match field {
        ForwardingField::XForwardedFor => {
            // RFC 9110 §5.6.1: empty list elements are ignored.
            hops.extend(
                value
                    .split(|&b| b == b',')
                    .map(trim_ows)
                    .filter(|entry| !entry.is_empty())
                    .map(|entry| parse_node(entry, true)),
            );
        }
        ForwardingField::Forwarded => {
            // A line that breaks the syntax ends in one unusable hop: its
            // right end, which the walk reaches first, cannot be read.
            if parse_forwarded(value, hops).is_err() {
                hops.push(Hop::Unusable);
            }
        }
    }
}

/// The client a chain names, for a connection from a trusted proxy: from
/// the right, the first address `is_trusted` refuses, or the last address
/// reached when the walk stops at an unusable hop or at the chain's left
/// end (every address trusted). `None` when the rightmost hop is already
/// unusable, or there is none: the connection's own address stands.
pub fn rightmost_untrusted(
    hops: &[Hop],
    is_trusted: impl Fn(IpAddr) -> bool,
) -> Option<NodeAddress> {
    let mut reached = None;
    for hop in hops.iter().rev() {
        match *hop {
            Hop::Unusable => break,
            Hop::Address(address) => {
                reached = Some(address);
                if !is_trusted(address.ip) {
                    break;
                }
            }
        }
    }
    reached
}

/// A syntax error in a `Forwarded` line; the hops before it were pushed.
struct Malformed;

/// `Forwarded = 1#forwarded-element`, `forwarded-element = [pair] *(";"
/// [pair])`, `pair = token "=" (token / quoted-string)` (RFC 7239 §4),
/// with optional whitespace around `,` and `;` as list syntax allows.
fn parse_forwarded(value: &[u8], hops: &mut Vec<Hop>) -> Result<(), Malformed> {
    let mut rest = value;
    let mut value = Vec::new();
    loop {
        rest = skip_ows(rest);
        match rest.first() {
            None => return Ok(()),
            // An empty element.
            Some(b',') => {
                rest = &rest[1..];
                continue;
            }
            Some(_) => {}
        }
        // One element: its pairs up to a ',' or the end.
        let mut hop = None;
        let mut has_pairs = false;
        loop {
            rest = skip_ows(rest);
            if let Some(b';') = rest.first() {
                rest = &rest[1..];
                continue;
            }
            if matches!(rest.first(), None | Some(b',')) {
                break;
            }
            let name_len = rest.iter().take_while(|&&b| is_tchar(b)).count();
            let (name, after) = rest.split_at(name_len);
            if name.is_empty() || after.first() != Some(&b'=') {
                return Err(Malformed);
            }
            rest = split_value(&after[1..], &mut value)?;
            has_pairs = true;
            if name.eq_ignore_ascii_case(b"for") {
                // §4: a parameter occurs at most once per element.
                if hop.is_some() {
                    return Err(Malformed);
                }
                hop = Some(parse_node(&value, false));
            }
            // Something other than whitespace, ';' or ',' after a value.
            let next = skip_ows(rest);
            if !matches!(next.first(), None | Some(b';' | b',')) {
                return Err(Malformed);
            }
        }
        if has_pairs {
            hops.push(hop.unwrap_or(Hop::Unusable));
        }
    }
}

/// Read a `token` or a `quoted-string` into `value` (unescaped), and
/// return what follows it.
fn split_value<'t>(text: &'t [u8], value: &mut Vec<u8>) -> Result<&'t [u8], Malformed> {
    value.clear();
    if text.first() != Some(&b'"') {
        let len = text.iter().take_while(|&&b| is_tchar(b)).count();
        if len == 0 {
            return Err(Malformed);
        }
        value.extend_from_slice(&text[..len]);
        return Ok(&text[len..]);
    }
    // RFC 9110 §5.6.4: qdtext, and quoted-pair for any visible byte.
    let is_text = |b: u8| b == b'\t' || b == b' ' || b.is_ascii_graphic() || b >= 0x80;
    let mut at = 1;
    loop {
        match text.get(at) {
            None => return Err(Malformed),
            Some(b'"') => return Ok(&text[at + 1..]),
            Some(b'\\') => match text.get(at + 1) {
                Some(&b) if is_text(b) => {
                    value.push(b);
                    at += 2;
                }
                _ => return Err(Malformed),
            },
            Some(&b) if is_text(b) => {
                value.push(b);
                at += 1;
            }
            Some(_) => return Err(Malformed),
        }
    }
}

/// An address with an optional port (RFC 7239 §6: `node = nodename [":"
/// node-port]`): `1.2.3.4`, `1.2.3.4:80`, `[2001:db8::1]`,
/// `[2001:db8::1]:80`, and with `bare_ipv6` (as `X-Forwarded-For` writes
/// it) `2001:db8::1`. `unknown`, an obfuscated nodename (`_hidden`) and
/// anything else are unusable; an obfuscated port hides only the port
/// (§6.3), so the address stands without one.
fn parse_node(text: &[u8], bare_ipv6: bool) -> Hop {
    let (ip, rest) = if let Some(bracketed) = text.strip_prefix(b"[") {
        let Some(close) = bracketed.iter().position(|&b| b == b']') else {
            return Hop::Unusable;
        };
        let Some(ip) = parse_ip::<Ipv6Addr>(&bracketed[..close]) else {
            return Hop::Unusable;
        };
        (IpAddr::V6(ip), &bracketed[close + 1..])
    } else if let Some(ip) = bare_ipv6.then(|| parse_ip::<Ipv6Addr>(text)).flatten() {
        (IpAddr::V6(ip), &b""[..])
    } else {
        let end = text.iter().position(|&b| b == b':').unwrap_or(text.len());
        let Some(ip) = parse_ip::<Ipv4Addr>(&text[..end]) else {
            return Hop::Unusable;
        };
        (IpAddr::V4(ip), &text[end..])
    };
    let port = match rest {
        [] => None,
        [b':', b'_', obfuscated @ ..] if is_obfuscated(obfuscated) => None,
        [b':', digits @ ..] if is_port(digits) => {
            let value = digits
                .iter()
                .fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'));
            match u16::try_from(value) {
                Ok(port) => Some(port),
                Err(_) => return Hop::Unusable,
            }
        }
        _ => return Hop::Unusable,
    };
    Hop::Address(NodeAddress { ip, port })
}

/// `port = 1*5DIGIT` (RFC 7239 §6).
fn is_port(digits: &[u8]) -> bool {
    (1..=5).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit)
}

/// What follows `_` in an obfuscated identifier: `1*(ALPHA / DIGIT / "." /
/// "_" / "-")` (RFC 7239 §6.3).
fn is_obfuscated(text: &[u8]) -> bool {
    !text.is_empty()
        && text
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn parse_ip<A: core::str::FromStr>(text: &[u8]) -> Option<A> {
    core::str::from_utf8(text).ok()?.parse().ok()
}

fn skip_ows(text: &[u8]) -> &[u8] {
    let start = text
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(text.len());
    &text[start..]
}

fn trim_ows(text: &[u8]) -> &[u8] {
    let text = skip_ows(text);
    let end = text
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(0, |at| at + 1);
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hops(field: ForwardingField, lines: &[&str]) -> Vec<Hop> {
        let mut hops = Vec::new();
        for line in lines {
            parse_hops(field, line.as_bytes(), &mut hops);
        }
        hops
    }

    fn at(text: &str) -> Hop {
        let (ip, port) = match text.parse::<core::net::SocketAddr>() {
            Ok(socket) => (socket.ip(), Some(socket.port())),
            Err(_) => (text.parse().unwrap(), None),
        };
        Hop::Address(NodeAddress { ip, port })
    }

    /// Trusted: 10.0.0.0/8 and 2001:db8:ffff::/48, as a deployment's
    /// balancers.
    fn trusted(ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(v4) => v4.octets()[0] == 10,
            IpAddr::V6(v6) => v6.segments()[..3] == [0x2001, 0xdb8, 0xffff],
        }
    }

    /// The client a chain of field lines names, as text ("-" for none).
    fn client(field: ForwardingField, lines: &[&str]) -> String {
        match rightmost_untrusted(&hops(field, lines), trusted) {
            None => "-".to_owned(),
            Some(NodeAddress { ip, port: None }) => ip.to_string(),
            Some(NodeAddress {
                ip,
                port: Some(port),
            }) => core::net::SocketAddr::new(ip, port).to_string(),
        }
    }

    #[test]
    fn x_forwarded_for_entries_are_addresses_with_optional_ports() {
        assert_eq!(
            hops(
                ForwardingField::XForwardedFor,
                &["203.0.113.7, 2001:db8::1,[2001:db8::2]:443 ,198.51.100.1:80,[::1]"]
            ),
            [
                at("203.0.113.7"),
                at("2001:db8::1"),
                at("[2001:db8::2]:443"),
                at("198.51.100.1:80"),
                at("::1"),
            ]
        );
        for unusable in [
            "unknown",
            "_hidden",
            "203.0.113.7:",
            "203.0.113.7:65536",
            "203.0.113.7:123456",
            "203.0.113.7:x",
            "01.2.3.4",
            "[2001:db8::1",
            "[203.0.113.7]",
            "2001:db8::1:80:x",
            "example.com",
            "\u{e9}",
        ] {
            assert_eq!(
                hops(ForwardingField::XForwardedFor, &[unusable]),
                [Hop::Unusable],
                "{unusable}"
            );
        }
        // Empty elements are not entries (RFC 9110 §5.6.1).
        assert_eq!(
            hops(ForwardingField::XForwardedFor, &[" , 1.2.3.4,, ", ""]),
            [at("1.2.3.4")]
        );
    }

    #[test]
    fn forwarded_for_follows_rfc_7239() {
        // RFC 7239 §4 and §7.1's examples, one element per hop.
        assert_eq!(
            hops(
                ForwardingField::Forwarded,
                &[
                    "for=\"_gazonk\"",
                    "For=\"[2001:db8:cafe::17]:4711\"",
                    "for=192.0.2.60;proto=http;by=203.0.113.43",
                    "for=192.0.2.43, for=198.51.100.17",
                    "for=unknown, for=\"198.51.100.17:_port\"",
                    "proto=https",
                    "for = 1.2.3.4",
                ]
            ),
            [
                Hop::Unusable,
                at("[2001:db8:cafe::17]:4711"),
                at("192.0.2.60"),
                at("192.0.2.43"),
                at("198.51.100.17"),
                Hop::Unusable,
                at("198.51.100.17"),
                Hop::Unusable, // an element without for=
                Hop::Unusable, // whitespace around '=' is not the syntax
            ]
        );
        // Quoted values, escapes, separators inside quotes, OWS around ';'.
        assert_eq!(
            hops(
                ForwardingField::Forwarded,
                &["by=\"a,b;c\"; for=\"1.2.3\\.4:8\\0\" ;proto=http,;for=5.6.7.8"]
            ),
            [at("1.2.3.4:80"), at("5.6.7.8")]
        );
    }

    #[test]
    fn a_forwarded_line_that_breaks_the_syntax_ends_in_an_unusable_hop() {
        for broken in [
            "for=1.2.3.4, for=[2001:db8::1]", // IPv6 must be quoted
            "for=1.2.3.4, for=\"5.6.7.8",     // unterminated quote
            "for=1.2.3.4, for",
            "for=1.2.3.4, for=",
            "for=1.2.3.4, for=5.6.7.8;for=9.9.9.9", // for= twice in an element
            "for=1.2.3.4, for=\"5.6.7.8\"x",
            "for=1.2.3.4, =5.6.7.8",
            "for=1.2.3.4, for=\"\u{7f}\"",
        ] {
            let parsed = hops(ForwardingField::Forwarded, &[broken]);
            assert_eq!(parsed.last(), Some(&Hop::Unusable), "{broken}");
            assert_eq!(
                client(ForwardingField::Forwarded, &[broken]),
                "-",
                "{broken}"
            );
        }
    }

    #[test]
    fn the_client_is_the_rightmost_address_no_trusted_proxy_wrote() {
        use ForwardingField::{Forwarded, XForwardedFor};
        let cases: &[(ForwardingField, &[&str], &str)] = &[
            // The nearest untrusted address wins, not the leftmost.
            (
                XForwardedFor,
                &["1.1.1.1, 203.0.113.7, 10.0.0.2"],
                "203.0.113.7",
            ),
            (XForwardedFor, &["203.0.113.7"], "203.0.113.7"),
            // Lines are one list, in order.
            (
                XForwardedFor,
                &["1.1.1.1", "203.0.113.7", "10.0.0.2, 10.0.0.3"],
                "203.0.113.7",
            ),
            // Every address trusted: the leftmost.
            (XForwardedFor, &["10.0.0.1, 10.0.0.2"], "10.0.0.1"),
            // An unusable entry stops the walk at the last address reached.
            (
                XForwardedFor,
                &["203.0.113.7, garbage, 10.0.0.2"],
                "10.0.0.2",
            ),
            (XForwardedFor, &["203.0.113.7, unknown"], "-"),
            // Unreachable garbage to the left of the client is never read.
            (
                XForwardedFor,
                &["garbage, 203.0.113.7, 10.0.0.2"],
                "203.0.113.7",
            ),
            (
                XForwardedFor,
                &["2001:db8:ffff::1, [2001:db8::7]:443, 2001:db8:ffff::2"],
                "[2001:db8::7]:443",
            ),
            (XForwardedFor, &[], "-"),
            (
                Forwarded,
                &["for=198.51.100.9, for=\"[2001:db8::7]:4711\";proto=https, for=10.1.2.3"],
                "[2001:db8::7]:4711",
            ),
            (
                Forwarded,
                &["for=198.51.100.9, for=_hidden, for=10.1.2.3"],
                "10.1.2.3",
            ),
            (
                Forwarded,
                &["for=198.51.100.9", "for=\"1.2.3.4:_p\""],
                "1.2.3.4",
            ),
        ];
        for (field, lines, expected) in cases {
            assert_eq!(client(*field, lines), *expected, "{field:?} {lines:?}");
        }
    }

    #[test]
    fn field_names_and_flag_values() {
        for field in [ForwardingField::XForwardedFor, ForwardingField::Forwarded] {
            assert_eq!(field.name().parse(), Ok(field));
        }
        assert!("X-Forwarded-For".parse::<ForwardingField>().is_err());
        assert!("x-real-ip".parse::<ForwardingField>().is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// Any bytes give hops and a walk without panicking; the client
        /// found is always one of the hops, and never one left of an
        /// unusable hop.
        #[test]
        fn arbitrary_values_never_panic(
            lines in proptest::collection::vec(
                proptest::collection::vec(
                    prop_oneof![
                        Just(b','), Just(b';'), Just(b'='), Just(b'"'), Just(b'\\'),
                        Just(b':'), Just(b'['), Just(b']'), Just(b' '), Just(b'.'),
                        Just(b'f'), Just(b'o'), Just(b'r'), b'0'..=b'9', any::<u8>()
                    ],
                    0..40,
                ),
                0..4,
            ),
            forwarded in any::<bool>(),
        ) {
            let field = if forwarded { ForwardingField::Forwarded } else { ForwardingField::XForwardedFor };
            let mut chain = Vec::new();
            for line in &lines {
                parse_hops(field, line, &mut chain);
            }
            if let Some(found) = rightmost_untrusted(&chain, trusted) {
                let position = chain.iter().rposition(|hop| *hop == Hop::Address(found));
                prop_assert!(position.is_some());
                let position = position.unwrap();
                prop_assert!(!chain[position..].contains(&Hop::Unusable));
            }
        }
    }
}
