//! The one error type of `proto`, and its one mapping to a status code.
//!
//! Each variant is a distinct fault of the peer. After any of them the server
//! answers with `status()` and closes the connection: once framing is in doubt,
//! nothing else on the connection can be trusted (RFC 9112 §6.3, §9.3).

use std::fmt;

/// A request the server will not process, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The method is empty or has a byte that is not a `tchar` (RFC 9110 §9.1).
    InvalidMethod,
    /// The request line is not `method SP target SP version CRLF` (RFC 9112 §3).
    MalformedRequestLine,
    /// The target is empty, has a CTL, space or non-ASCII byte, is in no
    /// form a server accepts, or names an empty or invalid authority
    /// (RFC 9112 §3.2, RFC 9110 §4.2.1).
    InvalidTarget,
    /// The version is not `HTTP/DIGIT.DIGIT` (RFC 9112 §2.3).
    MalformedVersion,
    /// A well-formed version whose major is not 1 (RFC 9110 §6.2): 505.
    UnsupportedVersion,
    /// The request line is longer than `max_request_line_bytes`: 414.
    RequestLineTooLong,
    /// The header (or trailer) section is larger than `max_head_bytes`: 431.
    HeadTooLarge,
    /// More field lines than `max_headers`: 431.
    TooManyFields,
    /// A field line without a colon, or with an empty or invalid name (RFC 9112 §5).
    MalformedField,
    /// Whitespace between a field name and its colon (RFC 9112 §5.1).
    WhitespaceBeforeColon,
    /// A field line starting with SP or HTAB: obsolete line folding (RFC 9112 §5.2).
    ObsoleteFold,
    /// A field value with a CTL or NUL byte (RFC 9110 §5.5).
    InvalidFieldValue,
    /// A CR not followed by LF, or a LF without CR, anywhere in the head (RFC 9112 §2.2).
    BareLineEnding,
    /// An HTTP/1.1 request without a Host field (RFC 9112 §3.2).
    MissingHost,
    /// More than one Host field, or a Host value that is a list (RFC 9112 §3.2).
    DuplicateHost,
    /// A Host value that is not `uri-host [":" port]` (RFC 9112 §3.2).
    InvalidHost,
    /// A Content-Length that is not plain decimal digits, or too large to represent (RFC 9112 §6.3).
    InvalidContentLength,
    /// Several Content-Length values that differ (RFC 9112 §6.3).
    ConflictingContentLength,
    /// Both Transfer-Encoding and Content-Length (RFC 9112 §6.1: may be rejected; we do).
    ContentLengthWithTransferEncoding,
    /// A Transfer-Encoding whose final coding is not chunked, or that applies
    /// chunked twice (RFC 9112 §6.3, §7).
    ChunkedNotFinal,
    /// A transfer coding the server does not implement (RFC 9112 §6.1): 501.
    UnknownTransferCoding,
    /// A chunk-size that is not hex, has too many digits, or overflows (RFC 9112 §7.1).
    InvalidChunkSize,
    /// A chunk-size line, extensions included, over `max_chunk_line_bytes` (RFC 9112 §7.1.1).
    ChunkLineTooLong,
    /// Chunk data not followed by CRLF, or a malformed chunk line or trailer (RFC 9112 §7.1).
    MalformedChunk,
    /// A body larger than `max_body_bytes`: 413.
    BodyTooLarge,
}

impl Error {
    /// The status code that answers this error (RFC 9110 §15).
    pub fn status(&self) -> u16 {
        match self {
            Error::UnsupportedVersion => 505,
            Error::RequestLineTooLong => 414,
            Error::HeadTooLarge | Error::TooManyFields => 431,
            Error::UnknownTransferCoding => 501,
            Error::BodyTooLarge => 413,
            Error::InvalidMethod
            | Error::MalformedRequestLine
            | Error::InvalidTarget
            | Error::MalformedVersion
            | Error::MalformedField
            | Error::WhitespaceBeforeColon
            | Error::ObsoleteFold
            | Error::InvalidFieldValue
            | Error::BareLineEnding
            | Error::MissingHost
            | Error::DuplicateHost
            | Error::InvalidHost
            | Error::InvalidContentLength
            | Error::ConflictingContentLength
            | Error::ContentLengthWithTransferEncoding
            | Error::ChunkedNotFinal
            | Error::InvalidChunkSize
            | Error::ChunkLineTooLong
            | Error::MalformedChunk => 400,
        }
    }

    /// A short, fixed, client-safe description used as the response body.
    pub fn message(&self) -> &'static str {
        match self {
            Error::InvalidMethod => "invalid method",
            Error::MalformedRequestLine => "malformed request line",
            Error::InvalidTarget => "invalid request target",
            Error::MalformedVersion => "malformed HTTP version",
            Error::UnsupportedVersion => "HTTP version not supported",
            Error::RequestLineTooLong => "request line too long",
            Error::HeadTooLarge => "request header section too large",
            Error::TooManyFields => "too many header fields",
            Error::MalformedField => "malformed header field",
            Error::WhitespaceBeforeColon => "whitespace before colon in header field",
            Error::ObsoleteFold => "obsolete line folding is not accepted",
            Error::InvalidFieldValue => "invalid character in header field value",
            Error::BareLineEnding => "line endings must be CRLF",
            Error::MissingHost => "missing Host header",
            Error::DuplicateHost => "more than one Host header",
            Error::InvalidHost => "invalid Host header",
            Error::InvalidContentLength => "invalid Content-Length",
            Error::ConflictingContentLength => "conflicting Content-Length values",
            Error::ContentLengthWithTransferEncoding => {
                "Transfer-Encoding and Content-Length together"
            }
            Error::ChunkedNotFinal => "chunked must be the final transfer coding",
            Error::UnknownTransferCoding => "transfer coding not implemented",
            Error::InvalidChunkSize => "invalid chunk size",
            Error::ChunkLineTooLong => "chunk size line too long",
            Error::MalformedChunk => "malformed chunked body",
            Error::BodyTooLarge => "request body too large",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Error {}
