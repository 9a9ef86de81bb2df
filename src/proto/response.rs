//! Response head serialization (RFC 9112 §4, §6): status line and fields,
//! appended to a caller's buffer, and the chunked encoder for bodies of
//! unknown length (RFC 9112 §7.1).
//!
//! [`encode_response_head`] is the one place a response's framing is put
//! into words: whether its status lets it carry content, its
//! `Content-Length`, its `Date` (passed in: `proto` reads no clock) and its
//! `Connection`. The driver decides persistence (see `persistence`) and
//! writes the bytes; services never add these fields.

/// One table of the status codes of RFC 9110 §15 (plus 428, 429, 431 and 511
/// of RFC 6585), from which both the reason phrases and the precomputed
/// status lines are generated, so the two cannot disagree.
macro_rules! status_table {
    ($($code:literal => $reason:literal,)*) => {
        /// The reason phrase for a status code (RFC 9110 §15), or "" when
        /// unknown. 306 and 418 are "(Unused)" in RFC 9110 and get "" too.
        pub fn reason_phrase(status: u16) -> &'static str {
            match status {
                $($code => $reason,)*
                _ => "",
            }
        }

        /// The whole status line of a known status, built at compile time so
        /// the hot path is one copy.
        fn known_status_line(status: u16) -> Option<&'static [u8]> {
            match status {
                $($code => Some(concat!("HTTP/1.1 ", $code, " ", $reason, "\r\n").as_bytes()),)*
                _ => None,
            }
        }
    };
}

status_table! {
    100 => "Continue",
    101 => "Switching Protocols",
    200 => "OK",
    201 => "Created",
    202 => "Accepted",
    203 => "Non-Authoritative Information",
    204 => "No Content",
    205 => "Reset Content",
    206 => "Partial Content",
    300 => "Multiple Choices",
    301 => "Moved Permanently",
    302 => "Found",
    303 => "See Other",
    304 => "Not Modified",
    305 => "Use Proxy",
    307 => "Temporary Redirect",
    308 => "Permanent Redirect",
    400 => "Bad Request",
    401 => "Unauthorized",
    402 => "Payment Required",
    403 => "Forbidden",
    404 => "Not Found",
    405 => "Method Not Allowed",
    406 => "Not Acceptable",
    407 => "Proxy Authentication Required",
    408 => "Request Timeout",
    409 => "Conflict",
    410 => "Gone",
    411 => "Length Required",
    412 => "Precondition Failed",
    413 => "Content Too Large",
    414 => "URI Too Long",
    415 => "Unsupported Media Type",
    416 => "Range Not Satisfiable",
    417 => "Expectation Failed",
    421 => "Misdirected Request",
    422 => "Unprocessable Content",
    426 => "Upgrade Required",
    428 => "Precondition Required",
    429 => "Too Many Requests",
    431 => "Request Header Fields Too Large",
    500 => "Internal Server Error",
    501 => "Not Implemented",
    502 => "Bad Gateway",
    503 => "Service Unavailable",
    504 => "Gateway Timeout",
    505 => "HTTP Version Not Supported",
    511 => "Network Authentication Required",
}

/// Append `HTTP/1.1 <status> <reason>\r\n` to `out`.
///
/// An unknown status in 100..=999 gets an empty reason, keeping the SP that
/// `status-line = HTTP-version SP status-code SP [ reason-phrase ]` requires
/// (RFC 9112 §4). A status outside three digits is a bug in a service, not a
/// peer fault; rather than put an invalid line on the wire it is sent as 500.
pub fn encode_status_line(status: u16, out: &mut Vec<u8>) {
    if let Some(line) = known_status_line(status) {
        out.extend_from_slice(line);
        return;
    }
    if !(100..=999).contains(&status) {
        out.extend_from_slice(known_status_line(500).unwrap_or_default());
        return;
    }
    // Three ASCII digits by hand: no formatting machinery on this path.
    let digits = [
        b'0' + (status / 100) as u8,
        b'0' + (status / 10 % 10) as u8,
        b'0' + (status % 10) as u8,
    ];
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(&digits);
    out.extend_from_slice(b" \r\n");
}

