//! The four line formats of the access log (`--log-format`).
//!
//! Every format writes straight into the writer's shared buffer (no
//! temporary `String` per line) and escapes whatever a client sent, so a
//! line always ends at its one newline: no client can split a line or
//! forge one.

use super::super::client_address::ClientAddress;
use crate::proto::response::encode_decimal;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// `--log-format`: how each line is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// The product's own line:
    /// `[2025-01-10 14:32:01] 192.168.1.5:52341 - GET /index.html - 200 - 2ms`.
    #[default]
    Default,
    /// Apache/NCSA Common Log Format:
    /// `192.168.1.5 - - [10/Jan/2025:14:32:01 +0100] "GET /index.html HTTP/1.1" 200 5120`.
    Common,
    /// Common plus `"referer" "user agent"` (Apache's and nginx's `combined`).
    Combined,
    /// One JSON object per line; see [`LogRecord::format`] for the fields.
    Json,
}

impl LogFormat {
    /// Whether lines show the host, referer and user agent, which the driver
    /// then looks up (and otherwise does not).
    pub fn wants_fields(self) -> bool {
        matches!(self, LogFormat::Combined | LogFormat::Json)
    }
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "default" => Ok(LogFormat::Default),
            "common" => Ok(LogFormat::Common),
            "combined" => Ok(LogFormat::Combined),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!(
                "unknown log format {s:?} (default, common, combined or json)"
            )),
        }
    }
}

impl std::fmt::Display for LogFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LogFormat::Default => "default",
            LogFormat::Common => "common",
            LogFormat::Combined => "combined",
            LogFormat::Json => "json",
        })
    }
}

/// A moment as the access log shows it: local time to the second (its text
/// formatted once a second by the clock), the zone's offset and the
/// milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogTime {
    /// Local time, `YYYY-MM-DD HH:MM:SS`.
    pub local: [u8; 19],
    /// The local zone's offset from UTC at that moment, in seconds.
    pub offset_secs: i32,
    /// Milliseconds into the second.
    pub millis: u16,
}

impl LogTime {
    /// A time at `local` (`YYYY-MM-DD HH:MM:SS`) in UTC, for tests.
    pub fn utc(local: &[u8; 19]) -> LogTime {
        LogTime {
            local: *local,
            offset_secs: 0,
            millis: 0,
        }
    }
}

/// What a line says about the request, borrowed from its head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLine<'a> {
    pub method: &'a [u8],
    /// The target exactly as sent.
    pub target: &'a [u8],
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub protocol: &'static [u8],
    /// The `Host`, `Referer` and `User-Agent` fields: looked up only for
    /// the formats that show them ([`LogFormat::wants_fields`]), `None`
    /// otherwise or when absent.
    pub host: Option<&'a [u8]>,
    pub referer: Option<&'a [u8]>,
    pub user_agent: Option<&'a [u8]>,
}

impl<'a> RequestLine<'a> {
    /// An HTTP/1.1 request without host, referer or user agent.
    pub fn new(method: &'a [u8], target: &'a [u8]) -> RequestLine<'a> {
        RequestLine {
            method,
            target,
            protocol: b"HTTP/1.1",
            host: None,
            referer: None,
            user_agent: None,
        }
    }
}

/// What one log line says about one response.
#[derive(Debug, Clone, Copy)]
pub struct LogRecord<'a> {
    pub time: LogTime,
    /// The socket's peer: the client, or the load balancer in front of it.
    /// Not in the line formats; for diagnostics and metrics.
    pub peer: SocketAddr,
    /// Whom the request is from: the peer, a PROXY header's source, or the
    /// address a trusted proxy's forwarded field names (whose port may be
    /// unknown). The line names it.
    pub client: ClientAddress,
    /// The request, or `None` when it was rejected before its head could be
    /// read (every format then shows `-` for its fields).
    pub request: Option<RequestLine<'a>>,
    pub status: u16,
    pub duration: Duration,
    /// The bytes of the body that left for this response: not the head,
    /// and fewer than the body has when the client went away (CLF's `%b`).
    pub body_bytes: u64,
}

