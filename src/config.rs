//! Every default, limit and timeout, in one place, validated once.
//!
//! [`Cli`] is what clap parses; [`Config`] is the validated result the rest of
//! the server reads. Sizes are enforced by `proto` (which sees the bytes),
//! times by `server` (which owns the clocks). [`Limits`] is defined in
//! `proto`, beside the code that enforces it, and filled in here: `proto`
//! depends on nothing above it.

use crate::diag::LogLevel;
use crate::proto::forwarded::ForwardingField;
use crate::proto::proxy::ProxyVersions;
pub use crate::proto::Limits;
use crate::server::access_log::{AccessLogOptions, LogDestination, LogFormat};
use crate::server::client_address::{ClientAddressPolicy, TrustedProxies};
use crate::service::basic_auth::{AuthOptions, PasswordFile, DEFAULT_REALM};
use crate::service::cors::CorsPolicy;
use crate::service::extra_fields::{parse_extra_field, ExtraField};
use crate::service::static_files::cache::CachePolicy;
use crate::service::static_files::options::{
    parse_index_names, parse_spa_file, CompressionOptions, DEFAULT_COMPRESS_CACHE_BYTES,
    DEFAULT_COMPRESS_MAX_BYTES, DEFAULT_COMPRESS_MIN_BYTES,
};
use crate::service::static_files::{EtagPolicy, StaticOptions, SymlinkPolicy};
use crate::service::ResponsePolicy;
use clap::Parser;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

mod error;
pub mod file_tables;
pub mod sources;
pub mod tls;

pub use error::ConfigError;

/// Time limits, enforced by the connection driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeouts {
    /// From the first byte of a request to the end of its head. Default 10 s
    /// (slowloris defence; Go's ReadHeaderTimeout). Hit: 408 and close.
    pub header_read: Duration,
    /// How long a keep-alive connection may sit idle between requests.
    /// Default 15 s. Hit: the connection is closed quietly.
    pub idle: Duration,
    /// Stall timeout while reading a body: reset whenever bytes arrive.
    /// Default 30 s. Hit: 408 and close.
    pub body_read: Duration,
    /// Stall timeout while writing a response: reset whenever bytes leave,
    /// so a slow but live download survives. Default 30 s. Hit: close.
    pub write: Duration,
    /// On SIGINT/SIGTERM, how long in-flight responses may take to finish
    /// before the process exits anyway. Default 10 s.
    pub shutdown_grace: Duration,
    /// How long the kernel keeps a new connection that has sent nothing to
    /// itself before handing it to the server (Linux `TCP_DEFER_ACCEPT`, in
    /// whole seconds). A client that sends its request at once, as clients
    /// do, is accepted with its request already readable: no wakeup and no
    /// empty read for the bare handshake. A silent one is handed over after
    /// about this long, and the idle timeout applies from then. Default
    /// 1 s; zero turns it off.
    pub defer_accept: Duration,
    /// After the last response on a connection whose client may still be
    /// sending (a refused upload, an error before the body was read), how
    /// long the server keeps reading and discarding what arrives, so the
    /// kernel does not answer unread bytes with a reset that destroys the
    /// response (RFC 9112 §9.6). Counted from the response; reading also
    /// stops once the client closes, sends nothing for two seconds, or has
    /// sent [`Config::max_linger_bytes`]. Default 10 s (nginx's
    /// `lingering_time` is 30 s). Hit: closed.
    pub linger: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            header_read: Duration::from_secs(10),
            idle: Duration::from_secs(15),
            body_read: Duration::from_secs(30),
            write: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
            defer_accept: Duration::from_secs(1),
            linger: Duration::from_secs(10),
        }
    }
}

