//! Failed `--auth` attempts on stderr, at warn level: who tried which user
//! on which path, and why it failed. Never the password.
//!
//! The user-id and path are the client's bytes, escaped as the access log
//! escapes a target, so no client can split or forge a line. A password
//! guesser makes as many failures as it likes, so the lines are limited
//! to [`MAX_LINES_PER_SECOND`]; the next line printed says how many were
//! left out. The access log still has one line (a 401) per attempt.

use super::access_log::escape_log_bytes;
use crate::diag::{self, LogLevel};
use crate::service::basic_auth::Outcome;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Failure lines printed per second, at most.
pub const MAX_LINES_PER_SECOND: u32 = 10;

/// The limit's state, shared by every worker.
struct Window {
    started: Option<Instant>,
    printed: u32,
    left_out: u64,
}

static WINDOW: Mutex<Window> = Mutex::new(Window {
    started: None,
    printed: 0,
    left_out: 0,
});

/// Log one failed attempt, unless this second's lines are used up.
pub fn log_failed_login(client: SocketAddr, path: &[u8], failure: &Outcome) {
    if !diag::enabled(LogLevel::Warn) {
        return;
    }
    let left_out = {
        let mut window = WINDOW.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match window.started {
            Some(started) if now.duration_since(started).as_secs() < 1 => {}
            _ => {
                window.started = Some(now);
                window.printed = 0;
            }
        }
        if window.printed >= MAX_LINES_PER_SECOND {
            window.left_out += 1;
            return;
        }
        window.printed += 1;
        std::mem::take(&mut window.left_out)
    };
    let line = failed_login_line(client, path, failure, left_out);
    diag::warn(format_args!("{line}"));
}

/// The line for one failed attempt (without the `httpserver: ` prefix).
pub fn failed_login_line(
    client: SocketAddr,
    path: &[u8],
    failure: &Outcome,
    left_out: u64,
) -> String {
    let mut line = b"authentication failed: ".to_vec();
    line.extend_from_slice(failure.reason().as_bytes());
    if let Some(user) = failure.user() {
        line.extend_from_slice(b" user=");
        escape_log_bytes(user.as_bytes(), &mut line);
    }
    line.extend_from_slice(format!(" client={} path=", client.ip()).as_bytes());
    escape_log_bytes(path, &mut line);
    if left_out > 0 {
        line.extend_from_slice(
            format!(" ({left_out} earlier failures not logged: over {MAX_LINES_PER_SECOND}/s)")
                .as_bytes(),
        );
    }
    // Escaping leaves visible ASCII only.
    String::from_utf8(line).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_escapes_what_the_client_sent() {
        let client: SocketAddr = "192.0.2.9:4711".parse().expect("address");
        let wrong = Outcome::WrongPassword("al ice\n\"x\\".to_owned());
        assert_eq!(
            failed_login_line(client, b"/private/a b", &wrong, 0),
            r#"authentication failed: wrong password user=al\x20ice\x0a"x\\ client=192.0.2.9 path=/private/a\x20b"#
        );
        let malformed = Outcome::Malformed(None);
        assert_eq!(
            failed_login_line(client, b"/p", &malformed, 25),
            "authentication failed: malformed credentials client=192.0.2.9 path=/p \
             (25 earlier failures not logged: over 10/s)"
        );
        let unknown = Outcome::UnknownUser("m\u{e9}".to_owned());
        assert!(failed_login_line(client, b"/", &unknown, 0).contains(r"user=m\xc3\xa9 "));
    }
}
