//! `proto::proxy::parse_proxy_header`.
//!
//! Input: one byte choosing the accepted versions (v1, v2, any), two bytes
//! of split point, then the bytes a connection starts with. Invariants,
//! beyond "returns a value":
//! - a prefix either needs more or gives the same answer as the whole, and
//!   the whole gives the same answer again (split feeding == whole feeding);
//! - `used <= len`, `used` within the version's bound, and bytes after
//!   `used` (the HTTP request) change nothing;
//! - "need more" only below the bound: a peer cannot keep the parser
//!   waiting with more bytes than a header can hold;
//! - a v1 TCP4 line is exactly what its addresses print as (IPv4 text has
//!   one canonical form, and the parser takes no other); a v1 TCP6 line
//!   printed back from its addresses parses to the same addresses;
//! - v2 addresses are the bytes at their fixed offsets.
#![no_main]

use httpserver::proto::proxy::{
    parse_proxy_header, ProxyHeader, ProxyVersion, ProxyVersions, MAX_V1_LINE_BYTES,
    MAX_V2_HEADER_BYTES,
};
use libfuzzer_sys::fuzz_target;
use std::net::IpAddr;

fuzz_target!(|data: &[u8]| {
    let [selector, split_low, split_high, input @ ..] = data else {
        return;
    };
    let accepted = match selector % 3 {
        0 => ProxyVersions::V1,
        1 => ProxyVersions::V2,
        _ => ProxyVersions::Any,
    };
    let whole = parse_proxy_header(input, accepted);

    let split = usize::from(u16::from_le_bytes([*split_low, *split_high])) % (input.len() + 1);
    let prefix = parse_proxy_header(&input[..split], accepted);
    assert!(
        prefix == Ok(None) || prefix == whole,
        "prefix of {split} gave {prefix:?}, whole gave {whole:?}"
    );
    assert_eq!(parse_proxy_header(input, accepted), whole, "not deterministic");

    let (header, used) = match whole {
        Ok(Some(parsed)) => parsed,
        Ok(None) => {
            assert!(input.len() < MAX_V2_HEADER_BYTES, "waiting past every bound");
            if input.first() == Some(&b'P') {
                assert!(input.len() < MAX_V1_LINE_BYTES, "waiting past the v1 bound");
            }
            return;
        }
        Err(_) => return,
    };
    assert!(used > 0 && used <= input.len(), "used {used} of {}", input.len());
    let bound = match header.version {
        ProxyVersion::V1 => MAX_V1_LINE_BYTES,
        ProxyVersion::V2 => MAX_V2_HEADER_BYTES,
    };
    assert!(used <= bound, "used {used} over {bound}");

    let mut extended = input[..used].to_vec();
    extended.extend_from_slice(b"\r\n\0PROXY GET / HTTP/1.1\r\n");
    assert_eq!(
        parse_proxy_header(&extended, accepted),
        Ok(Some((header, used)))
    );

    check_addresses(&header, &input[..used], accepted);
});

fn check_addresses(header: &ProxyHeader, sent: &[u8], accepted: ProxyVersions) {
    let Some(addresses) = header.addresses else {
        return;
    };
    let (source, destination) = (addresses.source, addresses.destination);
    match header.version {
        ProxyVersion::V1 => {
            let protocol = match (source.ip(), destination.ip()) {
                (IpAddr::V4(_), IpAddr::V4(_)) => "TCP4",
                (IpAddr::V6(_), IpAddr::V6(_)) => "TCP6",
                _ => panic!("mixed families: {addresses:?}"),
            };
            let printed = format!(
                "PROXY {protocol} {} {} {} {}\r\n",
                source.ip(),
                destination.ip(),
                source.port(),
                destination.port()
            );
            if protocol == "TCP4" {
                assert_eq!(printed.as_bytes(), sent, "not the canonical line");
            }
            let reparsed = parse_proxy_header(printed.as_bytes(), accepted);
            assert_eq!(reparsed, Ok(Some((*header, printed.len()))));
        }
        ProxyVersion::V2 => {
            let ports = |at: usize| u16::from_be_bytes([sent[at], sent[at + 1]]);
            match (source.ip(), destination.ip()) {
                (IpAddr::V4(s), IpAddr::V4(d)) => {
                    assert_eq!(sent[13], 0x11);
                    assert_eq!(&s.octets(), &sent[16..20]);
                    assert_eq!(&d.octets(), &sent[20..24]);
                    assert_eq!((source.port(), destination.port()), (ports(24), ports(26)));
                }
                (IpAddr::V6(s), IpAddr::V6(d)) => {
                    assert_eq!(sent[13], 0x21);
                    assert_eq!(&s.octets(), &sent[16..32]);
                    assert_eq!(&d.octets(), &sent[32..48]);
                    assert_eq!((source.port(), destination.port()), (ports(48), ports(50)));
                }
                _ => panic!("mixed families: {addresses:?}"),
            }
            assert_eq!(sent[12], 0x21, "addresses only from a v2 PROXY command");
        }
    }
}