/// The validated configuration of one server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub addr: SocketAddr,
    /// The document root, canonicalized.
    pub root: PathBuf,
    pub limits: Limits,
    pub timeouts: Timeouts,
    /// Most connections open at once. Default 10,000, and always below the
    /// open-file limit. Further clients wait in the kernel's accept queue.
    pub max_connections: usize,
    /// The most bytes read and discarded while lingering before a close
    /// (see [`Timeouts::linger`]). Default 64 MiB: a refused upload of that
    /// size on a fast link still gets its status; past it the connection is
    /// closed and the kernel resets it.
    pub max_linger_bytes: u64,
    /// Worker threads, each with its own event loop. Default: the core count.
    pub workers: usize,
    /// How files are served: symlinks, hidden files, index names, SPA
    /// fallback, caching, listings; see [`StaticOptions`].
    pub static_files: StaticOptions,
    /// `-H` and `--cors` fields on every routed response. Default: none.
    pub response_policy: ResponsePolicy,
    /// Behind proxies: PROXY protocol, who is trusted, the real-IP field
    /// (see [`ClientAddressPolicy`]). Default: the socket's peer is the client.
    pub client_address: ClientAddressPolicy,
    /// The admin listener and the drain on SIGTERM; see [`BalancerOptions`].
    pub balancer: BalancerOptions,
    /// The access log's format and destination (`--log-format`,
    /// `--access-log`). Default: the product's own line on stdout.
    pub access_log: AccessLogOptions,
    /// `--log-level`: which diagnostics reach stderr. Default: info.
    pub log_level: LogLevel,
    /// `--auth` and its companions: who may see what. Default: `None`,
    /// everything is public.
    pub auth: Option<AuthOptions>,
    /// The pid file and the upgrade on SIGUSR2; see [`RestartOptions`].
    pub restart: RestartOptions,
    /// HTTPS: certificates, the redirect listener, HSTS (issue 15).
    /// Default: off.
    pub tls: tls::TlsOptions,
}

// ---- Behind a load balancer: the admin listener and the drain (issue 13).

/// Working behind a load balancer: where health and metrics are served,
/// and how long a stopping server keeps serving while the balancer notices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BalancerOptions {
    /// `--admin ADDR:PORT`: a second listener answering `/livez`, `/readyz`
    /// and `/metrics` only, with its own small connection cap, never behind
    /// the PROXY protocol. Default: none.
    pub admin: Option<SocketAddr>,
    /// `--admin-access-log`: log the admin listener's requests too.
    /// Default: off (probes every second would drown the site's lines).
    pub admin_access_log: bool,
    /// `--drain-delay SECONDS`: after SIGTERM or SIGINT, how long `/readyz`
    /// answers 503 while the server still accepts and answers (each response
    /// with `Connection: close`), before it stops accepting and finishes
    /// in-flight requests within [`Timeouts::shutdown_grace`]. Set it above
    /// the time the balancer takes to mark the instance down (HAProxy:
    /// `inter` × `fall`). Default 0: stop accepting at once.
    pub drain_delay: Duration,
}

/// The flags of [`BalancerOptions`], flattened into [`Cli`].
#[derive(Debug, Clone, clap::Args)]
pub struct BalancerFlags {
    /// Serve /livez, /readyz and /metrics on ADDR:PORT (a second listener,
    /// never behind the PROXY protocol) [default: off]
    #[arg(long, value_name = "ADDR:PORT")]
    pub admin: Option<SocketAddr>,
    /// Write access-log lines for the admin listener's requests too
    #[arg(long)]
    pub admin_access_log: bool,
    /// Seconds to keep accepting and answering (with Connection: close)
    /// after SIGTERM/SIGINT while /readyz says 503, before stopping
    #[arg(long, default_value_t = 0.0, value_name = "SECONDS")]
    pub drain_delay: f64,
}

impl BalancerFlags {
    fn into_options(self) -> Result<BalancerOptions, ConfigError> {
        let drain_delay = Duration::try_from_secs_f64(self.drain_delay).map_err(|_| {
            ConfigError::in_value(
                "drain_delay",
                format!(
                    "must be zero or a positive number of seconds, got {}",
                    self.drain_delay
                ),
            )
        })?;
        Ok(BalancerOptions {
            admin: self.admin,
            admin_access_log: self.admin_access_log,
            drain_delay,
        })
    }
}

