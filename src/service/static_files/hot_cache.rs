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
//! **Scope.** The cache answers any GET or HEAD of a path it holds,
//! whatever its fields. An entry keeps, for a compressible file, what the
//! normal path would pick for each coding: the `.br`, `.zst` or `.gz`
//! sidecar as its own representation, or the fact that it would not use one
//! (with what `statx` said of the sidecar's path, revalidated like the
//! file). A hit walks the client's `Accept-Encoding` candidates over those,
//! the same walk as the normal path, then hands the chosen representation,
//! its bytes in memory, to the same [`answer`] as the normal path: 200, 304,
//! 412, 206 (one range or multipart) or 416, all from memory. Files of at
//! most [`MAX_FILE_BYTES`] (each variant) are stored; the cache holds
//! at most [`MAX_ENTRIES`] paths and [`MAX_TOTAL_BYTES`] of bytes, evicting
//! an arbitrary entry of the same shard when full (cheap, and good enough
//! for a working set that fits; one that does not fit still works, just
//! slower).
//!
//! **Large compressible files.** A file above [`MAX_FILE_BYTES`] that is
//! compressed on the fly gets an entry too, holding its identity and its
//! sidecars' but not its bytes (a sidecar above the bound is not held
//! either): a request whose walk picks a ready compressed variant (or a
//! held sidecar) is answered from the variant cache with no system call,
//! under the same revalidation. When the walk picks what is not held (the
//! file as it is, or a variant still to be made from it), the entry says
//! so before anything is counted or started, and the normal path answers
//! as if the entry were not there; the entry stays.

use super::compression::{Compression, Pick};
use super::compressor::Source;
use super::content_hash::repr_digest;
use super::encoding::ContentCoding;
use super::open::FileFacts;
use super::options::EtagPolicy;
use super::path::{join_name, resolve_path};
use super::representation::{answer, Asked, Content, Fields, Metadata, Representation};
use super::variant_cache::FileVersion;
use super::{mime, Served, StaticFiles, NOT_FOUND_PAGE};
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

