//! Static files under the document root: GET and HEAD.
//!
//! This module is the dispatch: it resolves the request path once, finds
//! what it names beneath the root (a `Target`: a file, a directory to
//! redirect or list, a miss, a refusal), picks the representation (the file
//! or a sidecar, a listing, the `--spa` file) and hands it to
//! [`representation::answer`], the one function that turns a
//! representation and a request into a response. The other concepts have
//! files of their own: `open` (opening beneath the root), `redirect`,
//! [`representation`], [`listing`], [`hot_cache`]; the decisions that need
//! no file system live in [`path`] (URL path → safe relative path),
//! [`mime`] (extension → media type), [`encoding`] (`Accept-Encoding` →
//! which sidecar to try), [`navigation`] (which misses get the `--spa`
//! file), [`conditional`] and [`range`]. [`options`] holds what flags
//! configure.
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
//! Where a coding has no sidecar, a compressed variant made on the fly may
//! answer instead ([`compression`], [`variant_cache`]).
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
//! `Cache-Control` of the [`cache`] policy. [`representation::answer`]
//! evaluates the preconditions first ([`conditional`]: 304 or 412), then,
//! for GET only, `If-Range` and `Range` ([`range`]: 206, multipart 206, or
//! 416). HEAD ignores `Range` (RFC 9110 §14.2 allows it) and gets the
//! fields a plain GET would. A listing has an `ETag` from its bytes and the
//! same preconditions, and no ranges ([`listing`]).

pub mod cache;
pub mod compress;
pub mod compression;
pub mod compressor;
pub mod conditional;
pub mod content_hash;
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
pub mod representation;
pub mod variant_cache;

pub use options::{EtagPolicy, StaticOptions, SymlinkPolicy};

use super::{Body, Response};
use crate::proto::RequestHead;
use encoding::ContentCoding;
use open::{open_error_response, open_root, status_for_open_error, FileFacts, Resolver};
use path::{join_name, resolve_path, PathError, RelativePath};
use redirect::redirect_to_directory;
use representation::{answer, Asked, Content, Metadata, Representation};
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
    /// Compressed variants made on the fly; see [`compression`].
    compression: compression::Compression,
}

/// What a request path names beneath the root: found once, then answered.
enum Target<'a> {
    /// A regular file to serve: the path itself, or a directory's index.
    File {
        fd: OwnedFd,
        facts: FileFacts,
        /// Its path under the root, which also names its media type.
        path: Cow<'a, str>,
    },
    /// A directory named without its trailing slash: redirected.
    DirectoryWithoutSlash,
    /// A directory with its slash, no servable index, and `--listing`.
    Listing(OwnedFd),
    /// Nothing to serve: the `--spa` file or a 404 answers. A refused
    /// hidden name is not a miss for the SPA to answer (`spa_allowed`).
    Missing { spa_allowed: bool },
    /// Refused with the status of this fixed answer (400, 403, 500, 503).
    Refused(Response),
}

/// The representation chosen for a compressible file.
enum Chosen {
    /// The file itself or a sidecar.
    File(OwnedFd, FileFacts),
    /// A compressed variant.
    Variant(std::sync::Arc<variant_cache::Variant>),
}

