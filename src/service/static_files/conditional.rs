//! Conditional requests (RFC 9110 §13): `If-Match`, `If-Unmodified-Since`,
//! `If-None-Match`, `If-Modified-Since` and `If-Range`, evaluated against
//! the current representation's validators.
//!
//! Pure: field values and validators in, a decision out. The file-system
//! glue builds the 304/412 responses; `If-Range` is asked by the range
//! handling ([`if_range_allows`]) after the other preconditions pass.
//!
//! Order (§13.2.2), each step only when the field is present:
//! 1. `If-Match` (strong comparison; `*` matches the existing file): no
//!    match → 412. With no current representation nothing matches, `*`
//!    included (§13.1.1), so it is always 412.
//! 2. Else `If-Unmodified-Since` (a valid date, and the file has a
//!    modification date): modified after it → 412.
//! 3. `If-None-Match` (weak comparison; `*` matches if there is a current
//!    representation): a match → 304 for GET/HEAD, 412 for other methods.
//! 4. Else, for GET/HEAD only, `If-Modified-Since` (a valid date, and the
//!    file has a modification date): not modified since → 304.
//! 5. Then the method proceeds; `If-Range` is step 5, in the range handling.
//!
//! Validators come from the answering code: a file's from its metadata
//! (`mod.rs`), a representation rendered in memory (a directory listing)
//! from its bytes ([`content_entity_tag`]), with no `Last-Modified`, so the
//! date fields are ignored for it (§13.1.3, §13.1.4).
//!
//! A malformed entity-tag list matches nothing: `If-Match` then fails
//! (412, the safe side for a client protecting a write) and `If-None-Match`
//! lets the request proceed (200); in both cases the field was present, so
//! the date field it overrides stays ignored. An invalid or repeated date is
//! ignored, as §13.1.3 and §13.1.4 require.

use crate::proto::date::parse_http_date;
use crate::proto::fields::trim_ows;
use crate::proto::request::FieldLines;
use crate::proto::RequestHead;

/// The validators of the selected representation.
#[derive(Debug, Clone, Copy)]
pub struct Validators<'a> {
    /// The `ETag` value as sent, quotes included (`"abc"` or `W/"abc"`).
    pub etag: &'a str,
    /// The `Last-Modified` time in whole seconds, if the file has one.
    pub last_modified: Option<u64>,
}

/// The precondition fields of a request, read once from its head.
#[derive(Debug, Clone, Copy)]
pub struct Conditions<'a> {
    /// `If-Match`, every line (a list may span lines).
    pub if_match: FieldLines<'a>,
    /// `If-None-Match`, every line.
    pub if_none_match: FieldLines<'a>,
    /// `If-Modified-Since`, if present once with a valid HTTP-date.
    pub if_modified_since: Option<u64>,
    /// `If-Unmodified-Since`, if present once with a valid HTTP-date.
    pub if_unmodified_since: Option<u64>,
}

/// The names of the precondition fields, in the order
/// [`Conditions::from_lines`] takes them.
pub const CONDITION_FIELDS: [&str; 4] = [
    "If-Match",
    "If-None-Match",
    "If-Modified-Since",
    "If-Unmodified-Since",
];

