//! Size limits on what a client may send, enforced here in `proto`, which
//! sees the bytes. `config` fills them from the command line; `proto` takes
//! them as an argument, so tests can pass tiny ones, and depends on nothing
//! that builds them.

/// Size limits on what a client may send. `proto` enforces them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Longest request line, in bytes (CRLF excluded). Default 16 KiB, twice
    /// the 8,000 octets of URI that RFC 9110 §4.1 asks servers to accept.
    /// Over it: 414 and close.
    pub max_request_line_bytes: usize,
    /// Largest header section (request line and fields, up to the empty line),
    /// in bytes. Default 32 KiB (nginx allows 4 x 8 KiB buffers). Over it: 431
    /// and close. Trailer sections of chunked bodies share this bound.
    pub max_head_bytes: usize,
    /// Most field lines in a header (or trailer) section. Default 100 (as
    /// Apache's LimitRequestFields). Over it: 431 and close.
    pub max_headers: usize,
    /// Largest request body, in bytes, after chunked decoding. Default 8 MiB.
    /// Over it: 413 and close.
    pub max_body_bytes: u64,
    /// Longest chunk-size line, extensions included, in bytes. Default 4 KiB.
    /// Over it: 400 and close (RFC 9112 §7.1.1 lets servers limit extensions).
    pub max_chunk_line_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_line_bytes: 16 * 1024,
            max_head_bytes: 32 * 1024,
            max_headers: 100,
            max_body_bytes: 8 * 1024 * 1024,
            max_chunk_line_bytes: 4 * 1024,
        }
    }
}
