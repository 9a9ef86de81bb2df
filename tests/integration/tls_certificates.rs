//! Issue 15.2: certificates that change. Checked at start (exit 2 with one
//! line), reloaded on SIGHUP and when their files change, a failed reload
//! keeping the certificate in service; connections open across a reload
//! are not disturbed.

use crate::cli::run_to_exit;
use crate::support::binary::Binary;
use crate::support::tls::{
    connect, default_client_config, fresh_client_config, server_leaf, try_connect, TestCa,
};
use crate::support::write_fixture;
use std::time::{Duration, Instant};

fn send_hangup(server: &Binary) {
    let pid = rustix::process::Pid::from_raw(server.pid() as i32).expect("a positive PID");
    rustix::process::kill_process(pid, rustix::process::Signal::HUP).expect("send SIGHUP");
}

/// Connect until the server shows `expected` (a reload is asynchronous to
/// the signal), for at most 5 s; whether it did.
fn shows_within(server: &Binary, expected: &rustls::pki_types::CertificateDer<'_>) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    // A resumed session would show the certificate of the session it
    // resumes: every handshake here is full.
    let config = fresh_client_config();
    while Instant::now() < deadline {
        let stream = try_connect(server.addr(), "localhost", &config).expect("handshake");
        if server_leaf(&stream) == *expected {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn start_tls(root: &std::path::Path, cert: &std::path::Path, key: &std::path::Path) -> Binary {
    Binary::start(&[
        "--root",
        root.to_str().unwrap(),
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
        "--access-log",
        "off",
    ])
}

#[test]
fn sighup_reloads_and_open_connections_keep_working() {
    let root = tempfile::tempdir().unwrap();
    write_fixture(root.path());
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let old = ca.issue(dir.path(), "site", &["localhost"], 30);
    let server = start_tls(root.path(), &old.cert, &old.key);
    let mut open = connect(server.addr(), "localhost", &default_client_config());
    open.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(open.response().status, 200);
    assert!(server_leaf(&open.stream) == old.der);

    // New files in place, then SIGHUP: new handshakes get the new one.
    let new = ca.issue(dir.path(), "site", &["localhost"], 60);
    send_hangup(&server);
    assert!(
        shows_within(&server, &new.der),
        "the new certificate is served"
    );
    // The connection opened before the reload still answers.
    open.send(b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(open.response().status, 200);

    // A broken file: the certificate in service stays, one line says why.
    std::fs::write(&new.cert, "not a certificate\n").unwrap();
    send_hangup(&server);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.stderr_text().contains("keeping") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let stderr = server.stderr_text();
    let complaint: Vec<&str> = stderr.lines().filter(|l| l.contains("keeping")).collect();
    assert_eq!(complaint.len(), 1, "{stderr}");
    assert!(
        complaint[0].contains(new.cert.to_str().unwrap()),
        "{stderr}"
    );
    let stream = try_connect(server.addr(), "localhost", &fresh_client_config()).unwrap();
    assert!(server_leaf(&stream) == new.der, "the old certificate stays");
    let (status, _) = server.stop();
    assert!(status.success());
}

#[test]
fn a_changed_file_is_reloaded_by_the_next_handshake_without_a_signal() {
    let root = tempfile::tempdir().unwrap();
    write_fixture(root.path());
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let old = ca.issue(dir.path(), "site", &["localhost"], 30);
    let server = start_tls(root.path(), &old.cert, &old.key);
    let stream = try_connect(server.addr(), "localhost", &default_client_config()).unwrap();
    assert!(server_leaf(&stream) == old.der);
    // Files are looked at once a second at most: a handshake more than a
    // second later sees the change.
    let new = ca.issue(dir.path(), "site", &["localhost"], 60);
    std::thread::sleep(Duration::from_millis(1100));
    assert!(
        shows_within(&server, &new.der),
        "the new certificate is served"
    );
}

#[test]
fn bad_certificates_stop_the_start_with_one_line_and_exit_2() {
    let root = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let good = ca.issue(dir.path(), "good", &["localhost"], 30);
    let other = ca.issue(dir.path(), "other", &["localhost"], 30);
    let expired = ca.issue(dir.path(), "expired", &["localhost"], -1);
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "hello\n").unwrap();
    let missing = dir.path().join("missing.crt");
    let path = |p: &std::path::Path| p.to_str().unwrap().to_owned();
    let cases = [
        (
            path(&missing),
            path(&good.key),
            path(&missing),
            "No such file",
        ),
        (
            path(&not_pem),
            path(&good.key),
            path(&not_pem),
            "no PEM certificate",
        ),
        (
            path(&good.cert),
            path(&not_pem),
            path(&not_pem),
            "no PEM private key",
        ),
        (
            path(&good.cert),
            path(&other.key),
            path(&other.key),
            "does not match",
        ),
        (
            path(&expired.cert),
            path(&expired.key),
            path(&expired.cert),
            "expired",
        ),
    ];
    for (cert, key, named, reason) in cases {
        let (code, stderr) = run_to_exit(&[
            "--bind",
            "127.0.0.1",
            "--port",
            "0",
            "--root",
            root.path().to_str().unwrap(),
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
        ]);
        assert_eq!(code, 2, "{reason}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{reason}: {stderr}");
        assert!(stderr.contains(&named), "{reason}: {stderr}");
        assert!(stderr.contains(reason), "{reason}: {stderr}");
    }
    // Unpaired flags are a usage mistake too.
    let (code, stderr) = run_to_exit(&[
        "--root",
        root.path().to_str().unwrap(),
        "--tls-cert",
        &path(&good.cert),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("pairs"), "{stderr}");
}

#[test]
fn a_certificate_near_its_end_is_served_with_a_warning() {
    let root = tempfile::tempdir().unwrap();
    write_fixture(root.path());
    let dir = tempfile::tempdir().unwrap();
    let soon = TestCa::new().issue(dir.path(), "soon", &["localhost"], 3);
    let server = start_tls(root.path(), &soon.cert, &soon.key);
    let mut client = connect(server.addr(), "localhost", &default_client_config());
    client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(client.response().status, 200);
    let (status, stderr) = server.stop();
    assert!(status.success());
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("expires in"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains(soon.cert.to_str().unwrap()),
        "{stderr}"
    );
}
