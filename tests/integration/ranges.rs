//! Byte ranges (RFC 9110 §14) on the wire: 206, 416, multipart, If-Range,
//! the amplification bounds, HEAD, and a file over 4 GiB.

use crate::support::{find, start_server, Response, TestServer};
use std::os::unix::fs::FileExt;
use std::time::{Duration, SystemTime};

/// 100,000 bytes where every offset has a telling value.
fn pattern() -> Vec<u8> {
    (0..100_000u32).map(|i| (i % 251) as u8).collect()
}

/// A server whose root also holds `pattern.bin` with [`pattern`], dated
/// an hour ago (so its Last-Modified is a strong validator).
fn server_with_pattern() -> TestServer {
    let server = start_server(|_| {});
    let path = server.root.path().join("pattern.bin");
    std::fs::write(&path, pattern()).unwrap();
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    server
}

fn get_with(server: &TestServer, path: &str, fields: &str) -> Response {
    server.request(format!("GET {path} HTTP/1.1\r\nHost: x\r\n{fields}\r\n").as_bytes())
}

/// Ask `/pattern.bin` for `range`; it must be a 206 of bytes `first` to
/// `last` of `whole`.
fn assert_single_range(
    server: &TestServer,
    whole: &[u8],
    range: &str,
    first: usize,
    last: usize,
) -> Response {
    let response = get_with(server, "/pattern.bin", &format!("Range: {range}\r\n"));
    assert_eq!(response.status, 206, "{range}");
    assert_eq!(
        response.field("Content-Range"),
        Some(format!("bytes {first}-{last}/100000").as_str()),
        "{range}"
    );
    assert_eq!(response.body, &whole[first..=last], "{range}");
    response
}

#[test]
fn single_range_in_each_form_is_206_with_content_range() {
    let server = server_with_pattern();
    let whole = pattern();
    // (Range, first byte, last byte)
    let cases: &[(&str, usize, usize)] = &[
        ("bytes=0-499", 0, 499),
        ("bytes=1000-1999", 1000, 1999),
        ("bytes=99000-", 99_000, 99_999),
        ("bytes=-300", 99_700, 99_999),
        // End past the file: clamped.
        ("bytes=99990-200000", 99_990, 99_999),
        // Suffix longer than the file: all of it.
        ("bytes=-500000", 0, 99_999),
    ];
    for (range, first, last) in cases {
        let response = assert_single_range(&server, &whole, range, *first, *last);
        assert_eq!(
            response.field("Content-Length"),
            Some((last - first + 1).to_string().as_str())
        );
        assert_eq!(
            response.field("Content-Type"),
            Some("application/octet-stream")
        );
        assert_eq!(response.field("Accept-Ranges"), Some("bytes"));
        assert!(response.field("ETag").is_some());
    }
}

#[test]
fn every_file_response_advertises_byte_ranges() {
    let server = start_server(|_| {});
    for path in ["/index.html", "/style.css", "/data.bin", "/docs/"] {
        let response = get_with(&server, path, "");
        assert_eq!(response.status, 200, "{path}");
        assert_eq!(response.field("Accept-Ranges"), Some("bytes"), "{path}");
    }
}

#[test]
fn unsatisfiable_range_is_416_with_the_length() {
    let server = start_server(|_| {});
    for range in ["bytes=100000-", "bytes=200000-300000", "bytes=-0"] {
        let response = get_with(&server, "/data.bin", &format!("Range: {range}\r\n"));
        assert_eq!(response.status, 416, "{range}");
        assert_eq!(response.field("Content-Range"), Some("bytes */100000"));
        assert!(response.body.len() < 100, "{range}");
    }
}

/// Issue 11: positions are `1*DIGIT` with no bound (RFC 9110 §14.1.1), so
/// numbers past 64 bits are valid: a first position past the end is 416, a
/// last position past the end is clamped, and a suffix longer than the file
/// is all of it; leading zeros change nothing.
#[test]
fn issue11_positions_past_64_bits_are_valid_ranges() {
    let server = server_with_pattern();
    let whole = pattern();
    for range in [
        "bytes=18446744073709551616-",
        "bytes=99999999999999999999999999999999-99999999999999999999999999999999",
    ] {
        let response = get_with(&server, "/pattern.bin", &format!("Range: {range}\r\n"));
        assert_eq!(response.status, 416, "{range}");
        assert_eq!(response.field("Content-Range"), Some("bytes */100000"));
        assert!(response.body.len() < 100, "{range}");
    }
    let zeros = "0".repeat(1000);
    let padded = format!("bytes={zeros}10-{zeros}19");
    // (Range, first byte, last byte)
    let cases: &[(&str, usize, usize)] = &[
        ("bytes=0-99999999999999999999", 0, 99_999),
        ("bytes=99990-18446744073709551616", 99_990, 99_999),
        ("bytes=-99999999999999999999", 0, 99_999),
        (&padded, 10, 19),
    ];
    for (range, first, last) in cases {
        assert_single_range(&server, &whole, range, *first, *last);
    }
}

