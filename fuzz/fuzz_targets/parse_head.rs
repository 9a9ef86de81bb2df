//! `proto::parse_head`, then `proto::request_framing` on what it parsed.
//!
//! Input: one byte choosing the limits, two bytes of split point, then the
//! bytes of the head. Invariants, beyond "returns a value":
//! - a prefix either needs more or gives the same answer as the whole, and
//!   the whole gives the same answer again (split feeding == whole feeding);
//! - `used <= len`, and bytes after `used` change nothing;
//! - the method, target and every field name and value of a parsed head are
//!   found, in order, in `input[..used]`; names are tokens, values carry no
//!   CR, LF, NUL or surrounding whitespace;
//! - framing `Length(n)` means every Content-Length element sent was plain
//!   digits whose value is `n`; `None` with Content-Length means they were
//!   all zeros; `Chunked` means Transfer-Encoding and no Content-Length.
#![no_main]

use httpserver::proto::{parse_head, request_framing, BodyFraming, Error, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [selector, split_low, split_high, input @ ..] = data else {
        return;
    };
    let limits = limits_for(*selector);
    let whole = parse_head(input, &limits);

    // Split feeding: the driver parses a prefix, then the whole buffer.
    let split = usize::from(u16::from_le_bytes([*split_low, *split_high])) % (input.len() + 1);
    let prefix = parse_head(&input[..split], &limits);
    assert!(
        prefix == Ok(None) || prefix == whole,
        "prefix of {split} gave {prefix:?}, whole gave {whole:?}"
    );
    assert_eq!(parse_head(input, &limits), whole, "not deterministic");

    let Ok(Some((head, used))) = whole else {
        return;
    };
    assert!(used <= input.len(), "used {used} of {}", input.len());
    assert!(used > 0);

    // Bytes after the head are never looked at.
    let mut extended = input[..used].to_vec();
    extended.extend_from_slice(b"\x00\r\r\n garbage");
    assert_eq!(
        parse_head(&extended, &limits),
        Ok(Some((head.clone(), used)))
    );

    // What was parsed is what was sent, in order.
    let sent = &input[..used];
    let mut at = find_from(sent, 0, head.method_bytes()).expect("method in the input");
    at = find_from(sent, at, head.target()).expect("target in the input");
    assert!(head.target().iter().all(|b| (0x21..=0x7E).contains(b)));
    for (name, value) in head.fields() {
        assert!(
            !name.is_empty() && name.iter().all(|&b| is_tchar(b)),
            "name {name:?}"
        );
        assert!(
            !value.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0)),
            "value {value:?}"
        );
        assert!(!value.first().is_some_and(|&b| b == b' ' || b == b'\t'));
        assert!(!value.last().is_some_and(|&b| b == b' ' || b == b'\t'));
        at = find_from(sent, at, name).expect("field name in the input");
        at = find_from(sent, at + name.len(), value).expect("field value in the input");
    }
    assert!(head.field_count() <= limits.max_headers);
    // The head fits its limit; only the skipped empty lines before it are extra.
    assert!(used <= limits.max_head_bytes.saturating_add(16));

    check_framing(&head, &limits);
});

/// The framing decision agrees with the Content-Length digits that were sent.
fn check_framing(head: &httpserver::proto::RequestHead, limits: &Limits) {
    let framing = request_framing(head, limits);
    let lengths: Vec<&[u8]> = head
        .fields_named("content-length")
        .flat_map(|line| line.split(|&b| b == b','))
        .map(trim_ows)
        .collect();
    let has_te = head.field("transfer-encoding").is_some();
    match framing {
        Ok(BodyFraming::Length(n)) => {
            assert!(!has_te);
            assert!(n > 0 && n <= limits.max_body_bytes);
            assert!(!lengths.is_empty());
            for digits in &lengths {
                assert_eq!(
                    decimal_text(digits).as_deref(),
                    Some(n.to_string().as_str())
                );
            }
        }
        Ok(BodyFraming::None) => {
            assert!(!has_te);
            for digits in &lengths {
                assert_eq!(decimal_text(digits).as_deref(), Some("0"));
            }
        }
        Ok(BodyFraming::Chunked) => assert!(has_te && lengths.is_empty()),
        Err(Error::InvalidContentLength) => {
            // Some element is not plain digits, or does not fit a u64.
            assert!(lengths.iter().any(|d| match decimal_text(d) {
                None => true,
                Some(text) => text.parse::<u64>().is_err(),
            }));
        }
        Err(Error::ConflictingContentLength) => {
            let mut values: Vec<String> = lengths.iter().filter_map(|d| decimal_text(d)).collect();
            values.dedup();
            assert!(values.len() > 1, "no conflict in {lengths:?}");
        }
        Err(Error::BodyTooLarge) => {
            let n: u64 = decimal_text(lengths[0]).unwrap().parse().unwrap();
            assert!(n > limits.max_body_bytes);
        }
        Err(Error::ContentLengthWithTransferEncoding) => {
            assert!(has_te && !lengths.is_empty())
        }
        Err(Error::ChunkedNotFinal | Error::UnknownTransferCoding) => assert!(has_te),
        Err(other) => panic!("request_framing gave {other:?}"),
    }
}

/// `1*DIGIT` without its leading zeros (`"0"` for all zeros): the value as
/// decimal text, computed without any integer type that could overflow.
fn decimal_text(digits: &[u8]) -> Option<String> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let significant = digits
        .iter()
        .position(|&b| b != b'0')
        .map_or(&b"0"[..], |i| &digits[i..]);
    Some(String::from_utf8(significant.to_vec()).unwrap())
}

fn limits_for(selector: u8) -> Limits {
    match selector % 4 {
        0 => Limits::default(),
        1 => Limits {
            max_request_line_bytes: 24,
            max_head_bytes: 64,
            max_headers: 3,
            max_body_bytes: 100,
            ..Limits::default()
        },
        2 => Limits {
            max_request_line_bytes: 1,
            max_head_bytes: 1,
            max_headers: 0,
            max_body_bytes: 0,
            ..Limits::default()
        },
        _ => Limits {
            max_request_line_bytes: usize::MAX,
            max_head_bytes: usize::MAX,
            max_headers: usize::MAX,
            max_body_bytes: u64::MAX,
            ..Limits::default()
        },
    }
}

fn find_from(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let rest = haystack.get(from..)?;
    if needle.is_empty() {
        return Some(from);
    }
    rest.windows(needle.len())
        .position(|w| w == needle)
        .map(|i| from + i)
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn trim_ows(value: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value.iter().position(|b| !is_ows(b)).unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |i| i + 1);
    &value[start..end]
}
