//! What `/metrics` reports, where it is counted, and how a scrape reads it.
//!
//! Counting must cost the request path almost nothing, so it follows
//! Envoy's per-thread stats: each worker owns a [`WorkerMetrics`] block
//! that only its thread writes ([`OwnedCounter`]: a relaxed load and a
//! store, no lock, no atomic read-modify-write), and a scrape sums every
//! worker's block with relaxed loads ([`Metrics::snapshot`]). Services count
//! through their own per-thread block (`service::counters`).
//!
//! A histogram keeps one count per bucket, not cumulative ones; the scrape
//! cumulates them and takes `_count` from the last, so `+Inf` equals
//! `_count` in every scrape, whatever requests finish while it reads.
//!
//! Every label value comes from a fixed set: a method outside the standard
//! ones counts as `OTHER`, a status code outside [`KNOWN_CODES`] as its
//! class (`2xx`), so nothing a client sends can create a series.
//! [`exposition`] writes the Prometheus text format; [`process`] reads the
//! `process_*` figures from `/proc/self`.

pub mod exposition;
pub mod process;

use super::access_log::AccessLog;
use super::shutdown::{ConnectionTracker, Phase, ShutdownSignal};
use crate::proto::Method;
pub use crate::service::counters::OwnedCounter;
use crate::service::counters::ServiceCounters;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Methods as labelled, indexed by `Method as usize`: the standard methods
/// (RFC 9110 §9 and PATCH), and `OTHER` for any other token.
pub const METHOD_LABELS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "OTHER",
];

/// Status codes labelled as themselves; any other is labelled by its class.
pub const KNOWN_CODES: [u16; 37] = [
    200, 201, 202, 204, 206, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404, 405, 406, 408, 409,
    410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 429, 431, 500, 501, 502, 503, 504, 505,
];

/// Labels of the status slots: the known codes, then the classes, then
/// `other` for a number outside 100-599.
const CLASS_LABELS: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];
const STATUS_SLOTS: usize = KNOWN_CODES.len() + CLASS_LABELS.len();

/// Upper bounds of the request-duration buckets, in nanoseconds, with the
/// `le` labels they are written as: fine below a millisecond, where static
/// responses from memory fall, up to ten seconds.
pub const DURATION_BUCKETS: [(u64, &str); 18] = [
    (25_000, "2.5e-05"),
    (50_000, "5e-05"),
    (100_000, "0.0001"),
    (250_000, "0.00025"),
    (500_000, "0.0005"),
    (1_000_000, "0.001"),
    (2_500_000, "0.0025"),
    (5_000_000, "0.005"),
    (10_000_000, "0.01"),
    (25_000_000, "0.025"),
    (50_000_000, "0.05"),
    (100_000_000, "0.1"),
    (250_000_000, "0.25"),
    (500_000_000, "0.5"),
    (1_000_000_000, "1"),
    (2_500_000_000, "2.5"),
    (5_000_000_000, "5"),
    (10_000_000_000, "10"),
];

/// Upper bounds of the response-size buckets, in bytes: powers of four
/// from 64 bytes to 1 GiB.
pub const SIZE_BUCKETS: [(u64, &str); 13] = [
    (64, "64"),
    (256, "256"),
    (1024, "1024"),
    (4096, "4096"),
    (16_384, "16384"),
    (65_536, "65536"),
    (262_144, "262144"),
    (1_048_576, "1048576"),
    (4_194_304, "4194304"),
    (16_777_216, "16777216"),
    (67_108_864, "67108864"),
    (268_435_456, "268435456"),
    (1_073_741_824, "1073741824"),
];

/// Status code → slot, for every code below 600.
static STATUS_SLOT: [u8; 600] = status_slots();