// ---- End of the load-balancer block.

// ---- Restart and upgrade in place (issue 17).

/// What outlives one process: the pid file, and how long the process an
/// upgrade starts has to take over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartOptions {
    /// `--pid-file FILE`: the serving process's id, written atomically
    /// (a temporary file renamed over it) once it serves, rewritten by the
    /// successor of an upgrade, removed at a stop if it still names this
    /// process. Default: none.
    pub pid_file: Option<PathBuf>,
    /// `--upgrade-timeout SECONDS`: on SIGUSR2, how long the new process
    /// may take to report that it serves. Hit: it is killed and reaped,
    /// and the old process, which never stopped accepting, keeps serving.
    /// Default 10 s.
    pub upgrade_timeout: Duration,
}

impl Default for RestartOptions {
    fn default() -> Self {
        RestartOptions {
            pid_file: None,
            upgrade_timeout: Duration::from_secs(10),
        }
    }
}

/// The flags of [`RestartOptions`], flattened into [`Cli`].
#[derive(Debug, Clone, clap::Args)]
pub struct RestartFlags {
    /// Write the process id to FILE (atomically; the new process of an
    /// upgrade rewrites it) [default: none]
    #[arg(long, value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// Seconds the process started on SIGUSR2 (upgrade) has to report that
    /// it serves before it is killed and the old one keeps serving
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub upgrade_timeout: f64,
}

impl RestartFlags {
    fn into_options(self) -> Result<RestartOptions, ConfigError> {
        let upgrade_timeout = Duration::try_from_secs_f64(self.upgrade_timeout)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                ConfigError::in_value(
                    "upgrade_timeout",
                    format!(
                        "must be a positive number of seconds, got {}",
                        self.upgrade_timeout
                    ),
                )
            })?;
        Ok(RestartOptions {
            pid_file: self.pid_file,
            upgrade_timeout,
        })
    }
}

// ---- End of the restart block.

impl Config {
    /// A configuration with every default, serving `root` on `addr`.
    pub fn new(addr: SocketAddr, root: PathBuf) -> Config {
        Config {
            addr,
            root,
            limits: Limits::default(),
            timeouts: Timeouts::default(),
            max_connections: 10_000,
            max_linger_bytes: DEFAULT_MAX_LINGER_BYTES,
            workers: default_workers(),
            static_files: StaticOptions::default(),
            response_policy: ResponsePolicy::default(),
            client_address: ClientAddressPolicy::default(),
            balancer: BalancerOptions::default(),
            access_log: AccessLogOptions::default(),
            log_level: LogLevel::default(),
            auth: None,
            restart: RestartOptions::default(),
            tls: tls::TlsOptions::default(),
        }
    }
}

const DEFAULT_MAX_LINGER_BYTES: u64 = 64 * 1024 * 1024;

fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Command-line flags, as parsed. [`Cli::into_config`] validates them.
#[derive(Debug, Parser)]
#[command(
    name = "httpserver",
    version,
    about = "An HTTP/1.1 server for static files and small endpoints"
)]
pub struct Cli {
    /// TCP port to listen on (0 picks a free one)
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Directory to serve files from
    #[arg(long, default_value = "./public")]
    pub root: PathBuf,
    /// Address to listen on (default: all interfaces, IPv6 and IPv4)
    #[arg(long, default_value_t = IpAddr::V6(Ipv6Addr::UNSPECIFIED))]
    pub bind: IpAddr,
    /// Worker threads, each with its own event loop [default: number of cores]
    #[arg(long)]
    pub workers: Option<usize>,
    /// Most connections open at once (kept below the open-file limit)
    #[arg(long, default_value_t = 10_000)]
    pub max_connections: usize,
    /// Longest request line in bytes (414 above it)
    #[arg(long, default_value_t = 16 * 1024)]
    pub max_request_line: usize,
    /// Largest header section in bytes (431 above it)
    #[arg(long, default_value_t = 32 * 1024)]
    pub max_header_bytes: usize,
    /// Most header fields in a request (431 above it)
    #[arg(long, default_value_t = 100)]
    pub max_headers: usize,
    /// Largest request body in bytes (413 above it)
    #[arg(long, default_value_t = 8 * 1024 * 1024)]
    pub max_body_bytes: u64,
    /// Seconds from a request's first byte to the end of its head (408 after)
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub header_timeout: f64,
    /// Seconds a keep-alive connection may stay idle between requests
    #[arg(long, default_value_t = 15.0, value_name = "SECONDS")]
    pub idle_timeout: f64,
    /// Seconds a request body may stall without a byte arriving (408 after)
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    pub body_timeout: f64,
    /// Seconds a response may stall without a byte leaving (closed after)
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    pub write_timeout: f64,
    /// Seconds in-flight requests get to finish after SIGINT/SIGTERM
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub shutdown_grace: f64,
    /// Whole seconds the kernel holds a new connection until its first bytes
    /// arrive before handing it over anyway (TCP_DEFER_ACCEPT; 0: off)
    #[arg(long, default_value_t = 1, value_name = "SECONDS")]
    pub defer_accept: u32,
    /// Seconds the server keeps reading (and discarding) what a client still
    /// sends after the connection's last response, so it can read that
    /// response (a refused upload, for one)
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub linger_timeout: f64,
    /// Most bytes read and discarded while lingering before a close
    #[arg(long, default_value_t = DEFAULT_MAX_LINGER_BYTES, value_name = "BYTES")]
    pub linger_bytes: u64,
    /// Cache-Control for files: `auto` (content-hashed names like
    /// app.3f9a1c2e.js immutable for a year, everything else no-cache), `none`
    /// (no Cache-Control), or SECONDS (public, max-age=SECONDS on every file)
    #[arg(long, default_value_t = CachePolicy::Auto, value_name = "auto|none|SECONDS")]
    pub cache: CachePolicy,
    /// List directories that have no index file (HTML, or JSON for
    /// Accept: application/json) [default: off]
    #[arg(long)]
    pub listing: bool,
    /// Symlinks under the root: deny (all 404), within-root (followed only
    /// if the target stays inside the root), follow (anywhere: trust every
    /// symlink in the root first)
    #[arg(long, default_value = "within-root", value_name = "POLICY",
          value_parser = ["deny", "within-root", "follow"])]
    pub symlinks: String,
    /// Serve dotfiles and dot-directories (otherwise 404; /.well-known/ is
    /// always served)
    #[arg(long)]
    pub hidden: bool,
    /// File names served for a directory, comma-separated, tried in order
    #[arg(long, default_value = "index.html", value_name = "NAMES")]
    pub index: String,
    /// Serve FILE (relative to the root) for navigations that match no file:
    /// paths whose last segment has no extension, or that accept text/html
    #[arg(long, value_name = "FILE", value_parser = parse_spa_file)]
    pub spa: Option<String>,
    /// Compress text, scripts, styles and other compressible types on the
    /// fly (br, zstd, gzip as the client accepts), once per file version,
    /// keeping the result in memory; sidecars (.br, .zst, .gz) are used
    /// either way
    #[arg(long, default_value = "on", value_name = "on|off", value_parser = ["on", "off"])]
    pub compress: String,
    /// Smallest file compressed on the fly, in bytes
    #[arg(long, default_value_t = DEFAULT_COMPRESS_MIN_BYTES, value_name = "BYTES")]
    pub compress_min_bytes: u64,
    /// Largest file compressed on the fly, in bytes (each is compressed
    /// whole, in memory)
    #[arg(long, default_value_t = DEFAULT_COMPRESS_MAX_BYTES, value_name = "BYTES")]
    pub compress_max_bytes: u64,
    /// Most bytes of compressed copies kept in memory (least recently used
    /// evicted first)
    #[arg(long, default_value_t = DEFAULT_COMPRESS_CACHE_BYTES, value_name = "BYTES")]
    pub compress_cache_bytes: u64,
    /// What strong ETags are made of: mtime (inode, modification time and
    /// size; free) or content (SHA-256 of the bytes, computed once per file
    /// version: the same on every replica)
    #[arg(long, default_value = "mtime", value_name = "mtime|content",
          value_parser = ["mtime", "content"])]
    pub etag: String,
    /// Add 'Name: value' to every response (repeatable)
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE",
          value_parser = parse_extra_field)]
    pub headers: Vec<ExtraField>,
    /// Answer CORS requests, allowing ORIGIN (default with no value: *)
    #[arg(long, value_name = "ORIGIN", num_args = 0..=1, default_missing_value = "*",
          value_parser = CorsPolicy::parse)]
    pub cors: Option<CorsPolicy>,

    // Behind a load balancer: the client's address (issue 13.3). Validated
    // by `Cli::client_address_policy`.
    /// Every connection starts with a PROXY protocol header of this version
    /// (v1, v2 or any), sent by one of --trusted-proxies; other connections
    /// are closed [default: off]
    #[arg(long, value_name = "v1|v2|any")]
    pub proxy_protocol: Option<ProxyVersions>,
    /// Who may send PROXY headers and forwarded fields: comma-separated
    /// CIDR ranges or addresses (repeatable); required by --proxy-protocol
    /// and --real-ip-header
    #[arg(long, value_name = "CIDR,...")]
    pub trusted_proxies: Vec<TrustedProxies>,
    /// On connections from --trusted-proxies, the client is the rightmost
    /// address in this field that is not a trusted proxy [default: off]
    #[arg(long, value_name = "x-forwarded-for|forwarded")]
    pub real_ip_header: Option<ForwardingField>,
    /// The admin listener and the drain (issue 13).
    #[command(flatten)]
    pub balancer: BalancerFlags,
    /// HTTPS (issue 15).
    #[command(flatten)]
    pub tls: tls::TlsFlags,
    /// Where flag values come from: --config, --check-config,
    /// --print-config (issue 14.3).
    #[command(flatten)]
    pub sources: sources::SourceFlags,

    // ---- Logs (issue 14, parts 1 and 2). Validated by their parsers.
    /// Access-log line format: default (the product's own), common
    /// (Apache/NCSA Common Log Format), combined (common with referer and
    /// user agent) or json (one object per line)
    #[arg(long, default_value_t = LogFormat::Default, value_name = "FORMAT")]
    pub log_format: LogFormat,
    /// Where access-log lines go: - (stdout), a file (appended to, created
    /// with mode 0640, reopened on SIGUSR1 for logrotate) or off
    #[arg(long, default_value_t = LogDestination::Stdout, value_name = "-|PATH|off")]
    pub access_log: LogDestination,
    /// Diagnostics on stderr: error (only failures), warn (also dropped
    /// access-log lines and degraded settings) or info (also lifecycle
    /// events such as log reopening)
    #[arg(long, default_value_t = LogLevel::Info, value_name = "error|warn|info")]
    pub log_level: LogLevel,
    // ---- End of the logs block.
    /// Basic authentication (issue 15.4).
    #[command(flatten)]
    pub auth: AuthFlags,
    /// The pid file and the upgrade on SIGUSR2 (issue 17).
    #[command(flatten)]
    pub restart: RestartFlags,
}

