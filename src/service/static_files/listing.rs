//! Directory listings (`--listing`): the answer for a directory requested
//! with a trailing slash that has no index file.
//!
//! Rendering is pure ([`render_html`], [`render_json`], [`wants_json`] and
//! the escaping helpers take values and return text); [`read_entries`] is the
//! one function that reads the file system, from a directory fd `mod.rs`
//! already opened beneath the root; `representation` puts the rendered
//! form and its fields together for the answerer.
//!
//! **What is listed** is what the server would serve, so no link is a 404:
//! - Regular files and directories. FIFOs, sockets and devices (404 when
//!   requested) are omitted.
//! - Only names path resolution accepts (see [`super::path`]): hidden names
//!   are omitted unless `--hidden`, by the same rule that makes a request
//!   for them 404 ([`StaticOptions::hides_entry`]: dotfiles, except
//!   `.well-known` directly in the root); names containing `\` are
//!   omitted; names that are not UTF-8 are omitted, because the server
//!   decodes request paths to UTF-8 and answers 400 otherwise, so no link
//!   could reach them.
//! - A symlink only if the server would follow it: it is opened through the
//!   same resolver as a request (`openat2` with `RESOLVE_BENEATH` from the
//!   root), so one that leaves the root, loops or dangles is omitted, and in
//!   the walking fallback (no `openat2`) every symlink is omitted. A listed
//!   symlink shows its target's type, size and time.
//!
//! **Bounds.** At most [`MAX_LISTED_ENTRIES`] entries are listed, the first
//! ones in sort order, and the page says how many more were not shown. While
//! reading, candidates are sorted and cut back to the cap whenever they reach
//! twice the cap, so memory stays proportional to the cap and time to
//! `n log cap`, however large the directory. Size and time are read (one
//! `fstatat`) only for the entries kept; symlinks cost one open each.
//!
//! **Forms.** HTML by default: directories first, then files, each sorted by
//! name (byte order of the UTF-8 name); sizes in binary units (`1.2 KiB`, `-`
//! for directories); modification times as `YYYY-MM-DD HH:MM` in UTC; a
//! parent link except at the root; names HTML-escaped and links
//! percent-encoded, so every name works. JSON when `Accept` names
//! `application/json` with a nonzero q-value not below that of `text/html`:
//! `[{"name", "type": "dir"|"file", "size", "modified"}]`, `size` in bytes (0
//! for directories), `modified` an IMF-fixdate (RFC 9110 §5.6.7, `null`
//! before 1970). The JSON array is capped the same way, silently. Both forms
//! carry `Cache-Control: no-cache` and `Vary: Accept`, since the form depends
//! on `Accept` (RFC 9110 §12.5.5).
//!
//! **Validation.** Each form carries a strong `ETag` computed from the bytes
//! rendered ([`content_entity_tag`]), so the HTML and the JSON of one
//! directory have different tags and any change a client could see changes
//! the tag. It is answered as any representation
//! ([`super::representation`]: preconditions, 304 or 412; no ranges); a
//! listing has no `Last-Modified`
//! (the directory's mtime misses changes to its entries' sizes and times),
//! so `If-Modified-Since` and `If-Unmodified-Since` are ignored.

use super::conditional::content_entity_tag;
use super::open::FileFacts;
use super::path::{join_name, percent_encode, RelativePath, UriPart};
use super::representation::{Content, Metadata, Representation};
use super::StaticOptions;
use crate::proto::date::{format_http_date, format_log_time};
use crate::proto::fields::Weighted;
use crate::proto::RequestHead;
use bytes::Bytes;
use rustix::fd::OwnedFd;
use rustix::fs::{AtFlags, Dir, FileType};
use rustix::io::Errno;
use std::borrow::Cow;

/// The most entries one listing shows; the rest are counted, not shown.
pub const MAX_LISTED_ENTRIES: usize = 10_000;

