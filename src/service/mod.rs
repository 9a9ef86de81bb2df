//! What answers a request. Services see a parsed [`RequestHead`] (and, for
//! routes that take one, the whole body) and return a [`Response`]; they never
//! see a socket.

pub mod cors;
pub mod echo;
pub mod extra_fields;
pub mod response;
pub mod static_files;

pub use response::{Body, Part, Response};

use crate::proto::{Method, RequestHead};
use cors::{is_preflight, CorsPolicy};
use extra_fields::{apply_extra_fields, ExtraField};
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
///    `OPTIONS` → 204 and anything else → 405, both with the same
///    `Allow: OPTIONS, <method>` (RFC 9110 §15.5.6 requires the field on a
///    405, and `OPTIONS` is answered there too).
/// 4. Any other path is a static file: `GET`/`HEAD` serve it, `OPTIONS` is
///    204 with `Allow: GET, HEAD, OPTIONS`, and the other known methods are
///    405 with the same `Allow`.
///
/// With `--cors`, a CORS preflight (`OPTIONS` with
/// `Access-Control-Request-Method`) is answered by [`CorsPolicy`] before
/// these rules, wherever it is aimed: 204, with its target's `Allow` list
/// (rules 2 to 4) as the allowed methods, and its own CORS fields. Every
/// other response the router builds, the routes' included
/// ([`Router::respond_with_body`]), then gets the CORS fields and the `-H`
/// fields ([`ResponsePolicy`]); a preflight gets the `-H` fields only.
pub struct Router {
    routes: Vec<Route>,
    static_files: StaticFiles,
    policy: ResponsePolicy,
}

/// Fields added to every response the router builds. The driver's own
/// answers (400s for malformed requests, timeouts) do not get them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponsePolicy {
    /// `-H/--header`, in the order given.
    pub extra_fields: Vec<ExtraField>,
    /// `--cors`; `None` sends no CORS field.
    pub cors: Option<CorsPolicy>,
}

/// What a request's path names. The one place each target's methods are
/// defined: they answer `OPTIONS` (`Allow`), accompany a 405 (`Allow`) and,
/// with `--cors`, a preflight (`Access-Control-Allow-Methods`), so the three
/// can never disagree.
enum Target<'a> {
    /// `*`: the server as a whole.
    Server,
    Route(&'a Route),
    StaticFiles,
}

impl Target<'_> {
    /// The methods the target answers, as the value of `Allow`.
    fn methods(&self) -> &'static str {
        match self {
            Target::Server => ALLOW_SERVER,
            Target::Route(route) => route.allow,
            Target::StaticFiles => ALLOW_STATIC,
        }
    }
}

/// One registered route: a path, the one method it answers, and the value
/// of `Allow` for it.
struct Route {
    path: &'static str,
    method: Method,
    /// Every method the path answers: the route's own and `OPTIONS`.
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
            allow: "OPTIONS, POST",
            handler: echo::echo,
        }];
        Router {
            routes,
            static_files,
            policy: ResponsePolicy::default(),
        }
    }

    /// The same router, adding `policy`'s fields to every response.
    pub fn with_policy(mut self, policy: ResponsePolicy) -> Router {
        self.policy = policy;
        self
    }

    /// Decide how to answer `head`.
    pub fn route(&self, head: &RequestHead) -> Routed {
        // A preflight is an OPTIONS request, so rule 1 (501) never applies.
        if let Some(cors) = &self.policy.cors {
            if is_preflight(head) {
                let methods = self.target(head.path()).methods();
                let mut preflight = cors.preflight(head, methods);
                apply_extra_fields(&mut preflight, &self.policy.extra_fields);
                return Routed::Respond(preflight);
            }
        }
        match self.route_without_policy(head) {
            Routed::Respond(response) => Routed::Respond(self.finish(response)),
            read_body => read_body,
        }
    }

    /// Call a route's handler on the body the driver read, and add the
    /// policy's fields as for every other response.
    pub fn respond_with_body(
        &self,
        handler: BodyHandler,
        head: &RequestHead,
        body: &[u8],
    ) -> Response {
        self.finish(handler(head, body))
    }

    /// Add the CORS and `-H` fields to a response other than a preflight's.
    fn finish(&self, mut response: Response) -> Response {
        if let Some(cors) = &self.policy.cors {
            cors.add_fields(&mut response);
        }
        apply_extra_fields(&mut response, &self.policy.extra_fields);
        response
    }

    fn route_without_policy(&self, head: &RequestHead) -> Routed {
        let method = head.method();
        if method == Method::Other {
            return Routed::Respond(Response::text(501, "Not Implemented"));
        }
        let target = self.target(head.path());
        Routed::Respond(match target {
            Target::Route(route) if method == route.method => {
                return Routed::ReadBody(route.handler);
            }
            Target::StaticFiles if matches!(method, Method::Get | Method::Head) => {
                self.static_files.serve_cached(head)
            }
            _ if method == Method::Options => allow_response(target.methods()),
            Target::Server => Response::text(400, "Bad Request"),
            _ => method_not_allowed(target.methods()),
        })
    }

    /// What `path` names: `*`, a registered route (compared byte for byte),
    /// or else static files.
    fn target(&self, path: &[u8]) -> Target<'_> {
        if path == b"*" {
            return Target::Server;
        }
        match self.routes.iter().find(|r| r.path.as_bytes() == path) {
            Some(route) => Target::Route(route),
            None => Target::StaticFiles,
        }
    }
}

