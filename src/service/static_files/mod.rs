//! Static files under the document root: GET and HEAD.
//!
//! This module is the file-system glue; the decisions that need no file
//! system live in [`path`] (URL path → safe relative path) and [`mime`]
//! (extension → media type).
//!
//! Containment is enforced twice. [`path::resolve_path`] refuses `..`,
//! backslashes and dotfiles before the file system is touched; then every
//! file is opened relative to a directory fd held on the root, never through
//! a path string joined onto the root:
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
//! **Symlink policy.** With `openat2` ("within root"): a symlink is followed
//! only if everything it resolves to stays inside the root; one that points
//! outside (absolute, or `..` past the root) is answered 404, and `/proc`
//! style magic links are refused. In the walking fallback every symlink is
//! refused (404), because following one safely needs what `openat2` gives.
//!
//! **Dotfiles.** Any path segment starting with `.` is 404, except
//! `.well-known` (RFC 8615); see [`path`].
//!
//! **Statuses.** 200 for a regular file; 301 to add the trailing slash to a
//! directory; a directory with a trailing slash serves its `index.html`, or 404
//! (listings are a later feature); FIFOs, sockets and devices are 404 (opened
//! with `O_NONBLOCK` so a FIFO cannot stall the open); missing, symlink
//! escapes and loops are 404; permission denied is 403; a malformed path is
//! 400; anything else is 500. Bodies are fixed short texts: no OS message or
//! path reaches the client (as Go's `toHTTPError`).
//!
//! Each request costs one `open` and one `fstat` on the same fd (two of each
//! for a directory index), so there is no check-then-open race.

pub mod hot_cache;
pub mod mime;
pub mod path;

use super::{Body, Response};
use crate::proto::RequestHead;
use path::{resolve_path, RelativePath};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use std::borrow::Cow;
use std::fs::File;
use std::path::PathBuf;

/// The name served for a directory requested with a trailing slash.
const INDEX_FILE: &str = "index.html";

/// How many times an `openat2` that failed with `EAGAIN` or `EINTR` is
/// retried: the kernel answers `EAGAIN` when a concurrent rename made it
/// unsure a `..` in a symlink stayed beneath the root, and says to retry.
const OPEN_ATTEMPTS: usize = 3;

/// Serves files from one root directory.
pub struct StaticFiles {
    /// The root directory, held open so every lookup is relative to it and a
    /// later rename of the root's path cannot redirect us elsewhere.
    root: OwnedFd,
    resolver: Resolver,
    /// Small hot files kept in memory; see [`hot_cache`].
    hot_cache: hot_cache::HotCache,
}

/// How paths under the root are resolved; chosen once at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resolver {
    /// `openat2` with `RESOLVE_BENEATH`: the kernel enforces containment.
    Beneath,
    /// One `openat(O_NOFOLLOW)` per component: symlinks are refused.
    Walk,
}