/// The largest file whose bytes are held, in bytes (as large as the driver
/// copies behind a head into one write anyway); a larger one compressed on
/// the fly is kept without them.
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

    /// Whether no write can be hiding behind an unchanged timestamp, by the
    /// wall clock `now`.
    fn is_settled(&self, now: SystemTime) -> bool {
        let Ok(now) = now.duration_since(UNIX_EPOCH) else {
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

/// One cached answer: a file's representation in memory, or a fixed 404.
struct Variant {
    /// What `statx` must say of its path: this file, or (for a 404) that
    /// nothing is there.
    identity: Option<Identity>,
    bytes: Bytes,
    kind: VariantKind,
    /// For a file: its version, under which its digest is kept.
    version: Option<FileVersion>,
}

enum VariantKind {
    /// All of a file, described as the normal path describes it.
    Representation(Metadata),
    /// A file larger than [`MAX_FILE_BYTES`], whose bytes are not held:
    /// only its identity, so that an entry can answer from the variant
    /// cache and leave what needs these bytes to the normal path.
    FileNotHeld,
    /// The fixed-text 404 of an absent path, with these fields.
    NotFound(Fields),
}

impl Variant {
    /// Whether its bytes are in memory (a file not held has none).
    fn is_held(&self) -> bool {
        !matches!(self.kind, VariantKind::FileNotHeld)
    }

    /// The answer to `asked`: for a file, the normal path's [`answer`] with
    /// the bytes from memory instead of the file; `None` for a file whose
    /// bytes are not held.
    /// A `Repr-Digest` asked for is added once the digest is known (the
    /// entry may have been made before it was), and asked for otherwise.
    fn answer(&self, asked: &Asked<'_>, compression: &Compression) -> Option<Response> {
        Some(match &self.kind {
            VariantKind::Representation(metadata) => {
                let mut metadata = metadata.clone();
                if let Some(version) = self.version {
                    if metadata.repr_digest.is_none() && asked.wants_repr_digest() {
                        match compression.content_digest(&version) {
                            Some(digest) => metadata.repr_digest = Some(repr_digest(&digest)),
                            None => compression
                                .digest_soon(version, || Some(Source::Memory(self.bytes.clone()))),
                        }
                    }
                }
                answer(
                    Representation {
                        metadata,
                        content: Content::Memory(self.bytes.clone()),
                    },
                    asked,
                )
            }
            VariantKind::NotFound(fields) => Response {
                status: 404,
                fields: fields.clone(),
                body: Body::Bytes(self.bytes.clone()),
            },
            VariantKind::FileNotHeld => return None,
        })
    }
}

/// What the normal path does with one sidecar coding of a file.
enum Sidecar {
    /// Serves this variant.
    Used(Variant),
    /// Does not use it (absent, stale, not a regular file, refused by the
    /// symlink policy); `statx` of its path said this (`None`: absent).
    Unused(Option<Identity>),
}

struct Entry {
    /// Whether the request path ended with `/` (a directory's index).
    trailing_slash: bool,
    /// The path of the file itself, relative to the root, for revalidation.
    file_path: Box<str>,
    /// The file as it is (identity coding), or the 404.
    plain: Variant,
    /// For a compressible file: what each of [`ContentCoding::ALL`] gets.
    sidecars: Option<Box<[Sidecar; 3]>>,
    /// For a compressible file: its version, under which the variant cache
    /// keeps its compressed variants.
    version: Option<FileVersion>,
    /// When the file was last seen unchanged, in nanoseconds since [`epoch`];
    /// 0 means "check before serving".
    checked_at: AtomicU64,
}

impl Entry {
    fn bytes(&self) -> usize {
        let sidecar_bytes = |sidecar: &Sidecar| match sidecar {
            Sidecar::Used(variant) => variant.bytes.len(),
            Sidecar::Unused(_) => 0,
        };
        self.plain.bytes.len()
            + self
                .sidecars
                .iter()
                .flat_map(|s| s.iter())
                .map(sidecar_bytes)
                .sum::<usize>()
    }

    /// The answer the normal path would give: the same walk over the same
    /// candidates ([`Compression::pick`]), with this entry's sidecars, and
    /// its bytes as the source of a variant to make; `None` when that
    /// answer needs bytes the entry does not hold (a large file as it is,
    /// or as the source of a variant to make), decided before anything is
    /// counted or started, so that the normal path walks as if alone.
    fn answer(&self, asked: &Asked<'_>, compression: &Compression) -> Option<Response> {
        let Some(sidecars) = self.sidecars.as_deref() else {
            return self.plain.answer(asked, compression);
        };
        // Without a sidecar in use or a variant to make, every client gets
        // the file as it is: no need to read its Accept-Encoding.
        let any_used = sidecars.iter().any(|s| matches!(s, Sidecar::Used(_)));
        let compressed = self.version.is_some_and(|v| compression.applies(v.size));
        if !(any_used || compressed) || !asked.accept_encoding().is_present() {
            return self.plain.answer(asked, compression);
        }
        let choice =
            compression.choose(
                &asked.coding_candidates(),
                self.version,
                |coding| match &sidecars[coding_index(coding)] {
                    Sidecar::Used(variant) => Some(variant),
                    Sidecar::Unused(_) => None,
                },
            );
        let picked_is_held = match &choice.picked {
            Pick::Sidecar(variant) => variant.is_held(),
            Pick::Variant(_) => true,
            Pick::Identity => self.plain.is_held(),
        };
        if !picked_is_held || (choice.makes_a_variant() && !self.plain.is_held()) {
            return None;
        }
        let picked = compression.settle(choice, || match &self.plain.kind {
            VariantKind::Representation(metadata) => {
                Some((Source::Memory(self.plain.bytes.clone()), metadata.clone()))
            }
            VariantKind::NotFound(_) | VariantKind::FileNotHeld => None,
        });
        match picked {
            Pick::Sidecar(variant) => variant.answer(asked, compression),
            Pick::Variant(variant) => Some(answer(variant.representation(), asked)),
            Pick::Identity => self.plain.answer(asked, compression),
        }
    }

    /// Whether every path this entry depends on is as it was.
    fn is_current(&self, root: BorrowedFd<'_>) -> bool {
        if identity_at(root, &self.file_path) != Ok(self.plain.identity)
            || !self.is_still_plain_404(root)
        {
            return false;
        }
        let Some(sidecars) = &self.sidecars else {
            return true;
        };
        ContentCoding::ALL
            .iter()
            .zip(sidecars.iter())
            .all(|(coding, sidecar)| {
                let path = format!("{}{}", self.file_path, coding.file_suffix());
                let expected = match sidecar {
                    Sidecar::Used(variant) => variant.identity,
                    Sidecar::Unused(identity) => *identity,
                };
                identity_at(root, &path) == Ok(expected)
            })
    }

    /// For a cached 404 (an absent path): whether its fixed-text body is
    /// still the answer, i.e. no `404.html` has appeared at the root since.
    fn is_still_plain_404(&self, root: BorrowedFd<'_>) -> bool {
        self.plain.identity.is_some() || identity_at(root, NOT_FOUND_PAGE) == Ok(None)
    }
}

fn coding_index(coding: ContentCoding) -> usize {
    ContentCoding::ALL
        .iter()
        .position(|c| *c == coding)
        .expect("ALL holds every coding")
}

#[derive(Default)]
struct Shard {
    entries: HashMap<Box<str>, Arc<Entry>>,
    bytes: usize,
}

/// Why [`HotCache::lookup`] had no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missed {
    /// No current entry: the normal path answers, and may make one.
    NoEntry,
    /// The entry is current, but this answer needs bytes it does not hold
    /// (a large file as it is): the normal path answers, the entry stays.
    NotHeld,
}

/// The cache; one per [`super::StaticFiles`], shared by all workers.
pub struct HotCache {
    shards: Box<[Mutex<Shard>]>,
    /// The wall clock that tells whether a file has settled; tests move it.
    wall_clock: fn() -> SystemTime,
}

impl Default for HotCache {
    fn default() -> Self {
        HotCache::new()
    }
}

impl StaticFiles {
    /// [`StaticFiles::serve`] with the hot-file cache in front of it. The
    /// path is resolved once, for both.
    pub fn serve_cached(&self, head: &RequestHead) -> Response {
        let asked = Asked::of(head);
        let resolved = resolve_path(head.path());
        let Ok(relative) = &resolved else {
            return self.serve_resolved(head, &asked, resolved.as_ref()).0;
        };
        let (key, slash) = (relative.as_str(), relative.has_trailing_slash());
        let root = self.root.as_fd();
        let missed = match self
            .hot_cache
            .lookup(root, key, slash, &asked, &self.compression)
        {
            Ok(hit) => {
                crate::service::counters::count_hot_cache_hit();
                return hit;
            }
            Err(missed) => missed,
        };
        crate::service::counters::count_hot_cache_miss();
        let (response, served) = self.serve_resolved(head, &asked, Ok(relative));
        match served {
            // The entry is current; only this answer needs the file.
            _ if missed == Missed::NotHeld => response,
            Served::Missing => self.hot_cache.offer_missing(root, key, slash, response),
            // Built from the file itself, not from this answer, which may be
            // a 304, a range or a sidecar: the entry must hold every variant.
            Served::File { source_len } => {
                if let Some(entry) = self.hot_entry(key, slash, source_len) {
                    self.hot_cache.insert(key, Arc::new(entry));
                }
                response
            }
            // Chosen by more than the path and the coding (the `--spa`
            // decision on Accept, a listing's form).
            Served::Other => response,
        }
    }

    /// A complete entry for the file that `key` names (`source_len` bytes
    /// when it was served), or `None` if it (or a sidecar the normal path
    /// would use) is unsettled or changed while read, or if it is larger
    /// than [`MAX_FILE_BYTES`] and not compressed on the fly (an entry that
    /// holds no bytes is worth keeping only for the compressed variants it
    /// answers with from memory).
    fn hot_entry(&self, key: &str, trailing_slash: bool, source_len: u64) -> Option<Entry> {
        let file_path = cached_file_path(key, trailing_slash, &self.options.index_names)?;
        let compressible = mime::is_compressible(mime::media_type_for(&file_path));
        if source_len > MAX_FILE_BYTES && !(compressible && self.compression.applies(source_len)) {
            return None;
        }
        let root = self.root.as_fd();
        let now = (self.hot_cache.wall_clock)();
        let (fd, stat) = self.open_and_stat(&file_path).ok()?;
        let plain = self.cached_variant(&file_path, &file_path, fd, &stat, compressible, now)?;
        let sidecars = match compressible {
            false => None,
            true => {
                let sidecar = |coding: ContentCoding| -> Option<Sidecar> {
                    let path = format!("{file_path}{}", coding.file_suffix());
                    match self.usable_sidecar(&file_path, coding, &stat) {
                        Some((fd, stat)) => self
                            .cached_variant(&file_path, &path, fd, &stat, true, now)
                            .map(Sidecar::Used),
                        // What is there now must have been there when the
                        // sidecar was refused: an unsettled file may have
                        // just appeared, so none is recorded.
                        None => match identity_at(root, &path).ok()? {
                            Some(identity) if !identity.is_settled(now) => None,
                            identity => Some(Sidecar::Unused(identity)),
                        },
                    }
                };
                let [br, zstd, gzip] = ContentCoding::ALL;
                Some(Box::new([sidecar(br)?, sidecar(zstd)?, sidecar(gzip)?]))
            }
        };
        Some(Entry {
            trailing_slash,
            file_path: file_path.as_str().into(),
            plain,
            version: sidecars.is_some().then_some(stat.version),
            sidecars,
            checked_at: AtomicU64::new(nanos_since_epoch()),
        })
    }

    /// The whole 200 for the regular file `fd` opened at `path`, with the
    /// fields of a file named `name`, read into memory if it is small,
    /// settled and unchanged while read; a larger settled file is
    /// [`VariantKind::FileNotHeld`].
    fn cached_variant(
        &self,
        name: &str,
        path: &str,
        fd: rustix::fd::OwnedFd,
        stat: &FileFacts,
        compressible: bool,
        now: SystemTime,
    ) -> Option<Variant> {
        if stat.file_type != rustix::fs::FileType::RegularFile {
            return None;
        }
        let len = u64::try_from(stat.size).ok()?;
        if len > MAX_FILE_BYTES {
            let file = std::fs::File::from(fd);
            let identity = settled_identity(self.root.as_fd(), path, &file, len, now)?;
            return Some(Variant {
                identity: Some(identity),
                bytes: Bytes::new(),
                kind: VariantKind::FileNotHeld,
                version: Some(stat.version),
            });
        }
        // With content tags, an entry waits for the digest: made before
        // it, its metadata would carry no ETag for as long as it lives.
        if self.options.etag == EtagPolicy::Content
            && self.compression.content_digest(&stat.version).is_none()
        {
            return None;
        }
        let file = std::fs::File::from(fd);
        let (identity, bytes) = read_settled(self.root.as_fd(), path, &file, len, now)?;
        Some(Variant {
            identity: Some(identity),
            bytes,
            kind: VariantKind::Representation(self.file_metadata(stat, name, compressible)),
            version: Some(stat.version),
        })
    }
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
        HotCache::with_wall_clock(SystemTime::now)
    }

    /// A cache that reads the wall clock from `wall_clock`: tests move it
    /// ahead so that files they just wrote count as settled.
    pub fn with_wall_clock(wall_clock: fn() -> SystemTime) -> HotCache {
        HotCache {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            wall_clock,
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

    /// The answer to `head` for `key` (a resolved relative path), if an
    /// entry still known to match the files under `root` can give it.
    pub fn lookup(
        &self,
        root: BorrowedFd<'_>,
        key: &str,
        trailing_slash: bool,
        asked: &Asked<'_>,
        compression: &Compression,
    ) -> Result<Response, Missed> {
        let shard = self.shard(key);
        let entry = {
            let shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(shard.entries.get(key).ok_or(Missed::NoEntry)?)
        };
        if entry.trailing_slash != trailing_slash {
            return Err(Missed::NoEntry);
        }
        let now = nanos_since_epoch();
        let checked_at = entry.checked_at.load(Ordering::Relaxed);
        let fresh =
            checked_at != 0 && now.saturating_sub(checked_at) < REVALIDATE_AFTER.as_nanos() as u64;
        if !fresh {
            if !entry.is_current(root) {
                // Changed, replaced or gone: forget it; the normal path answers.
                self.remove(key, &entry);
                return Err(Missed::NoEntry);
            }
            entry.checked_at.store(now, Ordering::Relaxed);
        }
        entry.answer(asked, compression).ok_or(Missed::NotHeld)
    }

    fn remove(&self, key: &str, entry: &Arc<Entry>) {
        let mut shard = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        if shard
            .entries
            .get(key)
            .is_some_and(|current| Arc::ptr_eq(current, entry))
        {
            shard.entries.remove(key);
            shard.bytes -= entry.bytes();
        }
    }

    /// Keep a 404 whose path is absent; its body is a fixed short text.
    /// Returns the response to send.
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
            plain: Variant {
                identity: None,
                bytes: bytes.clone(),
                kind: VariantKind::NotFound(response.fields.clone()),
                version: None,
            },
            sidecars: None,
            version: None,
            checked_at: AtomicU64::new(nanos_since_epoch()),
        });
        self.insert(key, entry);
        response
    }

    fn insert(&self, key: &str, entry: Arc<Entry>) {
        let mut shard = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        let size = entry.bytes();
        if let Some(old) = shard.entries.remove(key) {
            shard.bytes -= old.bytes();
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
                shard.bytes -= old.bytes();
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
        (true, Some(name)) => Some(join_name(key, name)),
        (true, None) => None,
    }
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
    now: SystemTime,
) -> Option<(Identity, Bytes)> {
    let before = settled_identity(root, file_path, file, len, now)?;
    let mut bytes = vec![0u8; usize::try_from(len).ok()?];
    file.read_exact_at(&mut bytes, 0).ok()?;
    let after =
        Identity::from_statx(&rustix::fs::statx(file, "", AtFlags::EMPTY_PATH, statx_mask()).ok()?);
    (after == before).then(|| (before, Bytes::from(bytes)))
}

