//! `Cache-Control` per `--cache` policy, and the startup line naming it.

use crate::cli::{run_to_exit, Running};
use crate::support::{start_server, write_fixture, Client, TestServer};
use httpserver::service::static_files::cache::CachePolicy;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Add bundler-style files to the server's root.
fn add_assets(server: &TestServer) {
    let root = server.root.path();
    std::fs::write(root.join("app.3f9a1c2e.js"), "console.log(1)\n").unwrap();
    std::fs::write(root.join("index-B4xk9Qz1.css"), "a{}\n").unwrap();
    std::fs::write(root.join("report-20251110.pdf"), "%PDF-1.7\n").unwrap();
}

fn cache_control(server: &TestServer, path: &str) -> Option<String> {
    let response = server.request(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    assert_eq!(response.status, 200, "{path}");
    response.field("Cache-Control").map(str::to_owned)
}

#[test]
fn auto_makes_hashed_names_immutable_and_revalidates_the_rest() {
    let server = start_server(|_| {});
    add_assets(&server);
    let cases = [
        ("/app.3f9a1c2e.js", IMMUTABLE),
        ("/index-B4xk9Qz1.css", IMMUTABLE),
        ("/index.html", "no-cache"),
        ("/", "no-cache"),
        ("/docs/", "no-cache"),
        ("/style.css", "no-cache"),
        ("/report-20251110.pdf", "no-cache"),
        ("/data.bin", "no-cache"),
    ];
    for (path, expected) in cases {
        assert_eq!(
            cache_control(&server, path).as_deref(),
            Some(expected),
            "{path}"
        );
    }
    // 206 responses carry it too.
    let response =
        server.request(b"GET /app.3f9a1c2e.js HTTP/1.1\r\nHost: x\r\nRange: bytes=0-6\r\n\r\n");
    assert_eq!(response.status, 206);
    assert_eq!(response.field("Cache-Control"), Some(IMMUTABLE));
}

#[test]
fn none_sends_no_cache_control() {
    let server = start_server(|config| config.static_files.cache = CachePolicy::None);
    add_assets(&server);
    for path in ["/app.3f9a1c2e.js", "/index.html", "/data.bin"] {
        assert_eq!(cache_control(&server, path), None, "{path}");
    }
}

#[test]
fn seconds_set_one_max_age_for_every_file() {
    let server = start_server(|config| config.static_files.cache = CachePolicy::MaxAge(600));
    add_assets(&server);
    for path in ["/app.3f9a1c2e.js", "/index.html", "/data.bin"] {
        assert_eq!(
            cache_control(&server, path).as_deref(),
            Some("public, max-age=600"),
            "{path}"
        );
    }
}

#[test]
fn the_startup_output_names_the_cache_policy() {
    let root = tempfile::tempdir().unwrap();
    write_fixture(root.path());
    let root_arg = root.path().to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &[],
            "Cache policy: auto (hashed names immutable for a year, everything else no-cache)",
        ),
        (
            &["--cache", "none"],
            "Cache policy: none (no Cache-Control sent)",
        ),
        (
            &["--cache", "3600"],
            "Cache policy: 3600 seconds (public, max-age=3600 on every file)",
        ),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["--bind", "127.0.0.1", "--port", "0", "--root", root_arg];
        args.extend_from_slice(extra);
        let server = Running::start(&args);
        let port = server.port(); // the first line is still the listening line
        assert_eq!(server.next_line(), *expected, "{extra:?}");
        let mut client = Client::connect(([127, 0, 0, 1], port).into());
        client.send(b"GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let response = client.response();
        let want = match *extra {
            [] => Some("no-cache"),
            [_, "none"] => None,
            _ => Some("public, max-age=3600"),
        };
        assert_eq!(response.field("Cache-Control"), want, "{extra:?}");
        // Dropping `server` kills the process: the exit code is the cli
        // tests' business, and SIGTERM sent this early can race the
        // installation of the signal handler.
    }
}

#[test]
fn a_bad_cache_value_is_a_usage_error() {
    for value in ["sometimes", "-1", "1h", "99999999999"] {
        let flag = format!("--cache={value}");
        let (code, stderr) = run_to_exit(&["--port", "0", &flag]);
        assert_eq!(code, 2, "{value}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{value}: {stderr}");
        assert!(stderr.contains("--cache"), "{value}: {stderr}");
    }
}

#[test]
fn help_documents_the_cache_flag_and_its_default() {
    let output = std::process::Command::new(crate::cli::BINARY)
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(help.contains("--cache <auto|none|SECONDS>"), "{help}");
    assert!(help.contains("[default: auto]"), "{help}");
}