const fn status_slots() -> [u8; 600] {
    let mut slots = [0u8; 600];
    let mut code = 0;
    while code < 600 {
        slots[code] = if code < 100 {
            (STATUS_SLOTS - 1) as u8
        } else {
            (KNOWN_CODES.len() + code / 100 - 1) as u8
        };
        code += 1;
    }
    let mut i = 0;
    while i < KNOWN_CODES.len() {
        slots[KNOWN_CODES[i] as usize] = i as u8;
        i += 1;
    }
    slots
}

fn status_slot(status: u16) -> usize {
    STATUS_SLOT
        .get(usize::from(status))
        .map_or(STATUS_SLOTS - 1, |&slot| usize::from(slot))
}

fn status_label(slot: usize) -> std::borrow::Cow<'static, str> {
    match KNOWN_CODES.get(slot) {
        Some(code) => code.to_string().into(),
        None => CLASS_LABELS[slot - KNOWN_CODES.len()].into(),
    }
}

/// The bucket `value` falls in: the first whose bound is at least it, or
/// the last (`+Inf`) past every bound.
fn bucket<const N: usize>(bounds: &[(u64, &str); N], value: u64) -> usize {
    bounds
        .iter()
        .position(|&(bound, _)| value <= bound)
        .unwrap_or(N)
}

/// One worker's counters, written only by its thread.
#[repr(align(128))] // Its own cache lines: workers never share one.
pub struct WorkerMetrics {
    requests: [[OwnedCounter; STATUS_SLOTS]; METHOD_LABELS.len()],
    duration_buckets: [OwnedCounter; DURATION_BUCKETS.len() + 1],
    duration_nanos: OwnedCounter,
    size_buckets: [OwnedCounter; SIZE_BUCKETS.len() + 1],
    sent_bytes: OwnedCounter,
    connections_accepted: OwnedCounter,
    /// Requests whose head was read, and of those, the ones answered (or
    /// given up): their difference is the requests in flight.
    exchanges_started: OwnedCounter,
    exchanges_finished: OwnedCounter,
}

impl Default for WorkerMetrics {
    fn default() -> Self {
        WorkerMetrics {
            requests: [const { [const { OwnedCounter::new() }; STATUS_SLOTS] };
                METHOD_LABELS.len()],
            duration_buckets: [const { OwnedCounter::new() }; DURATION_BUCKETS.len() + 1],
            duration_nanos: OwnedCounter::new(),
            size_buckets: [const { OwnedCounter::new() }; SIZE_BUCKETS.len() + 1],
            sent_bytes: OwnedCounter::new(),
            connections_accepted: OwnedCounter::new(),
            exchanges_started: OwnedCounter::new(),
            exchanges_finished: OwnedCounter::new(),
        }
    }
}

impl WorkerMetrics {
    /// A response left (or was given up on): `method` is `None` when no
    /// head was read (counted as `OTHER`); `bytes_sent` is what reached the
    /// socket, head included.
    #[inline]
    pub fn count_response(
        &self,
        method: Option<Method>,
        status: u16,
        duration: Duration,
        bytes_sent: u64,
    ) {
        let method = method.map_or(METHOD_LABELS.len() - 1, |m| m as usize);
        self.requests[method][status_slot(status)].add(1);
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        self.duration_buckets[bucket(&DURATION_BUCKETS, nanos)].add(1);
        self.duration_nanos.add(nanos);
        self.size_buckets[bucket(&SIZE_BUCKETS, bytes_sent)].add(1);
        self.sent_bytes.add(bytes_sent);
    }

    #[inline]
    pub fn count_accepted(&self) {
        self.connections_accepted.add(1);
    }

    /// A request's head was read: it is in flight until
    /// [`WorkerMetrics::finish_exchange`].
    #[inline]
    pub fn start_exchange(&self) {
        self.exchanges_started.add_release(1);
    }

    #[inline]
    pub fn finish_exchange(&self) {
        self.exchanges_finished.add_release(1);
    }
}

