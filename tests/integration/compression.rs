//! On-the-fly compression (issue 16, part 1) over real sockets: a settled
//! script is compressed once per coding, goes out with its own length,
//! tag and `Vary`, decodes to the file with an independent decoder, and
//! HEAD, 304 and ranges describe the encoded bytes.

use crate::support::{start_server, Client, TestServer};
use std::io::Read;
use std::time::{Duration, Instant, SystemTime};

/// A script of `len` bytes, like what a site serves.
fn script(len: usize) -> Vec<u8> {
    let mut text = Vec::new();
    let mut i = 0;
    while text.len() < len {
        text.extend_from_slice(
            format!("export function f{i}(a) {{ return a + {i}; }}\n").as_bytes(),
        );
        i += 1;
    }
    text.truncate(len);
    text
}

/// Write `bytes` at `name` under the root with an mtime an hour ago, so
/// the server counts it as settled and compresses it.
fn write_settled(server: &TestServer, name: &str, bytes: &[u8]) {
    let path = server.root.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
}

fn get(
    server: &TestServer,
    method: &str,
    target: &str,
    fields: &[(&str, &str)],
) -> crate::support::Response {
    let mut raw = format!("{method} {target} HTTP/1.1\r\nHost: x\r\n");
    for (name, value) in fields {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    raw.push_str("\r\n");
    let mut client = Client::connect(server.addr);
    client.send(raw.as_bytes());
    match method {
        "HEAD" => client.head_response(),
        _ => client.response(),
    }
}

/// Ask until the answer is compressed; at most 1000 tries in 20 seconds.
fn until_compressed(server: &TestServer, target: &str, accept: &str) -> crate::support::Response {
    let deadline = Instant::now() + Duration::from_secs(20);
    for _ in 0..1000 {
        let response = get(server, "GET", target, &[("Accept-Encoding", accept)]);
        if response.field("Content-Encoding").is_some() {
            return response;
        }
        assert!(Instant::now() < deadline, "{target} never compressed");
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{target} never compressed");
}

fn decode(coding: &str, encoded: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "br" => brotli::Decompressor::new(encoded, 4096)
            .read_to_end(&mut out)
            .map(|_| ()),
        "zstd" => zstd::stream::read::Decoder::new(encoded)
            .and_then(|mut decoder| decoder.read_to_end(&mut out))
            .map(|_| ()),
        "gzip" => flate2::read::GzDecoder::new(encoded)
            .read_to_end(&mut out)
            .map(|_| ()),
        other => panic!("unexpected coding {other}"),
    }
    .expect("decodes");
    out
}

#[test]
fn issue_16_a_settled_script_is_compressed_once_per_coding() {
    let server = start_server(|_| {});
    let source = script(64 * 1024);
    write_settled(&server, "app.js", &source);
    for coding in ["br", "zstd", "gzip"] {
        let response = until_compressed(&server, "/app.js", coding);
        assert_eq!(response.status, 200);
        assert_eq!(response.field("Content-Encoding"), Some(coding));
        assert_eq!(response.field("Vary"), Some("Accept-Encoding"));
        let length = response.body.len().to_string();
        assert_eq!(response.field("Content-Length"), Some(length.as_str()));
        assert!(response.body.len() < source.len() / 3, "{coding}");
        assert_eq!(decode(coding, &response.body), source, "{coding}");
        // HEAD: the variant's length, no body.
        let head = get(&server, "HEAD", "/app.js", &[("Accept-Encoding", coding)]);
        assert_eq!(head.field("Content-Length"), Some(length.as_str()));
        assert_eq!(head.field("ETag"), response.field("ETag"));
        assert!(head.body.is_empty());
        // Revalidating the variant: 304 with its tag and Vary.
        let etag = response.field("ETag").unwrap();
        let revalidated = get(
            &server,
            "GET",
            "/app.js",
            &[("Accept-Encoding", coding), ("If-None-Match", etag)],
        );
        assert_eq!(revalidated.status, 304);
        assert_eq!(revalidated.field("ETag"), Some(etag));
        assert_eq!(revalidated.field("Vary"), Some("Accept-Encoding"));
        // A range of the encoded bytes.
        let part = get(
            &server,
            "GET",
            "/app.js",
            &[("Accept-Encoding", coding), ("Range", "bytes=0-99")],
        );
        assert_eq!(part.status, 206);
        assert_eq!(part.body, &response.body[..100]);
    }
    // Without Accept-Encoding: the file as it is, still varying.
    let plain = get(&server, "GET", "/app.js", &[]);
    assert_eq!(plain.field("Content-Encoding"), None);
    assert_eq!(plain.field("Vary"), Some("Accept-Encoding"));
    assert_eq!(plain.body, source);
}

#[test]
fn issue_16_compress_off_sends_files_as_they_are() {
    let server = start_server(|config| config.static_files.compression.enabled = false);
    write_settled(&server, "app.js", &script(20_000));
    for _ in 0..3 {
        let response = get(
            &server,
            "GET",
            "/app.js",
            &[("Accept-Encoding", "br, gzip")],
        );
        assert_eq!(response.field("Content-Encoding"), None);
        assert_eq!(response.field("Vary"), Some("Accept-Encoding"));
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn issue_16_the_admin_listener_counts_variant_hits_and_bytes() {
    let server = start_server(|c| c.balancer.admin = Some("127.0.0.1:0".parse().unwrap()));
    write_settled(&server, "page.html", &script(16 * 1024));
    until_compressed(&server, "/page.html", "gzip");
    get(&server, "GET", "/page.html", &[("Accept-Encoding", "gzip")]);
    let metrics = server
        .admin_request(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .text();
    let value = |name: &str| -> u64 {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing in\n{metrics}"))
    };
    assert!(value("httpserver_compressed_variant_hits_total") >= 2);
    assert!(value("httpserver_compressed_variant_misses_total") >= 1);
    assert!(value("httpserver_compressed_variant_bytes") > 0);
    value("httpserver_compressed_variant_evictions_total");
}

/// RFC 4648 base64, written again here so the test does not trust the
/// server's encoder: standard alphabet with padding, or URL-safe without.
fn base64(bytes: &[u8], url_safe: bool) -> String {
    let table = match url_safe {
        false => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        true => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
    };
    let bits: String = bytes.iter().map(|b| format!("{b:08b}")).collect();
    let mut out: String = bits
        .as_bytes()
        .chunks(6)
        .map(|chunk| {
            let mut sextet = String::from_utf8(chunk.to_vec()).unwrap();
            while sextet.len() < 6 {
                sextet.push('0');
            }
            table.as_bytes()[usize::from_str_radix(&sextet, 2).unwrap()] as char
        })
        .collect();
    while !url_safe && out.len() % 4 != 0 {
        out.push('=');
    }
    out
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).to_vec()
}

/// Ask until `field` is in the answer; at most 1000 tries in 20 seconds.
fn until_field(
    server: &TestServer,
    target: &str,
    fields: &[(&str, &str)],
    field: &str,
) -> crate::support::Response {
    let deadline = Instant::now() + Duration::from_secs(20);
    for _ in 0..1000 {
        let response = get(server, "GET", target, fields);
        if response.field(field).is_some() {
            return response;
        }
        assert!(Instant::now() < deadline, "{target} never had {field}");
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{target} never had {field}");
}

#[test]
fn issue_16_content_etags_and_repr_digest_match_an_independent_sha256() {
    let server = start_server(|c| {
        c.static_files.etag = httpserver::service::static_files::EtagPolicy::Content
    });
    let source = script(40_000);
    write_settled(&server, "app.js", &source);
    let want = ("Want-Repr-Digest", "sha-256=9");
    let response = until_field(&server, "/app.js", &[want], "ETag");
    let digest = sha256(&source);
    let tag = format!("\"{}\"", base64(&digest[..16], true));
    assert_eq!(response.field("ETag"), Some(tag.as_str()));
    let repr = format!("sha-256=:{}:", base64(&digest, false));
    assert_eq!(response.field("Repr-Digest"), Some(repr.as_str()));
    assert_eq!(response.body, source);
    // A part carries no Repr-Digest.
    let part = get(&server, "GET", "/app.js", &[want, ("Range", "bytes=0-9")]);
    assert_eq!(part.status, 206);
    assert_eq!(part.field("Repr-Digest"), None);
    // A variant: the digest and tag of its encoded bytes.
    until_compressed(&server, "/app.js", "zstd");
    let variant = get(
        &server,
        "GET",
        "/app.js",
        &[want, ("Accept-Encoding", "zstd")],
    );
    assert_eq!(variant.field("Content-Encoding"), Some("zstd"));
    let encoded_digest = sha256(&variant.body);
    let encoded_repr = format!("sha-256=:{}:", base64(&encoded_digest, false));
    assert_eq!(variant.field("Repr-Digest"), Some(encoded_repr.as_str()));
    let encoded_tag = format!("\"{}\"", base64(&encoded_digest[..16], true));
    assert_eq!(variant.field("ETag"), Some(encoded_tag.as_str()));
    assert_eq!(decode("zstd", &variant.body), source);
}

#[test]
fn issue_16_a_large_variant_goes_out_whole_from_its_memory_file() {
    let server = start_server(|_| {});
    // Words in an unpredictable order: about a third after gzip, above the
    // 64 KiB from which a variant lives in a memfd sent by sendfile.
    let words = [
        "alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "zeta",
    ];
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut source = Vec::new();
    while source.len() < 600_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        source.extend_from_slice(words[(state % 8) as usize].as_bytes());
        source.push(b' ');
    }
    write_settled(&server, "big.txt", &source);
    let response = until_compressed(&server, "/big.txt", "gzip");
    assert!(response.body.len() > 64 * 1024, "{}", response.body.len());
    let length = response.body.len().to_string();
    assert_eq!(response.field("Content-Length"), Some(length.as_str()));
    assert_eq!(decode("gzip", &response.body), source);
}