/// What answered a request, for the hot cache to know what it may keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Served {
    /// A representation of the regular file that the path names (itself or
    /// as its directory's index), whose source is `source_len` bytes.
    File { source_len: u64 },
    /// The fixed-text 404, depending on no request field.
    Missing,
    /// Anything else: a redirect, a listing, the `--spa` file, `404.html`,
    /// an error, or an answer that varies on `Accept`.
    Other,
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
            compression: compression::Compression::new(options.compression, options.etag),
            options,
            hot_cache: hot_cache::HotCache::new(),
        };
        if let Some(spa) = &files.options.spa {
            match files.open_and_stat(spa) {
                Ok((_, stat)) if stat.file_type == FileType::RegularFile => {}
                _ => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("{spa} is not a regular file under the root"),
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
    /// a HEAD response, so both get the same answer), without the hot cache.
    pub fn serve(&self, head: &RequestHead) -> Response {
        let asked = Asked::of(head);
        let resolved = resolve_path(head.path());
        self.serve_resolved(head, &asked, resolved.as_ref()).0
    }

    /// The answer for the path of `head`, resolved once as `resolved`, and
    /// what gave it.
    fn serve_resolved(
        &self,
        head: &RequestHead,
        asked: &Asked<'_>,
        resolved: Result<&RelativePath, &PathError>,
    ) -> (Response, Served) {
        let relative = resolved.ok();
        match self.locate(resolved) {
            Target::File { fd, facts, path } => {
                let served = u64::try_from(facts.size)
                    .map_or(Served::Other, |source_len| Served::File { source_len });
                (self.serve_file(asked, fd, facts, &path), served)
            }
            Target::DirectoryWithoutSlash => (
                redirect_to_directory(head.path(), head.query()),
                Served::Other,
            ),
            Target::Listing(fd) => {
                let relative = relative.expect("a listing is of a resolved path");
                let listed = listing::representation(fd, relative, head, &self.options, |path| {
                    self.open_and_stat(path)
                });
                match listed {
                    Ok(representation) => (answer(representation, asked), Served::Other),
                    // Gone since it was opened: a miss like any other.
                    Err(errno) if status_for_open_error(errno).0 == 404 => {
                        self.not_found(head, asked, Some(relative))
                    }
                    Err(errno) => (open_error_response(errno), Served::Other),
                }
            }
            Target::Missing { spa_allowed } => {
                self.not_found(head, asked, relative.filter(|_| spa_allowed))
            }
            Target::Refused(response) => (response, Served::Other),
        }
    }

    /// What `resolved` names beneath the root: one `open` and `fstat` (more
    /// for a directory's index names).
    fn locate<'a>(&self, resolved: Result<&'a RelativePath, &PathError>) -> Target<'a> {
        let relative = match resolved {
            Ok(relative) => relative,
            // `..` or a backslash: a miss, but not one the SPA may answer.
            Err(error) if error.status() == 404 => return Target::Missing { spa_allowed: false },
            Err(error) => return Target::Refused(error_response(error.status())),
        };
        if self.options.hides(relative) {
            return Target::Missing { spa_allowed: false };
        }
        let (fd, facts) = match self.open_and_stat(relative.as_str()) {
            Ok(opened) => opened,
            Err(errno) if status_for_open_error(errno).0 == 404 => {
                return Target::Missing { spa_allowed: true }
            }
            Err(errno) => return Target::Refused(open_error_response(errno)),
        };
        match facts.file_type {
            // `/file.txt/` names a directory that is not there (ENOTDIR, as
            // nginx answers): serving the file would misplace its relative links.
            FileType::RegularFile if relative.has_trailing_slash() => {
                Target::Missing { spa_allowed: true }
            }
            FileType::RegularFile => Target::File {
                fd,
                facts,
                path: Cow::Borrowed(relative.as_str()),
            },
            FileType::Directory if !relative.has_trailing_slash() => Target::DirectoryWithoutSlash,
            FileType::Directory => self.locate_index(relative, fd),
            // FIFOs, sockets and devices are not documents.
            _ => Target::Missing { spa_allowed: true },
        }
    }

    /// The first `--index` name of `directory` (open as `fd`, requested
    /// with a trailing slash) that is a regular file; else its listing, if
    /// asked for, or a miss.
    fn locate_index<'a>(&self, directory: &RelativePath, fd: OwnedFd) -> Target<'a> {
        for name in &self.options.index_names {
            let path = join_name(directory.as_str(), name);
            match self.open_and_stat(&path) {
                Ok((fd, facts)) if facts.file_type == FileType::RegularFile => {
                    return Target::File {
                        fd,
                        facts,
                        path: Cow::Owned(path),
                    }
                }
                // A directory (or FIFO...) named index.html is not an index.
                Ok(_) => continue,
                Err(errno) if status_for_open_error(errno).0 == 404 => continue,
                Err(errno) => return Target::Refused(open_error_response(errno)),
            }
        }
        match self.options.listing {
            true => Target::Listing(fd),
            false => Target::Missing { spa_allowed: true },
        }
    }

    /// Answer with the regular file `fd` opened as `name`: for a
    /// compressible type, pick the representation first (a sidecar, a
    /// compressed variant or the file itself), then answer as for any
    /// representation.
    fn serve_file(&self, asked: &Asked<'_>, fd: OwnedFd, facts: FileFacts, name: &str) -> Response {
        let compressible = mime::is_compressible(mime::media_type_for(name));
        let (fd, facts) = match compressible {
            true => match self.select_representation(asked, fd, facts, name) {
                Chosen::File(fd, facts) => (fd, facts),
                Chosen::Variant(variant) => return answer(variant.representation(), asked),
            },
            false => (fd, facts),
        };
        // A digest to compute (content tags, or `Want-Repr-Digest`) is
        // started after this answer's metadata is read, so the answer is
        // the same whenever the compressor finishes.
        let wants_digest = self.options.etag == EtagPolicy::Content || asked.wants_repr_digest();
        let digest_source = match wants_digest {
            true if self.compression.content_digest(&facts.version).is_none() => {
                fd.try_clone().ok().map(File::from)
            }
            _ => None,
        };
        let version = facts.version;
        let response = match self.file_representation(fd, &facts, name, compressible) {
            Some(representation) => answer(representation, asked),
            None => error_response(500),
        };
        if let Some(file) = digest_source {
            self.compression
                .digest_soon(version, || Some(compressor::Source::File(file)));
        }
        response
    }

    /// The representation to serve, by [`compression::Compression::pick`]:
    /// the first candidate of the client's `Accept-Encoding` that has a
    /// usable sidecar ([`StaticFiles::usable_sidecar`]) or a compressed
    /// variant, or the source itself. The source is also the answer when
    /// the client refuses identity and nothing else fits.
    fn select_representation(
        &self,
        asked: &Asked<'_>,
        fd: OwnedFd,
        facts: FileFacts,
        relative: &str,
    ) -> Chosen {
        let candidates = asked.coding_candidates();
        let picked = self.compression.pick(
            &candidates,
            Some(facts.version),
            |coding| self.usable_sidecar(relative, coding, &facts),
            || {
                let file = File::from(fd.try_clone().ok()?);
                let plain = self.file_metadata(&facts, relative, true);
                Some((compressor::Source::File(file), plain))
            },
        );
        match picked {
            compression::Pick::Sidecar((fd, facts)) => Chosen::File(fd, facts),
            compression::Pick::Variant(variant) => Chosen::Variant(variant),
            compression::Pick::Identity => Chosen::File(fd, facts),
        }
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
    /// navigation to `spa_path` (the path, if the SPA may answer it), else
    /// a 404 whose body is `404.html` if the root has one.
    fn not_found(
        &self,
        head: &RequestHead,
        asked: &Asked<'_>,
        spa_path: Option<&RelativePath>,
    ) -> (Response, Served) {
        let mut vary_accept = false;
        if let (Some(spa), Some(relative)) = (&self.options.spa, spa_path) {
            let last_segment = match relative.has_trailing_slash() {
                true => "",
                false => relative.segments().last().unwrap_or_default(),
            };
            // Whether the answer depended on Accept, for caches.
            vary_accept = navigation::has_extension(last_segment);
            if navigation::is_navigation(last_segment, head.field_lines("Accept").weighted()) {
                if let Ok((fd, facts)) = self.open_and_stat(spa) {
                    if facts.file_type == FileType::RegularFile {
                        let response = self.serve_file(asked, fd, facts, spa);
                        return (with_vary_accept(response, vary_accept), Served::Other);
                    }
                }
            }
        }
        let (response, served) = match self.open_and_stat(NOT_FOUND_PAGE) {
            Ok((fd, facts)) if facts.file_type == FileType::RegularFile => {
                (not_found_page(fd, &facts), Served::Other)
            }
            _ => (error_response(404), Served::Missing),
        };
        match vary_accept {
            true => (with_vary_accept(response, true), Served::Other),
            false => (response, served),
        }
    }

    /// The representation of the regular file `fd` described by `facts`,
    /// named `name` (its path under the root, or the index name); `None`
    /// if its size is not a size.
    fn file_representation(
        &self,
        fd: OwnedFd,
        facts: &FileFacts,
        name: &str,
        compressible: bool,
    ) -> Option<Representation> {
        let len = u64::try_from(facts.size).ok()?;
        Some(Representation {
            metadata: self.file_metadata(facts, name, compressible),
            content: Content::File {
                file: File::from(fd),
                offset: 0,
                len,
            },
        })
    }

    /// What describes the file `facts`, named `name`, whether it is the
    /// file itself or a copy of it in memory (the hot cache's): the fields
    /// of a whole 200 and the validators. For a `compressible` type the
    /// fields end with `Content-Encoding` (a sidecar) and `Vary`.
    fn file_metadata(&self, facts: &FileFacts, name: &str, compressible: bool) -> Metadata {
        let media_type = mime::media_type_for(name);
        let mut fields: representation::Fields = Vec::with_capacity(8);
        fields.push(("Content-Type", Cow::Borrowed(media_type)));
        // Browsers must not sniff a type other than the one we chose.
        fields.push(("X-Content-Type-Options", Cow::Borrowed("nosniff")));
        let digest = self.compression.content_digest(&facts.version);
        let etag = match self.options.etag {
            EtagPolicy::Mtime => Some(entity_tag(facts)),
            EtagPolicy::Content => digest.as_ref().map(content_hash::content_tag),
        };
        if let Some(etag) = etag {
            fields.push(("ETag", Cow::Owned(etag)));
        }
        let last_modified = u64::try_from(facts.mtime_secs).ok();
        if let Some(secs) = last_modified {
            let date = crate::proto::date::format_http_date(secs);
            let date = String::from_utf8_lossy(&date).into_owned();
            fields.push(("Last-Modified", Cow::Owned(date)));
        }
        let file_name = name.rsplit('/').next().unwrap_or(name);
        if let Some(cache_control) = self.options.cache.cache_control(file_name) {
            fields.push(("Cache-Control", Cow::Owned(cache_control)));
        }
        fields.push(("Accept-Ranges", Cow::Borrowed("bytes")));
        if let Some(coding) = facts.coding {
            fields.push(("Content-Encoding", Cow::Borrowed(coding.token())));
        }
        if compressible {
            fields.push(("Vary", Cow::Borrowed("Accept-Encoding")));
        }
        Metadata {
            fields,
            last_modified,
            media_type,
            accepts_ranges: true,
            varies_on_coding: compressible,
            repr_digest: digest.as_ref().map(content_hash::repr_digest),
        }
    }
}

