//! HTTPS flags (issue 15): certificates, the plain-HTTP redirect listener,
//! and HSTS. Only paths and numbers here; the files are read and checked
//! by `server::tls` when the server starts.

use super::ConfigError;
use std::net::SocketAddr;
use std::path::PathBuf;

/// A certificate chain file and its private key file, both PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificatePair {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// HTTPS, validated. Default: off (plain HTTP on the main listener).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// `--tls-cert`/`--tls-key` pairs, in order; the first is the default
    /// certificate (for clients without SNI or with an unknown name).
    pub pairs: Vec<CertificatePair>,
    /// `--tls-dir`: every `NAME.crt` (or `.pem`) with a `NAME.key` beside it.
    pub dir: Option<PathBuf>,
    /// `--hsts SECONDS`: `Strict-Transport-Security: max-age=SECONDS` on
    /// every HTTPS response the router builds. Default: none.
    pub hsts: Option<u64>,
    /// `--redirect-http ADDR:PORT`: a plain listener that answers every
    /// request with 308 to the same host and target over HTTPS.
    pub redirect_http: Option<SocketAddr>,
}

impl TlsOptions {
    /// Whether the main listener speaks HTTPS.
    pub fn is_enabled(&self) -> bool {
        !self.pairs.is_empty() || self.dir.is_some()
    }
}

/// The flags of [`TlsOptions`], flattened into `Cli`.
#[derive(Debug, Clone, clap::Args)]
pub struct TlsFlags {
    /// Serve HTTPS with this PEM certificate chain (leaf first); repeat with
    /// --tls-key for more certificates, chosen by SNI [default: off]
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Vec<PathBuf>,
    /// The PEM private key of the --tls-cert at the same position
    #[arg(long, value_name = "FILE")]
    pub tls_key: Vec<PathBuf>,
    /// Serve HTTPS with every NAME.crt (or NAME.pem) + NAME.key in DIR,
    /// chosen by SNI [default: off]
    #[arg(long, value_name = "DIR")]
    pub tls_dir: Option<PathBuf>,
    /// With HTTPS, add Strict-Transport-Security: max-age=SECONDS to
    /// responses [default: off]
    #[arg(long, value_name = "SECONDS")]
    pub hsts: Option<u64>,
    /// With HTTPS, also listen for plain HTTP on ADDR:PORT and answer every
    /// request with 308 to https://host/target [default: off]
    #[arg(long, value_name = "ADDR:PORT")]
    pub redirect_http: Option<SocketAddr>,
}

impl TlsFlags {
    pub fn into_options(self) -> Result<TlsOptions, ConfigError> {
        if self.tls_cert.len() != self.tls_key.len() {
            return Err(ConfigError::general("")
                .naming("tls_cert")
                .then(" and ")
                .naming("tls_key")
                .then(format!(
                    " come in pairs: got {} certificate(s) and {} key(s)",
                    self.tls_cert.len(),
                    self.tls_key.len()
                )));
        }
        let options = TlsOptions {
            pairs: self
                .tls_cert
                .into_iter()
                .zip(self.tls_key)
                .map(|(cert, key)| CertificatePair { cert, key })
                .collect(),
            dir: self.tls_dir,
            hsts: self.hsts,
            redirect_http: self.redirect_http,
        };
        if !options.is_enabled() {
            for (id, given) in [
                ("hsts", options.hsts.is_some()),
                ("redirect_http", options.redirect_http.is_some()),
            ] {
                if given {
                    return Err(ConfigError::in_value(id, "needs HTTPS (")
                        .naming("tls_cert")
                        .then(" with ")
                        .naming("tls_key")
                        .then(", or ")
                        .naming("tls_dir")
                        .then(")"));
                }
            }
        }
        Ok(options)
    }
}