impl<'a> Conditions<'a> {
    /// Read the precondition fields of `head`.
    pub fn from_head(head: &'a RequestHead) -> Conditions<'a> {
        let found = head.find_fields(&CONDITION_FIELDS);
        Conditions::from_lines([0, 1, 2, 3].map(|index| found.lines(index)))
    }

    /// The conditions from the lines of the [`CONDITION_FIELDS`], found by
    /// a caller that reads other fields in the same pass.
    pub fn from_lines(lines: [FieldLines<'a>; 4]) -> Conditions<'a> {
        let [if_match, if_none_match, if_modified_since, if_unmodified_since] = lines;
        Conditions {
            if_match,
            if_none_match,
            if_modified_since: single_date(&if_modified_since),
            if_unmodified_since: single_date(&if_unmodified_since),
        }
    }
}

/// What the preconditions decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// Serve the request as if no precondition were sent.
    Proceed,
    /// 304: the client's copy is current.
    NotModified,
    /// 412 Precondition Failed.
    Failed,
}

/// Evaluate the preconditions in the order of RFC 9110 §13.2.2 (see the
/// module docs). `is_get_or_head` picks 304 over 412 for `If-None-Match`
/// and enables `If-Modified-Since`. `current` is `None` when the target
/// has no current representation (`POST /echo`, which only processes):
/// then `If-Match` fails and every other field lets the request proceed.
pub fn evaluate_preconditions(
    conditions: &Conditions<'_>,
    is_get_or_head: bool,
    current: Option<&Validators<'_>>,
) -> Precondition {
    let etag = current.map(|current| current.etag);
    let last_modified = current.and_then(|current| current.last_modified);
    if has_a_value(&conditions.if_match) {
        let matches = etag
            .is_some_and(|etag| any_line_matches(&conditions.if_match, etag, Comparison::Strong));
        if !matches {
            return Precondition::Failed;
        }
    } else if let (Some(since), Some(modified)) = (conditions.if_unmodified_since, last_modified) {
        if modified > since {
            return Precondition::Failed;
        }
    }
    if has_a_value(&conditions.if_none_match) {
        let matches = etag.is_some_and(|etag| {
            any_line_matches(&conditions.if_none_match, etag, Comparison::Weak)
        });
        if matches {
            return if is_get_or_head {
                Precondition::NotModified
            } else {
                Precondition::Failed
            };
        }
    } else if is_get_or_head {
        if let (Some(since), Some(modified)) = (conditions.if_modified_since, last_modified) {
            if modified <= since {
                return Precondition::NotModified;
            }
        }
    }
    Precondition::Proceed
}

/// Whether `If-Range` (RFC 9110 §13.1.5) lets the `Range` field apply:
/// - an entity tag must match the current one by strong comparison (a weak
///   tag never does);
/// - an HTTP-date must equal `Last-Modified` exactly, and only counts when
///   that date is strong (§8.8.2.2): the file's modification second is over
///   (`last_modified < now_secs`), so no later change can share the date.
///   A change within the second the client fetched the file would still
///   share it; the entity tag has no such gap, and clients prefer it.
/// - anything else (invalid) does not match.
///
/// When it does not match, the caller ignores `Range` and sends 200.
pub fn if_range_allows(value: &[u8], current: &Validators<'_>, now_secs: u64) -> bool {
    let value = trim_ows(value);
    if value.starts_with(b"\"") || value.starts_with(b"W/") {
        let (Some((asked, [])), Some((have, []))) = (
            parse_entity_tag(value),
            parse_entity_tag(current.etag.as_bytes()),
        ) else {
            return false;
        };
        return asked.matches(&have, Comparison::Strong);
    }
    match (parse_http_date(value), current.last_modified) {
        (Some(date), Some(modified)) => date == modified && modified < now_secs,
        _ => false,
    }
}

/// A strong entity tag (RFC 9110 §8.8.3) for a representation rendered in
/// memory, from its bytes: their 64-bit FNV-1a hash as 16 hex digits. Equal
/// bytes get equal tags in every process, build and replica (std's
/// `DefaultHasher` promises none of that), so a tag survives a restart and
/// a load balancer; different bytes get different tags but for a 2^-64
/// chance. Not cryptographic: it validates a cached copy, it proves nothing.
pub fn content_entity_tag(content: &[u8]) -> String {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let hash = content.iter().fold(OFFSET_BASIS, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    });
    format!("\"{hash:016x}\"")
}

/// How two entity tags are compared (RFC 9110 §8.8.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    /// Both strong and the same opaque tag.
    Strong,
    /// The same opaque tag, either or both may be weak.
    Weak,
}

/// `entity-tag = [ weak ] opaque-tag` (RFC 9110 §8.8.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EntityTag<'a> {
    weak: bool,
    /// The opaque tag between (and without) its quotes.
    opaque: &'a [u8],
}

impl EntityTag<'_> {
    fn matches(&self, other: &EntityTag<'_>, comparison: Comparison) -> bool {
        let strength_ok = comparison == Comparison::Weak || !(self.weak || other.weak);
        strength_ok && self.opaque == other.opaque
    }
}

/// Whether any line of a tag-list field is not empty: a field sent with
/// only empty lines counts as absent.
fn has_a_value(lines: &FieldLines<'_>) -> bool {
    lines.lines().any(|line| !trim_ows(line).is_empty())
}

/// Whether any of the non-empty field lines, each `"*"` or a list of entity
/// tags, matches `current`. A malformed line matches nothing.
fn any_line_matches(lines: &FieldLines<'_>, current: &str, comparison: Comparison) -> bool {
    let mut lines = lines.lines().map(trim_ows).filter(|line| !line.is_empty());
    let Some((current, [])) = parse_entity_tag(current.as_bytes()) else {
        // Our own tag is always well formed; if not, only `*` can match.
        return lines.any(|line| line == b"*");
    };
    lines.any(|line| {
        line == b"*"
            || parse_tag_list(line)
                .is_some_and(|tags| tags.iter().any(|tag| tag.matches(&current, comparison)))
    })
}

