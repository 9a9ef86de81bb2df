//! Issue 14 parts 1 and 2: access-log formats and destinations, run as the
//! real binary (signals and files are what an operator sees).

use crate::support::binary::Binary;
use crate::support::{write_fixture, Client};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn send_usr1(server: &Binary) {
    let pid = rustix::process::Pid::from_raw(server.pid() as i32).expect("a positive PID");
    rustix::process::kill_process(pid, rustix::process::Signal::USR1).expect("send SIGUSR1");
}

fn lines_of(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Poll (at most 10 s) until `ready`; false if it never was.
fn await_true(mut ready: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if ready() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn start_logging_to(dir: &Path, args: &[&str]) -> (tempfile::TempDir, Binary) {
    let root = tempfile::tempdir().unwrap();
    write_fixture(root.path());
    let log = dir.join("access.log");
    let root_path = root.path().to_str().unwrap().to_owned();
    let mut all = vec!["--root", &root_path, "--access-log", log.to_str().unwrap()];
    all.extend_from_slice(args);
    let server = Binary::start(&all);
    (root, server)
}

/// logrotate's way: rename the file under load, SIGUSR1, keep going. Every
/// answered request is one line, in the old file or the new one: none lost
/// and none twice.
#[test]
fn a_renamed_log_is_reopened_on_sigusr1_without_losing_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let (_root, server) = start_logging_to(dir.path(), &["--log-format", "common"]);
    let log = dir.path().join("access.log");
    let rotated = dir.path().join("access.log.1");
    let addr = server.addr();
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut client = Client::connect(addr);
                let mut answered = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    client.send(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
                    assert_eq!(client.response().status, 200);
                    answered += 1;
                }
                answered
            })
        })
        .collect();
    assert!(
        await_true(|| lines_of(&log).len() >= 300),
        "lines before the rotation"
    );
    std::fs::rename(&log, &rotated).unwrap();
    send_usr1(&server);
    assert!(
        await_true(|| lines_of(&log).len() >= 300),
        "lines in the reopened file"
    );
    stop.store(true, Ordering::Relaxed);
    let answered: u64 = clients.into_iter().map(|c| c.join().unwrap()).sum();
    let (status, stderr) = server.stop();
    assert!(status.success(), "{stderr}");
    let (old, new) = (lines_of(&rotated), lines_of(&log));
    assert_eq!(
        (old.len() + new.len()) as u64,
        answered,
        "old {} + new {} lines",
        old.len(),
        new.len()
    );
    for line in old.iter().chain(&new) {
        assert!(
            line.starts_with("127.0.0.1 - - [")
                && line.contains("] \"GET /index.html HTTP/1.1\" 200 "),
            "{line}"
        );
    }
    assert!(stderr.contains("reopened access log"), "{stderr}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&log).unwrap().permissions().mode() & 0o777;
    // 0640, less whatever the umask takes away.
    assert_eq!(mode & !0o640, 0, "mode {mode:o}");
    assert_eq!(mode & 0o600, 0o600, "mode {mode:o}");
}

/// An existing file is appended to, never truncated.
#[test]
fn an_existing_log_file_is_appended_to() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("access.log"), "earlier line\n").unwrap();
    let (_root, server) = start_logging_to(dir.path(), &["--log-format", "json"]);
    let mut client = Client::connect(server.addr());
    client.send(b"GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n");
    assert_eq!(client.response().status, 200);
    // Rejected before its head could be parsed: still one line.
    let mut bad = Client::connect(server.addr());
    bad.send(b"\x01\x02 nonsense\r\n\r\n");
    assert_eq!(bad.response().status, 400);
    drop((client, bad));
    let (status, stderr) = server.stop();
    assert!(status.success(), "{stderr}");
    let lines = lines_of(&dir.path().join("access.log"));
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0], "earlier line");
    // The two connections' lines in either order.
    let mut objects: Vec<serde_json::Value> = lines[1..]
        .iter()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    objects.sort_by_key(|o| o["status"].as_u64());
    let [ok, rejected] = &objects[..] else {
        unreachable!()
    };
    assert_eq!(ok["target"], "/index.html");
    assert_eq!(ok["host"], "example.com");
    assert_eq!(ok["user_agent"], "t");
    assert_eq!(ok["client"], "127.0.0.1");
    assert!(ok["body_bytes"].as_u64().unwrap() > 0);
    assert_eq!(rejected["status"], 400);
    assert_eq!(rejected["method"], serde_json::Value::Null);
}

