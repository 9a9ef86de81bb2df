//! The `uri-host [":" port]` grammar of a Host field value and of the
//! authority in an absolute-form or authority-form target (RFC 9112 §3.2,
//! RFC 3986 §3.2.2–3.2.3).
//!
//! Nothing routes on the host, but RFC 9112 §3.2 requires a 400 for a Host
//! whose value is invalid, and a server in front of this one may read a
//! malformed host differently: the same reason framing is strict.

/// The host of `authority` if it is `uri-host [":" port]` (both parts may
/// be empty, as the grammar allows), or `None`. Userinfo (`user@`) is not
/// part of that grammar, so it is refused too (RFC 9110 §4.2.4 calls it an
/// error in an http URI).
pub fn host_of(authority: &[u8]) -> Option<&[u8]> {
    let host_len = if authority.first() == Some(&b'[') {
        let close = memchr::memchr(b']', authority)?;
        let literal = authority.get(1..close)?;
        if !is_ipv6_with_zone(literal) && !is_ipv_future(literal) {
            return None;
        }
        close + 1
    } else {
        // A reg-name or IPv4 address has no colon, so the port starts at
        // the first byte that cannot be part of the name.
        reg_name_len(authority)?
    };
    let (host, rest) = authority.split_at(host_len);
    let port = match rest {
        [] => rest,
        [b':', port @ ..] => port,
        _ => return None,
    };
    port.iter().all(u8::is_ascii_digit).then_some(host)
}

/// The length of the `reg-name = *( unreserved / pct-encoded / sub-delims )`
/// that starts `bytes` (an IPv4 address matches it too), or `None` if a `%`
/// in it is not followed by two hex digits.
fn reg_name_len(bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte == b'%' {
            let escaped = bytes.get(i + 1..i + 3)?;
            if !escaped.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            i += 3;
        } else if REG_NAME_BYTES[usize::from(byte)] {
            i += 1;
        } else {
            break;
        }
    }
    Some(i)
}

/// `unreserved / sub-delims`, one lookup per byte of every request's Host.
const REG_NAME_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = is_unreserved(byte as u8) || is_sub_delim(byte as u8);
        byte += 1;
    }
    table
};

const fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

const fn is_sub_delim(byte: u8) -> bool {
    matches!(
        byte,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
    )
}

/// `IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )`.
fn is_ipv_future(text: &[u8]) -> bool {
    let Some(rest) = text.strip_prefix(b"v").or_else(|| text.strip_prefix(b"V")) else {
        return false;
    };
    let Some(dot) = memchr::memchr(b'.', rest) else {
        return false;
    };
    let (version, address) = (&rest[..dot], &rest[dot + 1..]);
    !version.is_empty()
        && version.iter().all(u8::is_ascii_hexdigit)
        && !address.is_empty()
        && address
            .iter()
            .all(|&b| is_unreserved(b) || is_sub_delim(b) || b == b':')
}

/// An IPv6 address, optionally with a zone: `%25` and the zone as RFC 6874
/// writes it in a URI, or a bare `%` as some clients (.NET's, aiohttp)
/// send it in Host, although RFC 6874 §4 says to strip it there. Refusing
/// it would refuse those clients on link-local addresses.
fn is_ipv6_with_zone(text: &[u8]) -> bool {
    match memchr::memchr(b'%', text) {
        Some(percent) => {
            let zone = &text[percent + 1..];
            is_ipv6(&text[..percent])
                && !zone.is_empty()
                && reg_name_len(zone) == Some(zone.len())
                && !zone.iter().any(|&b| is_sub_delim(b))
        }
        None => is_ipv6(text),
    }
}

/// RFC 3986's `IPv6address`: eight 16-bit pieces of one to four hex digits,
/// the last two of which may be a dotted IPv4 address, with at most one
/// `::` standing for one or more zero pieces.
fn is_ipv6(text: &[u8]) -> bool {
    match memchr::memmem::find(text, b"::") {
        Some(at) => {
            let (before, after) = (&text[..at], &text[at + 2..]);
            match (pieces(before, false), pieces(after, true)) {
                (Some(b), Some(a)) => b + a <= 7,
                _ => false,
            }
        }
        None => pieces(text, true) == Some(8),
    }
}

/// How many 16-bit pieces `text` (colon-separated, possibly empty) holds,
/// or `None` if one is malformed or empty. A dotted IPv4 address may end it
/// when `ipv4_last`, counting as two.
fn pieces(text: &[u8], ipv4_last: bool) -> Option<usize> {
    if text.is_empty() {
        return Some(0);
    }
    let mut count = 0;
    let mut parts = text.split(|&b| b == b':').peekable();
    while let Some(part) = parts.next() {
        let last = parts.peek().is_none();
        if last && ipv4_last && part.contains(&b'.') {
            if !is_ipv4(part) {
                return None;
            }
            count += 2;
        } else if (1..=4).contains(&part.len()) && part.iter().all(u8::is_ascii_hexdigit) {
            count += 1;
        } else {
            return None;
        }
    }
    Some(count)
}

