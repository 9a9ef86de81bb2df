//! Static files under the document root: GET and HEAD.
//!
//! This module is the file-system glue; the decisions that need no file
//! system live in [`path`] (URL path → safe relative path), [`mime`]
//! (extension → media type), [`encoding`] (`Accept-Encoding` → which
//! sidecar to try) and [`navigation`] (which misses get the `--spa` file).
//! [`options`] holds what flags configure.
//!
//! Containment is enforced twice. [`path::resolve_path`] refuses `..` and
//! backslashes before the file system is touched (and the hidden-file
//! policy refuses dotfiles); then every file is opened relative to a
//! directory fd held on the root, never through a path string joined onto
//! the root:
//!
//! - Normally with `openat2(root_fd, path, RESOLVE_BENEATH |
//!   RESOLVE_NO_MAGICLINKS)`, so the kernel refuses any resolution that
//!   leaves the root (`EXDEV`), including through symlinks and through
//!   directories renamed while we resolve.
//! - Where `openat2` is missing (Linux < 5.6, or a seccomp filter that answers
//!   `ENOSYS`/`EPERM`; probed once in [`StaticFiles::new`]) by walking the
//!   path one component at a time with `openat(dir_fd, component,
//!   O_NOFOLLOW)`.
//!
//! **Symlink policy** ([`SymlinkPolicy`], `--symlinks`), for every component:
//! - `within-root` (default), with `openat2`: a symlink is followed only if
//!   everything it resolves to stays inside the root; one that points
//!   outside (absolute, or `..` past the root) is answered 404, and `/proc`
//!   style magic links are refused. In the walking fallback every symlink is
//!   refused (404), because following one safely needs what `openat2` gives.
//! - `deny`: `RESOLVE_NO_SYMLINKS` (or the walking fallback): every symlink
//!   is 404.
//! - `follow`: a plain `openat` beneath the root fd. The URL still cannot
//!   say `..`, but a symlink may lead anywhere the server can read.
//!
//! **Dotfiles.** Any path segment starting with `.` is 404 unless
//! `--hidden`; `.well-known` directly under the root (RFC 8615) always
//! serves. The rule is [`path::is_hidden_segment`]; listings follow it too.
//!
//! **Sidecars.** For a compressible type, `file.br`, `file.zst` and
//! `file.gz` are tried in the order [`encoding::negotiate`] gives; one is
//! used only if it opens as a regular file under the same symlink policy
//! and is not older than its source. It is served with `Content-Encoding`,
//! the source's `Content-Type`, its own length, and an ETag with the coding
//! as suffix (`"...-br"`), so caches never confuse two encodings. Every
//! compressible response carries `Vary: Accept-Encoding`, sidecar or not.
//!
//! **Not found.** When `--spa FILE` is set and the request is a navigation
//! ([`navigation`]), a miss serves that file with 200. Otherwise a
//! `404.html` at the root, if it is a regular file, is the body of the 404.
//!
//! **Statuses.** 200 for a regular file; 301 to add the trailing slash to a
//! directory, with a relative `Location` (the last segment and `/`, plus
//! the query) that cannot name another host; a directory with a trailing
//! slash serves the first of its `--index` names that is a regular file,
//! or with `--listing` a generated listing ([`listing`]), or 404; FIFOs,
//! sockets and devices are 404 (opened with `O_NONBLOCK` so a FIFO cannot
//! stall the open); missing, symlink
//! escapes and loops are 404; permission denied is 403; a malformed path is
//! 400; anything else is 500. Bodies are fixed short texts: no OS message or
//! path reaches the client (as Go's `toHTTPError`).
//!
//! Each request costs one `open` and one `fstat` on the same fd (more for a
//! directory index, a sidecar or a miss), so there is no check-then-open race.
//!
//! **Validators, preconditions, ranges, caching.** Every file response
//! carries a strong `ETag`, `Last-Modified`, `Accept-Ranges: bytes` and the
//! `Cache-Control` of the [`cache`] policy. Preconditions are evaluated first
//! ([`conditional`]: 304 or 412), then, for GET only, `If-Range` and `Range`
//! ([`range`]: 206, multipart 206, or 416). HEAD ignores `Range` (RFC 9110
//! §14.2 allows it) and gets the fields a plain GET would. A listing has an
//! `ETag` from its bytes and the same preconditions ([`listing`]).

pub mod cache;
pub mod conditional;
pub mod encoding;
pub mod hot_cache;
pub mod listing;
pub mod mime;
pub mod navigation;
mod open;
pub mod options;
pub mod path;
pub mod range;
mod redirect;

pub use options::{StaticOptions, SymlinkPolicy};

use super::{Body, Response};
use crate::proto::{Method, RequestHead};
use conditional::{evaluate_preconditions, if_range_allows, Conditions, Precondition, Validators};
use encoding::{negotiate, Candidate, ContentCoding};
use open::{open_error_response, open_root, status_for_open_error, FileFacts, Resolver};
use path::{join_name, resolve_path, RelativePath};
use range::{evaluate_range, RangeOutcome};
use redirect::redirect_to_directory;
use rustix::fd::OwnedFd;
use rustix::fs::FileType;
use std::borrow::Cow;
use std::fs::File;
use std::path::PathBuf;

/// The file at the root whose contents are the body of a 404, if present.
pub(crate) const NOT_FOUND_PAGE: &str = "404.html";

