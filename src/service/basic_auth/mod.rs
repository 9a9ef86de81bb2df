//! Basic authentication (`--auth`, issue 15.4): which requests need
//! credentials, and whether the ones they carry are good.
//!
//! The router asks [`BasicAuth::gate`] before anything else answers (the
//! routes, the static files and their hot cache), so no path to a
//! protected answer goes around it. The gate answers at once when it can:
//! the path is not protected, there are no credentials (401), or they are
//! in the [`VerifiedCache`]. Otherwise it hands back a [`PasswordCheck`]:
//! a bcrypt verification, milliseconds of CPU by design, which the server
//! runs off its event loop and brings back as a [`Verdict`] for
//! [`BasicAuth::admits`].
//!
//! An unknown user is checked against a real hash of the usual cost
//! ([`PasswordFile::typical_hash`]) and refused whatever the result, so a
//! wrong name costs what a wrong password does; bcrypt compares its
//! output in constant time. The wire syntax is `proto::basic_auth`'s.

pub mod password_file;
pub mod protected_paths;
pub mod verified_cache;

use super::Response;
use crate::proto::basic_auth::{basic_challenge, basic_token, decode_basic_token, BasicAuthError};
use crate::proto::RequestHead;
pub use password_file::PasswordFile;
pub use protected_paths::ProtectedPaths;
use std::net::IpAddr;
use std::sync::Arc;
use verified_cache::{CredentialDigest, VerifiedCache};

/// The default `--auth-realm`.
pub const DEFAULT_REALM: &str = "httpserver";

/// `--auth`, `--auth-path`, `--auth-realm`, checked.
#[derive(Debug, Clone)]
pub struct AuthOptions {
    pub users: PasswordFile,
    pub paths: ProtectedPaths,
    /// The whole `WWW-Authenticate` value, realm quoted.
    pub challenge: String,
}

impl AuthOptions {
    /// Check the flags' values; an error names the flag at fault.
    pub fn new(
        users: PasswordFile,
        prefixes: &[String],
        realm: &str,
    ) -> Result<Self, InvalidAuthFlag> {
        let challenge = basic_challenge(realm).map_err(|e| InvalidAuthFlag {
            id: "auth_realm",
            message: format!("{realm:?} cannot be sent in a header ({e:?}); use printable ASCII"),
        })?;
        let paths = ProtectedPaths::from_prefixes(prefixes).map_err(|message| InvalidAuthFlag {
            id: "auth_path",
            message,
        })?;
        Ok(AuthOptions {
            users,
            paths,
            challenge,
        })
    }
}

/// A bad `--auth-path` or `--auth-realm`: the flag's clap id (the
/// configuration names its source) and what is wrong with its value.
#[derive(Debug)]
pub struct InvalidAuthFlag {
    pub id: &'static str,
    pub message: String,
}

/// The gate in front of a router: its users, the paths it guards, and the
/// credentials already verified.
pub struct BasicAuth {
    options: AuthOptions,
    /// What an unknown user's password is checked against.
    decoy_hash: Arc<str>,
    verified: Arc<VerifiedCache>,
}

/// What the gate says about one request.
pub enum Gate {
    /// Not protected: answer it.
    Open,
    /// Protected, with credentials that passed before: answer it, for
    /// this user only ([`keep_out_of_shared_caches`]).
    Authenticated,
    /// Protected and without `Basic` credentials: 401, and nothing to log
    /// (a browser's first request always is one).
    Challenge,
    /// Credentials to check, too slow for an event loop.
    Check(PasswordCheck),
}

/// One credential check, owned, to run on another thread.
pub struct PasswordCheck {
    attempt: Attempt,
}

enum Attempt {
    /// `Authorization` was there but is not usable `Basic` credentials
    /// (`None`: it came on several lines).
    Malformed(Option<BasicAuthError>),
    Credentials {
        user: String,
        password: String,
        /// The user's hash, or the decoy for an unknown user.
        hash: Arc<str>,
        known_user: bool,
        digest: CredentialDigest,
    },
}

/// How a [`PasswordCheck`] came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    outcome: Outcome,
    digest: Option<CredentialDigest>,
}

