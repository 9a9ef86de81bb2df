//! Integrity fields (RFC 9530): whether `Want-Repr-Digest` asks for a
//! SHA-256 digest, and the `Repr-Digest` value that carries one.
//!
//! `Want-Repr-Digest` is a Structured Fields Dictionary (RFC 9530 §4,
//! RFC 8941 §3.2) of algorithm keys to Integer preferences from 0 (not
//! acceptable) to 10. Its lines form one dictionary; a key given twice
//! takes its last value (RFC 8941 §3.2). Any syntax error makes the whole
//! field ignored, as RFC 8941 §4.2 requires, and so does a value that is
//! not an Integer, which the field does not allow. Only `sha-256` is
//! answered; its preference above 0 is a yes.
//!
//! Pure and total: bytes in, a boolean or a string out.

/// Whether the lines of a `Want-Repr-Digest` field ask for `sha-256`.
pub fn wants_sha256<'a>(lines: impl Iterator<Item = &'a [u8]>) -> bool {
    let mut preference = None;
    let mut any_line = false;
    for line in lines {
        any_line = true;
        match parse_line(line, &mut preference) {
            Ok(()) => {}
            Err(Malformed) => return false,
        }
    }
    any_line && preference.is_some_and(|weight| weight > 0)
}

/// A `Repr-Digest` value for a SHA-256 digest (RFC 9530 §3): the key and
/// the digest as a Byte Sequence, `sha-256=:<base64>:`.
pub fn repr_digest_sha256(digest: &[u8; 32]) -> String {
    format!("sha-256=:{}:", base64(digest, Alphabet::Standard))
}

/// The two base64 alphabets of RFC 4648.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alphabet {
    /// §4, with `=` padding: what a Structured Fields Byte Sequence holds.
    Standard,
    /// §5, without padding: safe inside a quoted entity tag or a URL.
    UrlSafeUnpadded,
}

/// `bytes` in base64 (RFC 4648), by the `base64` crate that also reads
/// Basic credentials.
pub fn base64(bytes: &[u8], alphabet: Alphabet) -> String {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine;
    match alphabet {
        Alphabet::Standard => STANDARD.encode(bytes),
        Alphabet::UrlSafeUnpadded => URL_SAFE_NO_PAD.encode(bytes),
    }
}

/// A syntax error: the whole field is ignored.
struct Malformed;

/// The largest Integer a Structured Field holds: 15 digits (RFC 8941 §3.3.1).
const MAX_INTEGER_DIGITS: usize = 15;

/// Parse one line of the dictionary, recording the last `sha-256` value.
fn parse_line(line: &[u8], sha256: &mut Option<i64>) -> Result<(), Malformed> {
    let mut at = skip(line, 0, b" \t");
    if at == line.len() {
        // An empty line adds no member.
        return Ok(());
    }
    loop {
        let key = parse_key(line, &mut at)?;
        let value = match line.get(at) {
            Some(b'=') => {
                at += 1;
                parse_bare_item(line, &mut at)?
            }
            // A key alone is the Boolean true: not an Integer.
            _ => Item::Other,
        };
        parse_parameters(line, &mut at)?;
        if key == b"sha-256" {
            match value {
                Item::Integer(weight) => *sha256 = Some(weight),
                Item::Other => return Err(Malformed),
            }
        }
        at = skip(line, at, b" \t");
        if at == line.len() {
            return Ok(());
        }
        if line[at] != b',' {
            return Err(Malformed);
        }
        at = skip(line, at + 1, b" \t");
        if at == line.len() {
            // A trailing comma.
            return Err(Malformed);
        }
    }
}

/// What a member's value is, as far as this field cares.
enum Item {
    Integer(i64),
    Other,
}

fn skip(line: &[u8], mut at: usize, set: &[u8]) -> usize {
    while at < line.len() && set.contains(&line[at]) {
        at += 1;
    }
    at
}

/// `key = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" )`
fn parse_key<'a>(line: &'a [u8], at: &mut usize) -> Result<&'a [u8], Malformed> {
    let start = *at;
    match line.get(start) {
        Some(b'a'..=b'z' | b'*') => {}
        _ => return Err(Malformed),
    }
    *at += 1;
    while let Some(b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' | b'*') = line.get(*at) {
        *at += 1;
    }
    Ok(&line[start..*at])
}