#[test]
fn malformed_range_is_ignored() {
    let server = start_server(|_| {});
    for range in [
        "bytes=5-4",
        "bytes=abc",
        "bytes",
        "lines=1-2",
        "bytes=1-2;3-4",
    ] {
        let response = get_with(&server, "/data.bin", &format!("Range: {range}\r\n"));
        assert_eq!(response.status, 200, "{range}");
        assert_eq!(response.body.len(), 100_000, "{range}");
        assert_eq!(response.field("Content-Range"), None, "{range}");
    }
    // Two Range fields: ambiguous, ignored.
    let response = get_with(
        &server,
        "/data.bin",
        "Range: bytes=0-1\r\nRange: bytes=2-3\r\n",
    );
    assert_eq!(response.status, 200);
}

#[test]
fn if_range_with_a_matching_etag_or_date_applies_the_range() {
    let server = server_with_pattern();
    let plain = get_with(&server, "/pattern.bin", "");
    let etag = plain.field("ETag").unwrap().to_owned();
    let date = plain.field("Last-Modified").unwrap().to_owned();
    for if_range in [etag.as_str(), date.as_str()] {
        let response = get_with(
            &server,
            "/pattern.bin",
            &format!("Range: bytes=10-19\r\nIf-Range: {if_range}\r\n"),
        );
        assert_eq!(response.status, 206, "{if_range}");
        assert_eq!(response.body, &pattern()[10..20]);
    }
}

#[test]
fn if_range_that_does_not_match_sends_the_whole_file() {
    let server = server_with_pattern();
    let plain = get_with(&server, "/pattern.bin", "");
    let etag = plain.field("ETag").unwrap().to_owned();
    let weak = format!("W/{etag}");
    for if_range in [
        "\"stale\"",
        weak.as_str(), // If-Range needs a strong match
        "Thu, 01 Jan 2015 00:00:00 GMT",
        "not a validator",
    ] {
        let response = get_with(
            &server,
            "/pattern.bin",
            &format!("Range: bytes=10-19\r\nIf-Range: {if_range}\r\n"),
        );
        assert_eq!(response.status, 200, "{if_range}");
        assert_eq!(response.body, pattern(), "{if_range}");
    }
}

#[test]
fn if_range_date_of_a_file_modified_this_second_is_weak() {
    let server = start_server(|_| {});
    let path = server.root.path().join("fresh.txt");
    std::fs::write(&path, b"0123456789").unwrap();
    // Dated in the future: its modification second is not over.
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(SystemTime::now() + Duration::from_secs(3600))
        .unwrap();
    let date = get_with(&server, "/fresh.txt", "")
        .field("Last-Modified")
        .unwrap()
        .to_owned();
    let response = get_with(
        &server,
        "/fresh.txt",
        &format!("Range: bytes=0-1\r\nIf-Range: {date}\r\n"),
    );
    assert_eq!(response.status, 200);
}

/// Split a `multipart/byteranges` body into (part fields, part data).
fn parse_multipart(body: &[u8], boundary: &str) -> Vec<(String, Vec<u8>)> {
    let delimiter = format!("--{boundary}");
    let close = format!("\r\n--{boundary}--\r\n");
    assert!(
        body.starts_with(delimiter.as_bytes()),
        "starts with the delimiter"
    );
    assert!(
        body.ends_with(close.as_bytes()),
        "ends with the close delimiter"
    );
    let inner = &body[..body.len() - close.len()];
    let separator = format!("\r\n--{boundary}\r\n");
    let mut parts = Vec::new();
    let mut rest = &inner[delimiter.len() + 2..];
    loop {
        let head_end = find(rest, b"\r\n\r\n").expect("part head");
        let head = String::from_utf8(rest[..head_end].to_vec()).unwrap();
        let data_and_more = &rest[head_end + 4..];
        // The data length comes from Content-Range, so data that happened to
        // contain the separator could not confuse this parser.
        let range = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Range: bytes "))
            .expect("part Content-Range");
        let (span, _) = range.split_once('/').unwrap();
        let (first, last) = span.split_once('-').unwrap();
        let len = last.parse::<usize>().unwrap() - first.parse::<usize>().unwrap() + 1;
        parts.push((head, data_and_more[..len].to_vec()));
        let after = &data_and_more[len..];
        if after.is_empty() {
            return parts;
        }
        assert!(
            after.starts_with(separator.as_bytes()),
            "separator between parts"
        );
        rest = &after[separator.len()..];
    }
}

#[test]
fn several_ranges_give_a_multipart_body_that_parses_back() {
    let server = server_with_pattern();
    let whole = pattern();
    let response = get_with(
        &server,
        "/pattern.bin",
        "Range: bytes=0-9, 50000-50099,-5\r\n",
    );
    assert_eq!(response.status, 206);
    assert_eq!(response.field("Content-Range"), None);
    let content_type = response.field("Content-Type").unwrap();
    let boundary = content_type
        .strip_prefix("multipart/byteranges; boundary=")
        .unwrap_or_else(|| panic!("{content_type}"));
    assert_eq!(
        response.field("Content-Length"),
        Some(response.body.len().to_string().as_str())
    );
    let parts = parse_multipart(&response.body, boundary);
    let expected = [(0, 9), (50_000, 50_099), (99_995, 99_999)];
    assert_eq!(parts.len(), expected.len());
    for ((head, data), (first, last)) in parts.iter().zip(expected) {
        assert!(
            head.contains("Content-Type: application/octet-stream"),
            "{head}"
        );
        assert!(
            head.contains(&format!("Content-Range: bytes {first}-{last}/100000")),
            "{head}"
        );
        assert_eq!(data, &whole[first..=last]);
    }
    // The same request again gets the same boundary (fixed per file version).
    let again = get_with(
        &server,
        "/pattern.bin",
        "Range: bytes=0-9, 50000-50099,-5\r\n",
    );
    assert_eq!(again.body, response.body);
}