/// Why credentials were refused, or that they were not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Verified,
    /// A user the file does not name (checked against the decoy anyway).
    UnknownUser(String),
    WrongPassword(String),
    /// More than one `Authorization` line, or a value that is not
    /// well-formed `Basic` credentials.
    Malformed(Option<BasicAuthError>),
}

impl PasswordCheck {
    /// Run bcrypt: milliseconds of CPU, so not on an event loop.
    pub fn run(self) -> Verdict {
        match self.attempt {
            Attempt::Malformed(error) => Verdict {
                outcome: Outcome::Malformed(error),
                digest: None,
            },
            Attempt::Credentials {
                user,
                password,
                hash,
                known_user,
                digest,
            } => {
                // The hash was checked at start; an error cannot happen,
                // and would refuse, not admit.
                let matches = bcrypt::verify(password.as_bytes(), &hash).unwrap_or(false);
                let outcome = match (known_user, matches) {
                    (true, true) => Outcome::Verified,
                    (true, false) => Outcome::WrongPassword(user),
                    (false, _) => Outcome::UnknownUser(user),
                };
                Verdict {
                    outcome,
                    digest: Some(digest),
                }
            }
        }
    }

    /// Credentials that cannot be read: refused without bcrypt.
    fn malformed(error: Option<BasicAuthError>) -> PasswordCheck {
        PasswordCheck {
            attempt: Attempt::Malformed(error),
        }
    }
}

impl Verdict {
    /// Whether the credentials were refused, and as whom: `Some` with the
    /// outcome for a failed attempt, to be logged (never with a password).
    pub fn failure(&self) -> Option<&Outcome> {
        match self.outcome {
            Outcome::Verified => None,
            _ => Some(&self.outcome),
        }
    }
}

impl Outcome {
    /// The user-id the client sent, if it sent one that could be read.
    pub fn user(&self) -> Option<&str> {
        match self {
            Outcome::UnknownUser(user) | Outcome::WrongPassword(user) => Some(user),
            Outcome::Verified | Outcome::Malformed(_) => None,
        }
    }

    /// Why the attempt failed, in a few words for the log.
    pub fn reason(&self) -> &'static str {
        match self {
            Outcome::Verified => "verified",
            Outcome::UnknownUser(_) => "unknown user",
            Outcome::WrongPassword(_) => "wrong password",
            Outcome::Malformed(_) => "malformed credentials",
        }
    }
}

impl BasicAuth {
    pub fn new(options: AuthOptions) -> BasicAuth {
        BasicAuth {
            decoy_hash: options.users.typical_hash(),
            options,
            verified: Arc::new(VerifiedCache::new()),
        }
    }

    /// Whether `head` may be answered, must be refused, or needs a check.
    pub fn gate(&self, head: &RequestHead) -> Gate {
        if !self.options.paths.protects(head.path()) {
            return Gate::Open;
        }
        let lines = head.field_lines("Authorization");
        let value = match lines.count() {
            0 => return Gate::Challenge,
            1 => lines.single().unwrap_or_default(),
            // RFC 9110 §5.3: a field that is not a list must not be
            // repeated; which line would count is anyone's guess.
            _ => return Gate::Check(PasswordCheck::malformed(None)),
        };
        let token = match basic_token(value) {
            Ok(token) => token,
            // Another scheme: as if no credentials came (RFC 9110 §11.6.2).
            Err(BasicAuthError::NotBasic) => return Gate::Challenge,
            Err(error) => return Gate::Check(PasswordCheck::malformed(Some(error))),
        };
        let digest = self.verified.digest(token);
        if self.verified.contains(&digest) {
            return Gate::Authenticated;
        }
        let credentials = match decode_basic_token(token) {
            Ok(credentials) => credentials,
            Err(error) => return Gate::Check(PasswordCheck::malformed(Some(error))),
        };
        let (user, password) = (credentials.user_id(), credentials.password());
        let (hash, known_user) = match self.options.users.hash_of(user) {
            Some(hash) => (Arc::clone(hash), true),
            None => (Arc::clone(&self.decoy_hash), false),
        };
        Gate::Check(PasswordCheck {
            attempt: Attempt::Credentials {
                user: user.to_owned(),
                password: password.to_owned(),
                hash,
                known_user,
                digest,
            },
        })
    }

