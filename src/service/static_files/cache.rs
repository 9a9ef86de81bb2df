//! `Cache-Control` for files (RFC 9111 §5.2.2): the `--cache` policy and the
//! pure rule that tells a content-hashed file name from any other.
//!
//! The default, [`CachePolicy::Auto`], is safe after a deploy: a name that
//! carries a content hash (`app.3f9a1c2e.js`) changes whenever its bytes
//! do, so it may be cached for a year without revalidation (`immutable`);
//! every other file (HTML above all) gets `no-cache`, which lets caches keep
//! it but makes them revalidate with `ETag`/`Last-Modified` before each use,
//! so a new `index.html` shows at once and costs a 304 when unchanged.

use std::fmt;
use std::str::FromStr;

/// One year in seconds: the longest `max-age` commonly honoured, and the
/// value RFC 8246 uses for `immutable` examples.
pub const ONE_YEAR_SECS: u64 = 31_536_000;

/// The largest `--cache SECONDS`: RFC 9111 §1.2.2 has caches treat any
/// larger delta-seconds as 2^31.
pub const MAX_AGE_LIMIT_SECS: u64 = 1 << 31;

/// The shortest name segment taken for a content hash.
const MIN_HASH_CHARS: usize = 8;

/// What `Cache-Control` file responses carry (`--cache`, default `auto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CachePolicy {
    /// Hashed names: `public, max-age=31536000, immutable`; everything
    /// else: `no-cache`.
    #[default]
    Auto,
    /// No `Cache-Control` at all: caches use their own heuristics.
    None,
    /// `public, max-age=SECONDS` on every file.
    MaxAge(u64),
}

impl CachePolicy {
    /// The `Cache-Control` value for the file named `file_name` (its last
    /// path segment), or `None` when the policy sends none.
    pub fn cache_control(self, file_name: &str) -> Option<String> {
        match self {
            CachePolicy::Auto if has_content_hash(file_name) => {
                Some(format!("public, max-age={ONE_YEAR_SECS}, immutable"))
            }
            CachePolicy::Auto => Some("no-cache".to_owned()),
            CachePolicy::None => None,
            CachePolicy::MaxAge(secs) => Some(format!("public, max-age={secs}")),
        }
    }

    /// One line for the startup output saying what the policy does.
    pub fn describe(self) -> String {
        match self {
            CachePolicy::Auto => {
                "auto (hashed names immutable for a year, everything else no-cache)".to_owned()
            }
            CachePolicy::None => "none (no Cache-Control sent)".to_owned(),
            CachePolicy::MaxAge(secs) => {
                format!("{secs} seconds (public, max-age={secs} on every file)")
            }
        }
    }
}

impl FromStr for CachePolicy {
    type Err = String;

    /// `auto`, `none` or a number of seconds up to 2^31.
    fn from_str(value: &str) -> Result<CachePolicy, String> {
        match value {
            "auto" => Ok(CachePolicy::Auto),
            "none" => Ok(CachePolicy::None),
            digits => match digits.parse::<u64>() {
                Ok(secs) if secs <= MAX_AGE_LIMIT_SECS && digits.bytes().all(|b| b.is_ascii_digit()) => {
                    Ok(CachePolicy::MaxAge(secs))
                }
                _ => Err(format!(
                    "expected auto, none or a number of seconds up to {MAX_AGE_LIMIT_SECS}, got {value:?}"
                )),
            },
        }
    }
}

impl fmt::Display for CachePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CachePolicy::Auto => f.write_str("auto"),
            CachePolicy::None => f.write_str("none"),
            CachePolicy::MaxAge(secs) => write!(f, "{secs}"),
        }
    }
}

/// Whether `file_name` carries a content hash, as bundlers write them
/// (`app.3f9a1c2e.js`, `index-B4xk9Qz1.css`, `chunk.5d41402abc4b2a76.min.js`).
///
/// The name without its extension (the part after the last `.`) is split at
/// `.` and `-`; a hash is a segment of at least 8 characters, all from the
/// base64url alphabet (hex is a subset; `-` cannot occur since it splits),
/// that mixes letters and digits. A name without an extension never
/// counts. So `stylesheet.css` (no digits) and
/// `report-20251110.pdf` (no letters) do not count.
///
/// One stricter condition than "mixes": letters and digits must alternate
/// at least twice (`ab12cd34`, not `Regular2020`). A word followed by a year
/// or version (`Inter-Variable2.woff2`, `Roboto-Regular2020.ttf`) is an
/// ordinary name that a deploy may overwrite in place; calling it hashed
/// would pin a stale file in browsers for a year. A real hash that fails the
/// test only costs a revalidation, so the rule errs on that side.
pub fn has_content_hash(file_name: &str) -> bool {
    let Some((stem, _extension)) = file_name.rsplit_once('.') else {
        return false;
    };
    stem.split(['.', '-']).any(is_hash_segment)
}