/// Serves files from one root directory.
pub struct StaticFiles {
    /// The root directory, held open so every lookup is relative to it and a
    /// later rename of the root's path cannot redirect us elsewhere.
    root: OwnedFd,
    resolver: Resolver,
    options: StaticOptions,
    /// Small hot files kept in memory; see [`hot_cache`].
    hot_cache: hot_cache::HotCache,
}

impl StaticFiles {
    /// Open `root`, which must be an existing directory, and keep it open.
    /// With `options.spa`, that file must be a regular file under the root
    /// now (it is opened again for each request that needs it).
    pub fn new(root: PathBuf, options: StaticOptions) -> std::io::Result<StaticFiles> {
        let (root, resolver) = open_root(&root)?;
        let files = StaticFiles {
            root,
            resolver,
            options,
            hot_cache: hot_cache::HotCache::new(),
        };
        if let Some(spa) = &files.options.spa {
            match files.open_and_stat(spa) {
                Ok((_, stat)) if stat.file_type == FileType::RegularFile => {}
                _ => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("--spa {spa} is not a regular file under the root"),
                    ))
                }
            }
        }
        Ok(files)
    }

    /// The symlink policy actually enforced: `within-root` is `deny` where
    /// `openat2` is missing.
    pub fn symlink_policy(&self) -> SymlinkPolicy {
        match (self.options.symlinks, self.resolver) {
            (SymlinkPolicy::WithinRoot, Resolver::Walk) => SymlinkPolicy::Deny,
            (policy, _) => policy,
        }
    }

    /// Answer a GET or HEAD for `head.path()` (the driver drops the body of
    /// a HEAD response, so both get the same answer).
    pub fn serve(&self, head: &RequestHead) -> Response {
        let response = self.serve_path(head);
        if response.status != 404 {
            return response;
        }
        // A dotfile refused for want of --hidden is not a miss for the SPA
        // to answer: it stays a 404, as documented.
        let refused_hidden =
            resolve_path(head.path()).is_ok_and(|relative| self.options.hides(&relative));
        self.not_found(head, !refused_hidden)
    }

    fn serve_path(&self, head: &RequestHead) -> Response {
        let raw_path = head.path();
        let relative = match resolve_path(raw_path) {
            Ok(relative) => relative,
            Err(error) => return error_response(error.status()),
        };
        if self.options.hides(&relative) {
            return error_response(path::PathError::Hidden.status());
        }
        let (fd, stat) = match self.open_and_stat(relative.as_str()) {
            Ok(opened) => opened,
            Err(errno) => return open_error_response(errno),
        };
        match stat.file_type {
            // `/file.txt/` names a directory that is not there (ENOTDIR, as
            // nginx answers): serving the file would misplace its relative links.
            FileType::RegularFile if relative.has_trailing_slash() => error_response(404),
            FileType::RegularFile => self.serve_file(head, fd, stat, relative.as_str()),
            FileType::Directory if !relative.has_trailing_slash() => {
                redirect_to_directory(raw_path, head.query())
            }
            FileType::Directory => match self.serve_index(head, &relative) {
                // No servable index: list the directory if asked to.
                response if response.status == 404 && self.options.listing => {
                    listing::respond(fd, &relative, head, &self.options, |path| {
                        self.open_and_stat(path)
                    })
                }
                response => response,
            },
            // FIFOs, sockets and devices are not documents.
            _ => error_response(404),
        }
    }

    /// Serve the first `--index` name of a directory requested with a
    /// trailing slash that is a regular file.
    fn serve_index(&self, head: &RequestHead, directory: &RelativePath) -> Response {
        for name in &self.options.index_names {
            let index_path = join_name(directory.as_str(), name);
            match self.open_and_stat(&index_path) {
                Ok((fd, stat)) if stat.file_type == FileType::RegularFile => {
                    return self.serve_file(head, fd, stat, &index_path)
                }
                // A directory (or FIFO...) named index.html is not an index.
                Ok(_) => continue,
                Err(errno) if status_for_open_error(errno).0 == 404 => continue,
                Err(errno) => return open_error_response(errno),
            }
        }
        error_response(404)
    }

    /// Serve a regular file opened as `relative`: for a compressible type,
    /// pick the representation first (a sidecar or the file itself), then
    /// answer as for any file.
    fn serve_file(
        &self,
        head: &RequestHead,
        fd: OwnedFd,
        stat: FileFacts,
        relative: &str,
    ) -> Response {
        let compressible = mime::is_compressible(mime::media_type_for(relative));
        let (fd, stat) = match compressible {
            true => self.select_representation(head, fd, stat, relative),
            false => (fd, stat),
        };
        self.file_response(head, fd, &stat, relative, compressible)
    }

    /// The representation to serve: the first candidate of the client's
    /// `Accept-Encoding` that we have (see [`StaticFiles::usable_sidecar`]),
    /// or the source itself. The source is also the answer when the client
    /// refuses identity and no sidecar fits.
    fn select_representation(
        &self,
        head: &RequestHead,
        fd: OwnedFd,
        stat: FileFacts,
        relative: &str,
    ) -> (OwnedFd, FileFacts) {
        for candidate in accept_encoding_candidates(head) {
            let Candidate::Coded(coding) = candidate else {
                break;
            };
            if let Some(sidecar) = self.usable_sidecar(relative, coding, &stat) {
                return sidecar;
            }
        }
        (fd, stat)
    }

    /// The sidecar of `relative` for `coding` (`relative` plus `.br`,
    /// `.zst` or `.gz`), if it opens under the symlink policy as a regular
    /// file not older than its source. The one rule for both the normal
    /// path and the hot cache, so they cannot choose differently.
    fn usable_sidecar(
        &self,
        relative: &str,
        coding: ContentCoding,
        source: &FileFacts,
    ) -> Option<(OwnedFd, FileFacts)> {
        let sidecar = format!("{relative}{}", coding.file_suffix());
        match self.open_and_stat(&sidecar) {
            Ok((fd, mut stat))
                if stat.file_type == FileType::RegularFile && !stat.is_older_than(source) =>
            {
                stat.coding = Some(coding);
                Some((fd, stat))
            }
            _ => None,
        }
    }

    /// The answer when the path matched nothing: the `--spa` file for a
    /// navigation, else a 404 whose body is `404.html` if the root has one.
    fn not_found(&self, head: &RequestHead, spa_allowed: bool) -> Response {
        let mut vary_accept = false;
        let spa = self.options.spa.as_ref().filter(|_| spa_allowed);
        if let (Some(spa), Ok(relative)) = (spa, resolve_path(head.path())) {
            let last_segment = match relative.has_trailing_slash() {
                true => "",
                false => relative.segments().last().unwrap_or_default(),
            };
            // Whether the answer depended on Accept, for caches.
            vary_accept = navigation::has_extension(last_segment);
            if navigation::is_navigation(last_segment, head.field_lines("Accept").weighted()) {
                if let Ok((fd, stat)) = self.open_and_stat(spa) {
                    if stat.file_type == FileType::RegularFile {
                        let response = self.serve_file(head, fd, stat, spa);
                        return match vary_accept {
                            true => response.with_field("Vary", "Accept"),
                            false => response,
                        };
                    }
                }
            }
        }
        let response = match self.open_and_stat(NOT_FOUND_PAGE) {
            Ok((fd, stat)) if stat.file_type == FileType::RegularFile => not_found_page(fd, &stat),
            _ => error_response(404),
        };
        match vary_accept {
            true => response.with_field("Vary", "Accept"),
            false => response,
        }
    }
}