/// Where PROXY-protocol rejections are counted, by reason: the PROXY
/// preamble's counters (`transport::proxy::ProxyRejections`), handed over
/// with [`Metrics::report_proxy_rejections`] when the server is made.
/// Without it the family has no samples.
pub trait ProxyRejectionCounts: Send + Sync {
    /// Call `visit` once per reason, always the same reasons in the same
    /// order, each a fixed lowercase name (`[a-z_]+`, never from the peer),
    /// with its count so far.
    fn visit(&self, visit: &mut dyn FnMut(&'static str, u64));
}

/// Whether the server wants new work: what `/readyz` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Readiness {
    #[default]
    Ready,
    /// Draining or stopping after a signal.
    Draining,
    /// Every connection slot of the site is taken: new clients would wait
    /// in the accept queue.
    AtConnectionCap,
}

/// Everything a scrape reads, shared by the admin handlers and the server.
pub struct Metrics {
    workers: Vec<Arc<WorkerMetrics>>,
    services: Vec<Arc<ServiceCounters>>,
    /// The site's open connections.
    site_connections: Arc<ConnectionTracker>,
    max_connections: usize,
    phase: ShutdownSignal,
    access_log: OnceLock<AccessLog>,
    proxy_rejections: OnceLock<Arc<dyn ProxyRejectionCounts>>,
}

impl Metrics {
    /// Counters for `workers` workers, reading the site's open connections
    /// (at most `max_connections`) and the shutdown phase.
    pub fn new(
        workers: usize,
        site_connections: Arc<ConnectionTracker>,
        max_connections: usize,
        phase: ShutdownSignal,
    ) -> Metrics {
        Metrics {
            workers: (0..workers).map(|_| Arc::default()).collect(),
            services: (0..workers).map(|_| Arc::default()).collect(),
            site_connections,
            max_connections,
            phase,
            access_log: OnceLock::new(),
            proxy_rejections: OnceLock::new(),
        }
    }

    /// Worker `index`'s blocks: its own, and its services'.
    pub fn worker(&self, index: usize) -> (Arc<WorkerMetrics>, Arc<ServiceCounters>) {
        (
            Arc::clone(&self.workers[index]),
            Arc::clone(&self.services[index]),
        )
    }

    /// Report the access log's dropped lines.
    pub fn report_access_log(&self, log: AccessLog) {
        let _ = self.access_log.set(log);
    }

    /// Report PROXY-protocol rejections from `counts` (the first one given
    /// is kept).
    pub fn report_proxy_rejections(&self, counts: Arc<dyn ProxyRejectionCounts>) {
        let _ = self.proxy_rejections.set(counts);
    }

    /// What `/readyz` answers now.
    pub fn readiness(&self) -> Readiness {
        if self.phase.phase() != Phase::Serving {
            Readiness::Draining
        } else if self.site_connections.open_count() >= self.max_connections {
            Readiness::AtConnectionCap
        } else {
            Readiness::Ready
        }
    }

