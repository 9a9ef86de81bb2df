//! POST /echo, as curl sends it and as other clients might.

use crate::support::start_server;

#[test]
fn echo_returns_the_json_it_received_whatever_the_content_type() {
    let server = start_server(|_| {});
    let body = r#"{"message": "hello"}"#;
    let request = format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let response = server.request(request.as_bytes());
    assert_eq!(response.status, 200);
    assert_eq!(response.field("Content-Type"), Some("application/json"));
    assert_eq!(response.text(), r#"{"received": {"message": "hello"}}"#);
}

#[test]
fn chunked_body_is_decoded() {
    let server = start_server(|_| {});
    let response = server.request(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\n{\"a\":\r\n3\r\n 1}\r\n0\r\nX-Trailer: dropped\r\n\r\n",
    );
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), r#"{"received": {"a": 1}}"#);
}

#[test]
fn empty_and_invalid_bodies_are_400_with_a_json_error() {
    let server = start_server(|_| {});
    for request in [
        &b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"[..],
        &b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n{oops"[..],
    ] {
        let response = server.request(request);
        assert_eq!(response.status, 400);
        assert_eq!(response.field("Content-Type"), Some("application/json"));
        let value: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
        assert!(value["error"].is_string(), "{}", response.text());
    }
}

#[test]
fn echo_with_another_method_is_405_listing_post_and_options() {
    let server = start_server(|_| {});
    let response = server.request(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.status, 405);
    assert_eq!(response.field("Allow"), Some("OPTIONS, POST"));
}

#[test]
fn expect_100_continue_gets_continue_before_the_body_is_sent() {
    let server = start_server(|_| {});
    let mut client = server.connect();
    client.send(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 7\r\n\r\n",
    );
    let interim = client.response();
    assert_eq!(interim.status, 100);
    client.send(b"[1, 2]\n");
    let response = client.response();
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), r#"{"received": [1, 2]}"#);
}

#[test]
fn expect_100_continue_on_a_rejected_request_gets_the_final_status_without_continue() {
    let server = start_server(|_| {});
    let mut client = server.connect();
    client.send(b"PUT /index.html HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 100000\r\n\r\n");
    let response = client.response();
    assert_eq!(response.status, 405);
    // The body was never read, so the connection cannot carry another request.
    assert_eq!(response.field("Connection"), Some("close"));
    assert!(client.is_closed_by_server());
}

#[test]
fn other_expectations_are_417() {
    let server = start_server(|_| {});
    let response = server.request(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\nContent-Length: 2\r\n\r\n{}",
    );
    assert_eq!(response.status, 417);
}

#[test]
fn a_417_beside_100_continue_closes_rather_than_read_a_body_that_may_never_come() {
    let server = start_server(|_| {});
    let mut client = server.connect();
    // The client holds its 5 bytes back, waiting for 100 Continue; had the
    // connection stayed open, the next request's first bytes would have
    // been drained as that body.
    client.send(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue, foo\r\nContent-Length: 5\r\n\r\n",
    );
    let response = client.response();
    assert_eq!(response.status, 417);
    assert_eq!(response.field("Connection"), Some("close"));
    assert!(client.is_closed_by_server());
}

#[test]
fn http_1_0_ignores_100_continue_but_not_other_expectations() {
    let server = start_server(|_| {});
    let ignored = server
        .request(b"POST /echo HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}");
    assert_eq!(ignored.status, 200);
    let unknown = server.request(b"GET /style.css HTTP/1.0\r\nExpect: something-else\r\n\r\n");
    assert_eq!(unknown.status, 417);
}

/// Issue 11: `/echo` has no current representation (it answers POST only;
/// GET is 405), so by RFC 9110 §13.1.1 any `If-Match`, `*` included, is false
/// and the answer is 412, evaluated before the body is looked at (§13.2.1).
/// `If-None-Match` is true for the same reason (§13.1.2) and the date fields
/// have no date to compare (§13.1.3, §13.1.4, GET/HEAD only), so they proceed.
#[test]
fn issue_11_echo_preconditions_if_match_fails_the_rest_proceed() {
    let server = start_server(|_| {});
    let post = |fields: &str, body: &str| {
        format!(
            "POST /echo HTTP/1.1\r\nHost: x\r\n{fields}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let cases = [
        ("If-Match: *\r\n", "[1]", 412),
        ("If-Match: \"x\", \"y\"\r\n", "[1]", 412),
        ("If-Match: *\r\n", "{oops", 412),
        ("If-None-Match: *\r\n", "[1]", 200),
        ("If-None-Match: \"x\"\r\n", "[1]", 200),
        (
            "If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n",
            "[1]",
            200,
        ),
        (
            "If-Modified-Since: Fri, 31 Dec 9999 23:59:59 GMT\r\n",
            "[1]",
            200,
        ),
    ];
    let mut client = server.connect();
    for (fields, body, status) in cases {
        client.send(post(fields, body).as_bytes());
        let response = client.response();
        assert_eq!(response.status, status, "{fields:?}");
        assert_eq!(response.field("Content-Type"), Some("application/json"));
        let value: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
        if status == 412 {
            assert!(value["error"].is_string(), "{}", response.text());
        } else {
            assert_eq!(value["received"], serde_json::json!([1]), "{fields:?}");
        }
    }
}
