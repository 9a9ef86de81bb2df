//! `POST /echo`: answers `{"received": <the JSON body>}`.
//!
//! Any `Content-Type` is accepted: clients often omit it or send
//! `text/plain`, and the body's own syntax is what we check. The body must
//! be one JSON value (RFC 8259), checked with `serde_json`.
//!
//! The answer is written in the product spec's spacing, which is Python's
//! `json.dumps` default: `": "` after a key and `", "` between elements, no
//! other whitespace. Rather than re-serializing a parsed `Value` (which would
//! sort object keys and re-spell numbers: `1e2` → `100.0`), the validated
//! input is re-spaced token by token: keys keep their order, numbers and
//! string escapes keep their exact spelling, and non-ASCII text stays UTF-8.

use super::{Body, Response};
use crate::proto::RequestHead;
use bytes::Bytes;
use std::borrow::Cow;

const EMPTY_BODY: &str = r#"{"error": "request body is empty"}"#;
const INVALID_JSON: &str = r#"{"error": "request body is not valid JSON"}"#;
const PREFIX: &[u8] = br#"{"received": "#;

/// Answer an echo request whose whole body is `body`.
pub fn echo(_head: &RequestHead, body: &[u8]) -> Response {
    if body.is_empty() {
        return json_response(400, Bytes::from_static(EMPTY_BODY.as_bytes()));
    }
    // Validation only: the parse also bounds nesting depth (serde_json stops
    // at 128 levels), so a hostile body cannot exhaust the stack here.
    // IgnoredAny checks the syntax without building a Value: no allocation
    // per string, array or object, which made validation the larger part of
    // an echo request.
    if !is_nesting_within(body, MAX_NESTING)
        || serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err()
    {
        return json_response(400, Bytes::from_static(INVALID_JSON.as_bytes()));
    }
    let mut out = Vec::with_capacity(PREFIX.len() + body.len() + body.len() / 4 + 1);
    out.extend_from_slice(PREFIX);
    respace_json(body, &mut out);
    out.push(b'}');
    json_response(200, Bytes::from(out))
}

/// The deepest nesting of arrays and objects accepted: serde_json's own
/// limit when it builds a `Value`, kept now that validation does not.
const MAX_NESTING: usize = 128;

