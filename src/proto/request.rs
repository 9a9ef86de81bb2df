//! The request head: request line and header section (RFC 9112 §2-§5).
//!
//! [`parse_head`] is incremental over a borrowed buffer: it returns `Ok(None)`
//! until a whole head is present, then the head and how many bytes it used.
//! Bytes after the head (a body, or pipelined requests) are left untouched.

use super::fields::{is_field_value_byte, is_ows, is_tchar, trim_ows};
use super::{Error, Limits};
use std::ops::Range;

/// How many empty lines (CRLF) may precede the request line. RFC 9112 §2.2
/// asks servers to ignore "at least one"; a small bound keeps a peer from
/// holding a connection open with an endless stream of them.
pub const MAX_LEADING_EMPTY_LINES: usize = 8;

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
#[derive(Debug, Clone, PartialEq, Eq)]
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
    let mut fields: Vec<Field> = Vec::with_capacity(limits.max_headers.min(16));
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
        if memchr::memchr(b'\r', content).is_some() {
            return Err(Error::BareLineEnding);
        }
        let content_start = pos;
        pos += lf + 1;
        if content.is_empty() {
            break pos;
        }
        if fields.len() >= limits.max_headers {
            return Err(Error::TooManyFields);
        }
        let (name, value) = parse_field_line(content)?;
        if content.get(name.clone()).is_some_and(|n| n.eq_ignore_ascii_case(b"host")) {
            // RFC 9112 §3.2: a server MUST answer 400 to more than one Host
            // field line, or a Host whose value is a list; either would let
            // two recipients pick different hosts.
            if host_seen || content.get(value.clone()).is_some_and(|v| v.contains(&b',')) {
                return Err(Error::DuplicateHost);
            }
            host_seen = true;
        }
        fields.push(Field {
            name: offset(&name, content_start)?,
            value: offset(&value, content_start)?,
        });
    };

    // Step 6: RFC 9112 §3.2: an HTTP/1.1 request MUST carry Host; HTTP/1.0
    // predates the rule.
    if request_line.version == Version::Http11 && !host_seen {
        return Err(Error::MissingHost);
    }

    let bytes: Box<[u8]> = line.get(..head_len).unwrap_or(&[]).into();
    let head = RequestHead {
        bytes,
        method: request_line.method,
        method_range: to_u32_range(request_line.method_range)?,
        target: to_u32_range(request_line.target)?,
        version: request_line.version,
        fields,
    };
    Ok(Some((head, line_start + head_len)))
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

/// The parts of a request line, as ranges into that line.
struct RequestLine {
    method: Method,
    method_range: Range<usize>,
    target: Range<usize>,
    version: Version,
}

/// Check `method SP request-target SP HTTP-version` (RFC 9112 §3), the CRLF
/// already removed. The method bytes were checked by the caller.
fn parse_request_line(line: &[u8]) -> Result<RequestLine, Error> {
    let method_end = memchr::memchr(b' ', line).ok_or(Error::MalformedRequestLine)?;
    let target_start = method_end + 1;
    let after_method = line.get(target_start..).unwrap_or(&[]);
    // Exactly one SP between parts: an empty target means two SPs in a row,
    // and a SP in the version means a third part (RFC 9112 §3 allows servers
    // to be lenient here; we are not, as lenient splitting differs between
    // implementations).
    let target_len = memchr::memchr(b' ', after_method).ok_or(Error::MalformedRequestLine)?;
    if target_len == 0 {
        return Err(Error::MalformedRequestLine);
    }
    let version_bytes = after_method.get(target_len + 1..).unwrap_or(&[]);
    if memchr::memchr(b' ', version_bytes).is_some() {
        return Err(Error::MalformedRequestLine);
    }
    let method_bytes = line.get(..method_end).unwrap_or(&[]);
    if method_bytes.is_empty() || !method_bytes.iter().all(|&b| is_tchar(b)) {
        return Err(Error::InvalidMethod);
    }
    let method = method_from_bytes(method_bytes);
    // The version is checked before the target so that an HTTP/2 preface
    // (`PRI * HTTP/2.0`) is answered 505 rather than 400.
    let version = parse_version(version_bytes)?;
    let target = after_method.get(..target_len).unwrap_or(&[]);
    check_target(method, target)?;
    Ok(RequestLine {
        method,
        method_range: 0..method_end,
        target: target_start..target_start + target_len,
        version,
    })
}

