//! `-H/--header 'Name: value'`: fields the operator adds to every response
//! the router builds.
//!
//! Checked once at start-up, so a typo is a usage error rather than a
//! malformed response: the name must be a token (RFC 9110 §5.1), the value
//! only field-value bytes (§5.5: no CR, LF, NUL or other controls), and the
//! fields that frame the message or the connection (`Content-Length`,
//! `Transfer-Encoding`, `Connection`, ...) are the driver's and cannot be set.
//!
//! An extra field replaces any field of the same name the service set (the
//! operator asked for that value), except `Vary`, which is a list and is
//! added to (RFC 9110 §12.5.5).

use super::response::Response;
use crate::proto::fields::{is_field_value_byte, is_tchar, trim_ows};
use std::borrow::Cow;

/// One `-H` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraField {
    /// The name as given. Leaked once at start-up, as response field names
    /// are `&'static str`; a server keeps its configuration until it exits.
    pub name: &'static str,
    pub value: String,
}

/// Fields the driver owns: framing (RFC 9112 §6), persistence (§9) and the
/// date it stamps on every response.
const RESERVED: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "date",
];

/// Parse one `-H` argument, `Name: value`.
pub fn parse_extra_field(text: &str) -> Result<ExtraField, String> {
    let Some((name, value)) = text.split_once(':') else {
        return Err("expected 'Name: value'".to_owned());
    };
    if name.is_empty() || !name.bytes().all(is_tchar) {
        return Err(format!("{name:?} is not a valid field name"));
    }
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return Err(format!("{name} is set by the server itself"));
    }
    let value = trim_ows(value.as_bytes());
    if !value.iter().all(|&b| is_field_value_byte(b)) {
        return Err(format!(
            "the value of {name} holds a control character (CR, LF, NUL...)"
        ));
    }
    let value = String::from_utf8(value.to_vec()).expect("trimmed from a str at ASCII bytes");
    Ok(ExtraField {
        name: Box::leak(name.to_owned().into_boxed_str()),
        value,
    })
}

/// Put `fields` on `response`: each replaces the fields of its name, except
/// `Vary`, which is appended.
pub fn apply_extra_fields(response: &mut Response, fields: &[ExtraField]) {
    for field in fields {
        if !field.name.eq_ignore_ascii_case("vary") {
            response
                .fields
                .retain(|(name, _)| !name.eq_ignore_ascii_case(field.name));
        }
        response
            .fields
            .push((field.name, Cow::Owned(field.value.clone())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_accepted_and_refused() {
        let ok: &[(&str, &str, &str)] = &[
            ("X-Frame-Options: DENY", "X-Frame-Options", "DENY"),
            ("X-A:b", "X-A", "b"),
            ("X-Empty:", "X-Empty", ""),
            (
                "Content-Security-Policy:  default-src 'self'; img-src *  ",
                "Content-Security-Policy",
                "default-src 'self'; img-src *",
            ),
            ("X-Colon: a:b", "X-Colon", "a:b"),
            ("X-Utf8: café", "X-Utf8", "café"),
        ];
        for (text, name, value) in ok {
            let field = parse_extra_field(text).expect(text);
            assert_eq!((field.name, field.value.as_str()), (*name, *value));
        }
        let refused = [
            "no colon",
            ": value",
            "Bad Name: x",
            "X-A : x",
            "X(A): x",
            "X-A: one\r\nX-B: two",
            "X-A: one\ntwo",
            "X-A: a\0b",
            "X-A: a\x07b",
            "Content-Length: 5",
            "transfer-encoding: chunked",
            "Connection: close",
            "Date: today",
        ];
        for text in refused {
            assert!(parse_extra_field(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn extra_fields_replace_same_names_but_add_to_vary() {
        let mut response = Response::text(200, "x")
            .with_field("Cache-Control", "no-cache")
            .with_field("Vary", "Accept-Encoding");
        let fields = [
            parse_extra_field("cache-control: no-store").expect("valid"),
            parse_extra_field("Vary: Cookie").expect("valid"),
            parse_extra_field("X-Frame-Options: DENY").expect("valid"),
        ];
        apply_extra_fields(&mut response, &fields);
        let all = |name: &str| -> Vec<&str> {
            response
                .fields
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_ref())
                .collect()
        };
        assert_eq!(all("Cache-Control"), ["no-store"]);
        assert_eq!(all("Vary"), ["Accept-Encoding", "Cookie"]);
        assert_eq!(all("X-Frame-Options"), ["DENY"]);
        assert_eq!(all("Content-Type"), ["text/plain; charset=utf-8"]);
    }
}
