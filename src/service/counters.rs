//! What services count for the server's metrics, without seeing the server.
//!
//! A service runs on a worker thread, which owns a block of
//! [`ServiceCounters`] it installed when it started ([`install`]); a service
//! bumps a counter with a plain function ([`count_hot_cache_hit`]) that finds
//! the block through a thread-local, so no handle has to be threaded
//! through the router. Only that thread writes its block; `/metrics` sums
//! every worker's blocks. Off a worker thread (a unit test calling a
//! service directly) nothing is installed and counting does nothing.

use std::cell::OnceCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub use super::static_files::variant_cache::VariantCacheStats;

/// A counter with one writer: the thread that owns it adds with a relaxed
/// load and a store (no atomic read-modify-write, no lock: a plain `mov` on
/// x86-64), and any thread reads it with a relaxed load. Envoy's per-thread
/// stats are the model. A second writer would lose counts, never corrupt
/// memory: keep each counter on one thread.
#[derive(Debug, Default)]
pub struct OwnedCounter(AtomicU64);

impl OwnedCounter {
    pub const fn new() -> OwnedCounter {
        OwnedCounter(AtomicU64::new(0))
    }

    /// Add `n`. Only the owning thread may call this.
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.store(
            self.0.load(Ordering::Relaxed).wrapping_add(n),
            Ordering::Relaxed,
        );
    }

    /// Add `n`, and make every earlier write of this thread visible to a
    /// reader that sees this one through [`OwnedCounter::get_acquire`].
    #[inline]
    pub fn add_release(&self, n: u64) {
        self.0.store(
            self.0.load(Ordering::Relaxed).wrapping_add(n),
            Ordering::Release,
        );
    }

    /// The value, from any thread.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// The value, with every write its writer made before it visible.
    pub fn get_acquire(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

/// One worker thread's counters of what services did.
#[derive(Debug, Default)]
pub struct ServiceCounters {
    hot_cache_hits: OwnedCounter,
    hot_cache_misses: OwnedCounter,
    variant_hits: OwnedCounter,
    variant_misses: OwnedCounter,
}

impl ServiceCounters {
    /// Requests the hot cache answered.
    pub fn hot_cache_hits(&self) -> u64 {
        self.hot_cache_hits.get()
    }

    /// Requests the hot cache was asked about and left to the normal path.
    pub fn hot_cache_misses(&self) -> u64 {
        self.hot_cache_misses.get()
    }

    /// Requests that accepted a coding and got a compressed variant from
    /// the variant cache.
    pub fn variant_hits(&self) -> u64 {
        self.variant_hits.get()
    }

    /// Requests that accepted a coding the variant cache could have made
    /// and got the file as it is (not made yet, or being made).
    pub fn variant_misses(&self) -> u64 {
        self.variant_misses.get()
    }
}

thread_local! {
    static CURRENT: OnceCell<Arc<ServiceCounters>> = const { OnceCell::new() };
}

/// Make `counters` this thread's block; called once by a worker thread as
/// it starts. A thread keeps the first block it was given.
pub fn install(counters: Arc<ServiceCounters>) {
    CURRENT.with(|current| {
        let _ = current.set(counters);
    });
}

/// The hot cache answered a request.
#[inline]
pub fn count_hot_cache_hit() {
    CURRENT.with(|current| {
        if let Some(counters) = current.get() {
            counters.hot_cache_hits.add(1);
        }
    });
}

/// The hot cache was asked and the request went on to the normal path.
#[inline]
pub fn count_hot_cache_miss() {
    CURRENT.with(|current| {
        if let Some(counters) = current.get() {
            counters.hot_cache_misses.add(1);
        }
    });
}

/// A compressed variant answered a request.
#[inline]
pub fn count_variant_hit() {
    CURRENT.with(|current| {
        if let Some(counters) = current.get() {
            counters.variant_hits.add(1);
        }
    });
}

/// A request that could have had a compressed variant got the file as it
/// is.
#[inline]
pub fn count_variant_miss() {
    CURRENT.with(|current| {
        if let Some(counters) = current.get() {
            counters.variant_misses.add(1);
        }
    });
}

/// What the variant caches hold and evict, for the metrics: one block for
/// the process, which every cache adds to and takes from (they change only
/// when a variant is made, evicted or upgraded, off the request path).
pub fn variant_cache_stats() -> &'static Arc<VariantCacheStats> {
    static STATS: std::sync::OnceLock<Arc<VariantCacheStats>> = std::sync::OnceLock::new();
    STATS.get_or_init(Arc::default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_reach_the_block_installed_on_this_thread_only() {
        let counters = Arc::new(ServiceCounters::default());
        let installed = Arc::clone(&counters);
        std::thread::spawn(move || {
            install(installed);
            count_hot_cache_hit();
            count_hot_cache_hit();
            count_hot_cache_miss();
        })
        .join()
        .unwrap();
        // A thread with no block counts nothing, and does not fail.
        std::thread::spawn(count_hot_cache_hit).join().unwrap();
        assert_eq!(counters.hot_cache_hits(), 2);
        assert_eq!(counters.hot_cache_misses(), 1);
    }
}
