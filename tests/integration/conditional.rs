//! Conditional requests (RFC 9110 §13) on the wire: 304 and 412.

use crate::support::{start_server, Response, TestServer};
use std::time::{Duration, SystemTime};

/// Sat, 01 Feb 2020 00:00:00 GMT, the date of `dated.txt`.
const DATED: &str = "Sat, 01 Feb 2020 00:00:00 GMT";
const BEFORE: &str = "Fri, 31 Jan 2020 23:59:59 GMT";
const AFTER: &str = "Sat, 01 Feb 2020 00:00:01 GMT";

/// A server whose root also holds `dated.txt`, last modified at [`DATED`].
fn server_with_dated_file() -> TestServer {
    let server = start_server(|_| {});
    let path = server.root.path().join("dated.txt");
    std::fs::write(&path, b"dated\n").unwrap();
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_580_515_200))
        .unwrap();
    server
}

fn request(server: &TestServer, method: &str, fields: &str) -> Response {
    let raw = format!("{method} /dated.txt HTTP/1.1\r\nHost: x\r\n{fields}\r\n");
    let mut client = server.connect();
    client.send(raw.as_bytes());
    if method == "HEAD" {
        client.head_response()
    } else {
        client.response()
    }
}

fn etag(server: &TestServer) -> String {
    let response = request(server, "GET", "");
    assert_eq!(response.field("Last-Modified"), Some(DATED));
    response.field("ETag").unwrap().to_owned()
}

/// A 304 carries the validators and Cache-Control, and nothing about content.
fn assert_not_modified(response: &Response, etag: &str, case: &str) {
    assert_eq!(response.status, 304, "{case}");
    assert_eq!(response.field("ETag"), Some(etag), "{case}");
    assert_eq!(response.field("Last-Modified"), Some(DATED), "{case}");
    assert_eq!(response.field("Cache-Control"), Some("no-cache"), "{case}");
    assert_eq!(response.field("Content-Length"), None, "{case}");
    assert_eq!(response.field("Content-Type"), None, "{case}");
    assert!(response.body.is_empty(), "{case}");
}

#[test]
fn if_none_match_gives_304_for_the_tag_a_list_star_and_weak_forms() {
    let server = server_with_dated_file();
    let etag = etag(&server);
    let list = format!("\"other\", {etag}, \"more\"");
    let weak = format!("W/{etag}");
    for value in [etag.as_str(), list.as_str(), "*", weak.as_str()] {
        for method in ["GET", "HEAD"] {
            let response = request(&server, method, &format!("If-None-Match: {value}\r\n"));
            assert_not_modified(&response, &etag, &format!("{method} {value}"));
        }
    }
    let response = request(&server, "GET", "If-None-Match: \"other\"\r\n");
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"dated\n");
}

#[test]
fn a_304_leaves_the_connection_ready_for_the_next_request() {
    let server = server_with_dated_file();
    let etag = etag(&server);
    let mut client = server.connect();
    client.send(
        format!(
            "GET /dated.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: {etag}\r\n\r\n\
             GET /dated.txt HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(client.response().status, 304);
    let second = client.response();
    assert_eq!(second.status, 200);
    assert_eq!(second.body, b"dated\n");
}

#[test]
fn if_modified_since_gives_304_unless_modified_later() {
    let server = server_with_dated_file();
    let etag = etag(&server);
    for (value, status) in [
        (DATED, 304),
        (AFTER, 304),
        ("Saturday, 01-Feb-20 00:00:00 GMT", 304),
        ("Sat Feb  1 00:00:00 2020", 304),
        (BEFORE, 200),
        ("not a date", 200),
    ] {
        let response = request(&server, "GET", &format!("If-Modified-Since: {value}\r\n"));
        assert_eq!(response.status, status, "{value}");
        if status == 304 {
            assert_not_modified(&response, &etag, value);
        }
    }
}

#[test]
fn if_modified_since_is_ignored_when_if_none_match_is_present() {
    let server = server_with_dated_file();
    let response = request(
        &server,
        "GET",
        &format!("If-None-Match: \"other\"\r\nIf-Modified-Since: {AFTER}\r\n"),
    );
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"dated\n");
}

#[test]
fn if_match_and_if_unmodified_since_give_412() {
    let server = server_with_dated_file();
    let etag = etag(&server);
    let weak = format!("W/{etag}");
    let matching = format!("If-Match: {etag}\r\n");
    let weak_match = format!("If-Match: {weak}\r\n");
    let before = format!("If-Unmodified-Since: {BEFORE}\r\n");
    let at = format!("If-Unmodified-Since: {DATED}\r\n");
    let cases: &[(&str, u16)] = &[
        ("If-Match: \"other\"\r\n", 412),
        (&weak_match, 412), // If-Match compares strongly
        (&matching, 200),
        ("If-Match: *\r\n", 200),
        (&before, 412),
        (&at, 200),
        // If-Unmodified-Since is ignored when If-Match is present.
        (
            &format!("If-Match: {etag}\r\nIf-Unmodified-Since: {BEFORE}\r\n"),
            200,
        ),
    ];
    for (fields, status) in cases {
        let response = request(&server, "GET", fields);
        assert_eq!(response.status, *status, "{fields:?}");
        if *status == 412 {
            assert_eq!(response.text(), "Precondition Failed");
        }
    }
}

#[test]
fn if_match_failing_wins_over_if_none_match() {
    let server = server_with_dated_file();
    let etag = etag(&server);
    let response = request(
        &server,
        "GET",
        &format!("If-Match: \"other\"\r\nIf-None-Match: {etag}\r\n"),
    );
    assert_eq!(response.status, 412);
}

#[test]
fn preconditions_come_before_ranges() {
    let server = server_with_dated_file();
    let etag = etag(&server);
    let response = request(
        &server,
        "GET",
        &format!("If-None-Match: {etag}\r\nRange: bytes=0-1\r\n"),
    );
    assert_eq!(response.status, 304);
    let response = request(&server, "GET", "If-Match: \"x\"\r\nRange: bytes=0-1\r\n");
    assert_eq!(response.status, 412);
    let response = request(
        &server,
        "GET",
        &format!("If-Match: {etag}\r\nRange: bytes=0-1\r\n"),
    );
    assert_eq!(response.status, 206);
    assert_eq!(response.body, b"da");
}
