//! Paths, names and policies (issue 3, part 5): symlink policies, hidden
//! files, index names, relative directory redirects, `404.html`, `--spa`,
//! `-H` and `--cors`, and the flags that set them.

use crate::support::{start_server, Response, TestServer};
use httpserver::service::cors::CorsPolicy;
use httpserver::service::extra_fields::parse_extra_field;
use httpserver::service::static_files::SymlinkPolicy;
use std::os::unix::fs::symlink;
use std::process::Command;

fn get(server: &TestServer, target: &str) -> Response {
    server.request(format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
}

fn get_with(server: &TestServer, target: &str, fields: &str) -> Response {
    server.request(format!("GET {target} HTTP/1.1\r\nHost: x\r\n{fields}\r\n").as_bytes())
}

/// Symlinks in the root: a file and a directory inside it, and a file and a
/// directory outside it (in a second temp dir, kept alive by the caller).
fn server_with_symlinks(policy: SymlinkPolicy) -> (TestServer, tempfile::TempDir) {
    let server = start_server(|c| c.static_files.symlinks = policy);
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "outside\n").unwrap();
    let root = server.root.path();
    symlink("style.css", root.join("alias.css")).unwrap();
    symlink("docs", root.join("docs-alias")).unwrap();
    symlink(outside.path().join("secret.txt"), root.join("escape.txt")).unwrap();
    symlink(outside.path(), root.join("outside-dir")).unwrap();
    (server, outside)
}

#[test]
fn symlink_policies_apply_to_files_and_directory_components() {
    // (target, deny, within-root, follow)
    let cases = [
        ("/style.css", 200, 200, 200),
        ("/alias.css", 404, 200, 200),
        ("/docs-alias/index.html", 404, 200, 200),
        ("/docs-alias/", 404, 200, 200),
        ("/escape.txt", 404, 404, 200),
        ("/outside-dir/secret.txt", 404, 404, 200),
        // Follow still refuses `..` in the URL.
        ("/../etc/passwd", 404, 404, 404),
        ("/docs/%2e%2e/%2e%2e/etc/passwd", 404, 404, 404),
    ];
    for (index, policy) in [
        SymlinkPolicy::Deny,
        SymlinkPolicy::WithinRoot,
        SymlinkPolicy::Follow,
    ]
    .into_iter()
    .enumerate()
    {
        let (server, _outside) = server_with_symlinks(policy);
        for case in cases {
            let want = [case.1, case.2, case.3][index];
            let response = get(&server, case.0);
            assert_eq!(response.status, want, "{} {}", policy.as_str(), case.0);
            if case.0 == "/outside-dir/secret.txt" && want == 200 {
                assert_eq!(response.text(), "outside\n");
            }
        }
    }
}

#[test]
fn dotfiles_are_404_unless_hidden_and_well_known_is_always_served() {
    for hidden in [false, true] {
        let server = start_server(|c| c.static_files.hidden = hidden);
        let root = server.root.path();
        std::fs::write(root.join(".env"), "KEY=1\n").unwrap();
        std::fs::create_dir(root.join(".git")).unwrap();
        std::fs::write(root.join(".git/config"), "[core]\n").unwrap();
        std::fs::create_dir_all(root.join(".well-known/acme-challenge")).unwrap();
        std::fs::write(root.join(".well-known/acme-challenge/t0k"), "t0k.x\n").unwrap();
        let status = if hidden { 200 } else { 404 };
        for target in ["/.env", "/.git/config", "/%2egit/config", "/docs/../.env"] {
            let want = if target.contains("..") { 404 } else { status };
            assert_eq!(
                get(&server, target).status,
                want,
                "hidden={hidden} {target}"
            );
        }
        let response = get(&server, "/.well-known/acme-challenge/t0k");
        assert_eq!(response.status, 200, "hidden={hidden}");
        assert_eq!(response.text(), "t0k.x\n");
    }
}

#[test]
fn index_names_are_tried_in_order() {
    let server = start_server(|c| {
        c.static_files.index_names = vec!["index.htm".into(), "index.html".into()];
    });
    let root = server.root.path();
    assert_eq!(get(&server, "/docs/").text(), "<h1>docs</h1>\n");
    std::fs::write(root.join("docs/index.htm"), "<h1>htm</h1>\n").unwrap();
    assert_eq!(get(&server, "/docs/").text(), "<h1>htm</h1>\n");
    assert_eq!(get(&server, "/empty/").status, 404);
}

