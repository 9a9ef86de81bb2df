//! GET and HEAD of files under the root, redirects, traversal, routing errors.

use crate::support::start_server;

#[test]
fn index_html_is_served_with_type_length_and_keep_alive() {
    let server = start_server(|_| {});
    let response = server.request(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.status, 200);
    assert_eq!(
        response.field("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    let expected = std::fs::read(server.root.path().join("index.html")).unwrap();
    assert_eq!(
        response.field("Content-Length"),
        Some(expected.len().to_string().as_str())
    );
    assert_eq!(response.body, expected);
    assert_eq!(response.field("Connection"), Some("keep-alive"));
    assert!(response.field("Date").is_some_and(|d| d.ends_with(" GMT")));
    assert!(response.field("ETag").is_some());
    assert!(response.field("Last-Modified").is_some());
}

#[test]
fn a_file_larger_than_one_write_arrives_whole() {
    let server = start_server(|_| {});
    let response = server.request(b"GET /data.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.status, 200);
    assert_eq!(
        response.field("Content-Type"),
        Some("application/octet-stream")
    );
    assert_eq!(response.body, vec![7u8; 100_000]);
}

#[test]
fn head_has_the_get_fields_and_no_body() {
    let server = start_server(|_| {});
    let mut client = server.connect();
    client.send(b"HEAD /data.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    let head = client.head_response();
    assert_eq!(head.status, 200);
    assert_eq!(head.field("Content-Length"), Some("100000"));
    // The next response on the connection starts right after the head:
    // had a body been sent, this would read body bytes instead.
    client.send(b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
    let next = client.response();
    assert_eq!(next.status, 200);
    assert_eq!(next.field("Content-Type"), Some("text/css; charset=utf-8"));
}

#[test]
fn root_and_directory_with_slash_serve_their_index() {
    let server = start_server(|_| {});
    assert_eq!(
        server.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").text(),
        std::fs::read_to_string(server.root.path().join("index.html")).unwrap()
    );
    assert_eq!(
        server
            .request(b"GET /docs/ HTTP/1.1\r\nHost: x\r\n\r\n")
            .text(),
        "<h1>docs</h1>\n"
    );
}

#[test]
fn directory_without_slash_redirects_to_the_slash_form_keeping_the_query() {
    let server = start_server(|_| {});
    let response = server.request(b"GET /docs?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.status, 301);
    // Relative: the last segment plus `/` (see tests/integration/policies.rs).
    assert_eq!(response.field("Location"), Some("docs/?x=1"));
}

#[test]
fn missing_file_is_404_with_a_short_text_body() {
    let server = start_server(|_| {});
    let response = server.request(b"GET /not-found HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.status, 404);
    assert!(response
        .field("Content-Type")
        .is_some_and(|t| t.starts_with("text/plain")));
    assert!(!response.body.is_empty() && response.body.len() < 100);
}

#[test]
fn directory_without_index_is_404() {
    let server = start_server(|_| {});
    assert_eq!(
        server
            .request(b"GET /empty/ HTTP/1.1\r\nHost: x\r\n\r\n")
            .status,
        404
    );
}

#[test]
fn query_is_ignored_and_percent_escapes_are_decoded_once() {
    let server = start_server(|_| {});
    std::fs::write(server.root.path().join("a b.txt"), "spaced\n").unwrap();
    std::fs::write(server.root.path().join("%41.txt"), "literal\n").unwrap();
    assert_eq!(
        server
            .request(b"GET /a%20b.txt?v=3 HTTP/1.1\r\nHost: x\r\n\r\n")
            .text(),
        "spaced\n"
    );
    // `%2541` decodes once to `%41`, the literal file name, not to `A`.
    assert_eq!(
        server
            .request(b"GET /%2541.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            .text(),
        "literal\n"
    );
}

#[test]
fn traversal_attempts_never_leave_the_root() {
    let outer = tempfile::tempdir().unwrap();
    std::fs::write(outer.path().join("secret.txt"), "SECRET").unwrap();
    let server = start_server(|_| {});
    std::os::unix::fs::symlink(
        outer.path().join("secret.txt"),
        server.root.path().join("escape.txt"),
    )
    .unwrap();
    std::os::unix::fs::symlink(outer.path(), server.root.path().join("escape-dir")).unwrap();
    let secret_name = outer.path().join("secret.txt");
    let absolute = format!("GET {} HTTP/1.1\r\nHost: x\r\n\r\n", secret_name.display());
    let attempts: Vec<Vec<u8>> = vec![
        b"GET /../secret.txt HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"GET /%2e%2e/secret.txt HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"GET /%2E%2E%2fsecret.txt HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"GET /docs/..%2f..%2fsecret.txt HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"GET /..%5csecret.txt HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"GET /index.html%00.txt HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"GET /%c0%ae%c0%ae/secret.txt HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"GET //etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"GET /escape.txt HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"GET /escape-dir/secret.txt HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        absolute.into_bytes(),
    ];
    for attempt in attempts {
        let response = server.request(&attempt);
        assert!(
            matches!(response.status, 400 | 403 | 404),
            "{:?} gave {}",
            String::from_utf8_lossy(&attempt),
            response.status
        );
        assert!(!response.text().contains("SECRET"));
        assert!(!response.text().contains("root:"));
    }
}

#[test]
fn symlink_that_stays_inside_the_root_is_followed() {
    let server = start_server(|_| {});
    std::os::unix::fs::symlink("style.css", server.root.path().join("alias.css")).unwrap();
    let response = server.request(b"GET /alias.css HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "body { color: #222; }\n");
}

#[test]
fn other_methods_on_a_file_are_405_with_allow() {
    let server = start_server(|_| {});
    for method in ["PUT", "DELETE", "PATCH"] {
        let request =
            format!("{method} /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        let response = server.request(request.as_bytes());
        assert_eq!(response.status, 405, "{method}");
        assert_eq!(response.field("Allow"), Some("GET, HEAD, OPTIONS"));
    }
}

#[test]
fn options_is_204_with_allow() {
    let server = start_server(|_| {});
    let response = server.request(b"OPTIONS /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.status, 204);
    assert_eq!(response.field("Allow"), Some("GET, HEAD, OPTIONS"));
    assert_eq!(response.field("Content-Length"), None);
    let star = server.request(b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(star.status, 204);
    assert!(star.field("Allow").is_some_and(|a| a.contains("POST")));
}

#[test]
fn unknown_method_is_501() {
    let server = start_server(|_| {});
    assert_eq!(
        server
            .request(b"BREW /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
            .status,
        501
    );
}

#[test]
fn absolute_form_target_is_served_by_its_path() {
    let server = start_server(|_| {});
    let response = server.request(b"GET http://x/style.css HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "body { color: #222; }\n");
}

#[test]
fn a_file_with_a_trailing_slash_is_404() {
    let server = start_server(|_| {});
    assert_eq!(
        server
            .request(b"GET /style.css/ HTTP/1.1\r\nHost: x\r\n\r\n")
            .status,
        404
    );
}
