//! Precompressed sidecars (issue 3, part 4): `file.br`, `file.zst`,
//! `file.gz` chosen by `Accept-Encoding`, with their own length and ETag,
//! and `Vary: Accept-Encoding` on every compressible response.

use crate::support::{start_server, TestServer};
use std::time::{Duration, SystemTime};

fn get(
    server: &TestServer,
    target: &str,
    accept_encoding: Option<&str>,
) -> crate::support::Response {
    let field = accept_encoding.map_or(String::new(), |v| format!("Accept-Encoding: {v}\r\n"));
    server.request(format!("GET {target} HTTP/1.1\r\nHost: x\r\n{field}\r\n").as_bytes())
}

/// A server whose root has `app.js` with a `.br`, `.zst` and `.gz` sidecar.
fn server_with_sidecars() -> TestServer {
    let server = start_server(|_| {});
    let root = server.root.path();
    std::fs::write(root.join("app.js"), "console.log('hello, world');\n").unwrap();
    std::fs::write(root.join("app.js.br"), b"BROTLI").unwrap();
    std::fs::write(root.join("app.js.zst"), b"ZSTANDARD").unwrap();
    std::fs::write(root.join("app.js.gz"), b"GZIP!").unwrap();
    server
}

#[test]
fn brotli_sidecar_is_served_with_its_coding_length_and_the_source_type() {
    let server = server_with_sidecars();
    let response = get(&server, "/app.js", Some("gzip, deflate, br, zstd"));
    assert_eq!(response.status, 200);
    assert_eq!(response.field("Content-Encoding"), Some("br"));
    assert_eq!(
        response.field("Content-Type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(response.field("Content-Length"), Some("6"));
    assert_eq!(response.field("Vary"), Some("Accept-Encoding"));
    assert_eq!(response.body, b"BROTLI");
}

#[test]
fn q_values_choose_among_sidecars() {
    let server = server_with_sidecars();
    // (Accept-Encoding, Content-Encoding, body)
    let cases: &[(Option<&str>, Option<&str>, &[u8])] = &[
        (Some("gzip"), Some("gzip"), b"GZIP!"),
        (Some("zstd, gzip"), Some("zstd"), b"ZSTANDARD"),
        (Some("br;q=0, gzip"), Some("gzip"), b"GZIP!"),
        (Some("br;q=0.1, gzip;q=0.9"), Some("gzip"), b"GZIP!"),
        (Some("*"), Some("br"), b"BROTLI"),
        (Some("identity"), None, b"console.log('hello, world');\n"),
        (
            Some("br;q=0.5, identity"),
            None,
            b"console.log('hello, world');\n",
        ),
        (None, None, b"console.log('hello, world');\n"),
    ];
    for (accept, coding, body) in cases {
        let response = get(&server, "/app.js", *accept);
        assert_eq!(response.status, 200, "{accept:?}");
        assert_eq!(response.field("Content-Encoding"), *coding, "{accept:?}");
        assert_eq!(response.body, *body, "{accept:?}");
        assert_eq!(
            response.field("Vary"),
            Some("Accept-Encoding"),
            "{accept:?}"
        );
    }
}

#[test]
fn identity_refused_without_a_sidecar_still_serves_identity() {
    // We choose identity over 406: see service/static_files/encoding.rs.
    let server = start_server(|_| {});
    let response = get(&server, "/style.css", Some("br, identity;q=0"));
    assert_eq!(response.status, 200);
    assert_eq!(response.field("Content-Encoding"), None);
    assert_eq!(response.body, b"body { color: #222; }\n");
}

#[test]
fn stale_sidecar_is_not_used() {
    let server = server_with_sidecars();
    let stale = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    std::fs::File::options()
        .write(true)
        .open(server.root.path().join("app.js.br"))
        .unwrap()
        .set_modified(stale)
        .unwrap();
    let response = get(&server, "/app.js", Some("br, gzip"));
    assert_eq!(response.field("Content-Encoding"), Some("gzip"));
    assert_eq!(response.body, b"GZIP!");
    let response = get(&server, "/app.js", Some("br"));
    assert_eq!(response.field("Content-Encoding"), None);
}

#[test]
fn each_encoding_has_its_own_etag() {
    let server = server_with_sidecars();
    let tags: Vec<String> = [Some("br"), Some("zstd"), Some("gzip"), None]
        .into_iter()
        .map(|accept| {
            get(&server, "/app.js", accept)
                .field("ETag")
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(tags[0].ends_with("-br\""), "{}", tags[0]);
    assert!(tags[1].ends_with("-zstd\""), "{}", tags[1]);
    assert!(tags[2].ends_with("-gzip\""), "{}", tags[2]);
    let mut unique = tags.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 4, "{tags:?}");
}

#[test]
fn vary_on_every_compressible_response_and_only_there() {
    let server = start_server(|_| {});
    for target in ["/style.css", "/index.html", "/", "/docs/"] {
        let response = get(&server, target, Some("gzip"));
        assert_eq!(response.status, 200, "{target}");
        assert_eq!(response.field("Vary"), Some("Accept-Encoding"), "{target}");
        assert_eq!(response.field("Content-Encoding"), None, "{target}");
    }
    let response = get(&server, "/data.bin", Some("gzip"));
    assert_eq!(response.field("Vary"), None);
}

#[test]
fn index_html_sidecar_serves_the_directory() {
    let server = start_server(|_| {});
    std::fs::write(server.root.path().join("docs/index.html.gz"), b"GZ").unwrap();
    let response = get(&server, "/docs/", Some("gzip"));
    assert_eq!(response.field("Content-Encoding"), Some("gzip"));
    assert_eq!(
        response.field("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(response.body, b"GZ");
}

#[test]
fn sidecar_through_a_symlink_obeys_the_symlink_policy() {
    let server = start_server(|c| {
        c.static_files.symlinks = httpserver::service::static_files::SymlinkPolicy::Deny;
    });
    let root = server.root.path();
    std::fs::write(root.join("app.js"), "source").unwrap();
    std::fs::write(root.join("real.br"), b"BR").unwrap();
    std::os::unix::fs::symlink("real.br", root.join("app.js.br")).unwrap();
    let response = get(&server, "/app.js", Some("br"));
    assert_eq!(response.field("Content-Encoding"), None);
    assert_eq!(response.body, b"source");
}

#[test]
fn a_range_on_a_compressed_representation_addresses_the_compressed_bytes() {
    let server = server_with_sidecars();
    let response = server.request(
        b"GET /app.js HTTP/1.1\r\nHost: x\r\nAccept-Encoding: br\r\nRange: bytes=1-3\r\n\r\n",
    );
    assert_eq!(response.status, 206);
    assert_eq!(response.field("Content-Encoding"), Some("br"));
    // "BROTLI" is the sidecar: its bytes 1-3 of 6, not the source's.
    assert_eq!(response.field("Content-Range"), Some("bytes 1-3/6"));
    assert_eq!(response.body, b"ROT");
}