    /// Whether a check's verdict lets the request through; a verified one
    /// is remembered, so the next request with it passes the gate at once.
    pub fn admits(&self, verdict: &Verdict) -> bool {
        match (&verdict.outcome, verdict.digest) {
            (Outcome::Verified, Some(digest)) => {
                self.verified.insert(digest);
                true
            }
            _ => false,
        }
    }

    /// The 401 for a request without good credentials (RFC 9110 §15.5.2:
    /// with a `WWW-Authenticate` challenge).
    pub fn challenge(&self) -> Response {
        Response::text(401, "Unauthorized")
            .with_field("WWW-Authenticate", self.options.challenge.clone())
    }
}

/// Mark a response to an authenticated request `private` wherever it has
/// `Cache-Control`: `public` (which `--cache SECONDS` and hashed names
/// send), `s-maxage` or `must-revalidate` would let a shared cache keep it
/// and hand it to clients without credentials (RFC 9111 §3.5), and
/// `private` forbids that (§5.2.2.7). Without `Cache-Control` a shared
/// cache does not store it anyway.
pub fn keep_out_of_shared_caches(response: &mut Response) {
    for (name, value) in &mut response.fields {
        if !name.eq_ignore_ascii_case("Cache-Control") {
            continue;
        }
        let directives = || value.split(',').map(str::trim);
        if !directives().any(|d| d.eq_ignore_ascii_case("public")) {
            // The usual case (`no-cache`): one allocation, or none.
            if !directives().any(|d| d.eq_ignore_ascii_case("private")) {
                *value = format!("private, {value}").into();
            }
            continue;
        }
        let mut directives: Vec<&str> = value
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty() && !d.eq_ignore_ascii_case("public"))
            .collect();
        if !directives.iter().any(|d| d.eq_ignore_ascii_case("private")) {
            directives.insert(0, "private");
        }
        *value = directives.join(", ").into();
    }
}

/// The startup warning for `--auth` on a listener where passwords would
/// cross the network readable by anyone on the path: plain HTTP on an
/// address other than loopback. `None` over HTTPS or on loopback, where
/// only this host can listen. `served` is the local address of the socket
/// actually served (bound, or inherited from systemd or a predecessor),
/// which `--bind` does not decide for an inherited socket.
pub fn cleartext_password_warning(served: IpAddr, https: bool) -> Option<String> {
    if https || served.is_loopback() || is_mapped_loopback(served) {
        return None;
    }
    Some(format!(
        "--auth on plain HTTP at {served}: passwords travel in clear text (base64 is no \
         encryption); serve HTTPS or bind to a loopback address behind a TLS proxy"
    ))
}

