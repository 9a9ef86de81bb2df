//! Redirects: a directory named without its trailing slash is answered 301
//! to the same path with one, by a relative `Location` that cannot name
//! another host.

use super::path::{percent_encode, UriPart};
use crate::service::Response;

/// 301 to the same path with a trailing slash, keeping the query, so
/// relative links inside the directory's index resolve against it.
pub(super) fn redirect_to_directory(raw_path: &[u8], query: Option<&[u8]>) -> Response {
    Response::text(301, "Moved Permanently")
        .with_field("Location", directory_location(raw_path, query))
}

/// The `Location` for a directory redirect: a relative reference (RFC 9110
/// §10.2.2 allows one), the raw last segment of the path plus `/`, and the
/// query if any. Resolved against the request's own URL it names the same
/// path with a slash added, and it can never name another host: it starts
/// with neither `/` nor `\` (which some browsers read as `/`), and a colon
/// in it gets a `./` in front so it cannot read as a scheme (RFC 3986
/// §4.2). Bytes that are not URI characters are percent-encoded, so the
/// value is always a valid field value (RFC 9110 §5.5) and a `#` or `\`
/// cannot change its meaning, whatever the parser let through.
fn directory_location(raw_path: &[u8], query: Option<&[u8]>) -> String {
    let last = raw_path.rsplit(|&b| b == b'/').next().unwrap_or_default();
    let mut location = String::with_capacity(last.len() + 4 + query.map_or(0, <[u8]>::len));
    if last.is_empty() || last.contains(&b':') {
        location.push_str("./");
    }
    percent_encode(&mut location, last, UriPart::SentPathOrQuery);
    if !last.is_empty() {
        location.push('/');
    }
    if let Some(query) = query {
        location.push('?');
        percent_encode(&mut location, query, UriPart::SentPathOrQuery);
    }
    location
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_never_names_another_host_nor_breaks_the_field() {
        // (raw path, query, Location)
        type Case<'a> = (&'a [u8], Option<&'a [u8]>, &'a str);
        let cases: &[Case] = &[
            (b"//evil.example", None, "evil.example/"),
            (b"////evil.example", Some(b"a=b"), "evil.example/?a=b"),
            (b"/%2F%2Fevil.example", None, "%2F%2Fevil.example/"),
            (b"/x/%2F%2Fevil.example", None, "%2F%2Fevil.example/"),
            // Backslashes read as slashes in browsers: never sent raw.
            (b"/\\evil.example", None, "%5Cevil.example/"),
            // A colon would make the first segment a scheme.
            (b"/javascript:alert(1)", None, "./javascript:alert(1)/"),
            (b"/http:", Some(b"x"), "./http:/?x"),
            (b"/a#b", Some(b"c#d"), "a%23b/?c%23d"),
            (b"/a b", None, "a%20b/"),
            (b"/a\r\nSet-Cookie: x", None, "./a%0D%0ASet-Cookie:%20x/"),
            (b"/caf\xc3\xa9", Some(b"q=\xff"), "caf%C3%A9/?q=%FF"),
            (b"/", None, "./"),
        ];
        for (path, query, want) in cases {
            let location = directory_location(path, *query);
            assert_eq!(location, *want);
            assert!(!location.starts_with('/') && !location.starts_with('\\'));
            let first_segment = location.split(['/', '?']).next().unwrap_or_default();
            assert!(!first_segment.contains(':'), "{location}");
        }
    }
}
