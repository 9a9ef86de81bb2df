//! What answers a request. Services see a parsed [`RequestHead`] (and, for
//! routes that take one, the whole body) and return a [`Response`]; they never
//! see a socket.
//!
//! A [`Router`] is what a listener serves: a table of routes, whose handlers
//! may hold state, optionally falling back to static files. The server is
//! handed one per listener (see `server::Server::new`), so a second
//! listener can serve something else entirely.

pub mod basic_auth;
pub mod cors;
pub mod counters;
pub mod echo;
pub mod extra_fields;
pub mod https_redirect;
pub mod methods;
pub mod response;
pub mod static_files;

pub use methods::MethodSet;
pub use response::{Body, Part, Response};

use crate::proto::{Method, RequestHead};
use basic_auth::{keep_out_of_shared_caches, BasicAuth, Gate, PasswordCheck, Verdict};
use cors::{is_preflight, CorsPolicy};
use extra_fields::{apply_extra_fields, ExtraField};
use static_files::StaticFiles;
use std::sync::Arc;

/// A route's handler, called with the head and the whole body once the
/// driver has read it. Any `Fn(&RequestHead, &[u8]) -> Response` is one, a
/// closure holding state (a counter, a cache) included; every connection
/// shares it, hence `Send + Sync`.
pub trait Handler: Send + Sync {
    fn call(&self, head: &RequestHead, body: &[u8]) -> Response;
}

impl<F> Handler for F
where
    F: Fn(&RequestHead, &[u8]) -> Response + Send + Sync,
{
    fn call(&self, head: &RequestHead, body: &[u8]) -> Response {
        self(head, body)
    }
}

/// The router's answer to a head: respond now, read the body first and
/// then call the handler (with [`Router::respond_with_body`]), or check a
/// password first and then ask again (with [`Router::route_checked`]).
pub enum Routed<'a> {
    Respond(Response),
    ReadBody(&'a dyn Handler),
    /// `--auth`: run the check off the event loop, then pass its verdict
    /// to [`Router::route_checked`], which never asks for another.
    CheckPassword(PasswordCheck),
}

impl std::fmt::Debug for Routed<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Routed::Respond(response) => f.debug_tuple("Respond").field(response).finish(),
            Routed::ReadBody(_) => f.write_str("ReadBody(..)"),
            Routed::CheckPassword(_) => f.write_str("CheckPassword(..)"),
        }
    }
}

/// The methods static files answer; `OPTIONS` is answered for them too.
const STATIC_METHODS: [Method; 2] = [Method::Get, Method::Head];

/// Maps a request head to the code that answers it: registered routes first,
/// then static files from the root, if the router has them.
///
/// The rules, in order:
/// 1. A method the server does not know (`Method::Other`) is 501
///    (RFC 9110 §9.1), wherever it is aimed.
/// 2. `*` (asterisk-form) is only for `OPTIONS` (RFC 9112 §3.2.4): 204 with
///    every method some target answers in `Allow`; any other method on `*`
///    is 400.
/// 3. A registered route path (compared byte for byte with the raw path, not
///    percent-decoded): a method registered for it → read the body, then its
///    handler; `OPTIONS` → 204 and anything else → 405, both with `Allow`
///    listing `OPTIONS` and the path's methods (RFC 9110 §15.5.6 requires
///    the field on a 405, and `OPTIONS` is answered there too).
/// 4. Any other path is a static file: `GET`/`HEAD` serve it, `OPTIONS` is
///    204 with `Allow: GET, HEAD, OPTIONS`, and the other known methods are
///    405 with the same `Allow`. A router without static files answers 404.
///
/// Every `Allow` is derived from the route table when it is built (see
/// [`MethodSet`]), never kept by hand.
///
/// With `--cors`, a CORS preflight (`OPTIONS` with
/// `Access-Control-Request-Method`) is answered by [`CorsPolicy`] before
/// these rules, wherever it is aimed: 204, with its target's `Allow` list
/// (rules 2 to 4) as the allowed methods, and its own CORS fields. Every
/// other response the router builds, the routes' included
/// ([`Router::respond_with_body`]), then gets the CORS fields and the `-H`
/// fields ([`ResponsePolicy`]); a preflight gets the `-H` fields only.
///
/// With `--auth`, every request the gate protects ([`BasicAuth::gate`]) is
/// refused with 401 unless its credentials are good, before rules 1 to 4:
/// whatever its method, and before the static files and their hot cache
/// are asked. A CORS preflight is the exception (with `--cors`): the Fetch
/// standard sends it without credentials, so it is answered as above and
/// the request it announces is the one that needs them.
pub struct Router {
    /// Answers every request before the rules (`--redirect-http`).
    everything: Option<Arc<dyn Handler>>,
    paths: Vec<RoutePath>,
    static_files: Option<StaticFiles>,
    auth: Option<BasicAuth>,
    policy: ResponsePolicy,
    /// `Allow` for `*`: every method some target answers.
    server_allow: String,
    /// `Allow` for a static-file path.
    static_allow: String,
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
/// looked up: they answer `OPTIONS` (`Allow`), accompany a 405 (`Allow`) and,
/// with `--cors`, a preflight (`Access-Control-Allow-Methods`), so the three
/// can never disagree.
enum Target<'a> {
    /// `*`: the server as a whole.
    Server,
    Route(&'a RoutePath),
    StaticFiles,
    /// No route, and no static files to fall back on.
    Nothing,
}

/// One registered path: its handlers by method, and the value of `Allow`.
struct RoutePath {
    path: String,
    handlers: Vec<(Method, Arc<dyn Handler>)>,
    /// Every method the path answers: its handlers' and `OPTIONS`.
    allow: String,
}

impl RoutePath {
    fn handler(&self, method: Method) -> Option<&dyn Handler> {
        self.handlers
            .iter()
            .find(|(m, _)| *m == method)
            .map(|(_, handler)| &**handler)
    }

