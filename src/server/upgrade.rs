//! Upgrade in place (SIGUSR2): start the executable now on disk with the
//! same arguments and environment (so it reads the configuration anew) and
//! the listening sockets, wait until it reports that it serves, and only
//! then let the old process stop accepting and drain.
//!
//! "The executable now on disk" is the path the process was started by,
//! made absolute at start ([`executable_at_start`]): after a package
//! manager replaces the file (or a symlink is pointed at a new release),
//! that path names the new program, while `/proc/self/exe` still names the
//! old inode.
//!
//! The successor is told about the sockets by [`HANDOVER_VARIABLE`]
//! (`server::inherited`), not by `LISTEN_PID`, which would have to name
//! the child's pid before it exists. The sockets and the write end of a
//! readiness pipe are duplicated without close-on-exec just for the spawn
//! (`dup` never copies the flag) and closed again in this process at once;
//! every other descriptor of the process is close-on-exec, so nothing else
//! leaks into the successor. It writes one byte on the pipe once its
//! workers accept ([`report_ready`]); end of file first means it exited.

use super::inherited::{handover_value, SocketName, HANDOVER_VARIABLE};
use rustix::event::{poll, PollFd, PollFlags, Timespec};
use std::ffi::OsString;
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// The byte a successor writes on the readiness pipe once it serves.
const READY: u8 = b'R';

/// How long a successor that exited, or is being killed, gets to be reaped
/// (it is normally instant).
const REAP_WITHIN: Duration = Duration::from_secs(5);

/// The path this process was started by, as the file to start on an
/// upgrade: `argv[0]` made absolute against the working directory (symlinks
/// kept, so that a link repointed at a new release is followed), or found
/// on `PATH` as the shell found it; `current_exe` if neither works. Call it
/// at start, before anything changes the working directory.
pub fn executable_at_start() -> PathBuf {
    let argv0 = std::env::args_os().next().map(PathBuf::from);
    let path_variable = std::env::var_os("PATH");
    argv0
        .and_then(|argv0| resolve_executable(&argv0, path_variable.as_deref()))
        .or_else(|| std::env::current_exe().ok())
        .unwrap_or_else(|| PathBuf::from("/proc/self/exe"))
}

/// `argv0` as an absolute path: relative to the working directory when it
/// has a slash, else the first executable file of that name on `path`.
fn resolve_executable(argv0: &Path, path: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    if argv0.as_os_str().is_empty() {
        return None;
    }
    if argv0.components().count() > 1 || argv0.is_absolute() {
        return std::path::absolute(argv0).ok();
    }
    std::env::split_paths(path?)
        .map(|directory| directory.join(argv0))
        .find(|candidate| is_executable_file(candidate))
        .and_then(|found| std::path::absolute(found).ok())
}

fn is_executable_file(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// What an upgrade starts and hands over.
#[derive(Debug)]
pub struct Upgrade {
    executable: PathBuf,
    /// `argv`, the first being the name the program is started under.
    args: Vec<OsString>,
    /// The listening sockets by name (this process's own copies,
    /// close-on-exec).
    sockets: Vec<(SocketName, OwnedFd)>,
}

/// Why an upgrade did not happen; the old process keeps serving.
#[derive(Debug)]
pub enum UpgradeError {
    /// The executable could not be started (missing, not executable).
    Spawn(PathBuf, io::Error),
    /// It exited before reporting ready (a broken configuration: its own
    /// stderr line says why).
    Exited(ExitStatus),
    /// It did not report ready within the bound; it was killed.
    NotReady(Duration),
    /// The process is stopping (a stop signal came first); it was killed.
    Cancelled,
    /// The pipe or the sockets could not be set up.
    Io(io::Error),
}

impl fmt::Display for UpgradeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpgradeError::Spawn(path, e) => write!(f, "cannot start {}: {e}", path.display()),
            UpgradeError::Exited(status) => match (status.code(), status.signal()) {
                (Some(code), _) => write!(
                    f,
                    "the new process exited with status {code} before it was ready"
                ),
                (_, Some(signal)) => write!(
                    f,
                    "the new process was killed by signal {signal} before it was ready"
                ),
                _ => write!(f, "the new process ended before it was ready"),
            },
            UpgradeError::NotReady(within) => write!(
                f,
                "the new process was not ready within {} s (--upgrade-timeout); killed it",
                within.as_secs_f64()
            ),
            UpgradeError::Cancelled => {
                write!(
                    f,
                    "a stop signal came before the new process was ready; killed it"
                )
            }
            UpgradeError::Io(e) => write!(f, "cannot prepare the handover: {e}"),
        }
    }
}

