//! A bounded in-memory cache of small, hot files with their 200 responses
//! (fields and bytes) built once, so a hit costs no system call at all:
//! no `openat2`, `fstat`, `pread` or `close`.
//!
//! **Freshness.** An entry is trusted for at most [`REVALIDATE_AFTER`] since
//! it was last checked; after that, the next hit re-stats the file by path
//! (one `statx`) and compares device, inode, size, mtime and ctime with what
//! was cached. Any difference drops the entry and the request takes the
//! normal path, so an edited, replaced or removed file is served fresh within
//! a second (lighttpd's stat cache makes the same promise).
//!
//! **Never partial.** A file is cached only if its metadata is identical
//! before and after reading all of it, and only if its mtime and ctime are at
//! least [`SETTLED_AFTER`] in the past: a timestamp is coarse (a clock tick),
//! so a write in the same tick as the last one could otherwise change the
//! bytes without changing the metadata we compare ("racily clean", as git
//! calls it). A file still being written is therefore simply not cached.
//!
//! **Missing files.** A 404 for a path that does not exist (`statx` says
//! `ENOENT`) is kept too, as an entry whose identity is "absent", with the
//! same one-second revalidation: a file created under that path (or a
//! `404.html` created at the root) is served within a second. This spares
//! the `openat2` path walk that a stream of requests for a missing file
//! would otherwise repeat.
//!
//! **Scope.** Only plain requests use the cache: no `Range`, no conditional
//! (`If-*`) fields and no `Accept-Encoding`, so range, conditional and
//! content-coding answers always come from the normal path. Only whole-file
//! 200 responses of at most [`MAX_FILE_BYTES`] are stored; the cache holds
//! at most [`MAX_ENTRIES`] files and [`MAX_TOTAL_BYTES`] of them, evicting an
//! arbitrary entry of the same shard when full (cheap, and good enough for a
//! working set that fits; one that does not fit still works, just slower).

use super::path::resolve_path;
use super::{StaticFiles, NOT_FOUND_PAGE};
use crate::proto::RequestHead;
use crate::service::{Body, Response};
use bytes::Bytes;
use rustix::fd::AsFd;
use rustix::fd::BorrowedFd;
use rustix::fs::{AtFlags, StatxFlags};
use std::collections::HashMap;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long an entry is served without re-checking its file.
pub const REVALIDATE_AFTER: Duration = Duration::from_secs(1);

/// How old a file's mtime and ctime must be before it is cached.
pub const SETTLED_AFTER: Duration = Duration::from_secs(2);

/// The largest file cached, in bytes (as large as the driver copies behind
/// a head into one write anyway).
pub const MAX_FILE_BYTES: u64 = 32 * 1024;

/// The most files cached.
pub const MAX_ENTRIES: usize = 16 * 1024;

/// The most file bytes cached.
pub const MAX_TOTAL_BYTES: usize = 64 * 1024 * 1024;

/// Independent locks, so worker threads rarely wait for each other.
const SHARDS: usize = 16;

/// The file metadata an entry is valid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    device: (u32, u32),
    inode: u64,
    size: u64,
    mtime: (i64, u32),
    ctime: (i64, u32),
}

impl Identity {
    fn from_statx(stat: &rustix::fs::Statx) -> Identity {
        Identity {
            device: (stat.stx_dev_major, stat.stx_dev_minor),
            inode: stat.stx_ino,
            size: stat.stx_size,
            mtime: (stat.stx_mtime.tv_sec, stat.stx_mtime.tv_nsec),
            ctime: (stat.stx_ctime.tv_sec, stat.stx_ctime.tv_nsec),
        }
    }

    /// Whether no write can be hiding behind an unchanged timestamp.
    fn is_settled(&self) -> bool {
        let Ok(now) = SystemTime::now().duration_since(UNIX_EPOCH) else {
            return false;
        };
        let settled_before = now.as_secs() as i64 - SETTLED_AFTER.as_secs() as i64;
        self.mtime.0 < settled_before && self.ctime.0 < settled_before
    }
}

