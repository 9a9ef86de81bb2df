//! `--cors [ORIGIN]`: cross-origin resource sharing (Fetch standard, §3.2).
//!
//! Without the flag, no CORS field is ever sent and browsers keep the
//! same-origin policy. With it:
//! - Every response the router builds carries `Access-Control-Allow-Origin`
//!   with the configured value (`*`, or one origin). It is sent whether or
//!   not the request had `Origin`, so a shared cache can never store a copy
//!   without it and hand that to a cross-origin page. With a specific origin
//!   we also send `Vary: Origin`, as the Fetch standard asks of servers whose
//!   answer could depend on `Origin`.
//! - Every response but a preflight's also carries
//!   `Access-Control-Expose-Headers`, naming the fields a cross-origin
//!   reader of files needs that script could not otherwise read
//!   ([`EXPOSE_HEADERS`]).
//! - A preflight, `OPTIONS` with `Access-Control-Request-Method`, is
//!   answered 204 with the methods its target answers (the router's list,
//!   the same as that target's `Allow`), the requested headers echoed back
//!   when they are all tokens, and a max age, wherever it is aimed. A
//!   requested method that is not in the list still gets this 204: the
//!   browser compares, and refuses the actual request itself.
//!   It gets `Access-Control-Allow-Origin` (and `Vary: Origin`) too, but no
//!   `Access-Control-Expose-Headers`: a preflight's answer is never read by
//!   script.
//!
//! Credentials are never allowed (`Access-Control-Allow-Credentials` is not
//! sent), so `*` is safe to use for public files.

use super::response::Response;
use crate::proto::fields::{comma_list, is_tchar};
use crate::proto::{Method, RequestHead};
use std::borrow::Cow;

/// The value of `Access-Control-Expose-Headers`: the fields of a static
/// file's answer that script on another origin needs and cannot read
/// unless named here (only the CORS-safelisted response fields are readable
/// by default: Cache-Control, Content-Language, Content-Length,
/// Content-Type, Expires, Last-Modified and Pragma; Fetch standard §2.2.6).
/// `Content-Range` is how a range reader learns the file's size;
/// `Accept-Ranges` whether to try ranges; `ETag` what to send in
/// `If-Range` or `If-None-Match`; `Content-Encoding` which sidecar came.
/// `Last-Modified` is safelisted, and listed with `ETag` anyway as the other
/// validator. Names, not `*`: `*` means "all" only to engines that know it
/// and only without credentials.
pub const EXPOSE_HEADERS: &str =
    "ETag, Last-Modified, Content-Range, Accept-Ranges, Content-Encoding";

/// How long, in seconds, a browser may cache a preflight answer. Chromium
/// caps this at 7200, Firefox at 86400.
pub const MAX_AGE_SECONDS: &str = "7200";

/// The configured CORS policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsPolicy {
    /// `*`, or a serialized origin such as `https://app.example:8443`.
    allow_origin: String,
}

impl CorsPolicy {
    /// Parse the value of `--cors`: `*`, or an origin `scheme://host[:port]`
    /// with no path, query, user info or whitespace.
    pub fn parse(text: &str) -> Result<CorsPolicy, String> {
        if text == "*" || is_origin(text) {
            Ok(CorsPolicy {
                allow_origin: text.to_owned(),
            })
        } else {
            Err(format!(
                "{text:?} is not * or an origin like https://app.example"
            ))
        }
    }

    /// The value of `Access-Control-Allow-Origin`.
    pub fn allow_origin(&self) -> &str {
        &self.allow_origin
    }

    /// The answer to a preflight request ([`is_preflight`]) aimed at a
    /// target that answers `methods` (a list as in `Allow`), with all its
    /// CORS fields: the caller must not add [`CorsPolicy::add_fields`].
    pub fn preflight(&self, head: &RequestHead, methods: &str) -> Response {
        let mut response = Response::empty(204)
            .with_field("Access-Control-Allow-Methods", methods.to_owned())
            .with_field("Access-Control-Max-Age", MAX_AGE_SECONDS);
        if let Some(requested) = allowed_request_headers(head) {
            response = response
                .with_field("Access-Control-Allow-Headers", requested)
                .with_field("Vary", "Access-Control-Request-Headers");
        }
        self.add_origin(&mut response);
        response
    }

    /// Add the CORS fields of an actual (not preflight) response:
    /// `Access-Control-Allow-Origin` (and `Vary: Origin` for a specific
    /// origin) and `Access-Control-Expose-Headers`.
    pub fn add_fields(&self, response: &mut Response) {
        self.add_origin(response);
        response.fields.push((
            "Access-Control-Expose-Headers",
            Cow::Borrowed(EXPOSE_HEADERS),
        ));
    }