// ---- Basic authentication (issue 15.4).

/// The flags of [`AuthOptions`], flattened into [`Cli`].
#[derive(Debug, Clone, clap::Args)]
pub struct AuthFlags {
    /// Require HTTP Basic credentials from the users in FILE (htpasswd
    /// lines with bcrypt hashes, as `htpasswd -B` writes) [default: off]
    #[arg(long, value_name = "FILE")]
    pub auth: Option<PathBuf>,
    /// Require credentials only under these URL path prefixes (comma-
    /// separated, repeatable), matched on whole segments of the decoded
    /// path [default: the whole site]
    #[arg(long, value_name = "PREFIX,...")]
    pub auth_path: Vec<String>,
    /// The realm named in the 401's WWW-Authenticate challenge
    #[arg(long, default_value = DEFAULT_REALM, value_name = "REALM")]
    pub auth_realm: String,
}

impl AuthFlags {
    /// Read and check the password file and the paths: at start, so that a
    /// bad line is an error that names it, not a surprise at the first
    /// request.
    fn into_options(self) -> Result<Option<AuthOptions>, ConfigError> {
        let Some(file) = self.auth else {
            if !self.auth_path.is_empty() {
                return Err(ConfigError::in_value("auth_path", "needs ").naming("auth"));
            }
            return Ok(None);
        };
        let users = PasswordFile::load(&file).map_err(|e| ConfigError::in_value("auth", e))?;
        AuthOptions::new(users, &self.auth_path, &self.auth_realm)
            .map(Some)
            .map_err(|e| ConfigError::in_value(e.id, e.message))
    }
}

