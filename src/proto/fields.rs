//! Field syntax (RFC 9110 §5): token and value characters, comma lists.
//!
//! Pure byte predicates and small helpers shared by the head parser and the
//! framing decisions. Storage of parsed fields lives in `request.rs`.

/// Whether `b` is a `tchar` (RFC 9110 §5.6.2).
pub fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// [`is_tchar`] as a table: one load per byte instead of a chain of range
/// comparisons, on every field name of every request.
const TCHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = matches!(b as u8,
            b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' |
            b'^' | b'_' | b'`' | b'|' | b'~' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z');
        b += 1;
    }
    table
};

/// Whether `b` is optional whitespace, SP or HTAB (RFC 9110 §5.6.3).
pub fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Whether `b` may appear in a field value (RFC 9110 §5.5): SP, HTAB, VCHAR
/// and obs-text. Every other control byte, NUL and DEL (0x7F) is refused,
/// because a recipient that passes them on could be tricked into splitting
/// or truncating the field downstream.
pub fn is_field_value_byte(b: u8) -> bool {
    matches!(b, b'\t' | b' '..=b'~' | 0x80..=0xFF)
}

/// Whether every byte of `value` passes [`is_field_value_byte`]. It reads
/// every byte, with no early exit, so that the compiler checks many bytes
/// per instruction: field values are most of a browser's request head
/// (callgrind: about 10,000 instructions of a 25,000-instruction request
/// went to checking them byte by byte).
pub fn is_field_value(value: &[u8]) -> bool {
    let refused = value.iter().fold(false, |refused, &b| {
        refused | ((b < b' ' && b != b'\t') | (b == 0x7f))
    });
    !refused
}

/// `value` without leading or trailing SP/HTAB (RFC 9112 §5: the OWS around
/// a field value is not part of it).
pub fn trim_ows(value: &[u8]) -> &[u8] {
    let start = value
        .iter()
        .position(|&b| !is_ows(b))
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|&b| !is_ows(b))
        .map_or(start, |i| i + 1);
    value.get(start..end).unwrap_or(&[])
}

/// The trimmed, non-empty elements of a comma-separated list (RFC 9110 §5.6.1:
/// a recipient ignores empty elements).
pub fn comma_list(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|item| !item.is_empty())
}

/// Whether the comma list `value` contains `token`, case-insensitively.
pub fn list_contains(value: &[u8], token: &str) -> bool {
    comma_list(value).any(|item| item.eq_ignore_ascii_case(token.as_bytes()))
}

/// Parse `1*DIGIT` as a `u64` (RFC 9110 §8.6). No sign, no whitespace, no
/// other base; `None` when empty, not all digits, or too large for a `u64`.
pub fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &b| {
        if b.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

/// One element of a weighted list (`Accept`, `Accept-Encoding`, RFC 9110
/// §12.4.2): what it names (a media range, a coding) and its weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weighted<'a> {
    /// The element before its first `;`, without OWS; never empty.
    pub item: &'a [u8],
    /// The `q` parameter in thousandths; 1000 without one.
    pub weight: u16,
}

/// The elements of the weighted list `value`, in order: the one reading of
/// `q` for every `Accept*` field. Empty elements (RFC 9110 §5.6.1), those
/// with nothing before the `;`, and those with a malformed weight are
/// dropped: a recipient cannot tell what such an element meant.
pub fn weighted_list(value: &[u8]) -> impl Iterator<Item = Weighted<'_>> {
    comma_list(value).filter_map(|element| {
        let mut parts = element.split(|&b| b == b';');
        let item = trim_ows(parts.next().unwrap_or_default());
        if item.is_empty() {
            return None;
        }
        let weight = weight_of(parts)?;
        Some(Weighted { item, weight })
    })
}

