//! Message body length (RFC 9112 §6.3), connection persistence (§9.3) and
//! expectations (RFC 9110 §10.1.1), each decided by one pure function from
//! the parsed head. The body decoder and the driver act on the answers.

use super::fields::{comma_list, list_contains, parse_decimal};
use super::{Error, Limits, RequestHead, Version};

/// How the request body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body (no Content-Length, no Transfer-Encoding, or `Content-Length: 0`).
    None,
    /// Exactly this many bytes follow the head.
    Length(u64),
    /// Chunked transfer coding (RFC 9112 §7.1).
    Chunked,
}

/// What the client expects before it sends the body (RFC 9110 §10.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expectation {
    /// No expectation: read the body (if any) at once.
    None,
    /// `Expect: 100-continue`: send `100 Continue` before reading the body,
    /// or answer with a final status without reading it.
    Continue,
    /// An expectation this server cannot meet: answer 417 and do not read
    /// the body.
    Unsupported,
}

/// Decide how the body of this request is framed, or reject it.
///
/// The rules, strict where RFC 9112 allows a choice, because any leniency
/// here is a way for two recipients to disagree on where a request ends:
/// - Transfer-Encoding with Content-Length: rejected (§6.1 allows it).
/// - Transfer-Encoding in an HTTP/1.0 request: rejected as
///   [`Error::ChunkedNotFinal`] (400), since §6.1 says such framing MUST be
///   treated as faulty and HTTP/1.0 has no chunked coding.
/// - Transfer-Encoding whose final coding is not `chunked`, that applies
///   `chunked` twice, or that lists no coding at all (empty value):
///   [`Error::ChunkedNotFinal`] (400, §6.3 item 4).
/// - Any other coding before the final `chunked`: [`Error::UnknownTransferCoding`]
///   (501, §6.1), as only chunked is implemented. Codings compare
///   case-insensitively; a coding with parameters counts as unknown.
/// - Content-Length: every element of every line is `1*DIGIT` fitting a u64;
///   repeated identical values collapse to one (§6.3 item 5), differing ones
///   are [`Error::ConflictingContentLength`].
pub fn request_framing(head: &RequestHead, limits: &Limits) -> Result<BodyFraming, Error> {
    let has_content_length = head.field("content-length").is_some();
    if head.field("transfer-encoding").is_some() {
        if has_content_length {
            return Err(Error::ContentLengthWithTransferEncoding);
        }
        if head.version() == Version::Http10 {
            return Err(Error::ChunkedNotFinal);
        }
        return transfer_coding_framing(head);
    }
    if !has_content_length {
        return Ok(BodyFraming::None);
    }
    let length = content_length(head)?;
    if length > limits.max_body_bytes {
        return Err(Error::BodyTooLarge);
    }
    Ok(match length {
        0 => BodyFraming::None,
        n => BodyFraming::Length(n),
    })
}

/// Whether the client allows the connection to stay open after this request
/// (RFC 9112 §9.3): HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with
/// `Connection: keep-alive` and no `close`. Connection is a comma list of
/// case-insensitive tokens, possibly over several lines.
pub fn wants_keep_alive(head: &RequestHead) -> bool {
    let has = |token: &str| {
        head.fields_named("connection")
            .any(|value| list_contains(value, token))
    };
    if has("close") {
        return false;
    }
    match head.version() {
        Version::Http11 => true,
        Version::Http10 => has("keep-alive"),
    }
}

/// What the request's `Expect` field asks for (RFC 9110 §10.1.1).
///
/// `100-continue` (case-insensitive, possibly repeated) is
/// [`Expectation::Continue`]; any other element is
/// [`Expectation::Unsupported`] (417). An Expect field with no elements asks
/// for nothing. In an HTTP/1.0 request a 100-continue expectation MUST be
/// ignored (§10.1.1), so it yields [`Expectation::None`].
pub fn expectation(head: &RequestHead) -> Expectation {
    let mut continue_seen = false;
    for element in head.fields_named("expect").flat_map(comma_list) {
        if element.eq_ignore_ascii_case(b"100-continue") {
            continue_seen = true;
        } else {
            return Expectation::Unsupported;
        }
    }
    match (continue_seen, head.version()) {
        (true, Version::Http11) => Expectation::Continue,
        _ => Expectation::None,
    }
}

