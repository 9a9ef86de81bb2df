//! Response head serialization (RFC 9112 §4, §6): status line and fields,
//! appended to a caller's buffer, and the chunked encoder for bodies of
//! unknown length (RFC 9112 §7.1).

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
}