    fn methods(&self) -> MethodSet {
        self.handlers
            .iter()
            .fold(MethodSet::of(&[Method::Options]), |set, (method, _)| {
                set.with(*method)
            })
    }
}

impl Router {
    /// A router with no routes and no static files: every path is 404
    /// until routes are added.
    pub fn new() -> Router {
        let mut router = Router {
            everything: None,
            paths: Vec::new(),
            static_files: None,
            auth: None,
            policy: ResponsePolicy::default(),
            server_allow: String::new(),
            static_allow: String::new(),
        };
        router.derive_allow();
        router
    }

    /// A router that answers every request, whatever its method or target,
    /// with `handler`, called without reading the body (the driver drains
    /// or closes). No rule below applies and no policy field is added: for
    /// a listener whose one answer is the whole service (the HTTPS
    /// redirect).
    pub fn answering_everything(handler: impl Handler + 'static) -> Router {
        let mut router = Router::new();
        router.everything = Some(Arc::new(handler));
        router
    }

    /// The same router, answering `method` on `path` (compared byte for
    /// byte with the request's raw path) by reading the body and calling
    /// `handler`. A path may have several methods, each its own handler.
    ///
    /// # Panics
    /// If `method` is [`Method::Other`], which names no method, or is
    /// already registered for `path`: both are mistakes in the code that
    /// builds the table, not in a request.
    pub fn with_route(
        mut self,
        method: Method,
        path: &str,
        handler: impl Handler + 'static,
    ) -> Router {
        assert!(method.name().is_some(), "a route needs a known method");
        let handler: Arc<dyn Handler> = Arc::new(handler);
        match self.paths.iter_mut().find(|p| p.path == path) {
            Some(existing) => {
                assert!(
                    existing.handler(method).is_none(),
                    "{method:?} {path} is registered twice"
                );
                existing.handlers.push((method, handler));
            }
            None => self.paths.push(RoutePath {
                path: path.to_owned(),
                handlers: vec![(method, handler)],
                allow: String::new(),
            }),
        }
        self.derive_allow();
        self
    }

    /// The same router, serving `static_files` for every path no route
    /// claims.
    pub fn with_static_files(mut self, static_files: StaticFiles) -> Router {
        self.static_files = Some(static_files);
        self.derive_allow();
        self
    }

    /// The same router, adding `policy`'s fields to every response.
    pub fn with_policy(mut self, policy: ResponsePolicy) -> Router {
        self.policy = policy;
        self
    }

    /// The same router, behind `auth`: see the type's docs.
    pub fn with_auth(mut self, auth: BasicAuth) -> Router {
        self.auth = Some(auth);
        self
    }

    /// Compute every `Allow` value from the table as it now stands.
    fn derive_allow(&mut self) {
        let options = MethodSet::of(&[Method::Options]);
        let static_methods = match self.static_files {
            Some(_) => MethodSet::of(&STATIC_METHODS).union(options),
            None => MethodSet::default(),
        };
        let mut server = options.union(static_methods);
        for path in &mut self.paths {
            let methods = path.methods();
            path.allow = methods.allow_value();
            server = server.union(methods);
        }
        self.server_allow = server.allow_value();
        self.static_allow = static_methods.allow_value();
    }