/// `response` with `Vary: Accept` added when `vary` (an answer chosen by
/// the `--spa` navigation test).
fn with_vary_accept(response: Response, vary: bool) -> Response {
    match vary {
        true => response.with_field("Vary", "Accept"),
        false => response,
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
    use open::{open_by_walking, open_following};
    use rustix::fd::AsFd;
    use rustix::fs::Mode;
    use rustix::io::Errno;
    use std::os::unix::fs::symlink;
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
        representation::tests::body_bytes(&response.body)
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

    /// A [`Target`] in words, for tables.
    fn describe(target: Target<'_>) -> String {
        match target {
            Target::File { path, .. } => format!("file {path}"),
            Target::DirectoryWithoutSlash => "redirect".to_owned(),
            Target::Listing(_) => "listing".to_owned(),
            Target::Missing { spa_allowed: true } => "miss".to_owned(),
            Target::Missing { spa_allowed: false } => "miss, not for the SPA".to_owned(),
            Target::Refused(response) => format!("refused {}", response.status),
        }
    }

    #[test]
    fn issue_12_a_path_is_resolved_once_into_a_target() {
        let (dir, files) = fixture();
        std::fs::write(root_path(&dir).join(".env"), b"KEY=1").expect("file");
        let listing = with_options(
            &dir,
            StaticOptions {
                listing: true,
                ..StaticOptions::default()
            },
        );
        // (target, what it names, what it names with --listing)
        let cases = [
            ("/hello.txt", "file hello.txt", "file hello.txt"),
            ("/", "file index.html", "file index.html"),
            ("/docs/", "file docs/index.html", "file docs/index.html"),
            ("/docs", "redirect", "redirect"),
            ("/empty/", "miss", "listing"),
            ("/hello.txt/", "miss", "miss"),
            ("/missing", "miss", "miss"),
            ("/.env", "miss, not for the SPA", "miss, not for the SPA"),
            ("/../x", "miss, not for the SPA", "miss, not for the SPA"),
            ("/%zz", "refused 400", "refused 400"),
        ];
        for (target, want, want_listing) in cases {
            let resolved = resolve_path(target.as_bytes());
            assert_eq!(describe(files.locate(resolved.as_ref())), want, "{target}");
            let listed = describe(listing.locate(resolved.as_ref()));
            assert_eq!(listed, want_listing, "{target} --listing");
        }
    }

    #[test]
    fn issue_12_what_answered_tells_the_hot_cache_what_it_may_keep() {
        let (dir, _files) = fixture();
        let spa = with_options(
            &dir,
            StaticOptions {
                spa: Some("index.html".to_owned()),
                listing: true,
                ..StaticOptions::default()
            },
        );
        let served = |files: &StaticFiles, target: &str| {
            let head = RequestHead::for_test("GET", target, &[("Accept", "text/html")]);
            let resolved = resolve_path(head.path());
            files
                .serve_resolved(&head, &Asked::of(&head), resolved.as_ref())
                .1
        };
        // (target, what answered), with --spa and --listing
        let cases = [
            ("/hello.txt", Served::File { source_len: 6 }),
            ("/docs/", Served::File { source_len: 13 }),
            ("/docs", Served::Other),
            ("/empty/", Served::Other),
            ("/users/42", Served::Other),
            ("/missing.css", Served::Other),
            ("/../x", Served::Missing),
            ("/%zz", Served::Other),
        ];
        for (target, want) in cases {
            assert_eq!(served(&spa, target), want, "{target}");
        }
        // Without the SPA a miss is the fixed 404, until a 404.html exists.
        let (dir, files) = fixture();
        assert_eq!(served(&files, "/missing.css"), Served::Missing);
        std::fs::write(root_path(&dir).join(NOT_FOUND_PAGE), b"gone").expect("file");
        assert_eq!(served(&files, "/missing.css"), Served::Other);
    }
}