/// `::ffff:127.0.0.1` is loopback too.
fn is_mapped_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        IpAddr::V4(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::Method;
    use crate::service::cors::CorsPolicy;
    use crate::service::static_files::StaticFiles;
    use crate::service::{echo, ResponsePolicy, Routed, Router};
    use base64::Engine;

    /// Cost 4, the cheapest bcrypt, to keep the tests quick.
    fn users() -> PasswordFile {
        let hash = |password: &str| bcrypt::hash(password, 4).expect("cost 4");
        let text = format!("alice:{}\nbob:{}\n", hash("secret"), hash("b:ob's pass"));
        PasswordFile::parse(text.as_bytes()).expect("valid")
    }

    fn basic(user: &str, password: &str) -> String {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!("Basic {token}")
    }

    /// A router like `site`'s, behind `--auth` with these prefixes.
    fn router(prefixes: &[&str], cors: bool) -> (tempfile::TempDir, Router) {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("page.txt"), b"page").expect("file");
        std::fs::create_dir(dir.path().join("private")).expect("dir");
        std::fs::write(dir.path().join("private/page.txt"), b"secret page").expect("file");
        let files = StaticFiles::new(dir.path().to_path_buf(), Default::default()).expect("root");
        let prefixes: Vec<String> = prefixes.iter().map(|p| p.to_string()).collect();
        let options = AuthOptions::new(users(), &prefixes, "files \"A\"").expect("valid");
        let router = Router::new()
            .with_route(Method::Post, "/echo", echo::echo)
            .with_route(Method::Post, "/private/echo", echo::echo)
            .with_static_files(files)
            .with_policy(ResponsePolicy {
                cors: cors.then(|| CorsPolicy::parse("*").expect("valid")),
                ..Default::default()
            })
            .with_auth(BasicAuth::new(options));
        (dir, router)
    }

    /// What the driver does: route, run a check if asked, route again.
    /// The verdict, if a check ran, and what came of it.
    fn answer(router: &Router, head: &RequestHead) -> (Option<Verdict>, Result<Response, ()>) {
        let routed = router.route(head);
        let (verdict, routed) = match routed {
            Routed::CheckPassword(check) => {
                let verdict = check.run();
                let routed = router.route_checked(head, &verdict);
                (Some(verdict), routed)
            }
            routed => (None, routed),
        };
        match routed {
            Routed::Respond(response) => (verdict, Ok(response)),
            Routed::ReadBody(handler) => {
                (verdict, Ok(router.respond_with_body(handler, head, b"{}")))
            }
            Routed::CheckPassword(_) => (verdict, Err(())),
        }
    }

    fn is_challenge(response: &Response) -> bool {
        response.status == 401
            && response.field("WWW-Authenticate")
                == Some(r#"Basic realm="files \"A\"", charset="UTF-8""#)
    }

    #[test]
    fn every_method_on_a_protected_path_needs_credentials() {
        let (_dir, router) = router(&[], false);
        for (method, target) in [
            ("GET", "/page.txt"),
            ("HEAD", "/page.txt"),
            ("OPTIONS", "/page.txt"),
            ("OPTIONS", "*"),
            ("POST", "/echo"),
            ("PUT", "/page.txt"),
            ("DELETE", "/missing"),
            ("BREW", "/page.txt"),
            ("GET", "/../etc/passwd"),
        ] {
            let head = RequestHead::for_test(method, target, &[]);
            let (verdict, response) = answer(&router, &head);
            assert_eq!(verdict, None, "{method} {target}: nothing to check");
            let response = response.expect("an answer");
            assert!(is_challenge(&response), "{method} {target}: {response:?}");
        }
    }

    #[test]
    fn good_credentials_are_checked_once_then_remembered() {
        let (_dir, router) = router(&[], false);
        let good = basic("alice", "secret");
        let head = RequestHead::for_test("GET", "/page.txt", &[("Authorization", &good)]);
        let (verdict, response) = answer(&router, &head);
        assert_eq!(verdict.expect("a first check").failure(), None);
        assert_eq!(response.expect("an answer").status, 200);
        assert!(matches!(
            router.auth.as_ref().expect("auth").gate(&head),
            Gate::Authenticated
        ));
        // The second time the gate opens without bcrypt.
        let (verdict, response) = answer(&router, &head);
        assert_eq!(verdict, None);
        assert_eq!(response.expect("an answer").status, 200);
        // A password with a colon, and a route behind the gate.
        let bob = basic("bob", "b:ob's pass");
        let head = RequestHead::for_test("POST", "/echo", &[("Authorization", &bob)]);
        let (verdict, response) = answer(&router, &head);
        assert_eq!(verdict.expect("a check").failure(), None);
        assert_eq!(response.expect("the echo").status, 200);
    }

    #[test]
    fn bad_credentials_are_refused_and_say_why() {
        let (_dir, router) = router(&[], false);
        type Fields<'a> = Vec<(&'a str, String)>;
        let cases: Vec<(Fields, Option<Outcome>)> = vec![
            (
                vec![("Authorization", basic("alice", "Secret"))],
                Some(Outcome::WrongPassword("alice".into())),
            ),
            (
                vec![("Authorization", basic("mallory", "secret"))],
                Some(Outcome::UnknownUser("mallory".into())),
            ),
            (
                vec![("Authorization", basic("alice", ""))],
                Some(Outcome::WrongPassword("alice".into())),
            ),
            (
                vec![("Authorization", "Basic !!!".into())],
                Some(Outcome::Malformed(Some(BasicAuthError::BadToken))),
            ),
            (
                vec![("Authorization", "Basic YWxpY2U=".into())],
                Some(Outcome::Malformed(Some(BasicAuthError::NoColon))),
            ),
            (
                vec![
                    ("Authorization", basic("alice", "secret")),
                    ("Authorization", basic("alice", "secret")),
                ],
                Some(Outcome::Malformed(None)),
            ),
            // Another scheme: as if none were sent, nothing to log.
            (vec![("Authorization", "Bearer abc".into())], None),
        ];
        for (fields, expected) in cases {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
            let head = RequestHead::for_test("GET", "/page.txt", &fields);
            let (verdict, response) = answer(&router, &head);
            assert_eq!(
                verdict.as_ref().and_then(Verdict::failure),
                expected.as_ref(),
                "{fields:?}"
            );
            assert!(is_challenge(&response.expect("an answer")), "{fields:?}");
        }
        // A refusal is not remembered as a success.
        let head = RequestHead::for_test(
            "GET",
            "/page.txt",
            &[("Authorization", &basic("alice", "Secret"))],
        );
        assert!(answer(&router, &head).0.is_some(), "checked again");
    }

    #[test]
    fn an_unknown_user_is_checked_against_a_real_hash() {
        let (_dir, router) = router(&[], false);
        let auth = router.auth.as_ref().expect("auth");
        let head = RequestHead::for_test(
            "GET",
            "/page.txt",
            &[("Authorization", &basic("mallory", "secret"))],
        );
        let Gate::Check(PasswordCheck {
            attempt: Attempt::Credentials {
                hash, known_user, ..
            },
        }) = auth.gate(&head)
        else {
            panic!("an unknown user is checked");
        };
        assert!(!known_user);
        assert_eq!(hash, auth.decoy_hash);
        assert!(hash.starts_with("$2"), "a bcrypt hash: {hash}");
        // Even when the password matches the decoy's owner, it is refused.
        let alice = auth.options.users.hash_of("alice").expect("alice").clone();
        let bob = auth.options.users.hash_of("bob").expect("bob").clone();
        let owner_password = if hash == alice {
            "secret"
        } else {
            "b:ob's pass"
        };
        assert!(hash == alice || hash == bob);
        let head = RequestHead::for_test(
            "GET",
            "/page.txt",
            &[("Authorization", &basic("mallory", owner_password))],
        );
        let (verdict, response) = answer(&router, &head);
        assert_eq!(
            verdict.and_then(|v| v.failure().cloned()),
            Some(Outcome::UnknownUser("mallory".into()))
        );
        assert_eq!(response.expect("an answer").status, 401);
    }

    #[test]
    fn only_the_prefixes_are_protected_however_the_path_is_spelled() {
        let (_dir, router) = router(&["/private"], false);
        for target in [
            "/private/page.txt",
            "/private",
            "/%70rivate/page.txt",
            "/private%2Fpage.txt",
            "//private/page.txt",
            "/x/../private/page.txt",
            "/x/%2e%2e/private/page.txt",
            "http://h/private/page.txt",
        ] {
            let head = RequestHead::for_test("GET", target, &[]);
            let response = answer(&router, &head).1.expect("an answer");
            assert!(is_challenge(&response), "{target}: {response:?}");
        }
        // A route under the prefix is behind it too, body unread.
        let head = RequestHead::for_test("POST", "/private/echo", &[]);
        assert!(matches!(router.route(&head), Routed::Respond(r) if is_challenge(&r)));
        for (target, status) in [("/page.txt", 200), ("/privateer", 404), ("/", 404)] {
            let head = RequestHead::for_test("GET", target, &[]);
            let response = answer(&router, &head).1.expect("an answer");
            assert_eq!(response.status, status, "{target}");
        }
        let head = RequestHead::for_test("POST", "/echo", &[]);
        assert!(matches!(router.route(&head), Routed::ReadBody(_)));
    }

    #[test]
    fn a_cors_preflight_needs_no_credentials_but_its_request_does() {
        let preflight = RequestHead::for_test(
            "OPTIONS",
            "/echo",
            &[
                ("Origin", "https://a.example"),
                ("Access-Control-Request-Method", "POST"),
            ],
        );
        let (_dir, with_cors) = router(&[], true);
        let response = answer(&with_cors, &preflight).1.expect("an answer");
        assert_eq!(response.status, 204);
        assert_eq!(
            response.field("Access-Control-Allow-Methods"),
            Some("OPTIONS, POST")
        );
        // The actual request is refused, and the 401 carries the CORS
        // fields so the page's script can read it.
        let head = RequestHead::for_test("POST", "/echo", &[("Origin", "https://a.example")]);
        let response = answer(&with_cors, &head).1.expect("an answer");
        assert!(is_challenge(&response));
        assert_eq!(response.field("Access-Control-Allow-Origin"), Some("*"));
        // Without --cors there is no preflight: an OPTIONS like any other.
        let (_dir, without_cors) = router(&[], false);
        let response = answer(&without_cors, &preflight).1.expect("an answer");
        assert!(is_challenge(&response));
    }

    /// `--cache 60` sends `public`: a shared cache would keep a protected
    /// file and hand it to anyone. Authenticated answers say `private`.
    #[test]
    fn authenticated_answers_are_private_to_caches() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("private")).expect("dir");
        for name in ["open.txt", "private/page.txt"] {
            std::fs::write(dir.path().join(name), b"text").expect("file");
        }
        let options = crate::service::static_files::StaticOptions {
            cache: crate::service::static_files::cache::CachePolicy::MaxAge(60),
            ..Default::default()
        };
        let files = StaticFiles::new(dir.path().to_path_buf(), options).expect("root");
        let auth = AuthOptions::new(users(), &["/private".to_owned()], "r").expect("valid");
        let router = Router::new()
            .with_static_files(files)
            .with_auth(BasicAuth::new(auth));
        let good = basic("alice", "secret");
        let open = RequestHead::for_test("GET", "/open.txt", &[("Authorization", &good)]);
        let response = answer(&router, &open).1.expect("an answer");
        assert_eq!(response.field("Cache-Control"), Some("public, max-age=60"));
        let private =
            RequestHead::for_test("GET", "/private/page.txt", &[("Authorization", &good)]);
        for check in ["checked", "cached"] {
            let response = answer(&router, &private).1.expect("an answer");
            assert_eq!(response.status, 200, "{check}");
            assert_eq!(
                response.field("Cache-Control"),
                Some("private, max-age=60"),
                "{check}"
            );
        }
        let cases = [
            (
                "public, max-age=31536000, immutable",
                "private, max-age=31536000, immutable",
            ),
            ("no-cache", "private, no-cache"),
            ("s-maxage=60, Public", "private, s-maxage=60"),
            ("private", "private"),
        ];
        for (sent, kept) in cases {
            let mut response = Response::empty(200).with_field("Cache-Control", sent);
            keep_out_of_shared_caches(&mut response);
            assert_eq!(response.field("Cache-Control"), Some(kept), "{sent}");
        }
        let mut response = Response::empty(200);
        keep_out_of_shared_caches(&mut response);
        assert_eq!(response.field("Cache-Control"), None);
    }

    #[test]
    fn realms_that_cannot_be_sent_are_refused() {
        for realm in ["a\nb", "caf\u{e9}"] {
            let error = AuthOptions::new(users(), &[], realm).expect_err(realm);
            assert_eq!(error.id, "auth_realm", "{error:?}");
        }
    }

    #[test]
    fn the_cleartext_warning_is_for_plain_http_beyond_loopback() {
        let ip = |text: &str| text.parse::<IpAddr>().expect("an address");
        for bind in ["0.0.0.0", "::", "192.0.2.7", "2001:db8::1"] {
            let warning = cleartext_password_warning(ip(bind), false).expect(bind);
            assert!(warning.contains("clear"), "{warning}");
            assert_eq!(cleartext_password_warning(ip(bind), true), None, "{bind}");
        }
        for bind in ["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"] {
            assert_eq!(cleartext_password_warning(ip(bind), false), None, "{bind}");
            assert_eq!(cleartext_password_warning(ip(bind), true), None, "{bind}");
        }
    }
}