/// Append one `name: value\r\n` field line to `out`.
pub fn encode_field(name: &str, value: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Whether a response with this status carries content, and with it a
/// `Content-Length`: 1xx, 204 and 304 never do (RFC 9110 §15.2, §15.3.5,
/// §15.4.5; RFC 9112 §6.3 items 1 and 2). A response to `HEAD` still
/// announces the length `GET` would have sent; only its body is left out.
pub fn status_allows_body(status: u16) -> bool {
    !(status < 200 || status == 204 || status == 304)
}

/// Append a whole response head to `out`: the status line, the service's
/// `fields` in order, then the fields the server owns: `Date` (the
/// IMF-fixdate `date`, RFC 9110 §6.6.1), `Content-Length: content_length`
/// when [`status_allows_body`], and `Connection: keep-alive` or `close`
/// (RFC 9112 §9.3, §9.6; `keep-alive` also answers HTTP/1.0 clients that
/// asked for it), and the empty line.
pub fn encode_response_head<'a>(
    status: u16,
    fields: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    date: &[u8],
    content_length: u64,
    keep_alive: bool,
    out: &mut Vec<u8>,
) {
    encode_status_line(status, out);
    for (name, value) in fields {
        encode_field(name, value, out);
    }
    encode_field("Date", date, out);
    if status_allows_body(status) {
        out.extend_from_slice(b"Content-Length: ");
        encode_decimal(content_length, out);
        out.extend_from_slice(b"\r\n");
    }
    let connection: &[u8] = if keep_alive { b"keep-alive" } else { b"close" };
    encode_field("Connection", connection, out);
    out.extend_from_slice(b"\r\n");
}

/// At least the length of the head [`encode_response_head`] writes with
/// these `fields` and a 29-byte date, so the caller can size its buffer
/// once: growing it from empty, field by field, costs a reallocation per
/// doubling.
pub fn response_head_len_bound<'a>(fields: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> usize {
    // The status line (the longest reason is 31 bytes), Date,
    // Content-Length (20 digits), Connection (keep-alive) and the final
    // CRLF take at most this many bytes.
    const FIXED_BYTES: usize = 160;
    let fields: usize = fields
        .into_iter()
        .map(|(name, value)| name.len() + value.len() + 4)
        .sum();
    FIXED_BYTES + fields
}

/// Append the interim `100 Continue` response (RFC 9110 §15.2.1): a status
/// line and the empty line, no fields.
pub fn encode_continue(out: &mut Vec<u8>) {
    encode_status_line(100, out);
    out.extend_from_slice(b"\r\n");
}

