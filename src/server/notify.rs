//! `sd_notify`: telling systemd what the process is doing (`READY=1`,
//! `RELOADING=1`, `MAINPID=`, `STOPPING=1`), as `sd_notify(3)` describes
//! it: one datagram of `KEY=VALUE` lines to the unix socket named by
//! `NOTIFY_SOCKET`, a path or, with a leading `@`, a name in the abstract
//! namespace. Without the variable (not run by systemd as `Type=notify`)
//! every call does nothing.
//!
//! The variable is left in the environment: the process an upgrade starts
//! notifies the same manager once it is the main process.

use std::io;
use std::os::unix::net::{SocketAddr, UnixDatagram};

/// Where notifications go, if anywhere.
#[derive(Debug, Default)]
pub struct Notifier {
    target: Option<SocketAddr>,
}

impl Notifier {
    /// The manager named by `NOTIFY_SOCKET`, if any. An unusable value is
    /// reported once here and then ignored: the server serves without it.
    pub fn from_env() -> Notifier {
        match std::env::var_os("NOTIFY_SOCKET") {
            None => Notifier::default(),
            Some(value) => match Notifier::to(&value.to_string_lossy()) {
                Ok(notifier) => notifier,
                Err(e) => {
                    crate::diag::warn(format_args!("NOTIFY_SOCKET {value:?} is unusable: {e}"));
                    Notifier::default()
                }
            },
        }
    }

    /// Notifications to the socket `name`: a path, or an abstract name
    /// after `@`.
    pub fn to(name: &str) -> io::Result<Notifier> {
        let target = match name.strip_prefix('@') {
            Some(abstract_name) => {
                use std::os::linux::net::SocketAddrExt;
                SocketAddr::from_abstract_name(abstract_name.as_bytes())?
            }
            None if name.starts_with('/') => SocketAddr::from_pathname(name)?,
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "neither an absolute path nor an @abstract name",
                ))
            }
        };
        Ok(Notifier {
            target: Some(target),
        })
    }

    /// Whether notifications go anywhere.
    pub fn is_enabled(&self) -> bool {
        self.target.is_some()
    }

    /// Send `state` (newline-separated `KEY=VALUE` assignments). A failure
    /// is logged, not fatal: systemd may be restarting, and the server
    /// serves either way.
    pub fn notify(&self, state: &str) {
        let Some(target) = &self.target else { return };
        let sent = UnixDatagram::unbound()
            .and_then(|socket| socket.send_to_addr(state.as_bytes(), target));
        if let Err(e) = sent {
            crate::diag::warn(format_args!("cannot notify systemd ({state:?}): {e}"));
        }
    }

    /// `RELOADING=1` with the monotonic time systemd asks of it
    /// (`MONOTONIC_USEC`, required by `Type=notify-reload`).
    pub fn reloading(&self) {
        if self.is_enabled() {
            self.notify(&format!("RELOADING=1\nMONOTONIC_USEC={}", monotonic_usec()));
        }
    }
}

/// CLOCK_MONOTONIC in microseconds.
fn monotonic_usec() -> u128 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    u128::try_from(now.tv_sec).unwrap_or(0) * 1_000_000
        + u128::try_from(now.tv_nsec).unwrap_or(0) / 1_000
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn receive(socket: &UnixDatagram) -> String {
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut bytes = [0u8; 512];
        let n = socket.recv(&mut bytes).expect("a datagram within 5 s");
        String::from_utf8(bytes[..n].to_vec()).unwrap()
    }

    #[test]
    fn a_state_reaches_a_socket_named_by_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let manager = UnixDatagram::bind(&path).unwrap();
        let notifier = Notifier::to(path.to_str().unwrap()).unwrap();
        notifier.notify("READY=1");
        assert_eq!(receive(&manager), "READY=1");
        notifier.notify("MAINPID=42\nREADY=1");
        assert_eq!(receive(&manager), "MAINPID=42\nREADY=1");
    }

    #[test]
    fn a_state_reaches_a_socket_in_the_abstract_namespace() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("httpserver-notify-test-{}", std::process::id());
        let address = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let manager = UnixDatagram::bind_addr(&address).unwrap();
        let notifier = Notifier::to(&format!("@{name}")).unwrap();
        notifier.reloading();
        let state = receive(&manager);
        let usec = state
            .strip_prefix("RELOADING=1\nMONOTONIC_USEC=")
            .unwrap_or_else(|| panic!("{state:?}"));
        assert!(usec.parse::<u128>().unwrap() > 0, "{state:?}");
    }

    #[test]
    fn without_a_manager_nothing_is_sent_and_bad_names_are_refused() {
        let notifier = Notifier::default();
        assert!(!notifier.is_enabled());
        notifier.notify("READY=1");
        assert!(Notifier::to("relative/path").is_err());
        assert!(Notifier::to("/a/path").unwrap().is_enabled());
    }
}
