//! The compressor: a few threads off the event loops that make the
//! [`super::variant_cache`]'s variants and the [`super::content_hash`]
//! digests of file versions, and upgrade popular variants when they have
//! nothing else to do.
//!
//! Bounded: [`THREADS`] threads (started with the first job, so a server
//! that never compresses has none), a queue of [`QUEUE_JOBS`]; a job that
//! finds the queue full is not queued (the variant is forgotten and a later
//! request asks again), so a burst of new files never piles up work or
//! memory. The threads run at a lower priority (nice 10): under load the
//! event loops come first, and at worst clients get the file uncompressed
//! a little longer.
//!
//! A job reads the file through its own descriptor (a duplicate of the one
//! the request opened) and keeps the result only if the file's version is
//! the same before and after the read; a hot-cache entry hands over its
//! bytes instead. When the queue has been empty for [`IDLE_BEFORE_UPGRADE`],
//! a thread takes the most asked fast variant, decodes it (no file access:
//! these are the very bytes of that version) and recompresses it at the
//! best effort.

use super::compress::{compress, decompress, Effort};
use super::content_hash::{sha256, ContentHashes, Hasher, Sha256Digest};
use super::options::EtagPolicy;
use super::representation::Metadata;
use super::variant_cache::{FileVersion, Variant, VariantCache, VariantKey};
use bytes::Bytes;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// How many threads compress.
pub const THREADS: usize = 2;

/// How many jobs may wait.
pub const QUEUE_JOBS: usize = 256;

/// How long the queue stays empty before a thread upgrades a variant.
pub const IDLE_BEFORE_UPGRADE: Duration = Duration::from_millis(200);

/// The nice value of the compressor threads (Linux applies it per thread).
const NICE: i32 = 10;

/// Where a job's bytes come from.
pub enum Source {
    /// The open file (its own descriptor), to be read whole.
    File(File),
    /// Its bytes, already read and checked (a hot-cache entry's).
    Memory(Bytes),
}

/// Make the variant `key` of a file from `source`, described as the file
/// is by `plain`, with tags made as `etag` says.
pub struct Job {
    pub key: VariantKey,
    pub source: Source,
    pub plain: Metadata,
    pub etag: EtagPolicy,
}

/// What the threads are asked to do.
enum Work {
    Make(Job),
    /// The digest of the file version `version`, read from `source`.
    Hash {
        version: FileVersion,
        source: Source,
    },
}

/// The threads and their queue; one per [`super::StaticFiles`]. Dropping it
/// ends the threads once their current job is done.
pub struct Compressor {
    cache: Arc<VariantCache>,
    hashes: Arc<ContentHashes>,
    queue: OnceLock<SyncSender<Work>>,
}

impl Compressor {
    pub fn new(cache: Arc<VariantCache>, hashes: Arc<ContentHashes>) -> Compressor {
        Compressor {
            cache,
            hashes,
            queue: OnceLock::new(),
        }
    }

    /// Queue `job`; if the queue is full, forget its variant (see the
    /// module docs).
    pub fn submit(&self, job: Job) {
        if let Some(Work::Make(job)) = self.queue(Work::Make(job)) {
            self.cache.abandon(&job.key);
        }
    }

    /// Queue the digest of `version`; if the queue is full, forget it.
    pub fn submit_hash(&self, version: FileVersion, source: Source) {
        if self.queue(Work::Hash { version, source }).is_some() {
            self.hashes.finish(version, None);
        }
    }

    /// Queue `work`, or give it back if the queue is full.
    fn queue(&self, work: Work) -> Option<Work> {
        let queue = self.queue.get_or_init(|| start(&self.cache, &self.hashes));
        match queue.try_send(work) {
            Ok(()) => None,
            Err(TrySendError::Full(work) | TrySendError::Disconnected(work)) => Some(work),
        }
    }
}

