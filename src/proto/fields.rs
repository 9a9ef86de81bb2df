//! Field syntax (RFC 9110 §5): token and value characters, comma lists.

/// Whether `b` is a `tchar` (RFC 9110 §5.6.2).
pub fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' |
        b'^' | b'_' | b'`' | b'|' | b'~' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

/// The trimmed, non-empty elements of a comma-separated list (RFC 9110 §5.6.1).
pub fn comma_list(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(|item| item.trim_ascii())
        .filter(|item| !item.is_empty())
}

/// Whether the comma list `value` contains `token`, case-insensitively.
pub fn list_contains(value: &[u8], token: &str) -> bool {
    comma_list(value).any(|item| item.eq_ignore_ascii_case(token.as_bytes()))
}
