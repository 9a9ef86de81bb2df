//! Field syntax (RFC 9110 §5): token and value characters, comma lists,
//! weighted lists, and [`FieldLines`], the one way to read a field that may
//! be sent on more than one line.
//!
//! Pure byte predicates and small helpers shared by the head parser, the
//! framing decisions and the services. Storage of parsed fields lives in
//! `request.rs`; [`FieldLines`] reads it through the head's accessors.

use super::request::RequestHead;

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

/// The lines of one field of a head, found by name (case-insensitive).
///
/// A field sent on several lines is one field whose value is the lines
/// joined by commas (RFC 9110 §5.3), so every reader of a field that may
/// repeat asks this one type, in one of three ways: [`FieldLines::single`]
/// for a field defined to appear once (a repeated one is invalid and
/// ignored), [`FieldLines::lines`] for a list whose elements may hold
/// commas (entity tags), [`FieldLines::elements`] or
/// [`FieldLines::weighted`] for a plain or weighted list. None of them
/// copies a byte.
#[derive(Debug, Clone, Copy)]
pub struct FieldLines<'a> {
    head: &'a RequestHead,
    name: &'a str,
    span: LineSpan,
}

/// Where the lines of one field are among a head's field lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct LineSpan {
    /// Indexes of the first and last line (when `count > 0`). A head's
    /// lines fit in its bytes, whose length fits a `u32`.
    first: u32,
    last: u32,
    count: u32,
}

impl LineSpan {
    fn add(&mut self, index: usize) {
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        if self.count == 0 {
            self.first = index;
        }
        self.last = index;
        self.count += 1;
    }
}

/// Several fields of one head, found in one pass over its lines by
/// [`RequestHead::find_fields`] (a browser sends a dozen fields; a pass per
/// name would read them once per name): a few words per name until a
/// field's lines are asked for.
#[derive(Debug, Clone, Copy)]
pub struct FoundFields<'a, const N: usize> {
    head: &'a RequestHead,
    names: &'a [&'a str; N],
    spans: [LineSpan; N],
}

impl<'a, const N: usize> FoundFields<'a, N> {
    /// Find each of `names` among the lines of `head`.
    pub(super) fn find(head: &'a RequestHead, names: &'a [&'a str; N]) -> FoundFields<'a, N> {
        // Most lines are none of the names: a mask of the names' lengths
        // turns them away with one test instead of N comparisons.
        let mut lengths = 0u64;
        let mut any_long = false;
        for name in names {
            match name.len() {
                short @ 0..=63 => lengths |= 1 << short,
                _ => any_long = true,
            }
        }
        let mut spans = [LineSpan::default(); N];
        for (index, field_name) in head.field_names().enumerate() {
            let may_match = match field_name.len() {
                short @ 0..=63 => lengths & (1 << short) != 0,
                _ => any_long,
            };
            if !may_match {
                continue;
            }
            for (name, span) in names.iter().zip(spans.iter_mut()) {
                if field_name.eq_ignore_ascii_case(name.as_bytes()) {
                    span.add(index);
                }
            }
        }
        FoundFields { head, names, spans }
    }

    /// The lines of the field named by `names[index]`.
    pub fn lines(&self, index: usize) -> FieldLines<'a> {
        FieldLines {
            head: self.head,
            name: self.names[index],
            span: self.spans[index],
        }
    }

    /// Whether the field named by `names[index]` was sent.
    pub fn is_present(&self, index: usize) -> bool {
        self.spans[index].count > 0
    }
}

impl<'a> FieldLines<'a> {
    /// Find the lines of the field `name` in `head`.
    pub(super) fn find(head: &'a RequestHead, name: &'a str) -> FieldLines<'a> {
        let mut span = LineSpan::default();
        for (index, field_name) in head.field_names().enumerate() {
            if field_name.eq_ignore_ascii_case(name.as_bytes()) {
                span.add(index);
            }
        }
        FieldLines { head, name, span }
    }

    /// Whether the field was sent at all (perhaps with an empty value).
    pub fn is_present(&self) -> bool {
        self.span.count > 0
    }

    /// How many lines carry the field.
    pub fn count(&self) -> usize {
        self.span.count as usize
    }

    /// The value of a field defined to appear once: `None` when it is
    /// absent or sent on more than one line.
    pub fn single(&self) -> Option<&'a [u8]> {
        match self.span.count {
            1 => Some(self.head.field_line(self.span.first as usize).1),
            _ => None,
        }
    }

    /// Every line's value, in order.
    pub fn lines(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let (head, name) = (self.head, self.name);
        let span = match self.span.count {
            0 => 0..0,
            _ => self.span.first as usize..self.span.last as usize + 1,
        };
        span.map(move |index| head.field_line(index))
            .filter(move |(field_name, _)| field_name.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, value)| value)
    }

    /// The field's value as one comma-separated list: the non-empty
    /// elements of every line, in order.
    pub fn elements(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.lines().flat_map(comma_list)
    }

    /// The field's value as one weighted list (`Accept*`, RFC 9110
    /// §12.4.2); see [`weighted_list`].
    pub fn weighted(&self) -> impl Iterator<Item = Weighted<'a>> + 'a {
        self.lines().flat_map(weighted_list)
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
    fn a_repeated_field_reads_the_same_whichever_way() {
        let head = RequestHead::for_test(
            "GET",
            "/",
            &[
                ("Accept", "text/html;q=0.5"),
                ("Host", "h"),
                ("accept", "application/json, , */*;q=0.1"),
                ("Range", "bytes=0-1"),
                ("X-Empty", ""),
            ],
        );
        // (name, count, single, lines, elements)
        type Case<'a> = (
            &'a str,
            usize,
            Option<&'a str>,
            &'a [&'a str],
            &'a [&'a str],
        );
        let cases: &[Case] = &[
            (
                "Accept",
                2,
                None,
                &["text/html;q=0.5", "application/json, , */*;q=0.1"],
                &["text/html;q=0.5", "application/json", "*/*;q=0.1"],
            ),
            (
                "RANGE",
                1,
                Some("bytes=0-1"),
                &["bytes=0-1"],
                &["bytes=0-1"],
            ),
            ("x-empty", 1, Some(""), &[""], &[]),
            ("Accept-Encoding", 0, None, &[], &[]),
        ];
        let strings = |values: Vec<&[u8]>| -> Vec<String> {
            values
                .into_iter()
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect()
        };
        for (name, count, single, lines, elements) in cases {
            let found = head.field_lines(name);
            assert_eq!(found.count(), *count, "{name}");
            assert_eq!(found.is_present(), *count > 0, "{name}");
            assert_eq!(found.single(), single.map(str::as_bytes), "{name}");
            assert_eq!(strings(found.lines().collect()), *lines, "{name}");
            assert_eq!(strings(found.elements().collect()), *elements, "{name}");
            // The one-pass search finds the same lines as the single search,
            // and the same lines as `fields_named`.
            let names = [*name, "Host"];
            let found = head.find_fields(&names);
            assert_eq!(found.is_present(0), *count > 0, "{name}");
            assert_eq!(strings(found.lines(0).lines().collect()), *lines, "{name}");
            assert_eq!(found.lines(0).count(), *count, "{name}");
            assert_eq!(strings(head.fields_named(name).collect()), *lines, "{name}");
        }
        let weights: Vec<u16> = head
            .field_lines("Accept")
            .weighted()
            .map(|w| w.weight)
            .collect();
        assert_eq!(weights, [500, 1000, 100]);
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
