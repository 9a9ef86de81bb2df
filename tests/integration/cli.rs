//! The built binary, run as a user would.

use crate::support::binary::Binary;
use crate::support::{write_fixture, Client};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub(crate) const BINARY: &str = env!("CARGO_BIN_EXE_httpserver");

/// A running binary whose stdout lines arrive on a channel.
pub(crate) struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Running {
    pub(crate) fn start(args: &[&str]) -> Running {
        let mut child = Command::new(BINARY)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        Running { child, lines }
    }

    pub(crate) fn next_line(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(10))
            .expect("a line on stdout within 10 s")
    }

    /// Every stdout line still to come, once the process has exited (and
    /// so flushed its access log).
    pub(crate) fn lines_after_exit(&self) -> Vec<String> {
        let mut lines = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(10)) {
            lines.push(line);
        }
        lines
    }

    pub(crate) fn port(&self) -> u16 {
        let first = self.next_line();
        let port = first
            .strip_prefix("Server listening on :")
            .unwrap_or_else(|| panic!("first line {first:?}"));
        port.parse().unwrap()
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
        self.await_exit()
    }

    /// Wait (5 s at most) for the process to exit by itself. A second
    /// SIGTERM would not do: it means "exit now", non-zero (issue 13).
    fn await_exit(&mut self) -> std::process::ExitStatus {
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("the server did not exit within 5 s of SIGTERM");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run the binary to completion (it must exit by itself) and return its
/// exit code and stderr.
pub(crate) fn run_to_exit(args: &[&str]) -> (i32, String) {
    let mut child = Command::new(BINARY)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
            return (status.code().unwrap_or(-1), stderr);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("httpserver {args:?} did not exit within 5 s");
}

/// The binary on 127.0.0.1, a free port, and a fresh fixture root (kept
/// alive by the returned directory).
fn start_on_a_fixture_root() -> (tempfile::TempDir, Running) {
    let root = tempfile::tempdir().unwrap();
    write_fixture(root.path());
    let server = Running::start(&[
        "--bind",
        "127.0.0.1",
        "--port",
        "0",
        "--root",
        root.path().to_str().unwrap(),
    ]);
    (root, server)
}

#[test]
fn binary_prints_the_listening_line_and_one_log_line_per_request() {
    let (_root, mut server) = start_on_a_fixture_root();
    let port = server.port();
    assert!(server.next_line().starts_with("Cache policy: "));
    let mut client = Client::connect(([127, 0, 0, 1], port).into());
    client.send(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(client.response().status, 200);
    let line = server.next_line();
    // [2025-01-10 14:32:01] 127.0.0.1:52341 - GET /index.html - 200 - 2ms
    let (time, rest) = line.split_once("] ").unwrap();
    assert_eq!(time.len(), 20, "{line}");
    assert!(time.starts_with('['));
    let parts: Vec<&str> = rest.split(" - ").collect();
    assert_eq!(parts.len(), 4, "{line}");
    assert!(parts[0].starts_with("127.0.0.1:"));
    assert_eq!(parts[1], "GET /index.html");
    assert_eq!(parts[2], "200");
    assert!(
        parts[3].strip_suffix("ms").unwrap().parse::<u64>().is_ok(),
        "{line}"
    );
    drop(client);
    assert!(server.terminate().success());
    assert_eq!(
        server.lines_after_exit(),
        Vec::<String>::new(),
        "one log line per request"
    );
}

#[test]
fn sigterm_finishes_the_in_flight_request_and_exits_zero() {
    let (_root, mut server) = start_on_a_fixture_root();
    let port = server.port();
    let mut client = Client::connect(([127, 0, 0, 1], port).into());
    client.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n");
    std::thread::sleep(Duration::from_millis(200));
    let pid = rustix::process::Pid::from_raw(server.child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    client.send(b"{}");
    let response = client.response();
    assert_eq!(response.text(), r#"{"received": {}}"#);
    assert_eq!(response.field("Connection"), Some("close"));
    assert!(server.await_exit().success());
}

/// A port in use is not a configuration mistake (exit 2): the
/// configuration is valid, `--check-config` (which binds nothing) says so,
/// and serving fails as the running system does, exit 1.
#[test]
fn port_in_use_is_a_runtime_failure_exit_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let root = tempfile::tempdir().unwrap();
    let mut args = vec![
        "--bind",
        "127.0.0.1",
        "--port",
        &port,
        "--root",
        root.path().to_str().unwrap(),
    ];
    let (code, stderr) = run_to_exit(&args);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        stderr,
        format!("httpserver: cannot listen on 127.0.0.1:{port}: address in use\n")
    );
    args.push("--check-config");
    let (code, stderr) = run_to_exit(&args);
    assert_eq!((code, stderr.as_str()), (0, ""));
}

#[test]
fn missing_root_is_one_line_on_stderr_and_a_failure_exit() {
    let (code, stderr) = run_to_exit(&["--port", "0", "--root", "/definitely/not/here"]);
    assert_ne!(code, 0);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");
}

#[test]
fn root_that_is_a_file_is_rejected() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let (code, stderr) = run_to_exit(&["--port", "0", "--root", file.path().to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(stderr.contains("not a directory"), "{stderr}");
}

#[test]
fn unknown_flag_and_bad_value_are_usage_errors() {
    for args in [
        &["--frobnicate"][..],
        &["--port", "eighty"][..],
        &["--idle-timeout", "-1"][..],
        &["--defer-accept", "0.5"][..],
        // Values clap takes but the configuration refuses (issue 17).
        &["--upgrade-timeout", "0"][..],
        &["--header-timeout", "0"][..],
        &["--compress", "yes"][..],
        &["--etag", "hash"][..],
        &[
            "--compress-min-bytes",
            "2000",
            "--compress-max-bytes",
            "1000",
        ][..],
    ] {
        let (code, stderr) = run_to_exit(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }
}

#[test]
fn help_lists_every_flag_with_its_default() {
    let output = Command::new(BINARY).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--port",
        "--root",
        "--bind",
        "--workers",
        "--max-connections",
        "--max-request-line",
        "--max-header-bytes",
        "--max-headers",
        "--max-body-bytes",
        "--header-timeout",
        "--idle-timeout",
        "--body-timeout",
        "--write-timeout",
        "--shutdown-grace",
        "--defer-accept",
        "--listing",
        "--auth",
        "--auth-path",
        "--auth-realm",
        "--compress",
        "--compress-min-bytes",
        "--compress-max-bytes",
        "--compress-cache-bytes",
        "--etag",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
    assert!(help.contains("[default: 8080]"));
    assert!(help.contains("[default: ./public]"));
}

/// `sh -c 'ulimit -n LIMIT; exec httpserver ...'`: the server under a soft
/// and hard open-file limit of `limit`.
fn start_under_open_file_limit(limit: u64, args: &[&str]) -> Binary {
    let script = format!("ulimit -n {limit} && exec \"$0\" \"$@\"");
    Binary::start_wrapped(&["sh", "-c", &script], args)
}

/// The first line the server wrote on stderr (with its newline), waiting
/// at most 5 s for it: stderr is collected by a thread of its own.
fn first_stderr_line(server: &Binary) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let stderr = server.stderr_text();
        if let Some(end) = stderr.find('\n') {
            return stderr[..=end].to_owned();
        }
        if std::time::Instant::now() > deadline {
            return stderr;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Issue 11: a connection cap lowered to fit the open-file limit is said on
/// stderr at start (asked, in force, and why), and every connection in
/// force can be open at once and served: a connection needs one descriptor,
/// its socket; files are opened only while sent, from a fixed reserve.
#[test]
fn issue11_a_lowered_connection_cap_is_said_at_start_and_holds() {
    let root = tempfile::tempdir().unwrap();
    write_fixture(root.path());
    let root_arg = root.path().to_str().unwrap();
    let server = start_under_open_file_limit(
        400,
        &[
            "--root",
            root_arg,
            "--max-connections",
            "1000",
            "--idle-timeout",
            "60",
        ],
    );
    assert_eq!(
        first_stderr_line(&server),
        "httpserver: --max-connections lowered: asked 1000, in force 300, because the \
         open-file limit is 400 (hard limit 400) and each connection needs 1 descriptor, \
         with 100 more kept for files being sent, the listener and the log\n"
    );
    // All 300 open together, each served, and each served again.
    let mut clients: Vec<Client> = (0..300)
        .map(|_| {
            let mut client = Client::connect(server.addr());
            client.send(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
            assert_eq!(client.response().status, 200);
            client
        })
        .collect();
    for client in &mut clients {
        client.send(b"GET /data.bin HTTP/1.1\r\nHost: x\r\n\r\n");
        let response = client.response();
        assert_eq!(response.status, 200);
        assert_eq!(response.body.len(), 100_000);
    }
    drop(clients);
    let (status, stderr) = server.stop();
    assert!(status.success(), "exit status {status}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// Issue 11: a cap that fits says nothing.
#[test]
fn issue11_a_cap_that_fits_the_open_file_limit_is_not_mentioned() {
    let root = tempfile::tempdir().unwrap();
    write_fixture(root.path());
    let server = start_under_open_file_limit(
        400,
        &[
            "--root",
            root.path().to_str().unwrap(),
            "--max-connections",
            "300",
        ],
    );
    let mut client = Client::connect(server.addr());
    client.send(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(client.response().status, 200);
    drop(client);
    let (status, stderr) = server.stop();
    assert!(status.success(), "exit status {status}");
    assert_eq!(stderr, "");
}

/// Issue 11: with one descriptor per connection, files being sent come out
/// of a fixed reserve. When that runs out (here: every connection asks for
/// a large file it does not read, under a tiny limit), a request whose file
/// cannot be opened is answered at once instead of waiting, and once the
/// files are closed the server accepts and serves again.
#[test]
fn issue11_out_of_descriptors_a_file_request_is_answered_not_left_waiting() {
    const CLIENTS: usize = 40;
    let root = tempfile::tempdir().unwrap();
    write_fixture(root.path());
    // Sparse: no disk blocks, and far more than the socket buffers hold.
    let big = std::fs::File::create(root.path().join("big.bin")).unwrap();
    big.set_len(256 << 20).unwrap();
    drop(big);
    let server = start_under_open_file_limit(
        64,
        &[
            "--root",
            root.path().to_str().unwrap(),
            "--workers",
            "1",
            "--idle-timeout",
            "60",
            "--write-timeout",
            "60",
        ],
    );
    assert!(
        first_stderr_line(&server).contains("in force 48,"),
        "{}",
        server.stderr_text()
    );
    let mut clients: Vec<Client> = (0..CLIENTS)
        .map(|_| {
            let mut client = Client::connect(server.addr());
            client.send(b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
            assert_eq!(client.response().status, 200);
            client
        })
        .collect();
    let mut statuses = Vec::new();
    for client in &mut clients {
        client.send(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
        // The head only: a 200's body stays unread, holding its file open.
        statuses.push(client.head_response().status);
    }
    // A file that cannot be opened for want of descriptors is a 503: the
    // client may retry once other responses have closed their files.
    assert!(
        statuses
            .iter()
            .all(|&status| status == 200 || status == 503),
        "{statuses:?}"
    );
    assert!(statuses.contains(&200), "{statuses:?}");
    assert!(statuses.iter().any(|&status| status != 200), "{statuses:?}");
    drop(clients);
    let mut client = Client::connect(server.addr());
    client.send(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(client.response().status, 200);
    drop(client);
    let (status, _) = server.stop();
    assert!(status.success(), "exit status {status}");
}
