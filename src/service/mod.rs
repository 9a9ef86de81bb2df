//! What answers a request. Services see a parsed [`RequestHead`] (and, for
//! routes that take one, the whole body) and return a [`Response`]; they never
//! see a socket.

pub mod echo;
pub mod response;
pub mod static_files;

pub use response::{Body, Response};

use crate::proto::{Method, RequestHead};
use static_files::StaticFiles;

/// A handler for a route that needs the request body, called once the driver
/// has read all of it.
pub type BodyHandler = fn(&RequestHead, &[u8]) -> Response;

/// The router's answer to a head: respond now, or read the body first.
pub enum Routed {
    Respond(Response),
    ReadBody(BodyHandler),
}

impl std::fmt::Debug for Routed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Routed::Respond(response) => f.debug_tuple("Respond").field(response).finish(),
            Routed::ReadBody(_) => f.write_str("ReadBody(..)"),
        }
    }
}

/// The methods the server implements for `*` (RFC 9110 §9.3.7): the union
/// of the static-file methods and the routes' methods.
const ALLOW_SERVER: &str = "GET, HEAD, OPTIONS, POST";

/// The methods a static-file path answers.
const ALLOW_STATIC: &str = "GET, HEAD, OPTIONS";

/// Maps a request head to the code that answers it: registered routes first,
/// then static files from the root.
///
/// The rules, in order:
/// 1. A method the server does not know (`Method::Other`) is 501
///    (RFC 9110 §9.1), wherever it is aimed.
/// 2. `*` (asterisk-form) is only for `OPTIONS` (RFC 9112 §3.2.4): 204 with
///    the server-wide `Allow`; any other method on `*` is 400.
/// 3. A registered route path (compared byte for byte with the raw path, not
///    percent-decoded): its method → read the body, then its handler;
///    `OPTIONS` → 204 with `Allow: OPTIONS, <method>`; anything else → 405
///    with `Allow: <method>` (RFC 9110 §15.5.6 requires the field).
/// 4. Any other path is a static file: `GET`/`HEAD` serve it, `OPTIONS` is
///    204 with `Allow: GET, HEAD, OPTIONS`, and the other known methods are
///    405 with the same `Allow`.
pub struct Router {
    routes: Vec<Route>,
    static_files: StaticFiles,
}

/// One registered route: a path, the one method it answers, and the value
/// of `Allow` for a 405 on it.
struct Route {
    path: &'static str,
    method: Method,
    allow: &'static str,
    handler: BodyHandler,
}

impl Router {
    /// The router with the application's routes (`POST /echo`), falling back
    /// to `static_files`.
    pub fn new(static_files: StaticFiles) -> Router {
        let routes = vec![Route {
            path: "/echo",
            method: Method::Post,
            allow: "POST",
            handler: echo::echo,
        }];
        Router {
            routes,
            static_files,
        }
    }

    /// Decide how to answer `head`.
    pub fn route(&self, head: &RequestHead) -> Routed {
        let method = head.method();
        if method == Method::Other {
            return Routed::Respond(Response::text(501, "Not Implemented"));
        }
        let path = head.path();
        if path == b"*" {
            return Routed::Respond(match method {
                Method::Options => allow_response(ALLOW_SERVER),
                _ => Response::text(400, "Bad Request"),
            });
        }
        if let Some(route) = self.routes.iter().find(|r| r.path.as_bytes() == path) {
            return if method == route.method {
                Routed::ReadBody(route.handler)
            } else if method == Method::Options {
                Routed::Respond(allow_response(format!("OPTIONS, {}", route.allow)))
            } else {
                Routed::Respond(method_not_allowed(route.allow))
            };
        }
        Routed::Respond(match method {
            Method::Get | Method::Head => self.static_files.serve_cached(head),
            Method::Options => allow_response(ALLOW_STATIC),
            _ => method_not_allowed(ALLOW_STATIC),
        })
    }
}

