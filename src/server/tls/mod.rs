//! What a TLS listener needs beside its socket: the rustls configuration
//! (protocols, ALPN, resumption) and the certificates it serves.
//!
//! The crypto provider is aws-lc-rs (measured against ring: README
//! "HTTPS"). Protocols are rustls's: TLS 1.3 and 1.2 only, AEAD
//! suites with ECDHE only (forward secrecy, no CBC, no RSA key exchange).
//! ALPN offers `http/1.1` alone: a client that offers only `h2` gets a
//! `no_application_protocol` alert (RFC 7301 §3.2), a client that offers
//! none is served. Resumption: TLS 1.3 tickets and TLS 1.2 tickets under
//! keys that rotate every six hours (rustls's ticketer, the previous key
//! still accepted), and TLS 1.2 session IDs from an in-memory cache.

pub mod certificates;

pub use certificates::{CertificateError, Certificates};

use crate::config::tls::TlsOptions;
use std::sync::Arc;

/// Sessions the TLS 1.2 session-ID cache remembers (about 1 KiB each),
/// for clients that do not take tickets.
const SESSION_CACHE_ENTRIES: usize = 4096;

/// A TLS listener's setup: what its handshakes run with.
#[derive(Debug, Clone)]
pub struct TlsSetup {
    pub config: Arc<rustls::ServerConfig>,
    pub certificates: Arc<Certificates>,
}

impl TlsSetup {
    /// Load the certificates `options` names and build the configuration;
    /// the first bad file is an error. Warnings (a certificate near its end)
    /// come back for the caller to print.
    pub fn load(options: &TlsOptions) -> Result<(TlsSetup, Vec<String>), CertificateError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let (certificates, warnings) = Certificates::load(options, Arc::clone(&provider))?;
        let certificates = Arc::new(certificates);
        let startup_error = |reason: String| CertificateError {
            path: options
                .pairs
                .first()
                .map(|pair| pair.cert.clone())
                .or_else(|| options.dir.clone())
                .unwrap_or_default(),
            reason,
        };
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| startup_error(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(&certificates) as _);
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        config.ticketer =
            rustls::crypto::aws_lc_rs::Ticketer::new().map_err(|e| startup_error(e.to_string()))?;
        config.session_storage =
            rustls::server::ServerSessionMemoryCache::new(SESSION_CACHE_ENTRIES);
        // One TLS 1.3 ticket per full handshake: a client resumes with it
        // (tickets may be used more than once), and each ticket sent costs
        // an encryption and a record.
        config.send_tls13_tickets = 1;
        Ok((
            TlsSetup {
                config: Arc::new(config),
                certificates,
            },
            warnings,
        ))
    }
}