/// A segment of 8+ base64url characters with letters and digits alternating
/// at least twice.
fn is_hash_segment(segment: &str) -> bool {
    if segment.len() < MIN_HASH_CHARS
        || !segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return false;
    }
    let classes = segment
        .bytes()
        .filter(u8::is_ascii_alphanumeric)
        .map(|b| b.is_ascii_digit());
    let mut changes = 0;
    let mut previous = None;
    for is_digit in classes {
        if previous.is_some_and(|p| p != is_digit) {
            changes += 1;
        }
        previous = Some(is_digit);
    }
    changes >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_hash_names() {
        let cases = [
            // The examples.
            ("app.3f9a1c2e.js", true),
            ("index-B4xk9Qz1.css", true),
            ("stylesheet.css", false),
            ("report-20251110.pdf", false),
            // Bundler spellings.
            ("main.5d41402abc4b2a76b9719d911017c592.js", true),
            ("chunk-vendors.1a2b3c4d.min.js", true),
            ("logo.a1b2c3d4e5.svg", true),
            ("runtime~main.8f3e2d1c.js", true), // `~` only spoils its own segment
            ("x~3f9a1c2e.js", false),           // `~` is outside base64url
            ("font-x_Yz12ab9.woff2", true),     // `_` is in base64url
            ("3f9a1c2e.js", true),              // the stem is the hash
            // Not hashes.
            ("index.html", false),
            ("app.js", false),
            ("app.3f9a1c2.js", false),         // 7 characters
            ("abcdefgh.js", false),            // letters only
            ("12345678.js", false),            // digits only
            ("Inter-Variable2.woff2", false),  // word + version
            ("Roboto-Regular2020.ttf", false), // word + year
            ("v20251110.tar", false),          // one alternation
            ("jquery-3.7.1.min.js", false),    // short segments
            ("favicon-32x32.png", false),      // short segments
            ("archive.3f9a1c2e", false),       // the hash is the extension
            ("3f9a1c2e", false),               // no extension: never hashed
            ("", false),
            (".", false),
            ("notes.3f9a1c2e-.txt", true),
            ("caf\u{e9}3f9a1c2e.js", false), // non-ASCII in the segment
        ];
        for (name, expected) in cases {
            assert_eq!(has_content_hash(name), expected, "{name:?}");
        }
    }

    #[test]
    fn cache_control_per_policy() {
        let immutable = Some("public, max-age=31536000, immutable");
        let cases = [
            (CachePolicy::Auto, "app.3f9a1c2e.js", immutable),
            (CachePolicy::Auto, "index.html", Some("no-cache")),
            (CachePolicy::Auto, "style.css", Some("no-cache")),
            (CachePolicy::None, "app.3f9a1c2e.js", None),
            (CachePolicy::None, "index.html", None),
            (
                CachePolicy::MaxAge(600),
                "index.html",
                Some("public, max-age=600"),
            ),
            (
                CachePolicy::MaxAge(600),
                "app.3f9a1c2e.js",
                Some("public, max-age=600"),
            ),
            (CachePolicy::MaxAge(0), "a.txt", Some("public, max-age=0")),
        ];
        for (policy, name, expected) in cases {
            assert_eq!(
                policy.cache_control(name).as_deref(),
                expected,
                "{policy:?} {name}"
            );
        }
    }

    #[test]
    fn policy_from_flag_value() {
        let cases = [
            ("auto", Ok(CachePolicy::Auto)),
            ("none", Ok(CachePolicy::None)),
            ("0", Ok(CachePolicy::MaxAge(0))),
            ("3600", Ok(CachePolicy::MaxAge(3600))),
            ("2147483648", Ok(CachePolicy::MaxAge(1 << 31))),
            ("2147483649", Err(())),
            ("+5", Err(())),
            ("-5", Err(())),
            ("1h", Err(())),
            ("AUTO", Err(())),
            ("", Err(())),
        ];
        for (value, expected) in cases {
            assert_eq!(
                value.parse::<CachePolicy>().map_err(|_| ()),
                expected,
                "{value:?}"
            );
        }
        for policy in [
            CachePolicy::Auto,
            CachePolicy::None,
            CachePolicy::MaxAge(42),
        ] {
            assert_eq!(policy.to_string().parse::<CachePolicy>(), Ok(policy));
        }
    }

    #[test]
    fn describe_names_the_policy() {
        assert_eq!(
            CachePolicy::Auto.describe(),
            "auto (hashed names immutable for a year, everything else no-cache)"
        );
        assert!(CachePolicy::None.describe().starts_with("none"));
        assert!(CachePolicy::MaxAge(60).describe().starts_with("60 seconds"));
    }
}