/// `#entity-tag`: tags separated by commas with optional whitespace; empty
/// elements are allowed (§5.6.1). A comma inside the quotes belongs to the
/// tag (`etagc` excludes only DQUOTE, controls and space). `None` if
/// malformed.
fn parse_tag_list(mut value: &[u8]) -> Option<Vec<EntityTag<'_>>> {
    let mut tags = Vec::new();
    loop {
        value = skip_separators(value);
        if value.is_empty() {
            return Some(tags);
        }
        let (tag, rest) = parse_entity_tag(value)?;
        tags.push(tag);
        let rest = trim_ows(rest);
        match rest.first() {
            None => return Some(tags),
            Some(b',') => value = rest,
            Some(_) => return None,
        }
    }
}

/// Skip OWS and commas.
fn skip_separators(value: &[u8]) -> &[u8] {
    let start = value
        .iter()
        .position(|&b| !matches!(b, b' ' | b'\t' | b','))
        .unwrap_or(value.len());
    &value[start..]
}

/// One entity tag at the start of `value`, and what follows it.
fn parse_entity_tag(value: &[u8]) -> Option<(EntityTag<'_>, &[u8])> {
    let (weak, quoted) = match value.strip_prefix(b"W/") {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let inner = quoted.strip_prefix(b"\"")?;
    let end = inner.iter().position(|&b| !is_etagc(b))?;
    if inner[end] != b'"' {
        return None;
    }
    Some((
        EntityTag {
            weak,
            opaque: &inner[..end],
        },
        &inner[end + 1..],
    ))
}

/// `etagc = %x21 / %x23-7E / obs-text` (RFC 9110 §8.8.3).
fn is_etagc(b: u8) -> bool {
    b == 0x21 || (0x23..=0x7E).contains(&b) || b >= 0x80
}

/// The date in a field, if it appears exactly once and is a valid
/// HTTP-date; `None` if absent, repeated (a list of dates is invalid) or
/// invalid, all of which mean "ignore the field".
fn single_date(lines: &FieldLines<'_>) -> Option<u64> {
    parse_http_date(trim_ows(lines.single()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Precondition::*;

    /// Sun, 06 Nov 1994 08:49:37 GMT
    const MODIFIED: u64 = 784_111_777;
    const ETAG: &str = "\"abc\"";

    fn current() -> Validators<'static> {
        Validators {
            etag: ETAG,
            last_modified: Some(MODIFIED),
        }
    }

    fn evaluate(method: &str, fields: &[(&str, &str)]) -> Precondition {
        let head = RequestHead::for_test(method, "/f", fields);
        let is_get_or_head = method == "GET" || method == "HEAD";
        evaluate_preconditions(
            &Conditions::from_head(&head),
            is_get_or_head,
            Some(&current()),
        )
    }

    #[test]
    fn if_none_match_uses_weak_comparison_and_lists() {
        let cases: &[(&str, Precondition)] = &[
            ("\"abc\"", NotModified),
            ("W/\"abc\"", NotModified),
            ("\"x\", \"abc\"", NotModified),
            ("\"x\",W/\"abc\" ,\"y\"", NotModified),
            (" , \"abc\",", NotModified),
            ("*", NotModified),
            ("\"abd\"", Proceed),
            ("\"ABC\"", Proceed),
            ("abc", Proceed),           // unquoted: malformed
            ("\"abc", Proceed),         // unterminated
            ("\"abc\" \"x\"", Proceed), // no comma between tags
            ("w/\"abc\"", Proceed),     // `W/` is case-sensitive
            ("\"abc\", *", Proceed),    // `*` is only valid alone
            ("\"a,bc\"", Proceed),      // one tag with a comma in it
        ];
        for (value, expected) in cases {
            assert_eq!(
                evaluate("GET", &[("If-None-Match", value)]),
                *expected,
                "{value}"
            );
            let head_expected = *expected;
            assert_eq!(
                evaluate("HEAD", &[("If-None-Match", value)]),
                head_expected,
                "{value}"
            );
        }
        // For other methods a match fails the precondition instead.
        assert_eq!(evaluate("PUT", &[("If-None-Match", "*")]), Failed);
        assert_eq!(evaluate("PUT", &[("If-None-Match", "\"x\"")]), Proceed);
        // A list may span several field lines.
        assert_eq!(
            evaluate(
                "GET",
                &[("If-None-Match", "\"x\""), ("If-None-Match", "\"abc\"")]
            ),
            NotModified
        );
    }

    #[test]
    fn commas_inside_quotes_belong_to_the_tag() {
        let tags = parse_tag_list(b"\"a,b\", W/\"c\"").expect("valid");
        assert_eq!(
            tags,
            vec![
                EntityTag {
                    weak: false,
                    opaque: b"a,b"
                },
                EntityTag {
                    weak: true,
                    opaque: b"c"
                },
            ]
        );
        let odd = Validators {
            etag: "\"a,b\"",
            last_modified: None,
        };
        let head = RequestHead::for_test("GET", "/f", &[("If-None-Match", "\"x\", \"a,b\"")]);
        assert_eq!(
            evaluate_preconditions(&Conditions::from_head(&head), true, Some(&odd)),
            NotModified
        );
        assert_eq!(parse_tag_list(b""), Some(vec![]));
        assert_eq!(parse_tag_list(b"\"a\" x"), None);
        assert_eq!(parse_tag_list(b"\"a b\""), None);
        assert_eq!(
            parse_tag_list(b"\"\""),
            Some(vec![EntityTag {
                weak: false,
                opaque: b""
            }])
        );
    }

    #[test]
    fn if_modified_since() {
        let cases: &[(&str, Precondition)] = &[
            ("Sun, 06 Nov 1994 08:49:37 GMT", NotModified), // equal
            ("Sun, 06 Nov 1994 08:49:38 GMT", NotModified), // later
            ("Sun, 06 Nov 1994 08:49:36 GMT", Proceed),     // earlier
            ("Sunday, 06-Nov-94 08:49:37 GMT", NotModified), // RFC 850
            ("Sun Nov  6 08:49:37 1994", NotModified),      // asctime
            ("yesterday", Proceed),                         // invalid: ignored
            ("", Proceed),
        ];
        for (value, expected) in cases {
            assert_eq!(
                evaluate("GET", &[("If-Modified-Since", value)]),
                *expected,
                "{value}"
            );
        }
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        // Only GET and HEAD.
        assert_eq!(
            evaluate("HEAD", &[("If-Modified-Since", date)]),
            NotModified
        );
        assert_eq!(evaluate("POST", &[("If-Modified-Since", date)]), Proceed);
        // Repeated: not a valid HTTP-date, ignored.
        assert_eq!(
            evaluate(
                "GET",
                &[("If-Modified-Since", date), ("If-Modified-Since", date)]
            ),
            Proceed
        );
        // Ignored when If-None-Match is present, matching or not.
        assert_eq!(
            evaluate(
                "GET",
                &[("If-None-Match", "\"other\""), ("If-Modified-Since", date)]
            ),
            Proceed
        );
        assert_eq!(
            evaluate(
                "GET",
                &[("If-None-Match", "junk"), ("If-Modified-Since", date)]
            ),
            Proceed
        );
        // A file without a modification date never matches a date.
        let undated = Validators {
            etag: ETAG,
            last_modified: None,
        };
        let head = RequestHead::for_test("GET", "/f", &[("If-Modified-Since", date)]);
        assert_eq!(
            evaluate_preconditions(&Conditions::from_head(&head), true, Some(&undated)),
            Proceed
        );
    }

    #[test]
    fn if_match_uses_strong_comparison() {
        let cases: &[(&str, Precondition)] = &[
            ("\"abc\"", Proceed),
            ("\"x\", \"abc\"", Proceed),
            ("*", Proceed),
            ("W/\"abc\"", Failed), // weak never matches strongly
            ("\"abd\"", Failed),
            ("abc", Failed), // malformed: nothing matches
        ];
        for (value, expected) in cases {
            assert_eq!(
                evaluate("GET", &[("If-Match", value)]),
                *expected,
                "{value}"
            );
        }
        // A weak current tag fails every strong comparison but `*`.
        let weak = Validators {
            etag: "W/\"abc\"",
            last_modified: None,
        };
        for (value, expected) in [("W/\"abc\"", Failed), ("\"abc\"", Failed), ("*", Proceed)] {
            let head = RequestHead::for_test("GET", "/f", &[("If-Match", value)]);
            assert_eq!(
                evaluate_preconditions(&Conditions::from_head(&head), true, Some(&weak)),
                expected,
                "{value}"
            );
        }
    }

    #[test]
    fn if_unmodified_since() {
        let cases: &[(&str, Precondition)] = &[
            ("Sun, 06 Nov 1994 08:49:37 GMT", Proceed), // equal
            ("Sun, 06 Nov 1994 08:49:38 GMT", Proceed), // later
            ("Sun, 06 Nov 1994 08:49:36 GMT", Failed),  // modified since
            ("not a date", Proceed),                    // invalid: ignored
        ];
        for (value, expected) in cases {
            assert_eq!(
                evaluate("GET", &[("If-Unmodified-Since", value)]),
                *expected,
                "{value}"
            );
        }
        // Ignored when If-Match is present.
        assert_eq!(
            evaluate(
                "GET",
                &[
                    ("If-Match", "\"abc\""),
                    ("If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:36 GMT")
                ]
            ),
            Proceed
        );
    }

    #[test]
    fn evaluation_order() {
        let early = "Sun, 06 Nov 1994 08:49:36 GMT";
        let cases: &[(&[(&str, &str)], Precondition)] = &[
            // If-Match failing wins over a matching If-None-Match.
            (
                &[("If-Match", "\"x\""), ("If-None-Match", "\"abc\"")],
                Failed,
            ),
            // If-Match passing, then If-None-Match decides.
            (
                &[("If-Match", "\"abc\""), ("If-None-Match", "\"abc\"")],
                NotModified,
            ),
            // If-Unmodified-Since failing wins over If-None-Match.
            (
                &[("If-Unmodified-Since", early), ("If-None-Match", "*")],
                Failed,
            ),
            // No fields: proceed.
            (&[], Proceed),
            (&[("If-None-Match", "")], Proceed),
        ];
        for (fields, expected) in cases {
            assert_eq!(evaluate("GET", fields), *expected, "{fields:?}");
        }
    }

    #[test]
    fn without_a_current_representation_only_if_match_fails() {
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        let cases: &[(&str, &str, Precondition)] = &[
            ("If-Match", "*", Failed),
            ("If-Match", "\"abc\"", Failed),
            ("If-Match", "junk", Failed),
            ("If-None-Match", "*", Proceed),
            ("If-None-Match", "\"abc\"", Proceed),
            ("If-Unmodified-Since", date, Proceed),
            ("If-Modified-Since", date, Proceed),
        ];
        for (name, value, expected) in cases {
            for method in ["POST", "GET"] {
                let head = RequestHead::for_test(method, "/echo", &[(name, value)]);
                let is_get_or_head = method == "GET";
                assert_eq!(
                    evaluate_preconditions(&Conditions::from_head(&head), is_get_or_head, None),
                    *expected,
                    "{method} {name}: {value}"
                );
            }
        }
    }

    #[test]
    fn content_tags_are_fnv_1a_and_strong() {
        // The published FNV-1a 64-bit test vectors: the tag must not change
        // between builds, or every cache would refetch after an upgrade.
        assert_eq!(content_entity_tag(b""), "\"cbf29ce484222325\"");
        assert_eq!(content_entity_tag(b"a"), "\"af63dc4c8601ec8c\"");
        assert_eq!(content_entity_tag(b"foobar"), "\"85944171f73967e8\"");
        let tag = content_entity_tag(b"<html>listing</html>");
        assert_ne!(tag, content_entity_tag(b"<html>listing</html>\n"));
        let listing = Validators {
            etag: &tag,
            last_modified: None,
        };
        let if_match = RequestHead::for_test("GET", "/d/", &[("If-Match", &tag)]);
        assert_eq!(
            evaluate_preconditions(&Conditions::from_head(&if_match), true, Some(&listing)),
            Proceed
        );
    }

    #[test]
    fn if_range_with_tags_and_dates() {
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        let later = MODIFIED + 10;
        let cases: &[(&str, u64, bool)] = &[
            ("\"abc\"", later, true),
            (" \"abc\" ", later, true),
            ("W/\"abc\"", later, false), // weak: never for If-Range
            ("\"abd\"", later, false),
            ("\"abc\", \"x\"", later, false), // one tag only
            (date, later, true),
            ("Sunday, 06-Nov-94 08:49:37 GMT", later, true),
            ("Sun, 06 Nov 1994 08:49:38 GMT", later, false), // must be equal
            ("Sun, 06 Nov 1994 08:49:36 GMT", later, false),
            // Modified within the current second: the date is weak.
            (date, MODIFIED, false),
            (date, MODIFIED + 1, true),
            ("garbage", later, false),
            ("", later, false),
        ];
        for (value, now, expected) in cases {
            assert_eq!(
                if_range_allows(value.as_bytes(), &current(), *now),
                *expected,
                "{value:?} at {now}"
            );
        }
        let undated = Validators {
            etag: ETAG,
            last_modified: None,
        };
        assert!(!if_range_allows(date.as_bytes(), &undated, later));
    }
}