/// The representations `head`'s `Accept-Encoding` (all its lines) asks
/// for, most preferred first ([`negotiate`]).
pub(crate) fn accept_encoding_candidates(head: &RequestHead) -> Vec<Candidate> {
    let accept_encoding = head.field_lines("Accept-Encoding");
    let elements = accept_encoding
        .is_present()
        .then(|| accept_encoding.weighted());
    negotiate(elements).candidates
}

/// The fields of a 304 (RFC 9110 §15.4.5): those a 200 would carry that
/// help a cache update its stored response; no content fields.
const NOT_MODIFIED_FIELDS: &[&str] = &[
    "ETag",
    "Last-Modified",
    "Cache-Control",
    "Expires",
    "Vary",
    "Content-Location",
];

impl StaticFiles {
    /// The fields of a whole 200 answer with the file described by `stat`,
    /// named `name` (its path under the root, or the index name): the
    /// fields every answer for it starts from. For a `compressible` type
    /// they end with `Content-Encoding` (a sidecar) and `Vary`.
    fn representation_fields(&self, stat: &FileFacts, name: &str, compressible: bool) -> Fields {
        let mut fields: Fields = Vec::with_capacity(8);
        fields.push(("Content-Type", Cow::Borrowed(mime::media_type_for(name))));
        // Browsers must not sniff a type other than the one we chose.
        fields.push(("X-Content-Type-Options", Cow::Borrowed("nosniff")));
        fields.push(("ETag", Cow::Owned(entity_tag(stat))));
        if let Some(last_modified) = last_modified(stat) {
            fields.push(("Last-Modified", Cow::Owned(last_modified)));
        }
        let file_name = name.rsplit('/').next().unwrap_or(name);
        if let Some(cache_control) = self.options.cache.cache_control(file_name) {
            fields.push(("Cache-Control", Cow::Owned(cache_control)));
        }
        fields.push(("Accept-Ranges", Cow::Borrowed("bytes")));
        if let Some(coding) = stat.coding {
            fields.push(("Content-Encoding", Cow::Borrowed(coding.token())));
        }
        if compressible {
            fields.push(("Vary", Cow::Borrowed("Accept-Encoding")));
        }
        fields
    }

    /// Answer for the open regular file `fd`, named `name` (see
    /// [`StaticFiles::representation_fields`]): preconditions, then ranges,
    /// then 200.
    fn file_response(
        &self,
        head: &RequestHead,
        fd: OwnedFd,
        stat: &FileFacts,
        name: &str,
        compressible: bool,
    ) -> Response {
        let Ok(len) = u64::try_from(stat.size) else {
            return error_response(500);
        };
        let mut fields = self.representation_fields(stat, name, compressible);
        // Errors answer no representation: they carry only `Vary`, which
        // still tells caches that the status depended on the coding asked.
        let vary = |response: Response| match compressible {
            true => response.with_field("Vary", "Accept-Encoding"),
            false => response,
        };
        let etag = field_value(&fields, "ETag");
        let validators = Validators {
            etag,
            last_modified: u64::try_from(stat.mtime_secs).ok(),
        };
        let is_get_or_head = matches!(head.method(), Method::Get | Method::Head);
        let precondition = evaluate_preconditions(
            &Conditions::from_head(head),
            is_get_or_head,
            Some(&validators),
        );
        match precondition {
            Precondition::Proceed => {}
            Precondition::NotModified => return not_modified(fields),
            Precondition::Failed => return vary(Response::text(412, "Precondition Failed")),
        }
        let outcome = requested_range(head, len, &validators);
        let boundary = range::boundary_for(etag);
        let file = File::from(fd);
        match outcome {
            RangeOutcome::Full => whole_file(fields, file, len),
            RangeOutcome::Single(range) => {
                fields.push(("Content-Range", Cow::Owned(range.content_range(len))));
                Response {
                    status: 206,
                    fields,
                    body: Body::File {
                        file,
                        offset: range.start,
                        len: range.len,
                    },
                }
            }
            RangeOutcome::Multiple(ranges) => {
                let content_type = mime::media_type_for(name);
                match range::multipart_body(&ranges, len, content_type, &boundary) {
                    Some(parts) => {
                        // The parts carry the file's type; the whole is multipart.
                        fields[0].1 =
                            Cow::Owned(format!("multipart/byteranges; boundary={boundary}"));
                        Response {
                            status: 206,
                            fields,
                            body: Body::Parts { file, parts },
                        }
                    }
                    // Larger than the file itself: send the file.
                    None => whole_file(fields, file, len),
                }
            }
            RangeOutcome::Unsatisfiable => vary(
                Response::text(416, "Range Not Satisfiable")
                    .with_field("Content-Range", range::unsatisfied_content_range(len))
                    .with_field("Accept-Ranges", "bytes"),
            ),
        }
    }
}

