//! Byte ranges (RFC 9110 §14): what a `Range` field asks of a representation
//! of a known length, and the `multipart/byteranges` body for several ranges.
//!
//! Pure: the field value and the length in, a decision out. Whether `Range`
//! applies at all (GET only, `If-Range`) is the caller's business; see
//! [`super::conditional::if_range_allows`].
//!
//! **Decisions.**
//! - No usable range → [`RangeOutcome::Full`] (200 with the whole file): a
//!   malformed value (RFC 9110 §14.2 lets a server ignore it), a unit other
//!   than `bytes`, and an empty file (a zero-length representation has no
//!   byte to point at, and ignoring `Range` is always allowed).
//! - Satisfiable ranges (§14.1.1) are kept, the others dropped: `a-b` with
//!   `a` inside the file (an end past the file is clamped to its last byte),
//!   `a-`, and `-n` with `n > 0` (the last `n` bytes, or all of a shorter
//!   file). None left → [`RangeOutcome::Unsatisfiable`] (416 with
//!   `Content-Range: bytes */LEN`). One left → [`RangeOutcome::Single`]
//!   (206).
//! - Several left → [`RangeOutcome::Multiple`] (206 `multipart/byteranges`),
//!   unless the request looks like an amplification attack (§14.2 lets a
//!   server ignore those), which is answered 200 with the whole file:
//!   - more than [`MAX_RANGES`] range specs (counted before dropping, so the
//!     parse itself is bounded), or
//!   - ranges whose lengths add up to more than the file (overlapping or
//!     repeated ranges that ask for some bytes more than once), or
//!   - ([`multipart_body`]) a multipart body that, part headers included,
//!     would be larger than the whole file (many tiny ranges).
//!
//!   So a range response is never larger than the file itself plus one
//!   set of part headers, and never takes more than 16 file reads.
//!
//! Lengths and offsets are `u64` throughout: files over 4 GiB work. The
//! grammar's numbers are `1*DIGIT` with no upper bound, so a number past 64
//! bits (or with any number of leading zeros) is valid syntax and keeps its
//! meaning: a first position past the end is unsatisfiable, a last position
//! past the end is clamped, a suffix longer than the file is the whole file.

use super::super::Part;
use crate::proto::fields::{is_tchar, parse_decimal, trim_ows};
use bytes::Bytes;

/// Most range specs in one `Range` field before it is ignored (200).
pub const MAX_RANGES: usize = 16;

/// One satisfiable range: `len` bytes (at least one) from `start`, inside
/// the representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub len: u64,
}

impl ByteRange {
    /// The `Content-Range` value for this range of a representation of
    /// `complete_len` bytes (RFC 9110 §14.4), e.g. `bytes 0-499/1234`.
    pub fn content_range(&self, complete_len: u64) -> String {
        format!("bytes {}-{}/{complete_len}", self.start, self.last())
    }

    /// The offset of the last byte (inclusive).
    pub fn last(&self) -> u64 {
        self.start + self.len - 1
    }
}

/// What to answer to a `Range` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeOutcome {
    /// Ignore the field: 200 with the whole representation.
    Full,
    /// 206 with one range.
    Single(ByteRange),
    /// 206 `multipart/byteranges` with these ranges, in the order asked.
    Multiple(Vec<ByteRange>),
    /// 416 with `Content-Range: bytes */LEN`.
    Unsatisfiable,
}

/// Decide what a `Range` field value asks of a representation of `len`
/// bytes (RFC 9110 §14.1.1, §14.2).
pub fn evaluate_range(value: &[u8], len: u64) -> RangeOutcome {
    let Some(specs) = parse_range_set(value) else {
        return RangeOutcome::Full;
    };
    if len == 0 {
        return RangeOutcome::Full;
    }
    let mut satisfiable: Vec<ByteRange> = specs
        .into_iter()
        .filter_map(|spec| spec.resolve(len))
        .collect();
    match satisfiable.len() {
        0 => RangeOutcome::Unsatisfiable,
        1 => RangeOutcome::Single(satisfiable.remove(0)),
        _ => {
            // At most MAX_RANGES lengths, each at most `len`: no overflow.
            let total: u64 = satisfiable.iter().map(|r| r.len).sum();
            if total > len {
                RangeOutcome::Full
            } else {
                RangeOutcome::Multiple(satisfiable)
            }
        }
    }
}

