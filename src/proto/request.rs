//! The request head: request line and header section (RFC 9112 §2-§5).
//!
//! [`parse_head`] is incremental over a borrowed buffer: it returns `Ok(None)`
//! until a whole head is present, then the head and how many bytes it used.
//! Bytes after the head (a body, or pipelined requests) are left untouched.

use super::fields::{is_field_value, is_ows, is_tchar};
pub use super::fields::{FieldLines, FoundFields};
use super::request_line::{method_from_bytes, parse_request_line, RequestLine};
pub use super::request_line::{Method, Version};
use super::{authority, Error, Limits};
use std::ops::Range;

/// How many empty lines (CRLF) may precede the request line. RFC 9112 §2.2
/// asks servers to ignore "at least one"; a small bound keeps a peer from
/// holding a connection open with an endless stream of them.
pub const MAX_LEADING_EMPTY_LINES: usize = 8;

/// One field line, as byte ranges into the head buffer. The value has its
/// leading and trailing whitespace removed (RFC 9112 §5).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Field {
    name: Range<u32>,
    value: Range<u32>,
}

impl Field {
    /// A field from its name and value ranges within a field line that
    /// starts `line_start` bytes into the head.
    fn within_line(
        line_start: usize,
        name: Range<usize>,
        value: Range<usize>,
    ) -> Result<Field, Error> {
        // The value ends last and the name starts at 0: if the value's end
        // fits in a u32, every other position does too.
        let start = u32::try_from(line_start).map_err(|_| Error::HeadTooLarge)?;
        let end = line_start
            .checked_add(value.end)
            .and_then(|end| u32::try_from(end).ok())
            .ok_or(Error::HeadTooLarge)?;
        let at = |position: usize| start + position as u32;
        Ok(Field {
            name: at(name.start)..at(name.end),
            value: at(value.start)..end,
        })
    }
}

