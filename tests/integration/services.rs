//! A server is handed what it serves (issue 12): listeners, each paired
//! with its own router, whose handlers may hold state. The next issue's
//! admin listener (health, metrics) is built this way.

use crate::support::{write_fixture, Client, SharedSink};
use bytes::Bytes;
use httpserver::proto::{Method, RequestHead};
use httpserver::service::{Body, Response};
use httpserver::{Config, Listener, Router, Server};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const GET_HITS: &[u8] = b"GET /hits HTTP/1.1\r\nHost: x\r\n\r\n";
const GET_INDEX: &[u8] = b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";

#[test]
fn each_listener_serves_its_own_service_and_handlers_keep_state() {
    let root = tempfile::tempdir().unwrap();
    write_fixture(root.path());
    let mut config = Config::new(
        "127.0.0.1:0".parse().unwrap(),
        root.path().canonicalize().unwrap(),
    );
    config.workers = 2;
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&hits);
    let admin = Router::new().with_route(Method::Get, "/hits", move |_: &RequestHead, _: &[u8]| {
        let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
        Response {
            status: 200,
            fields: Vec::new(),
            body: Body::Bytes(Bytes::from(n.to_string())),
        }
    });
    let site = httpserver::site(&config).unwrap();
    let listen = || Listener::bind(config.addr, config.timeouts.defer_accept).unwrap();
    let (site_listener, admin_listener) = (listen(), listen());
    let server = Server::new(config, vec![(site_listener, site), (admin_listener, admin)]);
    let &[site_addr, admin_addr] = &server.local_addrs()[..] else {
        panic!("two listeners");
    };
    assert_eq!(server.local_addr(), site_addr);
    let log = Arc::new(Mutex::new(Vec::new()));
    let running = server
        .start(Box::new(SharedSink(Arc::clone(&log))))
        .unwrap();

    let mut on_site = Client::connect(site_addr);
    on_site.send(GET_INDEX);
    assert_eq!(on_site.response().status, 200);
    on_site.send(GET_HITS);
    assert_eq!(on_site.response().status, 404, "the site has no /hits");

    let mut on_admin = Client::connect(admin_addr);
    for expected in ["1", "2"] {
        on_admin.send(GET_HITS);
        let response = on_admin.response();
        assert_eq!(response.status, 200);
        assert_eq!(response.text(), expected, "the handler kept its count");
    }
    on_admin.send(GET_INDEX);
    assert_eq!(
        on_admin.response().status,
        404,
        "the admin service has no files"
    );
    on_admin.send(b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(on_admin.response().field("Allow"), Some("GET, OPTIONS"));
    on_site.send(b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(
        on_site.response().field("Allow"),
        Some("GET, HEAD, OPTIONS, POST")
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        2,
        "the state outlives requests"
    );

    drop((on_site, on_admin));
    running.shutdown();
    let log = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    assert_eq!(log.lines().count(), 7, "both listeners log: {log}");
}
