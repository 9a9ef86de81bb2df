//! URL path to a safe path relative to the root.
//!
//! Pure: bytes in, a [`RelativePath`] or a [`PathError`] out; the file system
//! is `mod.rs`'s business. The rules, in order:
//!
//! 1. The path must start with `/` (origin-form, RFC 9112 §3.2.1); anything
//!    else (`*`, an empty path) is 400.
//! 2. Percent-decode exactly once (RFC 3986 §2.1). A `%` not followed by two
//!    hex digits is 400. `%252e` therefore stays the literal name `%2e`.
//! 3. The decoded bytes must be UTF-8, which also rejects overlong forms such
//!    as `%c0%ae` (an old way to smuggle a `.`), and must not contain NUL:
//!    both are 400, as the request is malformed rather than merely not found.
//! 4. Split on `/` AFTER decoding, so `%2f` is an ordinary separator and
//!    `..%2f` cannot hide a `..` segment from the check below. Empty and `.`
//!    segments are dropped (`//etc/passwd` is `etc/passwd` under the root).
//! 5. A `..` segment is 404: we never walk up, and 404 tells a prober nothing
//!    about what exists above the root.
//! 6. A segment containing `\` is 404, so no platform or proxy that treats it
//!    as a separator can be tricked.
//!
//! Dotfiles are a policy (`--hidden`), so they are not refused here, but
//! which names are hidden is decided here, once, by [`is_hidden_segment`]:
//! a segment starting with `.` (`.git`, `.env`, `.htpasswd` must never
//! leak), except `.well-known` as the first segment (RFC 8615). The request
//! path ([`RelativePath::has_hidden_segment`]) and the directory listing
//! ([`RelativePath::is_hidden_entry`]) both ask it, through
//! [`StaticOptions`](super::StaticOptions), which applies `--hidden`.
//!
//! The kernel enforces containment again when the file is opened (see
//! `mod.rs`); these rules are the first of two independent fences.

use crate::proto::fields::hex_digit_value;
use std::borrow::Cow;

/// A decoded, checked path relative to the document root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelativePath {
    /// Segments joined by `/`; empty for the root itself.
    joined: String,
    trailing_slash: bool,
}

impl RelativePath {
    /// The path to pass to `openat`: the segments joined by `/`, or `.` for
    /// the root. Never absolute, never contains `..`, `.` or empty segments.
    pub fn as_str(&self) -> &str {
        if self.joined.is_empty() {
            "."
        } else {
            &self.joined
        }
    }

    /// Whether this names the root directory itself.
    pub fn is_root(&self) -> bool {
        self.joined.is_empty()
    }

    /// Whether the raw path ended with `/`: a directory is served (through
    /// its `index.html`) only then; otherwise it is redirected to add one.
    pub fn has_trailing_slash(&self) -> bool {
        self.trailing_slash
    }

    /// The segments, in order.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.joined.split('/').filter(|s| !s.is_empty())
    }

    /// Whether any segment is hidden ([`is_hidden_segment`]).
    pub fn has_hidden_segment(&self) -> bool {
        self.segments()
            .enumerate()
            .any(|(position, segment)| is_hidden_segment(segment, position))
    }

    /// Whether the entry `name` of this directory is hidden
    /// ([`is_hidden_segment`] one level below this path's segments).
    pub fn is_hidden_entry(&self, name: &str) -> bool {
        is_hidden_segment(name, self.segments().count())
    }
}

/// The hidden-name rule, the only one: whether `segment`, the path segment
/// at `position` (0 for a name directly in the root), names a hidden file
/// or directory. That is one starting with `.`, other than `.well-known`
/// directly under the root: RFC 8615 defines it there only, so
/// `/d/.well-known/` and `/.well-known/.secret` are hidden.
pub fn is_hidden_segment(segment: &str, position: usize) -> bool {
    segment.starts_with('.') && !(position == 0 && segment == WELL_KNOWN)
}

/// The one dot-directory served without `--hidden`, at the root (RFC 8615).
const WELL_KNOWN: &str = ".well-known";