/// One listed name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub kind: EntryKind,
    /// Bytes; 0 for directories.
    pub size: u64,
    /// Seconds since the Unix epoch; `None` before 1970.
    pub modified: Option<u64>,
}

/// Directories sort before files (the derived order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntryKind {
    Directory,
    File,
}

/// The entries of one directory, sorted, and how many were cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub entries: Vec<Entry>,
    /// Listable entries left out because of the cap.
    pub omitted: usize,
}

/// The listing of the directory open as `directory`, at `relative`
/// beneath the root, in the form `head` asks for, as a representation for
/// [`answer`](super::representation::answer). `resolve` opens a path
/// relative to the root exactly as a request for it would be (same symlink
/// policy), and is used for symlinks. An error reading the directory is
/// returned for the caller to answer.
pub(super) fn representation<R>(
    directory: OwnedFd,
    relative: &RelativePath,
    head: &RequestHead,
    options: &StaticOptions,
    resolve: R,
) -> Result<Representation, Errno>
where
    R: Fn(&str) -> Result<(OwnedFd, FileFacts), Errno>,
{
    let listing = read_entries(directory, relative, options, resolve, MAX_LISTED_ENTRIES)?;
    let (content_type, body) = if wants_json(head.field_lines("Accept").weighted()) {
        ("application/json", render_json(&listing.entries))
    } else {
        let shown_path = if relative.is_root() {
            "/".to_owned()
        } else {
            format!("/{}/", relative.as_str())
        };
        (
            "text/html; charset=utf-8",
            render_html(&shown_path, &listing),
        )
    };
    let etag = content_entity_tag(body.as_bytes());
    let fields = vec![
        ("Content-Type", Cow::Borrowed(content_type)),
        ("ETag", Cow::Owned(etag)),
        ("Cache-Control", Cow::Borrowed("no-cache")),
        ("Vary", Cow::Borrowed("Accept")),
        ("X-Content-Type-Options", Cow::Borrowed("nosniff")),
    ];
    Ok(Representation {
        metadata: Metadata {
            fields,
            // The directory's mtime misses changes to its entries' sizes
            // and times: no date validator (see the module docs).
            last_modified: None,
            media_type: content_type,
            // Small and rendered for each request: ranges are not offered
            // (no `Accept-Ranges`), so `Range` is ignored (RFC 9110 §14.2).
            accepts_ranges: false,
            varies_on_coding: false,
            repr_digest: None,
        },
        content: Content::Memory(Bytes::from(body)),
    })
}

/// A name kept while reading, before its size and time are known.
struct Candidate {
    entry: Entry,
    /// Whether size and time still have to be read (`fstatat`); symlinks
    /// already have their target's.
    needs_stat: bool,
}

