//! The request head: request line and header section (RFC 9112 §2-§5).
//!
//! [`parse_head`] is incremental over a borrowed buffer: it returns `Ok(None)`
//! until a whole head is present, then the head and how many bytes it used.
//! Bytes after the head (a body, or pipelined requests) are left untouched.

use super::{Error, Limits};
use std::ops::Range;

/// The request method (RFC 9110 §9). Unknown but well-formed tokens are kept
/// as `Other`; the router answers them with 501.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Delete,
    Connect,
    Options,
    Trace,
    Patch,
    Other,
}

/// The protocol version. Any `HTTP/1.x` with x >= 1 is treated as HTTP/1.1
/// (RFC 9110 §6.2); other majors are rejected with 505.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
}

/// One field line, as byte ranges into the head buffer. The value has its
/// leading and trailing whitespace removed (RFC 9112 §5).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Field {
    name: Range<u32>,
    value: Range<u32>,
}

/// A parsed request head. It owns a copy of the head bytes; the method text,
/// target and field lines are ranges into it, so parsing allocates once for
/// the bytes and once for the field index, never per field.
#[derive(Debug, Clone)]
pub struct RequestHead {
    bytes: Box<[u8]>,
    method: Method,
    method_range: Range<u32>,
    target: Range<u32>,
    version: Version,
    fields: Vec<Field>,
}

impl RequestHead {
    pub fn method(&self) -> Method {
        self.method
    }

    /// The method token exactly as sent.
    pub fn method_bytes(&self) -> &[u8] {
        self.slice(&self.method_range)
    }

    /// The request target exactly as sent (origin-, absolute- or asterisk-form).
    pub fn target(&self) -> &[u8] {
        self.slice(&self.target)
    }

    pub fn version(&self) -> Version {
        self.version
    }

    /// The path of the target: for origin-form the part before `?`; for
    /// absolute-form the path after the authority (`/` when empty); `*` for
    /// asterisk-form. Not percent-decoded.
    pub fn path(&self) -> &[u8] {
        let target = self.target();
        let without_query = match memchr::memchr(b'?', target) {
            Some(i) => &target[..i],
            None => target,
        };
        if without_query.first() == Some(&b'/') || without_query == b"*" {
            return without_query;
        }
        // absolute-form: scheme "://" authority path
        match memchr::memmem::find(without_query, b"://") {
            Some(i) => {
                let after = &without_query[i + 3..];
                match memchr::memchr(b'/', after) {
                    Some(j) => &after[j..],
                    None => b"/",
                }
            }
            None => without_query,
        }
    }

    /// The query of the target (after `?`), if any.
    pub fn query(&self) -> Option<&[u8]> {
        let target = self.target();
        memchr::memchr(b'?', target).map(|i| &target[i + 1..])
    }

    /// The value of the first field with this name (case-insensitive).
    pub fn field(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|f| self.slice(&f.name).eq_ignore_ascii_case(name.as_bytes()))
            .map(|f| self.slice(&f.value))
    }

    /// Every value of the fields with this name, in order.
    pub fn fields_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.fields
            .iter()
            .filter(move |f| self.slice(&f.name).eq_ignore_ascii_case(name.as_bytes()))
            .map(move |f| self.slice(&f.value))
    }

    /// Every field as (name, value), in order.
    pub fn fields(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.fields
            .iter()
            .map(move |f| (self.slice(&f.name), self.slice(&f.value)))
    }

    /// The number of field lines.
    pub fn field_count(&self) -> usize {
        self.fields.len()
    }

    fn slice(&self, range: &Range<u32>) -> &[u8] {
        &self.bytes[range.start as usize..range.end as usize]
    }

    /// A head built from parts, for tests of the layers above `proto`.
    #[doc(hidden)]
    pub fn for_test(method: &str, target: &str, fields: &[(&str, &str)]) -> RequestHead {
        let method_enum = match method {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "CONNECT" => Method::Connect,
            "OPTIONS" => Method::Options,
            "TRACE" => Method::Trace,
            "PATCH" => Method::Patch,
            _ => Method::Other,
        };
        // Lay the parts out as a real head would be, so every range indexes
        // into `bytes` exactly as the parser's ranges do.
        let mut bytes = Vec::new();
        let at = |bytes: &Vec<u8>| u32::try_from(bytes.len()).expect("test head under 4 GiB");
        bytes.extend_from_slice(method.as_bytes());
        let method_range = 0..at(&bytes);
        bytes.push(b' ');
        let target_start = at(&bytes);
        bytes.extend_from_slice(target.as_bytes());
        let target_range = target_start..at(&bytes);
        bytes.extend_from_slice(b" HTTP/1.1\r\n");
        let mut field_ranges = Vec::with_capacity(fields.len());
        for (name, value) in fields {
            let name_start = at(&bytes);
            bytes.extend_from_slice(name.as_bytes());
            let name_range = name_start..at(&bytes);
            bytes.extend_from_slice(b": ");
            let value_start = at(&bytes);
            bytes.extend_from_slice(value.as_bytes());
            let value_range = value_start..at(&bytes);
            bytes.extend_from_slice(b"\r\n");
            field_ranges.push(Field {
                name: name_range,
                value: value_range,
            });
        }
        bytes.extend_from_slice(b"\r\n");
        RequestHead {
            bytes: bytes.into_boxed_slice(),
            method: method_enum,
            method_range,
            target: target_range,
            version: Version::Http11,
            fields: field_ranges,
        }
    }
}

/// Parse one request head from the start of `buf`.
///
/// Returns `Ok(Some((head, used)))` when a complete head is present (`used`
/// counts the bytes up to and including the empty line), `Ok(None)` when more
/// bytes are needed, or the first error found. The answer is the same whether
/// `buf` arrived whole or in pieces.
pub fn parse_head(buf: &[u8], limits: &Limits) -> Result<Option<(RequestHead, usize)>, Error> {
    let _ = (buf, limits);
    todo!("parser")
}