/// Whether `json` nests arrays and objects at most `max` deep (brackets
/// inside strings do not count). Syntax is checked separately.
fn is_nesting_within(json: &[u8], max: usize) -> bool {
    let mut strings = StringTracker::default();
    let mut depth = 0usize;
    for &byte in json {
        if !strings.is_structural(byte) {
            continue;
        }
        match byte {
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return false;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

/// Follows a JSON text byte by byte to tell the bytes of strings (quotes
/// and escapes included) from the structure around them.
#[derive(Default)]
struct StringTracker {
    in_string: bool,
    escaped: bool,
}

impl StringTracker {
    /// Whether `byte`, the next byte of the text, is outside every string
    /// (and is not the quote that opens one).
    fn is_structural(&mut self, byte: u8) -> bool {
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if byte == b'\\' {
                self.escaped = true;
            } else if byte == b'"' {
                self.in_string = false;
            }
            return false;
        }
        if byte == b'"' {
            self.in_string = true;
            return false;
        }
        true
    }
}

fn json_response(status: u16, body: Bytes) -> Response {
    Response {
        status,
        fields: vec![("Content-Type", Cow::Borrowed("application/json"))],
        body: Body::Bytes(body),
    }
}

/// Append `json`, which must already be valid JSON, to `out` with the
/// whitespace between tokens replaced by the spec's spacing. Strings are
/// copied byte for byte, so whitespace and escapes inside them are kept.
fn respace_json(json: &[u8], out: &mut Vec<u8>) {
    let mut strings = StringTracker::default();
    for &byte in json {
        if !strings.is_structural(byte) {
            out.push(byte);
            continue;
        }
        match byte {
            // The only insignificant whitespace JSON allows (RFC 8259 §2).
            b' ' | b'\t' | b'\n' | b'\r' => {}
            b',' => out.extend_from_slice(b", "),
            b':' => out.extend_from_slice(b": "),
            _ => out.push(byte),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo_bytes(body: &[u8]) -> (u16, Option<String>, Vec<u8>) {
        let head = RequestHead::for_test("POST", "/echo", &[("Content-Type", "text/plain")]);
        let response = echo(&head, body);
        let content_type = response.field("Content-Type").map(str::to_owned);
        let bytes = match response.body {
            Body::Bytes(bytes) => bytes.to_vec(),
            other => panic!("echo answers from memory, got {other:?}"),
        };
        (response.status, content_type, bytes)
    }

    #[test]
    fn spec_example_byte_for_byte() {
        let (status, content_type, body) = echo_bytes(br#"{"message": "hello"}"#);
        assert_eq!(status, 200);
        assert_eq!(content_type.as_deref(), Some("application/json"));
        assert_eq!(body, br#"{"received": {"message": "hello"}}"#);
        // Compact input gives the same answer.
        let (_, _, compact) = echo_bytes(br#"{"message":"hello"}"#);
        assert_eq!(compact, body);
    }

    #[test]
    fn valid_json_is_respaced() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"1", b"1"),
            (b"  -1.5e3 \n", b"-1.5e3"),
            (b"null", b"null"),
            (b"true", b"true"),
            (br#""a, b: c""#, br#""a, b: c""#),
            (br#""say \"hi\", ok""#, br#""say \"hi\", ok""#),
            (br#""back\\""#, br#""back\\""#),
            (b"[]", b"[]"),
            (b"{}", b"{}"),
            (b"[1,2,3]", b"[1, 2, 3]"),
            (b"[ 1 ,\n 2 ]", b"[1, 2]"),
            // Key order is the sender's, not sorted.
            (
                br#"{"b":1,"a":[true,null]}"#,
                br#"{"b": 1, "a": [true, null]}"#,
            ),
            (
                br#"{"nested":{"x":{"y":[{}, []]}}}"#,
                br#"{"nested": {"x": {"y": [{}, []]}}}"#,
            ),
            (
                "{\"caf\u{e9}\":\"\u{65e5}\"}".as_bytes(),
                "{\"caf\u{e9}\": \"\u{65e5}\"}".as_bytes(),
            ),
            (br#"{"k":"\u00e9\n"}"#, br#"{"k": "\u00e9\n"}"#),
        ];
        for (input, inner) in cases {
            let (status, _, body) = echo_bytes(input);
            assert_eq!(status, 200, "{}", String::from_utf8_lossy(input));
            let mut want = PREFIX.to_vec();
            want.extend_from_slice(inner);
            want.push(b'}');
            assert_eq!(
                String::from_utf8_lossy(&body),
                String::from_utf8_lossy(&want),
                "input {}",
                String::from_utf8_lossy(input)
            );
            // The answer is itself JSON holding the same value.
            let answer: serde_json::Value = serde_json::from_slice(&body).expect("valid JSON");
            let sent: serde_json::Value = serde_json::from_slice(input).expect("valid JSON");
            assert_eq!(answer["received"], sent);
        }
    }

    #[test]
    fn refusals() {
        let cases: &[(&[u8], &str)] = &[
            (b"", EMPTY_BODY),
            (b" ", INVALID_JSON),
            (b"{", INVALID_JSON),
            (b"hello", INVALID_JSON),
            (b"{\"a\":1} trailing", INVALID_JSON),
            (b"{'a':1}", INVALID_JSON),
            (b"\xff\xfe", INVALID_JSON),
            (b"[1,]", INVALID_JSON),
        ];
        for (input, want) in cases {
            let (status, content_type, body) = echo_bytes(input);
            assert_eq!(status, 400, "{}", String::from_utf8_lossy(input));
            assert_eq!(content_type.as_deref(), Some("application/json"));
            assert_eq!(body, want.as_bytes());
        }
    }

    #[test]
    fn moderate_nesting_and_brackets_in_strings_are_fine() {
        let body = format!("{}\"]]]{{\"{}", "[".repeat(100), "]".repeat(100));
        let (status, _, _) = echo_bytes(body.as_bytes());
        assert_eq!(status, 200);
    }

    #[test]
    fn deep_valid_nesting_is_refused_not_a_stack_overflow() {
        let body = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let (status, _, _) = echo_bytes(body.as_bytes());
        assert_eq!(status, 400);
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let body = "[".repeat(100_000);
        let (status, _, _) = echo_bytes(body.as_bytes());
        assert_eq!(status, 400);
    }
}