impl LogRecord<'_> {
    /// Append the line in `format`, newline included.
    ///
    /// `json` writes these members, always in this order: `time`
    /// (`2025-01-10T14:32:01.123+01:00`, local with milliseconds),
    /// `client` (address, without brackets), `port` (number, or null when
    /// unknown), `method`, `target`, `protocol`, `host`, `status` (number),
    /// `body_bytes` (number), `duration_ms` (number, microsecond precision),
    /// `referer`, `user_agent`. Request members are null when the request
    /// was rejected before its head was read, and `host`, `referer`,
    /// `user_agent` when absent. Strings are the bytes as sent, made valid
    /// UTF-8: visible ASCII as itself (`"` and `\` escaped), every other
    /// byte — controls, DEL and every byte from 0x80 up — as `\u00XX`, so
    /// each character of a string stands for one byte the client sent and
    /// the exact bytes can be recovered.
    pub fn format(&self, format: LogFormat, out: &mut Vec<u8>) {
        match format {
            LogFormat::Default => self.format_default(out),
            LogFormat::Common => self.format_clf(false, out),
            LogFormat::Combined => self.format_clf(true, out),
            LogFormat::Json => self.format_json(out),
        }
    }

    /// `[2025-01-10 14:32:01] 192.168.1.5:52341 - GET /index.html - 200 - 2ms`
    /// (the client's address alone when its port is unknown).
    fn format_default(&self, out: &mut Vec<u8>) {
        // Written straight into `out` (io::Write for Vec cannot fail): no
        // temporary String per line.
        out.push(b'[');
        out.extend_from_slice(&self.time.local);
        out.extend_from_slice(b"] ");
        write_ip(self.client.ip, true, out);
        if let Some(port) = self.client.port {
            out.push(b':');
            encode_decimal(u64::from(port), out);
        }
        out.extend_from_slice(b" - ");
        match &self.request {
            Some(request) => {
                escape_into(request.method, out);
                out.push(b' ');
                escape_into(request.target, out);
            }
            None => out.extend_from_slice(b"- -"),
        }
        out.extend_from_slice(b" - ");
        encode_decimal(u64::from(self.status), out);
        out.extend_from_slice(b" - ");
        encode_decimal(
            u64::try_from(self.duration.as_millis()).unwrap_or(u64::MAX),
            out,
        );
        out.extend_from_slice(b"ms\n");
    }

    /// `%h %l %u %t "%r" %>s %b`, and with `combined` ` "%{Referer}i"
    /// "%{User-agent}i"`, as Apache and nginx write them.
    fn format_clf(&self, combined: bool, out: &mut Vec<u8>) {
        write_ip(self.client.ip, false, out);
        out.extend_from_slice(b" - - [");
        write_clf_time(&self.time, out);
        out.extend_from_slice(b"] \"");
        match &self.request {
            Some(request) => {
                clf_escape_into(request.method, out);
                out.push(b' ');
                clf_escape_into(request.target, out);
                out.push(b' ');
                out.extend_from_slice(request.protocol);
            }
            None => out.push(b'-'),
        }
        out.extend_from_slice(b"\" ");
        encode_decimal(u64::from(self.status), out);
        out.push(b' ');
        if self.body_bytes == 0 {
            out.push(b'-');
        } else {
            encode_decimal(self.body_bytes, out);
        }
        if combined {
            let request = self.request.as_ref();
            for field in [
                request.and_then(|r| r.referer),
                request.and_then(|r| r.user_agent),
            ] {
                out.extend_from_slice(b" \"");
                match field {
                    Some(value) => clf_escape_into(value, out),
                    None => out.push(b'-'),
                }
                out.push(b'"');
            }
        }
        out.push(b'\n');
    }

    fn format_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"time\":\"");
        write_iso_time(&self.time, out);
        out.extend_from_slice(b"\",\"client\":\"");
        write_ip(self.client.ip, false, out);
        out.extend_from_slice(b"\",\"port\":");
        match self.client.port {
            Some(port) => encode_decimal(u64::from(port), out),
            None => out.extend_from_slice(b"null"),
        }
        let request = self.request.as_ref();
        json_member(b"method", request.map(|r| r.method), out);
        json_member(b"target", request.map(|r| r.target), out);
        json_member(b"protocol", request.map(|r| r.protocol), out);
        json_member(b"host", request.and_then(|r| r.host), out);
        out.extend_from_slice(b",\"status\":");
        encode_decimal(u64::from(self.status), out);
        out.extend_from_slice(b",\"body_bytes\":");
        encode_decimal(self.body_bytes, out);
        out.extend_from_slice(b",\"duration_ms\":");
        let micros = u64::try_from(self.duration.as_micros()).unwrap_or(u64::MAX);
        encode_decimal(micros / 1000, out);
        out.push(b'.');
        let fraction = micros % 1000;
        out.extend_from_slice(&[
            b'0' + (fraction / 100) as u8,
            b'0' + (fraction / 10 % 10) as u8,
            b'0' + (fraction % 10) as u8,
        ]);
        json_member(b"referer", request.and_then(|r| r.referer), out);
        json_member(b"user_agent", request.and_then(|r| r.user_agent), out);
        out.extend_from_slice(b"}\n");
    }
}

