//! `--redirect-http`: the plain listener beside an HTTPS one, answering
//! every request with `308 Permanent Redirect` to the same host and target
//! over HTTPS, and nothing else (RFC 9110 §15.4.9: 308 keeps the method
//! and body, unlike 301).

use super::{Response, Router};
use crate::proto::authority::host_of;
use crate::proto::RequestHead;

/// The redirect listener's router: every request, whatever its method or
/// target, is answered by [`redirect`] to HTTPS on `https_port`.
pub fn router(https_port: u16) -> Router {
    Router::answering_everything(move |head: &RequestHead, _body: &[u8]| redirect(head, https_port))
}

/// `https://HOST[:PORT]TARGET` for `head`: the Host field's host (its port
/// dropped), the HTTPS port unless it is 443, and the path and query as
/// the client sent them. A request without a usable host (HTTP/1.0 with no
/// Host field, an empty one) cannot be redirected: 400.
pub fn redirect(head: &RequestHead, https_port: u16) -> Response {
    let authority = match head.field("host") {
        Some(host) if !host.is_empty() => host,
        _ => return Response::text(400, "A Host field is needed to redirect to HTTPS.\n"),
    };
    let Some(host) = host_of(authority).filter(|host| !host.is_empty()) else {
        return Response::text(400, "A Host field is needed to redirect to HTTPS.\n");
    };
    // The path and query only: an absolute-form target's own authority is
    // ignored in favour of Host, as RFC 9112 §3.2.2 has the target's
    // authority replace Host, and the parser already requires both to be
    // valid.
    // The parser admits only visible ASCII in a target and the host
    // grammar's characters in a host, so nothing is lost to the lossy
    // conversion, and no CR or LF can reach the field.
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let mut location = format!("https://{}", text(host));
    if https_port != 443 {
        location.push_str(&format!(":{https_port}"));
    }
    location.push_str(&text(head.path()));
    if let Some(query) = head.query() {
        location.push('?');
        location.push_str(&text(query));
    }
    Response::empty(308).with_field("Location", location)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(target: &str, host: Option<&str>, port: u16) -> (u16, Option<String>) {
        let fields: Vec<(&str, &str)> = host.map(|h| ("Host", h)).into_iter().collect();
        let head = RequestHead::for_test("GET", target, &fields);
        let response = redirect(&head, port);
        (
            response.status,
            response.field("Location").map(str::to_owned),
        )
    }

    #[test]
    fn every_target_goes_to_the_same_host_and_target_over_https() {
        // target, Host, HTTPS port, then the status and Location expected.
        type Case<'a> = (&'a str, Option<&'a str>, u16, u16, Option<&'a str>);
        let cases: &[Case] = &[
            (
                "/",
                Some("example.com"),
                443,
                308,
                Some("https://example.com/"),
            ),
            (
                "/a/b?x=1&y",
                Some("example.com:80"),
                443,
                308,
                Some("https://example.com/a/b?x=1&y"),
            ),
            (
                "/a",
                Some("example.com:8080"),
                8443,
                308,
                Some("https://example.com:8443/a"),
            ),
            (
                "/%2e%2e/x?q",
                Some("[::1]:80"),
                443,
                308,
                Some("https://[::1]/%2e%2e/x?q"),
            ),
            (
                "http://other.example/p?q",
                Some("example.com"),
                443,
                308,
                Some("https://example.com/p?q"),
            ),
            ("/", None, 443, 400, None),
            ("/", Some(""), 443, 400, None),
        ];
        for &(target, host, port, status, expected) in cases {
            assert_eq!(
                location(target, host, port),
                (status, expected.map(str::to_owned)),
                "{target} Host: {host:?}"
            );
        }
    }
}