// ---- End of the basic-authentication block.

impl Cli {
    /// Check every value and build the [`Config`].
    pub fn into_config(self) -> Result<Config, ConfigError> {
        let root = validate_root(&self.root)?;
        let client_address = self.client_address_policy()?;
        let compression = self.compression_options()?;
        // Each check names its argument by clap id (the field's name), so
        // the caller can say where the value came from.
        let seconds = |id: &'static str, value: f64| -> Result<Duration, ConfigError> {
            Duration::try_from_secs_f64(value)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    ConfigError::in_value(
                        id,
                        format!("must be a positive number of seconds, got {value}"),
                    )
                })
        };
        let positive = |id: &'static str, value: usize| -> Result<usize, ConfigError> {
            if value == 0 {
                Err(ConfigError::in_value(id, "must be at least 1"))
            } else {
                Ok(value)
            }
        };
        let limits = Limits {
            max_request_line_bytes: positive("max_request_line", self.max_request_line)?,
            max_head_bytes: positive("max_header_bytes", self.max_header_bytes)?,
            max_headers: positive("max_headers", self.max_headers)?,
            max_body_bytes: self.max_body_bytes,
            ..Limits::default()
        };
        let timeouts = Timeouts {
            header_read: seconds("header_timeout", self.header_timeout)?,
            idle: seconds("idle_timeout", self.idle_timeout)?,
            body_read: seconds("body_timeout", self.body_timeout)?,
            write: seconds("write_timeout", self.write_timeout)?,
            shutdown_grace: seconds("shutdown_grace", self.shutdown_grace)?,
            defer_accept: Duration::from_secs(self.defer_accept.into()),
            linger: seconds("linger_timeout", self.linger_timeout)?,
        };
        let tls = self.tls.into_options()?;
        let mut extra_fields = self.headers;
        if let Some(seconds) = tls.hsts {
            // RFC 6797 §6.1; only the HTTPS listener's router gets these
            // fields (the redirect listener has its own).
            extra_fields.push(crate::service::extra_fields::ExtraField {
                name: "Strict-Transport-Security",
                value: format!("max-age={seconds}"),
            });
        }
        Ok(Config {
            addr: SocketAddr::new(self.bind, self.port),
            root,
            limits,
            timeouts,
            max_connections: positive("max_connections", self.max_connections)?,
            max_linger_bytes: self.linger_bytes,
            workers: positive("workers", self.workers.unwrap_or_else(default_workers))?,
            static_files: StaticOptions {
                symlinks: self
                    .symlinks
                    .parse::<SymlinkPolicy>()
                    .map_err(|e| ConfigError::in_value("symlinks", e))?,
                hidden: self.hidden,
                index_names: parse_index_names(&self.index)
                    .map_err(|e| ConfigError::in_value("index", e))?,
                spa: self.spa,
                cache: self.cache,
                listing: self.listing,
                compression,
                etag: self
                    .etag
                    .parse::<EtagPolicy>()
                    .map_err(|e| ConfigError::in_value("etag", e))?,
            },
            client_address,
            response_policy: ResponsePolicy {
                extra_fields,
                cors: self.cors,
            },
            balancer: self.balancer.into_options()?,
            access_log: AccessLogOptions {
                format: self.log_format,
                destination: self.access_log,
            },
            log_level: self.log_level,
            auth: self.auth.into_options()?,
            restart: self.restart.into_options()?,
            tls,
        })
    }
}