impl std::error::Error for UpgradeError {}

/// A successor that reported ready: serving, and from now on the process
/// that systemd and the pid file know.
#[derive(Debug)]
pub struct Successor {
    child: Child,
}

impl Successor {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kill and reap it: the handover was abandoned after it was ready (a
    /// stop signal came first).
    pub fn abandon(mut self) {
        kill_group(&mut self.child);
        let _ = self.child.wait();
    }
}

impl Upgrade {
    /// Start `executable` with `args` (`argv`, program name first).
    pub fn new(executable: PathBuf, args: Vec<OsString>) -> Upgrade {
        Upgrade {
            executable,
            args,
            sockets: Vec::new(),
        }
    }

    /// Hand over `socket` as `name` too.
    pub fn add_socket(&mut self, name: SocketName, socket: BorrowedFd<'_>) -> io::Result<()> {
        self.sockets.push((name, socket.try_clone_to_owned()?));
        Ok(())
    }

    /// The executable an upgrade starts.
    pub fn executable(&self) -> &Path {
        &self.executable
    }

    /// Start the successor and wait, at most `within`, for it to report
    /// that it serves. On any failure it has been reaped (killed first if
    /// need be) and this process is as it was.
    pub fn start_successor(&self, within: Duration) -> Result<Successor, UpgradeError> {
        self.spawn_successor()?.await_ready(within, None)
    }

