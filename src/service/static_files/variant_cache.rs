//! Compressed variants of files, made once per file version and coding and
//! kept in memory, bounded by `--compress-cache-bytes` with least recently
//! used eviction.
//!
//! **Keys.** A variant is keyed by the file's version (device, inode, size,
//! modification time, as `fstat` gives them) and the coding. An edited
//! file is a new version: its old variants are never found again and age
//! out. A file is compressed only once its modification time is
//! [`SETTLED_AFTER`] old and its version is the same before and after it
//! was read (the hot cache's rule), so no write can hide behind an
//! unchanged timestamp.
//!
//! **Making.** A request for a variant that does not exist yet marks it
//! [`Slot::Making`] and queues a job on the [`super::compressor`] threads,
//! then is answered with the file as it is. Requests that arrive while it
//! is being made see the mark and do not queue it again; they too get the
//! file as it is. Waiting instead would stall the event loop (services
//! answer synchronously on it) for a few milliseconds per variant, and
//! every connection of that worker with it; identity is a correct answer
//! meanwhile (`Vary: Accept-Encoding` is on both).
//!
//! **Served like hot files.** A variant holds its bytes and its
//! [`Metadata`] built once (the file's fields with its own strong `ETag` and
//! `Content-Encoding`), and is answered by the same
//! [`super::representation::answer`]: preconditions, `Range` and
//! `If-Range` on the encoded bytes, `HEAD` with its length. A variant is
//! kept only when smaller than the file; otherwise the slot remembers that
//! ([`Slot::Declined`]) so it is not made again.
//!
//! **Bounded.** Ready variants' bytes stay under the byte budget: inserting
//! one evicts the least recently used (each hit stores a tick with one
//! relaxed store; eviction, rare, scans for the oldest). The count of slots
//! is bounded too, so remembered refusals cannot grow without end.
//!
//! **Upgrades.** [`VariantCache::upgrade_candidate`] names the most asked
//! variant still at the fast effort; the compressor remakes it at the best
//! effort when it has nothing else to do, and [`VariantCache::upgrade`]
//! replaces it if smaller, with a new `ETag`.

use super::compress::Effort;
use super::content_hash::{content_tag, repr_digest, sha256};
use super::encoding::ContentCoding;
use super::options::EtagPolicy;
use super::representation::{Content, Metadata, Representation};
use bytes::Bytes;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How old a file's modification time must be before it is compressed.
pub const SETTLED_AFTER: Duration = super::hot_cache::SETTLED_AFTER;

/// The most slots (variants, in the making, or declined) kept at once.
pub const MAX_SLOTS: usize = 64 * 1024;

/// How many times a fast variant is served before it is worth the best
/// effort.
pub const UPGRADE_AFTER_HITS: u64 = 8;

/// One version of one file, as `fstat` describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileVersion {
    pub device: u64,
    pub inode: u64,
    pub size: u64,
    pub mtime: (i64, u64),
}

impl FileVersion {
    // The conversions are no-ops on x86_64 but not on every target.
    #[allow(clippy::useless_conversion)]
    pub fn of(stat: &rustix::fs::Stat) -> FileVersion {
        FileVersion {
            device: u64::from(stat.st_dev),
            inode: u64::from(stat.st_ino),
            size: u64::try_from(stat.st_size).unwrap_or(0),
            mtime: (i64::from(stat.st_mtime), u64::from(stat.st_mtime_nsec)),
        }
    }