/// Read the listable entries of `directory` (see the module docs), keeping
/// the first `max_entries` in sort order.
pub(super) fn read_entries<R>(
    directory: OwnedFd,
    relative: &RelativePath,
    options: &StaticOptions,
    resolve: R,
    max_entries: usize,
) -> Result<Listing, Errno>
where
    R: Fn(&str) -> Result<(OwnedFd, FileFacts), Errno>,
{
    let mut dir = Dir::new(directory)?;
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut listable = 0usize;
    let cut_at = max_entries.saturating_mul(2).max(1);
    while let Some(dirent) = dir.read() {
        let dirent = dirent?;
        // Not UTF-8: the server could not serve it (400), so do not list it.
        let Ok(name) = dirent.file_name().to_str() else {
            continue;
        };
        if !is_listable_name(name) || options.hides_entry(relative, name) {
            continue;
        }
        let file_type = match dirent.file_type() {
            // Some file systems do not fill in d_type.
            FileType::Unknown => {
                match rustix::fs::statat(dir.fd()?, name, AtFlags::SYMLINK_NOFOLLOW) {
                    Ok(stat) => FileType::from_raw_mode(stat.st_mode),
                    Err(_) => continue,
                }
            }
            known => known,
        };
        let candidate = match file_type {
            FileType::Directory => candidate(name, EntryKind::Directory, None),
            FileType::RegularFile => candidate(name, EntryKind::File, None),
            FileType::Symlink => {
                let target = join_name(relative.as_str(), name);
                // Listed only if a request for it would be served.
                match resolve(&target) {
                    Ok((_, facts)) => match kind_of(facts.file_type) {
                        Some(kind) => candidate(name, kind, Some(&facts)),
                        None => continue,
                    },
                    Err(_) => continue,
                }
            }
            _ => continue,
        };
        listable += 1;
        candidates.push(candidate);
        if candidates.len() >= cut_at {
            sort_and_cut(&mut candidates, max_entries);
        }
    }
    sort_and_cut(&mut candidates, max_entries);
    let omitted = listable - candidates.len();
    let mut entries = Vec::with_capacity(candidates.len());
    for Candidate {
        mut entry,
        needs_stat,
    } in candidates
    {
        if needs_stat {
            let Ok(stat) = rustix::fs::statat(dir.fd()?, &*entry.name, AtFlags::SYMLINK_NOFOLLOW)
            else {
                // Removed since it was read: leave it out.
                continue;
            };
            let facts = FileFacts::from_stat(&stat);
            if kind_of(facts.file_type) != Some(entry.kind) {
                continue;
            }
            fill_facts(&mut entry, &facts);
        }
        entries.push(entry);
    }
    Ok(Listing { entries, omitted })
}

fn candidate(name: &str, kind: EntryKind, facts: Option<&FileFacts>) -> Candidate {
    let mut entry = Entry {
        name: name.to_owned(),
        kind,
        size: 0,
        modified: None,
    };
    if let Some(facts) = facts {
        fill_facts(&mut entry, facts);
    }
    Candidate {
        entry,
        needs_stat: facts.is_none(),
    }
}

fn fill_facts(entry: &mut Entry, facts: &FileFacts) {
    entry.size = match entry.kind {
        EntryKind::Directory => 0,
        EntryKind::File => u64::try_from(facts.size).unwrap_or(0),
    };
    entry.modified = u64::try_from(facts.mtime_secs).ok();
}

fn kind_of(file_type: FileType) -> Option<EntryKind> {
    match file_type {
        FileType::Directory => Some(EntryKind::Directory),
        FileType::RegularFile => Some(EntryKind::File),
        _ => None,
    }
}

fn sort_and_cut(candidates: &mut Vec<Candidate>, max_entries: usize) {
    candidates.sort_unstable_by(|a, b| sort_key(&a.entry).cmp(&sort_key(&b.entry)));
    candidates.truncate(max_entries);
}

/// Directories first, then files; each by name (byte order).
pub fn sort_key(entry: &Entry) -> (EntryKind, &str) {
    (entry.kind, &entry.name)
}

/// Whether a directory entry's name is one path resolution accepts as a
/// segment: not empty, `.` or `..`, no `\`. Whether it is hidden is the
/// hidden-file policy's question ([`StaticOptions::hides_entry`]).
pub fn is_listable_name(name: &str) -> bool {
    !matches!(name, "" | "." | "..") && !name.contains('\\')
}

/// Whether the `Accept` field (the weighted elements of all its lines)
/// asks for JSON: `application/json` is present with a q-value above 0 and
/// not below that of `text/html` (RFC 9110 §12.5.1). Wildcards do not
/// count: browsers send `*/*` and want HTML. A malformed q-value drops its
/// element.
pub fn wants_json<'a>(accept: impl IntoIterator<Item = Weighted<'a>>) -> bool {
    let mut json_q = 0;
    let mut html_q = 0;
    for Weighted { item, weight } in accept {
        if item.eq_ignore_ascii_case(b"application/json") {
            json_q = json_q.max(weight);
        } else if item.eq_ignore_ascii_case(b"text/html") {
            html_q = html_q.max(weight);
        }
    }
    json_q > 0 && json_q >= html_q
}

