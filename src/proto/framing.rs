//! Message body length (RFC 9112 §6.3) and connection persistence (§9.3),
//! each decided by one pure function from the parsed head.

use super::{Error, Limits, RequestHead};

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

/// Decide how the body of this request is framed, or reject it.
pub fn request_framing(head: &RequestHead, limits: &Limits) -> Result<BodyFraming, Error> {
    let _ = (head, limits);
    todo!("framing")
}

/// Whether the client allows the connection to stay open after this request
/// (RFC 9112 §9.3): HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with
/// `Connection: keep-alive`.
pub fn wants_keep_alive(head: &RequestHead) -> bool {
    let _ = head;
    todo!("persistence")
}