/// Append `data` as one chunk: hex size, CRLF, data, CRLF (RFC 9112 §7.1).
///
/// Empty `data` appends nothing: a zero-size chunk is the last-chunk and
/// would end the body early. Use [`encode_last_chunk`] to end it.
pub fn encode_chunk(data: &[u8], out: &mut Vec<u8>) {
    if data.is_empty() {
        return;
    }
    let mut hex = [0u8; 16];
    let mut start = hex.len();
    let mut size = data.len();
    while size > 0 {
        start -= 1;
        hex[start] = b"0123456789abcdef"[size & 0xf];
        size >>= 4;
    }
    out.reserve(hex.len() - start + data.len() + 4);
    out.extend_from_slice(&hex[start..]);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Append the last-chunk and an empty trailer section, ending a chunked body
/// (RFC 9112 §7.1).
pub fn encode_last_chunk(out: &mut Vec<u8>) {
    out.extend_from_slice(b"0\r\n\r\n");
}

/// Append `n` in decimal (a `Content-Length`, a status, a port), without
/// going through `fmt`.
pub fn encode_decimal(mut n: u64, out: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_written_in_full() {
        for (n, text) in [
            (0, "0"),
            (7, "7"),
            (156, "156"),
            (u64::MAX, "18446744073709551615"),
        ] {
            let mut out = b"x".to_vec();
            encode_decimal(n, &mut out);
            assert_eq!(out, format!("x{text}").into_bytes());
        }
    }

    fn status_line(status: u16) -> Vec<u8> {
        let mut out = Vec::new();
        encode_status_line(status, &mut out);
        out
    }

    #[test]
    fn status_lines_are_byte_exact() {
        let cases: &[(u16, &[u8])] = &[
            (100, b"HTTP/1.1 100 Continue\r\n"),
            (200, b"HTTP/1.1 200 OK\r\n"),
            (204, b"HTTP/1.1 204 No Content\r\n"),
            (206, b"HTTP/1.1 206 Partial Content\r\n"),
            (304, b"HTTP/1.1 304 Not Modified\r\n"),
            (404, b"HTTP/1.1 404 Not Found\r\n"),
            (413, b"HTTP/1.1 413 Content Too Large\r\n"),
            (431, b"HTTP/1.1 431 Request Header Fields Too Large\r\n"),
            (505, b"HTTP/1.1 505 HTTP Version Not Supported\r\n"),
        ];
        for (status, expected) in cases {
            assert_eq!(status_line(*status), *expected, "{status}");
        }
    }

    #[test]
    fn unknown_status_keeps_the_space_before_an_empty_reason() {
        // RFC 9112 §4: the SP before the reason is not optional.
        assert_eq!(status_line(299), b"HTTP/1.1 299 \r\n");
        assert_eq!(status_line(306), b"HTTP/1.1 306 \r\n");
        assert_eq!(status_line(999), b"HTTP/1.1 999 \r\n");
        assert_eq!(status_line(100), b"HTTP/1.1 100 Continue\r\n");
    }

    #[test]
    fn status_outside_three_digits_is_sent_as_500() {
        for status in [0, 99, 1000, u16::MAX] {
            assert_eq!(
                status_line(status),
                b"HTTP/1.1 500 Internal Server Error\r\n"
            );
        }
    }

    #[test]
    fn every_rfc_9110_status_has_a_reason() {
        let known = [
            100, 101, 200, 201, 202, 203, 204, 205, 206, 300, 301, 302, 303, 304, 305, 307, 308,
            400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416,
            417, 421, 422, 426, 428, 429, 431, 500, 501, 502, 503, 504, 505, 511,
        ];
        for status in known {
            assert!(!reason_phrase(status).is_empty(), "{status}");
            let line = status_line(status);
            let expected = format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status));
            assert_eq!(line, expected.as_bytes());
        }
        assert_eq!(reason_phrase(299), "");
        assert_eq!(reason_phrase(418), "");
    }

    #[test]
    fn fields_and_chunks_are_byte_exact() {
        let mut out = Vec::new();
        encode_field("Content-Length", b"5", &mut out);
        encode_chunk(b"hello", &mut out);
        encode_chunk(b"", &mut out);
        encode_chunk(&[b'x'; 26], &mut out);
        encode_last_chunk(&mut out);
        let mut expected = b"Content-Length: 5\r\n5\r\nhello\r\n1a\r\n".to_vec();
        expected.extend_from_slice(&[b'x'; 26]);
        expected.extend_from_slice(b"\r\n0\r\n\r\n");
        assert_eq!(out, expected);
    }
    const DATE: &[u8] = b"Fri, 10 Jan 2025 14:32:01 GMT";

    fn head(status: u16, fields: &[(&str, &str)], length: u64, keep_alive: bool) -> String {
        let mut out = Vec::new();
        let fields = fields.iter().map(|(n, v)| (*n, v.as_bytes()));
        encode_response_head(status, fields, DATE, length, keep_alive, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn only_1xx_204_and_304_forbid_a_body() {
        // (status, carries content)
        let cases = [
            (100, false),
            (101, false),
            (199, false),
            (200, true),
            (203, true),
            (204, false),
            (205, true),
            (206, true),
            (301, true),
            (304, false),
            (404, true),
            (500, true),
        ];
        for (status, allowed) in cases {
            assert_eq!(status_allows_body(status), allowed, "{status}");
        }
    }

    #[test]
    fn response_heads_are_byte_exact() {
        type Case<'a> = (u16, &'a [(&'a str, &'a str)], u64, bool, &'a str);
        // (status, fields, length, keep-alive, head)
        let cases: &[Case] = &[
            (
                200,
                &[("Content-Type", "text/html")],
                5,
                true,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\
                 Date: Fri, 10 Jan 2025 14:32:01 GMT\r\nContent-Length: 5\r\n\
                 Connection: keep-alive\r\n\r\n",
            ),
            (
                404,
                &[],
                0,
                false,
                "HTTP/1.1 404 Not Found\r\nDate: Fri, 10 Jan 2025 14:32:01 GMT\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n",
            ),
            // No Content-Length where the status forbids content, whatever
            // length the caller passes.
            (
                204,
                &[("Allow", "GET")],
                7,
                true,
                "HTTP/1.1 204 No Content\r\nAllow: GET\r\n\
                 Date: Fri, 10 Jan 2025 14:32:01 GMT\r\nConnection: keep-alive\r\n\r\n",
            ),
            (
                304,
                &[("ETag", "\"x\""), ("Vary", "Accept-Encoding")],
                100,
                false,
                "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nVary: Accept-Encoding\r\n\
                 Date: Fri, 10 Jan 2025 14:32:01 GMT\r\nConnection: close\r\n\r\n",
            ),
            (
                206,
                &[],
                u64::MAX,
                true,
                "HTTP/1.1 206 Partial Content\r\nDate: Fri, 10 Jan 2025 14:32:01 GMT\r\n\
                 Content-Length: 18446744073709551615\r\nConnection: keep-alive\r\n\r\n",
            ),
        ];
        for &(status, fields, length, keep_alive, expected) in cases {
            assert_eq!(
                head(status, fields, length, keep_alive),
                expected,
                "{status}"
            );
        }
    }

    #[test]
    fn the_head_length_bound_holds_for_the_longest_heads() {
        let fields: &[(&str, &str)] = &[("X-Long", "0123456789abcdef"), ("A", "")];
        for status in [100, 200, 204, 431, 511, 999, 0] {
            for keep_alive in [true, false] {
                let written = head(status, fields, u64::MAX, keep_alive).len();
                let bound = response_head_len_bound(fields.iter().map(|(n, v)| (*n, v.as_bytes())));
                assert!(written <= bound, "{status}: {written} > {bound}");
            }
        }
    }

    #[test]
    fn continue_is_a_status_line_and_an_empty_line() {
        let mut out = Vec::new();
        encode_continue(&mut out);
        assert_eq!(out, b"HTTP/1.1 100 Continue\r\n\r\n");
    }
}