/// The HTML page for `listing` of the directory shown as `shown_path`
/// (decoded, with leading and trailing slash).
pub fn render_html(shown_path: &str, listing: &Listing) -> String {
    let title = escape_html(shown_path);
    let mut out = String::with_capacity(1024 + listing.entries.len() * 160);
    out.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n<title>Index of ",
    );
    out.push_str(&title);
    out.push_str(
        "</title>\n<style>\n\
         body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em}\n\
         h1{font-size:1.4em;overflow-wrap:anywhere}\n\
         table{border-collapse:collapse;width:100%}\n\
         th,td{padding:.3em .8em;text-align:left;border-bottom:1px solid #8884}\n\
         td:first-child{overflow-wrap:anywhere}\n\
         .size{text-align:right}\n\
         .size,.time{white-space:nowrap;font-variant-numeric:tabular-nums}\n\
         </style>\n</head>\n<body>\n<h1>Index of ",
    );
    out.push_str(&title);
    out.push_str(
        "</h1>\n<table>\n<thead><tr><th>Name</th><th class=\"size\">Size</th>\
         <th class=\"time\">Modified (UTC)</th></tr></thead>\n<tbody>\n",
    );
    if shown_path != "/" {
        out.push_str(
            "<tr><td><a href=\"../\">../</a></td><td class=\"size\">-</td>\
             <td class=\"time\"></td></tr>\n",
        );
    }
    for entry in &listing.entries {
        let slash = match entry.kind {
            EntryKind::Directory => "/",
            EntryKind::File => "",
        };
        let size = match entry.kind {
            EntryKind::Directory => "-".to_owned(),
            EntryKind::File => human_size(entry.size),
        };
        let time = entry.modified.map_or_else(|| "-".to_owned(), utc_minutes);
        out.push_str("<tr><td><a href=\"");
        percent_encode(&mut out, entry.name.as_bytes(), UriPart::Segment);
        out.push_str(slash);
        out.push_str("\">");
        out.push_str(&escape_html(&entry.name));
        out.push_str(slash);
        out.push_str("</a></td><td class=\"size\">");
        out.push_str(&size);
        out.push_str("</td><td class=\"time\">");
        out.push_str(&time);
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    if listing.omitted > 0 {
        out.push_str(&format!(
            "<p>{} more not shown (a listing shows at most {MAX_LISTED_ENTRIES}).</p>\n",
            listing.omitted
        ));
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// The JSON array for `entries`, in their order.
pub fn render_json(entries: &[Entry]) -> String {
    let mut out = String::with_capacity(2 + entries.len() * 100);
    out.push('[');
    for (index, entry) in entries.iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        let name = serde_json::to_string(&entry.name).expect("a string always serializes");
        let kind = match entry.kind {
            EntryKind::Directory => "dir",
            EntryKind::File => "file",
        };
        let modified = match entry.modified {
            Some(secs) => format!("\"{}\"", String::from_utf8_lossy(&format_http_date(secs))),
            None => "null".to_owned(),
        };
        out.push_str(&format!(
            "{{\"name\": {name}, \"type\": \"{kind}\", \"size\": {}, \"modified\": {modified}}}",
            entry.size
        ));
    }
    out.push(']');
    out
}

/// `text` safe in HTML text and in quoted attribute values.
pub fn escape_html(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A size for people: bytes below 1 KiB, otherwise one decimal in the
/// largest binary unit that keeps the number below 1024.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    // Compare after rounding, so 1,048,575 bytes is "1.0 MiB", not "1024.0 KiB".
    while (value * 10.0).round() >= 10240.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `YYYY-MM-DD HH:MM` in UTC.
fn utc_minutes(unix_secs: u64) -> String {
    let secs = i64::try_from(unix_secs).unwrap_or(i64::MAX);
    let full = format_log_time(secs, 0);
    String::from_utf8_lossy(&full[..16]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::super::{path::resolve_path, StaticFiles, StaticOptions};
    use super::*;
    use crate::proto::fields::weighted_list;
    use rustix::fs::{Mode, OFlags};
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::symlink;

    fn file(name: &str, size: u64, modified: u64) -> Entry {
        Entry {
            name: name.to_owned(),
            kind: EntryKind::File,
            size,
            modified: Some(modified),
        }
    }

    fn dir(name: &str) -> Entry {
        Entry {
            name: name.to_owned(),
            kind: EntryKind::Directory,
            size: 0,
            modified: Some(0),
        }
    }

    #[test]
    fn text_is_html_escaped() {
        let cases = [
            ("plain", "plain"),
            ("<script>", "&lt;script&gt;"),
            ("a & b", "a &amp; b"),
            ("\"q\" 'a'", "&quot;q&quot; &#39;a&#39;"),
            ("&amp;", "&amp;amp;"),
            ("\u{fc}n\u{ef}", "\u{fc}n\u{ef}"),
        ];
        for (text, want) in cases {
            assert_eq!(escape_html(text), want, "{text:?}");
        }
    }

    #[test]
    fn sizes_are_human_readable() {
        let cases = [
            (0, "0 B"),
            (1023, "1023 B"),
            (1024, "1.0 KiB"),
            (1229, "1.2 KiB"),
            (1_048_575, "1.0 MiB"),
            (1_048_576, "1.0 MiB"),
            (5 * 1024 * 1024 * 1024 + 1, "5.0 GiB"),
            (u64::MAX, "16.0 EiB"),
        ];
        for (bytes, want) in cases {
            assert_eq!(human_size(bytes), want, "{bytes}");
        }
    }

    #[test]
    fn accept_chooses_json_or_html() {
        let cases: &[(&[&str], bool)] = &[
            (&[], false),
            (&["*/*"], false),
            (&["text/html,application/xhtml+xml,*/*;q=0.8"], false),
            (&["application/json"], true),
            (&["Application/JSON"], true),
            (&["application/json;q=0.5"], true),
            (&["application/json; q=0.001"], true),
            (&["application/json;q=0"], false),
            (&["application/json;q=0.000"], false),
            (&["application/json;Q=0"], false),
            (&["text/html, application/json"], true),
            (&["text/html, application/json;q=0.9"], false),
            (&["text/html;q=0.5, application/json;q=0.9"], true),
            (&["text/html", "application/json"], true),
            (&["application/*"], false),
            // A malformed q-value drops its element.
            (&["application/json;q=2"], false),
            (&["application/json;q=0.5x"], false),
            (&["application/json;q=1.0001"], false),
            (&["application/json;q=1.000"], true),
            (&["application/jsonx"], false),
        ];
        for (values, want) in cases {
            let got = wants_json(values.iter().flat_map(|v| weighted_list(v.as_bytes())));
            assert_eq!(got, *want, "{values:?}");
        }
    }

    #[test]
    fn listable_names_follow_path_resolution() {
        let default = StaticOptions::default();
        let hidden = StaticOptions {
            hidden: true,
            ..StaticOptions::default()
        };
        // (directory, name, listed by default, listed with --hidden)
        let cases = [
            ("/", "file.txt", true, true),
            ("/d/", "a b", true, true),
            ("/", ".well-known", true, true),
            ("/d/", ".well-known", false, true),
            ("/.well-known/", ".secret", false, true),
            ("/", ".env", false, true),
            ("/d/", ".git", false, true),
            ("/", ".", false, false),
            ("/", "..", false, false),
            ("/d/", "back\\slash", false, false),
            ("/", "", false, false),
        ];
        for (directory, name, by_default, with_hidden) in cases {
            let directory = resolve_path(directory.as_bytes()).expect("directory");
            for (options, want) in [(&default, by_default), (&hidden, with_hidden)] {
                let listed = is_listable_name(name) && !options.hides_entry(&directory, name);
                assert_eq!(listed, want, "{name:?} in {directory:?}, {options:?}");
                // A listed name is one a request can reach, under the same options.
                if listed {
                    let mut raw = format!("/{}/", directory.as_str());
                    percent_encode(&mut raw, name.as_bytes(), UriPart::Segment);
                    let path = resolve_path(raw.as_bytes()).expect("resolves");
                    assert!(!options.hides(&path), "{raw}, {options:?}");
                }
            }
        }
    }

    #[test]
    fn html_has_title_parent_link_rows_and_escapes() {
        let listing = Listing {
            entries: vec![
                dir("sub dir"),
                file("<b>&\".txt", 1229, 1_736_519_521),
                file("\u{fc}n\u{ef}.txt", 12, 0),
            ],
            omitted: 0,
        };
        let html = render_html("/a <b>/", &listing);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<title>Index of /a &lt;b&gt;/</title>"));
        assert!(html.contains("<h1>Index of /a &lt;b&gt;/</h1>"));
        assert!(html.contains("<a href=\"../\">../</a>"));
        assert!(html.contains(
            "<a href=\"sub%20dir/\">sub dir/</a></td><td class=\"size\">-</td>\
             <td class=\"time\">1970-01-01 00:00</td>"
        ));
        assert!(html.contains(
            "<a href=\"%3Cb%3E%26%22.txt\">&lt;b&gt;&amp;&quot;.txt</a></td>\
             <td class=\"size\">1.2 KiB</td><td class=\"time\">2025-01-10 14:32</td>"
        ));
        assert!(html.contains("<a href=\"%C3%BCn%C3%AF.txt\">\u{fc}n\u{ef}.txt</a>"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("more not shown"));
        // Rows keep the given (sorted) order.
        let sub = html.find("sub%20dir/").unwrap();
        let tag = html.find("%3Cb%3E").unwrap();
        let uni = html.find("%C3%BCn").unwrap();
        assert!(sub < tag && tag < uni);
    }

    #[test]
    fn html_at_the_root_has_no_parent_link_and_counts_what_was_cut() {
        let listing = Listing {
            entries: vec![file("a", 1, 1)],
            omitted: 42,
        };
        let html = render_html("/", &listing);
        assert!(html.contains("<h1>Index of /</h1>"));
        assert!(!html.contains("../"));
        assert!(html.contains("<p>42 more not shown"));
    }

    #[test]
    fn json_escapes_names_and_dates_times() {
        let entries = vec![
            dir("sub"),
            file("line\nbreak \"q\" \\ \u{fc}", 5, 784_111_777),
            Entry {
                modified: None,
                ..file("old", 0, 0)
            },
        ];
        let json = render_json(&entries);
        let parsed: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(
            parsed,
            serde_json::json!([
                {"name": "sub", "type": "dir", "size": 0, "modified": "Thu, 01 Jan 1970 00:00:00 GMT"},
                {"name": "line\nbreak \"q\" \\ \u{fc}", "type": "file", "size": 5,
                 "modified": "Sun, 06 Nov 1994 08:49:37 GMT"},
                {"name": "old", "type": "file", "size": 0, "modified": null},
            ])
        );
        assert!(!json.contains('\n'), "newlines are escaped: {json}");
        assert_eq!(render_json(&[]), "[]");
    }

    /// A root holding `d/` with every kind of entry a listing must judge.
    fn fixture() -> (tempfile::TempDir, StaticFiles) {
        let temp = tempfile::tempdir().expect("temp dir");
        let root = temp.path().join("root");
        let d = root.join("d");
        std::fs::create_dir_all(d.join("sub")).expect("dirs");
        std::fs::create_dir(d.join("Zdir")).expect("dir");
        std::fs::create_dir(d.join(".well-known")).expect("dir");
        std::fs::write(d.join("b.txt"), b"bb").expect("file");
        std::fs::write(d.join("A.txt"), vec![0u8; 2048]).expect("file");
        std::fs::write(d.join("line\nbreak"), b"x").expect("file");
        std::fs::write(d.join(".env"), b"secret").expect("file");
        std::fs::write(d.join("back\\slash"), b"x").expect("file");
        let not_utf8 = std::ffi::OsStr::from_bytes(b"bad\xff.txt");
        std::fs::write(d.join(not_utf8), b"x").expect("file");
        std::fs::write(temp.path().join("outside.txt"), b"outside").expect("file");
        symlink("b.txt", d.join("link-file")).expect("symlink");
        symlink("../d/sub", d.join("link-dir")).expect("symlink");
        symlink("../../outside.txt", d.join("escape")).expect("symlink");
        symlink("/etc", d.join("absolute")).expect("symlink");
        symlink("missing", d.join("dangling")).expect("symlink");
        let files = StaticFiles::new(root, StaticOptions::default()).expect("root");
        rustix::fs::mknodat(
            &files.root,
            "d/pipe",
            FileType::Fifo,
            Mode::from_raw_mode(0o644),
            0,
        )
        .expect("mkfifo");
        (temp, files)
    }

    fn list(files: &StaticFiles, path: &str, max: usize) -> Listing {
        let relative = resolve_path(path.as_bytes()).expect("path");
        let fd = rustix::fs::openat(
            &files.root,
            relative.as_str(),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .expect("open dir");
        let options = StaticOptions::default();
        read_entries(fd, &relative, &options, |p| files.open_and_stat(p), max).expect("read")
    }

    fn names(listing: &Listing) -> Vec<(&str, EntryKind, u64)> {
        listing
            .entries
            .iter()
            .map(|e| (e.name.as_str(), e.kind, e.size))
            .collect()
    }

    #[test]
    fn reads_what_the_server_would_serve_sorted() {
        use EntryKind::{Directory as D, File as F};
        let (_temp, files) = fixture();
        let listing = list(&files, "/d/", MAX_LISTED_ENTRIES);
        assert_eq!(
            names(&listing),
            [
                ("Zdir", D, 0),
                ("link-dir", D, 0),
                ("sub", D, 0),
                ("A.txt", F, 2048),
                ("b.txt", F, 2),
                ("line\nbreak", F, 1),
                ("link-file", F, 2),
            ]
        );
        assert_eq!(listing.omitted, 0);
        assert!(listing.entries.iter().all(|e| e.modified.is_some()));
    }

    #[test]
    fn walking_fallback_lists_no_symlinks() {
        let (_temp, files) = fixture();
        let walking = StaticFiles {
            resolver: super::super::Resolver::Walk,
            ..files
        };
        let listing = list(&walking, "/d/", MAX_LISTED_ENTRIES);
        assert!(listing.entries.iter().all(|e| !e.name.starts_with("link-")));
        // Zdir, sub, A.txt, b.txt, line\nbreak: `.well-known` is hidden below the root.
        assert_eq!(listing.entries.len(), 5);
    }

    #[test]
    fn the_cap_keeps_the_first_entries_in_sort_order() {
        let temp = tempfile::tempdir().expect("temp dir");
        for i in 0..50 {
            std::fs::write(temp.path().join(format!("f{i:02}")), b"").expect("file");
        }
        for i in 0..7 {
            std::fs::create_dir(temp.path().join(format!("z{i}"))).expect("dir");
        }
        let files =
            StaticFiles::new(temp.path().to_path_buf(), StaticOptions::default()).expect("root");
        for max in [1, 3, 7, 10, 56, 57, 100] {
            let listing = list(&files, "/", max);
            let shown = max.min(57);
            assert_eq!(listing.entries.len(), shown, "max {max}");
            assert_eq!(listing.omitted, 57 - shown, "max {max}");
            let mut want: Vec<String> = (0..7).map(|i| format!("z{i}")).collect();
            want.extend((0..50).map(|i| format!("f{i:02}")));
            want.truncate(shown);
            let got: Vec<&str> = listing.entries.iter().map(|e| e.name.as_str()).collect();
            assert_eq!(got, want, "max {max}");
        }
    }
}