/// `--log-level warn` hides the info line about reopening.
#[test]
fn warn_hides_the_reopening_line() {
    let dir = tempfile::tempdir().unwrap();
    let (_root, server) = start_logging_to(dir.path(), &["--log-level", "warn"]);
    let log = dir.path().join("access.log");
    // Opened just after the listening line is printed.
    assert!(await_true(|| log.exists()), "opened");
    std::fs::rename(&log, dir.path().join("access.log.1")).unwrap();
    send_usr1(&server);
    // The reopened file exists once the writer has reopened it.
    assert!(await_true(|| log.exists()), "reopened");
    let mut client = Client::connect(server.addr());
    client.send(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(client.response().status, 200);
    drop(client);
    let (status, stderr) = server.stop();
    assert!(status.success(), "{stderr}");
    assert_eq!(lines_of(&log).len(), 1);
    assert!(!stderr.contains("reopened"), "{stderr}");
}

/// `--access-log off`: no line anywhere.
#[test]
fn off_writes_no_lines() {
    let root = tempfile::tempdir().unwrap();
    write_fixture(root.path());
    let server = Binary::start(&[
        "--root",
        root.path().to_str().unwrap(),
        "--access-log",
        "off",
    ]);
    let mut client = Client::connect(server.addr());
    client.send(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(client.response().status, 200);
    drop(client);
    let (status, stderr, lines) = server.stop_with_stdout();
    assert!(status.success(), "{stderr}");
    let lines: Vec<_> = lines
        .into_iter()
        .filter(|l| !l.starts_with("Cache policy: "))
        .collect();
    assert!(lines.is_empty(), "{lines:?}");
}

/// A configuration mistake, found before the port is taken: exit 2.
#[test]
fn a_log_file_that_cannot_be_opened_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing-dir/access.log");
    let output = std::process::Command::new(crate::support::binary::BINARY)
        .args(["--bind", "127.0.0.1", "--port", "0", "--root"])
        .arg(root.path())
        .arg("--access-log")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr,
        format!(
            "httpserver: --access-log: cannot open {}: No such file or directory (os error 2)\n",
            path.display()
        )
    );
}

/// The access log holds client addresses: created readable by its owner and
/// group only (0640), whatever a permissive umask would allow.
#[test]
fn a_new_log_file_is_created_with_mode_0640() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    write_fixture(root.path());
    let log = dir.path().join("access.log");
    let server = Binary::start_wrapped(
        &["sh", "-c", "umask 000 && exec \"$0\" \"$@\""],
        &[
            "--root",
            root.path().to_str().unwrap(),
            "--access-log",
            log.to_str().unwrap(),
        ],
    );
    let mut client = Client::connect(server.addr());
    client.send(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(client.response().status, 200);
    drop(client);
    let (status, stderr) = server.stop();
    assert!(status.success(), "{stderr}");
    let mode = std::fs::metadata(&log).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640, "mode {mode:o}");
    assert_eq!(lines_of(&log).len(), 1);
}

/// A new FIFO, `access.fifo` in `dir`.
fn make_fifo(dir: &Path) -> std::path::PathBuf {
    use rustix::fs::{FileType, Mode};
    let fifo = dir.join("access.fifo");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        FileType::Fifo,
        Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    fifo
}

/// The value of `httpserver_access_log_dropped_lines_total` in a scrape of
/// the admin listener at `admin`.
fn dropped_lines_scraped(admin: std::net::SocketAddr) -> u64 {
    let mut client = Client::connect(admin);
    client.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    let response = client.response();
    assert_eq!(response.status, 200);
    let text = response.text();
    text.lines()
        .find_map(|l| l.strip_prefix("httpserver_access_log_dropped_lines_total "))
        .unwrap_or_else(|| panic!("no dropped-lines counter in\n{text}"))
        .parse()
        .unwrap()
}