fn method_from_bytes(bytes: &[u8]) -> Method {
    // Methods are case-sensitive (RFC 9110 §9.1).
    match bytes {
        b"GET" => Method::Get,
        b"HEAD" => Method::Head,
        b"POST" => Method::Post,
        b"PUT" => Method::Put,
        b"DELETE" => Method::Delete,
        b"CONNECT" => Method::Connect,
        b"OPTIONS" => Method::Options,
        b"TRACE" => Method::Trace,
        b"PATCH" => Method::Patch,
        _ => Method::Other,
    }
}

/// `HTTP-version = "HTTP/" DIGIT "." DIGIT` (RFC 9112 §2.3). Any 1.x with
/// x >= 1 is served as 1.1 (RFC 9110 §6.2); other majors get 505.
fn parse_version(bytes: &[u8]) -> Result<Version, Error> {
    let [b'H', b'T', b'T', b'P', b'/', major, b'.', minor] = *bytes else {
        return Err(Error::MalformedVersion);
    };
    if !major.is_ascii_digit() || !minor.is_ascii_digit() {
        return Err(Error::MalformedVersion);
    }
    match (major, minor) {
        (b'1', b'0') => Ok(Version::Http10),
        (b'1', _) => Ok(Version::Http11),
        _ => Err(Error::UnsupportedVersion),
    }
}

/// The request target: visible ASCII only, in a form this method allows
/// (RFC 9112 §3.2).
fn check_target(method: Method, target: &[u8]) -> Result<(), Error> {
    if target.is_empty() || !target.iter().all(|b| (0x21..=0x7E).contains(b)) {
        return Err(Error::InvalidTarget);
    }
    let accepted = match target {
        // origin-form (§3.2.1)
        [b'/', ..] => true,
        // asterisk-form (§3.2.4) is only for a server-wide OPTIONS.
        b"*" => method == Method::Options,
        // absolute-form (§3.2.2): scheme "://" ...
        _ if is_absolute_form(target) => true,
        // authority-form (§3.2.3) is only for CONNECT; the router answers it.
        _ => method == Method::Connect,
    };
    if accepted {
        Ok(())
    } else {
        Err(Error::InvalidTarget)
    }
}

/// `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )` followed by `://`
/// (RFC 3986 §3.1).
fn is_absolute_form(target: &[u8]) -> bool {
    let Some(colon) = memchr::memchr(b':', target) else {
        return false;
    };
    let scheme = target.get(..colon).unwrap_or(&[]);
    let scheme_ok = scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    scheme_ok && target.get(colon..colon + 3) == Some(b"://")
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
    let after_name = content.get(name_len..).unwrap_or(&[]);
    let ws = after_name.iter().take_while(|&&b| is_ows(b)).count();
    match after_name.get(ws) {
        // RFC 9112 §5.1: a server MUST reject whitespace between the name
        // and the colon, which some recipients would fold into the name.
        Some(b':') if ws > 0 => return Err(Error::WhitespaceBeforeColon),
        Some(b':') => {}
        _ => return Err(Error::MalformedField),
    }
    let value_start = name_len + 1;
    let raw_value = content.get(value_start..).unwrap_or(&[]);
    if !raw_value.iter().all(|&b| is_field_value_byte(b)) {
        return Err(Error::InvalidFieldValue);
    }
    let leading = raw_value.iter().take_while(|&&b| is_ows(b)).count();
    let trimmed_len = trim_ows(raw_value).len();
    let start = value_start + leading;
    Ok((0..name_len, start..start + trimmed_len))
}

/// Shift a range within one field line to a range within the head, as u32.
fn offset(range: &Range<usize>, by: usize) -> Result<Range<u32>, Error> {
    let start = range.start.checked_add(by).ok_or(Error::HeadTooLarge)?;
    let end = range.end.checked_add(by).ok_or(Error::HeadTooLarge)?;
    to_u32_range(start..end)
}

fn to_u32_range(range: Range<usize>) -> Result<Range<u32>, Error> {
    let start = u32::try_from(range.start).map_err(|_| Error::HeadTooLarge)?;
    let end = u32::try_from(range.end).map_err(|_| Error::HeadTooLarge)?;
    Ok(start..end)
}