/// What `statx` is asked for: type, inode, size and both timestamps.
fn statx_mask() -> StatxFlags {
    StatxFlags::TYPE | StatxFlags::INO | StatxFlags::SIZE | StatxFlags::MTIME | StatxFlags::CTIME
}

struct Entry {
    /// Whether the request path ended with `/` (a directory's index).
    trailing_slash: bool,
    /// The path of the file itself, relative to the root, for revalidation.
    file_path: Box<str>,
    /// What `statx` of `file_path` must say: this file, or (for a 404)
    /// that nothing is there.
    identity: Option<Identity>,
    status: u16,
    fields: Vec<(&'static str, crate::service::response::FieldValue)>,
    bytes: Bytes,
    /// When the file was last seen unchanged, in nanoseconds since [`epoch`];
    /// 0 means "check before serving".
    checked_at: AtomicU64,
}

impl Entry {
    fn response(&self) -> Response {
        Response {
            status: self.status,
            fields: self.fields.clone(),
            body: Body::Bytes(self.bytes.clone()),
        }
    }
}

#[derive(Default)]
struct Shard {
    entries: HashMap<Box<str>, Arc<Entry>>,
    bytes: usize,
}

/// The cache; one per [`super::StaticFiles`], shared by all workers.
pub struct HotCache {
    shards: Box<[Mutex<Shard>]>,
}

impl Default for HotCache {
    fn default() -> Self {
        HotCache::new()
    }
}

impl StaticFiles {
    /// [`StaticFiles::serve`] with the hot-file cache in front of it, for
    /// plain requests; everything else goes straight to `serve`.
    pub fn serve_cached(&self, head: &RequestHead) -> Response {
        if !is_plain_request(head) {
            return self.serve(head);
        }
        let Ok(relative) = resolve_path(head.path()) else {
            return self.serve(head);
        };
        let (key, slash) = (relative.as_str(), relative.has_trailing_slash());
        let root = self.root.as_fd();
        if let Some(hit) = self.hot_cache.lookup(root, key, slash) {
            return hit;
        }
        let index_names = &self.options.index_names;
        self.hot_cache
            .offer(root, key, slash, index_names, self.serve(head))
    }
}

/// Whether `head` asks for nothing but the current whole representation, so
/// that a cached 200 is the answer the normal path would give.
pub fn is_plain_request(head: &RequestHead) -> bool {
    !head.fields().any(|(name, _)| {
        name.eq_ignore_ascii_case(b"range")
            || name.eq_ignore_ascii_case(b"accept-encoding")
            || (name.len() > 3 && name[..3].eq_ignore_ascii_case(b"if-"))
    })
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Never 0, which stands for "not checked yet".
fn nanos_since_epoch() -> u64 {
    u64::try_from(epoch().elapsed().as_nanos())
        .unwrap_or(u64::MAX)
        .max(1)
}

impl HotCache {
    pub fn new() -> HotCache {
        HotCache {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    fn shard(&self, key: &str) -> &Mutex<Shard> {
        // FNV-1a: short keys, no need for a keyed hash to pick a shard.
        let mut hash: u32 = 0x811c_9dc5;
        for &byte in key.as_bytes() {
            hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
        }
        &self.shards[hash as usize % SHARDS]
    }

    /// The cached response for `key` (a resolved relative path), if there is
    /// one still known to match the file under `root`.
    pub fn lookup(
        &self,
        root: BorrowedFd<'_>,
        key: &str,
        trailing_slash: bool,
    ) -> Option<Response> {
        let shard = self.shard(key);
        let entry = {
            let shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(shard.entries.get(key)?)
        };
        if entry.trailing_slash != trailing_slash {
            return None;
        }
        let now = nanos_since_epoch();
        let checked_at = entry.checked_at.load(Ordering::Relaxed);
        if checked_at != 0 && now.saturating_sub(checked_at) < REVALIDATE_AFTER.as_nanos() as u64 {
            return Some(entry.response());
        }
        if identity_at(root, &entry.file_path) == Ok(entry.identity)
            && still_plain_404(root, &entry)
        {
            entry.checked_at.store(now, Ordering::Relaxed);
            return Some(entry.response());
        }
        // Changed, replaced or gone: forget it; the normal path answers.
        let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
        if shard
            .entries
            .get(key)
            .is_some_and(|current| Arc::ptr_eq(current, &entry))
        {
            shard.entries.remove(key);
            shard.bytes -= entry.bytes.len();
        }
        None
    }

    /// Offer the normal path's `response` to `key` for caching. Returns the
    /// response to send: the same one, or (once cached) the same fields with
    /// the file's bytes in memory.
    /// `index_names` are the `--index` names a directory request may have
    /// been answered with.
    pub fn offer(
        &self,
        root: BorrowedFd<'_>,
        key: &str,
        trailing_slash: bool,
        index_names: &[String],
        response: Response,
    ) -> Response {
        // A response chosen by a request field other than Accept-Encoding
        // (which plain requests lack), such as the `--spa` decision on
        // Accept, cannot be reused for requests keyed by path alone.
        if varies_beyond_coding(&response) {
            return response;
        }
        if response.status == 404 {
            return self.offer_missing(root, key, trailing_slash, response);
        }
        let Body::File { file, offset, len } = &response.body else {
            return response;
        };
        if response.status != 200 || *offset != 0 || *len > MAX_FILE_BYTES {
            return response;
        }
        // The file that was opened: the path itself, or its directory's
        // first index name (read_settled checks the path names that file).
        // Only the first: had a later name answered, an earlier one created
        // afterwards would take over, and revalidating one file cannot see it.
        let Some(file_path) = cached_file_path(key, trailing_slash, index_names) else {
            return response;
        };
        let Some((identity, bytes)) = read_settled(root, &file_path, file, *len) else {
            return response;
        };
        let file_path = file_path.as_str();
        let entry = Arc::new(Entry {
            trailing_slash,
            file_path: file_path.into(),
            identity: Some(identity),
            status: 200,
            fields: response.fields.clone(),
            bytes,
            checked_at: AtomicU64::new(nanos_since_epoch()),
        });
        let answer = entry.response();
        self.insert(key, entry);
        answer
    }

    /// Keep a 404 whose path is absent; its body is a fixed short text.
    fn offer_missing(
        &self,
        root: BorrowedFd<'_>,
        key: &str,
        trailing_slash: bool,
        response: Response,
    ) -> Response {
        let Body::Bytes(bytes) = &response.body else {
            return response;
        };
        if bytes.len() as u64 > MAX_FILE_BYTES
            || identity_at(root, key) != Ok(None)
            || identity_at(root, NOT_FOUND_PAGE) != Ok(None)
        {
            return response;
        }
        let entry = Arc::new(Entry {
            trailing_slash,
            file_path: key.into(),
            identity: None,
            status: 404,
            fields: response.fields.clone(),
            bytes: bytes.clone(),
            checked_at: AtomicU64::new(nanos_since_epoch()),
        });
        self.insert(key, entry);
        response
    }

    fn insert(&self, key: &str, entry: Arc<Entry>) {
        let mut shard = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        let size = entry.bytes.len();
        if let Some(old) = shard.entries.remove(key) {
            shard.bytes -= old.bytes.len();
        }
        while !shard.entries.is_empty()
            && (shard.entries.len() >= MAX_ENTRIES / SHARDS
                || shard.bytes + size > MAX_TOTAL_BYTES / SHARDS)
        {
            let victim = shard
                .entries
                .keys()
                .next()
                .cloned()
                .expect("the shard is not empty");
            if let Some(old) = shard.entries.remove(&victim) {
                shard.bytes -= old.bytes.len();
            }
        }
        shard.bytes += size;
        shard.entries.insert(key.into(), entry);
    }
}

/// The file a cached answer for `key` must stay tied to: the path itself,
/// or for a directory request its first index name only (see `offer`).
fn cached_file_path(key: &str, trailing_slash: bool, index_names: &[String]) -> Option<String> {
    match (trailing_slash, index_names.first()) {
        (false, _) => Some(key.to_owned()),
        (true, Some(name)) if key == "." => Some(name.clone()),
        (true, Some(name)) => Some(format!("{key}/{name}")),
        (true, None) => None,
    }
}

/// For a cached 404 (an absent path): whether its fixed-text body is still
/// the answer, i.e. no `404.html` has appeared at the root since.
fn still_plain_404(root: BorrowedFd<'_>, entry: &Entry) -> bool {
    entry.identity.is_some() || identity_at(root, NOT_FOUND_PAGE) == Ok(None)
}

/// Whether `response` carries a `Vary` naming a field other than
/// `Accept-Encoding`.
fn varies_beyond_coding(response: &Response) -> bool {
    response
        .fields
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("vary"))
        .flat_map(|(_, value)| value.split(','))
        .map(str::trim)
        .any(|item| !item.is_empty() && !item.eq_ignore_ascii_case("accept-encoding"))
}

/// What is at `path` under `root` now: a file's identity, `None` when
/// nothing is (`ENOENT`), or another error (which matches no entry).
fn identity_at(root: BorrowedFd<'_>, path: &str) -> Result<Option<Identity>, rustix::io::Errno> {
    match rustix::fs::statx(root, path, AtFlags::empty(), statx_mask()) {
        Ok(stat) => Ok(Some(Identity::from_statx(&stat))),
        Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(other) => Err(other),
    }
}

/// Read all `len` bytes of `file`, which was opened at `file_path` under
/// `root`, if it is settled and provably unchanged while read.
fn read_settled(
    root: BorrowedFd<'_>,
    file_path: &str,
    file: &std::fs::File,
    len: u64,
) -> Option<(Identity, Bytes)> {
    let before =
        Identity::from_statx(&rustix::fs::statx(file, "", AtFlags::EMPTY_PATH, statx_mask()).ok()?);
    if before.size != len || !before.is_settled() {
        return None;
    }
    // The path must still name this very file, or revalidating by path
    // would compare against some other file.
    let by_path = Identity::from_statx(
        &rustix::fs::statx(root, file_path, AtFlags::empty(), statx_mask()).ok()?,
    );
    if by_path != before {
        return None;
    }
    let mut bytes = vec![0u8; usize::try_from(len).ok()?];
    file.read_exact_at(&mut bytes, 0).ok()?;
    let after =
        Identity::from_statx(&rustix::fs::statx(file, "", AtFlags::EMPTY_PATH, statx_mask()).ok()?);
    (after == before).then(|| (before, Bytes::from(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::fd::AsFd;
    use std::fs::File;

    fn root_of(dir: &std::path::Path) -> rustix::fd::OwnedFd {
        rustix::fs::open(
            dir,
            rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .unwrap()
    }

    fn file_response(path: &std::path::Path) -> Response {
        let file = File::open(path).unwrap();
        let len = file.metadata().unwrap().len();
        Response {
            status: 200,
            fields: vec![("Content-Type", "text/plain".into())],
            body: Body::File {
                file,
                offset: 0,
                len,
            },
        }
    }

    /// Set the mtime into the past (the ctime cannot be: it becomes now).
    fn age(path: &std::path::Path) {
        let old = SystemTime::now() - Duration::from_secs(60);
        File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }

    fn body_of(response: &Response) -> &[u8] {
        match &response.body {
            Body::Bytes(bytes) => bytes,
            other => panic!("expected bytes, got {other:?}"),
        }
    }

    #[test]
    fn a_file_touched_just_now_is_not_cached() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, b"fresh").unwrap();
        let root = root_of(dir.path());
        let cache = HotCache::new();
        let answer = cache.offer(root.as_fd(), "a.txt", false, &[], file_response(&path));
        assert!(matches!(answer.body, Body::File { .. }));
        assert!(cache.lookup(root.as_fd(), "a.txt", false).is_none());
    }

    #[test]
    fn plain_request_test() {
        let plain = RequestHead::for_test("GET", "/a", &[("Host", "x"), ("Accept", "*/*")]);
        assert!(is_plain_request(&plain));
        for field in [
            "Range",
            "If-None-Match",
            "if-modified-since",
            "Accept-Encoding",
        ] {
            let head = RequestHead::for_test("GET", "/a", &[("Host", "x"), (field, "v")]);
            assert!(!is_plain_request(&head), "{field}");
        }
    }

    #[test]
    fn settled_file_is_served_from_memory_and_dropped_when_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, b"version one").unwrap();
        // ctime cannot be set back, so the settled check is exercised with
        // an entry inserted as if the file had been settled.
        age(&path);
        let root = root_of(dir.path());
        let cache = HotCache::new();
        let file = File::open(&path).unwrap();
        let stat = rustix::fs::statx(&file, "", AtFlags::EMPTY_PATH, statx_mask()).unwrap();
        cache.insert(
            "a.txt",
            Arc::new(Entry {
                trailing_slash: false,
                file_path: "a.txt".into(),
                identity: Some(Identity::from_statx(&stat)),
                status: 200,
                fields: vec![("Content-Type", "text/plain".into())],
                bytes: Bytes::from_static(b"version one"),
                checked_at: AtomicU64::new(0),
            }),
        );
        // Unchanged: revalidated by stat, then served.
        let hit = cache.lookup(root.as_fd(), "a.txt", false).unwrap();
        assert_eq!(body_of(&hit), b"version one");
        assert_eq!(hit.field("Content-Type"), Some("text/plain"));
        // The other spelling (with a trailing slash) is not this entry.
        assert!(cache.lookup(root.as_fd(), "a.txt", true).is_none());
        // Edited: once the entry is due for a check, it is dropped.
        std::fs::write(&path, b"version two").unwrap();
        let shard = cache.shard("a.txt").lock().unwrap();
        shard.entries["a.txt"]
            .checked_at
            .store(0, Ordering::Relaxed);
        drop(shard);
        assert!(cache.lookup(root.as_fd(), "a.txt", false).is_none());
        assert!(cache.lookup(root.as_fd(), "a.txt", false).is_none());
    }

    #[test]
    fn removed_file_is_not_served_after_the_check() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone.txt");
        std::fs::write(&path, b"x").unwrap();
        let root = root_of(dir.path());
        let cache = HotCache::new();
        let stat =
            rustix::fs::statx(root.as_fd(), "gone.txt", AtFlags::empty(), statx_mask()).unwrap();
        cache.insert(
            "gone.txt",
            Arc::new(Entry {
                trailing_slash: false,
                file_path: "gone.txt".into(),
                identity: Some(Identity::from_statx(&stat)),
                status: 200,
                fields: Vec::new(),
                bytes: Bytes::from_static(b"x"),
                checked_at: AtomicU64::new(0),
            }),
        );
        std::fs::remove_file(&path).unwrap();
        assert!(cache.lookup(root.as_fd(), "gone.txt", false).is_none());
    }

    #[test]
    fn a_missing_path_is_remembered_until_a_file_appears() {
        let dir = tempfile::tempdir().unwrap();
        let root = root_of(dir.path());
        let cache = HotCache::new();
        let not_found = || Response::text(404, "Not Found");
        let answer = cache.offer(root.as_fd(), "new.txt", false, &[], not_found());
        assert_eq!(answer.status, 404);
        let hit = cache.lookup(root.as_fd(), "new.txt", false).unwrap();
        assert_eq!((hit.status, body_of(&hit)), (404, &b"Not Found"[..]));
        // Created: at the next check the entry goes, and the normal path
        // (which would now find the file) answers.
        std::fs::write(dir.path().join("new.txt"), b"here").unwrap();
        let shard = cache.shard("new.txt").lock().unwrap();
        shard.entries["new.txt"]
            .checked_at
            .store(0, Ordering::Relaxed);
        drop(shard);
        assert!(cache.lookup(root.as_fd(), "new.txt", false).is_none());
        // A 404 for a path that exists (say, a symlink out of the root) is
        // not remembered.
        assert_eq!(
            cache
                .offer(root.as_fd(), "new.txt", false, &[], not_found())
                .status,
            404
        );
        assert!(cache.lookup(root.as_fd(), "new.txt", false).is_none());
    }

    #[test]
    fn a_remembered_404_goes_when_a_404_page_appears_and_none_is_kept_with_one() {
        let dir = tempfile::tempdir().unwrap();
        let root = root_of(dir.path());
        let cache = HotCache::new();
        let not_found = || Response::text(404, "Not Found");
        cache.offer(root.as_fd(), "gone.txt", false, &[], not_found());
        assert!(cache.lookup(root.as_fd(), "gone.txt", false).is_some());
        std::fs::write(dir.path().join(NOT_FOUND_PAGE), b"<h1>gone</h1>").unwrap();
        let shard = cache.shard("gone.txt").lock().unwrap();
        shard.entries["gone.txt"]
            .checked_at
            .store(0, Ordering::Relaxed);
        drop(shard);
        assert!(cache.lookup(root.as_fd(), "gone.txt", false).is_none());
        cache.offer(root.as_fd(), "other.txt", false, &[], not_found());
        assert!(cache.lookup(root.as_fd(), "other.txt", false).is_none());
    }

    #[test]
    fn responses_that_vary_on_more_than_the_coding_are_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let root = root_of(dir.path());
        let cache = HotCache::new();
        let varying = Response::text(404, "Not Found").with_field("Vary", "Accept");
        cache.offer(root.as_fd(), "page", false, &[], varying);
        assert!(cache.lookup(root.as_fd(), "page", false).is_none());
        let by_coding = Response::text(404, "Not Found").with_field("Vary", "Accept-Encoding");
        cache.offer(root.as_fd(), "page", false, &[], by_coding);
        assert!(cache.lookup(root.as_fd(), "page", false).is_some());
    }

    #[test]
    fn a_directory_answer_is_tied_to_its_first_index_name_only() {
        let names = ["index.html".to_owned(), "default.htm".to_owned()];
        // A directory answered by default.htm is then tied to index.html,
        // which does not name the opened file, so it is never kept: an
        // index.html created later takes over at once.
        let cases = [
            ("a.txt", false, Some("a.txt")),
            (".", true, Some("index.html")),
            ("docs", true, Some("docs/index.html")),
        ];
        for (key, slash, want) in cases {
            assert_eq!(
                cached_file_path(key, slash, &names).as_deref(),
                want,
                "{key}"
            );
        }
        assert_eq!(cached_file_path("docs", true, &[]), None);
    }

    #[test]
    fn the_cache_stays_within_its_entry_bound() {
        let cache = HotCache::new();
        for i in 0..(MAX_ENTRIES + 100) {
            let key = format!("f{i}");
            cache.insert(
                &key,
                Arc::new(Entry {
                    trailing_slash: false,
                    file_path: key.clone().into(),
                    identity: None,
                    status: 404,
                    fields: Vec::new(),
                    bytes: Bytes::from_static(b"x"),
                    checked_at: AtomicU64::new(0),
                }),
            );
        }
        let total: usize = cache
            .shards
            .iter()
            .map(|s| s.lock().unwrap().entries.len())
            .sum();
        assert!(total <= MAX_ENTRIES, "{total}");
    }
}