/// The address: an IPv4 client of a dual-stack listener as itself, not as
/// an IPv4-mapped IPv6 address; IPv6 in brackets if `bracket_v6` (as
/// `SocketAddr` shows it, for the default line that appends `:port`).
fn write_ip(ip: IpAddr, bracket_v6: bool, out: &mut Vec<u8>) {
    // IPv4 by hand: `write!` through the formatting machinery was a tenth
    // of a short connection's instructions.
    match ip.to_canonical() {
        IpAddr::V4(ip) => {
            for (i, octet) in ip.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                encode_decimal(u64::from(octet), out);
            }
        }
        IpAddr::V6(ip) if bracket_v6 => {
            let _ = write!(out, "[{ip}]");
        }
        IpAddr::V6(ip) => {
            let _ = write!(out, "{ip}");
        }
    }
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// `10/Oct/2000:13:55:36 -0700`, rearranged from the local time's text.
fn write_clf_time(time: &LogTime, out: &mut Vec<u8>) {
    let t = &time.local;
    let month = usize::from((t[5] - b'0') * 10 + (t[6] - b'0')).clamp(1, 12);
    out.extend_from_slice(&t[8..10]);
    out.push(b'/');
    out.extend_from_slice(MONTHS[month - 1]);
    out.push(b'/');
    out.extend_from_slice(&t[0..4]);
    out.push(b':');
    out.extend_from_slice(&t[11..19]);
    out.push(b' ');
    write_offset(time.offset_secs, false, out);
}

/// `2000-10-10T13:55:36.123-07:00` (RFC 3339).
fn write_iso_time(time: &LogTime, out: &mut Vec<u8>) {
    let t = &time.local;
    out.extend_from_slice(&t[0..10]);
    out.push(b'T');
    out.extend_from_slice(&t[11..19]);
    let ms = time.millis.min(999);
    out.extend_from_slice(&[
        b'.',
        b'0' + (ms / 100) as u8,
        b'0' + (ms / 10 % 10) as u8,
        b'0' + (ms % 10) as u8,
    ]);
    write_offset(time.offset_secs, true, out);
}

