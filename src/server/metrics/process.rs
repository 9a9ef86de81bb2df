//! The `process_*` figures Prometheus clients report, read from
//! `/proc/self` at scrape time: CPU seconds, resident and virtual memory,
//! open and allowed file descriptors, start time. Parsing is pure and
//! tested on fixed text; only [`ProcessStats::read`] touches `/proc`.

/// One reading of the process's figures; a figure that could not be read is
/// `None` and left out of the scrape.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ProcessStats {
    pub cpu_seconds: Option<f64>,
    pub resident_memory_bytes: Option<u64>,
    pub virtual_memory_bytes: Option<u64>,
    pub open_fds: Option<u64>,
    pub max_fds: Option<u64>,
    /// Seconds since the Unix epoch.
    pub start_time_seconds: Option<f64>,
}

impl ProcessStats {
    /// Read this process's figures now.
    pub fn read() -> ProcessStats {
        let ticks = rustix::param::clock_ticks_per_second();
        let page = rustix::param::page_size() as u64;
        let stat = std::fs::read_to_string("/proc/self/stat").ok();
        let fields = stat.as_deref().and_then(stat_fields);
        let boot_time = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|text| boot_time_seconds(&text));
        let open_fds = std::fs::read_dir("/proc/self/fd")
            .ok()
            .map(|entries| entries.count() as u64);
        let max_fds = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
        ProcessStats {
            cpu_seconds: fields.map(|f| (f.utime_ticks + f.stime_ticks) as f64 / ticks as f64),
            resident_memory_bytes: fields.map(|f| f.rss_pages * page),
            virtual_memory_bytes: fields.map(|f| f.vsize_bytes),
            open_fds,
            max_fds,
            start_time_seconds: fields
                .zip(boot_time)
                .map(|(f, boot)| boot as f64 + f.start_ticks as f64 / ticks as f64),
        }
    }
}

/// The fields of `/proc/self/stat` the figures need (proc(5)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatFields {
    pub utime_ticks: u64,
    pub stime_ticks: u64,
    /// Clock ticks after boot at which the process started.
    pub start_ticks: u64,
    pub vsize_bytes: u64,
    pub rss_pages: u64,
}

/// Parse `/proc/PID/stat`. The command name (field 2) is in parentheses
/// and may hold spaces and parentheses itself, so fields are counted from
/// the last `)`.
pub fn stat_fields(text: &str) -> Option<StatFields> {
    let after_name = &text[text.rfind(')')? + 1..];
    // Field 3 (state) is the first after the name.
    let fields: Vec<&str> = after_name.split_ascii_whitespace().collect();
    let field = |number: usize| -> Option<u64> { fields.get(number - 3)?.parse().ok() };
    Some(StatFields {
        utime_ticks: field(14)?,
        stime_ticks: field(15)?,
        start_ticks: field(22)?,
        vsize_bytes: field(23)?,
        rss_pages: field(24)?,
    })
}

/// The boot time (`btime`) from `/proc/stat`, in seconds since the epoch.
pub fn boot_time_seconds(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix("btime "))
        .and_then(|value| value.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_from_the_last_parenthesis() {
        let text = "4242 (worker (1) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 \
                    250 75 0 0 20 0 3 0 123456 987654321 2048 18446744073709551615 \
                    1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
        assert_eq!(
            stat_fields(text),
            Some(StatFields {
                utime_ticks: 250,
                stime_ticks: 75,
                start_ticks: 123456,
                vsize_bytes: 987654321,
                rss_pages: 2048,
            })
        );
        assert_eq!(stat_fields("12 (short) S 1 2 3"), None);
        assert_eq!(stat_fields("no parenthesis"), None);
    }

    #[test]
    fn boot_time_comes_from_the_btime_line() {
        let text = "cpu  1 2 3 4\nintr 5\nbtime 1736500000\nprocesses 99\n";
        assert_eq!(boot_time_seconds(text), Some(1_736_500_000));
        assert_eq!(boot_time_seconds("cpu 1\n"), None);
    }

    #[test]
    fn this_process_can_be_read() {
        let stats = ProcessStats::read();
        assert!(stats.resident_memory_bytes.is_some_and(|bytes| bytes > 0));
        assert!(stats.open_fds.is_some_and(|fds| fds >= 3));
        assert!(stats.start_time_seconds.is_some_and(|t| t > 1.0e9));
        assert!(stats.cpu_seconds.is_some());
    }
}