/// A response's fields.
type Fields = Vec<(&'static str, Cow<'static, str>)>;

/// The value of the first field named `name` (as this module spells it).
fn field_value<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, value)| value.as_ref())
}

/// 200 with all `len` bytes of `file`.
fn whole_file(fields: Fields, file: File, len: u64) -> Response {
    Response {
        status: 200,
        fields,
        body: Body::File {
            file,
            offset: 0,
            len,
        },
    }
}

/// What the `Range` field asks of a file of `len` bytes, once `If-Range`
/// agrees (RFC 9110 §13.1.5). `Full` unless the method is GET with exactly
/// one `Range` field; a repeated `If-Range` never matches.
fn requested_range(head: &RequestHead, len: u64, validators: &Validators<'_>) -> RangeOutcome {
    if head.method() != Method::Get {
        return RangeOutcome::Full;
    }
    let [range, if_range] = head.find_fields(["Range", "If-Range"]);
    let Some(range) = range.single() else {
        return RangeOutcome::Full;
    };
    if if_range.is_present() {
        match if_range.single() {
            Some(value) if if_range_allows(value, validators, now_secs()) => {}
            _ => return RangeOutcome::Full,
        }
    }
    evaluate_range(range, len)
}

/// Seconds since the Unix epoch, for telling a strong `Last-Modified`.
fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// The answer when the preconditions do not let the request proceed: 304
/// with the validator and cache fields of `fields` (those of the 200 it
/// replaces), or 412. `None` to proceed. Files and listings both use it.
fn precondition_answer(precondition: Precondition, fields: &mut Fields) -> Option<Response> {
    match precondition {
        Precondition::Proceed => None,
        Precondition::NotModified => Some(not_modified(std::mem::take(fields))),
        Precondition::Failed => Some(Response::text(412, "Precondition Failed")),
    }
}

/// 304 with the validator and cache fields of `fields`, and no body.
fn not_modified(mut fields: Fields) -> Response {
    fields.retain(|(name, _)| NOT_MODIFIED_FIELDS.contains(name));
    Response {
        status: 304,
        fields,
        body: Body::Empty,
    }
}

