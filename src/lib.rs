//! httpserver: an HTTP/1.1 origin server written from scratch.
//!
//! Data flows one way:
//!
//! ```text
//! socket bytes → proto::parse_head → RequestHead → service::Router → Response
//!              → proto::response (head bytes) + body → socket bytes → access log
//! ```
//!
//! Modules, in reading order:
//! - [`config`]: every default, limit and timeout, validated once.
//! - [`proto`]: HTTP/1.1 syntax with no I/O: head parser, body framing and
//!   decoding, response head encoding, dates, errors with their status codes.
//! - [`service`]: what answers a request: the router, `/echo`, static files.
//! - [`server`]: the only code that owns sockets, tasks and timers: listeners,
//!   the per-connection driver, shutdown and the access log.
// One `unsafe` block, for a socket option no safe wrapper offers
// (`server::listener::set_defer_accept`); none anywhere else.
#![deny(unsafe_code)]

pub mod config;
pub mod proto;
pub mod server;
pub mod service;

pub use config::{Cli, Config, Limits, Timeouts};
pub use server::Server;
