//! The request line (RFC 9112 §3): method, request target and version.
//!
//! [`parse_request_line`] checks one line, its CRLF already removed, and
//! gives its parts as ranges into it; `request.rs` calls it once the line
//! has ended and then parses the header section.

use super::fields::is_tchar;
use super::{authority, Error};
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

impl Method {
    /// Every method with a name of its own, that is all but [`Method::Other`].
    pub const KNOWN: [Method; 9] = [
        Method::Get,
        Method::Head,
        Method::Post,
        Method::Put,
        Method::Delete,
        Method::Connect,
        Method::Options,
        Method::Trace,
        Method::Patch,
    ];

    /// The method's name as it is sent (methods are case-sensitive, RFC
    /// 9110 §9.1), or `None` for [`Method::Other`], whose text only the
    /// head holds.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Connect => "CONNECT",
            Method::Options => "OPTIONS",
            Method::Trace => "TRACE",
            Method::Patch => "PATCH",
            Method::Other => return None,
        })
    }
}

/// The protocol version. Any `HTTP/1.x` with x >= 1 is treated as HTTP/1.1
/// (RFC 9110 §6.2); other majors are rejected with 505.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
}

/// The parts of a request line, as ranges into that line.
pub(super) struct RequestLine {
    pub(super) method: Method,
    pub(super) method_range: Range<usize>,
    pub(super) target: Range<usize>,
    pub(super) version: Version,
}

/// Check `method SP request-target SP HTTP-version` (RFC 9112 §3), the CRLF
/// already removed. The method bytes were checked by the caller.
pub(super) fn parse_request_line(line: &[u8]) -> Result<RequestLine, Error> {
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

pub(super) fn method_from_bytes(bytes: &[u8]) -> Method {
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
        // absolute-form (§3.2.2): scheme "://" authority ..., whose host an
        // http URI may not leave empty (RFC 9110 §4.2.1); authority-form
        // (§3.2.3) is only for CONNECT, and the router answers it.
        _ => match absolute_form_authority(target) {
            Some(authority) => has_named_host(authority),
            None => method == Method::Connect && has_host_and_port(target),
        },
    };
    if accepted {
        Ok(())
    } else {
        Err(Error::InvalidTarget)
    }
}

/// Whether `authority` is `uri-host [":" port]` with a non-empty host.
fn has_named_host(authority: &[u8]) -> bool {
    authority::host_of(authority).is_some_and(|host| !host.is_empty())
}

/// Whether `authority` is CONNECT's `uri-host ":" port`, both present
/// (RFC 9110 §9.3.6). `host_of` has checked that what follows the host is
/// empty or a colon and digits, so a longer tail is a port.
fn has_host_and_port(authority: &[u8]) -> bool {
    authority::host_of(authority)
        .is_some_and(|host| !host.is_empty() && authority.len() > host.len() + 1)
}

/// The authority of an absolute-form target: `scheme "://"` (scheme =
/// `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`, RFC 3986 §3.1), then up to
/// the path or query; `None` if the target does not start that way.
fn absolute_form_authority(target: &[u8]) -> Option<&[u8]> {
    let colon = memchr::memchr(b':', target)?;
    let scheme = target.get(..colon)?;
    let scheme_ok = scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    let rest = target.get(colon..)?.strip_prefix(b"://")?;
    let end = memchr::memchr2(b'/', b'?', rest).unwrap_or(rest.len());
    scheme_ok.then(|| &rest[..end])
}