/// 204 to `OPTIONS`, listing the allowed methods (RFC 9110 §9.3.7).
fn allow_response(allow: &'static str) -> Response {
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
        let files = StaticFiles::new(dir.path().to_path_buf(), Default::default()).expect("root");
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
            ("GET", "/echo", 405, Some("OPTIONS, POST")),
            ("HEAD", "/echo", 405, Some("OPTIONS, POST")),
            ("PUT", "/echo", 405, Some("OPTIONS, POST")),
            ("DELETE", "/echo", 405, Some("OPTIONS, POST")),
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

    #[test]
    fn policy_fields_reach_every_routed_response() {
        let (dir, router) = router();
        let _ = dir;
        let router = router.with_policy(ResponsePolicy {
            extra_fields: vec![
                extra_fields::parse_extra_field("X-Frame-Options: DENY").expect("valid")
            ],
            cors: Some(CorsPolicy::parse("*").expect("valid")),
        });
        for (method, target) in [
            ("GET", "/page.txt"),
            ("GET", "/missing"),
            ("GET", "/dir"),
            ("PUT", "/page.txt"),
            ("OPTIONS", "*"),
            ("GET", "/echo"),
            ("BREW", "/"),
        ] {
            let response = respond(&router, method, target);
            assert_eq!(
                response.field("X-Frame-Options"),
                Some("DENY"),
                "{method} {target}"
            );
            assert_eq!(
                response.field("Access-Control-Allow-Origin"),
                Some("*"),
                "{method} {target}"
            );
        }
        let head = RequestHead::for_test("POST", "/echo", &[]);
        let Routed::ReadBody(handler) = router.route(&head) else {
            panic!("POST /echo must read the body");
        };
        let response = router.respond_with_body(handler, &head, b"{}");
        assert_eq!(response.field("X-Frame-Options"), Some("DENY"));
        assert_eq!(response.field("Access-Control-Allow-Origin"), Some("*"));

        // A preflight is answered before routing, on any path.
        for target in ["/echo", "/page.txt", "/missing"] {
            let head = RequestHead::for_test(
                "OPTIONS",
                target,
                &[
                    ("Origin", "https://a.example"),
                    ("Access-Control-Request-Method", "POST"),
                ],
            );
            let Routed::Respond(response) = router.route(&head) else {
                panic!("a preflight is answered at once");
            };
            assert_eq!(response.status, 204, "{target}");
            assert_eq!(response.field("Access-Control-Allow-Origin"), Some("*"));
            assert_eq!(response.field("X-Frame-Options"), Some("DENY"));
            assert!(response.field("Access-Control-Allow-Methods").is_some());
        }
    }

    /// Issue 11: for every target, the methods a preflight is told, the
    /// `Allow` of `OPTIONS` and the `Allow` of a 405 are one list.
    #[test]
    fn issue11_preflight_options_and_405_agree_per_target() {
        let (_dir, router) = router();
        let router = router.with_policy(ResponsePolicy {
            cors: Some(CorsPolicy::parse("*").expect("valid")),
            ..Default::default()
        });
        for (target, methods) in [
            ("/page.txt", "GET, HEAD, OPTIONS"),
            ("/missing", "GET, HEAD, OPTIONS"),
            ("/dir", "GET, HEAD, OPTIONS"),
            ("/echo/", "GET, HEAD, OPTIONS"),
            ("/echo", "OPTIONS, POST"),
            ("*", "GET, HEAD, OPTIONS, POST"),
        ] {
            let head = RequestHead::for_test(
                "OPTIONS",
                target,
                &[("Access-Control-Request-Method", "PUT")],
            );
            let Routed::Respond(preflight) = router.route(&head) else {
                panic!("a preflight is answered at once");
            };
            assert_eq!(preflight.status, 204, "{target}");
            assert_eq!(
                preflight.field("Access-Control-Allow-Methods"),
                Some(methods),
                "{target}"
            );
            assert_eq!(
                respond(&router, "OPTIONS", target).field("Allow"),
                Some(methods),
                "{target}"
            );
            if target != "*" {
                let refused = respond(&router, "PUT", target);
                assert_eq!(refused.status, 405, "{target}");
                assert_eq!(refused.field("Allow"), Some(methods), "{target}");
            }
        }
    }

    #[test]
    fn no_cors_fields_without_the_option() {
        let (_dir, router) = router();
        let head = RequestHead::for_test(
            "OPTIONS",
            "/page.txt",
            &[
                ("Origin", "https://a.example"),
                ("Access-Control-Request-Method", "GET"),
            ],
        );
        let Routed::Respond(response) = router.route(&head) else {
            panic!("OPTIONS is answered at once");
        };
        assert_eq!(response.field("Allow"), Some("GET, HEAD, OPTIONS"));
        assert!(response
            .fields
            .iter()
            .all(|(name, _)| !name.starts_with("Access-Control")));
    }
}