#[test]
fn directory_redirect_is_relative_keeps_the_query_and_names_no_other_host() {
    let server = start_server(|_| {});
    std::fs::create_dir_all(server.root.path().join("docs/guide")).unwrap();
    std::fs::create_dir(server.root.path().join("evil.example")).unwrap();
    // (target, Location)
    let cases = [
        ("/docs?x=1&y=%2F", "docs/?x=1&y=%2F"),
        ("/docs/guide", "guide/"),
        ("/docs/guide?lang=en", "guide/?lang=en"),
        ("//evil.example", "evil.example/"),
        ("///evil.example?a=b", "evil.example/?a=b"),
        ("/%2F%2Fevil.example", "%2F%2Fevil.example/"),
        ("/%2f%2fevil.example?x", "%2f%2fevil.example/?x"),
    ];
    for (target, location) in cases {
        let response = get(&server, target);
        assert_eq!(response.status, 301, "{target}");
        assert_eq!(response.field("Location"), Some(location), "{target}");
    }
    // Following the redirect as a browser would lands on the directory.
    let response = get(&server, "/docs/guide/");
    assert_eq!(
        response.status, 404,
        "no index in guide/, but no redirect loop"
    );
    assert_eq!(get(&server, "/%2F%2Fevil.example/").status, 404);
}

#[test]
fn not_found_page_is_the_body_of_404s() {
    let server = start_server(|_| {});
    assert_eq!(get(&server, "/missing").text(), "Not Found");
    // The hot cache may answer a path it saw within the last second; a 404
    // page created since shows no later than that.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    std::fs::write(
        server.root.path().join("404.html"),
        "<h1>no such page</h1>\n",
    )
    .unwrap();
    for target in ["/missing", "/docs/missing.css", "/.env", "/empty/"] {
        let response = get(&server, target);
        assert_eq!(response.status, 404, "{target}");
        assert_eq!(
            response.field("Content-Type"),
            Some("text/html; charset=utf-8"),
            "{target}"
        );
        assert_eq!(response.text(), "<h1>no such page</h1>\n", "{target}");
        assert_eq!(response.field("ETag"), None, "{target}");
    }
    // HEAD: the same head, no body.
    let mut client = server.connect();
    client.send(b"HEAD /missing HTTP/1.1\r\nHost: x\r\n\r\n");
    let head = client.head_response();
    assert_eq!(head.status, 404);
    assert_eq!(head.field("Content-Length"), Some("22"));
}

