//! Upgrade in place on SIGUSR2 (issue 17, item 2), through the built
//! binary: the executable now at the path it was started by takes the
//! sockets, reports ready, and only then the old process drains and exits
//! 0; a successor that fails or is not ready in time leaves the old one
//! serving. Every wait is bounded.

use crate::support::binary::{Binary, BINARY};
use crate::support::{write_fixture, Client};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const GET_STYLE: &[u8] = b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n";

/// A directory with the fixture root, and `httpserver`: a symlink to the
/// built binary, which a test repoints to a new "release" (a script that
/// execs the binary with one more flag) as a package manager would.
struct Install {
    dir: tempfile::TempDir,
}

impl Install {
    fn new() -> Install {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("root")).unwrap();
        write_fixture(&dir.path().join("root"));
        std::os::unix::fs::symlink(BINARY, dir.path().join("httpserver")).unwrap();
        Install { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Point `httpserver` at a script running `body` (with "$@").
    fn release(&self, name: &str, body: &str) {
        use std::os::unix::fs::PermissionsExt;
        let script = self.path(name);
        std::fs::write(&script, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let link = self.path("httpserver.new");
        std::os::unix::fs::symlink(&script, &link).unwrap();
        std::fs::rename(&link, self.path("httpserver")).unwrap();
    }

    /// Start `httpserver` by its path in the install, with `args`.
    fn start(&self, args: &[&str], notify: Option<&Path>) -> Binary {
        let mut command = Command::new(self.path("httpserver"));
        command
            .args(["--bind", "127.0.0.1", "--port", "0", "--workers", "1"])
            .arg("--root")
            .arg(self.path("root"))
            .arg("--pid-file")
            .arg(self.path("pid"))
            .args(args)
            .env_remove("NOTIFY_SOCKET");
        if let Some(notify) = notify {
            command.env("NOTIFY_SOCKET", notify);
        }
        Binary::start_command(command)
    }

    fn pid_file(&self) -> Option<u32> {
        std::fs::read_to_string(self.path("pid"))
            .ok()
            .and_then(|text| text.trim().parse().ok())
    }

    /// Wait (15 s at most) for the pid file to name a process other than
    /// `old`.
    fn await_new_pid(&self, old: u32) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match self.pid_file() {
                Some(pid) if pid != old => return pid,
                _ if Instant::now() > deadline => panic!("the pid file still names {old}"),
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
}

/// A process that is not our child (the successor, whose parent exited):
/// SIGTERM on drop, so that a failing test leaves nothing running.
struct Successor(u32);

impl Successor {
    fn is_alive(&self) -> bool {
        // A zombie is gone for our purpose: it no longer serves.
        std::fs::read_to_string(format!("/proc/{}/stat", self.0))
            .is_ok_and(|stat| !stat.contains(") Z "))
    }

    fn signal(&self, signal: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_raw(self.0 as i32).unwrap();
        let _ = rustix::process::kill_process(pid, signal);
    }

    /// SIGTERM and wait (15 s at most) until it is gone.
    fn stop(&self) {
        self.signal(rustix::process::Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.is_alive() {
            assert!(Instant::now() < deadline, "pid {} did not stop", self.0);
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Successor {
    fn drop(&mut self) {
        if self.is_alive() {
            self.signal(rustix::process::Signal::KILL);
        }
    }
}

fn send_usr2(pid: u32) {
    let pid = rustix::process::Pid::from_raw(pid as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::USR2).unwrap();
}

/// Wait (15 s at most) until the server's stderr contains `text`.
fn await_stderr(server: &Binary, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let stderr = server.stderr_text();
        if stderr.contains(text) {
            return stderr;
        }
        assert!(Instant::now() < deadline, "no {text:?} on stderr: {stderr}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The next datagram on the fake systemd's socket (5 s at most).
fn notification(manager: &UnixDatagram) -> String {
    let mut bytes = [0u8; 512];
    let n = manager.recv(&mut bytes).expect("a notification within 5 s");
    String::from_utf8_lossy(&bytes[..n]).into_owned()
}

/// Three new connections in a row are each answered by release 2.
fn assert_new_connections_reach_release_2(addr: std::net::SocketAddr) {
    for _ in 0..3 {
        let mut fresh = Client::connect(addr);
        fresh.send(GET_STYLE);
        let answer = fresh.response();
        assert_eq!(answer.status, 200);
        assert_eq!(answer.field("X-Generation"), Some("2"), "the new release");
    }
}

#[test]
fn issue_17_upgrade_hands_over_with_connections_open() {
    let install = Install::new();
    let manager = UnixDatagram::bind(install.path("notify")).unwrap();
    manager
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut old = install.start(&["--drain-delay", "2"], Some(&install.path("notify")));
    let old_pid = old.pid();
    assert_eq!(notification(&manager), "READY=1");
    assert_eq!(install.pid_file(), Some(old_pid));
    let addr = old.addr();

    // A keep-alive connection that has been answered, and one with a
    // request in flight (its body half sent).
    let mut kept_alive = Client::connect(addr);
    kept_alive.send(GET_STYLE);
    let first = kept_alive.response();
    assert_eq!(first.field("Connection"), Some("keep-alive"));
    assert_eq!(first.field("X-Generation"), None);
    let mut in_flight = Client::connect(addr);
    in_flight.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{\"a\":");

    // The new release, as a package manager installs it, then SIGUSR2.
    install.release(
        "release-2",
        &format!("exec {BINARY} \"$@\" -H 'X-Generation: 2'"),
    );
    send_usr2(old_pid);
    let new_pid = install.await_new_pid(old_pid);
    let successor = Successor(new_pid);
    assert!(notification(&manager).starts_with("RELOADING=1\nMONOTONIC_USEC="));
    // Sent once the old process has stopped accepting: from now on every
    // new connection reaches the new release, while the old one drains.
    assert_eq!(
        notification(&manager),
        format!("MAINPID={new_pid}\nREADY=1")
    );
    assert_new_connections_reach_release_2(addr);

    // The in-flight request finishes on the old process, which closes.
    in_flight.send(b"1234}");
    let echoed = in_flight.response();
    assert_eq!(echoed.status, 200, "{}", echoed.head);
    assert_eq!(
        echoed.field("X-Generation"),
        None,
        "answered by the old process"
    );
    assert_eq!(echoed.field("Connection"), Some("close"));
    assert!(in_flight.is_closed_by_server());
    // The idle keep-alive connection's next request too, during the drain.
    kept_alive.send(GET_STYLE);
    let during = kept_alive.response();
    assert_eq!(during.status, 200);
    assert_eq!(during.field("X-Generation"), None);
    assert_eq!(during.field("Connection"), Some("close"));
    assert!(kept_alive.is_closed_by_server());

    // The old process exits 0 once drained; new connections reach the new
    // release on the same socket.
    let status = old
        .wait_exit(Duration::from_secs(15))
        .expect("the old process exits after its drain");
    assert!(status.success(), "{status}");
    let stderr = old.stderr_text();
    assert!(
        stderr.contains(&format!(
            "httpserver: upgraded: pid {new_pid} serves now; pid {old_pid} stopped accepting and drains"
        )),
        "{stderr}"
    );
    assert_new_connections_reach_release_2(addr);
    assert_eq!(install.pid_file(), Some(new_pid), "the old one left it");

    // The successor is the service now: it stops, says so, and removes the
    // pid file that names it.
    successor.stop();
    assert_eq!(notification(&manager), "STOPPING=1");
    assert_eq!(install.pid_file(), None);
}

#[test]
fn issue_17_a_broken_configuration_leaves_the_old_process_serving() {
    let install = Install::new();
    let config = install.path("httpserver.toml");
    std::fs::write(&config, "cache = \"none\"\n").unwrap();
    let config_arg = config.to_str().unwrap();
    let old = install.start(&["--config", config_arg], None);
    let old_pid = old.pid();
    let addr = old.addr();
    let mut kept_alive = Client::connect(addr);
    kept_alive.send(GET_STYLE);
    assert_eq!(kept_alive.response().status, 200);

    std::fs::write(&config, "cache = \"sometimes\"\n").unwrap();
    send_usr2(old_pid);
    let stderr = await_stderr(
        &old,
        "httpserver: upgrade failed: the new process exited with status 2 before it was ready; \
         the old process serves on",
    );
    // The successor said why itself, on the same stderr.
    assert!(stderr.contains("sometimes"), "{stderr}");
    assert_eq!(install.pid_file(), Some(old_pid));
    kept_alive.send(GET_STYLE);
    let answer = kept_alive.response();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.field("Connection"), Some("keep-alive"));
    let mut fresh = Client::connect(addr);
    fresh.send(GET_STYLE);
    assert_eq!(fresh.response().status, 200);

    // Fixed, the next SIGUSR2 upgrades, with the configuration read anew.
    std::fs::write(&config, "cache = \"60\"\n").unwrap();
    send_usr2(old_pid);
    let successor = Successor(install.await_new_pid(old_pid));
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let mut fresh = Client::connect(addr);
        fresh.send(GET_STYLE);
        let answer = fresh.response();
        if answer.field("Cache-Control") == Some("public, max-age=60") {
            break;
        }
        assert!(Instant::now() < deadline, "{}", answer.head);
        std::thread::sleep(Duration::from_millis(20));
    }
    successor.stop();
    drop(old);
}

#[test]
fn issue_17_a_successor_not_ready_in_time_is_killed_and_the_old_one_serves() {
    let install = Install::new();
    let old = install.start(&["--upgrade-timeout", "0.5"], None);
    let old_pid = old.pid();
    // A release that never reports ready: it records its pid and waits.
    let hung = install.path("hung.pid");
    install.release(
        "release-hung",
        &format!("echo $$ > {}; exec sleep 60", hung.display()),
    );
    send_usr2(old_pid);
    await_stderr(
        &old,
        "httpserver: upgrade failed: the new process was not ready within 0.5 s \
         (--upgrade-timeout); killed it; the old process serves on",
    );
    let hung_pid: u32 = std::fs::read_to_string(&hung)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let hung = Successor(hung_pid);
    assert!(!hung.is_alive(), "the hung successor was killed and reaped");
    let mut client = Client::connect(old.addr());
    client.send(GET_STYLE);
    assert_eq!(client.response().status, 200);
    assert_eq!(install.pid_file(), Some(old_pid));
    let (status, _) = old.stop();
    assert!(status.success());
    assert_eq!(install.pid_file(), None, "removed at the stop");
}

#[test]
fn issue_17_a_stop_during_an_upgrade_kills_the_successor_and_closes_the_port() {
    let install = Install::new();
    let mut old = install.start(&["--upgrade-timeout", "60"], None);
    let addr = old.addr();
    // A release that never reports ready; it holds the sockets it was
    // handed for as long as it lives.
    let hung = install.path("hung.pid");
    install.release(
        "release-hung",
        &format!("echo $$ > {}; exec sleep 60", hung.display()),
    );
    send_usr2(old.pid());
    let deadline = Instant::now() + Duration::from_secs(15);
    let hung_pid = loop {
        if let Some(pid) = std::fs::read_to_string(&hung)
            .ok()
            .and_then(|text| text.trim().parse::<u32>().ok())
        {
            break pid;
        }
        assert!(Instant::now() < deadline, "the successor did not start");
        std::thread::sleep(Duration::from_millis(20));
    };
    let hung = Successor(hung_pid);
    old.signal_terminate();
    let status = old
        .wait_exit(Duration::from_secs(15))
        .expect("the old process stops although an upgrade was pending");
    assert!(status.success(), "{status}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while hung.is_alive() {
        assert!(
            Instant::now() < deadline,
            "the pending successor outlived the stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Nobody holds the socket any more: refused, not queued.
    assert!(
        std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
        "still accepting after the stop"
    );
}

/// An upgrade serves the inherited sockets, so a changed `port`, `bind`
/// or `admin` cannot take effect: the successor says so, one line per
/// setting, instead of ignoring it silently.
#[test]
fn issue_17_an_upgrade_names_each_address_setting_it_cannot_change() {
    let install = Install::new();
    // Two free ports, distinct: both probes are open at once.
    let probes = [(); 2].map(|()| std::net::TcpListener::bind("127.0.0.1:0").unwrap());
    let [port, admin_port] = probes.each_ref().map(|p| p.local_addr().unwrap().port());
    drop(probes);
    let config = install.path("httpserver.toml");
    let write_config = |port: u16, bind: &str, admin: u16| {
        std::fs::write(
            &config,
            format!("port = {port}\nbind = \"{bind}\"\nadmin = \"127.0.0.1:{admin}\"\n"),
        )
        .unwrap();
    };
    write_config(port, "127.0.0.1", admin_port);
    let mut command = Command::new(install.path("httpserver"));
    command
        .arg("--config")
        .arg(&config)
        .args(["--workers", "1", "--root"])
        .arg(install.path("root"))
        .arg("--pid-file")
        .arg(install.path("pid"));
    let old = Binary::start_command(command);
    assert_eq!(old.port, port);
    let old_pid = old.pid();

    // Unchanged: nothing to say.
    send_usr2(old_pid);
    let second = Successor(install.await_new_pid(old_pid));
    // Changed: one line each, and the inherited sockets serve on.
    write_config(port + 1, "127.0.0.2", admin_port + 1);
    assert!(
        !old.stderr_text().contains("restart to move it"),
        "{}",
        old.stderr_text()
    );
    send_usr2(second.0);
    let third = Successor(install.await_new_pid(second.0));
    let stderr = await_stderr(&old, "admin changed");
    for line in [
        format!(
            "httpserver: upgrade: port changed to {} but the inherited http socket on \
             127.0.0.1:{port} is served; restart to move it\n",
            port + 1
        ),
        format!(
            "httpserver: upgrade: bind changed to 127.0.0.2 but the inherited http socket on \
             127.0.0.1:{port} is served; restart to move it\n"
        ),
        format!(
            "httpserver: upgrade: admin changed to 127.0.0.1:{} but the inherited admin socket \
             on 127.0.0.1:{admin_port} is served; restart to move it\n",
            admin_port + 1
        ),
    ] {
        assert_eq!(stderr.matches(&line).count(), 1, "{line}\n{stderr}");
    }
    let mut client = Client::connect(old.addr());
    client.send(GET_STYLE);
    assert_eq!(client.response().status, 200);
    third.stop();
    drop(second);
    drop(old);
}

/// A successor that is a wrapper script which started another process:
/// at the timeout the whole process group the successor was started in is
/// killed, so no grandchild is left holding the listening socket.
#[test]
fn issue_17_a_timed_out_successor_is_killed_with_the_processes_it_started() {
    let install = Install::new();
    let old = install.start(&["--upgrade-timeout", "0.5"], None);
    let old_pid = old.pid();
    let grandchild = install.path("grandchild.pid");
    install.release(
        "release-wrapper",
        &format!("sleep 60 &\necho $! > {}\nwait", grandchild.display()),
    );
    send_usr2(old_pid);
    await_stderr(
        &old,
        "(--upgrade-timeout); killed it; the old process serves on",
    );
    let grandchild_pid: u32 = std::fs::read_to_string(&grandchild)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let grandchild = Successor(grandchild_pid);
    let deadline = Instant::now() + Duration::from_secs(5);
    while grandchild.is_alive() {
        assert!(
            Instant::now() < deadline,
            "the wrapper's sleep outlived the failed upgrade"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut client = Client::connect(old.addr());
    client.send(GET_STYLE);
    assert_eq!(client.response().status, 200);
    let (status, _) = old.stop();
    assert!(status.success());
}

/// After an upgrade the clear-text warning still judges the socket served
/// (inherited on 0.0.0.0), not the new configuration's bind (loopback).
#[test]
fn issue_17_after_an_upgrade_the_cleartext_warning_judges_the_inherited_socket() {
    let install = Install::new();
    let htpasswd = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/htpasswd");
    let config = install.path("httpserver.toml");
    std::fs::write(&config, "bind = \"0.0.0.0\"\n").unwrap();
    let mut command = Command::new(install.path("httpserver"));
    command
        .arg("--config")
        .arg(&config)
        .args([
            "--port",
            "0",
            "--workers",
            "1",
            "--auth",
            htpasswd,
            "--root",
        ])
        .arg(install.path("root"))
        .arg("--pid-file")
        .arg(install.path("pid"));
    let old = Binary::start_command(command);
    let old_pid = old.pid();
    std::fs::write(&config, "bind = \"127.0.0.1\"\n").unwrap();
    send_usr2(old_pid);
    let successor = Successor(install.await_new_pid(old_pid));
    let stderr = await_stderr(&old, "bind changed to 127.0.0.1");
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut stderr = stderr;
    while stderr.matches("--auth on plain HTTP at 0.0.0.0").count() < 2 {
        assert!(Instant::now() < deadline, "{stderr}");
        std::thread::sleep(Duration::from_millis(20));
        stderr = old.stderr_text();
    }
    successor.stop();
    drop(old);
}