    /// Decide how to answer `head`.
    pub fn route(&self, head: &RequestHead) -> Routed<'_> {
        if let Some(handler) = &self.everything {
            return Routed::Respond(handler.call(head, &[]));
        }
        // A preflight is an OPTIONS request, so rule 1 (501) never applies.
        if let Some(cors) = &self.policy.cors {
            if is_preflight(head) {
                if let Some(methods) = self.allow(&self.target(head.path())) {
                    let mut preflight = cors.preflight(head, methods);
                    apply_extra_fields(&mut preflight, &self.policy.extra_fields);
                    return Routed::Respond(preflight);
                }
            }
        }
        if let Some(auth) = &self.auth {
            match auth.gate(head) {
                Gate::Open => {}
                Gate::Authenticated => return self.route_authenticated(head),
                Gate::Challenge => return Routed::Respond(self.finish(auth.challenge())),
                Gate::Check(check) => return Routed::CheckPassword(check),
            }
        }
        self.route_past_auth(head)
    }

    /// Decide how to answer `head` once its [`Routed::CheckPassword`] has
    /// come back with `verdict`: as [`Router::route`] would with good
    /// credentials, else 401. Never [`Routed::CheckPassword`] again.
    pub fn route_checked(&self, head: &RequestHead, verdict: &Verdict) -> Routed<'_> {
        match &self.auth {
            Some(auth) if !auth.admits(verdict) => Routed::Respond(self.finish(auth.challenge())),
            _ => self.route_authenticated(head),
        }
    }

    /// Answer a protected request whose credentials are good: as anyone's,
    /// but kept out of shared caches.
    fn route_authenticated(&self, head: &RequestHead) -> Routed<'_> {
        match self.route_past_auth(head) {
            Routed::Respond(mut response) => {
                keep_out_of_shared_caches(&mut response);
                Routed::Respond(response)
            }
            routed => routed,
        }
    }

    fn route_past_auth(&self, head: &RequestHead) -> Routed<'_> {
        match self.route_without_policy(head) {
            Routed::Respond(response) => Routed::Respond(self.finish(response)),
            read_body => read_body,
        }
    }

    /// Call a route's handler on the body the driver read, and add the
    /// policy's fields as for every other response.
    pub fn respond_with_body(
        &self,
        handler: &dyn Handler,
        head: &RequestHead,
        body: &[u8],
    ) -> Response {
        self.finish(handler.call(head, body))
    }

    /// Add the CORS and `-H` fields to a response other than a preflight's.
    fn finish(&self, mut response: Response) -> Response {
        if let Some(cors) = &self.policy.cors {
            cors.add_fields(&mut response);
        }
        apply_extra_fields(&mut response, &self.policy.extra_fields);
        response
    }

    fn route_without_policy(&self, head: &RequestHead) -> Routed<'_> {
        let method = head.method();
        if method == Method::Other {
            return Routed::Respond(Response::text(501, "Not Implemented"));
        }
        let target = self.target(head.path());
        if let Target::Route(path) = target {
            if let Some(handler) = path.handler(method) {
                return Routed::ReadBody(handler);
            }
        }
        Routed::Respond(match (&target, &self.static_files, self.allow(&target)) {
            (Target::StaticFiles, Some(files), _) if STATIC_METHODS.contains(&method) => {
                files.serve_cached(head)
            }
            (_, _, Some(allow)) if method == Method::Options => allow_response(allow),
            (Target::Server, _, _) => Response::text(400, "Bad Request"),
            (_, _, Some(allow)) => method_not_allowed(allow),
            (_, _, None) => Response::text(404, "Not Found"),
        })
    }

    /// What `path` names: `*`, a registered route (compared byte for byte),
    /// static files, or nothing.
    fn target(&self, path: &[u8]) -> Target<'_> {
        if path == b"*" {
            return Target::Server;
        }
        match self.paths.iter().find(|r| r.path.as_bytes() == path) {
            Some(route) => Target::Route(route),
            None if self.static_files.is_some() => Target::StaticFiles,
            None => Target::Nothing,
        }
    }

    /// The methods `target` answers, as the value of `Allow`.
    fn allow<'a>(&'a self, target: &Target<'a>) -> Option<&'a str> {
        match target {
            Target::Server => Some(&self.server_allow),
            Target::Route(path) => Some(&path.allow),
            Target::StaticFiles => Some(&self.static_allow),
            Target::Nothing => None,
        }
    }
}

impl Default for Router {
    fn default() -> Router {
        Router::new()
    }
}

/// 204 to `OPTIONS`, listing the allowed methods (RFC 9110 §9.3.7).
fn allow_response(allow: &str) -> Response {
    Response::empty(204).with_field("Allow", allow.to_owned())
}

