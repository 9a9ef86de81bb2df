//! The built binary as a separate process, for what only a process shows:
//! its stderr, its exit code, its file descriptors and its memory.
//!
//! Every wait is bounded; dropping a [`Binary`] kills the child by its PID
//! and reaps it.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BINARY: &str = env!("CARGO_BIN_EXE_httpserver");

/// A running `httpserver` whose stdout lines arrive on a channel and whose
/// stderr is collected.
pub struct Binary {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Arc<Mutex<Vec<u8>>>,
    stderr_reader: Option<std::thread::JoinHandle<()>>,
    pub port: u16,
}

impl Binary {
    /// Start the binary on 127.0.0.1 with a free port, with `args` after.
    pub fn start(args: &[&str]) -> Binary {
        Binary::start_wrapped(&[], args)
    }

    /// Start `wrapper... httpserver --bind 127.0.0.1 --port 0 args...`:
    /// `wrapper` is a command that execs the rest (such as `setpriv`), so
    /// the child's PID is the server's.
    pub fn start_wrapped(wrapper: &[&str], args: &[&str]) -> Binary {
        let mut command = match wrapper.split_first() {
            Some((program, rest)) => {
                let mut command = Command::new(program);
                command.args(rest).arg(BINARY);
                command
            }
            None => Command::new(BINARY),
        };
        command
            .args(["--bind", "127.0.0.1", "--port", "0"])
            .args(args);
        Binary::start_command(command)
    }

    /// Start `command`, which runs the server (itself or through wrappers
    /// that exec it), and wait for its listening line.
    pub fn start_command(mut command: Command) -> Binary {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("spawn httpserver");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, lines) = mpsc::channel();
        // Drain stdout always: a full pipe would block the access log.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        let mut stderr_pipe = child.stderr.take().expect("stderr is piped");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&stderr);
        let stderr_reader = std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = stderr_pipe.read(&mut chunk) {
                if n == 0 {
                    return;
                }
                sink.lock().unwrap().extend_from_slice(&chunk[..n]);
            }
        });
        let mut binary = Binary {
            child,
            lines,
            stderr,
            stderr_reader: Some(stderr_reader),
            port: 0,
        };
        let first = binary.next_line().unwrap_or_else(|| {
            panic!(
                "no listening line within 10 s; stderr: {}",
                binary.stderr_text()
            )
        });
        let port = first
            .strip_prefix("Server listening on :")
            .unwrap_or_else(|| panic!("first line {first:?}"));
        binary.port = port.parse().expect("a port number");
        binary
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        ([127, 0, 0, 1], self.port).into()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The next stdout line, waiting at most 10 s.
    pub fn next_line(&self) -> Option<String> {
        self.lines.recv_timeout(Duration::from_secs(10)).ok()
    }

    /// What the server wrote on stderr so far.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// How many file descriptors the server has open.
    pub fn fd_count(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .expect("read /proc/PID/fd")
            .count()
    }

    /// What each open descriptor is (the targets of /proc/PID/fd), for
    /// failure messages.
    pub fn fd_targets(&self) -> Vec<String> {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|e| std::fs::read_link(e.path()).ok())
                    .map(|target| target.display().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The server's resident memory, in KiB (`VmRSS` of /proc/PID/status).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read /proc/PID/status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("a VmRSS line")
    }

    /// Poll (at most `within`) until the server has at most `baseline` file
    /// descriptors open; returns the last count seen.
    pub fn await_fd_count_at_most(&self, baseline: usize, within: Duration) -> usize {
        let deadline = Instant::now() + within;
        loop {
            let count = self.fd_count();
            if count <= baseline || Instant::now() > deadline {
                return count;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Send SIGTERM by PID.
    pub fn signal_terminate(&self) {
        let pid = rustix::process::Pid::from_raw(self.pid() as i32).expect("a positive PID");
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("send SIGTERM");
    }

    /// Wait at most `within` for the process to exit; `None` if it did not
    /// (it is then killed when dropped).
    pub fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // stderr is complete once the process has exited, unless a
                // process it started (an upgrade's successor) holds the
                // pipe too: then what is there after a second will do.
                let deadline = Instant::now() + Duration::from_secs(1);
                while self
                    .stderr_reader
                    .as_ref()
                    .is_some_and(|r| !r.is_finished())
                    && Instant::now() < deadline
                {
                    std::thread::sleep(Duration::from_millis(10));
                }
                if let Some(reader) = self.stderr_reader.take_if(|r| r.is_finished()) {
                    let _ = reader.join();
                }
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then wait at most 10 s: the exit status, stderr, and every
    /// stdout line not yet taken, read once the process has exited (so once
    /// it has flushed its access log): a stray extra line is caught.
    pub fn stop_with_stdout(mut self) -> (ExitStatus, String, Vec<String>) {
        self.signal_terminate();
        let status = self
            .wait_exit(Duration::from_secs(10))
            .expect("the server exits within 10 s of SIGTERM");
        let mut lines = Vec::new();
        // The reader ends at end of file, now that the process has exited.
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(10)) {
            lines.push(line);
        }
        (status, self.stderr_text(), lines)
    }

    /// SIGTERM, then wait at most 10 s: the exit status, and stderr.
    pub fn stop(mut self) -> (ExitStatus, String) {
        self.signal_terminate();
        let status = self
            .wait_exit(Duration::from_secs(10))
            .expect("the server exits within 10 s of SIGTERM");
        (status, self.stderr_text())
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        // Child::kill signals this child's PID only.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Raise this process's soft open-file limit to its hard limit and check
/// that `needed` descriptors fit, failing with a clear message otherwise.
pub fn ensure_open_file_limit(needed: u64) {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            },
        );
    }
    let soft = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX);
    assert!(
        soft >= needed,
        "this test needs {needed} file descriptors but `ulimit -n` allows {soft}; raise the hard limit"
    );
}