impl StaticFiles {
    /// Open `root`, which must be an existing directory, and keep it open.
    pub fn new(root: PathBuf) -> std::io::Result<StaticFiles> {
        // O_PATH: we only ever look up names relative to this fd, which needs
        // search permission, not read permission.
        let root = rustix::fs::open(
            &root,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let probe = rustix::fs::openat2(
            &root,
            ".",
            OFlags::PATH | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
        );
        let resolver = match probe {
            Ok(_) => Resolver::Beneath,
            // Old kernels answer ENOSYS; some container seccomp profiles
            // answer EPERM for syscalls they do not know.
            Err(Errno::NOSYS) | Err(Errno::PERM) => Resolver::Walk,
            Err(other) => return Err(other.into()),
        };
        Ok(StaticFiles {
            root,
            resolver,
            hot_cache: hot_cache::HotCache::new(),
        })
    }

    /// Answer a GET or HEAD for `head.path()` (the driver drops the body of
    /// a HEAD response, so both get the same answer).
    pub fn serve(&self, head: &RequestHead) -> Response {
        let raw_path = head.path();
        let relative = match resolve_path(raw_path) {
            Ok(relative) => relative,
            Err(error) => return error_response(error.status()),
        };
        let (fd, stat) = match self.open_and_stat(relative.as_str()) {
            Ok(opened) => opened,
            Err(errno) => return open_error_response(errno),
        };
        match stat.file_type {
            FileType::RegularFile => file_response(fd, &stat, relative.as_str()),
            FileType::Directory if !relative.has_trailing_slash() => {
                redirect_to_directory(raw_path, head.query())
            }
            FileType::Directory => self.serve_index(&relative),
            // FIFOs, sockets and devices are not documents.
            _ => error_response(404),
        }
    }

    /// Serve the index file of a directory requested with a trailing slash.
    fn serve_index(&self, directory: &RelativePath) -> Response {
        let index_path = if directory.is_root() {
            INDEX_FILE.to_owned()
        } else {
            format!("{}/{INDEX_FILE}", directory.as_str())
        };
        match self.open_and_stat(&index_path) {
            Ok((fd, stat)) if stat.file_type == FileType::RegularFile => {
                file_response(fd, &stat, INDEX_FILE)
            }
            // A directory (or FIFO...) named index.html is not an index.
            Ok(_) => error_response(404),
            Err(errno) => open_error_response(errno),
        }
    }

    /// Open `relative` (from a [`RelativePath`]) beneath the root for
    /// reading, and fstat the same fd.
    fn open_and_stat(&self, relative: &str) -> Result<(OwnedFd, FileFacts), Errno> {
        let fd = match self.resolver {
            Resolver::Beneath => open_beneath(self.root.as_fd(), relative)?,
            Resolver::Walk => open_by_walking(self.root.as_fd(), relative)?,
        };
        let stat = FileFacts::from_stat(&rustix::fs::fstat(&fd)?);
        Ok((fd, stat))
    }
}

/// What we use from `fstat`, in fixed types: the `Stat` field types differ
/// between architectures (`c_long` here, `i64` there).
struct FileFacts {
    file_type: FileType,
    size: i64,
    mtime_secs: i64,
    mtime_nanos: u64,
    inode: u64,
}

impl FileFacts {
    // The conversions are no-ops on x86_64 but not on every target.
    #[allow(clippy::useless_conversion)]
    fn from_stat(stat: &rustix::fs::Stat) -> FileFacts {
        FileFacts {
            file_type: FileType::from_raw_mode(stat.st_mode),
            size: i64::from(stat.st_size),
            mtime_secs: i64::from(stat.st_mtime),
            mtime_nanos: u64::from(stat.st_mtime_nsec),
            inode: u64::from(stat.st_ino),
        }
    }
}

/// The status and fixed text for an error from opening a file. Nothing of
/// the OS message reaches the client.
fn status_for_open_error(errno: Errno) -> (u16, &'static str) {
    match errno {
        // Missing, or a path through something that is not a directory.
        Errno::NOENT | Errno::NOTDIR | Errno::NAMETOOLONG => (404, "Not Found"),
        // A symlink that leaves the root (EXDEV), a loop or a symlink in the
        // walking fallback (ELOOP), a socket (ENXIO): all "not here".
        Errno::XDEV | Errno::LOOP | Errno::NXIO => (404, "Not Found"),
        Errno::ACCESS | Errno::PERM => (403, "Forbidden"),
        _ => (500, "Internal Server Error"),
    }
}

/// The flags for the final component: read-only; non-blocking so opening a
/// FIFO with no writer returns at once instead of stalling the request (it
/// is then refused as not a regular file); no controlling terminal even if a
/// tty device is somehow under the root. O_NONBLOCK has no effect on reads of
/// regular files.
fn final_open_flags() -> OFlags {
    OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK
}

/// Open with the kernel enforcing that resolution stays beneath `root`.
fn open_beneath(root: BorrowedFd<'_>, relative: &str) -> Result<OwnedFd, Errno> {
    let mut attempt = 1;
    loop {
        let result = rustix::fs::openat2(
            root,
            relative,
            final_open_flags(),
            Mode::empty(),
            ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
        );
        match result {
            Err(Errno::AGAIN) | Err(Errno::INTR) if attempt < OPEN_ATTEMPTS => attempt += 1,
            other => return other,
        }
    }
}

/// Open by walking one component at a time, refusing every symlink: the
/// fallback where `openat2` is unavailable.
fn open_by_walking(root: BorrowedFd<'_>, relative: &str) -> Result<OwnedFd, Errno> {
    let mut components = relative.split('/').peekable();
    let mut directory: Option<OwnedFd> = None;
    while let Some(component) = components.next() {
        // RelativePath never yields `..`; refuse it anyway rather than let
        // a future caller walk out of the root.
        if component == ".." {
            return Err(Errno::XDEV);
        }
        let at = directory.as_ref().map_or(root, |fd| fd.as_fd());
        if components.peek().is_none() {
            return rustix::fs::openat(
                at,
                component,
                final_open_flags() | OFlags::NOFOLLOW,
                Mode::empty(),
            );
        }
        // O_DIRECTORY with O_NOFOLLOW: a symlink here fails with ENOTDIR.
        directory = Some(rustix::fs::openat(
            at,
            component,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )?);
    }
    // `relative` is never empty (the root is "."), so the loop returned.
    Err(Errno::NOENT)
}

/// 200 with the whole file.
fn file_response(fd: OwnedFd, stat: &FileFacts, name_for_type: &str) -> Response {
    let Ok(len) = u64::try_from(stat.size) else {
        return error_response(500);
    };
    let mut fields: Vec<(&'static str, Cow<'static, str>)> = Vec::with_capacity(4);
    fields.push((
        "Content-Type",
        Cow::Borrowed(mime::media_type_for(name_for_type)),
    ));
    // Browsers must not sniff a type other than the one we chose.
    fields.push(("X-Content-Type-Options", Cow::Borrowed("nosniff")));
    fields.push(("ETag", Cow::Owned(entity_tag(stat))));
    if let Some(last_modified) = last_modified(stat) {
        fields.push(("Last-Modified", Cow::Owned(last_modified)));
    }
    Response {
        status: 200,
        fields,
        body: Body::File {
            file: File::from(fd),
            offset: 0,
            len,
        },
    }
}

/// A strong entity tag (RFC 9110 §8.8.3) from metadata we already have from
/// fstat: inode, then the mtime in nanoseconds (16 hex digits), a dash, and
/// the size. A rewrite changes the mtime or size; a replacement by rename
/// changes the inode. No hashing of contents, so it costs nothing.
fn entity_tag(stat: &FileFacts) -> String {
    let inode = stat.inode;
    let mtime_nanos = (stat.mtime_secs as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(stat.mtime_nanos);
    let size = stat.size as u64;
    format!("\"{inode:x}{mtime_nanos:016x}-{size:x}\"")
}

/// The `Last-Modified` value (IMF-fixdate, RFC 9110 §8.8.2), or none for a
/// file dated before 1970.
fn last_modified(stat: &FileFacts) -> Option<String> {
    let secs = u64::try_from(stat.mtime_secs).ok()?;
    let date = crate::proto::date::format_http_date(secs);
    Some(String::from_utf8_lossy(&date).into_owned())
}

/// 301 to the same path with a trailing slash, keeping the query, so
/// relative links inside the directory's index resolve against it.
fn redirect_to_directory(raw_path: &[u8], query: Option<&[u8]>) -> Response {
    Response::text(301, "Moved Permanently")
        .with_field("Location", directory_location(raw_path, query))
}

/// The `Location` for a directory redirect: the raw path with one leading
/// slash (so `//evil.example` can never become a scheme-relative URL to
/// another host), a trailing slash, and the query if any. Bytes outside
/// visible ASCII are percent-encoded so the value is always a valid field
/// value (RFC 9110 §5.5), whatever the parser let through.
fn directory_location(raw_path: &[u8], query: Option<&[u8]>) -> String {
    let trimmed = &raw_path[raw_path.iter().take_while(|&&b| b == b'/').count()..];
    let mut location = String::with_capacity(raw_path.len() + 2);
    location.push('/');
    push_visible(&mut location, trimmed);
    location.push('/');
    if let Some(query) = query {
        location.push('?');
        push_visible(&mut location, query);
    }
    location
}

fn push_visible(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in bytes {
        if byte.is_ascii_graphic() {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
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

fn open_error_response(errno: Errno) -> Response {
    let (status, text) = status_for_open_error(errno);
    Response::text(status, text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
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
        let files = StaticFiles::new(root).expect("open root");
        (dir, files)
    }

    fn get(files: &StaticFiles, target: &str) -> Response {
        files.serve(&RequestHead::for_test("GET", target, &[]))
    }

    fn body_bytes(response: Response) -> Vec<u8> {
        match response.body {
            Body::Empty => Vec::new(),
            Body::Bytes(bytes) => bytes.to_vec(),
            Body::File {
                mut file,
                offset,
                len,
            } => {
                assert_eq!(offset, 0);
                let mut out = Vec::new();
                file.read_to_end(&mut out).expect("read body file");
                assert_eq!(out.len() as u64, len);
                out
            }
        }
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
        let (_dir, files) = fixture();
        let cases = [
            ("/docs", "/docs/"),
            ("/docs?lang=en&x=1", "/docs/?lang=en&x=1"),
            ("/empty", "/empty/"),
            // Percent-encoded names keep their raw spelling.
            ("/%64ocs", "/%64ocs/"),
            // Leading slashes collapse, so no scheme-relative URL to another
            // host (`//docs/`) can come out.
            ("//docs", "/docs/"),
            ("///docs?q", "/docs/?q"),
        ];
        for (target, location) in cases {
            let response = get(&files, target);
            assert_eq!(response.status, 301, "{target}");
            assert_eq!(response.field("Location"), Some(location), "{target}");
        }
    }

    #[test]
    fn location_never_names_another_host_nor_breaks_the_field() {
        // (raw path, query, Location)
        type Case<'a> = (&'a [u8], Option<&'a [u8]>, &'a str);
        let cases: &[Case] = &[
            (b"//evil.example", None, "/evil.example/"),
            (b"////evil.example", Some(b"a=b"), "/evil.example/?a=b"),
            (b"/a b", None, "/a%20b/"),
            (b"/a\r\nSet-Cookie: x", None, "/a%0D%0ASet-Cookie:%20x/"),
            (b"/caf\xc3\xa9", Some(b"q=\xff"), "/caf%C3%A9/?q=%FF"),
        ];
        for (path, query, want) in cases {
            assert_eq!(directory_location(path, *query), *want);
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
        let root = StaticFiles::new(root_path(&dir)).expect("root").root;
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
            root: files.root,
            resolver: Resolver::Walk,
            hot_cache: hot_cache::HotCache::new(),
        };
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
    fn open_errors_map_to_fixed_statuses() {
        // Tests run as root, which ignores permission bits, so 403 is checked
        // here rather than with a chmod-ed file.
        let cases = [
            (Errno::NOENT, 404, "Not Found"),
            (Errno::NOTDIR, 404, "Not Found"),
            (Errno::NAMETOOLONG, 404, "Not Found"),
            (Errno::XDEV, 404, "Not Found"),
            (Errno::LOOP, 404, "Not Found"),
            (Errno::NXIO, 404, "Not Found"),
            (Errno::ACCESS, 403, "Forbidden"),
            (Errno::PERM, 403, "Forbidden"),
            (Errno::IO, 500, "Internal Server Error"),
            (Errno::MFILE, 500, "Internal Server Error"),
        ];
        for (errno, status, text) in cases {
            assert_eq!(status_for_open_error(errno), (status, text), "{errno:?}");
        }
    }

    #[test]
    fn missing_root_is_an_error() {
        assert!(StaticFiles::new(Path::new("/nonexistent/root/for/test").to_path_buf()).is_err());
        let file = tempfile::NamedTempFile::new().expect("temp file");
        assert!(StaticFiles::new(file.path().to_path_buf()).is_err());
    }
}