    /// `Access-Control-Allow-Origin`, and `Vary: Origin` for a specific
    /// origin.
    fn add_origin(&self, response: &mut Response) {
        response.fields.push((
            "Access-Control-Allow-Origin",
            Cow::Owned(self.allow_origin.clone()),
        ));
        if self.allow_origin != "*" {
            response.fields.push(("Vary", Cow::Borrowed("Origin")));
        }
    }
}

/// Whether `head` is a CORS preflight: `OPTIONS` with
/// `Access-Control-Request-Method` (Fetch standard, §3.2.2).
pub fn is_preflight(head: &RequestHead) -> bool {
    head.method() == Method::Options && head.field("Access-Control-Request-Method").is_some()
}

/// The `Access-Control-Request-Headers` names, lowercased and joined, if
/// there are any and every one is a token; otherwise `None`, and the
/// browser refuses the request itself.
fn allowed_request_headers(head: &RequestHead) -> Option<String> {
    let mut names = String::new();
    for line in head.fields_named("Access-Control-Request-Headers") {
        for name in comma_list(line) {
            if !name.iter().all(|&b| is_tchar(b)) {
                return None;
            }
            if !names.is_empty() {
                names.push_str(", ");
            }
            names.push_str(&String::from_utf8_lossy(name).to_ascii_lowercase());
        }
    }
    (!names.is_empty()).then_some(names)
}

/// Whether `text` is a serialized origin: a scheme, `://`, and a host with
/// an optional port, in visible ASCII without `/`, `?`, `#`, `@` or `,`.
fn is_origin(text: &str) -> bool {
    let Some((scheme, authority)) = text.split_once("://") else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let authority_ok = !authority.is_empty()
        && authority
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"/?#@,\\\"".contains(&b));
    scheme_ok && authority_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_accepted_and_refused() {
        for ok in [
            "*",
            "https://app.example",
            "http://localhost:3000",
            "https://[::1]:8443",
        ] {
            assert!(CorsPolicy::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "app.example",
            "https://",
            "https://app.example/",
            "https://app.example/path",
            "https://a.example, https://b.example",
            "https://user@app.example",
            "https://app.example\r\nX: y",
            "1http://x",
            "**",
        ] {
            assert!(CorsPolicy::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn preflight_and_simple_fields() {
        let any = CorsPolicy::parse("*").expect("valid");
        let one = CorsPolicy::parse("https://app.example").expect("valid");
        let preflight = RequestHead::for_test(
            "OPTIONS",
            "/data.json",
            &[
                ("Origin", "https://app.example"),
                ("Access-Control-Request-Method", "PUT"),
                ("Access-Control-Request-Headers", "Content-Type, X-Token"),
            ],
        );
        assert!(is_preflight(&preflight));
        let response = any.preflight(&preflight, "GET, HEAD, OPTIONS");
        assert_eq!(response.status, 204);
        // The target's methods, even though PUT is not among them.
        assert_eq!(
            response.field("Access-Control-Allow-Methods"),
            Some("GET, HEAD, OPTIONS")
        );
        assert_eq!(
            response.field("Access-Control-Allow-Headers"),
            Some("content-type, x-token")
        );
        assert_eq!(response.field("Access-Control-Max-Age"), Some("7200"));
        assert_eq!(response.field("Access-Control-Allow-Origin"), Some("*"));
        assert_eq!(response.field("Access-Control-Expose-Headers"), None);
        let response = one.preflight(&preflight, "OPTIONS, POST");
        assert_eq!(
            response.field("Access-Control-Allow-Origin"),
            Some("https://app.example")
        );
        assert!(response
            .fields
            .iter()
            .any(|(name, value)| *name == "Vary" && value == "Origin"));

        let bad_names = RequestHead::for_test(
            "OPTIONS",
            "/",
            &[
                ("Access-Control-Request-Method", "GET"),
                ("Access-Control-Request-Headers", "a b"),
            ],
        );
        assert!(is_preflight(&bad_names));
        let response = any.preflight(&bad_names, "GET, HEAD, OPTIONS");
        assert_eq!(response.field("Access-Control-Allow-Headers"), None);

        // Not preflights: OPTIONS without the method field, or a GET.
        let plain = RequestHead::for_test("OPTIONS", "/", &[("Origin", "https://x")]);
        assert!(!is_preflight(&plain));
        let get = RequestHead::for_test("GET", "/", &[("Access-Control-Request-Method", "GET")]);
        assert!(!is_preflight(&get));

        let mut response = Response::empty(200);
        any.add_fields(&mut response);
        assert_eq!(response.field("Access-Control-Allow-Origin"), Some("*"));
        assert_eq!(response.field("Vary"), None);
        assert_eq!(
            response.field("Access-Control-Expose-Headers"),
            Some(EXPOSE_HEADERS)
        );
        let mut response = Response::empty(200);
        one.add_fields(&mut response);
        assert_eq!(
            response.field("Access-Control-Allow-Origin"),
            Some("https://app.example")
        );
        assert_eq!(response.field("Vary"), Some("Origin"));
    }
}