/// Start the threads; the sender is their queue.
fn start(cache: &Arc<VariantCache>, hashes: &Arc<ContentHashes>) -> SyncSender<Work> {
    let (sender, receiver) = sync_channel::<Work>(QUEUE_JOBS);
    let receiver = Arc::new(Mutex::new(receiver));
    for index in 0..THREADS {
        let (cache, receiver) = (Arc::clone(cache), Arc::clone(&receiver));
        let hashes = Arc::clone(hashes);
        let spawned = std::thread::Builder::new()
            .name(format!("compressor-{index}"))
            .spawn(move || run(&cache, &hashes, &receiver));
        if spawned.is_err() {
            // Without threads jobs stay queued until the queue is full,
            // then are refused: files go out uncompressed.
            crate::diag::warn(format_args!("cannot start a compressor thread"));
        }
    }
    sender
}

fn run(cache: &VariantCache, hashes: &ContentHashes, receiver: &Mutex<Receiver<Work>>) {
    // Per thread on Linux: only this thread gets the lower priority.
    let _ = rustix::process::setpriority_process(None, NICE);
    loop {
        let next = {
            let receiver = receiver.lock().unwrap_or_else(|e| e.into_inner());
            receiver.recv_timeout(IDLE_BEFORE_UPGRADE)
        };
        match next {
            Ok(Work::Make(job)) => make(cache, job),
            Ok(Work::Hash { version, source }) => {
                hashes.finish(version, digest_of(&source, &version));
            }
            Err(RecvTimeoutError::Timeout) => upgrade_one(cache),
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Do `job`: the variant if it is smaller than the file, the fact that it
/// is not, or nothing if the file changed while read.
pub fn make(cache: &VariantCache, job: Job) {
    let Job {
        key,
        source,
        plain,
        etag,
    } = job;
    let bytes = match source {
        Source::Memory(bytes) => Some(bytes),
        Source::File(file) => read_version(&file, &key.version),
    };
    let Some(bytes) = bytes else {
        cache.abandon(&key);
        return;
    };
    let variant = compress(&bytes, key.coding, Effort::Fast)
        .filter(|encoded| encoded.len() < bytes.len())
        .map(|encoded| Variant::new(Bytes::from(encoded), &plain, key.coding, Effort::Fast, etag));
    cache.finish(key, variant);
}

/// Upgrade the most asked fast variant, if one is due.
pub fn upgrade_one(cache: &VariantCache) {
    let Some((key, fast)) = cache.upgrade_candidate() else {
        return;
    };
    let Some(encoded) = fast.bytes() else {
        return;
    };
    let Some(source) = decompress(&encoded, key.coding, key.version.size) else {
        return;
    };
    if let Some(best) = compress(&source, key.coding, Effort::Best) {
        cache.upgrade(&key, fast.remade(Bytes::from(best), Effort::Best));
    }
}

/// The digest of all of `source`, read in pieces if it is a file, if it is
/// `version` before and after the read.
fn digest_of(source: &Source, version: &FileVersion) -> Option<Sha256Digest> {
    let file = match source {
        Source::Memory(bytes) => return Some(sha256(bytes)),
        Source::File(file) => file,
    };
    if !is_version(file, version) {
        return None;
    }
    let mut hasher = Hasher::new();
    let mut buffer = vec![0; 256 * 1024];
    let mut offset = 0u64;
    while offset < version.size {
        let want = usize::try_from(version.size - offset)
            .unwrap_or(usize::MAX)
            .min(buffer.len());
        file.read_exact_at(&mut buffer[..want], offset).ok()?;
        hasher.update(&buffer[..want]);
        offset += want as u64;
    }
    is_version(file, version).then(|| hasher.finish())
}

/// Whether `file` is still `version`.
fn is_version(file: &File, version: &FileVersion) -> bool {
    rustix::fs::fstat(file)
        .ok()
        .is_some_and(|stat| FileVersion::of(&stat) == *version)
}

/// All of `file`, if it is `version` before and after the read.
fn read_version(file: &File, version: &FileVersion) -> Option<Bytes> {
    if !is_version(file, version) {
        return None;
    }
    let mut bytes = vec![0; usize::try_from(version.size).ok()?];
    file.read_exact_at(&mut bytes, 0).ok()?;
    is_version(file, version).then(|| Bytes::from(bytes))
}