/// Issue 14.2: an access-log output that stops taking lines, for real (a
/// FIFO whose reader never reads: the pipe fills and the writer thread's
/// `write` blocks), costs no request an answer: past the bound lines are
/// dropped, a scrape of the admin listener counts them, and stderr says so
/// at most once a second, while the writer is still blocked; SIGTERM still
/// ends the process.
#[test]
fn issue_14_a_stalled_log_output_drops_lines_that_metrics_and_stderr_show() {
    use rustix::fs::{Mode, OFlags};
    let dir = tempfile::tempdir().unwrap();
    let fifo = make_fifo(dir.path());
    // Opened, so that the server's open for writing does not wait, and
    // never read.
    let reader = rustix::fs::open(
        &fifo,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .unwrap();
    let root = tempfile::tempdir().unwrap();
    write_fixture(root.path());
    let server = Binary::start(&[
        "--root",
        root.path().to_str().unwrap(),
        "--access-log",
        fifo.to_str().unwrap(),
        "--admin",
        "127.0.0.1:0",
    ]);
    let announced = server.next_line().expect("the admin listener's line");
    let admin = announced
        .strip_prefix("Admin listening on ")
        .unwrap_or_else(|| panic!("{announced:?}"))
        .parse()
        .unwrap();

    // Lines of about 8 KB (a long query): the pipe (64 KiB) and the
    // writer's bound (4 MiB) are full after about 530 of them.
    let request = format!(
        "GET /index.html?q={} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(8000)
    );
    let mut client = Client::connect(server.addr());
    let mut ask = |count: usize| {
        for _ in 0..count {
            client.send(request.as_bytes());
            assert_eq!(client.response().status, 200);
        }
    };
    // Until a scrape shows drops: at most 4,000 requests (32 MB of lines).
    let mut sent = 0;
    while dropped_lines_scraped(admin) == 0 {
        assert!(sent < 4000, "no line dropped after {sent} requests");
        ask(100);
        sent += 100;
    }
    let first_seen = Instant::now();
    // Keep dropping for a little over two seconds: two more reports may
    // become due, no more.
    while first_seen.elapsed() < Duration::from_millis(2300) {
        ask(20);
    }
    let warning = "httpserver: access log fell behind; ";
    let warnings = |text: &str| -> Vec<u64> {
        text.lines()
            .filter_map(|l| l.strip_prefix(warning))
            .map(|rest| {
                rest.strip_suffix(" lines dropped")
                    .unwrap_or_else(|| panic!("{rest:?}"))
                    .parse()
                    .unwrap()
            })
            .collect()
    };
    // The writer is still blocked in `write`: the warning must not wait for
    // it. A second (and some) after the last drops, every report is out.
    assert!(
        await_true(|| warnings(&server.stderr_text()).len() >= 2),
        "stderr: {}",
        server.stderr_text()
    );
    std::thread::sleep(Duration::from_millis(1200));
    let reported = warnings(&server.stderr_text());
    let elapsed = first_seen.elapsed().as_secs_f64();
    let scraped = dropped_lines_scraped(admin);
    assert!(
        reported.len() as f64 <= elapsed.ceil() + 1.0,
        "{} reports in {elapsed:.1} s: {reported:?}",
        reported.len()
    );
    assert_eq!(
        reported.iter().sum::<u64>(),
        scraped,
        "every drop is reported once, and counted: {reported:?}"
    );

    // Stopping waits for the log only so long: the output still takes
    // nothing, and the server exits anyway, saying what it left.
    let stopping = Instant::now();
    let (status, stderr) = server.stop();
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.ends_with(
            "httpserver: access log output took nothing for 5 s; \
             exiting without the lines still queued\n"
        ),
        "{stderr}"
    );
    assert!(stopping.elapsed() < Duration::from_secs(9));
    drop(reader);
}

/// `--check-config` checks an access-log FIFO without opening it: an open
/// and close would hand the FIFO's reader an end of file, and a reader such
/// as `cat` would be gone before the server opened the FIFO for real.
#[test]
fn checking_an_access_log_fifo_leaves_its_reader_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = make_fifo(dir.path());
    // `cat` opens the FIFO and waits there for a writer.
    let mut reader = std::process::Command::new("cat")
        .arg(&fifo)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(crate::support::binary::BINARY)
        .args(["--check-config", "--root"])
        .arg(root.path())
        .arg("--access-log")
        .arg(&fifo)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    std::thread::sleep(Duration::from_millis(300));
    let still_waiting = reader.try_wait().unwrap().is_none();
    let _ = reader.kill();
    let _ = reader.wait();
    assert!(still_waiting, "cat saw an end of file and left");
}
