//! What the process tells others about its life, and what SIGUSR2 does
//! (issue 17): the pid file, systemd's notifications, the readiness report
//! to the process that started this one in an upgrade, and the upgrade
//! this process can start. [`Server::run_until_signal`](super::Server)
//! calls each step at its moment; a server built without one (tests, the
//! library) has a lifecycle that does nothing.

use super::notify::Notifier;
use super::pid_file::{remove_pid_file_if_ours, write_pid_file};
use super::upgrade::{report_ready, Upgrade, UpgradeError};
use std::io;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// See the module documentation.
#[derive(Debug, Default)]
pub struct Lifecycle {
    /// Where `READY=1` and the rest go (nowhere without `NOTIFY_SOCKET`).
    pub notifier: Notifier,
    /// `--pid-file`.
    pub pid_file: Option<PathBuf>,
    /// In the successor of an upgrade: the pipe to report readiness on.
    pub ready_pipe: Option<OwnedFd>,
    /// What SIGUSR2 starts; without it SIGUSR2 is logged and ignored.
    pub upgrade: Option<Arc<Upgrade>>,
    /// `--upgrade-timeout`.
    pub upgrade_timeout: Duration,
}

impl Lifecycle {
    /// The workers serve: write the pid file, then tell whoever waits. A
    /// successor tells its predecessor, which tells systemd (with the new
    /// `MAINPID`) once it has stopped accepting in its favour.
    pub fn serving(&mut self) -> io::Result<()> {
        if let Some(path) = &self.pid_file {
            write_pid_file(path, std::process::id()).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot write --pid-file {}: {e}", path.display()),
                )
            })?;
        }
        match self.ready_pipe.take() {
            Some(pipe) => report_ready(pipe),
            None => {
                self.notifier.notify("READY=1");
                Ok(())
            }
        }
    }

    /// An upgrade starts (SIGUSR2).
    pub fn upgrading(&self) {
        self.notifier.reloading();
    }

    /// The successor `pid` serves; this process stops accepting and
    /// drains, and is no longer the service's main process.
    pub fn handed_over(&self, pid: u32) {
        self.notifier.notify(&format!("MAINPID={pid}\nREADY=1"));
    }

    /// The upgrade failed; this process serves on, as before.
    pub fn upgrade_failed(&self, why: &UpgradeError) {
        let status = why.to_string().replace('\n', " ");
        self.notifier
            .notify(&format!("READY=1\nSTATUS=upgrade failed: {status}"));
    }

    /// A stop signal: draining starts.
    pub fn stopping(&self) {
        self.notifier.notify("STOPPING=1");
    }

    /// Stopped (not handed over): the pid file goes, if it names us.
    pub fn stopped(&self) {
        if let Some(path) = &self.pid_file {
            if let Err(e) = remove_pid_file_if_ours(path, std::process::id()) {
                crate::diag::warn(format_args!(
                    "cannot remove --pid-file {}: {e}",
                    path.display()
                ));
            }
        }
    }
}