/// Four `dec-octet`s (0–255, no leading zero) joined by dots.
fn is_ipv4(text: &[u8]) -> bool {
    let mut octets = text.split(|&b| b == b'.');
    octets.by_ref().take(4).filter(|o| is_dec_octet(o)).count() == 4 && octets.next().is_none()
}

fn is_dec_octet(octet: &[u8]) -> bool {
    match octet {
        [b'0'] => true,
        [b'1'..=b'9', rest @ ..] if rest.len() <= 2 && rest.iter().all(u8::is_ascii_digit) => {
            octet
                .iter()
                .fold(0u16, |value, &digit| value * 10 + u16::from(digit - b'0'))
                <= 255
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn valid_authorities_give_their_host() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"", b""),
            (b"example.com", b"example.com"),
            (b"example.com:8080", b"example.com"),
            (b"example.com:", b"example.com"),
            (b":80", b""),
            (b"127.0.0.1:80", b"127.0.0.1"),
            (b"ex%41mple", b"ex%41mple"),
            (b"a-b_c~d!$&'()*+;=", b"a-b_c~d!$&'()*+;="),
            (b"[::1]", b"[::1]"),
            (b"[::1]:8080", b"[::1]"),
            (b"[::]", b"[::]"),
            (b"[2001:db8::1]", b"[2001:db8::1]"),
            (b"[1:2:3:4:5:6:7:8]", b"[1:2:3:4:5:6:7:8]"),
            (b"[1:2:3:4:5:6:7::]", b"[1:2:3:4:5:6:7::]"),
            (b"[::ffff:192.0.2.1]", b"[::ffff:192.0.2.1]"),
            (b"[1:2:3:4:5:6:192.0.2.1]", b"[1:2:3:4:5:6:192.0.2.1]"),
            (b"[v1.fe80::a+en1]", b"[v1.fe80::a+en1]"),
            (b"[fe80::1%25eth0]:80", b"[fe80::1%25eth0]"),
            (b"[fe80::1%eth0]", b"[fe80::1%eth0]"),
            (b"[fe80::1%25en%301]", b"[fe80::1%25en%301]"),
        ];
        for (authority, host) in cases {
            assert_eq!(
                host_of(authority),
                Some(*host),
                "{}",
                String::from_utf8_lossy(authority)
            );
        }
    }

    #[test]
    fn invalid_authorities_are_refused() {
        let cases: &[&[u8]] = &[
            b"a b",
            b"a/b",
            b"a@b",
            b"user:pass@a",
            b"a:b:c",
            b"a:8o",
            b"a\"b",
            b"a%4",
            b"a%zz",
            b"a#b",
            b"[::1",
            b"[::1]x",
            b"[::1]:8o",
            b"::1",
            b"[]",
            b"[:::1]",
            b"[1::2::3]",
            b"[1:2:3:4:5:6:7:8:9]",
            b"[1:2:3:4:5:6:7]",
            b"[1:2:3:4:5:6:7:8::]",
            b"[12345::]",
            b"[1.2.3.4]",
            b"[::1.2.3]",
            b"[::1.2.3.256]",
            b"[::01.2.3.4]",
            b"[::1.2.3.4:5]",
            b"[:1]",
            b"[1:]",
            b"[v.x]",
            b"[vg.x]",
            b"[v1.]",
            b"[v1.a/b]",
            b"[fe80::1%]",
            b"[fe80::1%25]x",
            b"[fe80::1%eth/0]",
            b"[fe80::1%et!h0]",
            b"[fe80::1%25%4]",
            b"[fe8g::1%eth0]",
        ];
        for authority in cases {
            assert_eq!(
                host_of(authority),
                None,
                "{}",
                String::from_utf8_lossy(authority)
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// Whatever the bytes, no panic; an accepted host is a prefix of
        /// the authority, and what follows it is empty or a decimal port.
        #[test]
        fn accepted_hosts_are_a_prefix_followed_by_a_port(
            authority in proptest::collection::vec(
                prop_oneof![
                    Just(b':'), Just(b'['), Just(b']'), Just(b'.'), Just(b'%'), Just(b'@'),
                    b'0'..=b'9', b'a'..=b'g', 0u8..=255,
                ],
                0..24,
            ),
        ) {
            if let Some(host) = host_of(&authority) {
                prop_assert!(authority.starts_with(host));
                let rest = &authority[host.len()..];
                let port = rest.strip_prefix(b":").unwrap_or(rest);
                prop_assert!(rest.is_empty() || rest[0] == b':');
                prop_assert!(port.iter().all(u8::is_ascii_digit));
                prop_assert!(!host.contains(&b'@') && !host.contains(&b'/'));
            }
        }
    }
}
