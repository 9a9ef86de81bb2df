//! HTTP/1.1 message syntax (RFC 9112) without I/O.
//!
//! Everything here works on borrowed bytes and returns values: a parsed head and
//! the number of bytes it used, `Ok(None)` for "need more bytes", or a typed
//! [`Error`]. Nothing in `proto` imports tokio, `std::net`, `std::fs` or reads a
//! clock; time arrives as an argument. Every size limit is enforced here, from
//! the [`Limits`] the caller passes in, so tests can use tiny ones. Nothing
//! here imports `config`, `server` or `service`: the layers above depend on
//! `proto`, never the other way round.
//!
//! The protocol's decisions live here too, as pure functions the driver
//! asks: how a request body is framed (`framing`), whether the connection
//! persists (`persistence`), and how a response is framed and its head
//! encoded (`response`).

pub mod authority;
pub mod basic_auth;
pub mod body;
pub mod date;
pub mod digest;
pub mod error;
pub mod fields;
pub mod forwarded;
pub mod framing;
pub mod limits;
pub mod persistence;
pub mod proxy;
pub mod request;
pub mod request_line;
pub mod response;

pub use body::{BodyDecoder, BodyEvent};
pub use error::Error;
pub use framing::{request_framing, wants_keep_alive, BodyFraming};
pub use limits::Limits;
pub use persistence::Persistence;
pub use request::{parse_head, parse_head_reusing, HeadBuffers, Method, RequestHead, Version};
