//! Each size limit, with tiny configured values.

use crate::support::start_server;

#[test]
fn request_line_over_the_limit_is_414() {
    let server = start_server(|c| c.limits.max_request_line_bytes = 64);
    let ok = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(40));
    assert_eq!(server.request(ok.as_bytes()).status, 404);
    let long = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(100));
    let response = server.request(long.as_bytes());
    assert_eq!(response.status, 414);
    assert_eq!(response.field("Connection"), Some("close"));
}

#[test]
fn request_line_over_the_limit_is_414_before_it_ends() {
    let server = start_server(|c| c.limits.max_request_line_bytes = 64);
    let mut client = server.connect();
    client.send(format!("GET /{}", "a".repeat(200)).as_bytes());
    assert_eq!(client.response().status, 414);
}

#[test]
fn header_section_over_the_limit_is_431() {
    let server = start_server(|c| c.limits.max_head_bytes = 256);
    let request = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "b".repeat(300)
    );
    let response = server.request(request.as_bytes());
    assert_eq!(response.status, 431);
    assert_eq!(response.field("Connection"), Some("close"));
}

#[test]
fn too_many_fields_is_431() {
    let server = start_server(|c| c.limits.max_headers = 5);
    let fields: String = (0..6).map(|i| format!("X-{i}: v\r\n")).collect();
    let request = format!("GET / HTTP/1.1\r\nHost: x\r\n{fields}\r\n");
    assert_eq!(server.request(request.as_bytes()).status, 431);
}

#[test]
fn body_over_the_limit_is_413() {
    let server = start_server(|c| c.limits.max_body_bytes = 16);
    let declared = server
        .request(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n\r\n[1,2,3,4,5,6,7,8]");
    assert_eq!(declared.status, 413);
    assert_eq!(declared.field("Connection"), Some("close"));
    let chunked = server.request(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n[1,2,3,4,\r\n9\r\n5,6,7,8]\r\n0\r\n\r\n");
    assert_eq!(chunked.status, 413);
    let fits = server
        .request(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 16\r\n\r\n[1,2,3,4,5,6,78]");
    assert_eq!(fits.status, 200);
}

#[test]
fn connection_cap_queues_clients_until_a_slot_frees() {
    let server = start_server(|c| {
        c.max_connections = 1;
        c.workers = 1;
    });
    let mut first = server.connect();
    first.send(b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(first.response().status, 200);
    // The second client is accepted by the kernel but waits for a slot.
    let mut second = server.connect();
    second.send(b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
    second
        .stream
        .set_read_timeout(Some(std::time::Duration::from_millis(300)))
        .unwrap();
    let mut probe = [0u8; 1];
    let waited = std::io::Read::read(&mut second.stream, &mut probe);
    assert!(
        waited.is_err(),
        "second client was served while the cap was reached"
    );
    second
        .stream
        .set_read_timeout(Some(crate::support::READ_DEADLINE))
        .unwrap();
    drop(first);
    assert_eq!(second.response().status, 200);
}
