//! Which requests are navigations, for the `--spa` fallback.
//!
//! Pure. A single-page app routes `/users/42` in the browser, so the server
//! must answer such paths with the app's HTML; but a missing asset
//! (`/app.js`, `/logo.png`) must stay 404, or a broken deploy shows up as
//! "unexpected token <" instead of a clear 404. A request is a navigation
//! when its last path segment has no extension (`/users/42`, `/settings/`),
//! or when it accepts `text/html` explicitly (a browser navigating to
//! `/report.2025` sends `Accept: text/html,...`; `fetch` and `<script>` send
//! `*/*` or a specific type).

use crate::proto::fields::Weighted;

/// Whether a request whose decoded last path segment is `last_segment`
/// (empty for a path ending in `/`) and whose `Accept` field has the
/// weighted elements `accept` (all its lines) is a navigation.
pub fn is_navigation<'a>(
    last_segment: &str,
    accept: impl IntoIterator<Item = Weighted<'a>>,
) -> bool {
    !has_extension(last_segment) || accepts_html(accept)
}

/// Whether a segment has an extension: a `.` that is neither its first nor
/// its last character (`.env` and `v1.` have none).
pub fn has_extension(segment: &str) -> bool {
    matches!(segment.rfind('.'), Some(dot) if dot > 0 && dot + 1 < segment.len())
}

/// Whether `Accept` names `text/html` with a non-zero weight. Wildcards do
/// not count: every asset request accepts `*/*`.
fn accepts_html<'a>(accept: impl IntoIterator<Item = Weighted<'a>>) -> bool {
    accept
        .into_iter()
        .any(|element| element.item.eq_ignore_ascii_case(b"text/html") && element.weight > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::fields::weighted_list;

    const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

    #[test]
    fn navigations_and_assets() {
        // (last segment, Accept, is a navigation)
        let cases: &[(&str, Option<&str>, bool)] = &[
            ("", None, true),
            ("users", None, true),
            ("42", Some("*/*"), true),
            ("settings", Some("application/json"), true),
            (".env", None, true),
            ("v1.", None, true),
            ("app.js", None, false),
            ("app.js", Some("*/*"), false),
            ("logo.png", Some("image/avif,image/webp,*/*;q=0.8"), false),
            ("style.css", Some("text/css,*/*;q=0.1"), false),
            ("report.2025", Some(BROWSER), true),
            ("page.html", Some("TEXT/HTML"), true),
            ("page.html", Some("text/html;q=0"), false),
            ("page.html", Some("text/html;q=0.5"), true),
            ("page.html", Some("text/html;q=bad"), false),
            ("page.html", Some("text/*"), false),
        ];
        for (segment, accept, want) in cases {
            let elements = accept.iter().flat_map(|a| weighted_list(a.as_bytes()));
            assert_eq!(
                is_navigation(segment, elements),
                *want,
                "{segment:?} Accept: {accept:?}"
            );
        }
    }
}