    /// Sum every worker's counters now.
    pub fn snapshot(&self) -> Snapshot {
        let mut requests = [[0u64; STATUS_SLOTS]; METHOD_LABELS.len()];
        let mut duration = [0u64; DURATION_BUCKETS.len() + 1];
        let mut size = [0u64; SIZE_BUCKETS.len() + 1];
        let mut snapshot = Snapshot {
            readiness: self.readiness(),
            draining: self.phase.phase() != Phase::Serving,
            max_connections: self.max_connections as u64,
            connections_open: self.site_connections.open_count() as u64,
            log_lines_dropped: self.access_log.get().map_or(0, AccessLog::dropped_lines),
            ..Snapshot::default()
        };
        for worker in &self.workers {
            // Finished before started, each an acquire: a finish seen
            // implies its start is seen, so in flight never goes negative.
            let finished = worker.exchanges_finished.get_acquire();
            let started = worker.exchanges_started.get_acquire();
            snapshot.requests_in_flight += started.saturating_sub(finished);
            for (row, counters) in requests.iter_mut().zip(&worker.requests) {
                for (sum, counter) in row.iter_mut().zip(counters) {
                    *sum += counter.get();
                }
            }
            for (sum, counter) in duration.iter_mut().zip(&worker.duration_buckets) {
                *sum += counter.get();
            }
            for (sum, counter) in size.iter_mut().zip(&worker.size_buckets) {
                *sum += counter.get();
            }
            snapshot.duration_nanos += worker.duration_nanos.get();
            snapshot.sent_bytes += worker.sent_bytes.get();
            snapshot.connections_accepted += worker.connections_accepted.get();
        }
        for service in &self.services {
            snapshot.hot_cache_hits += service.hot_cache_hits();
            snapshot.hot_cache_misses += service.hot_cache_misses();
            snapshot.variant_cache_hits += service.variant_hits();
            snapshot.variant_cache_misses += service.variant_misses();
        }
        let variants = crate::service::counters::variant_cache_stats();
        snapshot.variant_cache_bytes = variants.bytes.load(Ordering::Relaxed);
        snapshot.variant_cache_evictions = variants.evictions.load(Ordering::Relaxed);
        snapshot.variant_cache_upgrades = variants.upgrades.load(Ordering::Relaxed);
        for (method, row) in METHOD_LABELS.iter().zip(requests) {
            for (slot, count) in row.into_iter().enumerate() {
                if count > 0 {
                    snapshot.requests.push((method, status_label(slot), count));
                }
            }
        }
        snapshot.duration_buckets = cumulate(&duration);
        snapshot.size_buckets = cumulate(&size);
        if let Some(counts) = self.proxy_rejections.get() {
            counts.visit(&mut |reason, count| snapshot.proxy_rejections.push((reason, count)));
        }
        snapshot
    }
}

fn cumulate(counts: &[u64]) -> Vec<u64> {
    counts
        .iter()
        .scan(0u64, |total, &count| {
            *total += count;
            Some(*total)
        })
        .collect()
}

/// The server's figures at one moment, summed over workers: what
/// [`exposition::render`] writes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    /// Method, status label and count, for every pair counted at least once.
    pub requests: Vec<(&'static str, std::borrow::Cow<'static, str>, u64)>,
    /// Cumulative counts per [`DURATION_BUCKETS`] bound, then `+Inf` (which
    /// is also the count).
    pub duration_buckets: Vec<u64>,
    pub duration_nanos: u64,
    /// Cumulative counts per [`SIZE_BUCKETS`] bound, then `+Inf`.
    pub size_buckets: Vec<u64>,
    pub sent_bytes: u64,
    pub connections_accepted: u64,
    pub connections_open: u64,
    pub max_connections: u64,
    pub requests_in_flight: u64,
    pub hot_cache_hits: u64,
    pub hot_cache_misses: u64,
    pub variant_cache_hits: u64,
    pub variant_cache_misses: u64,
    /// Bytes of compressed variants held (every static-file root's).
    pub variant_cache_bytes: u64,
    pub variant_cache_evictions: u64,
    pub variant_cache_upgrades: u64,
    pub log_lines_dropped: u64,
    pub proxy_rejections: Vec<(&'static str, u64)>,
    pub readiness: Readiness,
    pub draining: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::shutdown::shutdown_channel;

    #[test]
    fn status_codes_outside_the_known_set_are_labelled_by_class() {
        for (status, label) in [
            (200, "200"),
            (404, "404"),
            (505, "505"),
            (299, "2xx"),
            (103, "1xx"),
            (418, "4xx"),
            (599, "5xx"),
            (99, "other"),
            (600, "other"),
            (u16::MAX, "other"),
        ] {
            assert_eq!(status_label(status_slot(status)), label, "{status}");
        }
    }

    #[test]
    fn method_labels_follow_the_method_enum() {
        for (method, label) in [
            (Method::Get, "GET"),
            (Method::Patch, "PATCH"),
            (Method::Other, "OTHER"),
        ] {
            assert_eq!(METHOD_LABELS[method as usize], label);
            assert_eq!(method.name().unwrap_or("OTHER"), label);
        }
    }

    #[test]
    fn a_value_on_a_bound_falls_in_that_bucket() {
        assert_eq!(bucket(&SIZE_BUCKETS, 0), 0);
        assert_eq!(bucket(&SIZE_BUCKETS, 64), 0);
        assert_eq!(bucket(&SIZE_BUCKETS, 65), 1);
        assert_eq!(bucket(&SIZE_BUCKETS, u64::MAX), SIZE_BUCKETS.len());
        assert_eq!(bucket(&DURATION_BUCKETS, 30_000), 1);
    }

    #[test]
    fn a_snapshot_sums_workers_and_its_inf_bucket_is_the_count() {
        let (trigger, signal) = shutdown_channel();
        let site = Arc::new(ConnectionTracker::default());
        let metrics = Metrics::new(2, Arc::clone(&site), 4, signal);
        let (first, _) = metrics.worker(0);
        let (second, _) = metrics.worker(1);
        first.count_response(Some(Method::Get), 200, Duration::from_micros(30), 100);
        second.count_response(Some(Method::Get), 200, Duration::from_secs(60), 5000);
        second.count_response(None, 400, Duration::ZERO, 0);
        first.start_exchange();
        first.start_exchange();
        first.finish_exchange();
        let _open: Vec<_> = (0..4).map(|_| site.open()).collect();
        let snapshot = metrics.snapshot();
        assert_eq!(
            snapshot.requests,
            vec![("GET", "200".into(), 2), ("OTHER", "400".into(), 1)]
        );
        assert_eq!(snapshot.duration_buckets.last(), Some(&3));
        assert_eq!(snapshot.duration_buckets[0], 1, "zero");
        assert_eq!(snapshot.duration_buckets[1], 2, "30 µs");
        assert_eq!(snapshot.duration_buckets[DURATION_BUCKETS.len() - 1], 2);
        assert_eq!(snapshot.size_buckets.last(), Some(&3));
        assert_eq!(snapshot.sent_bytes, 5100);
        assert_eq!(snapshot.requests_in_flight, 1);
        assert_eq!(snapshot.connections_open, 4);
        assert_eq!(snapshot.readiness, Readiness::AtConnectionCap);
        trigger.drain();
        assert_eq!(metrics.readiness(), Readiness::Draining);
    }

    /// The hooks left for other code: the hot cache counts through
    /// `service::counters` on a worker thread, the PROXY preamble reports
    /// through `ProxyRejectionCounts`; a scrape sees both.
    #[test]
    fn hot_cache_and_proxy_counts_reach_the_snapshot() {
        struct Rejections;
        impl ProxyRejectionCounts for Rejections {
            fn visit(&self, visit: &mut dyn FnMut(&'static str, u64)) {
                visit("untrusted", 3);
                visit("malformed", 0);
            }
        }
        let (_trigger, signal) = shutdown_channel();
        let site = Arc::new(ConnectionTracker::default());
        let metrics = Metrics::new(2, site, 4, signal);
        assert_eq!(metrics.snapshot().proxy_rejections, vec![]);
        let (_, services) = metrics.worker(1);
        std::thread::spawn(move || {
            crate::service::counters::install(services);
            crate::service::counters::count_hot_cache_hit();
            crate::service::counters::count_hot_cache_hit();
            crate::service::counters::count_hot_cache_miss();
        })
        .join()
        .unwrap();
        metrics.report_proxy_rejections(Arc::new(Rejections));
        let snapshot = metrics.snapshot();
        assert_eq!((snapshot.hot_cache_hits, snapshot.hot_cache_misses), (2, 1));
        assert_eq!(
            snapshot.proxy_rejections,
            vec![("untrusted", 3), ("malformed", 0)]
        );
    }
}
