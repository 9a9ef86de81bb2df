//! The Prometheus text exposition format, version 0.0.4: `# HELP` and
//! `# TYPE` before each family, one sample per line, families in a fixed
//! order. Names follow the Prometheus conventions: the `httpserver_`
//! prefix, base units (`_seconds`, `_bytes`), `_total` on counters.
//! Pure: a [`Snapshot`] and [`ProcessStats`] in, text out.

use super::process::ProcessStats;
use super::{Readiness, Snapshot, DURATION_BUCKETS, SIZE_BUCKETS};
use std::fmt::Write;

/// The `Content-Type` of a scrape's body.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Write every family.
pub fn render(snapshot: &Snapshot, process: &ProcessStats, out: &mut String) {
    let s = snapshot;
    family(
        out,
        "httpserver_http_requests_total",
        "counter",
        "Responses sent, by request method (OTHER for any non-standard method, or none read) and status code (or class).",
    );
    for (method, code, count) in &s.requests {
        let _ = writeln!(
            out,
            "httpserver_http_requests_total{{method=\"{method}\",code=\"{code}\"}} {count}"
        );
    }
    histogram(
        out,
        "httpserver_http_request_duration_seconds",
        "Time from a request's first byte to the end of its response.",
        &DURATION_BUCKETS,
        &s.duration_buckets,
        &seconds(s.duration_nanos),
    );
    histogram(
        out,
        "httpserver_http_response_size_bytes",
        "Bytes of each response that reached the socket, head included.",
        &SIZE_BUCKETS,
        &s.size_buckets,
        &s.sent_bytes.to_string(),
    );
    single(
        out,
        "httpserver_sent_bytes_total",
        "counter",
        "Bytes of responses that reached the socket, heads included.",
        s.sent_bytes,
    );
    single(
        out,
        "httpserver_connections_accepted_total",
        "counter",
        "Connections accepted on the site's listener.",
        s.connections_accepted,
    );
    single(
        out,
        "httpserver_connections_open",
        "gauge",
        "Connections open on the site's listener, active or idle.",
        s.connections_open,
    );
    single(
        out,
        "httpserver_connections_max",
        "gauge",
        "The cap on open site connections (--max-connections, fitted under the open-file limit).",
        s.max_connections,
    );
    single(
        out,
        "httpserver_requests_in_flight",
        "gauge",
        "Requests whose head was read and whose response is not yet sent.",
        s.requests_in_flight,
    );
    single(
        out,
        "httpserver_hot_cache_hits_total",
        "counter",
        "Requests answered from the in-memory hot cache.",
        s.hot_cache_hits,
    );
    single(
        out,
        "httpserver_hot_cache_misses_total",
        "counter",
        "Requests the hot cache could not answer, left to the file system.",
        s.hot_cache_misses,
    );
    single(
        out,
        "httpserver_compressed_variant_hits_total",
        "counter",
        "Requests answered with a compressed variant from the variant cache.",
        s.variant_cache_hits,
    );
    single(
        out,
        "httpserver_compressed_variant_misses_total",
        "counter",
        "Requests that could have had a compressed variant and got the file as it is.",
        s.variant_cache_misses,
    );
    single(
        out,
        "httpserver_compressed_variant_bytes",
        "gauge",
        "Bytes of compressed variants held in memory.",
        s.variant_cache_bytes,
    );
    single(
        out,
        "httpserver_compressed_variant_evictions_total",
        "counter",
        "Compressed variants evicted to stay under --compress-cache-bytes.",
        s.variant_cache_evictions,
    );
    single(
        out,
        "httpserver_compressed_variant_upgrades_total",
        "counter",
        "Compressed variants replaced by a smaller one made at the best effort.",
        s.variant_cache_upgrades,
    );
    single(
        out,
        "httpserver_access_log_dropped_lines_total",
        "counter",
        "Access-log lines dropped because the log's output fell behind.",
        s.log_lines_dropped,
    );
    family(
        out,
        "httpserver_proxy_protocol_rejections_total",
        "counter",
        "Connections closed for their PROXY-protocol preamble, by reason.",
    );
    for (reason, count) in &s.proxy_rejections {
        let _ = writeln!(
            out,
            "httpserver_proxy_protocol_rejections_total{{reason=\"{reason}\"}} {count}"
        );
    }
    single(
        out,
        "httpserver_ready",
        "gauge",
        "1 while /readyz answers 200; 0 while draining or at the connection cap.",
        u64::from(s.readiness == Readiness::Ready),
    );
    single(
        out,
        "httpserver_draining",
        "gauge",
        "1 once a signal has started the drain.",
        u64::from(s.draining),
    );
    family(
        out,
        "httpserver_build_info",
        "gauge",
        "Always 1; the version that is running, as a label.",
    );
    let _ = writeln!(
        out,
        "httpserver_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    let p = process;
    if let Some(cpu) = p.cpu_seconds {
        let help = "Total user and system CPU time spent in seconds.";
        single_text(
            out,
            "process_cpu_seconds_total",
            "counter",
            help,
            &cpu.to_string(),
        );
    }
    if let Some(bytes) = p.resident_memory_bytes {
        let help = "Resident memory size in bytes.";
        single(out, "process_resident_memory_bytes", "gauge", help, bytes);
    }
    if let Some(bytes) = p.virtual_memory_bytes {
        let help = "Virtual memory size in bytes.";
        single(out, "process_virtual_memory_bytes", "gauge", help, bytes);
    }
    if let Some(fds) = p.open_fds {
        single(
            out,
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
            fds,
        );
    }
    if let Some(fds) = p.max_fds {
        let help = "Maximum number of open file descriptors.";
        single(out, "process_max_fds", "gauge", help, fds);
    }
    if let Some(start) = p.start_time_seconds {
        let help = "Start time of the process since unix epoch in seconds.";
        single_text(
            out,
            "process_start_time_seconds",
            "gauge",
            help,
            &start.to_string(),
        );
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn single(out: &mut String, name: &str, kind: &str, help: &str, value: u64) {
    single_text(out, name, kind, help, &value.to_string());
}

fn single_text(out: &mut String, name: &str, kind: &str, help: &str, value: &str) {
    family(out, name, kind, help);
    let _ = writeln!(out, "{name} {value}");
}

/// A histogram from cumulative counts, one per bound and then `+Inf`;
/// `_count` is the `+Inf` count, so the two always agree.
fn histogram(
    out: &mut String,
    name: &str,
    help: &str,
    bounds: &[(u64, &str)],
    cumulative: &[u64],
    sum: &str,
) {
    family(out, name, "histogram", help);
    let labels = bounds.iter().map(|&(_, le)| le).chain(["+Inf"]);
    let mut count = 0;
    for (le, &total) in labels.zip(cumulative) {
        let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {total}");
        count = total;
    }
    let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
}

/// Nanoseconds as decimal seconds, exactly (no float rounding).
fn seconds(nanos: u64) -> String {
    let fraction = nanos % 1_000_000_000;
    if fraction == 0 {
        return (nanos / 1_000_000_000).to_string();
    }
    let text = format!("{}.{fraction:09}", nanos / 1_000_000_000);
    text.trim_end_matches('0').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> Snapshot {
        let mut duration = vec![0; DURATION_BUCKETS.len() + 1];
        // One response of 30 µs, one of 60 s.
        for total in duration.iter_mut().skip(1) {
            *total = 1;
        }
        duration[DURATION_BUCKETS.len()] = 2;
        let mut size = vec![2; SIZE_BUCKETS.len() + 1];
        size[0] = 0;
        Snapshot {
            requests: vec![("GET", "200".into(), 2), ("OTHER", "4xx".into(), 1)],
            duration_buckets: duration,
            duration_nanos: 60_000_030_000,
            size_buckets: size,
            sent_bytes: 5100,
            connections_accepted: 7,
            connections_open: 3,
            max_connections: 10_000,
            requests_in_flight: 1,
            hot_cache_hits: 5,
            hot_cache_misses: 2,
            variant_cache_hits: 7,
            variant_cache_misses: 3,
            variant_cache_bytes: 4096,
            variant_cache_evictions: 1,
            variant_cache_upgrades: 2,
            log_lines_dropped: 0,
            proxy_rejections: vec![("untrusted", 4), ("malformed", 0)],
            readiness: Readiness::Draining,
            draining: true,
        }
    }

    fn rendered(process: &ProcessStats) -> String {
        let mut out = String::new();
        render(&snapshot(), process, &mut out);
        out
    }

    /// Golden lines: each family's header and samples exactly as written.
    #[test]
    fn families_are_written_with_help_type_and_samples() {
        let text = rendered(&ProcessStats::default());
        for lines in [
            "# HELP httpserver_http_requests_total Responses sent, by request method (OTHER for any non-standard method, or none read) and status code (or class).\n\
             # TYPE httpserver_http_requests_total counter\n\
             httpserver_http_requests_total{method=\"GET\",code=\"200\"} 2\n\
             httpserver_http_requests_total{method=\"OTHER\",code=\"4xx\"} 1\n",
            "# TYPE httpserver_http_request_duration_seconds histogram\n\
             httpserver_http_request_duration_seconds_bucket{le=\"2.5e-05\"} 0\n\
             httpserver_http_request_duration_seconds_bucket{le=\"5e-05\"} 1\n",
            "httpserver_http_request_duration_seconds_bucket{le=\"10\"} 1\n\
             httpserver_http_request_duration_seconds_bucket{le=\"+Inf\"} 2\n\
             httpserver_http_request_duration_seconds_sum 60.00003\n\
             httpserver_http_request_duration_seconds_count 2\n",
            "httpserver_http_response_size_bytes_bucket{le=\"64\"} 0\n\
             httpserver_http_response_size_bytes_bucket{le=\"256\"} 2\n",
            "httpserver_http_response_size_bytes_bucket{le=\"+Inf\"} 2\n\
             httpserver_http_response_size_bytes_sum 5100\n\
             httpserver_http_response_size_bytes_count 2\n",
            "# TYPE httpserver_sent_bytes_total counter\nhttpserver_sent_bytes_total 5100\n",
            "httpserver_connections_accepted_total 7\n",
            "# TYPE httpserver_connections_open gauge\nhttpserver_connections_open 3\n",
            "httpserver_connections_max 10000\n",
            "httpserver_requests_in_flight 1\n",
            "httpserver_hot_cache_hits_total 5\n",
            "httpserver_hot_cache_misses_total 2\n",
            "# TYPE httpserver_compressed_variant_hits_total counter\n\
             httpserver_compressed_variant_hits_total 7\n",
            "httpserver_compressed_variant_misses_total 3\n",
            "# TYPE httpserver_compressed_variant_bytes gauge\n\
             httpserver_compressed_variant_bytes 4096\n",
            "httpserver_compressed_variant_evictions_total 1\n",
            "httpserver_compressed_variant_upgrades_total 2\n",
            "httpserver_access_log_dropped_lines_total 0\n",
            "# TYPE httpserver_proxy_protocol_rejections_total counter\n\
             httpserver_proxy_protocol_rejections_total{reason=\"untrusted\"} 4\n\
             httpserver_proxy_protocol_rejections_total{reason=\"malformed\"} 0\n",
            "# TYPE httpserver_ready gauge\nhttpserver_ready 0\n",
            "httpserver_draining 1\n",
            "httpserver_build_info{version=\"0.1.0\"} 1\n",
        ] {
            assert!(text.contains(lines), "missing:\n{lines}\nin:\n{text}");
        }
        assert!(!text.contains("process_"), "no process figures were read");
    }

    #[test]
    fn every_sample_belongs_to_the_family_declared_before_it() {
        let text = rendered(&ProcessStats {
            cpu_seconds: Some(1.25),
            resident_memory_bytes: Some(4096),
            virtual_memory_bytes: Some(8192),
            open_fds: Some(9),
            max_fds: Some(1024),
            start_time_seconds: Some(1_736_500_000.5),
        });
        let mut family = "";
        let mut families = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                family = rest.split(' ').next().unwrap();
                assert!(!families.contains(&family), "{family} declared twice");
                families.push(family);
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap();
                let suffixes = ["", "_bucket", "_sum", "_count"];
                assert!(
                    suffixes.iter().any(|s| name == format!("{family}{s}")),
                    "{name} after # TYPE {family}"
                );
            }
        }
        for line in [
            "process_cpu_seconds_total 1.25\n",
            "process_resident_memory_bytes 4096\n",
            "process_virtual_memory_bytes 8192\n",
            "process_open_fds 9\n",
            "process_max_fds 1024\n",
            "process_start_time_seconds 1736500000.5\n",
        ] {
            assert!(text.contains(line), "missing {line}");
        }
    }

    #[test]
    fn seconds_are_written_exactly() {
        assert_eq!(seconds(0), "0");
        assert_eq!(seconds(30_000), "0.00003");
        assert_eq!(seconds(2_000_000_000), "2");
        assert_eq!(seconds(60_000_030_000), "60.00003");
        assert_eq!(seconds(1), "0.000000001");
    }
}