/// The `Content-Range` of a 416: `bytes */LEN` (RFC 9110 §14.4).
pub fn unsatisfied_content_range(len: u64) -> String {
    format!("bytes */{len}")
}

/// A boundary for the multipart body of the representation with this
/// entity tag: fixed per representation, and unlikely to occur in it (a
/// file would have to contain a hash of its own inode and mtime).
pub fn boundary_for(etag: &str) -> String {
    // FNV-1a, 64 bits: enough to be distinct, no dependency needed.
    let hash = etag.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("httpserver-{hash:016x}")
}

/// The `multipart/byteranges` body (RFC 9110 §14.6) for `ranges` of a
/// representation of `complete_len` bytes: each part with its own
/// `Content-Type` and `Content-Range`, the data as file ranges. `None` when
/// the body would be larger than the whole representation, in which case
/// the caller sends that instead (200).
pub fn multipart_body(
    ranges: &[ByteRange],
    complete_len: u64,
    content_type: &str,
    boundary: &str,
) -> Option<Vec<Part>> {
    let mut parts = Vec::with_capacity(ranges.len() * 2 + 1);
    for (index, range) in ranges.iter().enumerate() {
        let separator = if index == 0 { "" } else { "\r\n" };
        let header = format!(
            "{separator}--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: {}\r\n\r\n",
            range.content_range(complete_len)
        );
        parts.push(Part::Bytes(Bytes::from(header)));
        parts.push(Part::File {
            offset: range.start,
            len: range.len,
        });
    }
    parts.push(Part::Bytes(Bytes::from(format!("\r\n--{boundary}--\r\n"))));
    let total: u64 = parts.iter().map(Part::len).sum();
    (total <= complete_len).then_some(parts)
}

/// One `range-spec`, before it meets the representation's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeSpec {
    /// `first-last` or `first-` (`last` = None).
    FromTo { first: u64, last: Option<u64> },
    /// `-length`: the last `length` bytes.
    Suffix { length: u64 },
}

impl RangeSpec {
    /// The satisfiable range this spec picks from `len` (> 0) bytes, if any.
    fn resolve(self, len: u64) -> Option<ByteRange> {
        match self {
            RangeSpec::FromTo { first, last } if first < len => {
                let last = last.map_or(len - 1, |last| last.min(len - 1));
                Some(ByteRange {
                    start: first,
                    len: last - first + 1,
                })
            }
            RangeSpec::FromTo { .. } => None,
            RangeSpec::Suffix { length: 0 } => None,
            RangeSpec::Suffix { length } => {
                let length = length.min(len);
                Some(ByteRange {
                    start: len - length,
                    len: length,
                })
            }
        }
    }
}

/// `ranges-specifier = range-unit "=" range-set` with the unit `bytes`
/// (case-insensitive, §14.1). `None` for another unit, a syntax error, an
/// int-range whose last is before its first, or more than [`MAX_RANGES`]
/// specs.
fn parse_range_set(value: &[u8]) -> Option<Vec<RangeSpec>> {
    let value = trim_ows(value);
    let equals = value.iter().position(|&b| b == b'=')?;
    let (unit, set) = (&value[..equals], &value[equals + 1..]);
    if unit.is_empty() || !unit.iter().all(|&b| is_tchar(b)) || !unit.eq_ignore_ascii_case(b"bytes")
    {
        return None;
    }
    let mut specs = Vec::new();
    // `1#range-spec`: empty elements are allowed and ignored (§5.6.1).
    for element in set.split(|&b| b == b',').map(trim_ows) {
        if element.is_empty() {
            continue;
        }
        if specs.len() == MAX_RANGES {
            return None;
        }
        specs.push(parse_range_spec(element)?);
    }
    (!specs.is_empty()).then_some(specs)
}

