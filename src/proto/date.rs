//! HTTP dates (RFC 9110 §5.6.7): IMF-fixdate out, all three formats in.
//! Time is passed in as seconds since the Unix epoch; nothing here reads a clock.

/// Format `unix_secs` as an IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn format_http_date(unix_secs: u64) -> [u8; 29] {
    let _ = unix_secs;
    todo!("date")
}

/// Parse an HTTP date in IMF-fixdate, RFC 850 or asctime form.
pub fn parse_http_date(value: &[u8]) -> Option<u64> {
    let _ = value;
    todo!("date")
}