    /// Start the successor, not waiting for it: what needs this process's
    /// copies of the sockets, so that whoever holds the [`Upgrade`] may
    /// let them go while the successor starts.
    pub fn spawn_successor(&self) -> Result<Starting, UpgradeError> {
        let (ready_read, ready_write) =
            rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(io_error)?;
        let child = {
            // Copies without close-on-exec, alive only until the spawn.
            let inherited_write = rustix::io::dup(&ready_write).map_err(io_error)?;
            let mut inherited = Vec::with_capacity(self.sockets.len());
            for (name, socket) in &self.sockets {
                inherited.push((*name, rustix::io::dup(socket).map_err(io_error)?));
            }
            let numbers: Vec<_> = inherited
                .iter()
                .map(|(name, fd)| (*name, fd.as_raw_fd()))
                .collect();
            let mut command = Command::new(&self.executable);
            if let Some((program, rest)) = self.args.split_first() {
                command.arg0(program).args(rest);
            }
            command
                .env(
                    HANDOVER_VARIABLE,
                    handover_value(std::process::id(), inherited_write.as_raw_fd(), &numbers),
                )
                .env_remove("LISTEN_PID")
                .env_remove("LISTEN_FDS")
                .env_remove("LISTEN_FDNAMES")
                // Its own process group, whose id is its pid: a successor
                // that is a wrapper (a script that starts the server, or
                // anything else) may start processes that inherit the
                // sockets, and a failed attempt kills the whole group, so
                // none is left holding them.
                .process_group(0);
            command
                .spawn()
                .map_err(|e| UpgradeError::Spawn(self.executable.clone(), e))?
        };
        // Only the successor holds the write end now: its exit is EOF here.
        drop(ready_write);
        Ok(Starting { child, ready_read })
    }
}

/// A successor started and not yet ready.
#[derive(Debug)]
pub struct Starting {
    child: Child,
    ready_read: OwnedFd,
}

impl Starting {
    /// Wait, at most `within`, for it to report that it serves, or until
    /// `cancel` (the read end of a pipe) sees its write end closed: the
    /// process is stopping, and a successor it would leave behind would
    /// hold the sockets with nobody serving them. On any failure it has
    /// been reaped (killed first if need be).
    pub fn await_ready(
        self,
        within: Duration,
        cancel: Option<BorrowedFd<'_>>,
    ) -> Result<Successor, UpgradeError> {
        let Starting { child, ready_read } = self;
        match wait_ready(ready_read.as_fd(), cancel, within) {
            Ok(true) => Ok(Successor { child }),
            // It exited (or closed the pipe): what it started must not
            // outlive it with the sockets.
            Ok(false) => {
                let mut child = child;
                await_exit_unreaped(&child);
                kill_group(&mut child);
                Err(UpgradeError::Exited(reap(child, false)))
            }
            Err(Waited::TimedOut) => {
                reap(child, true);
                Err(UpgradeError::NotReady(within))
            }
            Err(Waited::Cancelled) => {
                reap(child, true);
                Err(UpgradeError::Cancelled)
            }
            Err(Waited::Failed(e)) => {
                reap(child, true);
                Err(UpgradeError::Io(e))
            }
        }
    }
}

enum Waited {
    TimedOut,
    Cancelled,
    Failed(io::Error),
}

/// Wait for the readiness byte: `Ok(true)` it came, `Ok(false)` end of
/// file (the successor exited, or closed the pipe without reporting).
fn wait_ready(
    pipe: BorrowedFd<'_>,
    cancel: Option<BorrowedFd<'_>>,
    within: Duration,
) -> Result<bool, Waited> {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Waited::TimedOut);
        }
        let timeout = Timespec::try_from(left).map_err(|_| Waited::TimedOut)?;
        let mut fds = vec![PollFd::new(&pipe, PollFlags::IN)];
        if let Some(cancel) = &cancel {
            fds.push(PollFd::new(cancel, PollFlags::IN));
        }
        match poll(&mut fds, Some(&timeout)) {
            Ok(0) => continue,
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(Waited::Failed(e.into())),
        }
        // Any event on the cancel pipe (its write end closed) cancels.
        if fds.get(1).is_some_and(|fd| !fd.revents().is_empty()) {
            return Err(Waited::Cancelled);
        }
        let mut byte = [0u8; 1];
        return match rustix::io::read(pipe, &mut byte) {
            Ok(0) => Ok(false),
            Ok(_) => Ok(byte[0] == READY),
            Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => continue,
            Err(e) => Err(Waited::Failed(e.into())),
        };
    }
}

/// Reap `child` (killing its process group first if `kill`), waiting at
/// most [`REAP_WITHIN`] before killing it anyway.
fn reap(mut child: Child, kill: bool) -> ExitStatus {
    if kill {
        kill_group(&mut child);
    }
    let deadline = Instant::now() + REAP_WITHIN;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                return child.wait().unwrap_or_else(|_| ExitStatus::from_raw(0));
            }
        }
    }
}

/// Wait, at most [`REAP_WITHIN`], for `child` to exit, leaving it a zombie
/// (`WNOWAIT`): its pid, the group's id, stays reserved, so the group can
/// still be killed safely after.
fn await_exit_unreaped(child: &Child) {
    use rustix::process::{waitid, WaitId, WaitIdOptions};
    let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) else {
        return;
    };
    let deadline = Instant::now() + REAP_WITHIN;
    let options = WaitIdOptions::EXITED | WaitIdOptions::NOWAIT | WaitIdOptions::NOHANG;
    while Instant::now() < deadline {
        match waitid(WaitId::Pid(pid), options) {
            Ok(None) | Err(rustix::io::Errno::INTR) => {
                std::thread::sleep(Duration::from_millis(10))
            }
            _ => return,
        }
    }
}

