//! The one error type of `proto`, and its one mapping to a status code.
//!
//! Each variant is a distinct fault of the peer. After any of them the server
//! answers with `status()` and closes the connection: once framing is in doubt,
//! nothing else on the connection can be trusted (RFC 9112 §6.3, §9.3).

use std::fmt;

/// A request the server will not process, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    // (variants filled in by the proto work; each with a doc line and its RFC rule)
    /// Placeholder until the parser lands.
    Malformed,
}

impl Error {
    /// The status code that answers this error (RFC 9110 §15).
    pub fn status(&self) -> u16 {
        match self {
            Error::Malformed => 400,
        }
    }

    /// A short, fixed, client-safe description used as the response body.
    pub fn message(&self) -> &'static str {
        match self {
            Error::Malformed => "malformed request",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Error {}