/// `int-range = first-pos "-" [ last-pos ]` or `suffix-range = "-"
/// suffix-length`, digits only, no inner whitespace.
fn parse_range_spec(element: &[u8]) -> Option<RangeSpec> {
    let dash = element.iter().position(|&b| b == b'-')?;
    let (first, last) = (&element[..dash], &element[dash + 1..]);
    if first.is_empty() {
        return Some(RangeSpec::Suffix {
            length: saturating_value(significant_digits(last)?),
        });
    }
    let first = significant_digits(first)?;
    let last = match last {
        [] => None,
        digits => {
            let last = significant_digits(digits)?;
            // §14.1.1: an int-range whose last is before its first is
            // invalid. Compared as written, so two numbers past 64 bits are
            // still told apart.
            if compare_digits(last, first).is_lt() {
                return None;
            }
            Some(saturating_value(last))
        }
    };
    Some(RangeSpec::FromTo {
        first: saturating_value(first),
        last,
    })
}

/// A `1*DIGIT` number (§14.1.1) without its leading zeros; `None` when it
/// is empty or holds anything but digits. The grammar sets no upper bound,
/// so no length is refused here: the field as a whole is already bounded
/// by the head-size limit, and the work below is linear in it.
fn significant_digits(digits: &[u8]) -> Option<&[u8]> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let leading_zeros = digits.iter().take_while(|&&b| b == b'0').count();
    Some(&digits[leading_zeros..])
}

