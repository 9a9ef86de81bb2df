//! Certificates from PEM files: loaded and checked once per file, chosen by
//! SNI, and reloaded when asked (SIGHUP) or when their files change.
//!
//! A certificate is served only if its file holds PEM certificates (the
//! leaf first, then the chain), its key file a PEM private key that matches
//! the leaf, and the leaf is not expired. At start a failure is fatal;
//! later (a reload) it keeps the certificates in service and is logged in
//! one line with the path and the reason.

use crate::config::tls::{CertificatePair, TlsOptions};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

/// A certificate this close to its end is served with a warning at start.
pub const EXPIRY_WARNING: Duration = Duration::from_secs(14 * 24 * 60 * 60);

/// A file's modification time and length, `None` if it cannot be read.
type Stamp = Option<(SystemTime, u64)>;

/// How often, at most, a handshake looks at the files' modification times.
const FILE_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// Why a certificate could not be loaded: the file and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateError {
    pub path: PathBuf,
    pub reason: String,
}

impl std::fmt::Display for CertificateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TLS certificate {}: {}",
            self.path.display(),
            self.reason
        )
    }
}

impl std::error::Error for CertificateError {}

/// One certificate ready to serve, with what SNI matches it against.
#[derive(Debug)]
struct Loaded {
    key: Arc<CertifiedKey>,
    /// The leaf's DNS names (subjectAltName), lowercase; `*.` for wildcards.
    names: Vec<String>,
    /// The leaf's notAfter, seconds since the epoch.
    not_after: i64,
    cert_path: PathBuf,
}

/// The certificates in service and what SNI chooses among them.
#[derive(Debug)]
pub struct CertificateSet {
    exact: HashMap<String, Arc<CertifiedKey>>,
    /// By the part after `*.`.
    wildcard: HashMap<String, Arc<CertifiedKey>>,
    /// For a client without SNI or with a name no certificate has: the
    /// first pair given, else the first file of `--tls-dir` by name.
    default: Arc<CertifiedKey>,
}

impl CertificateSet {
    /// SNI choice: the exact name, then a wildcard one label up, then the
    /// default (RFC 6125 §6.4.3: a wildcard covers one label only).
    pub fn choose(&self, server_name: Option<&str>) -> Arc<CertifiedKey> {
        let Some(name) = server_name else {
            return Arc::clone(&self.default);
        };
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if let Some(key) = self.exact.get(&name) {
            return Arc::clone(key);
        }
        if let Some((_, parent)) = name.split_once('.') {
            if let Some(key) = self.wildcard.get(parent) {
                return Arc::clone(key);
            }
        }
        Arc::clone(&self.default)
    }
}

/// The pairs to load: the flags' pairs in order, then `--tls-dir`'s.
fn pairs_of(options: &TlsOptions) -> Result<Vec<CertificatePair>, CertificateError> {
    let mut pairs = options.pairs.clone();
    if let Some(dir) = &options.dir {
        pairs.extend(pairs_in_dir(dir)?);
    }
    Ok(pairs)
}

/// `--tls-dir`: every `NAME.crt` (or `NAME.pem`) beside a `NAME.key`, in
/// name order.
pub fn pairs_in_dir(dir: &Path) -> Result<Vec<CertificatePair>, CertificateError> {
    let error = |reason: String| CertificateError {
        path: dir.to_owned(),
        reason,
    };
    let entries = std::fs::read_dir(dir).map_err(|e| error(e.to_string()))?;
    let mut certs: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| error(e.to_string()))?.path();
        let is_cert = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("crt" | "pem")
        );
        if is_cert && path.with_extension("key").is_file() {
            certs.push(path);
        }
    }
    certs.sort();
    if certs.is_empty() {
        return Err(error(
            "no NAME.crt (or NAME.pem) with a NAME.key beside it".to_owned(),
        ));
    }
    Ok(certs
        .into_iter()
        .map(|cert| CertificatePair {
            key: cert.with_extension("key"),
            cert,
        })
        .collect())
}

/// Read and check one pair.
fn load_pair(
    pair: &CertificatePair,
    provider: &CryptoProvider,
) -> Result<Loaded, CertificateError> {
    let cert_error = |reason: String| CertificateError {
        path: pair.cert.clone(),
        reason,
    };
    let key_error = |reason: String| CertificateError {
        path: pair.key.clone(),
        reason,
    };
    let cert_pem = std::fs::read(&pair.cert).map_err(|e| cert_error(e.to_string()))?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| cert_error(format!("not a PEM certificate file ({e})")))?;
    let Some(leaf) = chain.first() else {
        return Err(cert_error("no PEM certificate in it".to_owned()));
    };
    let (names, not_after) = leaf_facts(leaf).map_err(cert_error)?;
    let key_pem = std::fs::read(&pair.key).map_err(|e| key_error(e.to_string()))?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| key_error(format!("no PEM private key in it ({e})")))?;
    let signing_key = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| key_error(format!("unusable private key ({e})")))?;
    let key = CertifiedKey::new(chain, signing_key);
    key.keys_match().map_err(|_| {
        key_error(format!(
            "does not match the certificate in {}",
            pair.cert.display()
        ))
    })?;
    let now = unix_now();
    if not_after < now {
        return Err(cert_error(format!(
            "expired on {}",
            jiff::Timestamp::from_second(not_after)
                .map_or_else(|_| not_after.to_string(), |t| t.to_string())
        )));
    }
    Ok(Loaded {
        key: Arc::new(key),
        names,
        not_after,
        cert_path: pair.cert.clone(),
    })
}