/// The weight from an element's parameters: 1000 without `q`, `None` when
/// `q` is malformed. Other parameters are ignored.
pub fn weight_of<'a>(parameters: impl Iterator<Item = &'a [u8]>) -> Option<u16> {
    let mut weight = 1000;
    for parameter in parameters {
        let parameter = trim_ows(parameter);
        let Some(eq) = parameter.iter().position(|&b| b == b'=') else {
            continue;
        };
        if trim_ows(&parameter[..eq]).eq_ignore_ascii_case(b"q") {
            weight = parse_qvalue(trim_ows(&parameter[eq + 1..]))?;
        }
    }
    Some(weight)
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )` (RFC 9110
/// §12.4.2), in thousandths.
pub fn parse_qvalue(text: &[u8]) -> Option<u16> {
    let (whole, fraction) = match text.iter().position(|&b| b == b'.') {
        Some(dot) => (&text[..dot], &text[dot + 1..]),
        None => (text, &[][..]),
    };
    if fraction.len() > 3 || !fraction.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut thousandths: u16 = 0;
    for (i, digit) in fraction.iter().enumerate() {
        thousandths += u16::from(digit - b'0') * [100, 10, 1][i];
    }
    match whole {
        b"0" => Some(thousandths),
        b"1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// The value of a HEXDIG (RFC 5234 B.1), case-insensitive.
pub fn hex_digit_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tchar_accepts_token_bytes_only() {
        for b in b"!#$%&'*+-.^_`|~09azAZ" {
            assert!(is_tchar(*b), "{b}");
        }
        for b in b" \t\r\n\"(),/:;<=>?@[\\]{}\x00\x7f\x80\xff" {
            assert!(!is_tchar(*b), "{b}");
        }
    }

    #[test]
    fn field_value_byte_allows_vchar_ows_and_obs_text() {
        for b in 0u8..=255 {
            let expected = b == b'\t' || (0x20..=0x7E).contains(&b) || b >= 0x80;
            assert_eq!(is_field_value_byte(b), expected, "byte {b:#x}");
        }
    }

    #[test]
    fn tchar_table_is_the_rfc_9110_set() {
        let tchars: &[u8] = b"!#$%&'*+-.^_`|~";
        for b in 0u8..=255 {
            let expected = b.is_ascii_alphanumeric() || tchars.contains(&b);
            assert_eq!(is_tchar(b), expected, "byte {b:#x}");
        }
    }

    #[test]
    fn field_value_checks_every_byte_wherever_it_is() {
        // Each byte alone, and at every position of a 70-byte value (longer
        // than any vector the compiler may use), agrees with the byte rule.
        for b in 0u8..=255 {
            assert_eq!(is_field_value(&[b]), is_field_value_byte(b), "byte {b:#x}");
            for at in 0..70 {
                let mut value = vec![b'a'; 70];
                value[at] = b;
                assert_eq!(
                    is_field_value(&value),
                    is_field_value_byte(b),
                    "{b:#x} at {at}"
                );
            }
        }
        assert!(is_field_value(b""));
    }

    proptest::proptest! {
        #[test]
        fn field_value_agrees_with_the_byte_rule(value in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            proptest::prop_assert_eq!(
                is_field_value(&value),
                value.iter().all(|&b| is_field_value_byte(b))
            );
        }
    }

    #[test]
    fn trim_ows_removes_only_sp_and_htab() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"", b""),
            (b"   ", b""),
            (b" \ta b\t ", b"a b"),
            (b"x", b"x"),
            (b"\x0cx\x0c", b"\x0cx\x0c"),
        ];
        for (input, expected) in cases {
            assert_eq!(trim_ows(input), *expected);
        }
    }

    #[test]
    fn comma_list_skips_empty_elements() {
        let items: Vec<&[u8]> = comma_list(b" a ,, b\t, ,c").collect();
        assert_eq!(items, vec![&b"a"[..], b"b", b"c"]);
        assert_eq!(comma_list(b" , ").count(), 0);
    }

    #[test]
    fn list_contains_is_case_insensitive() {
        assert!(list_contains(b"Keep-Alive, CLOSE", "close"));
        assert!(!list_contains(b"closed, xclose", "close"));
    }

    #[test]
    fn weighted_lists_read_each_element_once() {
        // (value, [(item, weight)])
        let cases: &[(&str, &[(&str, u16)])] = &[
            ("", &[]),
            (" , ,", &[]),
            ("gzip", &[("gzip", 1000)]),
            ("  GZIP ; Q=1.0 ,BR", &[("GZIP", 1000), ("BR", 1000)]),
            (
                "text/html,application/xml;q=0.9,*/*;q=0.8",
                &[("text/html", 1000), ("application/xml", 900), ("*/*", 800)],
            ),
            ("br;q=0, br", &[("br", 0), ("br", 1000)]),
            ("a;level=1;q=0.5", &[("a", 500)]),
            ("a; q = 0.25 ", &[("a", 250)]),
            // Nothing before the `;`: dropped.
            (";q=1, b", &[("b", 1000)]),
            // Malformed weights drop their element only.
            ("br;q=2, gzip;q=0.5", &[("gzip", 500)]),
            ("br;q=0.1234, gzip;q=abc, zstd;q=", &[]),
            ("application/json;q=0.5x, x", &[("x", 1000)]),
        ];
        for (value, want) in cases {
            let got: Vec<(&[u8], u16)> = weighted_list(value.as_bytes())
                .map(|element| (element.item, element.weight))
                .collect();
            let want: Vec<(&[u8], u16)> = want
                .iter()
                .map(|(item, weight)| (item.as_bytes(), *weight))
                .collect();
            assert_eq!(got, want, "{value:?}");
        }
    }

    #[test]
    fn qvalues_parse_in_thousandths() {
        let cases: &[(&str, Option<u16>)] = &[
            ("0", Some(0)),
            ("0.", Some(0)),
            ("0.5", Some(500)),
            ("0.05", Some(50)),
            ("0.25", Some(250)),
            ("0.125", Some(125)),
            ("0.001", Some(1)),
            ("1", Some(1000)),
            ("1.0", Some(1000)),
            ("1.000", Some(1000)),
            ("1.5", None),
            ("1.001", None),
            ("2", None),
            ("-1", None),
            ("-0", None),
            ("", None),
            ("0.1234", None),
            (".5", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_qvalue(text.as_bytes()), *want, "q={text:?}");
        }
    }

    #[test]
    fn parse_decimal_accepts_digits_only() {
        let cases: &[(&[u8], Option<u64>)] = &[
            (b"0", Some(0)),
            (b"007", Some(7)),
            (b"18446744073709551615", Some(u64::MAX)),
            (b"18446744073709551616", None),
            (b"", None),
            (b"+1", None),
            (b"-1", None),
            (b"1 2", None),
            (b"0x10", None),
            (b" 1", None),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_decimal(input), *expected, "{input:?}");
        }
    }
}
