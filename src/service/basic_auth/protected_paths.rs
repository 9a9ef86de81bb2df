//! Which requests need credentials: the whole site, or the path prefixes
//! given by `--auth-path`.
//!
//! The decision is made on the path the static files would serve: percent-
//! decoded once and normalised by the same [`resolve_path`], and compared
//! segment by segment. So `/private`, `/private/`, `//private/x`,
//! `/%70rivate/x` and `/public/%2E%2E/private/x` are all treated alike, and
//! `/privateer` is not under `/private`. A path `resolve_path` refuses (a
//! `..` that would climb, a bad escape, `*`) is protected: when in doubt,
//! ask for credentials; the answer after them is the same 400 or 404.

use crate::service::static_files::path::resolve_path;

/// What `--auth` protects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtectedPaths {
    /// No `--auth-path` (or `--auth-path /`): every request.
    Everything,
    /// Requests whose path is, segment for segment, under one of these.
    Prefixes(Vec<Vec<String>>),
}

impl ProtectedPaths {
    /// From the `--auth-path` values, each checked: an absolute path that
    /// [`resolve_path`] accepts, with no query, fragment, whitespace or
    /// control character (a request's path never has them, so such a
    /// prefix would protect nothing). A value is a comma-separated list,
    /// as for `--trusted-proxies`; a comma inside a segment is `%2C`.
    pub fn from_prefixes(prefixes: &[String]) -> Result<ProtectedPaths, String> {
        if prefixes.is_empty() {
            return Ok(ProtectedPaths::Everything);
        }
        let mut segments = Vec::with_capacity(prefixes.len());
        let mut root = false;
        for prefix in prefixes
            .iter()
            .flat_map(|value| value.split(','))
            .map(str::trim)
        {
            let refuse = |why: &str| format!("{prefix:?} is not a URL path prefix: {why}");
            if let Some(c) = prefix
                .chars()
                .find(|&c| c == '?' || c == '#' || c.is_whitespace() || c.is_control())
            {
                return Err(refuse(&format!(
                    "it contains {c:?} (a prefix has no query, fragment, spaces or \
                     control characters; percent-encode them)"
                )));
            }
            let resolved = resolve_path(prefix.as_bytes()).map_err(|e| refuse(e.describe()))?;
            // Every item is checked, even after a `/`: a typo is an error
            // wherever it is in the list.
            root |= resolved.is_root();
            segments.push(resolved.segments().map(str::to_owned).collect());
        }
        if root {
            return Ok(ProtectedPaths::Everything);
        }
        Ok(ProtectedPaths::Prefixes(segments))
    }

    /// Whether a request with this raw path (query removed, not decoded)
    /// needs credentials.
    pub fn protects(&self, raw_path: &[u8]) -> bool {
        let ProtectedPaths::Prefixes(prefixes) = self else {
            return true;
        };
        let Ok(path) = resolve_path(raw_path) else {
            return true;
        };
        prefixes.iter().any(|prefix| {
            let mut segments = path.segments();
            prefix
                .iter()
                .all(|wanted| segments.next() == Some(wanted.as_str()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn prefixes(list: &[&str]) -> ProtectedPaths {
        let owned: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        ProtectedPaths::from_prefixes(&owned).expect("valid prefixes")
    }

    #[test]
    fn prefixes_match_whole_decoded_segments() {
        let protected = prefixes(&["/private", "/api/v1/"]);
        let cases: &[(&str, bool)] = &[
            ("/private", true),
            ("/private/", true),
            ("/private/a/b.txt", true),
            ("//private/a", true),
            ("/./private/a", true),
            ("/%70rivate/a", true),
            ("/private%2Fa", true),
            ("/public/%2E%2E/private/a", true),
            ("/public/../private/a", true),
            ("/api/v1", true),
            ("/api/v1/echo", true),
            ("/api//v1/x", true),
            // Not under a prefix.
            ("/", false),
            ("/privateer", false),
            ("/privat", false),
            ("/public/private", false),
            ("/api", false),
            ("/api/v2/x", false),
            ("/Private/a", false),
            // Paths that cannot be resolved: protected.
            ("*", true),
            ("", true),
            ("/%zz", true),
            ("/a/%00", true),
            ("/%c0%ae%c0%ae/private", true),
        ];
        for &(path, expected) in cases {
            assert_eq!(protected.protects(path.as_bytes()), expected, "{path}");
        }
    }

    #[test]
    fn a_value_is_a_comma_separated_list_as_for_trusted_proxies() {
        assert_eq!(
            prefixes(&["/private,/Private", " /api , /x%2Cy"]),
            ProtectedPaths::Prefixes(vec![
                vec!["private".to_owned()],
                vec!["Private".to_owned()],
                vec!["api".to_owned()],
                vec!["x,y".to_owned()],
            ])
        );
        // An empty item is a mistake, as in --trusted-proxies.
        assert!(ProtectedPaths::from_prefixes(&["/a,".to_owned()]).is_err());
    }

    #[test]
    fn no_prefix_or_the_root_protects_everything() {
        for protected in [prefixes(&[]), prefixes(&["/"]), prefixes(&["/a", "//"])] {
            assert_eq!(protected, ProtectedPaths::Everything);
            for path in ["/", "/a", "*", "/%zz"] {
                assert!(protected.protects(path.as_bytes()), "{path}");
            }
        }
    }

    #[test]
    fn prefixes_must_be_absolute_url_paths() {
        for bad in [
            "private", "", "/../x", "/%zz", "/a/%00", "/a?x", "/a#x", "/a b", "/a\tb", "/a\u{7f}",
        ] {
            let error = ProtectedPaths::from_prefixes(&[bad.to_owned()]).expect_err(bad);
            assert!(error.contains(&format!("{bad:?}")), "{error}");
            // Words for a person, not the variant names of PathError.
            assert!(error.contains("is not a URL path prefix: "), "{error}");
            for name in ["NotOriginForm", "BadPercentEscape", "(Nul)", "Traversal"] {
                assert!(!error.contains(name), "{error}");
            }
        }
        assert_eq!(
            prefixes(&["/my%20docs"]),
            ProtectedPaths::Prefixes(vec![vec!["my docs".to_owned()]])
        );
    }

    proptest! {
        /// Whatever a client sends, a path that reaches a file under the
        /// prefix (the one `resolve_path` makes of it) is protected.
        #[test]
        fn every_spelling_of_a_protected_path_is_protected(
            raw in proptest::collection::vec(
                prop_oneof![
                    Just(b'/'), Just(b'.'), Just(b'%'), Just(b'2'), Just(b'f'),
                    Just(b'F'), Just(b'e'), Just(b'E'), Just(b'p'), Just(b'x'),
                ],
                0..24,
            ),
        ) {
            let protected = prefixes(&["/p"]);
            match resolve_path(&raw) {
                Ok(path) if path.segments().next() == Some("p") => {
                    prop_assert!(protected.protects(&raw));
                }
                Ok(_) => prop_assert!(!protected.protects(&raw)),
                Err(_) => prop_assert!(protected.protects(&raw)),
            }
        }
    }
}