/// The leaf's DNS names and its notAfter.
fn leaf_facts(leaf: &CertificateDer<'_>) -> Result<(Vec<String>, i64), String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(leaf)
        .map_err(|e| format!("not an X.509 certificate ({e})"))?;
    let mut names = Vec::new();
    if let Ok(Some(san)) = parsed.subject_alternative_name() {
        for name in &san.value.general_names {
            if let x509_parser::extensions::GeneralName::DNSName(dns) = name {
                names.push(dns.to_ascii_lowercase());
            }
        }
    }
    Ok((names, parsed.validity().not_after.timestamp()))
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Load every pair into a set, with a warning for each certificate that
/// expires within [`EXPIRY_WARNING`].
fn load_set(
    options: &TlsOptions,
    provider: &CryptoProvider,
) -> Result<(CertificateSet, Vec<String>), CertificateError> {
    let mut loaded = Vec::new();
    for pair in pairs_of(options)? {
        loaded.push(load_pair(&pair, provider)?);
    }
    let now = unix_now();
    let warnings = loaded
        .iter()
        .filter(|l| l.not_after - now < EXPIRY_WARNING.as_secs() as i64)
        .map(|l| {
            format!(
                "TLS certificate {} expires in {} hours",
                l.cert_path.display(),
                (l.not_after - now) / 3600
            )
        })
        .collect();
    let default = Arc::clone(&loaded.first().expect("pairs_of returns at least one").key);
    let mut set = CertificateSet {
        exact: HashMap::new(),
        wildcard: HashMap::new(),
        default,
    };
    // The first certificate given for a name wins, as the first is the
    // default: the order of the flags is the order of preference.
    for l in &loaded {
        for name in &l.names {
            match name.strip_prefix("*.") {
                Some(parent) => set.wildcard.entry(parent.to_owned()),
                None => set.exact.entry(name.clone()),
            }
            .or_insert_with(|| Arc::clone(&l.key));
        }
    }
    Ok((set, warnings))
}

/// What the files looked like: each one's modification time and length
/// (and `--tls-dir`'s, which changes when a file is added or removed).
fn stamps_of(options: &TlsOptions) -> Vec<Stamp> {
    let mut paths: Vec<PathBuf> = Vec::new();
    for pair in &options.pairs {
        paths.push(pair.cert.clone());
        paths.push(pair.key.clone());
    }
    if let Some(dir) = &options.dir {
        paths.push(dir.clone());
        if let Ok(pairs) = pairs_in_dir(dir) {
            for pair in pairs {
                paths.push(pair.cert);
                paths.push(pair.key);
            }
        }
    }
    paths
        .iter()
        .map(|path| {
            let meta = std::fs::metadata(path).ok()?;
            Some((meta.modified().ok()?, meta.len()))
        })
        .collect()
}

/// The certificates a TLS listener serves: SNI picks among them at each
/// handshake, and they are reloaded on [`Certificates::reload`] or when a
/// handshake finds the files changed (looked at once a second at most).
#[derive(Debug)]
pub struct Certificates {
    options: TlsOptions,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertificateSet>>,
    /// When the files were last looked at, and how they looked then
    /// (loaded or not: a broken file is tried again only once it changes).
    seen: Mutex<(Instant, Vec<Stamp>)>,
}

impl Certificates {
    /// Load and check every certificate: the first failure is an error;
    /// certificates near their end come back as warnings.
    pub fn load(
        options: &TlsOptions,
        provider: Arc<CryptoProvider>,
    ) -> Result<(Certificates, Vec<String>), CertificateError> {
        let stamps = stamps_of(options);
        let (set, warnings) = load_set(options, &provider)?;
        Ok((
            Certificates {
                options: options.clone(),
                provider,
                current: RwLock::new(Arc::new(set)),
                seen: Mutex::new((Instant::now(), stamps)),
            },
            warnings,
        ))
    }

    /// Load the files again: on success new handshakes use them (open
    /// connections keep what they negotiated); on failure the certificates
    /// in service stay, and the error says which file and why.
    pub fn reload(&self) -> Result<(), CertificateError> {
        let stamps = stamps_of(&self.options);
        let outcome = load_set(&self.options, &self.provider);
        if let Ok(mut seen) = self.seen.lock() {
            *seen = (Instant::now(), stamps);
        }
        let (set, warnings) = outcome?;
        for warning in warnings {
            crate::diag::warn(format_args!("{warning}"));
        }
        if let Ok(mut current) = self.current.write() {
            *current = Arc::new(set);
        }
        Ok(())
    }

    /// [`Certificates::reload`], logging the outcome in one line.
    pub fn reload_and_log(&self) {
        match self.reload() {
            Ok(()) => crate::diag::info(format_args!("TLS certificates reloaded")),
            Err(e) => crate::diag::error(format_args!("{e}; keeping the certificates in service")),
        }
    }

    /// Reload if a second has passed since the last look and a file
    /// changed. Called from handshakes: cheap when nothing is due (one
    /// uncontended lock, one clock read).
    fn reload_if_changed(&self) {
        let due = {
            let Ok(mut seen) = self.seen.try_lock() else {
                return;
            };
            if seen.0.elapsed() < FILE_CHECK_INTERVAL {
                return;
            }
            seen.0 = Instant::now();
            let stamps = stamps_of(&self.options);
            let changed = stamps != seen.1;
            if changed {
                seen.1 = stamps;
            }
            changed
        };
        if due {
            self.reload_and_log();
        }
    }

    /// The set in service now.
    pub fn current(&self) -> Arc<CertificateSet> {
        match self.current.read() {
            Ok(current) => Arc::clone(&current),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.reload_if_changed();
        Some(self.current().choose(client_hello.server_name()))
    }
}