/// Two numbers from [`significant_digits`], compared exactly: the longer
/// is larger, and equal lengths compare digit by digit.
fn compare_digits(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// The value of a number from [`significant_digits`], or `u64::MAX` for one
/// that does not fit. No representation is longer than `u64::MAX` bytes, so
/// in [`RangeSpec::resolve`] a larger number means the same as `u64::MAX`:
/// a first position past the end (unsatisfiable), a last position past the
/// end (clamped), a suffix longer than the representation (all of it).
fn saturating_value(digits: &[u8]) -> u64 {
    if digits.is_empty() {
        return 0;
    }
    parse_decimal(digits).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(start: u64, len: u64) -> ByteRange {
        ByteRange { start, len }
    }

    #[test]
    fn one_range_in_each_form() {
        use RangeOutcome::*;
        let cases: &[(&str, u64, RangeOutcome)] = &[
            ("bytes=0-499", 10_000, Single(range(0, 500))),
            ("bytes=500-999", 10_000, Single(range(500, 500))),
            ("bytes=9500-", 10_000, Single(range(9500, 500))),
            ("bytes=-500", 10_000, Single(range(9500, 500))),
            ("bytes=0-0", 10_000, Single(range(0, 1))),
            ("bytes=-1", 10_000, Single(range(9999, 1))),
            ("bytes=0-", 10_000, Single(range(0, 10_000))),
            // An end past the file is clamped to its last byte.
            ("bytes=9000-20000", 10_000, Single(range(9000, 1000))),
            ("bytes=0-18446744073709551615", 10, Single(range(0, 10))),
            // A suffix longer than the file is the whole file.
            ("bytes=-20000", 10_000, Single(range(0, 10_000))),
            // Unit case, whitespace around the set's elements.
            ("BYTES=1-2", 10, Single(range(1, 2))),
            ("bytes= 1-2 ", 10, Single(range(1, 2))),
            ("bytes=,1-2,", 10, Single(range(1, 2))),
            // Over 4 GiB.
            (
                "bytes=5368709000-",
                5 << 30,
                Single(range(5_368_709_000, (5 << 30) - 5_368_709_000)),
            ),
            ("bytes=-10", 5 << 30, Single(range((5 << 30) - 10, 10))),
        ];
        for (value, len, expected) in cases {
            assert_eq!(evaluate_range(value.as_bytes(), *len), *expected, "{value}");
        }
    }

    #[test]
    fn unsatisfiable_ranges() {
        let cases: &[(&str, u64)] = &[
            ("bytes=10000-", 10_000),
            ("bytes=10000-20000", 10_000),
            ("bytes=-0", 10_000),
            ("bytes=20-30,40-", 10),
            ("bytes=-0,10-", 10),
        ];
        for (value, len) in cases {
            assert_eq!(
                evaluate_range(value.as_bytes(), *len),
                RangeOutcome::Unsatisfiable,
                "{value}"
            );
        }
        assert_eq!(unsatisfied_content_range(10_000), "bytes */10000");
    }

    /// Issue 11: `first-pos`, `last-pos` and `suffix-length` are `1*DIGIT`
    /// (RFC 9110 §14.1.1), with no upper bound, so a number past 64 bits is
    /// valid syntax and means what it says: a first position past any file
    /// (unsatisfiable), a last position past the end (clamped, §14.1.1), a
    /// suffix longer than the file (all of it, §14.1.1). Leading zeros are
    /// digits like any other.
    #[test]
    fn issue11_positions_past_64_bits_keep_their_meaning() {
        use RangeOutcome::*;
        let huge = format!("1{}", "0".repeat(10_000));
        let zeros = "0".repeat(10_000);
        let from_huge = format!("bytes={huge}-");
        let to_huge = format!("bytes=9000-{huge}");
        let suffix_huge = format!("bytes=-{huge}");
        let padded = format!("bytes={zeros}1-{zeros}2");
        let padded_suffix = format!("bytes=-{zeros}5");
        let padded_zero_suffix = format!("bytes=-{zeros}");
        let cases: &[(&str, RangeOutcome)] = &[
            // A first position that overflows: no byte there (§14.1.1).
            ("bytes=18446744073709551616-", Unsatisfiable),
            ("bytes=99999999999999999999999999-", Unsatisfiable),
            (
                "bytes=18446744073709551616-18446744073709551617",
                Unsatisfiable,
            ),
            ("bytes=18446744073709551615-", Unsatisfiable),
            (&from_huge, Unsatisfiable),
            // last < first is invalid, even when both overflow and would
            // saturate to the same number.
            ("bytes=18446744073709551617-18446744073709551616", Full),
            ("bytes=99999999999999999999-18446744073709551615", Full),
            // A last position that overflows: clamped to the last byte.
            ("bytes=0-99999999999999999999", Single(range(0, 10_000))),
            ("bytes=0-18446744073709551616", Single(range(0, 10_000))),
            (&to_huge, Single(range(9000, 1000))),
            // A suffix that overflows: the whole representation.
            ("bytes=-99999999999999999999", Single(range(0, 10_000))),
            ("bytes=-18446744073709551616", Single(range(0, 10_000))),
            (&suffix_huge, Single(range(0, 10_000))),
            // Leading zeros, however many.
            (&padded, Single(range(1, 2))),
            ("bytes=00000000000000000000009999-", Single(range(9999, 1))),
            ("bytes=00000000000000000000010000-", Unsatisfiable),
            (&padded_suffix, Single(range(9995, 5))),
            (&padded_zero_suffix, Unsatisfiable),
            // Among other ranges, an overflowing one is just unsatisfiable.
            ("bytes=0-1,18446744073709551616-", Single(range(0, 2))),
            ("bytes=18446744073709551616-,20000-", Unsatisfiable),
        ];
        for (value, expected) in cases {
            assert_eq!(
                evaluate_range(value.as_bytes(), 10_000),
                *expected,
                "{}",
                &value[..value.len().min(60)]
            );
        }
    }

    #[test]
    fn malformed_or_foreign_ranges_are_ignored() {
        let cases = [
            "",
            "bytes",
            "bytes=",
            "bytes=,",
            "bytes=abc",
            "bytes=1",
            "bytes=--1",
            "bytes=1--2",
            "bytes=5-4",
            "bytes=-",
            "bytes=+1-2",
            "bytes=1-2x",
            "bytes=1 -2",
            "bytes=0x10-",
            "bytes=1-2;3-4",
            "bytes = 1-2",
            "items=0-5",
            "=0-5",
            "bytes=0-1,5-4",
            "bytes=0-1,junk",
        ];
        for value in cases {
            assert_eq!(
                evaluate_range(value.as_bytes(), 10_000),
                RangeOutcome::Full,
                "{value:?}"
            );
        }
    }

    #[test]
    fn an_empty_file_ignores_range() {
        for value in ["bytes=0-", "bytes=-5", "bytes=5-10"] {
            assert_eq!(evaluate_range(value.as_bytes(), 0), RangeOutcome::Full);
        }
    }

    #[test]
    fn several_ranges_are_kept_in_order_when_cheap() {
        let cases: &[(&str, u64, RangeOutcome)] = &[
            (
                "bytes=0-9,20-29",
                100,
                RangeOutcome::Multiple(vec![range(0, 10), range(20, 10)]),
            ),
            // Unsorted and adjacent are fine when nothing is sent twice.
            (
                "bytes=50-59,0-9,-10",
                100,
                RangeOutcome::Multiple(vec![range(50, 10), range(0, 10), range(90, 10)]),
            ),
            // Unsatisfiable members are dropped; one left is a single range.
            ("bytes=0-9,500-", 100, RangeOutcome::Single(range(0, 10))),
            (
                "bytes=0-9,500-,-0,90-",
                100,
                RangeOutcome::Multiple(vec![range(0, 10), range(90, 10)]),
            ),
        ];
        for (value, len, expected) in cases {
            assert_eq!(evaluate_range(value.as_bytes(), *len), *expected, "{value}");
        }
    }

    #[test]
    fn amplification_is_answered_with_the_whole_file() {
        let sixteen = (0..16)
            .map(|i| format!("{i}-{i}"))
            .collect::<Vec<_>>()
            .join(",");
        let seventeen = format!("bytes={sixteen},16-16");
        let sixteen = format!("bytes={sixteen}");
        let cases: &[(&str, RangeOutcome)] = &[
            // Overlapping ranges that ask for more than the file.
            ("bytes=0-,0-", RangeOutcome::Full),
            ("bytes=0-99,0-99", RangeOutcome::Full),
            ("bytes=0-60,40-99", RangeOutcome::Full),
            ("bytes=-100,0-", RangeOutcome::Full),
            // Overlapping but small in total: allowed.
            (
                "bytes=0-10,5-15",
                RangeOutcome::Multiple(vec![range(0, 11), range(5, 11)]),
            ),
            // Too many specs, even if all are unsatisfiable.
            (&seventeen, RangeOutcome::Full),
        ];
        for (value, expected) in cases {
            assert_eq!(evaluate_range(value.as_bytes(), 100), *expected, "{value}");
        }
        assert!(matches!(
            evaluate_range(sixteen.as_bytes(), 100),
            RangeOutcome::Multiple(ranges) if ranges.len() == 16
        ));
        let many_unsatisfiable = (0..17).map(|_| "200-").collect::<Vec<_>>().join(",");
        assert_eq!(
            evaluate_range(format!("bytes={many_unsatisfiable}").as_bytes(), 100),
            RangeOutcome::Full
        );
    }

    #[test]
    fn multipart_body_layout() {
        let parts = multipart_body(&[range(0, 5), range(95, 5)], 100_000, "text/plain", "B")
            .expect("small enough");
        let expected = vec![
            Part::Bytes(Bytes::from_static(
                b"--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-4/100000\r\n\r\n",
            )),
            Part::File { offset: 0, len: 5 },
            Part::Bytes(Bytes::from_static(
                b"\r\n--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 95-99/100000\r\n\r\n",
            )),
            Part::File { offset: 95, len: 5 },
            Part::Bytes(Bytes::from_static(b"\r\n--B--\r\n")),
        ];
        assert_eq!(parts, expected);
    }

    #[test]
    fn multipart_body_is_never_larger_than_the_file() {
        // Two one-byte ranges of a 100-byte file: the part headers alone
        // outweigh the file.
        assert_eq!(
            multipart_body(&[range(0, 1), range(50, 1)], 100, "text/plain", "B"),
            None
        );
        // Sixteen one-byte ranges of a large file are fine.
        let tiny: Vec<ByteRange> = (0..16).map(|i| range(i * 1000, 1)).collect();
        let parts = multipart_body(&tiny, 100_000, "application/octet-stream", "B").expect("fits");
        assert!(parts.iter().map(Part::len).sum::<u64>() <= 100_000);
    }

    #[test]
    fn boundary_is_fixed_per_tag_and_a_valid_token() {
        let a = boundary_for("\"abc-1\"");
        assert_eq!(a, boundary_for("\"abc-1\""));
        assert_ne!(a, boundary_for("\"abc-2\""));
        // RFC 2046 §5.1.1: 1-70 characters; these are all bchars and tchars,
        // so the Content-Type parameter needs no quoting.
        assert!(a.len() <= 70);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    }

    #[test]
    fn content_range_values() {
        assert_eq!(range(0, 500).content_range(1234), "bytes 0-499/1234");
        assert_eq!(range(1233, 1).content_range(1234), "bytes 1233-1233/1234");
        assert_eq!(
            range((5 << 30) - 1, 1).content_range(5 << 30),
            "bytes 5368709119-5368709119/5368709120"
        );
    }
}