impl Cli {
    /// The `--compress*` flags, checked together.
    pub fn compression_options(&self) -> Result<CompressionOptions, ConfigError> {
        if self.compress_min_bytes > self.compress_max_bytes {
            return Err(ConfigError::in_value(
                "compress_min_bytes",
                format!("({}) is larger than ", self.compress_min_bytes),
            )
            .naming("compress_max_bytes")
            .then(format!(" ({})", self.compress_max_bytes)));
        }
        Ok(CompressionOptions {
            enabled: self.compress == "on",
            min_bytes: self.compress_min_bytes,
            max_bytes: self.compress_max_bytes,
            cache_bytes: self.compress_cache_bytes,
        })
    }
}

/// The root must exist and be a directory; it is canonicalized so that
/// containment checks compare like with like.
pub fn validate_root(root: &std::path::Path) -> Result<PathBuf, ConfigError> {
    let shown = root.display();
    let meta = std::fs::metadata(root).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            ConfigError::in_value("root", format!("{shown} does not exist"))
        }
        _ => ConfigError::in_value("root", format!("cannot read {shown}: {e}")),
    })?;
    if !meta.is_dir() {
        return Err(ConfigError::in_value(
            "root",
            format!("{shown} is not a directory"),
        ));
    }
    root.canonicalize()
        .map_err(|e| ConfigError::in_value("root", format!("cannot resolve {shown}: {e}")))
}

impl Cli {
    /// The flags that say how the client's address is learned, checked
    /// together: `--proxy-protocol` and `--real-ip-header` each need
    /// `--trusted-proxies` (believing anyone would let any client choose
    /// the address it is logged under).
    pub fn client_address_policy(&self) -> Result<ClientAddressPolicy, ConfigError> {
        let trusted_proxies = self
            .trusted_proxies
            .iter()
            .cloned()
            .fold(TrustedProxies::default(), TrustedProxies::merged);
        if trusted_proxies.is_empty() {
            for (id, given) in [
                ("proxy_protocol", self.proxy_protocol.is_some()),
                ("real_ip_header", self.real_ip_header.is_some()),
            ] {
                if given {
                    return Err(ConfigError::in_value(id, "needs ")
                        .naming("trusted_proxies")
                        .then(" (the CIDR ranges allowed to send it)"));
                }
            }
        }
        Ok(ClientAddressPolicy {
            proxy_protocol: self.proxy_protocol,
            trusted_proxies,
            real_ip_header: self.real_ip_header,
        })
    }
}

/// The listening addresses, checked together: the admin listener cannot
/// share the site's address and port (certificates, when they exist, are
/// checked beside them).
pub fn check_addresses(config: &Config) -> Result<(), ConfigError> {
    if let Some(redirect) = config.tls.redirect_http {
        let same_ip = redirect.ip() == config.addr.ip()
            || redirect.ip().is_unspecified()
            || config.addr.ip().is_unspecified();
        if redirect.port() != 0 && redirect.port() == config.addr.port() && same_ip {
            return Err(ConfigError::in_value(
                "redirect_http",
                format!("{redirect} overlaps the site's address {}", config.addr),
            ));
        }
    }
    if let Some(admin) = config.balancer.admin {
        let same_ip = admin.ip() == config.addr.ip()
            || admin.ip().is_unspecified()
            || config.addr.ip().is_unspecified();
        if admin.port() != 0 && admin.port() == config.addr.port() && same_ip {
            return Err(ConfigError::in_value(
                "admin",
                format!("{admin} overlaps the site's address {} (", config.addr),
            )
            .naming("bind")
            .then(", ")
            .naming("port")
            .then(")"));
        }
    }
    Ok(())
}

