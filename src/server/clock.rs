//! Wall-clock text for responses and log lines, formatted at most once per
//! second per thread: every response needs a `Date` and every log line a
//! timestamp, and formatting them per request would be wasted work.

use super::access_log::LogTime;
use crate::proto::date::{format_http_date, format_log_time};
use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

struct Cached {
    second: u64,
    http_date: [u8; 29],
    log_time: [u8; 19],
    offset_secs: i32,
}

thread_local! {
    static CACHE: RefCell<Option<Cached>> = const { RefCell::new(None) };
    static ZONE: jiff::tz::TimeZone = jiff::tz::TimeZone::system();
}

fn now() -> std::time::Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

fn with_cached<R>(f: impl FnOnce(&Cached) -> R) -> R {
    with_cached_at(now().as_secs(), f)
}

fn with_cached_at<R>(second: u64, f: impl FnOnce(&Cached) -> R) -> R {
    CACHE.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().map(|c| c.second) != Some(second) {
            let offset = local_offset_secs(second);
            *slot = Some(Cached {
                second,
                http_date: format_http_date(second),
                log_time: format_log_time(second as i64, offset),
                offset_secs: offset,
            });
        }
        f(slot.as_ref().expect("the cache was filled just above"))
    })
}

/// The UTC offset of the system time zone at `second`, so log lines follow
/// daylight-saving changes.
fn local_offset_secs(second: u64) -> i32 {
    let Ok(timestamp) = jiff::Timestamp::from_second(second as i64) else {
        return 0;
    };
    ZONE.with(|zone| zone.to_offset(timestamp).seconds())
}

/// The current time as an IMF-fixdate, for the `Date` field (RFC 9110 §6.6.1).
pub fn http_date_now() -> [u8; 29] {
    with_cached(|c| c.http_date)
}

/// The current local time, for access-log lines.
pub fn log_time_now() -> LogTime {
    let now = now();
    let millis = now.subsec_millis() as u16;
    with_cached_at(now.as_secs(), |c| LogTime {
        local: c.log_time,
        offset_secs: c.offset_secs,
        millis,
    })
}