/// `+HHMM`, or `+HH:MM` with `colon`.
fn write_offset(offset_secs: i32, colon: bool, out: &mut Vec<u8>) {
    out.push(if offset_secs < 0 { b'-' } else { b'+' });
    let minutes = (offset_secs.unsigned_abs() / 60).min(99 * 60 + 59);
    let (h, m) = (minutes / 60, minutes % 60);
    out.extend_from_slice(&[b'0' + (h / 10) as u8, b'0' + (h % 10) as u8]);
    if colon {
        out.push(b':');
    }
    out.extend_from_slice(&[b'0' + (m / 10) as u8, b'0' + (m % 10) as u8]);
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Copy `bytes`, escaping everything but visible ASCII as `\xHH` (and `\` as
/// `\\`), so that no client can split a log line or forge one. For the
/// default line, whose fields are separated by spaces.
pub(crate) fn escape_into(bytes: &[u8], out: &mut Vec<u8>) {
    for &b in bytes {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x21..=0x7e => out.push(b),
            _ => push_hex_escape(b, out),
        }
    }
}

/// A field inside CLF's quotes, escaped as Apache (`ap_escape_logitem`) and
/// nginx do: `"` as `\"`, `\` as `\\`, control bytes, DEL and bytes from
/// 0x80 up as `\xHH`; spaces stay (the quotes delimit the field).
fn clf_escape_into(bytes: &[u8], out: &mut Vec<u8>) {
    for &b in bytes {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x20..=0x7e => out.push(b),
            _ => push_hex_escape(b, out),
        }
    }
}

fn push_hex_escape(b: u8, out: &mut Vec<u8>) {
    out.extend_from_slice(&[b'\\', b'x', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
}

/// `,"name":"value"`, or `,"name":null`.
fn json_member(name: &[u8], value: Option<&[u8]>, out: &mut Vec<u8>) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name);
    out.extend_from_slice(b"\":");
    match value {
        Some(value) => {
            out.push(b'"');
            json_escape_into(value, out);
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
}

/// A JSON string's contents: visible ASCII and space as themselves, `"`
/// and `\` escaped, every other byte as `\u00XX` (one character per byte:
/// always valid UTF-8, and the bytes as sent are recoverable).
fn json_escape_into(bytes: &[u8], out: &mut Vec<u8>) {
    for &b in bytes {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 15) as usize],
            ]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [LogFormat; 4] = [
        LogFormat::Default,
        LogFormat::Common,
        LogFormat::Combined,
        LogFormat::Json,
    ];

    fn record(request: Option<RequestLine<'_>>, body_bytes: u64) -> LogRecord<'_> {
        let peer: SocketAddr = "192.168.1.5:52341".parse().unwrap();
        LogRecord {
            time: LogTime {
                local: *b"2025-01-10 14:32:01",
                offset_secs: -7 * 3600,
                millis: 7,
            },
            peer,
            client: ClientAddress::from(peer),
            request,
            status: 200,
            duration: Duration::from_micros(2_700),
            body_bytes,
        }
    }

    fn full_request() -> RequestLine<'static> {
        RequestLine {
            method: b"GET",
            target: b"/index.html?q=1",
            protocol: b"HTTP/1.1",
            host: Some(b"example.com"),
            referer: Some(b"https://example.com/"),
            user_agent: Some(b"curl/8.5.0"),
        }
    }

    fn text(record: &LogRecord<'_>, format: LogFormat) -> String {
        let mut out = Vec::new();
        record.format(format, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn golden_lines() {
        let r = record(Some(full_request()), 5120);
        assert_eq!(
            text(&r, LogFormat::Default),
            "[2025-01-10 14:32:01] 192.168.1.5:52341 - GET /index.html?q=1 - 200 - 2ms\n"
        );
        assert_eq!(
            text(&r, LogFormat::Common),
            "192.168.1.5 - - [10/Jan/2025:14:32:01 -0700] \"GET /index.html?q=1 HTTP/1.1\" 200 5120\n"
        );
        assert_eq!(
            text(&r, LogFormat::Combined),
            "192.168.1.5 - - [10/Jan/2025:14:32:01 -0700] \"GET /index.html?q=1 HTTP/1.1\" 200 5120 \
             \"https://example.com/\" \"curl/8.5.0\"\n"
        );
        assert_eq!(
            text(&r, LogFormat::Json),
            "{\"time\":\"2025-01-10T14:32:01.007-07:00\",\"client\":\"192.168.1.5\",\"port\":52341,\
             \"method\":\"GET\",\"target\":\"/index.html?q=1\",\"protocol\":\"HTTP/1.1\",\
             \"host\":\"example.com\",\"status\":200,\"body_bytes\":5120,\"duration_ms\":2.700,\
             \"referer\":\"https://example.com/\",\"user_agent\":\"curl/8.5.0\"}\n"
        );
    }

    #[test]
    fn clf_shows_dashes_for_an_empty_body_and_missing_fields() {
        let mut request = RequestLine::new(b"HEAD", b"/");
        request.protocol = b"HTTP/1.0";
        let r = record(Some(request), 0);
        assert_eq!(
            text(&r, LogFormat::Combined),
            "192.168.1.5 - - [10/Jan/2025:14:32:01 -0700] \"HEAD / HTTP/1.0\" 200 - \"-\" \"-\"\n"
        );
    }

    #[test]
    fn a_request_rejected_before_its_head_logs_dashes_in_every_format() {
        let r = LogRecord {
            status: 400,
            ..record(None, 11)
        };
        assert_eq!(
            text(&r, LogFormat::Default),
            "[2025-01-10 14:32:01] 192.168.1.5:52341 - - - - 400 - 2ms\n"
        );
        assert_eq!(
            text(&r, LogFormat::Combined),
            "192.168.1.5 - - [10/Jan/2025:14:32:01 -0700] \"-\" 400 11 \"-\" \"-\"\n"
        );
        let json: serde_json::Value = serde_json::from_str(&text(&r, LogFormat::Json)).unwrap();
        assert_eq!(json["method"], serde_json::Value::Null);
        assert_eq!(json["target"], serde_json::Value::Null);
        assert_eq!(json["status"], 400);
    }

    #[test]
    fn offsets_and_ipv6_clients() {
        let peer: SocketAddr = "[2001:db8::1]:443".parse().unwrap();
        let r = LogRecord {
            time: LogTime {
                local: *b"2000-10-10 13:55:36",
                offset_secs: 5 * 3600 + 45 * 60,
                millis: 999,
            },
            client: ClientAddress {
                ip: peer.ip(),
                port: None,
            },
            peer,
            ..record(Some(RequestLine::new(b"GET", b"/")), 1)
        };
        assert!(text(&r, LogFormat::Common).starts_with(
            "2001:db8::1 - - [10/Oct/2000:13:55:36 +0545] \"GET / HTTP/1.1\" 200 1\n"
        ));
        let json: serde_json::Value = serde_json::from_str(&text(&r, LogFormat::Json)).unwrap();
        assert_eq!(json["time"], "2000-10-10T13:55:36.999+05:45");
        assert_eq!(json["client"], "2001:db8::1");
        assert_eq!(json["port"], serde_json::Value::Null);
    }

    /// Undo [`clf_escape_into`]: the test's own small parser.
    fn clf_unescape(field: &str) -> Vec<u8> {
        let bytes = field.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => match bytes[i + 1] {
                    b'x' => {
                        let hex = std::str::from_utf8(&bytes[i + 2..i + 4]).unwrap();
                        out.push(u8::from_str_radix(hex, 16).unwrap());
                        i += 4;
                    }
                    c @ (b'"' | b'\\') => {
                        out.push(c);
                        i += 2;
                    }
                    c => panic!("unknown escape \\{}", c as char),
                },
                b'"' => panic!("unescaped quote in {field:?}"),
                b => {
                    assert!((0x20..0x7f).contains(&b), "raw byte {b:#x} in {field:?}");
                    out.push(b);
                    i += 1;
                }
            }
        }
        out
    }

    /// Split a combined line into its quoted fields, as log analysers do:
    /// a quote ends a field unless a backslash escapes it.
    fn clf_fields(line: &str) -> (String, Vec<String>) {
        let mut quoted = Vec::new();
        let mut outside = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            if c != '"' {
                outside.push(c);
                continue;
            }
            let mut field = String::new();
            loop {
                match chars.next().expect("unterminated quoted field") {
                    '\\' => {
                        field.push('\\');
                        field.push(chars.next().unwrap());
                    }
                    '"' => break,
                    c => field.push(c),
                }
            }
            outside.push('Q');
            quoted.push(field);
        }
        (outside, quoted)
    }

    #[test]
    fn hostile_fields_stay_in_one_line_and_parse_back_in_every_format() {
        let hostile: &[&[u8]] = &[
            b"/a\"b",
            b"/a\\\"x",
            b"/\r\n192.168.1.5 - - [forged] \"GET / HTTP/1.1\" 200 1\n",
            b"/nul\0here",
            b"/del\x7f\x1b[31m",
            b"/\xff\xfe\x80invalid",
            b"/caf\xc3\xa9",
            b"\\",
            b"\"",
            b"",
            b"{\"status\":500}",
        ];
        for &target in hostile {
            for &field in hostile {
                let request = RequestLine {
                    method: b"G\"ET",
                    target,
                    protocol: b"HTTP/1.1",
                    host: Some(field),
                    referer: Some(field),
                    user_agent: Some(target),
                };
                let r = record(Some(request), 3);
                for format in ALL {
                    let mut out = Vec::new();
                    r.format(format, &mut out);
                    assert_eq!(out.last(), Some(&b'\n'));
                    assert!(
                        !out[..out.len() - 1]
                            .iter()
                            .any(|b| !(0x20..0x7f).contains(b)),
                        "{format}: raw control or high byte in {out:?}"
                    );
                    let line = std::str::from_utf8(&out).unwrap().trim_end_matches('\n');
                    match format {
                        LogFormat::Default => {
                            // Ten space-separated words, whatever was sent.
                            let fields: Vec<&str> = line.split(' ').collect();
                            assert_eq!(fields.len(), 10, "{line}");
                        }
                        LogFormat::Common | LogFormat::Combined => {
                            let (outside, quoted) = clf_fields(line);
                            let expected = if format == LogFormat::Combined {
                                "192.168.1.5 - - [10/Jan/2025:14:32:01 -0700] Q 200 3 Q Q"
                            } else {
                                "192.168.1.5 - - [10/Jan/2025:14:32:01 -0700] Q 200 3"
                            };
                            assert_eq!(outside, expected, "{line}");
                            let mut sent = b"G\"ET ".to_vec();
                            sent.extend_from_slice(target);
                            sent.extend_from_slice(b" HTTP/1.1");
                            assert_eq!(clf_unescape(&quoted[0]), sent, "{line}");
                            if format == LogFormat::Combined {
                                assert_eq!(clf_unescape(&quoted[1]), field, "{line}");
                                assert_eq!(clf_unescape(&quoted[2]), target, "{line}");
                            }
                        }
                        LogFormat::Json => {
                            let json: serde_json::Value = serde_json::from_str(line).unwrap();
                            let bytes = |name: &str| -> Vec<u8> {
                                json[name]
                                    .as_str()
                                    .unwrap()
                                    .chars()
                                    .map(|c| u8::try_from(u32::from(c)).unwrap())
                                    .collect()
                            };
                            assert_eq!(bytes("method"), b"G\"ET");
                            assert_eq!(bytes("target"), target, "{line}");
                            assert_eq!(bytes("host"), field, "{line}");
                            assert_eq!(bytes("referer"), field, "{line}");
                            assert_eq!(bytes("user_agent"), target, "{line}");
                            assert_eq!(json["status"], 200);
                            assert_eq!(json.as_object().unwrap().len(), 12);
                        }
                    }
                }
            }
        }
    }
}