/// 204 to `OPTIONS`, listing the allowed methods (RFC 9110 §9.3.7).
fn allow_response(allow: impl Into<response::FieldValue>) -> Response {
    Response::empty(204).with_field("Allow", allow)
}

fn method_not_allowed(allow: &'static str) -> Response {
    Response::text(405, "Method Not Allowed").with_field("Allow", allow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> (tempfile::TempDir, Router) {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("page.txt"), b"page").expect("file");
        std::fs::create_dir(dir.path().join("dir")).expect("dir");
        let files = StaticFiles::new(dir.path().to_path_buf()).expect("root");
        (dir, Router::new(files))
    }

    fn respond(router: &Router, method: &str, target: &str) -> Response {
        match router.route(&RequestHead::for_test(method, target, &[])) {
            Routed::Respond(response) => response,
            Routed::ReadBody(_) => panic!("{method} {target}: expected a response"),
        }
    }

    #[test]
    fn echo_route_reads_the_body_then_echoes() {
        let (_dir, router) = router();
        let head = RequestHead::for_test("POST", "/echo", &[("Content-Type", "application/json")]);
        let Routed::ReadBody(handler) = router.route(&head) else {
            panic!("POST /echo must read the body");
        };
        let response = handler(&head, br#"{"message": "hello"}"#);
        assert_eq!(response.status, 200);
        // The query is not part of the path, so it still routes.
        let head = RequestHead::for_test("POST", "/echo?x=1", &[]);
        assert!(matches!(router.route(&head), Routed::ReadBody(_)));
        let head = RequestHead::for_test("POST", "http://example.com/echo", &[]);
        assert!(matches!(router.route(&head), Routed::ReadBody(_)));
    }

    #[test]
    fn responses_by_method_and_path() {
        let (_dir, router) = router();
        // (method, target, status, Allow)
        let cases: &[(&str, &str, u16, Option<&str>)] = &[
            ("GET", "/echo", 405, Some("POST")),
            ("HEAD", "/echo", 405, Some("POST")),
            ("PUT", "/echo", 405, Some("POST")),
            ("DELETE", "/echo", 405, Some("POST")),
            ("OPTIONS", "/echo", 204, Some("OPTIONS, POST")),
            ("OPTIONS", "*", 204, Some("GET, HEAD, OPTIONS, POST")),
            ("GET", "*", 400, None),
            ("OPTIONS", "/page.txt", 204, Some("GET, HEAD, OPTIONS")),
            ("OPTIONS", "/missing", 204, Some("GET, HEAD, OPTIONS")),
            // GET and HEAD reach the static files; a directory redirect shows
            // it without depending on the file-date formatter.
            ("GET", "/dir", 301, None),
            ("HEAD", "/dir", 301, None),
            ("GET", "/missing", 404, None),
            // Not the echo route: paths match exactly.
            ("POST", "/echo/", 405, Some("GET, HEAD, OPTIONS")),
            ("POST", "/page.txt", 405, Some("GET, HEAD, OPTIONS")),
            ("PUT", "/page.txt", 405, Some("GET, HEAD, OPTIONS")),
            ("DELETE", "/page.txt", 405, Some("GET, HEAD, OPTIONS")),
            ("PATCH", "/page.txt", 405, Some("GET, HEAD, OPTIONS")),
            ("TRACE", "/page.txt", 405, Some("GET, HEAD, OPTIONS")),
            ("CONNECT", "/page.txt", 405, Some("GET, HEAD, OPTIONS")),
            ("BREW", "/page.txt", 501, None),
            ("BREW", "/echo", 501, None),
            ("BREW", "*", 501, None),
        ];
        for &(method, target, status, allow) in cases {
            let response = respond(&router, method, target);
            assert_eq!(response.status, status, "{method} {target}");
            assert_eq!(response.field("Allow"), allow, "{method} {target}");
            if status >= 400 {
                assert_eq!(
                    response.field("Content-Type"),
                    Some("text/plain; charset=utf-8"),
                    "{method} {target}"
                );
            }
            if status == 204 {
                assert!(response.body.is_empty(), "{method} {target}");
            }
        }
    }
}