/// A parsed request head. It owns a copy of the head bytes; the method text,
/// target and field lines are ranges into it, so parsing allocates at most
/// once for the bytes and once for the field index, never per field; with
/// [`parse_head_reusing`] and [`RequestHead::into_buffers`] a connection
/// reuses both from one request to the next and allocates nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    bytes: Vec<u8>,
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

    /// The lines of the field `name`: the one way to read a field that may
    /// be sent more than once (see [`FieldLines`]).
    pub fn field_lines<'a>(&'a self, name: &'a str) -> FieldLines<'a> {
        FieldLines::find(self, name)
    }

    /// The lines of each field in `names`, found in one pass over the head
    /// (see [`FoundFields`]).
    pub fn find_fields<'a, const N: usize>(
        &'a self,
        names: &'a [&'a str; N],
    ) -> FoundFields<'a, N> {
        FoundFields::find(self, names)
    }

    /// The name and value of the field line at `index` (in the order of
    /// [`RequestHead::fields`]), for [`FieldLines`].
    pub(super) fn field_line(&self, index: usize) -> (&[u8], &[u8]) {
        let field = &self.fields[index];
        (self.slice(&field.name), self.slice(&field.value))
    }

    /// Every field name, in order: what [`FoundFields`] searches.
    pub(super) fn field_names(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.fields.iter().map(move |f| self.slice(&f.name))
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

    /// Give back the head's storage, for the next [`parse_head_reusing`].
    pub fn into_buffers(self) -> HeadBuffers {
        HeadBuffers {
            bytes: self.bytes,
            fields: self.fields,
        }
    }

    fn slice(&self, range: &Range<u32>) -> &[u8] {
        &self.bytes[range.start as usize..range.end as usize]
    }

    /// A head built from parts, for tests of the layers above `proto`.
    #[doc(hidden)]
    pub fn for_test(method: &str, target: &str, fields: &[(&str, &str)]) -> RequestHead {
        let method_enum = method_from_bytes(method.as_bytes());
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
            bytes,
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
/// counts the bytes up to and including the empty line, plus any empty lines
/// skipped before the request line), `Ok(None)` when more bytes are needed,
/// or the first error found. Bytes after the head are never looked at.
///
/// The answer is the same whether `buf` arrived whole or in pieces. To make
/// that hold, every check looks only at a bounded window whose contents a
/// longer buffer cannot change, and the checks run in a fixed order:
///
/// 1. empty lines before the request line (bare CR or LF: 400);
/// 2. method bytes, within the first `max_request_line_bytes` of the line, so
///    TLS or other garbage is refused on its first bytes;
/// 3. request-line length (414), even before its CRLF arrives;
/// 4. the request line's CRLF, then its syntax: structure, version, target;
/// 5. field lines in order, within the first `max_head_bytes` of the head
///    (431 once more bytes than that arrived without the empty line);
/// 6. Host rules (RFC 9112 §3.2).
pub fn parse_head(buf: &[u8], limits: &Limits) -> Result<Option<(RequestHead, usize)>, Error> {
    parse_head_reusing(buf, limits, &mut HeadBuffers::default())
}

/// Storage for a [`RequestHead`], kept between requests on a connection so
/// parsing allocates nothing once it has grown to the usual head size.
#[derive(Debug, Default)]
pub struct HeadBuffers {
    bytes: Vec<u8>,
    fields: Vec<Field>,
}

/// [`parse_head`], building the head in `buffers`' storage (taken from it
/// when a head is returned, left in it otherwise).
pub fn parse_head_reusing(
    buf: &[u8],
    limits: &Limits,
    buffers: &mut HeadBuffers,
) -> Result<Option<(RequestHead, usize)>, Error> {
    buffers.fields.clear();
    let Some(parsed) = parse_parts(buf, limits, &mut buffers.fields)? else {
        return Ok(None);
    };
    let mut bytes = std::mem::take(&mut buffers.bytes);
    bytes.clear();
    let line = buf.get(parsed.line_start..).unwrap_or(&[]);
    bytes.extend_from_slice(line.get(..parsed.head_len).unwrap_or(&[]));
    let head = RequestHead {
        bytes,
        method: parsed.request_line.method,
        method_range: to_u32_range(parsed.request_line.method_range)?,
        target: to_u32_range(parsed.request_line.target)?,
        version: parsed.request_line.version,
        fields: std::mem::take(&mut buffers.fields),
    };
    Ok(Some((head, parsed.line_start + parsed.head_len)))
}

/// Where a complete head lies in the buffer, and its request line.
struct ParsedParts {
    line_start: usize,
    head_len: usize,
    request_line: RequestLine,
}

/// The checks of [`parse_head`], in its order, recording field ranges into
/// `fields` (which the caller cleared).
fn parse_parts(
    buf: &[u8],
    limits: &Limits,
    fields: &mut Vec<Field>,
) -> Result<Option<ParsedParts>, Error> {
    let Some(line_start) = skip_leading_empty_lines(buf)? else {
        return Ok(None);
    };
    let line = buf.get(line_start..).unwrap_or(&[]);

    // Step 2: the method. Only bytes inside the request-line window count, so
    // that a verdict here never depends on bytes a shorter prefix would have
    // rejected as too long in step 3.
    let method_window = line.get(..limits.max_request_line_bytes).unwrap_or(line);
    match method_window.iter().position(|&b| !is_tchar(b)) {
        Some(0) => return Err(Error::InvalidMethod),
        Some(i) if method_window.get(i) != Some(&b' ') => return Err(Error::InvalidMethod),
        _ => {}
    }

    // Step 3: the request line ends at its first CR or LF; without one in the
    // first max + 1 bytes it is too long, whatever follows.
    let end_window = line
        .get(..limits.max_request_line_bytes.saturating_add(1))
        .unwrap_or(line);
    let Some(line_len) = memchr::memchr2(b'\r', b'\n', end_window) else {
        if line.len() > limits.max_request_line_bytes {
            return Err(Error::RequestLineTooLong);
        }
        return Ok(None);
    };
    if line_len > limits.max_request_line_bytes {
        return Err(Error::RequestLineTooLong);
    }

    // Step 4: CRLF, then syntax.
    match (line.get(line_len), line.get(line_len + 1)) {
        (Some(b'\r'), Some(b'\n')) => {}
        (Some(b'\r'), None) => return Ok(None),
        _ => return Err(Error::BareLineEnding),
    }
    let request_line = parse_request_line(line.get(..line_len).unwrap_or(&[]))?;

    // Step 5: the header section. Positions from here on are relative to
    // `line`, which is also what the head keeps a copy of. Ranges are u32, so
    // the effective bound never exceeds what they can address.
    let max_head = limits.max_head_bytes.min(u32::MAX as usize);
    let window = line.get(..max_head).unwrap_or(line);
    fields.reserve(limits.max_headers.min(16));
    let mut host_seen = false;
    let mut pos = line_len + 2;
    let head_len = loop {
        let rest = window.get(pos..).unwrap_or(&[]);
        let Some(lf) = memchr::memchr(b'\n', rest) else {
            if line.len() > max_head {
                return Err(Error::HeadTooLarge);
            }
            return Ok(None);
        };
        // A field line ends in CRLF; a LF alone, or a CR anywhere else in the
        // line, is a bare line ending (RFC 9112 §2.2). Accepting either would
        // let this server and another one in front of it disagree on where
        // the line ends: the root of request smuggling.
        let Some(content) = rest.get(..lf).and_then(|l| l.strip_suffix(b"\r")) else {
            return Err(Error::BareLineEnding);
        };
        let content_start = pos;
        pos += lf + 1;
        if content.is_empty() {
            break pos;
        }
        if fields.len() >= limits.max_headers {
            return Err(bare_cr_or(content, Error::TooManyFields));
        }
        let (name, value) =
            parse_field_line(content).map_err(|error| bare_cr_or(content, error))?;
        if content
            .get(name.clone())
            .is_some_and(|n| n.eq_ignore_ascii_case(b"host"))
        {
            // RFC 9112 §3.2: a server MUST answer 400 to more than one Host
            // field line, or a Host whose value is a list; either would let
            // two recipients pick different hosts.
            let host = content.get(value.clone()).unwrap_or(&[]);
            if host_seen || host.contains(&b',') {
                return Err(Error::DuplicateHost);
            }
            if authority::host_of(host).is_none() {
                return Err(Error::InvalidHost);
            }
            host_seen = true;
        }
        fields.push(Field::within_line(content_start, name, value)?);
    };

    // Step 6: RFC 9112 §3.2: an HTTP/1.1 request MUST carry Host; HTTP/1.0
    // predates the rule.
    if request_line.version == Version::Http11 && !host_seen {
        return Err(Error::MissingHost);
    }

    Ok(Some(ParsedParts {
        line_start,
        head_len,
        request_line,
    }))
}

/// Skip empty lines before the request line (RFC 9112 §2.2). Returns where
/// the request line starts, or `None` when the buffer ends inside them.
fn skip_leading_empty_lines(buf: &[u8]) -> Result<Option<usize>, Error> {
    let mut pos = 0;
    for _ in 0..MAX_LEADING_EMPTY_LINES {
        match (buf.get(pos), buf.get(pos + 1)) {
            (Some(b'\r'), Some(b'\n')) => pos += 2,
            (Some(b'\r'), None) | (None, _) => return Ok(None),
            (Some(b'\r'), Some(_)) | (Some(b'\n'), _) => return Err(Error::BareLineEnding),
            (Some(_), _) => return Ok(Some(pos)),
        }
    }
    // Past the bound, another empty line reaches the method check, which
    // refuses it (a CR is not a tchar).
    Ok(Some(pos))
}

/// The error for a field line refused with `error`: a bare CR in it comes
/// first (RFC 9112 §2.2). The field syntax refuses every CR too (it is
/// neither a tchar nor a field-value byte), so looking for one only once a
/// line has failed gives the same error as looking first, without a second
/// scan of every line.
fn bare_cr_or(content: &[u8], error: Error) -> Error {
    match memchr::memchr(b'\r', content) {
        Some(_) => Error::BareLineEnding,
        None => error,
    }
}

/// Split a field line (CRLF removed, non-empty) into name and trimmed value,
/// as ranges into `content` (RFC 9112 §5).
fn parse_field_line(content: &[u8]) -> Result<(Range<usize>, Range<usize>), Error> {
    // RFC 9112 §5.2: obs-fold is refused (and a space before the first field
    // line, §2.2, looks the same and is refused the same way).
    if content.first().copied().is_some_and(is_ows) {
        return Err(Error::ObsoleteFold);
    }
    let name_len = content
        .iter()
        .position(|&b| !is_tchar(b))
        .ok_or(Error::MalformedField)?;
    if name_len == 0 {
        return Err(Error::MalformedField);
    }
    if content.get(name_len) != Some(&b':') {
        // RFC 9112 §5.1: a server MUST reject whitespace between the name
        // and the colon, which some recipients would fold into the name.
        let after_name = content.get(name_len..).unwrap_or(&[]);
        let ws = after_name.iter().take_while(|&&b| is_ows(b)).count();
        return Err(match after_name.get(ws) {
            Some(b':') if ws > 0 => Error::WhitespaceBeforeColon,
            _ => Error::MalformedField,
        });
    }
    let value_start = name_len + 1;
    let raw_value = content.get(value_start..).unwrap_or(&[]);
    if !is_field_value(raw_value) {
        return Err(Error::InvalidFieldValue);
    }
    // The OWS around the value is not part of it (RFC 9112 §5).
    let leading = raw_value.iter().take_while(|&&b| is_ows(b)).count();
    let trailing = raw_value
        .get(leading..)
        .unwrap_or(&[])
        .iter()
        .rev()
        .take_while(|&&b| is_ows(b))
        .count();
    Ok((0..name_len, value_start + leading..content.len() - trailing))
}

fn to_u32_range(range: Range<usize>) -> Result<Range<u32>, Error> {
    let start = u32::try_from(range.start).map_err(|_| Error::HeadTooLarge)?;
    let end = u32::try_from(range.end).map_err(|_| Error::HeadTooLarge)?;
    Ok(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::fields::trim_ows;

    #[test]
    fn reusing_buffers_gives_the_same_heads_as_parsing_afresh() {
        let limits = Limits::default();
        let mut buffers = HeadBuffers::default();
        let inputs: [&[u8]; 3] = [
            b"GET /a HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n",
            b"POST /echo HTTP/1.1\r\nHost: y\r\nContent-Length: 2\r\n\r\n{}",
            b"GET / HTTP/1.0\r\n\r\n",
        ];
        for input in inputs {
            // An incomplete head leaves the buffers where they were.
            let partial = &input[..input.len() / 2];
            assert_eq!(parse_head_reusing(partial, &limits, &mut buffers), Ok(None));
            let reused = parse_head_reusing(input, &limits, &mut buffers)
                .unwrap()
                .unwrap();
            assert_eq!(Ok(Some(reused.clone())), parse_head(input, &limits));
            buffers = reused.0.into_buffers();
        }
    }
    use proptest::prelude::*;

    const PIPELINED: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

    type Parsed = Result<Option<(RequestHead, usize)>, Error>;

    /// Feed `input` whole, one byte at a time, split at every point, and with
    /// a pipelined request appended; every way must give the same answer.
    fn parse_all_ways(input: &[u8], limits: &Limits) -> Parsed {
        let whole = parse_head(input, limits);

        // One byte at a time: growing prefixes until the first answer.
        let mut trickled = Ok(None);
        for end in 0..=input.len() {
            trickled = parse_head(&input[..end], limits);
            if !matches!(trickled, Ok(None)) {
                break;
            }
        }
        assert_eq!(trickled, whole, "byte by byte vs whole: {input:?}");

        // Every split point: a prefix either needs more or already gives the
        // whole answer; then the whole buffer does.
        for split in 0..input.len() {
            let first = parse_head(&input[..split], limits);
            assert!(
                first == Ok(None) || first == whole,
                "prefix of {split} bytes gave {first:?}, whole gave {whole:?}: {input:?}"
            );
            assert_eq!(parse_head(input, limits), whole);
        }

        // Extra bytes after a complete answer change nothing, and are left
        // unused for the next request.
        if !matches!(whole, Ok(None)) {
            let mut extended = input.to_vec();
            extended.extend_from_slice(PIPELINED);
            let with_more = parse_head(&extended, limits);
            assert_eq!(with_more, whole, "with pipelined bytes: {input:?}");
            if let Ok(Some((_, used))) = &with_more {
                assert_eq!(&extended[*used..], PIPELINED);
                assert!(matches!(
                    parse_head(&extended[*used..], limits),
                    Ok(Some(_))
                ));
            }
        }
        whole
    }

    fn parse_ok(input: &[u8]) -> (RequestHead, usize) {
        match parse_all_ways(input, &Limits::default()) {
            Ok(Some(parsed)) => parsed,
            other => panic!("expected a head from {input:?}, got {other:?}"),
        }
    }

    /// Each input must fail with `expected`, whose status must be `status`.
    fn assert_rejects(cases: &[&[u8]], limits: &Limits, expected: Error, status: u16) {
        assert_eq!(expected.status(), status);
        for input in cases {
            let got = parse_all_ways(input, limits);
            assert_eq!(
                got,
                Err(expected),
                "input {:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    fn limits() -> Limits {
        Limits::default()
    }

    #[test]
    fn simple_get_parses_every_part() {
        let input = b"GET /a/b?x=1&y HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
        let (head, used) = parse_ok(input);
        assert_eq!(used, input.len());
        assert_eq!(head.method(), Method::Get);
        assert_eq!(head.method_bytes(), b"GET");
        assert_eq!(head.target(), b"/a/b?x=1&y");
        assert_eq!(head.path(), b"/a/b");
        assert_eq!(head.query(), Some(&b"x=1&y"[..]));
        assert_eq!(head.version(), Version::Http11);
        assert_eq!(head.field("HOST"), Some(&b"example.com"[..]));
        assert_eq!(head.field_count(), 2);
        let fields: Vec<_> = head.fields().collect();
        assert_eq!(
            fields,
            vec![(&b"Host"[..], &b"example.com"[..]), (b"Accept", b"*/*")]
        );
    }

    #[test]
    fn known_methods_map_and_others_are_kept() {
        let cases: &[(&[u8], Method)] = &[
            (b"GET", Method::Get),
            (b"HEAD", Method::Head),
            (b"POST", Method::Post),
            (b"PUT", Method::Put),
            (b"DELETE", Method::Delete),
            (b"CONNECT", Method::Connect),
            (b"OPTIONS", Method::Options),
            (b"TRACE", Method::Trace),
            (b"PATCH", Method::Patch),
            (b"get", Method::Other),
            (b"PROPFIND", Method::Other),
            (b"X-Custom!#$", Method::Other),
        ];
        for (name, expected) in cases {
            let input = [*name, &b" / HTTP/1.1\r\nHost: h\r\n\r\n"[..]].concat();
            let (head, _) = parse_ok(&input);
            assert_eq!(head.method(), *expected);
            assert_eq!(head.method_bytes(), *name);
        }
    }

    #[test]
    fn need_more_until_the_empty_line() {
        let l = limits();
        for input in [
            &b""[..],
            b"G",
            b"GET / HTTP/1.1\r",
            b"GET / HTTP/1.1\r\nHost: h\r\n\r",
        ] {
            assert_eq!(parse_head(input, &l), Ok(None), "{input:?}");
        }
    }

    #[test]
    fn invalid_method_is_400() {
        let cases: &[&[u8]] = &[
            b" / HTTP/1.1\r\nHost: h\r\n\r\n",
            b"G(T / HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET/ HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET\r\n\r\n",
            b"\xc3\xa9T / HTTP/1.1\r\nHost: h\r\n\r\n",
            // TLS ClientHello is refused on its first byte.
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        ];
        assert_rejects(cases, &limits(), Error::InvalidMethod, 400);
        // Early rejection: no CRLF needed.
        assert_eq!(parse_head(b"\x16", &limits()), Err(Error::InvalidMethod));
        assert_eq!(parse_head(b"GE{", &limits()), Err(Error::InvalidMethod));
    }

    #[test]
    fn malformed_request_line_is_400() {
        let cases: &[&[u8]] = &[
            b"GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET /  HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET / HTTP/1.1 \r\nHost: h\r\n\r\n",
            b"GET /\r\n\r\n",
            b"GET /a b HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1 extra\r\nHost: h\r\n\r\n",
            b"GET \r\n\r\n",
        ];
        assert_rejects(cases, &limits(), Error::MalformedRequestLine, 400);
    }

    #[test]
    fn invalid_target_is_400() {
        let cases: &[&[u8]] = &[
            b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET * HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET example.com:443 HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET relative/path HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET 1http://x/ HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET http:/x HTTP/1.1\r\nHost: h\r\n\r\n",
            // An empty or invalid authority, or userinfo (RFC 9110 §4.2.1, §4.2.4).
            b"GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET http://:80/x HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET http://?q HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET http://u:p@h/x HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET http://h:x/ HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET http://h#f HTTP/1.1\r\nHost: h\r\n\r\n",
            b"CONNECT :443 HTTP/1.1\r\nHost: h\r\n\r\n",
            b"CONNECT u@h:443 HTTP/1.1\r\nHost: h\r\n\r\n",
            b"CONNECT h HTTP/1.1\r\nHost: h\r\n\r\n",
            b"CONNECT h: HTTP/1.1\r\nHost: h\r\n\r\n",
        ];
        assert_rejects(cases, &limits(), Error::InvalidTarget, 400);
    }

    #[test]
    fn accepted_target_forms() {
        let cases: &[(&[u8], &[u8], &[u8])] = &[
            (
                b"GET http://example.com/a?b HTTP/1.1\r\nHost: example.com\r\n\r\n",
                b"http://example.com/a?b",
                b"/a",
            ),
            (
                b"GET https://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n",
                b"https://example.com",
                b"/",
            ),
            (
                b"GET coap+tcp://h/x HTTP/1.1\r\nHost: h\r\n\r\n",
                b"coap+tcp://h/x",
                b"/x",
            ),
            (b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", b"*", b"*"),
            (
                b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
                b"example.com:443",
                b"example.com:443",
            ),
            (
                b"GET /%20a~!$&'()*+,;=:@ HTTP/1.1\r\nHost: h\r\n\r\n",
                b"/%20a~!$&'()*+,;=:@",
                b"/%20a~!$&'()*+,;=:@",
            ),
        ];
        for (input, target, path) in cases {
            let (head, used) = parse_ok(input);
            assert_eq!(used, input.len());
            assert_eq!(head.target(), *target);
            assert_eq!(head.path(), *path);
        }
    }

    #[test]
    fn malformed_version_is_400() {
        let cases: &[&[u8]] = &[
            b"GET / HTTP/1.1.1\r\nHost: h\r\n\r\n",
            b"GET / HTTP/11\r\nHost: h\r\n\r\n",
            b"GET / http/1.1\r\nHost: h\r\n\r\n",
            b"GET / HTTP/1.x\r\nHost: h\r\n\r\n",
            b"GET / HTTP/a.1\r\nHost: h\r\n\r\n",
            b"GET / HTTP/1\r\nHost: h\r\n\r\n",
            b"GET / HTTP/10.0\r\nHost: h\r\n\r\n",
            b"GET / HTTPS/1.1\r\nHost: h\r\n\r\n",
        ];
        assert_rejects(cases, &limits(), Error::MalformedVersion, 400);
    }

    #[test]
    fn unsupported_version_is_505() {
        let cases: &[&[u8]] = &[
            b"GET / HTTP/2.0\r\nHost: h\r\n\r\n",
            b"GET / HTTP/0.9\r\n\r\n",
            b"GET / HTTP/3.0\r\nHost: h\r\n\r\n",
            // The HTTP/2 connection preface gets 505, not 400.
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        ];
        assert_rejects(cases, &limits(), Error::UnsupportedVersion, 505);
    }

    #[test]
    fn versions_map_to_http10_and_http11() {
        let cases: &[(&[u8], Version)] = &[
            (b"GET / HTTP/1.0\r\n\r\n", Version::Http10),
            (b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", Version::Http11),
            (b"GET / HTTP/1.9\r\nHost: h\r\n\r\n", Version::Http11),
        ];
        for (input, version) in cases {
            assert_eq!(parse_ok(input).0.version(), *version);
        }
    }

    #[test]
    fn bare_line_ending_is_400() {
        let cases: &[&[u8]] = &[
            b"GET / HTTP/1.1\nHost: h\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: h\n\r\n",
            b"GET / HTTP/1.1\r\nHost: h\r\n\n",
            b"GET / HTTP/1.1\rHost: h\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: h\r\n\r\r\n",
            b"GET /a\rb HTTP/1.1\r\nHost: h\r\n\r\n",
            b"\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
            b"\r\n\rGET / HTTP/1.1\r\nHost: h\r\n\r\n",
        ];
        assert_rejects(cases, &limits(), Error::BareLineEnding, 400);
    }

    #[test]
    fn leading_empty_lines_are_skipped_and_counted() {
        let request = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n";
        let mut input = b"\r\n".repeat(MAX_LEADING_EMPTY_LINES);
        input.extend_from_slice(request);
        let (head, used) = parse_ok(&input);
        assert_eq!(used, input.len());
        assert_eq!(head, parse_ok(request).0);
        // One more than the bound reaches the method check.
        let mut too_many = b"\r\n".repeat(MAX_LEADING_EMPTY_LINES + 1);
        too_many.extend_from_slice(request);
        assert_rejects(&[&too_many], &limits(), Error::InvalidMethod, 400);
    }

    #[test]
    fn request_line_too_long_is_414() {
        // "GET /aaaa HTTP/1.1" is 18 bytes.
        let at_bound = Limits {
            max_request_line_bytes: 18,
            ..limits()
        };
        parse_all_ways(b"GET /aaaa HTTP/1.1\r\nHost: h\r\n\r\n", &at_bound)
            .expect("at the bound")
            .expect("complete");
        let below = Limits {
            max_request_line_bytes: 17,
            ..limits()
        };
        let cases: &[&[u8]] = &[
            b"GET /aaaa HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            b"GETGETGETGETGETGETGETGET",
        ];
        assert_rejects(cases, &below, Error::RequestLineTooLong, 414);
        // Detected before the CRLF arrives.
        assert_eq!(
            parse_head(b"GET /aaaaaaaaaaaaa", &below),
            Err(Error::RequestLineTooLong)
        );
        assert_eq!(parse_head(b"GET /aaaaaaaaaaaa", &below), Ok(None));
    }

    #[test]
    fn head_too_large_is_431() {
        let input = b"GET / HTTP/1.1\r\nHost: h\r\nX: 12345\r\n\r\n";
        let at_bound = Limits {
            max_head_bytes: input.len(),
            ..limits()
        };
        assert_eq!(
            parse_all_ways(input, &at_bound).map(|p| p.map(|(_, u)| u)),
            Ok(Some(input.len()))
        );
        let below = Limits {
            max_head_bytes: input.len() - 1,
            ..limits()
        };
        assert_rejects(&[input], &below, Error::HeadTooLarge, 431);
        // Detected before the empty line arrives, on a line with no end yet.
        let tiny = Limits {
            max_head_bytes: 30,
            ..limits()
        };
        assert_eq!(
            parse_head(b"GET / HTTP/1.1\r\nHost: h\r\nX: aaaaaaaaaaaaa", &tiny),
            Err(Error::HeadTooLarge)
        );
        // A head bound smaller than the request line.
        let smaller = Limits {
            max_head_bytes: 5,
            ..limits()
        };
        assert_rejects(&[input], &smaller, Error::HeadTooLarge, 431);
        let zero = Limits {
            max_head_bytes: 0,
            ..limits()
        };
        assert_rejects(&[input], &zero, Error::HeadTooLarge, 431);
    }

    #[test]
    fn too_many_fields_is_431() {
        let input = b"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n";
        let at_bound = Limits {
            max_headers: 3,
            ..limits()
        };
        assert_eq!(
            parse_all_ways(input, &at_bound)
                .unwrap()
                .unwrap()
                .0
                .field_count(),
            3
        );
        let below = Limits {
            max_headers: 2,
            ..limits()
        };
        assert_rejects(&[input], &below, Error::TooManyFields, 431);
    }

    #[test]
    fn malformed_field_is_400() {
        let cases: &[&[u8]] = &[
            b"GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: h\r\n: empty name\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: h\r\nBad(Name): x\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: h\r\nName value: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: h\r\nN\xc3\xa9: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: h\r\nX-A b\r\n\r\n",
        ];
        assert_rejects(cases, &limits(), Error::MalformedField, 400);
    }

    #[test]
    fn whitespace_before_colon_is_400() {
        let cases: &[&[u8]] = &[
            b"GET / HTTP/1.1\r\nHost : h\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost\t: h\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length \t : 5\r\n\r\n",
        ];
        assert_rejects(cases, &limits(), Error::WhitespaceBeforeColon, 400);
    }

    #[test]
    fn obsolete_fold_is_400() {
        let cases: &[&[u8]] = &[
            b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n",
            // Whitespace before the first field line (RFC 9112 §2.2).
            b"GET / HTTP/1.1\r\n Host: h\r\n\r\n",
        ];
        assert_rejects(cases, &limits(), Error::ObsoleteFold, 400);
    }

    #[test]
    fn invalid_field_value_is_400() {
        let cases: &[&[u8]] = &[
            b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fb\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: h\r\nX: \x01\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x1b[31m\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: h\x0c\r\n\r\n",
        ];
        assert_rejects(cases, &limits(), Error::InvalidFieldValue, 400);
    }

    #[test]
    fn field_values_keep_obs_text_and_lose_ows() {
        let input = b"GET / HTTP/1.1\r\nHost:h\r\nX-A: \t caf\xc3\xa9 \xff \t\r\nX-B:\r\nX-C:   \r\nX-D: a \t b\r\n\r\n";
        let (head, _) = parse_ok(input);
        assert_eq!(head.field("host"), Some(&b"h"[..]));
        assert_eq!(head.field("x-a"), Some(&b"caf\xc3\xa9 \xff"[..]));
        assert_eq!(head.field("x-b"), Some(&b""[..]));
        assert_eq!(head.field("x-c"), Some(&b""[..]));
        assert_eq!(head.field("x-d"), Some(&b"a \t b"[..]));
        assert_eq!(head.field("x-e"), None);
    }

    #[test]
    fn repeated_fields_are_kept_in_order() {
        let (head, _) = parse_ok(b"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: x\r\na: 2\r\n\r\n");
        let values: Vec<_> = head.fields_named("A").collect();
        assert_eq!(values, vec![&b"1"[..], b"2"]);
    }

    #[test]
    fn missing_host_is_400() {
        let cases: &[&[u8]] = &[
            b"GET / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nHostname: h\r\n\r\n",
            b"GET http://h/ HTTP/1.1\r\n\r\n",
        ];
        assert_rejects(cases, &limits(), Error::MissingHost, 400);
    }

    #[test]
    fn http10_without_host_is_accepted() {
        let (head, used) = parse_ok(b"GET / HTTP/1.0\r\n\r\n");
        assert_eq!(used, 18);
        assert_eq!(head.version(), Version::Http10);
        assert_eq!(head.field_count(), 0);
        // An empty Host is present, so HTTP/1.1 accepts it (RFC 9112 §3.2).
        parse_ok(b"GET / HTTP/1.1\r\nHost:\r\n\r\n");
    }

    #[test]
    fn duplicate_host_is_400() {
        let cases: &[&[u8]] = &[
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n",
            b"GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a, b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: ,\r\n\r\n",
        ];
        assert_rejects(cases, &limits(), Error::DuplicateHost, 400);
    }

    #[test]
    fn invalid_host_is_400() {
        let cases: &[&[u8]] = &[
            b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: user@a\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a:b:c\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n",
            b"GET / HTTP/1.0\r\nHost: a\"b\r\n\r\n",
        ];
        assert_rejects(cases, &limits(), Error::InvalidHost, 400);
        for host in [
            "h",
            "localhost:8080",
            "127.0.0.1",
            "[::1]:80",
            "xn--bcher-kva.example",
        ] {
            parse_ok(format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes());
        }
    }

    #[test]
    fn earlier_faults_win_over_later_ones() {
        // The order of checks is part of the contract: the same input always
        // names the same fault, however it is split.
        let tiny = Limits {
            max_request_line_bytes: 4,
            ..limits()
        };
        assert_rejects(
            &[b"GE\x01T / HTTP/1.1\r\n\r\n"],
            &tiny,
            Error::InvalidMethod,
            400,
        );
        assert_rejects(
            &[b"GETGET\x01 / HTTP/1.1\r\n\r\n"],
            &tiny,
            Error::RequestLineTooLong,
            414,
        );
        assert_rejects(
            &[b"GET  / HTTP/2.0\n"],
            &limits(),
            Error::BareLineEnding,
            400,
        );
        let small_head = Limits {
            max_head_bytes: 24,
            ..limits()
        };
        assert_rejects(
            &[b"GET / HTTP/1.1\r\nX : y\r\n\r\n"],
            &small_head,
            Error::WhitespaceBeforeColon,
            400,
        );
        assert_rejects(
            &[b"GET / HTTP/1.1\r\nHost: yyyyyyyyyyyy\r\n\r\n"],
            &small_head,
            Error::HeadTooLarge,
            431,
        );
    }

    /// Pieces that assemble into requests that are valid, nearly valid, or
    /// broken in the ways the parser must notice.
    const NEAR_VALID_PARTS: &[&[u8]] = &[
        b"GET / HTTP/1.1",
        b"\r\n",
        b"\r",
        b"\n",
        b"Host: h",
        b"X: y",
        b" ",
        b":",
        b"\x00",
    ];

    fn method_strategy() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(b"GET".to_vec()),
            Just(b"POST".to_vec()),
            Just(b"OPTIONS".to_vec()),
            proptest::collection::vec(
                proptest::sample::select(b"!#$%&'*+-.^_`|~09azAZ".to_vec()),
                1..8
            ),
        ]
    }

    fn target_strategy() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(0x21u8..=0x7E, 0..20).prop_map(|rest| {
            let mut target = vec![b'/'];
            target.extend(rest);
            target
        })
    }

    fn field_strategy() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
        let name = "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}"
            .prop_filter("not host", |n| !n.eq_ignore_ascii_case("host"));
        let value = proptest::collection::vec(
            prop_oneof![Just(b' '), Just(b'\t'), 0x21u8..=0x7E, 0x80u8..=0xFF],
            0..24,
        );
        (name.prop_map(String::into_bytes), value)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_bytes_never_panic_and_splits_agree(
            input in proptest::collection::vec(any::<u8>(), 0..96),
            split in any::<proptest::sample::Index>(),
        ) {
            let tiny = Limits {
                max_request_line_bytes: 24,
                max_head_bytes: 64,
                max_headers: 3,
                ..Limits::default()
            };
            for l in [&tiny, &Limits::default()] {
                let whole = parse_head(&input, l);
                let at = split.index(input.len() + 1);
                let prefix = parse_head(&input[..at], l);
                prop_assert!(prefix == Ok(None) || prefix == whole, "{prefix:?} vs {whole:?}");
            }
        }

        #[test]
        fn near_valid_requests_agree_every_way(
            input in proptest::collection::vec(
                proptest::sample::select(NEAR_VALID_PARTS),
                0..10,
            ).prop_map(|parts| parts.concat()),
        ) {
            let tiny = Limits { max_request_line_bytes: 20, max_head_bytes: 40, max_headers: 2, ..Limits::default() };
            let _ = parse_all_ways(&input, &tiny);
            let _ = parse_all_ways(&input, &Limits::default());
        }

        #[test]
        fn valid_requests_parse_back_to_their_parts(
            method in method_strategy(),
            target in target_strategy(),
            minor in prop_oneof![Just(b'0'), Just(b'1')],
            fields in proptest::collection::vec(field_strategy(), 0..6),
        ) {
            let mut input = Vec::new();
            input.extend_from_slice(&method);
            input.push(b' ');
            input.extend_from_slice(&target);
            input.extend_from_slice(b" HTTP/1.");
            input.push(minor);
            input.extend_from_slice(b"\r\nHost: example\r\n");
            for (name, value) in &fields {
                input.extend_from_slice(name);
                input.extend_from_slice(b": ");
                input.extend_from_slice(value);
                input.extend_from_slice(b"\r\n");
            }
            input.extend_from_slice(b"\r\n");

            let (head, used) = parse_all_ways(&input, &Limits::default())
                .expect("valid request").expect("complete request");
            prop_assert_eq!(used, input.len());
            prop_assert_eq!(head.method_bytes(), &method[..]);
            prop_assert_eq!(head.target(), &target[..]);
            let version = if minor == b'0' { Version::Http10 } else { Version::Http11 };
            prop_assert_eq!(head.version(), version);
            let parsed: Vec<_> = head.fields().skip(1).collect();
            prop_assert_eq!(parsed.len(), fields.len());
            for ((name, value), (got_name, got_value)) in fields.iter().zip(parsed) {
                prop_assert_eq!(got_name, &name[..]);
                prop_assert_eq!(got_value, trim_ows(value));
            }
        }
    }

    #[test]
    fn a_method_name_parses_back_to_its_method() {
        for method in Method::KNOWN {
            let name = method.name().expect("a known method has a name");
            assert_eq!(method_from_bytes(name.as_bytes()), method, "{name}");
        }
        assert_eq!(Method::Other.name(), None);
        assert_eq!(method_from_bytes(b"get"), Method::Other, "case-sensitive");
    }
}
