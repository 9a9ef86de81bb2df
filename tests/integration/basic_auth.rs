//! Basic authentication (issue 15.4) over real loopback sockets: an
//! htpasswd file made here with the bcrypt crate, and one line made by
//! Debian's `htpasswd -B` (`tests/fixtures/htpasswd`).

use crate::cli::run_to_exit;
use crate::support::binary::{Binary, BINARY};
use crate::support::{start_server, Client, TestServer, READ_DEADLINE};
use base64::Engine;
use httpserver::service::basic_auth::{AuthOptions, PasswordFile};
use httpserver::service::static_files::hot_cache::SETTLED_AFTER;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `htpasswd -cbB htpasswd carol 'c0rrect horse'` (apache2-utils 2.4.71).
const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/htpasswd");

/// An htpasswd file with alice (cost 4, to keep tests quick) and carol
/// (the `htpasswd -B` line), in `dir`.
fn write_users(dir: &Path) -> PathBuf {
    let alice = bcrypt::hash("secret", 4).expect("cost 4");
    let carol = std::fs::read_to_string(FIXTURE).expect("the fixture");
    let path = dir.join("htpasswd");
    std::fs::write(&path, format!("alice:{alice}\n{carol}")).expect("write");
    path
}

fn basic(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

/// A server behind `--auth` (with these `--auth-path`s), with an admin
/// listener; the directory holding the password file.
fn protected_server(prefixes: &[&str]) -> (tempfile::TempDir, TestServer) {
    let dir = tempfile::tempdir().expect("temp dir");
    let users = PasswordFile::load(&write_users(dir.path())).expect("valid file");
    let prefixes: Vec<String> = prefixes.iter().map(|p| p.to_string()).collect();
    let auth = AuthOptions::new(users, &prefixes, "test realm").expect("valid");
    let server = start_server(|c| {
        c.auth = Some(auth);
        c.balancer.admin = Some("127.0.0.1:0".parse().expect("address"));
    });
    (dir, server)
}

fn get(target: &str, authorization: Option<&str>) -> Vec<u8> {
    let mut request = format!("GET {target} HTTP/1.1\r\nHost: x\r\n");
    if let Some(value) = authorization {
        request.push_str(&format!("Authorization: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.into_bytes()
}

const CHALLENGE: &str = r#"Basic realm="test realm", charset="UTF-8""#;

#[test]
fn issue_15_missing_or_wrong_credentials_get_401_on_every_method() {
    let (_dir, server) = protected_server(&[]);
    let mut client = server.connect();
    for (request, label) in [
        (get("/index.html", None), "none"),
        (
            get("/index.html", Some(&basic("alice", "wrong"))),
            "wrong password",
        ),
        (
            get("/index.html", Some(&basic("mallory", "secret"))),
            "unknown user",
        ),
        (get("/index.html", Some("Basic !!")), "malformed"),
        (get("/index.html", Some("Bearer x")), "another scheme"),
        (get("/missing", None), "a missing file"),
    ] {
        client.send(&request);
        let response = client.response();
        assert_eq!(response.status, 401, "{label}");
        assert_eq!(
            response.field("WWW-Authenticate"),
            Some(CHALLENGE),
            "{label}"
        );
        // The connection stays open: a 401 is an ordinary answer.
        assert_ne!(response.field("Connection"), Some("close"), "{label}");
    }
    client.send(b"HEAD /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
    let head = client.head_response();
    assert_eq!(head.status, 401);
    assert_eq!(head.field("WWW-Authenticate"), Some(CHALLENGE));
    for request in [
        &b"OPTIONS /index.html HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
        b"DELETE /index.html HTTP/1.1\r\nHost: x\r\n\r\n",
    ] {
        client.send(request);
        assert_eq!(client.response().status, 401);
    }
    // Good credentials, from the file made here and from htpasswd -B.
    for authorization in [basic("alice", "secret"), basic("carol", "c0rrect horse")] {
        for _ in 0..3 {
            client.send(&get("/index.html", Some(&authorization)));
            let response = client.response();
            assert_eq!(response.status, 200, "{authorization}");
            assert!(response.text().contains("home"));
        }
    }
    let log = server.stop_and_log_lines();
    assert_eq!(
        log.iter().filter(|l| l.contains(" - 401 - ")).count(),
        10,
        "{log:?}"
    );
    assert!(
        log.iter().any(|l| l.contains("GET /index.html - 401 - ")),
        "{log:?}"
    );
}

/// A POST to a route under a protected prefix is refused before its body
/// is asked for: no `100 Continue`, then 401.
#[test]
fn issue_15_a_route_under_a_protected_prefix_is_protected() {
    let (_dir, server) = protected_server(&["/echo", "/docs"]);
    let body = r#"{"message":"hi"}"#;
    let post = |authorization: Option<&str>| {
        let mut request = format!(
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nExpect: 100-continue\r\n",
            body.len()
        );
        if let Some(value) = authorization {
            request.push_str(&format!("Authorization: {value}\r\n"));
        }
        request + "\r\n"
    };
    let mut client = server.connect();
    client.send(post(None).as_bytes());
    let refused = client.response();
    assert_eq!(refused.status, 401, "{}", refused.head);
    assert!(!refused.head.contains("100 Continue"));
    let mut client = server.connect();
    client.send(post(Some(&basic("alice", "secret"))).as_bytes());
    let interim = client.response();
    assert_eq!(interim.status, 100);
    client.send(body.as_bytes());
    let echoed = client.response();
    assert_eq!(echoed.status, 200);
    assert!(echoed.text().contains("hi"));
    // Outside the prefixes, no credentials are needed.
    for (target, status) in [("/index.html", 200), ("/style.css", 200), ("/docsx", 404)] {
        assert_eq!(
            server.request(&get(target, None)).status,
            status,
            "{target}"
        );
    }
    // However the protected path is spelled.
    for target in [
        "/docs/",
        "/docs/index.html",
        "/docs",
        "/%64ocs/",
        "//docs/index.html",
        "/empty/../docs/index.html",
        "/empty/%2e%2e/docs/index.html",
        "/empty%2F..%2Fdocs/index.html",
        "http://x/docs/index.html",
    ] {
        let response = server.request(&get(target, None));
        assert_eq!(response.status, 401, "{target}");
    }
}

/// The hot cache answers only after the gate: a file that is a cache hit
/// for an authenticated client is still 401 for everyone else, and the
/// refusals never reach the cache (its hit counter does not move).
#[test]
fn issue_15_the_hot_cache_never_answers_without_credentials() {
    let (_dir, server) = protected_server(&[]);
    // The fixture was just written; the cache keeps settled files only.
    std::thread::sleep(SETTLED_AFTER + Duration::from_millis(1100));
    let good = basic("alice", "secret");
    let mut client = server.connect();
    for _ in 0..4 {
        client.send(&get("/style.css", Some(&good)));
        assert_eq!(client.response().status, 200);
    }
    let hits = hot_cache_hits(&server);
    assert!(hits >= 2, "the file is a hot-cache hit now: {hits}");
    for request in [
        get("/style.css", None),
        get("/style.css", Some(&basic("alice", "nope"))),
        b"HEAD /style.css HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"GET /style.css HTTP/1.1\r\nHost: x\r\nRange: bytes=0-3\r\n\r\n".to_vec(),
    ] {
        client.send(&request);
        let response = if request.starts_with(b"HEAD") {
            client.head_response()
        } else {
            client.response()
        };
        assert_eq!(response.status, 401);
        assert!(!response.text().contains("color"), "no file bytes");
    }
    assert_eq!(hot_cache_hits(&server), hits, "refusals are not cache hits");
    client.send(&get("/style.css", Some(&good)));
    assert_eq!(client.response().status, 200);
    assert_eq!(hot_cache_hits(&server), hits + 1);
}

fn hot_cache_hits(server: &TestServer) -> u64 {
    // A response is counted just after it is sent: wait until the count
    // settles (two equal scrapes), within the read deadline.
    let scrape = || {
        let response = server.admin_request(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(response.status, 200, "metrics without credentials");
        let text = response.text();
        text.lines()
            .find_map(|l| l.strip_prefix("httpserver_hot_cache_hits_total "))
            .and_then(|n| n.parse::<u64>().ok())
            .expect("the hit counter")
    };
    let deadline = Instant::now() + READ_DEADLINE;
    let mut last = scrape();
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let now = scrape();
        if now == last || Instant::now() > deadline {
            return now;
        }
        last = now;
    }
}

#[test]
fn issue_15_the_admin_listener_is_never_behind_auth() {
    let (_dir, server) = protected_server(&[]);
    assert_eq!(server.request(&get("/livez", None)).status, 401, "site");
    for target in ["/livez", "/readyz", "/metrics"] {
        let response = server.admin_request(&get(target, None));
        assert_eq!(response.status, 200, "{target}");
        assert_eq!(response.field("WWW-Authenticate"), None, "{target}");
    }
}

#[test]
fn issue_15_bad_password_files_are_one_line_and_exit_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("root");
    std::fs::create_dir(&root).expect("root");
    let root = root.to_str().expect("UTF-8");
    let carol = std::fs::read_to_string(FIXTURE).expect("the fixture");
    let cases = [
        (format!("{carol}bob:plain-text\n"), ":2: not a bcrypt hash"),
        (format!("{carol}bob:$apr1$x$y\n"), ":2: not a bcrypt hash"),
        (
            format!("# users\n{}", carol.replace("$05$", "$99$")),
            ":2: bcrypt cost 99",
        ),
        (
            format!("{carol}{carol}"),
            ":2: user \"carol\" appears twice",
        ),
        ("justaname\n".to_owned(), ":1: expected user:hash"),
    ];
    for (text, expected) in cases {
        let file = dir.path().join("users");
        std::fs::write(&file, &text).expect("write");
        let file = file.to_str().expect("UTF-8");
        let (code, stderr) = run_to_exit(&["--port", "0", "--root", root, "--auth", file]);
        assert_eq!(code, 2, "{text:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(&format!("{file}{expected}")), "{stderr}");
        let (code, _) = run_to_exit(&["--root", root, "--auth", file, "--check-config"]);
        assert_eq!(code, 2, "--check-config: {text:?}");
    }
    for args in [
        &["--auth", "/definitely/not/here"][..],
        &["--auth-path", "/private"][..],
        &["--auth", FIXTURE, "--auth-path", "private"][..],
        &["--auth", FIXTURE, "--auth-realm", "line\nbreak"][..],
    ] {
        let mut all = vec!["--port", "0", "--root", root];
        all.extend_from_slice(args);
        let (code, stderr) = run_to_exit(&all);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }
}

/// Failed attempts reach stderr at warn level with the user name escaped
/// and never the password; a success is not logged.
#[test]
fn issue_15_failed_attempts_are_logged_without_the_password() {
    let root = tempfile::tempdir().expect("temp dir");
    crate::support::write_fixture(root.path());
    let server = Binary::start(&[
        "--root",
        root.path().to_str().expect("UTF-8"),
        "--auth",
        FIXTURE,
    ]);
    let mut client = Client::connect(server.addr());
    for authorization in [
        basic("carol", "hunter2"),
        basic("\u{e8}ve - 200 - forged", "swordfish"),
        basic("eve\nnewline", "swordfish"),
        basic("carol", "c0rrect horse"),
    ] {
        client.send(&get("/index.html", Some(&authorization)));
        client.response();
    }
    let (status, stderr) = server.stop();
    assert!(status.success());
    let failures: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("authentication failed"))
        .collect();
    assert_eq!(failures.len(), 3, "{stderr}");
    assert!(failures[0].contains("wrong password user=carol client=127.0.0.1 path=/index.html"));
    assert!(
        failures[1].contains(r"unknown user user=\xc3\xa8ve\x20-\x20200\x20-\x20forged client="),
        "{stderr}"
    );
    // A control character makes the credentials malformed (RFC 7617 §2):
    // no user is named.
    assert!(
        failures[2].contains("malformed credentials client="),
        "{stderr}"
    );
    assert!(!stderr.contains("newline"), "{stderr}");
    assert!(!stderr.contains("hunter2") && !stderr.contains("swordfish"));
    assert!(!stderr.contains("c0rrect"), "{stderr}");
}

/// On a non-loopback address over plain HTTP the server warns at start
/// that passwords travel in clear; on loopback it does not.
#[test]
fn issue_15_plain_http_beyond_loopback_warns_at_start() {
    let root = tempfile::tempdir().expect("temp dir");
    let root = root.path().to_str().expect("UTF-8");
    // On loopback (Binary binds 127.0.0.1): no warning.
    let quiet = Binary::start(&["--root", root, "--auth", FIXTURE]);
    let (_, stderr) = quiet.stop();
    assert!(!stderr.contains("clear"), "{stderr}");

    let mut child = Command::new(BINARY)
        .args([
            "--bind", "0.0.0.0", "--port", "0", "--root", root, "--auth", FIXTURE,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stderr = child.stderr.take().expect("piped");
    let (sender, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while stderr.read(&mut byte).is_ok_and(|n| n == 1) && byte[0] != b'\n' {
            line.push(byte[0]);
        }
        let _ = sender.send(String::from_utf8_lossy(&line).into_owned());
    });
    let first = received.recv_timeout(READ_DEADLINE);
    let _ = child.kill();
    let _ = child.wait();
    let first = first.expect("a line on stderr within the deadline");
    assert!(
        first.contains("--auth on plain HTTP at 0.0.0.0") && first.contains("clear"),
        "{first}"
    );
}

/// A comma-separated `--auth-path` is a list, from the environment, the
/// command line and a file alike (as `--trusted-proxies`): each prefix is
/// protected. Before, `HTTPSERVER_AUTH_PATH="/private,/Private"` was one
/// prefix named `/private,/Private`, which protected nothing.
#[test]
fn issue_15_a_comma_separated_auth_path_protects_each_prefix() {
    let root = tempfile::tempdir().expect("temp dir");
    crate::support::write_fixture(root.path());
    let root = root.path().to_str().expect("UTF-8");
    let mut command = Command::new(BINARY);
    command
        .args(["--bind", "127.0.0.1", "--port", "0", "--root", root])
        .args(["--auth", FIXTURE])
        .env("HTTPSERVER_AUTH_PATH", "/private, /Private");
    let server = Binary::start_command(command);
    for target in ["/private/a", "/Private/a"] {
        let mut client = Client::connect(server.addr());
        client.send(&get(target, None));
        let response = client.response();
        assert_eq!(response.status, 401, "{target}");
    }
    let mut client = Client::connect(server.addr());
    client.send(&get("/index.html", None));
    assert_eq!(client.response().status, 200);
    drop(server);

    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("config.toml");
    std::fs::write(
        &file,
        format!("root = {root:?}\nauth = {FIXTURE:?}\nauth_path = [\"/a,/b\", \"/c\"]\n"),
    )
    .expect("write");
    let (code, stdout, stderr) = crate::config_sources::run(
        &["--config", file.to_str().expect("UTF-8"), "--check-config"],
        &[],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
}

/// A prefix with a query, a fragment, a space or a control character can
/// match no request path: it is refused, in words, with exit 2 (before,
/// `--auth-path '/private?x'` was accepted and protected nothing).
#[test]
fn issue_15_an_auth_path_that_can_match_nothing_is_refused() {
    let root = tempfile::tempdir().expect("temp dir");
    let root = root.path().to_str().expect("UTF-8");
    for bad in [
        "/private?x",
        "/private#top",
        "/my docs",
        "/a\tb",
        "private",
        "/../x",
    ] {
        let args = ["--root", root, "--auth", FIXTURE, "--auth-path", bad];
        for check in [false, true] {
            let mut all = args.to_vec();
            if check {
                all.push("--check-config");
            } else {
                all.extend(["--port", "0"]);
            }
            let (code, stderr) = run_to_exit(&all);
            assert_eq!(code, 2, "{bad:?}: {stderr}");
            assert_eq!(stderr.lines().count(), 1, "{bad:?}: {stderr}");
            assert!(stderr.contains("is not a URL path prefix: "), "{stderr}");
            for name in ["NotOriginForm", "Traversal"] {
                assert!(!stderr.contains(name), "{stderr}");
            }
        }
    }
    let (code, stderr) = run_to_exit(&[
        "--root",
        root,
        "--auth",
        FIXTURE,
        "--check-config",
        "--auth-path",
        "/a,/b?",
    ]);
    assert_eq!(code, 2, "{stderr}");
}

/// `--log-level error` silences the clear-text warning too: it used to be
/// printed before the level was set. At the default level it is printed.
#[test]
fn issue_15_the_cleartext_warning_respects_log_level() {
    let root = tempfile::tempdir().expect("temp dir");
    crate::support::write_fixture(root.path());
    let root = root.path().to_str().expect("UTF-8");
    for (level, warned) in [("error", false), ("warn", true)] {
        let mut command = Command::new(BINARY);
        command.args([
            "--bind",
            "0.0.0.0",
            "--port",
            "0",
            "--root",
            root,
            "--auth",
            FIXTURE,
            "--log-level",
            level,
        ]);
        let server = Binary::start_command(command);
        let (status, stderr) = server.stop();
        assert!(status.success(), "{status}");
        assert_eq!(stderr.contains("clear text"), warned, "{level}: {stderr}");
    }
}

/// With certificates the site speaks HTTPS, so `--auth` on an address
/// beyond loopback gives no clear-text warning; the same command without
/// them does.
#[test]
fn issue_15_an_https_site_gives_no_cleartext_warning() {
    let root = tempfile::tempdir().expect("temp dir");
    crate::support::write_fixture(root.path());
    let certs = tempfile::tempdir().expect("temp dir");
    let leaf = crate::support::tls::TestCa::new().issue(certs.path(), "site", &["localhost"], 30);
    let root = root.path().to_str().expect("UTF-8");
    let cert = leaf.cert.to_str().expect("UTF-8");
    let key = leaf.key.to_str().expect("UTF-8");
    let plain = [
        "--bind", "0.0.0.0", "--port", "0", "--root", root, "--auth", FIXTURE,
    ];
    let https = [&plain[..], &["--tls-cert", cert, "--tls-key", key]].concat();
    for (args, warned) in [(&plain[..], true), (&https[..], false)] {
        let mut command = Command::new(BINARY);
        command.args(args);
        let server = Binary::start_command(command);
        let (status, stderr) = server.stop();
        assert!(status.success(), "{status}");
        assert_eq!(stderr.contains("clear text"), warned, "{args:?}: {stderr}");
    }
}