/// A strong entity tag (RFC 9110 §8.8.3) from metadata we already have from
/// fstat: inode, then the mtime in nanoseconds (16 hex digits), a dash, and
/// the size; for a sidecar, a dash and the coding (`-br`), so each encoding
/// of a resource has its own tag (RFC 9110 §8.8.3.3). A rewrite changes the
/// mtime or size; a replacement by rename changes the inode. No hashing of
/// contents, so it costs nothing.
fn entity_tag(stat: &FileFacts) -> String {
    let inode = stat.inode;
    let mtime_nanos = (stat.mtime_secs as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(stat.mtime_nanos);
    let size = stat.size as u64;
    match stat.coding {
        Some(coding) => format!(
            "\"{inode:x}{mtime_nanos:016x}-{size:x}-{}\"",
            coding.token()
        ),
        None => format!("\"{inode:x}{mtime_nanos:016x}-{size:x}\""),
    }
}

/// 404 with `404.html` as the body. No validators: this is not the
/// representation of the requested resource, so conditional requests must
/// not turn it into a 304.
fn not_found_page(fd: OwnedFd, stat: &FileFacts) -> Response {
    let Ok(len) = u64::try_from(stat.size) else {
        return error_response(404);
    };
    Response {
        status: 404,
        fields: vec![
            (
                "Content-Type",
                Cow::Borrowed(mime::media_type_for(NOT_FOUND_PAGE)),
            ),
            ("X-Content-Type-Options", Cow::Borrowed("nosniff")),
        ],
        body: Body::File {
            file: File::from(fd),
            offset: 0,
            len,
        },
    }
}

/// The `Last-Modified` value (IMF-fixdate, RFC 9110 §8.8.2), or none for a
/// file dated before 1970.
fn last_modified(stat: &FileFacts) -> Option<String> {
    let secs = u64::try_from(stat.mtime_secs).ok()?;
    let date = crate::proto::date::format_http_date(secs);
    Some(String::from_utf8_lossy(&date).into_owned())
}

/// A fixed short `text/plain` error for a refused path.
fn error_response(status: u16) -> Response {
    match status {
        400 => Response::text(400, "Bad Request"),
        404 => Response::text(404, "Not Found"),
        _ => Response::text(500, "Internal Server Error"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::Part;
    use open::{open_by_walking, open_following};
    use rustix::fd::AsFd;
    use rustix::fs::Mode;
    use rustix::io::Errno;
    use std::os::unix::fs::symlink;
    use std::os::unix::fs::FileExt;
    use std::path::Path;

    /// A root with a file, a directory with an index, and one without.
    fn fixture() -> (tempfile::TempDir, StaticFiles) {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("root");
        std::fs::create_dir(&root).expect("root");
        std::fs::write(root.join("hello.txt"), b"hello\n").expect("file");
        std::fs::write(root.join("index.html"), b"<h1>root</h1>").expect("file");
        std::fs::create_dir(root.join("docs")).expect("dir");
        std::fs::write(root.join("docs/index.html"), b"<h1>docs</h1>").expect("file");
        std::fs::create_dir(root.join("empty")).expect("dir");
        std::fs::write(dir.path().join("secret.txt"), b"outside").expect("file");
        let files = StaticFiles::new(root, StaticOptions::default()).expect("open root");
        (dir, files)
    }

    /// The fixture's root served with other options.
    fn with_options(dir: &tempfile::TempDir, options: StaticOptions) -> StaticFiles {
        StaticFiles::new(root_path(dir), options).expect("open root")
    }

    fn get(files: &StaticFiles, target: &str) -> Response {
        files.serve(&RequestHead::for_test("GET", target, &[]))
    }

    fn body_bytes(response: Response) -> Vec<u8> {
        fn read_range(file: &File, offset: u64, len: u64, out: &mut Vec<u8>) {
            let start = out.len();
            out.resize(start + len as usize, 0);
            file.read_exact_at(&mut out[start..], offset)
                .expect("read body file");
        }
        let mut out = Vec::new();
        match response.body {
            Body::Empty => {}
            Body::Bytes(bytes) => out.extend_from_slice(&bytes),
            Body::File { file, offset, len } => read_range(&file, offset, len, &mut out),
            Body::Parts { file, parts } => {
                for part in parts {
                    match part {
                        Part::Bytes(bytes) => out.extend_from_slice(&bytes),
                        Part::File { offset, len } => read_range(&file, offset, len, &mut out),
                    }
                }
            }
        }
        out
    }

    fn root_path(dir: &tempfile::TempDir) -> std::path::PathBuf {
        dir.path().join("root")
    }

    #[test]
    fn regular_file_is_served_with_type_length_and_validators() {
        let (_dir, files) = fixture();
        let response = get(&files, "/hello.txt");
        assert_eq!(response.status, 200);
        assert_eq!(
            response.field("Content-Type"),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(response.field("X-Content-Type-Options"), Some("nosniff"));
        assert!(response.field("Last-Modified").is_some());
        let etag = response.field("ETag").expect("etag").to_owned();
        assert!(etag.starts_with('"') && etag.ends_with("-6\""), "{etag}");
        assert_eq!(response.body.len(), 6);
        assert_eq!(body_bytes(response), b"hello\n");
    }

    #[test]
    fn etag_changes_when_the_file_changes() {
        let (dir, files) = fixture();
        let before = get(&files, "/hello.txt").field("ETag").map(str::to_owned);
        std::fs::write(root_path(&dir).join("hello.txt"), b"hello, world\n").expect("rewrite");
        let after = get(&files, "/hello.txt").field("ETag").map(str::to_owned);
        assert_ne!(before, after);
    }

    #[test]
    fn directory_without_slash_redirects_keeping_the_query() {
        let (dir, files) = fixture();
        std::fs::create_dir(root_path(&dir).join("docs/sub")).expect("dir");
        let cases = [
            ("/docs", "docs/"),
            ("/docs?lang=en&x=1", "docs/?lang=en&x=1"),
            ("/empty", "empty/"),
            ("/docs/sub", "sub/"),
            ("/docs/sub?a=%2F", "sub/?a=%2F"),
            // Percent-encoded names keep their raw spelling.
            ("/%64ocs", "%64ocs/"),
            ("/docs%2Fsub", "docs%2Fsub/"),
            // Only the last segment: no leading slash, so no scheme-relative
            // URL to another host (`//docs/`) can come out.
            ("//docs", "docs/"),
            ("///docs?q", "docs/?q"),
            ("/docs/.", "./"),
        ];
        for (target, location) in cases {
            let response = get(&files, target);
            assert_eq!(response.status, 301, "{target}");
            assert_eq!(response.field("Location"), Some(location), "{target}");
        }
    }

    #[test]
    fn directory_with_slash_serves_its_index() {
        let (_dir, files) = fixture();
        let response = get(&files, "/docs/");
        assert_eq!(response.status, 200);
        assert_eq!(
            response.field("Content-Type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(body_bytes(response), b"<h1>docs</h1>");

        let response = get(&files, "/");
        assert_eq!(response.status, 200);
        assert_eq!(body_bytes(response), b"<h1>root</h1>");
    }

    #[test]
    fn directory_without_index_is_404() {
        let (dir, files) = fixture();
        assert_eq!(get(&files, "/empty/").status, 404);
        // An index.html that is itself a directory is no index.
        std::fs::create_dir(root_path(&dir).join("empty/index.html")).expect("dir");
        assert_eq!(get(&files, "/empty/").status, 404);
    }

    #[test]
    fn refusals_and_their_statuses() {
        let (_dir, files) = fixture();
        let cases = [
            ("/missing.txt", 404),
            ("/hello.txt/more", 404),
            ("/docs/missing/", 404),
            ("/../secret.txt", 404),
            ("/%2e%2e/secret.txt", 404),
            ("/docs/..%2f..%2fsecret.txt", 404),
            ("/.hidden", 404),
            ("/a%00b", 400),
            ("/%zz", 400),
            ("/%c0%ae%c0%ae/secret.txt", 400),
            ("*", 400),
        ];
        for (target, status) in cases {
            let response = get(&files, target);
            assert_eq!(response.status, status, "{target}");
            assert_eq!(
                response.field("Content-Type"),
                Some("text/plain; charset=utf-8")
            );
            // Fixed texts only: no path or OS message leaks.
            let body = body_bytes(response);
            assert!(body.len() < 32, "{target}: {body:?}");
            assert!(!body.windows(6).any(|w| w == b"secret"), "{target}");
        }
    }

    #[test]
    fn dotfiles_are_hidden_but_well_known_is_served() {
        let (dir, files) = fixture();
        let root = root_path(&dir);
        std::fs::write(root.join(".env"), b"KEY=1").expect("file");
        std::fs::create_dir(root.join(".well-known")).expect("dir");
        std::fs::write(root.join(".well-known/security.txt"), b"Contact: x").expect("file");
        assert_eq!(get(&files, "/.env").status, 404);
        assert_eq!(get(&files, "/.well-known/security.txt").status, 200);
    }

    #[test]
    fn symlink_inside_the_root_is_followed() {
        let (dir, files) = fixture();
        let root = root_path(&dir);
        symlink("hello.txt", root.join("alias.txt")).expect("symlink");
        symlink("docs", root.join("docs-alias")).expect("symlink");
        let response = get(&files, "/alias.txt");
        assert_eq!(response.status, 200);
        assert_eq!(body_bytes(response), b"hello\n");
        assert_eq!(get(&files, "/docs-alias/index.html").status, 200);
    }

    #[test]
    fn symlink_leaving_the_root_is_404() {
        let (dir, files) = fixture();
        let root = root_path(&dir);
        symlink("../secret.txt", root.join("relative-escape")).expect("symlink");
        symlink(dir.path().join("secret.txt"), root.join("absolute-escape")).expect("symlink");
        symlink("/etc", root.join("etc")).expect("symlink");
        symlink("docs/../../secret.txt", root.join("sneaky")).expect("symlink");
        symlink("loop", root.join("loop")).expect("symlink");
        for target in [
            "/relative-escape",
            "/absolute-escape",
            "/etc/passwd",
            "/sneaky",
            "/loop",
        ] {
            assert_eq!(get(&files, target).status, 404, "{target}");
        }
    }

    #[test]
    fn fifo_is_404_without_blocking() {
        let (dir, files) = fixture();
        let root = StaticFiles::new(root_path(&dir), StaticOptions::default())
            .expect("root")
            .root;
        rustix::fs::mknodat(&root, "pipe", FileType::Fifo, Mode::from_raw_mode(0o644), 0)
            .expect("mkfifo");
        // With no writer, a blocking open of a FIFO would wait forever; the
        // test would hang rather than fail.
        assert_eq!(get(&files, "/pipe").status, 404);
    }

    #[test]
    fn walking_fallback_refuses_every_symlink() {
        let (dir, files) = fixture();
        let root = root_path(&dir);
        symlink("hello.txt", root.join("alias.txt")).expect("symlink");
        symlink("docs", root.join("docs-alias")).expect("symlink");
        let walking = StaticFiles {
            resolver: Resolver::Walk,
            ..files
        };
        assert_eq!(walking.symlink_policy(), SymlinkPolicy::Deny);
        assert_eq!(get(&walking, "/hello.txt").status, 200);
        assert_eq!(get(&walking, "/docs/").status, 200);
        assert_eq!(get(&walking, "/docs").status, 301);
        assert_eq!(get(&walking, "/").status, 200);
        assert_eq!(get(&walking, "/alias.txt").status, 404);
        assert_eq!(get(&walking, "/docs-alias/index.html").status, 404);
        assert_eq!(get(&walking, "/missing").status, 404);
        assert_eq!(
            open_by_walking(walking.root.as_fd(), "docs/../../secret.txt").err(),
            Some(Errno::XDEV)
        );
    }

    #[test]
    fn missing_root_is_an_error() {
        let options = StaticOptions::default;
        let missing = Path::new("/nonexistent/root/for/test").to_path_buf();
        assert!(StaticFiles::new(missing, options()).is_err());
        let file = tempfile::NamedTempFile::new().expect("temp file");
        assert!(StaticFiles::new(file.path().to_path_buf(), options()).is_err());
    }

    #[test]
    fn spa_file_must_exist_at_start() {
        let (dir, _files) = fixture();
        let spa = |name: &str| StaticOptions {
            spa: Some(name.to_owned()),
            ..StaticOptions::default()
        };
        assert!(StaticFiles::new(root_path(&dir), spa("index.html")).is_ok());
        assert!(StaticFiles::new(root_path(&dir), spa("missing.html")).is_err());
        assert!(StaticFiles::new(root_path(&dir), spa("docs")).is_err());
    }

    #[test]
    fn symlink_policies_for_files_and_directory_components() {
        let (dir, _files) = fixture();
        let root = root_path(&dir);
        symlink("hello.txt", root.join("alias.txt")).expect("symlink");
        symlink("docs", root.join("docs-alias")).expect("symlink");
        symlink("../secret.txt", root.join("escape")).expect("symlink");
        symlink(dir.path(), root.join("outside")).expect("symlink");
        // (target, deny, within-root, follow)
        let cases = [
            ("/hello.txt", 200, 200, 200),
            ("/alias.txt", 404, 200, 200),
            ("/docs-alias/index.html", 404, 200, 200),
            ("/docs-alias/", 404, 200, 200),
            ("/escape", 404, 404, 200),
            ("/outside/secret.txt", 404, 404, 200),
            ("/../secret.txt", 404, 404, 404),
            ("/%2e%2e/secret.txt", 404, 404, 404),
        ];
        let serve = |policy| {
            with_options(
                &dir,
                StaticOptions {
                    symlinks: policy,
                    ..StaticOptions::default()
                },
            )
        };
        let deny = serve(SymlinkPolicy::Deny);
        let within = serve(SymlinkPolicy::WithinRoot);
        let follow = serve(SymlinkPolicy::Follow);
        for (target, deny_status, within_status, follow_status) in cases {
            assert_eq!(get(&deny, target).status, deny_status, "deny {target}");
            assert_eq!(
                get(&within, target).status,
                within_status,
                "within-root {target}"
            );
            assert_eq!(
                get(&follow, target).status,
                follow_status,
                "follow {target}"
            );
        }
        assert_eq!(deny.symlink_policy(), SymlinkPolicy::Deny);
        assert_eq!(follow.symlink_policy(), SymlinkPolicy::Follow);
        assert_eq!(
            open_following(deny.root.as_fd(), "a/../x").err(),
            Some(Errno::XDEV)
        );
    }

    #[test]
    fn hidden_files_only_with_the_option() {
        let (dir, files) = fixture();
        let root = root_path(&dir);
        std::fs::write(root.join(".env"), b"KEY=1").expect("file");
        std::fs::create_dir(root.join(".config")).expect("dir");
        std::fs::write(root.join(".config/a.txt"), b"a").expect("file");
        let hidden = with_options(
            &dir,
            StaticOptions {
                hidden: true,
                ..StaticOptions::default()
            },
        );
        for target in ["/.env", "/.config/a.txt", "/%2econfig/a.txt"] {
            assert_eq!(get(&files, target).status, 404, "{target}");
            assert_eq!(get(&hidden, target).status, 200, "{target}");
        }
    }

    #[test]
    fn index_names_are_tried_in_order() {
        let (dir, _files) = fixture();
        let root = root_path(&dir);
        std::fs::write(root.join("docs/default.htm"), b"default").expect("file");
        std::fs::create_dir(root.join("docs/home.html")).expect("dir");
        let index = |names: &[&str]| {
            with_options(
                &dir,
                StaticOptions {
                    index_names: names.iter().map(|n| n.to_string()).collect(),
                    ..StaticOptions::default()
                },
            )
        };
        // (index names, body of /docs/, or None for 404)
        let cases: &[(&[&str], Option<&[u8]>)] = &[
            (&["index.html"], Some(b"<h1>docs</h1>")),
            (&["default.htm", "index.html"], Some(b"default")),
            (&["index.html", "default.htm"], Some(b"<h1>docs</h1>")),
            // A directory named like an index is skipped.
            (&["home.html", "default.htm"], Some(b"default")),
            (&["missing.html", "default.htm"], Some(b"default")),
            (&["missing.html"], None),
        ];
        for (names, want) in cases {
            let response = get(&index(names), "/docs/");
            match want {
                Some(body) => {
                    assert_eq!(response.status, 200, "{names:?}");
                    assert_eq!(body_bytes(response), *body, "{names:?}");
                }
                None => assert_eq!(response.status, 404, "{names:?}"),
            }
        }
        let response = get(&index(&["default.htm"]), "/docs/");
        assert_eq!(
            response.field("Content-Type"),
            Some("text/html; charset=utf-8")
        );
    }

    #[test]
    fn sidecars_are_chosen_by_accept_encoding_and_freshness() {
        let (dir, files) = fixture();
        let root = root_path(&dir);
        std::fs::write(root.join("app.js"), b"let a = 1;\n").expect("file");
        std::fs::write(root.join("app.js.br"), b"BR").expect("file");
        std::fs::write(root.join("app.js.gz"), b"GZIP").expect("file");
        std::fs::write(root.join("app.js.zst"), b"ZSTD!").expect("file");
        let fetch = |accept: &str| {
            files.serve(&RequestHead::for_test(
                "GET",
                "/app.js",
                &[("Accept-Encoding", accept)],
            ))
        };
        // (Accept-Encoding, Content-Encoding, body)
        let cases: &[(&str, Option<&str>, &[u8])] = &[
            ("gzip, deflate, br, zstd", Some("br"), b"BR"),
            ("gzip", Some("gzip"), b"GZIP"),
            ("zstd, gzip", Some("zstd"), b"ZSTD!"),
            ("br;q=0.5, gzip", Some("gzip"), b"GZIP"),
            ("identity", None, b"let a = 1;\n"),
            ("deflate", None, b"let a = 1;\n"),
        ];
        let mut tags = Vec::new();
        for (accept, coding, body) in cases {
            let response = fetch(accept);
            assert_eq!(response.status, 200, "{accept}");
            assert_eq!(response.field("Content-Encoding"), *coding, "{accept}");
            assert_eq!(
                response.field("Content-Type"),
                Some("text/javascript; charset=utf-8"),
                "{accept}"
            );
            assert_eq!(response.field("Vary"), Some("Accept-Encoding"), "{accept}");
            let etag = response.field("ETag").expect("etag").to_owned();
            match coding {
                Some(coding) => assert!(etag.ends_with(&format!("-{coding}\"")), "{etag}"),
                None => assert!(!etag.ends_with("-br\"") && !etag.ends_with("-gzip\"")),
            }
            tags.push(etag);
            assert_eq!(body_bytes(response), *body, "{accept}");
        }
        tags.sort();
        tags.dedup();
        assert_eq!(tags.len(), 4, "one tag per representation");
        // A sidecar older than its source is not used.
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        File::options()
            .write(true)
            .open(root.join("app.js.br"))
            .and_then(|f| f.set_modified(old))
            .expect("age the sidecar");
        assert_eq!(fetch("br, gzip").field("Content-Encoding"), Some("gzip"));
        // A sidecar that is a directory is not used either.
        std::fs::remove_file(root.join("app.js.gz")).expect("remove");
        std::fs::create_dir(root.join("app.js.gz")).expect("dir");
        assert_eq!(fetch("gzip").field("Content-Encoding"), None);
    }

    #[test]
    fn incompressible_types_have_no_vary_and_no_sidecar() {
        let (dir, files) = fixture();
        let root = root_path(&dir);
        std::fs::write(root.join("a.png"), b"PNG").expect("file");
        std::fs::write(root.join("a.png.gz"), b"GZ").expect("file");
        let response = files.serve(&RequestHead::for_test(
            "GET",
            "/a.png",
            &[("Accept-Encoding", "gzip")],
        ));
        assert_eq!(response.field("Content-Encoding"), None);
        assert_eq!(response.field("Vary"), None);
        assert_eq!(body_bytes(response), b"PNG");
    }

    #[test]
    fn sidecars_follow_the_symlink_policy() {
        let (dir, _files) = fixture();
        let root = root_path(&dir);
        std::fs::write(root.join("app.js"), b"source").expect("file");
        std::fs::write(dir.path().join("outside.br"), b"BR").expect("file");
        symlink("../outside.br", root.join("app.js.br")).expect("symlink");
        let within = with_options(&dir, StaticOptions::default());
        let head = RequestHead::for_test("GET", "/app.js", &[("Accept-Encoding", "br")]);
        let response = within.serve(&head);
        assert_eq!(response.field("Content-Encoding"), None);
        assert_eq!(body_bytes(response), b"source");
    }

    #[test]
    fn not_found_page_and_spa_fallback() {
        let (dir, files) = fixture();
        let root = root_path(&dir);
        assert_eq!(body_bytes(get(&files, "/missing")), b"Not Found");
        std::fs::write(root.join("404.html"), b"<h1>gone</h1>").expect("file");
        let response = get(&files, "/missing");
        assert_eq!(response.status, 404);
        assert_eq!(
            response.field("Content-Type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(response.field("ETag"), None);
        assert_eq!(body_bytes(response), b"<h1>gone</h1>");
        assert_eq!(get(&files, "/.env").status, 404);

        let spa = with_options(
            &dir,
            StaticOptions {
                spa: Some("index.html".to_owned()),
                ..StaticOptions::default()
            },
        );
        // (target, Accept, status, body)
        let cases: &[(&str, Option<&str>, u16, &[u8])] = &[
            ("/users/42", None, 200, b"<h1>root</h1>"),
            ("/settings/", None, 200, b"<h1>root</h1>"),
            ("/app.js", None, 404, b"<h1>gone</h1>"),
            (
                "/report.2025",
                Some("text/html,*/*;q=0.8"),
                200,
                b"<h1>root</h1>",
            ),
            ("/hello.txt", Some("text/html"), 200, b"hello\n"),
            ("/../x", None, 404, b"<h1>gone</h1>"),
        ];
        for (target, accept, status, body) in cases {
            let fields: Vec<(&str, &str)> = accept.iter().map(|a| ("Accept", *a)).collect();
            let response = spa.serve(&RequestHead::for_test("GET", target, &fields));
            assert_eq!(response.status, *status, "{target}");
            assert_eq!(body_bytes(response), *body, "{target}");
        }
    }

    #[test]
    fn issue_12_a_field_sent_twice_reads_as_one_list_everywhere() {
        let (dir, _files) = fixture();
        let root = root_path(&dir);
        std::fs::write(root.join("app.js"), b"let a = 1;\n").expect("file");
        std::fs::write(root.join("app.js.br"), b"BR").expect("file");
        std::fs::create_dir(root.join("list")).expect("dir");
        let files = with_options(
            &dir,
            StaticOptions {
                spa: Some("index.html".to_owned()),
                listing: true,
                ..StaticOptions::default()
            },
        );
        let serve = |target: &str, fields: &[(&str, &str)]| {
            files.serve(&RequestHead::for_test("GET", target, fields))
        };
        // The SPA's navigation test sees the second Accept line, as the
        // listing's form choice does: both read the whole list.
        let two_accepts = [("Accept", "application/json"), ("Accept", "text/html")];
        let spa = serve("/report.2025", &two_accepts);
        assert_eq!(spa.status, 200);
        assert_eq!(body_bytes(spa), b"<h1>root</h1>");
        let listing = serve(
            "/list/",
            &[("Accept", "text/html"), ("Accept", "application/json")],
        );
        assert_eq!(listing.field("Content-Type"), Some("application/json"));
        // Accept-Encoding on two lines is one list too.
        let two_codings = [("Accept-Encoding", "gzip"), ("Accept-Encoding", "br")];
        assert_eq!(
            serve("/app.js", &two_codings).field("Content-Encoding"),
            Some("br")
        );
    }
}