/// Why a URL path was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathError {
    /// The path does not start with `/`.
    NotOriginForm,
    /// A `%` not followed by two hex digits.
    BadPercentEscape,
    /// The decoded bytes are not UTF-8 (including overlong forms).
    InvalidUtf8,
    /// A decoded NUL byte.
    Nul,
    /// A `..` segment.
    Traversal,
    /// A segment containing `\`.
    Backslash,
    /// A segment starting with `.` other than `.well-known`, refused by the
    /// hidden-file policy (never by [`resolve_path`] itself).
    Hidden,
}

impl PathError {
    /// The status to answer with: 400 for a malformed path, 404 for one that
    /// is well formed but must not be served.
    pub fn status(self) -> u16 {
        match self {
            PathError::NotOriginForm
            | PathError::BadPercentEscape
            | PathError::InvalidUtf8
            | PathError::Nul => 400,
            PathError::Traversal | PathError::Backslash | PathError::Hidden => 404,
        }
    }

    /// What is wrong, in words, for a message to a person (a refused
    /// `--auth-path`, say); the variant names are for code.
    pub fn describe(self) -> &'static str {
        match self {
            PathError::NotOriginForm => "it does not start with /",
            PathError::BadPercentEscape => "a % is not followed by two hex digits",
            PathError::InvalidUtf8 => "its percent-decoded bytes are not UTF-8",
            PathError::Nul => "it contains an encoded NUL byte (%00)",
            PathError::Traversal => "it has a .. segment",
            PathError::Backslash => "a segment contains a backslash",
            PathError::Hidden => "a segment starts with a dot",
        }
    }
}

/// Turn the raw (not yet decoded, query already removed) path of a request
/// into a safe path relative to the root. See the module docs for the rules.
pub fn resolve_path(raw_path: &[u8]) -> Result<RelativePath, PathError> {
    if raw_path.first() != Some(&b'/') {
        return Err(PathError::NotOriginForm);
    }
    // Most paths have no escape: they are checked where they lie, without
    // a decoded copy (an allocation and a byte-by-byte loop per request).
    let decoded = if memchr::memchr(b'%', raw_path).is_some() {
        Cow::Owned(percent_decode(raw_path)?)
    } else {
        Cow::Borrowed(raw_path)
    };
    if memchr::memchr(0, &decoded).is_some() {
        return Err(PathError::Nul);
    }
    let decoded = std::str::from_utf8(&decoded).map_err(|_| PathError::InvalidUtf8)?;

    let mut joined = String::with_capacity(decoded.len());
    for segment in decoded.split('/') {
        match segment {
            "" | "." => continue,
            ".." => return Err(PathError::Traversal),
            _ if segment.contains('\\') => return Err(PathError::Backslash),
            _ => {}
        }
        if !joined.is_empty() {
            joined.push('/');
        }
        joined.push_str(segment);
    }
    Ok(RelativePath {
        joined,
        trailing_slash: raw_path.ends_with(b"/"),
    })
}

/// The path of the entry `name` of the directory at `directory` (a
/// [`RelativePath::as_str`], `.` for the root): `name` alone in the root,
/// `directory/name` elsewhere. The one "directory + name" join, for index
/// files, listed symlinks and the hot cache's index entries.
pub fn join_name(directory: &str, name: &str) -> String {
    match directory {
        "." => name.to_owned(),
        _ => format!("{directory}/{name}"),
    }
}

/// What a percent-encoded piece of a URL keeps as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriPart {
    /// One path segment made from a name: only the unreserved characters
    /// (RFC 3986 §2.3), so `/`, `?`, `#` keep it one segment and `:` cannot
    /// make it read as a scheme.
    Segment,
    /// A path or query as the client sent it: also the sub-delims, `:`,
    /// `@`, `/`, `?` (RFC 3986 §3.3, §3.4) and `%`, so escapes the client
    /// sent stay escapes.
    SentPathOrQuery,
}