/// `*( ";" *SP key [ "=" bare-item ] )`
fn parse_parameters(line: &[u8], at: &mut usize) -> Result<(), Malformed> {
    while line.get(*at) == Some(&b';') {
        *at = skip(line, *at + 1, b" ");
        parse_key(line, at)?;
        if line.get(*at) == Some(&b'=') {
            *at += 1;
            parse_bare_item(line, at)?;
        }
    }
    Ok(())
}

/// An Integer, Decimal, String, Token, Byte Sequence or Boolean (RFC 8941
/// §3.3). An Inner List is not a bare item: a parse error here.
fn parse_bare_item(line: &[u8], at: &mut usize) -> Result<Item, Malformed> {
    match line.get(*at) {
        Some(b'-' | b'0'..=b'9') => parse_number(line, at),
        Some(b'"') => {
            *at += 1;
            loop {
                match line.get(*at) {
                    Some(b'"') => {
                        *at += 1;
                        return Ok(Item::Other);
                    }
                    Some(b'\\') => match line.get(*at + 1) {
                        Some(b'"' | b'\\') => *at += 2,
                        _ => return Err(Malformed),
                    },
                    Some(0x20..=0x7e) => *at += 1,
                    _ => return Err(Malformed),
                }
            }
        }
        Some(b':') => {
            *at += 1;
            loop {
                match line.get(*at) {
                    Some(b':') => {
                        *at += 1;
                        return Ok(Item::Other);
                    }
                    Some(b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' | b'=') => *at += 1,
                    _ => return Err(Malformed),
                }
            }
        }
        Some(b'?') => match line.get(*at + 1) {
            Some(b'0' | b'1') => {
                *at += 2;
                Ok(Item::Other)
            }
            _ => Err(Malformed),
        },
        Some(b'A'..=b'Z' | b'a'..=b'z' | b'*') => {
            *at += 1;
            while let Some(byte) = line.get(*at) {
                let tchar = byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~:/".contains(byte);
                if !tchar {
                    break;
                }
                *at += 1;
            }
            Ok(Item::Other)
        }
        _ => Err(Malformed),
    }
}

/// An Integer (at most 15 digits) or a Decimal (at most 12 digits, a
/// point, 1 to 3 digits), RFC 8941 §4.2.4.
fn parse_number(line: &[u8], at: &mut usize) -> Result<Item, Malformed> {
    let negative = line.get(*at) == Some(&b'-');
    if negative {
        *at += 1;
    }
    let start = *at;
    while let Some(b'0'..=b'9') = line.get(*at) {
        *at += 1;
    }
    let integer_digits = *at - start;
    if integer_digits == 0 {
        return Err(Malformed);
    }
    if line.get(*at) == Some(&b'.') {
        *at += 1;
        let fraction_start = *at;
        while let Some(b'0'..=b'9') = line.get(*at) {
            *at += 1;
        }
        let fraction_digits = *at - fraction_start;
        if integer_digits > 12 || !(1..=3).contains(&fraction_digits) {
            return Err(Malformed);
        }
        return Ok(Item::Other);
    }
    if integer_digits > MAX_INTEGER_DIGITS {
        return Err(Malformed);
    }
    let mut value: i64 = 0;
    for &digit in &line[start..*at] {
        value = value * 10 + i64::from(digit - b'0');
    }
    Ok(Item::Integer(if negative { -value } else { value }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn wants(lines: &[&str]) -> bool {
        wants_sha256(lines.iter().map(|line| line.as_bytes()))
    }

    #[test]
    fn sha256_is_wanted_with_a_preference_above_zero() {
        // (lines, wanted)
        let cases: &[(&[&str], bool)] = &[
            (&["sha-256=1"], true),
            (&["sha-256=10"], true),
            (&["sha-512=3, sha-256=10"], true),
            (&["  sha-256=5  "], true),
            (&["sha-256=5;p=1;q=\"x\""], true),
            (&["unixsum=2, sha-256=1, md5=?0"], true),
            (&["id-sha-256=3"], false),
            (&["sha-256=0"], false),
            (&["sha-512=3"], false),
            (&[], false),
            (&[""], false),
            // Lines form one dictionary: the last value wins (RFC 8941 §3.2).
            (&["sha-256=3", "sha-256=0"], false),
            (&["sha-256=0", "sha-256=3"], true),
            (&["sha-512=1", "sha-256=2"], true),
            // Not an Integer: the field does not allow it.
            (&["sha-256"], false),
            (&["sha-256=1.5"], false),
            (&["sha-256=\"1\""], false),
            // Syntax errors: the whole field is ignored (RFC 8941 §4.2).
            (&["sha-256=1,"], false),
            (&["sha-256=1,,sha-512=2"], false),
            (&["SHA-256=1"], false),
            (&["sha-256=1 sha-512=2"], false),
            (&["sha-256=1", "Sha-512=2"], false),
            (&["sha-256=1234567890123456"], false),
            (&["sha-256=1, md5=(a b)"], false),
            (&["sha-256=1, x=\"unterminated"], false),
        ];
        for (lines, wanted) in cases {
            assert_eq!(wants(lines), *wanted, "{lines:?}");
        }
    }

    #[test]
    fn repr_digest_is_a_byte_sequence_of_the_digest() {
        // SHA-256 of the empty string (FIPS 180-4 test vector), as RFC 9530
        // Appendix B shows it.
        let empty: [u8; 32] = [
            0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f,
            0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b,
            0x78, 0x52, 0xb8, 0x55,
        ];
        assert_eq!(
            repr_digest_sha256(&empty),
            "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"
        );
    }

    #[test]
    fn base64_matches_rfc_4648_test_vectors() {
        // RFC 4648 §10.
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base64(plain.as_bytes(), Alphabet::Standard), encoded);
            let unpadded = encoded.trim_end_matches('=');
            assert_eq!(
                base64(plain.as_bytes(), Alphabet::UrlSafeUnpadded),
                unpadded
            );
        }
        assert_eq!(base64(&[0xfb, 0xff], Alphabet::Standard), "+/8=");
        assert_eq!(base64(&[0xfb, 0xff], Alphabet::UrlSafeUnpadded), "-_8");
    }

    proptest! {
        #[test]
        fn any_bytes_give_an_answer(lines in proptest::collection::vec(
            proptest::collection::vec(any::<u8>(), 0..40), 0..4)) {
            let _ = wants_sha256(lines.iter().map(Vec::as_slice));
        }

        /// RFC 8941 §4.2: a field's lines are combined with ", " and parsed
        /// as one; reading them one by one must agree (for lines that are
        /// not blank). Lines are made of the dictionary's own pieces, so
        /// the cases are mostly near-valid and often name `sha-256`.
        #[test]
        fn lines_read_one_by_one_agree_with_the_combined_value(
            lines in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::sample::select(vec![
                        "sha-256", "md5", "=", "0", "7", "1.5", ",", " ", ", ", ";", "a",
                        "\"x\"", "?1", ":AA==:", "(", "-", "\t",
                    ]),
                    1..8,
                )
                .prop_map(|pieces| pieces.concat())
                .prop_filter("not blank", |line| !line.trim().is_empty()),
                1..4,
            ),
        ) {
            let combined = lines.join(", ");
            prop_assert_eq!(
                wants_sha256(lines.iter().map(|l| l.as_bytes())),
                wants_sha256(std::iter::once(combined.as_bytes())),
                "{:?}", lines
            );
        }

        #[test]
        fn a_well_formed_dictionary_is_read_as_written(
            members in proptest::collection::vec(
                (prop_oneof![Just("sha-256"), Just("sha-512"), Just("md5"), Just("unixsum")],
                 0i64..=10, prop_oneof![Just(""), Just(";a=1"), Just(";b")]),
                1..6),
            separator in prop_oneof![Just(","), Just(", "), Just(" ,\t")],
        ) {
            let line = members
                .iter()
                .map(|(key, weight, parameters)| format!("{key}={weight}{parameters}"))
                .collect::<Vec<_>>()
                .join(separator);
            let last = members.iter().rev().find(|(key, _, _)| *key == "sha-256");
            let expected = last.is_some_and(|(_, weight, _)| *weight > 0);
            prop_assert_eq!(wants_sha256(std::iter::once(line.as_bytes())), expected, "{}", line);
        }
    }
}