fn transfer_coding_framing(head: &RequestHead) -> Result<BodyFraming, Error> {
    let is_chunked = |coding: &[u8]| coding.eq_ignore_ascii_case(b"chunked");
    let codings = || head.fields_named("transfer-encoding").flat_map(comma_list);
    // Chunked must be last and only once: it is what delimits the body.
    if !codings().last().is_some_and(is_chunked) || codings().filter(|c| is_chunked(c)).count() > 1
    {
        return Err(Error::ChunkedNotFinal);
    }
    if codings().any(|c| !is_chunked(c)) {
        return Err(Error::UnknownTransferCoding);
    }
    Ok(BodyFraming::Chunked)
}

/// The one Content-Length value, from every element of every line. Elements
/// are not trimmed of anything but the OWS around commas, and empty elements
/// are errors: `1*DIGIT` has no room for leniency (RFC 9110 §8.6).
fn content_length(head: &RequestHead) -> Result<u64, Error> {
    let mut value: Option<u64> = None;
    let mut conflict = false;
    for line in head.fields_named("content-length") {
        for element in line.split(|&b| b == b',') {
            let element = super::fields::trim_ows(element);
            let n = parse_decimal(element).ok_or(Error::InvalidContentLength)?;
            match value {
                Some(previous) if previous != n => conflict = true,
                _ => value = Some(n),
            }
        }
    }
    // Every element is checked before a conflict is reported, so the answer
    // does not depend on the order of the values.
    if conflict {
        return Err(Error::ConflictingContentLength);
    }
    value.ok_or(Error::InvalidContentLength)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::parse_head;

    /// A head with these extra field lines after `Host`, in HTTP/1.`minor`.
    fn head_with(minor: u8, fields: &[&str]) -> RequestHead {
        let mut input = format!("POST / HTTP/1.{minor}\r\nHost: h\r\n");
        for field in fields {
            input.push_str(field);
            input.push_str("\r\n");
        }
        input.push_str("\r\n");
        match parse_head(input.as_bytes(), &Limits::default()) {
            Ok(Some((head, _))) => head,
            other => panic!("test head {input:?} did not parse: {other:?}"),
        }
    }

    fn framing(minor: u8, fields: &[&str]) -> Result<BodyFraming, Error> {
        request_framing(&head_with(minor, fields), &Limits::default())
    }

    fn assert_framing(cases: &[(&[&str], Result<BodyFraming, Error>)]) {
        for (fields, expected) in cases {
            assert_eq!(framing(1, fields), *expected, "{fields:?}");
        }
    }

    #[test]
    fn no_length_fields_means_no_body() {
        assert_framing(&[
            (&[], Ok(BodyFraming::None)),
            (&["Content-Length: 0"], Ok(BodyFraming::None)),
            (&["Content-Length: 000"], Ok(BodyFraming::None)),
            (&["X-Content-Length: 5"], Ok(BodyFraming::None)),
        ]);
    }

    #[test]
    fn content_length_gives_the_length() {
        assert_framing(&[
            (&["Content-Length: 5"], Ok(BodyFraming::Length(5))),
            (&["content-length:\t42 "], Ok(BodyFraming::Length(42))),
            (&["Content-Length: 007"], Ok(BodyFraming::Length(7))),
            // RFC 9112 §6.3: identical repeated values collapse to one.
            (&["Content-Length: 5, 5"], Ok(BodyFraming::Length(5))),
            (
                &["Content-Length: 5", "Content-Length: 5,5"],
                Ok(BodyFraming::Length(5)),
            ),
            (
                &["Content-Length: 5", "Content-Length: 05"],
                Ok(BodyFraming::Length(5)),
            ),
        ]);
    }

    #[test]
    fn invalid_content_length_is_400() {
        assert_eq!(Error::InvalidContentLength.status(), 400);
        let e = Err(Error::InvalidContentLength);
        assert_framing(&[
            (&["Content-Length:"], e),
            (&["Content-Length: +5"], e),
            (&["Content-Length: -5"], e),
            (&["Content-Length: 0x10"], e),
            (&["Content-Length: 1 2"], e),
            (&["Content-Length: 5,"], e),
            (&["Content-Length: ,5"], e),
            (&["Content-Length: 5,,5"], e),
            (&["Content-Length: 5.0"], e),
            (&["Content-Length: 18446744073709551616"], e),
            (&["Content-Length: 99999999999999999999999"], e),
            (&["Content-Length: 5", "Content-Length: x"], e),
            // Every element is checked before values are compared.
            (&["Content-Length: 5, 6, x"], e),
        ]);
    }

    #[test]
    fn conflicting_content_length_is_400() {
        assert_eq!(Error::ConflictingContentLength.status(), 400);
        let e = Err(Error::ConflictingContentLength);
        assert_framing(&[
            (&["Content-Length: 5, 6"], e),
            (&["Content-Length: 5", "Content-Length: 6"], e),
            (&["Content-Length: 0", "Content-Length: 5"], e),
        ]);
    }

    #[test]
    fn body_too_large_is_413() {
        assert_eq!(Error::BodyTooLarge.status(), 413);
        let limits = Limits {
            max_body_bytes: 10,
            ..Limits::default()
        };
        let cases: &[(&str, Result<BodyFraming, Error>)] = &[
            ("Content-Length: 10", Ok(BodyFraming::Length(10))),
            ("Content-Length: 11", Err(Error::BodyTooLarge)),
            (
                "Content-Length: 18446744073709551615",
                Err(Error::BodyTooLarge),
            ),
        ];
        for (field, expected) in cases {
            assert_eq!(
                request_framing(&head_with(1, &[field]), &limits),
                *expected,
                "{field}"
            );
        }
    }

    #[test]
    fn transfer_encoding_chunked_is_chunked() {
        assert_framing(&[
            (&["Transfer-Encoding: chunked"], Ok(BodyFraming::Chunked)),
            (&["transfer-encoding: CHUNKED"], Ok(BodyFraming::Chunked)),
            (
                &["Transfer-Encoding: , chunked ,"],
                Ok(BodyFraming::Chunked),
            ),
            (
                &["Transfer-Encoding:", "Transfer-Encoding: chunked"],
                Ok(BodyFraming::Chunked),
            ),
        ]);
    }

    #[test]
    fn content_length_with_transfer_encoding_is_400() {
        assert_eq!(Error::ContentLengthWithTransferEncoding.status(), 400);
        let e = Err(Error::ContentLengthWithTransferEncoding);
        assert_framing(&[
            (&["Transfer-Encoding: chunked", "Content-Length: 5"], e),
            (&["Content-Length: 0", "Transfer-Encoding: chunked"], e),
            (&["Content-Length: x", "Transfer-Encoding: gzip"], e),
        ]);
        // RFC 9112 §6.1 rejects the pair in HTTP/1.0 too.
        assert_eq!(
            framing(0, &["Transfer-Encoding: chunked", "Content-Length: 5"]),
            e
        );
    }

    #[test]
    fn chunked_not_final_is_400() {
        assert_eq!(Error::ChunkedNotFinal.status(), 400);
        let e = Err(Error::ChunkedNotFinal);
        assert_framing(&[
            (&["Transfer-Encoding: gzip"], e),
            (&["Transfer-Encoding: chunked, gzip"], e),
            (
                &["Transfer-Encoding: chunked", "Transfer-Encoding: gzip"],
                e,
            ),
            (&["Transfer-Encoding: chunked, chunked"], e),
            (
                &["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"],
                e,
            ),
            (&["Transfer-Encoding: gzip, chunked, chunked"], e),
            (&["Transfer-Encoding: identity"], e),
            (&["Transfer-Encoding: chunked;ext=1"], e),
            (&["Transfer-Encoding: xchunked"], e),
            // An empty value lists no coding at all: no final chunked.
            (&["Transfer-Encoding:"], e),
            (&["Transfer-Encoding: ,"], e),
        ]);
    }

    #[test]
    fn transfer_encoding_in_http10_is_400() {
        // RFC 9112 §6.1: HTTP/1.0 with Transfer-Encoding has faulty framing.
        assert_eq!(
            framing(0, &["Transfer-Encoding: chunked"]),
            Err(Error::ChunkedNotFinal)
        );
        assert_eq!(
            framing(0, &["Content-Length: 3"]),
            Ok(BodyFraming::Length(3))
        );
        assert_eq!(framing(0, &[]), Ok(BodyFraming::None));
    }

    #[test]
    fn unknown_transfer_coding_is_501() {
        assert_eq!(Error::UnknownTransferCoding.status(), 501);
        let e = Err(Error::UnknownTransferCoding);
        assert_framing(&[
            (&["Transfer-Encoding: gzip, chunked"], e),
            (
                &["Transfer-Encoding: deflate", "Transfer-Encoding: chunked"],
                e,
            ),
            (&["Transfer-Encoding: compress, chunked"], e),
            (&["Transfer-Encoding: identity, chunked"], e),
            (&["Transfer-Encoding: x-custom, GZIP, chunked"], e),
        ]);
    }

    #[test]
    fn keep_alive_follows_version_and_connection() {
        let cases: &[(u8, &[&str], bool)] = &[
            (1, &[], true),
            (1, &["Connection: keep-alive"], true),
            (1, &["Connection: close"], false),
            (1, &["Connection: CLOSE"], false),
            (1, &["Connection: upgrade, Close"], false),
            (1, &["Connection: keep-alive", "Connection: close"], false),
            (1, &["Connection: closed"], true),
            (1, &["X-Connection: close"], true),
            (0, &[], false),
            (0, &["Connection: keep-alive"], true),
            (0, &["Connection: Keep-Alive"], true),
            (0, &["Connection: te, keep-alive"], true),
            (0, &["Connection: keep-alive, close"], false),
            (0, &["Connection: keep-alive", "Connection: close"], false),
            (0, &["Connection: close"], false),
            (0, &["Connection: keep-alivex"], false),
        ];
        for (minor, fields, expected) in cases {
            assert_eq!(
                wants_keep_alive(&head_with(*minor, fields)),
                *expected,
                "1.{minor} {fields:?}"
            );
        }
    }

    #[test]
    fn expectation_is_continue_unsupported_or_none() {
        let cases: &[(u8, &[&str], Expectation)] = &[
            (1, &[], Expectation::None),
            (1, &["Expect: 100-continue"], Expectation::Continue),
            (1, &["expect: 100-Continue"], Expectation::Continue),
            (
                1,
                &["Expect: 100-continue", "Expect: 100-continue"],
                Expectation::Continue,
            ),
            (1, &["Expect:"], Expectation::None),
            (1, &["Expect: 100-continue, foo"], Expectation::Unsupported),
            (1, &["Expect: 200-ok"], Expectation::Unsupported),
            (1, &["Expect: 100-continue=1"], Expectation::Unsupported),
            // RFC 9110 §10.1.1: ignore 100-continue from an HTTP/1.0 client.
            (0, &["Expect: 100-continue"], Expectation::None),
            (0, &["Expect: something"], Expectation::Unsupported),
        ];
        for (minor, fields, expected) in cases {
            assert_eq!(
                expectation(&head_with(*minor, fields)),
                *expected,
                "1.{minor} {fields:?}"
            );
        }
    }

    use proptest::prelude::*;

    /// A Content-Length as sent: leading zeros, then the digits of a value.
    fn sent_length() -> impl Strategy<Value = (u64, String)> {
        (
            prop_oneof![0u64..10, 0u64..100_000, any::<u64>()],
            0usize..25,
        )
            .prop_map(|(n, zeros)| (n, format!("{}{n}", "0".repeat(zeros))))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// The parsed length is the value of the digits sent, however they
        /// are padded with zeros and OWS, repeated, or split over lines; a
        /// value over `max_body_bytes` is 413, never a smaller length.
        #[test]
        fn content_length_round_trips(
            (n, digits) in sent_length(),
            repeats in 1usize..4,
            as_list in any::<bool>(),
            ows in prop_oneof![Just(""), Just(" "), Just("\t"), Just(" \t ")],
        ) {
            let element = format!("{ows}{digits}{ows}");
            let fields: Vec<String> = if as_list {
                vec![format!("Content-Length:{}", vec![element; repeats].join(","))]
            } else {
                vec![format!("Content-Length:{element}"); repeats]
            };
            let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
            let limits = Limits::default();
            let expected = match n {
                0 => Ok(BodyFraming::None),
                n if n > limits.max_body_bytes => Err(Error::BodyTooLarge),
                n => Ok(BodyFraming::Length(n)),
            };
            prop_assert_eq!(request_framing(&head_with(1, &fields), &limits), expected);
        }

        /// Digits that do not fit a u64 are refused, not wrapped or clamped.
        #[test]
        fn content_length_over_u64_is_refused(
            extra in "[0-9]{1,20}",
            first in 1u8..10,
        ) {
            let digits = format!("{first}{}{extra}", "0".repeat(19));
            let field = format!("Content-Length: {digits}");
            prop_assert_eq!(
                request_framing(&head_with(1, &[&field]), &Limits::default()),
                Err(Error::InvalidContentLength)
            );
        }
    }
}