    /// Whether no write can be hiding behind an unchanged modification time
    /// by the wall clock `now`.
    pub fn is_settled(&self, now: SystemTime) -> bool {
        let Ok(now) = now.duration_since(UNIX_EPOCH) else {
            return false;
        };
        let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        self.mtime.0 < now.saturating_sub(SETTLED_AFTER.as_secs() as i64)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VariantKey {
    pub version: FileVersion,
    pub coding: ContentCoding,
}

/// Variants of at least this many bytes live in a sealed memory-backed
/// file (`memfd`), so the driver sends them as it sends files (`sendfile`
/// on plain TCP) instead of copying them; smaller ones go out with their
/// head in one write anyway (the driver coalesces bodies up to 32 KiB).
pub const MEMORY_FILE_FROM_BYTES: usize = 64 * 1024;

/// Where a variant's bytes are.
#[derive(Debug)]
enum Stored {
    Memory(Bytes),
    /// A sealed memfd holding exactly `len` bytes.
    MemoryFile {
        file: File,
        len: u64,
    },
}

/// A compressed variant: its bytes and what describes them.
#[derive(Debug)]
pub struct Variant {
    stored: Stored,
    pub metadata: Metadata,
    pub effort: Effort,
    pub coding: ContentCoding,
    /// What its tag is made of: the file's tag with its coding and level,
    /// or (`--etag content`) its own digest.
    pub etag: EtagPolicy,
}

impl Variant {
    /// The variant of a file described by `plain` (the file's own
    /// metadata): the same fields, with an `ETag` of its own and
    /// `Content-Encoding` before `Vary`, and its own `Repr-Digest` (of the
    /// encoded bytes, RFC 9530 §3). Its tag is the file's with the coding
    /// and level appended inside the quotes, so each coding and effort has
    /// a tag of its own (RFC 9110 §8.8.3.3); with `--etag content`, its
    /// digest's.
    pub fn new(
        bytes: Bytes,
        plain: &Metadata,
        coding: ContentCoding,
        effort: Effort,
        etag: EtagPolicy,
    ) -> Variant {
        let mut metadata = plain.clone();
        let digest = sha256(&bytes);
        metadata.repr_digest = Some(repr_digest(&digest));
        let tag = match etag {
            EtagPolicy::Mtime => {
                let suffix = VariantTag { coding, effort }.tag_suffix();
                field(&metadata, "ETag").map(|quoted| {
                    let inner = quoted.strip_suffix('"').unwrap_or(quoted);
                    format!("{inner}{suffix}\"")
                })
            }
            EtagPolicy::Content => Some(content_tag(&digest)),
        };
        set_etag(&mut metadata, tag);
        let stored = store(bytes);
        let at = metadata
            .fields
            .iter()
            .position(|(name, _)| *name == "Vary")
            .unwrap_or(metadata.fields.len());
        metadata
            .fields
            .insert(at, ("Content-Encoding", Cow::Borrowed(coding.token())));
        metadata.varies_on_coding = true;
        Variant {
            stored,
            metadata,
            effort,
            coding,
            etag,
        }
    }

    /// How many bytes it has.
    pub fn len(&self) -> u64 {
        match &self.stored {
            Stored::Memory(bytes) => bytes.len() as u64,
            Stored::MemoryFile { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All its bytes (read back from its memory file if it has one): the
    /// source of an upgrade.
    pub fn bytes(&self) -> Option<Bytes> {
        match &self.stored {
            Stored::Memory(bytes) => Some(bytes.clone()),
            Stored::MemoryFile { file, len } => {
                let mut bytes = vec![0; usize::try_from(*len).ok()?];
                file.read_exact_at(&mut bytes, 0).ok()?;
                Some(Bytes::from(bytes))
            }
        }
    }

    /// The same variant with other bytes, made at `effort`: its tag and
    /// digest say so.
    pub fn remade(&self, bytes: Bytes, effort: Effort) -> Variant {
        let mut metadata = self.metadata.clone();
        let coding = self.coding;
        let old = VariantTag {
            coding,
            effort: self.effort,
        };
        let (old, new) = (old.tag_suffix(), VariantTag { coding, effort }.tag_suffix());
        let digest = sha256(&bytes);
        metadata.repr_digest = Some(repr_digest(&digest));
        let tag = match self.etag {
            EtagPolicy::Mtime => field(&metadata, "ETag").map(|quoted| {
                let inner = quoted.strip_suffix('"').unwrap_or(quoted);
                let base = inner.strip_suffix(old.as_str()).unwrap_or(inner);
                format!("{base}{new}\"")
            }),
            EtagPolicy::Content => Some(content_tag(&digest)),
        };
        set_etag(&mut metadata, tag);
        Variant {
            stored: store(bytes),
            metadata,
            effort,
            coding,
            etag: self.etag,
        }
    }

    /// The variant as a representation to answer with: from memory, or
    /// its memory file (a descriptor of its own for the response; if none
    /// can be had, its bytes read back).
    pub fn representation(&self) -> Representation {
        let content = match &self.stored {
            Stored::Memory(bytes) => Content::Memory(bytes.clone()),
            Stored::MemoryFile { file, len } => match file.try_clone() {
                Ok(file) => Content::File {
                    file,
                    offset: 0,
                    len: *len,
                },
                Err(_) => Content::Memory(self.bytes().unwrap_or_default()),
            },
        };
        Representation {
            metadata: self.metadata.clone(),
            content,
        }
    }
}

/// `bytes` where a variant keeps them: a sealed memory file when large
/// (see [`MEMORY_FILE_FROM_BYTES`]) and one can be made, else memory.
fn store(bytes: Bytes) -> Stored {
    if bytes.len() < MEMORY_FILE_FROM_BYTES {
        return Stored::Memory(bytes);
    }
    match memory_file(&bytes) {
        Some(file) => Stored::MemoryFile {
            file,
            len: bytes.len() as u64,
        },
        None => Stored::Memory(bytes),
    }
}

/// A memfd holding `bytes`, sealed against any change, so every response
/// that shares it sends the same bytes.
fn memory_file(bytes: &[u8]) -> Option<File> {
    use rustix::fs::{fcntl_add_seals, memfd_create, MemfdFlags, SealFlags};
    let fd = memfd_create(
        "httpserver-variant",
        MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
    )
    .ok()?;
    let file = File::from(fd);
    file.write_all_at(bytes, 0).ok()?;
    let seals = SealFlags::SEAL | SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE;
    fcntl_add_seals(&file, seals).ok()?;
    Some(file)
}

/// The value of the field `name` of `metadata`.
fn field<'a>(metadata: &'a Metadata, name: &str) -> Option<&'a str> {
    metadata
        .fields
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.as_ref())
}

/// Set the `ETag` of `metadata` to `tag` (added after `Content-Type` if it
/// had none), or remove it (`None`).
fn set_etag(metadata: &mut Metadata, tag: Option<String>) {
    let at = metadata.fields.iter().position(|(n, _)| *n == "ETag");
    match (at, tag) {
        (Some(at), Some(tag)) => metadata.fields[at].1 = Cow::Owned(tag),
        (Some(at), None) => {
            metadata.fields.remove(at);
        }
        (None, Some(tag)) => {
            let after_type = metadata
                .fields
                .iter()
                .position(|(n, _)| *n == "Content-Type")
                .map_or(0, |at| at + 1);
            metadata
                .fields
                .insert(after_type, ("ETag", Cow::Owned(tag)));
        }
        (None, None) => {}
    }
}

/// What makes a variant's tag differ from its file's.
struct VariantTag {
    coding: ContentCoding,
    effort: Effort,
}

impl VariantTag {
    /// What the tag ends with inside the quotes: coding and level.
    fn tag_suffix(&self) -> String {
        format!("-{}{}", self.coding.token(), self.effort.level(self.coding))
    }
}

/// What the cache knows of one key.
enum Slot {
    /// A job is queued or running.
    Making,
    /// Made: served until evicted.
    Ready(Ready),
    /// Not worth keeping (no smaller than the file, or larger than the
    /// whole budget): the file is served as it is.
    Declined,
}

struct Ready {
    variant: Arc<Variant>,
    /// The tick of its last use, for eviction.
    last_used: AtomicU64,
    /// How often it was served, to find popular variants to upgrade.
    hits: AtomicU64,
    /// Whether an upgrade was tried (successful or not).
    upgrade_tried: bool,
}

/// What a lookup found.
pub enum Found {
    /// Serve this.
    Ready(Arc<Variant>),
    /// Being made: serve something else meanwhile.
    Making,
    /// Not worth it: serve something else.
    Declined,
    /// Nothing known: the caller may start making it.
    Absent,
}

#[derive(Default)]
struct Slots {
    map: HashMap<VariantKey, Slot>,
    /// Bytes of all ready variants.
    bytes: u64,
}

/// Counts of what the caches did to their contents, for the metrics: every
/// cache adds to and takes from the same block (see
/// [`crate::service::counters::variant_cache_stats`]).
#[derive(Debug, Default)]
pub struct VariantCacheStats {
    /// Bytes of the variants held now.
    pub bytes: AtomicU64,
    /// Variants evicted to make room.
    pub evictions: AtomicU64,
    /// Variants replaced by a smaller one made at the best effort.
    pub upgrades: AtomicU64,
}

/// The cache of one [`super::StaticFiles`], shared by every worker and the
/// compressor threads.
pub struct VariantCache {
    slots: RwLock<Slots>,
    budget_bytes: u64,
    /// A clock for last use: ticks, not time.
    tick: AtomicU64,
    /// [`UPGRADE_AFTER_HITS`]; tests that count on a tag staying put raise it.
    upgrade_after_hits: AtomicU64,
    stats: Arc<VariantCacheStats>,
}

impl VariantCache {
    /// An empty cache holding at most `budget_bytes` of variants; `stats`
    /// is where it reports its contents (shared with the metrics).
    pub fn new(budget_bytes: u64, stats: Arc<VariantCacheStats>) -> VariantCache {
        VariantCache {
            slots: RwLock::default(),
            budget_bytes,
            tick: AtomicU64::new(1),
            upgrade_after_hits: AtomicU64::new(UPGRADE_AFTER_HITS),
            stats,
        }
    }

    /// What is known of `key`; a ready variant is marked used.
    pub fn find(&self, key: &VariantKey) -> Found {
        let slots = self.slots.read().unwrap_or_else(|e| e.into_inner());
        match slots.map.get(key) {
            Some(Slot::Ready(ready)) => {
                ready.last_used.store(self.next_tick(), Ordering::Relaxed);
                let hits = ready.hits.load(Ordering::Relaxed);
                ready.hits.store(hits + 1, Ordering::Relaxed);
                Found::Ready(Arc::clone(&ready.variant))
            }
            Some(Slot::Making) => Found::Making,
            Some(Slot::Declined) => Found::Declined,
            None => Found::Absent,
        }
    }

    /// Mark `key` as being made, unless something is known of it already;
    /// whether it was marked (then the caller queues the job, and calls
    /// [`VariantCache::abandon`] if it cannot).
    pub fn start_making(&self, key: VariantKey) -> bool {
        let mut slots = self.slots.write().unwrap_or_else(|e| e.into_inner());
        if slots.map.contains_key(&key) {
            return false;
        }
        if slots.map.len() >= MAX_SLOTS && !self.evict_one(&mut slots) {
            return false;
        }
        slots.map.insert(key, Slot::Making);
        true
    }

    /// Forget a variant that could not be made (the queue was full, or the
    /// file changed while read): a later request may try again.
    pub fn abandon(&self, key: &VariantKey) {
        let mut slots = self.slots.write().unwrap_or_else(|e| e.into_inner());
        if matches!(slots.map.get(key), Some(Slot::Making)) {
            slots.map.remove(key);
        }
    }

    /// Store what was made for `key`: `Some(variant)` if smaller than the
    /// file, `None` if not. A variant larger than the whole budget is
    /// declined; room is made by evicting the least recently used.
    pub fn finish(&self, key: VariantKey, variant: Option<Variant>) {
        let mut slots = self.slots.write().unwrap_or_else(|e| e.into_inner());
        // Dropped meanwhile (evicted while being made): make no room for it.
        if !matches!(slots.map.get(&key), Some(Slot::Making)) {
            return;
        }
        let slot = match variant {
            Some(variant) if (variant.len()) <= self.budget_bytes => {
                let len = variant.len();
                while slots.bytes + len > self.budget_bytes {
                    if !self.evict_one(&mut slots) {
                        break;
                    }
                }
                self.add_bytes(&mut slots, len);
                Slot::Ready(Ready {
                    variant: Arc::new(variant),
                    last_used: AtomicU64::new(self.next_tick()),
                    hits: AtomicU64::new(0),
                    upgrade_tried: false,
                })
            }
            _ => Slot::Declined,
        };
        slots.map.insert(key, slot);
    }

    /// The most served ready variant still at the fast effort, served at
    /// least [`UPGRADE_AFTER_HITS`] times and not tried yet; marked tried.
    pub fn upgrade_candidate(&self) -> Option<(VariantKey, Arc<Variant>)> {
        let mut slots = self.slots.write().unwrap_or_else(|e| e.into_inner());
        let (key, ready) = slots
            .map
            .iter_mut()
            .filter_map(|(key, slot)| match slot {
                Slot::Ready(ready)
                    if !ready.upgrade_tried
                        && ready.variant.effort == Effort::Fast
                        && ready.hits.load(Ordering::Relaxed)
                            >= self.upgrade_after_hits.load(Ordering::Relaxed) =>
                {
                    Some((key, ready))
                }
                _ => None,
            })
            .max_by_key(|(_, ready)| ready.hits.load(Ordering::Relaxed))?;
        ready.upgrade_tried = true;
        Some((*key, Arc::clone(&ready.variant)))
    }

    /// Replace the variant of `key` by `better` (made at the best effort
    /// from it), if it is still there and `better` is smaller.
    pub fn upgrade(&self, key: &VariantKey, better: Variant) {
        let mut slots = self.slots.write().unwrap_or_else(|e| e.into_inner());
        let Some(Slot::Ready(ready)) = slots.map.get_mut(key) else {
            return;
        };
        let (old, new) = (ready.variant.len(), better.len());
        if new >= old {
            return;
        }
        ready.variant = Arc::new(better);
        slots.bytes -= old - new;
        self.stats.bytes.fetch_sub(old - new, Ordering::Relaxed);
        self.stats.upgrades.fetch_add(1, Ordering::Relaxed);
    }

    /// Evict the least recently used ready variant, or else any declined
    /// slot; whether one was.
    fn evict_one(&self, slots: &mut Slots) -> bool {
        let oldest = slots
            .map
            .iter()
            .filter_map(|(key, slot)| match slot {
                Slot::Ready(ready) => Some((ready.last_used.load(Ordering::Relaxed), *key)),
                Slot::Declined => Some((0, *key)),
                Slot::Making => None,
            })
            .min_by_key(|(last_used, _)| *last_used);
        let Some((_, key)) = oldest else {
            return false;
        };
        if let Some(Slot::Ready(ready)) = slots.map.remove(&key) {
            let len = ready.variant.len();
            slots.bytes -= len;
            self.stats.bytes.fetch_sub(len, Ordering::Relaxed);
            self.stats.evictions.fetch_add(1, Ordering::Relaxed);
        }
        true
    }

    /// The next tick of the use clock. A relaxed load and store: a lost
    /// update among racing workers costs an eviction order, never a wrong
    /// answer.
    fn next_tick(&self) -> u64 {
        let tick = self.tick.load(Ordering::Relaxed);
        self.tick.store(tick + 1, Ordering::Relaxed);
        tick
    }

    fn add_bytes(&self, slots: &mut Slots, len: u64) {
        slots.bytes += len;
        self.stats.bytes.fetch_add(len, Ordering::Relaxed);
    }

    /// Upgrade only after `hits` (tests that hold on to a tag).
    #[cfg(test)]
    pub fn set_upgrade_after_hits(&self, hits: u64) {
        self.upgrade_after_hits.store(hits, Ordering::Relaxed);
    }

    /// Whether `key` is being made (for tests that wait for it).
    #[cfg(test)]
    pub fn is_making(&self, key: &VariantKey) -> bool {
        let slots = self.slots.read().unwrap_or_else(|e| e.into_inner());
        matches!(slots.map.get(key), Some(Slot::Making))
    }
}

impl Drop for VariantCache {
    fn drop(&mut self) {
        let slots = self.slots.get_mut().unwrap_or_else(|e| e.into_inner());
        self.stats.bytes.fetch_sub(slots.bytes, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(inode: u64, coding: ContentCoding) -> VariantKey {
        VariantKey {
            version: FileVersion {
                device: 1,
                inode,
                size: 1000,
                mtime: (1, 0),
            },
            coding,
        }
    }

    fn plain() -> Metadata {
        Metadata {
            fields: vec![
                ("Content-Type", Cow::Borrowed("text/css")),
                ("ETag", Cow::Borrowed("\"abc-1\"")),
                ("Accept-Ranges", Cow::Borrowed("bytes")),
                ("Vary", Cow::Borrowed("Accept-Encoding")),
            ],
            last_modified: Some(1),
            media_type: "text/css",
            accepts_ranges: true,
            varies_on_coding: true,
            repr_digest: None,
        }
    }

    fn variant(len: usize) -> Variant {
        Variant::new(
            Bytes::from(vec![b'x'; len]),
            &plain(),
            ContentCoding::Gzip,
            Effort::Fast,
            EtagPolicy::Mtime,
        )
    }

    fn is_ready(cache: &VariantCache, key: &VariantKey) -> bool {
        matches!(cache.find(key), Found::Ready(_))
    }

    #[test]
    fn a_variant_has_its_own_tag_and_coding_before_vary() {
        let fast = variant(10);
        let names: Vec<&str> = fast.metadata.fields.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "Content-Type",
                "ETag",
                "Accept-Ranges",
                "Content-Encoding",
                "Vary"
            ]
        );
        let tag = |v: &Variant| v.metadata.fields[1].1.clone().into_owned();
        assert_eq!(tag(&fast), "\"abc-1-gzip5\"");
        let best = Variant::new(
            Bytes::new(),
            &plain(),
            ContentCoding::Brotli,
            Effort::Best,
            EtagPolicy::Mtime,
        );
        assert_eq!(tag(&best), "\"abc-1-br11\"");
        assert_eq!(best.metadata.fields[3].1, "br");
        let remade = fast.remade(Bytes::new(), Effort::Best);
        assert_eq!(tag(&remade), "\"abc-1-gzip9\"");
        assert_eq!(remade.metadata.fields.len(), fast.metadata.fields.len());
    }

    #[test]
    fn a_variant_is_made_once_and_declined_ones_are_remembered() {
        let cache = VariantCache::new(1 << 20, Arc::default());
        let (a, b) = (key(1, ContentCoding::Gzip), key(2, ContentCoding::Gzip));
        assert!(matches!(cache.find(&a), Found::Absent));
        assert!(cache.start_making(a));
        // A second request while it is made does not start it again.
        assert!(!cache.start_making(a));
        assert!(matches!(cache.find(&a), Found::Making));
        cache.finish(a, Some(variant(100)));
        assert!(is_ready(&cache, &a));
        assert!(cache.start_making(b));
        cache.finish(b, None);
        assert!(matches!(cache.find(&b), Found::Declined));
        assert!(!cache.start_making(b));
        // An abandoned one may be tried again.
        let c = key(3, ContentCoding::Brotli);
        assert!(cache.start_making(c));
        cache.abandon(&c);
        assert!(cache.start_making(c));
    }

    #[test]
    fn the_least_recently_used_is_evicted_to_stay_under_the_budget() {
        let stats = Arc::new(VariantCacheStats::default());
        let cache = VariantCache::new(250, Arc::clone(&stats));
        let keys: Vec<VariantKey> = (1..=4).map(|i| key(i, ContentCoding::Zstd)).collect();
        for key in &keys[..2] {
            assert!(cache.start_making(*key));
            cache.finish(*key, Some(variant(100)));
        }
        // Use the first: the second is now the least recently used.
        assert!(is_ready(&cache, &keys[0]));
        assert!(cache.start_making(keys[2]));
        cache.finish(keys[2], Some(variant(100)));
        assert!(is_ready(&cache, &keys[0]));
        assert!(matches!(cache.find(&keys[1]), Found::Absent));
        assert!(is_ready(&cache, &keys[2]));
        assert_eq!(stats.bytes.load(Ordering::Relaxed), 200);
        assert_eq!(stats.evictions.load(Ordering::Relaxed), 1);
        // Larger than the whole budget: declined, nothing evicted.
        assert!(cache.start_making(keys[3]));
        cache.finish(keys[3], Some(variant(251)));
        assert!(matches!(cache.find(&keys[3]), Found::Declined));
        assert_eq!(stats.bytes.load(Ordering::Relaxed), 200);
        assert_eq!(stats.evictions.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn popular_fast_variants_are_upgraded_once_and_only_when_smaller() {
        let stats = Arc::new(VariantCacheStats::default());
        let cache = VariantCache::new(1 << 20, Arc::clone(&stats));
        let (a, b) = (key(1, ContentCoding::Brotli), key(2, ContentCoding::Brotli));
        for key in [a, b] {
            assert!(cache.start_making(key));
            cache.finish(key, Some(variant(100)));
        }
        assert!(cache.upgrade_candidate().is_none(), "nothing popular yet");
        for _ in 0..UPGRADE_AFTER_HITS {
            assert!(is_ready(&cache, &a));
        }
        let (candidate, _) = cache.upgrade_candidate().expect("a is popular");
        assert_eq!(candidate, a);
        assert!(cache.upgrade_candidate().is_none(), "tried once only");
        let larger = Variant::new(
            Bytes::from(vec![0; 120]),
            &plain(),
            ContentCoding::Brotli,
            Effort::Best,
            EtagPolicy::Mtime,
        );
        cache.upgrade(&a, larger);
        let Found::Ready(kept) = cache.find(&a) else {
            panic!("still there")
        };
        assert_eq!(kept.effort, Effort::Fast);
        let smaller = Variant::new(
            Bytes::from(vec![0; 60]),
            &plain(),
            ContentCoding::Brotli,
            Effort::Best,
            EtagPolicy::Mtime,
        );
        cache.upgrade(&a, smaller);
        let Found::Ready(upgraded) = cache.find(&a) else {
            panic!("still there")
        };
        assert_eq!((upgraded.effort, upgraded.len()), (Effort::Best, 60));
        assert_eq!(stats.bytes.load(Ordering::Relaxed), 160);
        assert_eq!(stats.upgrades.load(Ordering::Relaxed), 1);
    }
}