/// Append `bytes` to `out`, percent-encoding (upper-case hex) every byte
/// that `part` does not keep: the one percent-encoder. Whatever `bytes`
/// holds, what is appended is URI characters only, so it is also a valid
/// field value (RFC 9110 §5.5) and valid in an HTML attribute.
pub fn percent_encode(out: &mut String, bytes: &[u8], part: UriPart) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in bytes {
        let unreserved = byte.is_ascii_alphanumeric() || b"-._~".contains(&byte);
        let keep =
            unreserved || (part == UriPart::SentPathOrQuery && b"!$&'()*+,;=:@/?%".contains(&byte));
        if keep {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
    }
}

/// Decode `%XX` escapes once. Other bytes are copied as they are.
fn percent_decode(raw: &[u8]) -> Result<Vec<u8>, PathError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' {
            let high = raw.get(i + 1).copied().and_then(hex_digit_value);
            let low = raw.get(i + 2).copied().and_then(hex_digit_value);
            match (high, low) {
                (Some(high), Some(low)) => out.push(high << 4 | low),
                _ => return Err(PathError::BadPercentEscape),
            }
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Ok((relative path, trailing slash))` or the error.
    type Want = Result<(&'static str, bool), PathError>;

    #[test]
    fn resolves_or_refuses() {
        use PathError::*;
        let cases: &[(&[u8], Want)] = &[
            (b"/", Ok((".", true))),
            (b"/index.html", Ok(("index.html", false))),
            (b"/a/b/c.txt", Ok(("a/b/c.txt", false))),
            (b"/docs/", Ok(("docs", true))),
            (b"/docs", Ok(("docs", false))),
            // Empty and `.` segments are dropped, so an "absolute" path
            // stays under the root.
            (b"//etc/passwd", Ok(("etc/passwd", false))),
            (b"/etc/passwd", Ok(("etc/passwd", false))),
            (b"/a//b/./c", Ok(("a/b/c", false))),
            (b"/./", Ok((".", true))),
            // Traversal, however spelled, is 404.
            (b"/..", Err(Traversal)),
            (b"/../etc/passwd", Err(Traversal)),
            (b"/a/../../etc/passwd", Err(Traversal)),
            (b"/%2e%2e/etc/passwd", Err(Traversal)),
            (b"/%2E%2E/etc/passwd", Err(Traversal)),
            (b"/.%2e/etc/passwd", Err(Traversal)),
            (b"/%2e./etc/passwd", Err(Traversal)),
            (b"/a/..%2f..%2fetc/passwd", Err(Traversal)),
            (b"/a%2f..%2f..%2fetc", Err(Traversal)),
            // `%2f` is a separator once decoded.
            (b"/a%2fb", Ok(("a/b", false))),
            (b"/a%2F", Ok(("a", false))),
            // Decoded once only: `%252e%252e` is the literal name `%2e%2e`.
            (b"/%252e%252e/x", Ok(("%2e%2e/x", false))),
            // Backslashes never reach the file system.
            (b"/%5c..%5cetc", Err(Backslash)),
            (b"/a%5Cb", Err(Backslash)),
            (b"/a\\b", Err(Backslash)),
            // NUL and malformed escapes are 400.
            (b"/a%00.html", Err(Nul)),
            (b"/%", Err(BadPercentEscape)),
            (b"/%2", Err(BadPercentEscape)),
            (b"/%zz", Err(BadPercentEscape)),
            (b"/%%32%65", Err(BadPercentEscape)),
            // Overlong UTF-8 for `.` and other invalid UTF-8 are 400.
            (b"/%c0%ae%c0%ae/etc/passwd", Err(InvalidUtf8)),
            (b"/%ff", Err(InvalidUtf8)),
            // Dotfiles resolve; hiding them is the policy's job.
            (b"/.git/config", Ok((".git/config", false))),
            (b"/%2egit/config", Ok((".git/config", false))),
            (
                b"/.well-known/security.txt",
                Ok((".well-known/security.txt", false)),
            ),
            (b"/a.b/c..d", Ok(("a.b/c..d", false))),
            // Spaces and Unicode decode to themselves.
            (b"/my%20file.txt", Ok(("my file.txt", false))),
            (b"/caf%C3%A9.html", Ok(("caf\u{e9}.html", false))),
            (b"/%E6%97%A5%E6%9C%AC/", Ok(("\u{65e5}\u{672c}", true))),
            // Not origin-form.
            (b"*", Err(NotOriginForm)),
            (b"", Err(NotOriginForm)),
            (b"index.html", Err(NotOriginForm)),
        ];
        for (raw, want) in cases {
            let got = resolve_path(raw).map(|p| (p.as_str().to_owned(), p.has_trailing_slash()));
            let want = want.map(|(p, slash)| (p.to_owned(), slash));
            assert_eq!(got, want, "raw path {:?}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn statuses() {
        use PathError::*;
        let cases = [
            (NotOriginForm, 400),
            (BadPercentEscape, 400),
            (InvalidUtf8, 400),
            (Nul, 400),
            (Traversal, 404),
            (Backslash, 404),
            (Hidden, 404),
        ];
        for (error, status) in cases {
            assert_eq!(error.status(), status, "{error:?}");
        }
    }

    #[test]
    fn hidden_segments() {
        let cases: &[(&[u8], bool)] = &[
            (b"/", false),
            (b"/a.b/c..d", false),
            (b"/.env", true),
            (b"/.git/config", true),
            (b"/%2egit/config", true),
            (b"/a/.htpasswd", true),
            (b"/a/.well-known/x", true),
            (b"/.well-known/security.txt", false),
            (b"/.well-known/", false),
            (b"/.well-known/.secret", true),
            (b"//.well-known/acme-challenge/t", false),
        ];
        for (raw, want) in cases {
            let path = resolve_path(raw).expect("resolves");
            assert_eq!(
                path.has_hidden_segment(),
                *want,
                "{}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[test]
    fn hidden_entries_agree_with_hidden_paths() {
        // (directory, entry name, hidden)
        let cases: &[(&[u8], &str, bool)] = &[
            (b"/", "a.txt", false),
            (b"/", ".env", true),
            (b"/", ".well-known", false),
            (b"/d/", ".well-known", true),
            (b"/.well-known/", ".secret", true),
            (b"/.well-known/", "security.txt", false),
            (b"/d/e/", "..x", true),
        ];
        for (directory, name, want) in cases {
            let directory = resolve_path(directory).expect("resolves");
            assert_eq!(directory.is_hidden_entry(name), *want, "{name}");
            let child = format!("/{}/{name}", directory.as_str());
            let child = resolve_path(child.as_bytes()).expect("resolves");
            assert_eq!(child.has_hidden_segment(), *want, "{child:?}");
        }
    }

    #[test]
    fn root_and_segments() {
        let root = resolve_path(b"/").expect("root resolves");
        assert!(root.is_root());
        assert_eq!(root.segments().count(), 0);
        let nested = resolve_path(b"/a//b/c").expect("resolves");
        assert!(!nested.is_root());
        assert_eq!(nested.segments().collect::<Vec<_>>(), ["a", "b", "c"]);
    }

    #[test]
    fn entries_join_their_directory() {
        let cases = [
            (".", "index.html", "index.html"),
            ("docs", "index.html", "docs/index.html"),
            ("a/b", "c d", "a/b/c d"),
        ];
        for (directory, name, want) in cases {
            assert_eq!(join_name(directory, name), want);
        }
        // Joined paths resolve to themselves: the join agrees with the
        // resolver's own spelling.
        for (directory, name, want) in cases {
            let resolved =
                resolve_path(format!("/{directory}/{name}").as_bytes()).expect("resolves");
            assert_eq!(resolved.as_str(), want, "{directory} {name}");
        }
    }

    #[test]
    fn names_are_percent_encoded_as_one_segment() {
        let cases = [
            ("plain-name_1.0~x.txt", "plain-name_1.0~x.txt"),
            ("a b.txt", "a%20b.txt"),
            ("c#d.txt", "c%23d.txt"),
            ("q?x.txt", "q%3Fx.txt"),
            ("50%.txt", "50%25.txt"),
            ("\"quoted\".txt", "%22quoted%22.txt"),
            ("it's", "it%27s"),
            ("<tag>.txt", "%3Ctag%3E.txt"),
            ("a&b", "a%26b"),
            ("\u{fc}n\u{ef}.txt", "%C3%BCn%C3%AF.txt"),
            ("\u{65e5}", "%E6%97%A5"),
            ("line\nbreak", "line%0Abreak"),
            ("mailto:x", "mailto%3Ax"),
            ("a+b=c;d,e", "a%2Bb%3Dc%3Bd%2Ce"),
            ("a/b", "a%2Fb"),
        ];
        for (name, want) in cases {
            let mut out = String::new();
            percent_encode(&mut out, name.as_bytes(), UriPart::Segment);
            assert_eq!(out, want, "{name:?}");
        }
    }

    #[test]
    fn sent_paths_and_queries_keep_their_uri_characters_and_escapes() {
        let cases: &[(&[u8], &str)] = &[
            (b"a-b._~!$&'()*+,;=:@/?%2F", "a-b._~!$&'()*+,;=:@/?%2F"),
            (b"a b#c", "a%20b%23c"),
            (b"\\x", "%5Cx"),
            (b"\r\n", "%0D%0A"),
            (b"caf\xc3\xa9\xff", "caf%C3%A9%FF"),
            (b"\"<>[]{}|^`", "%22%3C%3E%5B%5D%7B%7D%7C%5E%60"),
        ];
        for (bytes, want) in cases {
            let mut out = String::from("x");
            percent_encode(&mut out, bytes, UriPart::SentPathOrQuery);
            assert_eq!(out, format!("x{want}"), "{bytes:?}");
        }
    }

    use proptest::prelude::*;

    /// Pieces from which paths that probe every rule are built.
    const PATH_PARTS: &[&str] = &[
        "/",
        "//",
        ".",
        "..",
        "%2e",
        "%2E",
        "%2f",
        "%2F",
        "%5c",
        "\\",
        "%00",
        "%",
        "%2",
        "%zz",
        "%c0%ae",
        "%252e",
        "a",
        "b.txt",
        ".git",
        ".well-known",
        "%c3%a9",
        "?",
        ";",
    ];

    /// Join `relative` under `root` and normalise it lexically (`..` pops,
    /// `.` is skipped), as a file system without symlinks would.
    fn lexical_join(root: &std::path::Path, relative: &str) -> std::path::PathBuf {
        use std::path::Component;
        let mut normal = std::path::PathBuf::new();
        for component in root.join(relative).components() {
            match component {
                Component::ParentDir => {
                    normal.pop();
                }
                Component::CurDir => {}
                other => normal.push(other.as_os_str()),
            }
        }
        normal
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// Whatever the input, the answer is an error or a plain relative
        /// path that stays under the root (the fuzz target `resolve_path`
        /// checks the same, unbounded).
        #[test]
        fn resolved_paths_stay_under_the_root(
            raw in prop_oneof![
                proptest::collection::vec(proptest::sample::select(PATH_PARTS), 0..10)
                    .prop_map(|parts| parts.concat().into_bytes()),
                proptest::collection::vec(any::<u8>(), 0..24),
            ],
        ) {
            let Ok(path) = resolve_path(&raw) else {
                return Ok(());
            };
            let text = path.as_str();
            prop_assert!(!text.starts_with('/') && !text.contains('\\') && !text.contains('\0'));
            let segments: Vec<&str> = path.segments().collect();
            if path.is_root() {
                prop_assert_eq!(text, ".");
            } else {
                prop_assert_eq!(segments.join("/"), text);
            }
            for segment in &segments {
                prop_assert!(!segment.is_empty() && *segment != "." && *segment != "..");
            }
            let root = std::path::Path::new("/srv/root");
            prop_assert!(lexical_join(root, text).starts_with(root), "{} escapes", text);
        }
    }
}