#[test]
fn spa_serves_navigations_but_missing_assets_stay_404() {
    let server = start_server(|c| c.static_files.spa = Some("index.html".into()));
    let index = std::fs::read_to_string(server.root.path().join("index.html")).unwrap();
    // (target, Accept, status)
    let cases = [
        ("/users/42", "", 200),
        ("/settings/", "", 200),
        ("/users/42?tab=2", "", 200),
        (
            "/report.2025",
            "Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\n",
            200,
        ),
        ("/app.js", "", 404),
        ("/app.js", "Accept: */*\r\n", 404),
        ("/logo.png", "Accept: image/avif,image/webp,*/*\r\n", 404),
        // A dotfile refused for want of --hidden stays 404, navigation or not.
        ("/.git/config", "Accept: text/html\r\n", 404),
        ("/.env", "", 404),
    ];
    for (target, accept, status) in cases {
        let response = get_with(&server, target, accept);
        assert_eq!(response.status, status, "{target} {accept:?}");
        if status == 200 {
            assert_eq!(response.text(), index, "{target}");
            assert_eq!(
                response.field("Content-Type"),
                Some("text/html; charset=utf-8")
            );
        }
    }
    // Existing files are served as they are.
    assert_eq!(get(&server, "/style.css").text(), "body { color: #222; }\n");
    // POST is not a navigation the SPA answers.
    let response =
        server.request(b"POST /users/42 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(response.status, 405);
}

#[test]
fn extra_headers_are_on_every_routed_response() {
    let server = start_server(|c| {
        c.response_policy.extra_fields = vec![
            parse_extra_field("X-Frame-Options: DENY").unwrap(),
            parse_extra_field("Content-Security-Policy: default-src 'self'").unwrap(),
        ];
    });
    let mut responses = vec![
        get(&server, "/style.css"),
        get(&server, "/missing"),
        get(&server, "/docs"),
        server.request(b"OPTIONS /style.css HTTP/1.1\r\nHost: x\r\n\r\n"),
        server.request(b"DELETE /style.css HTTP/1.1\r\nHost: x\r\n\r\n"),
    ];
    responses.push(server.request(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
    ));
    for response in responses {
        assert_eq!(
            response.field("X-Frame-Options"),
            Some("DENY"),
            "{}",
            response.head
        );
        assert_eq!(
            response.field("Content-Security-Policy"),
            Some("default-src 'self'"),
            "{}",
            response.head
        );
    }
}

#[test]
fn cors_simple_and_preflight_requests() {
    let server = start_server(|c| c.response_policy.cors = Some(CorsPolicy::parse("*").unwrap()));
    let response = get_with(&server, "/style.css", "Origin: https://app.example\r\n");
    assert_eq!(response.status, 200);
    assert_eq!(response.field("Access-Control-Allow-Origin"), Some("*"));
    let preflight = server.request(
        b"OPTIONS /echo HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n\
          Access-Control-Request-Method: POST\r\n\
          Access-Control-Request-Headers: content-type, x-token\r\n\r\n",
    );
    assert_eq!(preflight.status, 204);
    assert_eq!(preflight.field("Access-Control-Allow-Origin"), Some("*"));
    assert_eq!(
        preflight.field("Access-Control-Allow-Methods"),
        Some("OPTIONS, POST")
    );
    assert_eq!(
        preflight.field("Access-Control-Allow-Headers"),
        Some("content-type, x-token")
    );
    assert_eq!(preflight.field("Access-Control-Max-Age"), Some("7200"));
    assert!(preflight.body.is_empty());

    let server = start_server(|c| {
        c.response_policy.cors = Some(CorsPolicy::parse("https://app.example").unwrap());
    });
    let response = get_with(&server, "/missing", "Origin: https://app.example\r\n");
    assert_eq!(
        response.field("Access-Control-Allow-Origin"),
        Some("https://app.example")
    );
    assert!(response
        .fields
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("vary") && v == "Origin"));
}

/// Whether a script on another origin may read the field `name` of
/// `response`: the CORS-safelisted response fields (Fetch standard, §2.2.6)
/// and those the response lists in `Access-Control-Expose-Headers`.
fn readable_cross_origin(response: &Response, name: &str) -> bool {
    const SAFELISTED: &[&str] = &[
        "cache-control",
        "content-language",
        "content-length",
        "content-type",
        "expires",
        "last-modified",
        "pragma",
    ];
    SAFELISTED.contains(&name.to_ascii_lowercase().as_str())
        || response
            .field("Access-Control-Expose-Headers")
            .is_some_and(|list| list.split(',').any(|n| n.trim().eq_ignore_ascii_case(name)))
}

/// Issue 11: a range reader on another origin must be able to read
/// `Content-Range` (the only place a 206 gives the file's size), the
/// validators, `Accept-Ranges` and the content coding.
#[test]
fn issue11_cors_exposes_what_a_cross_origin_file_reader_needs() {
    let server = start_server(|c| c.response_policy.cors = Some(CorsPolicy::parse("*").unwrap()));
    std::fs::write(server.root.path().join("style.css.gz"), b"GZIP!").unwrap();
    let range = get_with(
        &server,
        "/data.bin",
        "Origin: https://app.example\r\nRange: bytes=0-99\r\n",
    );
    assert_eq!(range.status, 206, "{}", range.head);
    assert_eq!(range.field("Content-Range"), Some("bytes 0-99/100000"));
    let coded = get_with(
        &server,
        "/style.css",
        "Origin: https://app.example\r\nAccept-Encoding: gzip\r\n",
    );
    assert_eq!(
        coded.field("Content-Encoding"),
        Some("gzip"),
        "{}",
        coded.head
    );
    for (response, name) in [
        (&range, "Content-Range"),
        (&range, "Accept-Ranges"),
        (&range, "ETag"),
        (&range, "Last-Modified"),
        (&range, "Content-Length"),
        (&coded, "Content-Encoding"),
        (&coded, "ETag"),
    ] {
        assert!(response.field(name).is_some(), "{name}: {}", response.head);
        assert!(
            readable_cross_origin(response, name),
            "{name}: {}",
            response.head
        );
    }
    // A preflight's answer is not read by script: the list is not sent there.
    let preflight = server.request(
        b"OPTIONS /data.bin HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n\
          Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: range\r\n\r\n",
    );
    assert_eq!(preflight.status, 204);
    assert_eq!(preflight.field("Access-Control-Expose-Headers"), None);
}

