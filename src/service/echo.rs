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
//!
//! **Preconditions.** `/echo` only processes what it is sent: it has no
//! current representation (GET is 405) and no validator. So `If-Match`,
//! `*` included, is false and the answer is 412 (RFC 9110 §13.1.1,
//! §13.2.2), decided before the body is looked at (§13.2.1);
//! `If-None-Match` is true for the same reason (§13.1.2), the date fields
//! have no modification date to compare (§13.1.3, §13.1.4), and all of
//! them let the request proceed.

use super::static_files::conditional::{evaluate_preconditions, Conditions, Precondition};
use super::{Body, Response};
use crate::proto::RequestHead;
use bytes::Bytes;
use std::borrow::Cow;

const EMPTY_BODY: &str = r#"{"error": "request body is empty"}"#;
const INVALID_JSON: &str = r#"{"error": "request body is not valid JSON"}"#;
const PRECONDITION_FAILED: &str =
    r#"{"error": "precondition failed: /echo has no current representation"}"#;
const PREFIX: &[u8] = br#"{"received": "#;

/// Answer an echo request whose whole body is `body`.
pub fn echo(head: &RequestHead, body: &[u8]) -> Response {
    let conditions = Conditions::from_head(head);
    if evaluate_preconditions(&conditions, false, None) == Precondition::Failed {
        return json_response(412, Bytes::from_static(PRECONDITION_FAILED.as_bytes()));
    }
    if body.is_empty() {
        return json_response(400, Bytes::from_static(EMPTY_BODY.as_bytes()));
    }
    // The re-spacing pass also bounds the nesting depth, before serde_json
    // sees the body, so a hostile body cannot exhaust the stack there.
    // IgnoredAny checks the syntax without building a Value: no allocation
    // per string, array or object, which made validation the larger part of
    // an echo request.
    let mut out = Vec::with_capacity(PREFIX.len() + body.len() + body.len() / 4 + 1);
    out.extend_from_slice(PREFIX);
    if !respace_json(body, MAX_NESTING, &mut out)
        || serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err()
    {
        return json_response(400, Bytes::from_static(INVALID_JSON.as_bytes()));
    }
    out.push(b'}');
    json_response(200, Bytes::from(out))
}

/// The deepest nesting of arrays and objects accepted: serde_json's own
/// limit when it builds a `Value`, kept now that validation does not.
const MAX_NESTING: usize = 128;

fn json_response(status: u16, body: Bytes) -> Response {
    Response {
        status,
        fields: vec![("Content-Type", Cow::Borrowed("application/json"))],
        body: Body::Bytes(body),
    }
}

/// Append `json` to `out` with the whitespace between tokens replaced by
/// the spec's spacing; `false` (with `out` partly written) when arrays and
/// objects nest more than `max_nesting` deep. Strings are copied whole, byte
/// for byte, so whitespace, brackets and escapes inside them are kept and
/// not counted. Syntax is checked separately; on invalid JSON the output is
/// meaningless but the function still returns.
///
/// One pass, copying each string as one run found with `memchr`: checking
/// nesting and re-spacing byte by byte in two passes cost about 40
/// instructions per body byte.
fn respace_json(json: &[u8], max_nesting: usize, out: &mut Vec<u8>) -> bool {
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&byte) = json.get(i) {
        i += 1;
        match byte {
            b'"' => {
                let start = i - 1;
                // To the closing quote; an escape skips the byte after `\`.
                loop {
                    let rest = json.get(i..).unwrap_or(&[]);
                    match memchr::memchr2(b'"', b'\\', rest) {
                        Some(at) if rest[at] == b'\\' => i += at + 2,
                        Some(at) => {
                            i += at + 1;
                            break;
                        }
                        None => {
                            i = json.len();
                            break;
                        }
                    }
                }
                i = i.min(json.len());
                out.extend_from_slice(&json[start..i]);
            }
            // The only insignificant whitespace JSON allows (RFC 8259 §2).
            b' ' | b'\t' | b'\n' | b'\r' => {}
            b',' => out.extend_from_slice(b", "),
            b':' => out.extend_from_slice(b": "),
            b'[' | b'{' => {
                depth += 1;
                if depth > max_nesting {
                    return false;
                }
                out.push(byte);
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                out.push(byte);
            }
            _ => out.push(byte),
        }
    }
    true
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
            // Strings cut off inside an escape or before their quote.
            (b"\"abc\\", INVALID_JSON),
            (b"[\"\\", INVALID_JSON),
            (b"{\"a\": \"b", INVALID_JSON),
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
