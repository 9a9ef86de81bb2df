//! Diagnostics on stderr, filtered by `--log-level`.
//!
//! What each level prints (every line starts `httpserver: `):
//! - `error`: failures only: a worker that cannot start, an access-log file
//!   that cannot be reopened, an access-log output that took nothing for
//!   5 s at exit, a failed upgrade, a fatal configuration or startup error.
//! - `warn`: also conditions an operator should act on: access-log lines
//!   dropped because the output fell behind (at most one line a second), an
//!   access-log write that failed, a connection cap lowered to fit the
//!   open-file limit, `--auth` on plain HTTP beyond loopback, failed
//!   logins, a setting an upgrade cannot apply, a second stop signal.
//! - `info` (the default): also lifecycle events: the access log reopened
//!   on SIGUSR1, the sockets systemd passed, an upgrade started and done. These are rare (never per request), so the default shows
//!   them: an operator reading the journal after a rotation sees that it
//!   happened.
//!
//! The access log itself (stdout or `--access-log`) is not affected.

use std::sync::atomic::{AtomicU8, Ordering};

/// `--log-level`: the least severe diagnostics printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Error = 0,
    Warn = 1,
    #[default]
    Info = 2,
}

impl std::str::FromStr for LogLevel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "error" => Ok(LogLevel::Error),
            "warn" => Ok(LogLevel::Warn),
            "info" => Ok(LogLevel::Info),
            _ => Err(format!("unknown log level {s:?} (error, warn or info)")),
        }
    }
}

impl std::fmt::Display for LogLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
        })
    }
}

static LEVEL: AtomicU8 = AtomicU8::new(LogLevel::Info as u8);

/// Print diagnostics of `level` and more severe from now on.
pub fn set_level(level: LogLevel) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

/// Whether diagnostics of `level` are printed.
pub fn enabled(level: LogLevel) -> bool {
    level as u8 <= LEVEL.load(Ordering::Relaxed)
}

/// Print `message` on stderr if `level` is enabled.
pub fn emit(level: LogLevel, message: std::fmt::Arguments<'_>) {
    if enabled(level) {
        eprintln!("httpserver: {message}");
    }
}

pub fn error(message: std::fmt::Arguments<'_>) {
    emit(LogLevel::Error, message);
}

pub fn warn(message: std::fmt::Arguments<'_>) {
    emit(LogLevel::Warn, message);
}

pub fn info(message: std::fmt::Arguments<'_>) {
    emit(LogLevel::Info, message);
}