/// SIGKILL the successor's process group (its id is the successor's pid,
/// see `spawn_successor`), and the successor itself in case it left the
/// group. Called before it is reaped: until then its pid, and so the
/// group's id, cannot be reused.
fn kill_group(child: &mut Child) {
    if let Some(group) = rustix::process::Pid::from_raw(child.id() as i32) {
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
    let _ = child.kill();
}

/// Tell the process that started this one that it serves: one byte on the
/// readiness pipe, which is then closed.
pub fn report_ready(pipe: OwnedFd) -> io::Result<()> {
    rustix::io::write(&pipe, &[READY])?;
    Ok(())
}

fn io_error(e: rustix::io::Errno) -> UpgradeError {
    UpgradeError::Io(e.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv0_is_made_absolute_without_resolving_symlinks() {
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            resolve_executable(Path::new("./bin/httpserver"), None),
            Some(cwd.join("bin/httpserver"))
        );
        assert_eq!(
            resolve_executable(Path::new("/usr/local/bin/httpserver"), None),
            Some(PathBuf::from("/usr/local/bin/httpserver"))
        );
        assert_eq!(resolve_executable(Path::new(""), None), None);
    }

    #[test]
    fn a_bare_name_is_found_on_path_as_the_shell_finds_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (first, second) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir(&first).unwrap();
        std::fs::create_dir(&second).unwrap();
        // Not executable in the first directory: skipped.
        std::fs::write(first.join("httpserver"), "").unwrap();
        std::fs::write(second.join("httpserver"), "").unwrap();
        std::fs::set_permissions(
            second.join("httpserver"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        let path = std::env::join_paths([&first, &second]).unwrap();
        assert_eq!(
            resolve_executable(Path::new("httpserver"), Some(&path)),
            Some(second.join("httpserver"))
        );
        assert_eq!(resolve_executable(Path::new("absent"), Some(&path)), None);
        assert_eq!(resolve_executable(Path::new("httpserver"), None), None);
    }

    /// One spawn at a time: a spawn in another test thread would inherit
    /// the descriptors duplicated for this one, and hold its pipe open.
    static SPAWNING: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn upgrade_running(script: &str) -> Upgrade {
        Upgrade::new(
            PathBuf::from("/bin/sh"),
            vec!["sh".into(), "-c".into(), script.into()],
        )
    }

    #[test]
    fn a_successor_that_writes_the_byte_is_ready() {
        let _one = SPAWNING.lock().unwrap_or_else(|e| e.into_inner());
        // The readiness pipe is the descriptor the variable names.
        let script = format!("set -- ${HANDOVER_VARIABLE}; printf R >&\"$2\"; exec sleep 30");
        let successor = upgrade_running(&script)
            .start_successor(Duration::from_secs(10))
            .expect("ready");
        successor.abandon();
    }

    #[test]
    fn a_successor_that_exits_first_is_reported_with_its_status() {
        let _one = SPAWNING.lock().unwrap_or_else(|e| e.into_inner());
        let failed = upgrade_running("exit 2").start_successor(Duration::from_secs(10));
        match failed {
            Err(UpgradeError::Exited(status)) => assert_eq!(status.code(), Some(2)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_successor_that_never_reports_is_killed_at_the_bound() {
        let _one = SPAWNING.lock().unwrap_or_else(|e| e.into_inner());
        let failed = upgrade_running("exec sleep 30").start_successor(Duration::from_millis(200));
        assert!(
            matches!(failed, Err(UpgradeError::NotReady(_))),
            "{failed:?}"
        );
    }

    #[test]
    fn closing_the_cancel_pipe_kills_a_successor_not_yet_ready() {
        let _one = SPAWNING.lock().unwrap_or_else(|e| e.into_inner());
        let (cancel_read, cancel_write) =
            rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
        let starting = upgrade_running("exec sleep 30").spawn_successor().unwrap();
        let pid = starting.child.id();
        drop(cancel_write);
        let started = Instant::now();
        let failed = starting.await_ready(Duration::from_secs(30), Some(cancel_read.as_fd()));
        assert!(matches!(failed, Err(UpgradeError::Cancelled)), "{failed:?}");
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "not the timeout"
        );
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "killed and reaped"
        );
    }

    #[test]
    fn a_missing_executable_is_a_spawn_error() {
        let _one = SPAWNING.lock().unwrap_or_else(|e| e.into_inner());
        let upgrade = Upgrade::new(PathBuf::from("/nonexistent/httpserver"), vec!["x".into()]);
        let failed = upgrade.start_successor(Duration::from_secs(1));
        assert!(matches!(failed, Err(UpgradeError::Spawn(..))), "{failed:?}");
    }
}