/// Issue 11: a preflight is told the methods its target answers, the same
/// list as that target's `Allow`, not one list for every path. A method the
/// target does not answer still gets 204 and the list; the browser, not
/// finding it there, refuses the request.
#[test]
fn issue11_cors_preflight_allows_the_targets_own_methods() {
    let server = start_server(|c| c.response_policy.cors = Some(CorsPolicy::parse("*").unwrap()));
    // (target, requested method, the target's methods)
    let cases = [
        ("/style.css", "GET", "GET, HEAD, OPTIONS"),
        ("/style.css", "PUT", "GET, HEAD, OPTIONS"),
        ("/style.css", "POST", "GET, HEAD, OPTIONS"),
        ("/missing", "GET", "GET, HEAD, OPTIONS"),
        ("/docs/", "GET", "GET, HEAD, OPTIONS"),
        ("/echo", "POST", "OPTIONS, POST"),
        ("/echo", "GET", "OPTIONS, POST"),
        ("/echo?x=1", "POST", "OPTIONS, POST"),
    ];
    for (target, method, methods) in cases {
        let preflight = server.request(
            format!(
                "OPTIONS {target} HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n\
                 Access-Control-Request-Method: {method}\r\n\r\n"
            )
            .as_bytes(),
        );
        assert_eq!(preflight.status, 204, "{target} {method}");
        assert_eq!(
            preflight.field("Access-Control-Allow-Methods"),
            Some(methods),
            "{target} {method}"
        );
        let options =
            server.request(format!("OPTIONS {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        assert_eq!(options.field("Allow"), Some(methods), "{target}");
    }
}

#[test]
fn no_cors_fields_without_the_flag() {
    let server = start_server(|_| {});
    let preflight = server.request(
        b"OPTIONS /style.css HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n\
          Access-Control-Request-Method: GET\r\n\r\n",
    );
    assert_eq!(preflight.status, 204);
    assert_eq!(preflight.field("Allow"), Some("GET, HEAD, OPTIONS"));
    let simple = get_with(&server, "/style.css", "Origin: https://app.example\r\n");
    for response in [preflight, simple] {
        assert!(
            !response
                .head
                .to_ascii_lowercase()
                .contains("access-control"),
            "{}",
            response.head
        );
    }
}

const BINARY: &str = env!("CARGO_BIN_EXE_httpserver");

#[test]
fn bad_policy_flags_are_one_line_usage_errors() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path().to_str().unwrap();
    let cases: &[&[&str]] = &[
        &["-H", "X-Bad\r\nInjected: 1"],
        &["--header", "Bad Name: x"],
        &["-H", "Content-Length: 5"],
        &["-H", "no colon"],
        &["--cors", "https://app.example/path"],
        &["--symlinks", "sometimes"],
        &["--index", "a/b.html"],
        &["--spa", "../outside.html"],
        &["--spa", "missing.html"],
    ];
    for args in cases {
        let output = Command::new(BINARY)
            .args(["--port", "0", "--root", root])
            .args(*args)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("httpserver: "), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn help_documents_the_policy_flags_and_their_defaults() {
    let output = Command::new(BINARY).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "--symlinks",
        "[default: within-root]",
        "--hidden",
        "--index <NAMES>",
        "[default: index.html]",
        "--spa <FILE>",
        "-H, --header <NAME: VALUE>",
        "--cors [<ORIGIN>]",
    ] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
}