fn method_not_allowed(allow: &str) -> Response {
    Response::text(405, "Method Not Allowed").with_field("Allow", allow.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> (tempfile::TempDir, Router) {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("page.txt"), b"page").expect("file");
        std::fs::create_dir(dir.path().join("dir")).expect("dir");
        let files = StaticFiles::new(dir.path().to_path_buf(), Default::default()).expect("root");
        let router = Router::new()
            .with_route(Method::Post, "/echo", echo::echo)
            .with_static_files(files);
        (dir, router)
    }

    fn respond(router: &Router, method: &str, target: &str) -> Response {
        match router.route(&RequestHead::for_test(method, target, &[])) {
            Routed::Respond(response) => response,
            routed => panic!("{method} {target}: expected a response, got {routed:?}"),
        }
    }

    #[test]
    fn echo_route_reads_the_body_then_echoes() {
        let (_dir, router) = router();
        let head = RequestHead::for_test("POST", "/echo", &[("Content-Type", "application/json")]);
        let Routed::ReadBody(handler) = router.route(&head) else {
            panic!("POST /echo must read the body");
        };
        let response = handler.call(&head, br#"{"message": "hello"}"#);
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

    /// Issue 12: a handler may hold state, and a router need not serve
    /// files: what an admin listener (health, metrics) is made of.
    #[test]
    fn handlers_hold_state_and_a_router_needs_no_static_files() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let hits = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&hits);
        let router =
            Router::new().with_route(Method::Get, "/hits", move |_: &RequestHead, _: &[u8]| {
                let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
                Response::text(200, "counted").with_field("X-Hits", n.to_string())
            });
        let head = RequestHead::for_test("GET", "/hits", &[]);
        for expected in ["1", "2", "3"] {
            let Routed::ReadBody(handler) = router.route(&head) else {
                panic!("GET /hits is a route");
            };
            let response = router.respond_with_body(handler, &head, b"");
            assert_eq!(response.field("X-Hits"), Some(expected));
        }
        assert_eq!(hits.load(Ordering::SeqCst), 3);
        // (method, target, status, Allow)
        let cases: &[(&str, &str, u16, Option<&str>)] = &[
            ("GET", "/index.html", 404, None),
            ("OPTIONS", "/index.html", 404, None),
            ("POST", "/hits", 405, Some("GET, OPTIONS")),
            ("OPTIONS", "/hits", 204, Some("GET, OPTIONS")),
            ("OPTIONS", "*", 204, Some("GET, OPTIONS")),
            ("BREW", "/hits", 501, None),
        ];
        for &(method, target, status, allow) in cases {
            let response = respond(&router, method, target);
            assert_eq!(response.status, status, "{method} {target}");
            assert_eq!(response.field("Allow"), allow, "{method} {target}");
        }
    }

    /// Issue 12: `Allow` is derived from the route table, so a path with
    /// several methods, and `*`, list exactly what is registered.
    #[test]
    fn allow_is_derived_from_the_route_table() {
        fn ok(_: &RequestHead, _: &[u8]) -> Response {
            Response::empty(204)
        }
        let (dir, _) = router();
        let files = StaticFiles::new(dir.path().to_path_buf(), Default::default()).expect("root");
        let router = Router::new()
            .with_route(Method::Put, "/item", ok)
            .with_route(Method::Delete, "/item", ok)
            .with_route(Method::Post, "/echo", echo::echo)
            .with_static_files(files)
            .with_policy(ResponsePolicy {
                cors: Some(CorsPolicy::parse("*").expect("valid")),
                ..Default::default()
            });
        for (target, methods) in [
            ("/item", "DELETE, OPTIONS, PUT"),
            ("/echo", "OPTIONS, POST"),
            ("/page.txt", "GET, HEAD, OPTIONS"),
            ("*", "DELETE, GET, HEAD, OPTIONS, POST, PUT"),
        ] {
            assert_eq!(
                respond(&router, "OPTIONS", target).field("Allow"),
                Some(methods),
                "{target}"
            );
            let head = RequestHead::for_test(
                "OPTIONS",
                target,
                &[("Access-Control-Request-Method", "PUT")],
            );
            let Routed::Respond(preflight) = router.route(&head) else {
                panic!("a preflight is answered at once");
            };
            assert_eq!(
                preflight.field("Access-Control-Allow-Methods"),
                Some(methods),
                "{target}"
            );
        }
        assert_eq!(respond(&router, "GET", "/item").status, 405);
        for method in ["PUT", "DELETE"] {
            let head = RequestHead::for_test(method, "/item", &[]);
            assert!(
                matches!(router.route(&head), Routed::ReadBody(_)),
                "{method}"
            );
        }
    }
}
