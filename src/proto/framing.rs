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