/// An access-log file must be one the server can append to, checked before
/// binding like the root (and by `--check-config`), so a missing directory
/// or a permission is a configuration mistake, not a failure after the
/// port was taken. A regular file (or none yet) is opened as serving opens
/// it, and created if need be, as `nginx -t` creates its logs. Anything
/// else (a FIFO, `/dev/stdout`) is only checked for write permission:
/// opening and closing a FIFO would hand its reader an end of file.
pub fn check_access_log(config: &Config) -> Result<(), ConfigError> {
    use rustix::fs::{Access, Mode, OFlags};
    let LogDestination::File(path) = &config.access_log.destination else {
        return Ok(());
    };
    let shown = path.display();
    let checked = match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {
            return Err(ConfigError::in_value(
                "access_log",
                format!("{shown} is a directory"),
            ))
        }
        Ok(meta) if !meta.is_file() => rustix::fs::access(path, Access::WRITE_OK),
        _ => {
            let flags = OFlags::WRONLY | OFlags::APPEND | OFlags::CREATE | OFlags::CLOEXEC;
            rustix::fs::open(path, flags, Mode::from_raw_mode(0o640)).map(drop)
        }
    };
    checked.map_err(|e| {
        ConfigError::in_value(
            "access_log",
            format!("cannot open {shown}: {}", std::io::Error::from(e)),
        )
    })
}

/// `--pid-file` must be one the server can write when it serves: its
/// directory exists, is a directory and is writable (the file is written
/// as a temporary file renamed over it, so the directory's permission is
/// what counts). Checked before binding, and by `--check-config`, so that
/// a missing directory is a configuration mistake (exit 2), not an exit 1
/// after "Server listening".
pub fn check_pid_file(config: &Config) -> Result<(), ConfigError> {
    use rustix::fs::Access;
    let Some(path) = &config.restart.pid_file else {
        return Ok(());
    };
    let shown = path.display();
    if path.is_dir() {
        return Err(ConfigError::in_value(
            "pid_file",
            format!("{shown} is a directory"),
        ));
    }
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => std::path::Path::new("."),
    };
    let problem = match std::fs::metadata(directory) {
        Err(e) => Some(e.to_string()),
        Ok(meta) if !meta.is_dir() => Some("not a directory".to_owned()),
        Ok(_) => rustix::fs::access(directory, Access::WRITE_OK | Access::EXEC_OK)
            .err()
            .map(|e| std::io::Error::from(e).to_string()),
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(ConfigError::in_value(
            "pid_file",
            format!(
                "cannot write {shown}: directory {}: {problem}",
                directory.display()
            ),
        )),
    }
}

/// The addresses the server will bind (`--bind`, `--admin`; not those an
/// inherited socket replaces) must be this host's. Proved by binding a
/// throwaway TCP socket to the address with port 0 (any free port, so a
/// port in use cannot fail it), never listening, closed at once: only
/// "cannot assign requested address" is a configuration mistake. Whether
/// the port itself is free is left to serving (exit 1), since it can
/// change between a check and a start.
pub fn check_local_addresses(
    config: &Config,
    bind_site: bool,
    bind_admin: bool,
) -> Result<(), ConfigError> {
    let site = bind_site.then_some(("bind", config.addr.ip()));
    let admin = config
        .balancer
        .admin
        .filter(|_| bind_admin)
        .map(|admin| ("admin", admin.ip()));
    // An unspecified address (every interface) is always this host's; the
    // default `::` falls back to 0.0.0.0 where there is no IPv6 when
    // serving, so it is not tried here.
    for (id, ip) in site
        .into_iter()
        .chain(admin)
        .filter(|(_, ip)| !ip.is_unspecified())
    {
        if let Err(e) = bind_throwaway(ip) {
            if e.raw_os_error() == Some(rustix::io::Errno::ADDRNOTAVAIL.raw_os_error()) {
                return Err(ConfigError::in_value(
                    id,
                    format!("{ip} is not an address of this host ({e})"),
                ));
            }
        }
    }
    Ok(())
}

fn bind_throwaway(ip: IpAddr) -> std::io::Result<()> {
    use socket2::{Domain, Socket, Type};
    let addr = SocketAddr::new(ip, 0);
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.bind(&addr.into())
}
