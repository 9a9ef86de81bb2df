//! HTTP/1.1 message syntax (RFC 9112) without I/O.
//!
//! Everything here works on borrowed bytes and returns values: a parsed head and
//! the number of bytes it used, `Ok(None)` for "need more bytes", or a typed
//! [`Error`]. Nothing in `proto` imports tokio, `std::net`, `std::fs` or reads a
//! clock; time arrives as an argument. Every size limit is enforced here, from
//! the [`Limits`] the caller passes in, so tests can use tiny ones.

pub mod authority;
pub mod body;
pub mod date;
pub mod error;
pub mod fields;
pub mod framing;
pub mod request;
pub mod response;

pub use crate::config::Limits;
pub use body::{BodyDecoder, BodyEvent};
pub use error::Error;
pub use framing::{request_framing, wants_keep_alive, BodyFraming};
pub use request::{parse_head, parse_head_reusing, HeadBuffers, Method, RequestHead, Version};