/// The identity of `file` (`len` bytes, opened at `file_path` under
/// `root`), if it is settled and `file_path` still names it.
fn settled_identity(
    root: BorrowedFd<'_>,
    file_path: &str,
    file: &std::fs::File,
    len: u64,
    now: SystemTime,
) -> Option<Identity> {
    let before =
        Identity::from_statx(&rustix::fs::statx(file, "", AtFlags::EMPTY_PATH, statx_mask()).ok()?);
    if before.size != len || !before.is_settled(now) {
        return None;
    }
    // The path must still name this very file, or revalidating by path
    // would compare against some other file.
    let by_path = Identity::from_statx(
        &rustix::fs::statx(root, file_path, AtFlags::empty(), statx_mask()).ok()?,
    );
    (by_path == before).then_some(before)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::static_files::StaticOptions;
    use proptest::prelude::*;
    use std::fs::File;
    use std::path::Path;

    /// A wall clock an hour ahead: every file a test just wrote is settled.
    fn an_hour_ahead() -> SystemTime {
        SystemTime::now() + Duration::from_secs(3600)
    }

    /// Static files over `dir` whose hot cache takes fresh files as settled.
    fn settled_files(dir: &Path) -> StaticFiles {
        let mut files = StaticFiles::new(dir.to_path_buf(), StaticOptions::default()).unwrap();
        files.hot_cache = HotCache::with_wall_clock(an_hour_ahead);
        files
    }

    fn get(target: &str, fields: &[(&str, &str)]) -> RequestHead {
        RequestHead::for_test("GET", target, fields)
    }

    /// The bytes a response's body puts on the wire.
    fn body_bytes(response: &Response) -> Vec<u8> {
        super::super::representation::tests::body_bytes(&response.body)
    }

    fn is_from_memory(response: &Response) -> bool {
        matches!(response.body, Body::Bytes(_))
    }

    /// Force the next lookup of `key` to revalidate.
    fn due_for_a_check(cache: &HotCache, key: &str) {
        let shard = cache.shard(key).lock().unwrap();
        shard.entries[key].checked_at.store(0, Ordering::Relaxed);
    }

    fn entry_count(cache: &HotCache) -> usize {
        cache
            .shards
            .iter()
            .map(|s| s.lock().unwrap().entries.len())
            .sum()
    }

    /// Set a file's mtime `seconds` into the past.
    fn age(path: &Path, seconds: u64) {
        let old = SystemTime::now() - Duration::from_secs(seconds);
        File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }

    /// A root with what browsers fetch: a stylesheet with a fresh `.br` and
    /// a stale `.gz` sidecar (older than its source), a script without
    /// sidecars, an image, a directory index, a file too large to keep.
    fn browser_fixture() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(
            root.join("style.css"),
            "body { color: #222; }\n".repeat(180),
        )
        .unwrap();
        std::fs::write(root.join("style.css.br"), b"brotli bytes").unwrap();
        std::fs::write(root.join("style.css.gz"), b"stale gzip bytes").unwrap();
        age(&root.join("style.css.gz"), 600);
        std::fs::write(root.join("app.js"), b"console.log(1);\n").unwrap();
        std::fs::write(root.join("logo.png"), [0x89, b'P', b'N', b'G', 0, 1, 2]).unwrap();
        std::fs::create_dir(root.join("docs")).unwrap();
        std::fs::write(root.join("docs/index.html"), b"<h1>docs</h1>\n").unwrap();
        std::fs::write(root.join("big.txt"), vec![b'x'; 40_000]).unwrap();
        dir
    }

    const TARGETS: &[&str] = &[
        "/style.css",
        "/app.js",
        "/logo.png",
        "/docs/",
        "/big.txt",
        "/missing.css",
    ];

    /// The fields Chromium sends with a navigation or a subresource.
    const BROWSER_FIELDS: &[(&str, &str)] = &[
        ("Host", "localhost:8080"),
        ("Connection", "keep-alive"),
        ("sec-ch-ua", "\"Chromium\";v=\"156\", \"Not.A/Brand\";v=\"99\""),
        ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"),
        ("Accept", "text/css,*/*;q=0.1"),
        ("Sec-Fetch-Site", "same-origin"),
        ("Sec-Fetch-Mode", "no-cors"),
        ("Sec-Fetch-Dest", "style"),
        ("Referer", "http://localhost:8080/"),
        ("Accept-Encoding", "gzip, deflate, br, zstd"),
        ("Accept-Language", "en-US,en;q=0.9"),
        ("Cookie", "session=abc"),
    ];

    /// Whether the cache alone has an answer for `head`.
    fn answered_by_cache(files: &StaticFiles, head: &RequestHead) -> bool {
        let relative = resolve_path(head.path()).unwrap();
        let (key, slash) = (relative.as_str(), relative.has_trailing_slash());
        let root = files.root.as_fd();
        files
            .hot_cache
            .lookup(root, key, slash, &Asked::of(head), &files.compression)
            .is_ok()
    }

    /// Send `fields` for `target` through the normal path and through the
    /// cache (warmed first) and require the same status, fields in the same
    /// order, and body bytes. Returns whether the cache answered it.
    fn assert_same_both_ways(files: &StaticFiles, target: &str, fields: &[(&str, &str)]) -> bool {
        let head = get(target, fields);
        let _ = files.serve_cached(&head);
        let from_cache = answered_by_cache(files, &head);
        let cached = files.serve_cached(&head);
        let normal = files.serve(&head);
        let context = format!("{target} {fields:?}");
        assert_eq!(cached.status, normal.status, "{context}");
        assert_eq!(cached.fields, normal.fields, "{context}");
        assert_eq!(body_bytes(&cached), body_bytes(&normal), "{context}");
        from_cache
    }

    /// The ETag the normal path gives `target` for `accept_encoding`.
    fn etag_of(files: &StaticFiles, target: &str, accept_encoding: &str) -> String {
        let response = files.serve(&get(target, &[("Accept-Encoding", accept_encoding)]));
        response.field("ETag").unwrap_or("\"none\"").to_owned()
    }

    #[test]
    fn issue_11_browser_requests_are_answered_from_memory() {
        let dir = browser_fixture();
        let files = settled_files(dir.path());
        let _ = files.serve_cached(&get("/style.css", BROWSER_FIELDS));
        let hit = files.serve_cached(&get("/style.css", BROWSER_FIELDS));
        assert!(is_from_memory(&hit), "{:?}", hit.body);
        assert_eq!(hit.field("Content-Encoding"), Some("br"));
        assert_eq!(body_bytes(&hit), b"brotli bytes");
        // A revalidation with the tag it got: 304, from the same entry.
        let etag = hit.field("ETag").unwrap().to_owned();
        let mut revalidation = BROWSER_FIELDS.to_vec();
        revalidation.push(("If-None-Match", &etag));
        let revalidation = get("/style.css", &revalidation);
        let root = files.root.as_fd();
        let answer = files
            .hot_cache
            .lookup(
                root,
                "style.css",
                false,
                &Asked::of(&revalidation),
                &files.compression,
            )
            .expect("answered by the cache");
        assert_eq!(answer.status, 304);
        assert_eq!(answer.field("ETag"), Some(etag.as_str()));
    }

    #[test]
    fn issue_11_the_cache_answers_exactly_as_the_normal_path() {
        let dir = browser_fixture();
        // A date `If-Range` matches only once the file's second is over:
        // an older file makes that hold for both paths, whenever they run.
        age(&dir.path().join("logo.png"), 60);
        let files = settled_files(dir.path());
        let br_tag = etag_of(&files, "/style.css", "br");
        let plain_tag = etag_of(&files, "/style.css", "");
        let logo_tag = etag_of(&files, "/logo.png", "");
        let logo_date = files.serve(&get("/logo.png", &[]));
        let logo_date = logo_date.field("Last-Modified").unwrap().to_owned();
        let future = "Sun, 06 Dec 2099 00:00:00 GMT";
        let past = "Sun, 06 Dec 1998 00:00:00 GMT";
        let accept_encodings = [
            None,
            Some("gzip, deflate, br, zstd"),
            Some("gzip"),
            Some("zstd, gzip"),
            Some("br;q=0.5, gzip;q=0.8"),
            Some("identity;q=0"),
            Some("br;q=0"),
            Some("*"),
            Some(""),
        ];
        let conditions: &[&[(&str, &str)]] = &[
            &[],
            &[("If-None-Match", &br_tag)],
            &[("If-None-Match", &plain_tag)],
            &[("If-None-Match", "\"other\", W/\"more\"")],
            &[("If-None-Match", "*")],
            &[("If-Modified-Since", future)],
            &[("If-Modified-Since", past)],
            &[("If-Match", "*")],
            &[("If-Match", "\"other\"")],
            &[("If-Unmodified-Since", past)],
            &[("If-Range", "\"other\"")],
            // Ranges (issue 12): one, a suffix, several (multipart, or the
            // whole file when they overlap), none satisfiable, malformed,
            // sent twice; each behind every kind of If-Range.
            &[("Range", "bytes=0-4")],
            &[("Range", "bytes=-5")],
            &[("Range", "bytes=3-")],
            &[("Range", "bytes=0-0,2-3")],
            &[("Range", "bytes=0-5,2-3")],
            &[("Range", "bytes=0-0,5-6,10-")],
            &[("Range", "bytes=100000-")],
            &[("Range", "bytes=abc")],
            &[("Range", "bytes=0-1"), ("Range", "bytes=2-3")],
            &[("Range", "bytes=1-2"), ("If-Range", &br_tag)],
            &[("Range", "bytes=1-2"), ("If-Range", &plain_tag)],
            &[("Range", "bytes=1-2"), ("If-Range", &logo_tag)],
            &[("Range", "bytes=1-2"), ("If-Range", "\"other\"")],
            &[("Range", "bytes=1-2"), ("If-Range", &logo_date)],
            &[("Range", "bytes=1-2"), ("If-Range", past)],
            &[
                ("Range", "bytes=1-2"),
                ("If-Range", "\"a\""),
                ("If-Range", "\"b\""),
            ],
            &[("Range", "bytes=0-4"), ("If-None-Match", &br_tag)],
            &[("Range", "bytes=0-4"), ("If-Match", "\"other\"")],
            &[("Range", "bytes=100000-"), ("If-Match", "*")],
        ];
        let mut hits = 0;
        let mut cases = 0;
        for target in TARGETS {
            for accept_encoding in accept_encodings {
                for condition in conditions {
                    let mut fields = vec![("Host", "x"), ("User-Agent", "test")];
                    fields.extend(accept_encoding.map(|value| ("Accept-Encoding", value)));
                    fields.extend_from_slice(condition);
                    cases += 1;
                    hits += usize::from(assert_same_both_ways(&files, target, &fields));
                }
            }
        }
        // Everything but the large file came from memory, 412s and ranges
        // included: the comparison above was not of the normal path with
        // itself.
        assert_eq!(hits, cases - cases / TARGETS.len(), "answered from memory");
        // The entries hold every variant: one per path, the 404 included,
        // and the large text file's without its bytes (issue 16: for the
        // compressed variants it would answer with once made).
        assert_eq!(entry_count(&files.hot_cache), 6);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_accept_encoding_and_tag_list_is_answered_as_the_normal_path(
            codings in prop::collection::vec(
                (prop::sample::select(vec!["br", "gzip", "zstd", "x-gzip", "identity", "*", "deflate", "BR"]),
                 prop::option::of(0u16..=1000)),
                0..5),
            tags in prop::collection::vec(prop::sample::select(vec!["br", "plain", "other", "*"]), 0..3),
            target in prop::sample::select(TARGETS.to_vec()),
            // Range specs (first, last): `a-b`, `a-`, `-n`, or a malformed `-`.
            ranges in prop::option::of(prop::collection::vec(
                (prop::option::of(0u64..40), prop::option::of(0u64..40)), 1..4)),
            if_range in prop::option::of(prop::sample::select(vec!["br", "plain", "other"])),
        ) {
            let dir = browser_fixture();
            let files = settled_files(dir.path());
            let accept_encoding: Vec<String> = codings
                .iter()
                .map(|(name, weight)| match weight {
                    Some(w) => format!("{name};q={}.{:03}", w / 1000, w % 1000),
                    None => (*name).to_owned(),
                })
                .collect();
            let accept_encoding = accept_encoding.join(", ");
            let tags: Vec<String> = tags
                .iter()
                .map(|tag| match *tag {
                    "br" => etag_of(&files, target, "br"),
                    "plain" => etag_of(&files, target, ""),
                    "*" => "*".to_owned(),
                    other => format!("\"{other}\""),
                })
                .collect();
            let if_none_match = tags.join(", ");
            let mut fields = vec![("Host", "x"), ("Accept-Encoding", accept_encoding.as_str())];
            if !tags.is_empty() {
                fields.push(("If-None-Match", if_none_match.as_str()));
            }
            let range = ranges.map(|specs| {
                let specs: Vec<String> = specs
                    .iter()
                    .map(|spec| match spec {
                        (Some(first), Some(last)) => format!("{first}-{last}"),
                        (Some(first), None) => format!("{first}-"),
                        (None, Some(length)) => format!("-{length}"),
                        (None, None) => "-".to_owned(),
                    })
                    .collect();
                format!("bytes={}", specs.join(","))
            });
            if let Some(range) = &range {
                fields.push(("Range", range.as_str()));
            }
            let if_range = if_range.map(|tag| match tag {
                "br" => etag_of(&files, target, "br"),
                "plain" => etag_of(&files, target, ""),
                other => format!("\"{other}\""),
            });
            if let Some(if_range) = &if_range {
                fields.push(("If-Range", if_range.as_str()));
            }
            assert_same_both_ways(&files, target, &fields);
        }
    }

    #[test]
    fn issue_13_hits_and_misses_are_counted_for_the_metrics() {
        let dir = browser_fixture();
        let files = settled_files(dir.path());
        // What a worker thread does as it starts; a test's thread is its own.
        let counters = Arc::new(crate::service::counters::ServiceCounters::default());
        crate::service::counters::install(Arc::clone(&counters));
        let head = get("/app.js", &[]);
        let _ = files.serve_cached(&head);
        let _ = files.serve_cached(&head);
        let _ = files.serve_cached(&head);
        assert_eq!(
            (counters.hot_cache_hits(), counters.hot_cache_misses()),
            (2, 1)
        );
    }

    #[test]
    fn a_file_touched_just_now_is_not_cached() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), b"fresh").unwrap();
        let files = StaticFiles::new(dir.path().to_path_buf(), StaticOptions::default()).unwrap();
        let head = get("/a.txt", &[]);
        for _ in 0..2 {
            assert!(!is_from_memory(&files.serve_cached(&head)));
        }
        assert_eq!(entry_count(&files.hot_cache), 0);
    }

    #[test]
    fn settled_file_is_served_from_memory_and_dropped_when_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, b"version one").unwrap();
        let files = settled_files(dir.path());
        let head = get("/a.txt", &[]);
        let first = files.serve_cached(&head);
        assert!(!is_from_memory(&first), "the first answer reads the file");
        let hit = files.serve_cached(&head);
        assert!(is_from_memory(&hit));
        assert_eq!(body_bytes(&hit), b"version one");
        assert_eq!(hit.field("Content-Type"), Some("text/plain; charset=utf-8"));
        // The other spelling (with a trailing slash) is not this entry.
        let root = files.root.as_fd();
        let slash = get("/a.txt/", &[]);
        assert!(files
            .hot_cache
            .lookup(root, "a.txt", true, &Asked::of(&slash), &files.compression)
            .is_err());
        // Edited: once the entry is due for a check, it is dropped.
        std::fs::write(&path, b"version two").unwrap();
        due_for_a_check(&files.hot_cache, "a.txt");
        let after = files.serve_cached(&head);
        assert_eq!(body_bytes(&after), b"version two");
        assert!(!is_from_memory(&after));
    }

    #[test]
    fn a_sidecar_that_appears_or_changes_drops_the_entry() {
        let dir = browser_fixture();
        let files = settled_files(dir.path());
        let head = get("/app.js", &[("Accept-Encoding", "gzip")]);
        let _ = files.serve_cached(&head);
        assert!(is_from_memory(&files.serve_cached(&head)));
        std::fs::write(dir.path().join("app.js.gz"), b"gzip bytes").unwrap();
        due_for_a_check(&files.hot_cache, "app.js");
        let answer = files.serve_cached(&head);
        assert_eq!(answer.field("Content-Encoding"), Some("gzip"));
        assert_eq!(body_bytes(&answer), b"gzip bytes");
    }

    #[test]
    fn removed_file_is_not_served_after_the_check() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone.txt");
        std::fs::write(&path, b"x").unwrap();
        let files = settled_files(dir.path());
        let head = get("/gone.txt", &[]);
        let _ = files.serve_cached(&head);
        assert!(is_from_memory(&files.serve_cached(&head)));
        std::fs::remove_file(&path).unwrap();
        due_for_a_check(&files.hot_cache, "gone.txt");
        assert_eq!(files.serve_cached(&head).status, 404);
    }

    #[test]
    fn a_missing_path_is_remembered_until_a_file_appears() {
        let dir = tempfile::tempdir().unwrap();
        let files = settled_files(dir.path());
        let head = get("/new.txt", &[]);
        assert_eq!(files.serve_cached(&head).status, 404);
        assert_eq!(entry_count(&files.hot_cache), 1);
        let hit = files.serve_cached(&head);
        assert_eq!((hit.status, body_bytes(&hit)), (404, b"Not Found".to_vec()));
        // Created: at the next check the entry goes, and the normal path
        // (which now finds the file) answers.
        std::fs::write(dir.path().join("new.txt"), b"here").unwrap();
        due_for_a_check(&files.hot_cache, "new.txt");
        assert_eq!(files.serve_cached(&head).status, 200);
        // A 404 for a path that exists (here a refused dotfile) is not
        // remembered.
        std::fs::write(dir.path().join(".secret"), b"x").unwrap();
        let hidden = get("/.secret", &[]);
        assert_eq!(files.serve_cached(&hidden).status, 404);
        let root = files.root.as_fd();
        assert!(files
            .hot_cache
            .lookup(
                root,
                ".secret",
                false,
                &Asked::of(&hidden),
                &files.compression
            )
            .is_err());
    }

    #[test]
    fn a_remembered_404_goes_when_a_404_page_appears() {
        let dir = tempfile::tempdir().unwrap();
        let files = settled_files(dir.path());
        let head = get("/gone.txt", &[]);
        files.serve_cached(&head);
        assert_eq!(entry_count(&files.hot_cache), 1);
        std::fs::write(dir.path().join(NOT_FOUND_PAGE), b"<h1>gone</h1>").unwrap();
        due_for_a_check(&files.hot_cache, "gone.txt");
        assert_eq!(body_bytes(&files.serve_cached(&head)), b"<h1>gone</h1>");
    }

    #[test]
    fn responses_that_vary_on_more_than_the_coding_are_not_kept() {
        let dir = browser_fixture();
        std::fs::create_dir(dir.path().join("list")).unwrap();
        let mut files = StaticFiles::new(
            dir.path().to_path_buf(),
            StaticOptions {
                spa: Some("docs/index.html".to_owned()),
                listing: true,
                ..StaticOptions::default()
            },
        )
        .unwrap();
        files.hot_cache = HotCache::with_wall_clock(an_hour_ahead);
        // (target, Accept, status, the Vary fields the answer carries)
        let cases: &[(&str, &str, u16, &[&str])] = &[
            // The --spa decision on Accept: a 404 for an asset...
            ("/missing.css", "text/css", 404, &["Accept"]),
            // ...the SPA's page for a navigation (which, without an
            // extension, does not depend on Accept, but is not the file
            // the path names)...
            ("/users/42", "text/html", 200, &["Accept-Encoding"]),
            (
                "/report.2025",
                "text/html",
                200,
                &["Accept-Encoding", "Accept"],
            ),
            // ...and a listing, whose form follows Accept.
            ("/list/", "application/json", 200, &["Accept"]),
        ];
        for (target, accept, status, vary) in cases {
            let head = get(target, &[("Accept", accept)]);
            for _ in 0..2 {
                let response = files.serve_cached(&head);
                assert_eq!(response.status, *status, "{target}");
                let varies: Vec<&str> = response
                    .fields
                    .iter()
                    .filter(|(name, _)| *name == "Vary")
                    .map(|(_, value)| value.as_ref())
                    .collect();
                assert_eq!(varies, *vary, "{target}");
            }
            assert!(!answered_by_cache(&files, &head), "{target}");
        }
        assert_eq!(entry_count(&files.hot_cache), 0);
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

    /// Static files over `dir` whose hot cache and compressor take fresh
    /// files as settled, and whose variants are never upgraded (which would
    /// change a tag between two answers compared).
    fn settled_compressing_files(dir: &Path) -> StaticFiles {
        let mut files = settled_files(dir);
        files.compression.settled_clock = an_hour_ahead;
        files
            .compression
            .variants()
            .set_upgrade_after_hits(u64::MAX);
        files
    }

    /// Ask through the cache until `head` gets `coding`; bounded to 3000
    /// tries over at most 30 seconds (the compressor has threads of its own).
    fn until_coded(files: &StaticFiles, head: &RequestHead, coding: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if files.serve_cached(head).field("Content-Encoding") == Some(coding) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("no {coding} answer for {:?}", head.path());
    }

    #[test]
    fn issue_16_a_large_file_s_ready_variants_are_answered_from_memory() {
        use super::super::compress::tests::{decode, script};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.js");
        let source = script(64 * 1024);
        std::fs::write(&path, &source).unwrap();
        let files = settled_compressing_files(dir.path());
        let every = [("Accept-Encoding", "gzip, deflate, br, zstd")];
        for coding in ["br", "zstd", "gzip"] {
            until_coded(
                &files,
                &get("/app.js", &[("Accept-Encoding", coding)]),
                coding,
            );
        }
        let br = files.serve_cached(&get("/app.js", &every));
        assert_eq!(decode(ContentCoding::ALL[0], &body_bytes(&br)), source);
        let br_tag = br.field("ETag").unwrap().to_owned();
        let cases: &[&[(&str, &str)]] = &[
            &every,
            &[("Accept-Encoding", "gzip")],
            &[("Accept-Encoding", "zstd, gzip;q=0.5")],
            &[("Accept-Encoding", "br"), ("Range", "bytes=3-7")],
            &[("Accept-Encoding", "br"), ("Range", "bytes=0-1,5-9")],
            &[("Accept-Encoding", "br"), ("If-None-Match", &br_tag)],
            &[("Accept-Encoding", "br"), ("If-Match", "\"other\"")],
            &[
                ("Accept-Encoding", "br"),
                ("Range", "bytes=1-2"),
                ("If-Range", &br_tag),
            ],
        ];
        for fields in cases {
            assert!(
                assert_same_both_ways(&files, "/app.js", fields),
                "from memory: {fields:?}"
            );
        }
        // As it is, the file is not held: the normal path answers, the
        // entry stays, and the answers are the same.
        for fields in [&[][..], &[("Accept-Encoding", "identity")][..]] {
            assert!(!assert_same_both_ways(&files, "/app.js", fields));
            assert!(!is_from_memory(
                &files.serve_cached(&get("/app.js", fields))
            ));
        }
        assert_eq!(entry_count(&files.hot_cache), 1);
        assert_eq!(files.hot_cache.shard("app.js").lock().unwrap().bytes, 0);
        // Edited: at the entry's next check (here forced; at most a second
        // after the last) the new file is noticed, and its old variants
        // are never served again.
        std::fs::write(&path, script(70 * 1024)).unwrap();
        due_for_a_check(&files.hot_cache, "app.js");
        let after = files.serve_cached(&get("/app.js", &every));
        assert_eq!(after.field("Content-Encoding"), None);
        assert_eq!(body_bytes(&after), script(70 * 1024));
        assert_ne!(after.field("ETag"), br.field("ETag"));
    }

    #[test]
    fn issue_16_a_sidecar_of_a_large_file_is_rechecked_like_the_file() {
        use super::super::compress::tests::script;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.js"), script(64 * 1024)).unwrap();
        let files = settled_compressing_files(dir.path());
        let head = get("/app.js", &[("Accept-Encoding", "gzip")]);
        until_coded(&files, &head, "gzip");
        assert!(answered_by_cache(&files, &head));
        // A sidecar that appears wins over the variant, once the entry is
        // checked again.
        std::fs::write(dir.path().join("app.js.gz"), b"gzip sidecar").unwrap();
        due_for_a_check(&files.hot_cache, "app.js");
        let answer = files.serve_cached(&head);
        assert_eq!(body_bytes(&answer), b"gzip sidecar");
        assert_same_both_ways(&files, "/app.js", &[("Accept-Encoding", "gzip")]);
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
                    plain: Variant {
                        identity: None,
                        bytes: Bytes::from_static(b"x"),
                        kind: VariantKind::NotFound(Vec::new()),
                        version: None,
                    },
                    sidecars: None,
                    version: None,
                    checked_at: AtomicU64::new(0),
                }),
            );
        }
        assert!(entry_count(&cache) <= MAX_ENTRIES);
    }
}