#[test]
fn multipart_with_a_large_part_goes_by_sendfile_and_arrives_whole() {
    let server = server_with_pattern();
    let whole = pattern();
    let response = get_with(&server, "/pattern.bin", "Range: bytes=0-0,10-89999\r\n");
    assert_eq!(response.status, 206);
    let boundary = response
        .field("Content-Type")
        .unwrap()
        .strip_prefix("multipart/byteranges; boundary=")
        .unwrap()
        .to_owned();
    let parts = parse_multipart(&response.body, &boundary);
    assert_eq!(parts[0].1, &whole[0..1]);
    assert_eq!(parts[1].1, &whole[10..90_000]);
}

#[test]
fn amplification_attempts_get_at_most_the_file() {
    let server = start_server(|_| {});
    let overlapping = ["0-"; 10].join(",");
    let seventeen = (0..17)
        .map(|i| format!("{}-{}", i * 100, i * 100 + 1))
        .collect::<Vec<_>>()
        .join(",");
    let many_tiny_on_small = "0-0,2-2,4-4,6-6";
    // (path, Range, file length)
    let cases = [
        ("/data.bin", overlapping.as_str(), 100_000),
        ("/data.bin", "0-99999,0-99999", 100_000),
        ("/data.bin", seventeen.as_str(), 100_000),
        ("/style.css", many_tiny_on_small, 22),
    ];
    for (path, range, len) in cases {
        let response = get_with(&server, path, &format!("Range: bytes={range}\r\n"));
        assert_eq!(response.status, 200, "{path} {range}");
        assert_eq!(response.body.len(), len, "{path} {range}");
    }
    // Sixteen tiny ranges of a large file are served, and the response is
    // far smaller than the file.
    let sixteen = (0..16)
        .map(|i| format!("{}-{}", i * 1000, i * 1000))
        .collect::<Vec<_>>()
        .join(",");
    let response = get_with(&server, "/data.bin", &format!("Range: bytes={sixteen}\r\n"));
    assert_eq!(response.status, 206);
    assert!(
        response.body.len() < 100_000 / 10,
        "{}",
        response.body.len()
    );
    // Several ranges, none satisfiable: 416.
    let response = get_with(&server, "/data.bin", "Range: bytes=100000-,200000-\r\n");
    assert_eq!(response.status, 416);
}

#[test]
fn head_with_range_gets_the_fields_of_a_plain_get() {
    let server = start_server(|_| {});
    let mut client = server.connect();
    client.send(b"HEAD /data.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9\r\n\r\n");
    let response = client.head_response();
    assert_eq!(response.status, 200);
    assert_eq!(response.field("Content-Length"), Some("100000"));
    assert_eq!(response.field("Accept-Ranges"), Some("bytes"));
    assert_eq!(response.field("Content-Range"), None);
    // Nothing followed the head: the next response starts right away.
    client.send(b"GET /style.css HTTP/1.1\r\nHost: x\r\nRange: bytes=0-3\r\n\r\n");
    let next = client.response();
    assert_eq!(next.status, 206);
    assert_eq!(next.body, b"body");
}

#[test]
fn range_near_the_end_of_a_file_over_4_gib() {
    let server = start_server(|_| {});
    let len: u64 = 5 << 30;
    let path = server.root.path().join("huge.bin");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(len).unwrap(); // sparse: no disk blocks
    file.write_all_at(b"tail-of-huge", len - 12).unwrap();
    file.write_all_at(b"past-4-GiB", 1 << 32).unwrap();
    drop(file);

    let response = get_with(&server, "/huge.bin", "Range: bytes=-12\r\n");
    assert_eq!(response.status, 206);
    assert_eq!(
        response.field("Content-Range"),
        Some("bytes 5368709108-5368709119/5368709120")
    );
    assert_eq!(response.body, b"tail-of-huge");

    let response = get_with(
        &server,
        "/huge.bin",
        "Range: bytes=4294967296-4294967305\r\n",
    );
    assert_eq!(response.status, 206);
    assert_eq!(response.body, b"past-4-GiB");

    let mut client = server.connect();
    client.send(b"HEAD /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    let head = client.head_response();
    assert_eq!(head.field("Content-Length"), Some("5368709120"));

    let response = get_with(&server, "/huge.bin", "Range: bytes=5368709120-\r\n");
    assert_eq!(response.status, 416);
    assert_eq!(response.field("Content-Range"), Some("bytes */5368709120"));
}
