//! httpserver: an HTTP/1.1 origin server written from scratch.
//!
//! Data flows one way:
//!
//! ```text
//! transport bytes → proto::parse_head → RequestHead → Router (the listener's service)
//!   → Response → proto::encode_response_head + body → transport bytes → access log
//! ```
//!
//! The protocol's decisions (body framing, persistence, response framing)
//! are pure functions in `proto`; the driver in `server` gathers the facts,
//! asks, and moves the bytes through a `Transport`.
//!
//! Modules, in reading order:
//! - [`config`]: every default, limit and timeout, validated once (the size
//!   [`Limits`] are defined in `proto`, which enforces them).
//! - [`proto`]: HTTP/1.1 with no I/O and nothing imported from the layers
//!   above: head parser, body framing and decoding, persistence, response
//!   framing and head encoding, dates, errors with their status codes, the
//!   PROXY protocol header and forwarded-field chains, integrity fields
//!   (`Want-Repr-Digest`, `Repr-Digest`).
//! - [`service`]: what answers a request: the [`Router`] (routes with
//!   handlers that may hold state, then static files), `/echo`, static
//!   files (with their compressed variants and content digests, made on
//!   compressor threads off the event loops), the HTTPS redirect.
//! - [`server`]: the only code that owns sockets, tasks and timers:
//!   listeners each paired with the service it serves, transports (plain
//!   TCP, TLS with rustls) and the PROXY preamble, certificates chosen by
//!   SNI and reloaded, the client's address behind proxies, the
//!   per-connection driver, parking, shutdown and the access log; sockets
//!   inherited from systemd or an upgrade, and the upgrade on SIGUSR2.
//!
//! [`site`] is the application: its routes and files, built from a
//! [`Config`]. `main.rs` hands it to a [`Server`] with a [`Listener`].
// Two places with `unsafe`: a socket option no safe wrapper offers
// (`server::listener::set_tcp_option`), and taking ownership of a
// descriptor another process passed (`server::inherited::claim`); none
// anywhere else.
#![deny(unsafe_code)]

pub mod config;
pub mod diag;
pub mod proto;
pub mod server;
pub mod service;

pub use config::{Cli, Config, Limits, Timeouts};
pub use server::{Listener, Server};
pub use service::Router;

use config::ConfigError;
use proto::Method;
use service::basic_auth::BasicAuth;
use service::static_files::StaticFiles;

/// The site: what `httpserver` serves on its listening address. Its route
/// table (`POST /echo`), then the files under `config.root` with
/// `config.static_files`, every response with `config.response_policy`'s
/// fields, all behind `config.auth` when it is set. The one place the
/// application's routes are listed.
pub fn site(config: &Config) -> Result<Router, ConfigError> {
    let static_files =
        StaticFiles::new(config.root.clone(), config.static_files.clone()).map_err(|e| {
            // The system's errors are about opening the root; the one
            // error of its own is about the --spa file.
            if e.raw_os_error().is_some() {
                let shown = config.root.display();
                ConfigError::in_value("root", format!("cannot open {shown}: {e}"))
            } else {
                ConfigError::in_value("spa", e.to_string())
            }
        })?;
    let router = Router::new()
        .with_route(Method::Post, "/echo", service::echo::echo)
        .with_static_files(static_files)
        .with_policy(config.response_policy.clone());
    Ok(match &config.auth {
        Some(auth) => router.with_auth(BasicAuth::new(auth.clone())),
        None => router,
    })
}

#[cfg(test)]
mod tests {
    /// Issue 12: `proto` depends on nothing above it, so it can be tested,
    /// fuzzed and reused on its own.
    #[test]
    fn proto_imports_nothing_from_config_server_or_service() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/proto");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).expect("src/proto") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("source");
            for layer in ["config", "server", "service"] {
                for form in [format!("crate::{layer}"), format!("super::super::{layer}")] {
                    assert!(!text.contains(&form), "{} names {form}", path.display());
                }
            }
            checked += 1;
        }
        assert!(checked >= 10, "read {checked} files of src/proto");
    }
}
