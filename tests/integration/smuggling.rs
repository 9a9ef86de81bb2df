//! Request smuggling and framing, as an attacker would test them.
//!
//! Every case is raw bytes over loopback that carry a hidden request,
//! `GET /secret-marker.txt`, placed where a recipient that framed the message
//! differently from RFC 9112 §6 would see it as a request of its own. The
//! marker file's content appears in the response stream only if the hidden
//! request was answered, which must never happen. Each case then passes in
//! one of two ways:
//!
//! - `Rejected(status)`: one response with that status and
//!   `Connection: close`, then the connection closes (RFC 9112 §6.3: once
//!   framing is in doubt, nothing after it is trusted);
//! - `Answered(statuses)`: the message is framed as RFC 9112 §6 says, so the
//!   hidden request is body bytes, and exactly these responses arrive, in
//!   order (interim `100 Continue` responses aside).
//!
//! In a case, `{HIDDEN}` stands for the hidden request, `{LEN}` for its length
//! in decimal and `{HEX}` for it in hex, so a chunk or a Content-Length can
//! frame it exactly.

use crate::support::{find, start_server, TestServer};
use std::time::Duration;

/// The hidden request. It must never be answered.
const HIDDEN: &str = "GET /secret-marker.txt HTTP/1.1\r\nHost: x\r\n\r\n";

/// The content of `/secret-marker.txt`: if it shows up in the response stream,
/// the hidden request was answered.
const MARKER: &str = "MARKER-4f1c9a: the hidden request was answered";

/// A visible pipelined request, answered 405 (with `Allow: OPTIONS, POST`): proves the
/// connection stayed in sync after a body was framed.
const NEXT: &str = "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n";

#[derive(Debug, Clone, Copy)]
enum Outcome {
    /// One response with this status and `Connection: close`, then close.
    Rejected(u16),
    /// Exactly these final responses, in order; none to the hidden request.
    Answered(&'static [u16]),
}
use Outcome::{Answered, Rejected};

type Case = (&'static str, &'static str, Outcome);

/// A server whose idle timeout is short, so that a connection the server
/// rightly keeps open ends soon after the last response, and whose root has
/// the marker file.
fn smuggling_server() -> TestServer {
    let server = start_server(|config| {
        config.timeouts.idle = Duration::from_millis(300);
        config.timeouts.header_read = Duration::from_secs(2);
        config.timeouts.body_read = Duration::from_secs(2);
    });
    std::fs::write(server.root.path().join("secret-marker.txt"), MARKER).unwrap();
    server
}

/// Expand the placeholders of a case.
fn expand(template: &str) -> Vec<u8> {
    template
        .replace("{LEN}", &HIDDEN.len().to_string())
        .replace("{HEX}", &format!("{:x}", HIDDEN.len()))
        .replace("{HIDDEN}", HIDDEN)
        .replace("{NEXT}", NEXT)
        .into_bytes()
}

/// One response as seen in the raw stream.
#[derive(Debug)]
struct Seen {
    status: u16,
    closes: bool,
}

/// Split the raw bytes a server sent into responses. Bodies are skipped by
/// their Content-Length, except where none follows: a response to HEAD
/// carries the length of the body it does not send. No body in this suite
/// starts with a status line, so "the next bytes are a status line, or there
/// are none" tells the two apart.
fn split_responses(mut stream: &[u8]) -> Vec<Seen> {
    let mut seen = Vec::new();
    while !stream.is_empty() {
        assert!(
            stream.starts_with(b"HTTP/1.1 "),
            "bytes that are not a response: {:?}",
            String::from_utf8_lossy(stream)
        );
        let end = find(stream, b"\r\n\r\n").expect("a complete response head") + 4;
        let head = std::str::from_utf8(&stream[..end]).expect("an ASCII head");
        stream = &stream[end..];
        let status: u16 = head[9..12].parse().expect("a status code");
        let field = |name: &str| {
            head.split("\r\n").find_map(|line| {
                let (n, v) = line.split_once(':')?;
                n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
            })
        };
        let length: usize = field("content-length").map_or(0, |v| v.parse().unwrap());
        let bodyless = status < 200 || stream.is_empty() || stream.starts_with(b"HTTP/1.");
        if !bodyless {
            assert!(stream.len() >= length, "a truncated body: {head:?}");
            stream = &stream[length..];
        }
        seen.push(Seen {
            status,
            closes: field("connection").is_some_and(|v| v.eq_ignore_ascii_case("close")),
        });
    }
    seen
}

/// How the bytes of a case are written.
#[derive(Debug, Clone, Copy)]
enum Delivery {
    /// In one write.
    Whole,
    /// One byte per write, with Nagle off, so the server sees every split
    /// point its incremental parsing and body reading have to handle.
    Bytewise,
}

/// Send one case on a fresh connection, read until the server closes it, and
/// check the outcome.
fn check_case(server: &TestServer, (name, template, expected): &Case, delivery: Delivery) {
    let mut client = server.connect();
    let bytes = expand(template);
    let raw = match delivery {
        Delivery::Whole => {
            client.send(&bytes);
            client.read_to_close()
        }
        Delivery::Bytewise => {
            // A separate writer, so that the responses are read while the
            // bytes go out; once the server has closed, writes fail, and
            // the rest of the bytes are dropped.
            client.stream.set_nodelay(true).unwrap();
            let mut writer = client.stream.try_clone().unwrap();
            let sending = std::thread::spawn(move || {
                for byte in bytes.chunks(1) {
                    if std::io::Write::write_all(&mut writer, byte).is_err() {
                        return;
                    }
                }
            });
            let raw = client.read_to_close();
            sending.join().unwrap();
            raw
        }
    };
    let name = format!("{name} ({delivery:?})");
    let text = String::from_utf8_lossy(&raw);
    assert!(
        !text.contains(MARKER),
        "{name}: the hidden request was answered:\n{text}"
    );
    let seen = split_responses(&raw);
    let interim = seen.iter().filter(|r| r.status < 200).count();
    assert!(interim <= 1, "{name}: more than one 100 Continue:\n{text}");
    let finals: Vec<&Seen> = seen.iter().filter(|r| r.status >= 200).collect();
    let statuses: Vec<u16> = finals.iter().map(|r| r.status).collect();
    match *expected {
        Rejected(status) => {
            assert_eq!(statuses, [status], "{name}:\n{text}");
            assert!(finals[0].closes, "{name}: no Connection: close:\n{text}");
        }
        Answered(expected) => assert_eq!(statuses, expected, "{name}:\n{text}"),
    }
}

/// Check every case, sent whole and then one byte at a time: the outcome
/// must not depend on how the bytes were split.
fn check_cases(cases: &[Case]) {
    check_cases_delivered(cases, &[Delivery::Whole, Delivery::Bytewise]);
}

fn check_cases_delivered(cases: &[Case], deliveries: &[Delivery]) {
    let server = smuggling_server();
    for &delivery in deliveries {
        for case in cases {
            check_case(&server, case, delivery);
        }
    }
}

/// The helper itself: a plain pipelined pair is answered twice, so a hidden
/// request outside any body would be caught.
#[test]
fn the_helper_sees_an_answered_hidden_request() {
    let server = smuggling_server();
    let mut client = server.connect();
    client.send(&expand(
        "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n{HIDDEN}",
    ));
    let raw = client.read_to_close();
    assert!(String::from_utf8_lossy(&raw).contains(MARKER));
    let statuses: Vec<u16> = split_responses(&raw).iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 200]);
}

/// RFC 9112 §6.1: Transfer-Encoding and Content-Length together may be
/// rejected, and are, whatever their order or the method.
#[test]
fn cl_te_and_te_cl_are_400() {
    check_cases(&[
        ("CL.TE", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{HIDDEN}", Rejected(400)),
        ("CL.TE, CL covers the hidden request", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 49\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{HIDDEN}", Rejected(400)),
        ("TE.CL", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("TE.CL, TE first", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("CL.TE on GET", "GET /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{HIDDEN}", Rejected(400)),
        ("CL: 0 with TE", "GET /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("CL with TE: identity", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nTransfer-Encoding: identity\r\n\r\n{HIDDEN}", Rejected(400)),
        ("TE in HTTP/1.0", "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("CL.TE in HTTP/1.0", "POST /echo HTTP/1.0\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{HIDDEN}", Rejected(400)),
    ]);
}

/// TE.TE: a Transfer-Encoding one recipient sees and another does not. Each
/// is refused, or is plain chunked by RFC 9110 §5.5 / RFC 9112 §5 (OWS
/// around the value, case-insensitive codings) and framed as such.
#[test]
fn te_te_obfuscations_are_refused_or_framed_as_chunked() {
    check_cases(&[
        ("space before colon", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("tab before colon", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding\t: chunked\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("xchunked", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("chunkedx", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunkedx\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("chunked, identity", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("identity, chunked", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity, chunked\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(501)),
        ("gzip, chunked", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(501)),
        ("chunked, chunked", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("quoted chunked", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \"chunked\"\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("chunked with a parameter", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked;q=1\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("empty value", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("comma only", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ,\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("vertical tab before value", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \x0bchunked\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("vertical tab after value", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\x0b\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("NUL before value", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \x00chunked\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("NUL after value", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\x00\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("form feed after value", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\x0c\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("NUL in name", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding\x00: chunked\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("obs-fold value", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("leading space on the line", "POST /echo HTTP/1.1\r\nHost: x\r\n Transfer-Encoding: chunked\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("duplicate lines, chunked twice", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("duplicate lines, chunked then other", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("duplicate lines, other then chunked", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: x\r\nTransfer-Encoding: chunked\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(501)),
        // RFC 9110 §5.3, §5.6.1: the lines combine to `chunked, `, and empty
        // list elements are ignored.
        ("duplicate lines, chunked then empty", "GET /index.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: \r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n{NEXT}", Answered(&[200, 405])),
        // Framed as chunked: OWS is SP or HTAB, and codings are case-insensitive.
        ("tab as OWS", "GET /index.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\tchunked\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Answered(&[200])),
        ("trailing tab", "GET /index.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\t\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Answered(&[200])),
        ("no space", "GET /index.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:chunked\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Answered(&[200])),
        ("upper case", "GET /index.html HTTP/1.1\r\nHost: x\r\ntransfer-encoding: CHUNKED\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n{NEXT}", Answered(&[200, 405])),
        ("empty list elements", "GET /index.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: , chunked\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n{NEXT}", Answered(&[200, 405])),
        // RFC 9110 §6.5.1: trailers are dropped; one that names framing
        // changes nothing, and the pipelined request after it is answered.
        ("Transfer-Encoding in a trailer", "GET /index.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n{NEXT}", Answered(&[200, 405])),
        ("Content-Length in a trailer", "GET /index.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\nContent-Length: 5\r\n\r\n{NEXT}", Answered(&[200, 405])),
        ("trailer with space before colon", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nTransfer-Encoding : chunked\r\n\r\n{HIDDEN}", Rejected(400)),
        ("hidden request as a trailer", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n{HIDDEN}", Rejected(400)),
    ]);
}

/// Content-Length is `1*DIGIT` (RFC 9110 §8.6); repeated values must agree
/// (RFC 9112 §6.3 item 5). Leading zeros are digits: `007` is 7.
#[test]
fn content_length_variants_are_refused_or_framed_exactly() {
    check_cases(&[
        ("duplicate, differing", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: {LEN}\r\n\r\n{HIDDEN}", Rejected(400)),
        ("duplicate, differing, other order", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {LEN}\r\nContent-Length: 0\r\n\r\n{HIDDEN}", Rejected(400)),
        ("list, differing", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0, {LEN}\r\n\r\n{HIDDEN}", Rejected(400)),
        ("list, trailing comma", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {LEN},\r\n\r\n{HIDDEN}", Rejected(400)),
        ("list, leading comma", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ,{LEN}\r\n\r\n{HIDDEN}", Rejected(400)),
        ("empty value", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n{HIDDEN}", Rejected(400)),
        ("plus sign", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: +{LEN}\r\n\r\n{HIDDEN}", Rejected(400)),
        ("minus sign", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -{LEN}\r\n\r\n{HIDDEN}", Rejected(400)),
        ("minus zero", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -0\r\n\r\n{HIDDEN}", Rejected(400)),
        ("hex with 0x", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0x{HEX}\r\n\r\n{HIDDEN}", Rejected(400)),
        ("bare hex", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {HEX}\r\n\r\n{HIDDEN}", Rejected(400)),
        ("space inside", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4 4\r\n\r\n{HIDDEN}", Rejected(400)),
        ("decimal point", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {LEN}.0\r\n\r\n{HIDDEN}", Rejected(400)),
        ("exponent", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 44e0\r\n\r\n{HIDDEN}", Rejected(400)),
        ("quoted", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \"{LEN}\"\r\n\r\n{HIDDEN}", Rejected(400)),
        ("vertical tab after", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {LEN}\x0b\r\n\r\n{HIDDEN}", Rejected(400)),
        ("space before colon", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length : {LEN}\r\n\r\n{HIDDEN}", Rejected(400)),
        ("20 digits, over u64", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n{HIDDEN}", Rejected(400)),
        ("u64::MAX + 1", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551616\r\n\r\n{HIDDEN}", Rejected(400)),
        ("30 digits", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 123456789012345678901234567890\r\n\r\n{HIDDEN}", Rejected(400)),
        // Representable but over max_body_bytes (8 MiB by default): 413.
        ("u64::MAX", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551615\r\n\r\n{HIDDEN}", Rejected(413)),
        ("max body + 1", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 8388609\r\n\r\n{HIDDEN}", Rejected(413)),
        // Framed exactly: the hidden request is the body.
        ("duplicate, identical", "GET /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: {LEN}\r\nContent-Length: {LEN}\r\n\r\n{HIDDEN}{NEXT}", Answered(&[200, 405])),
        ("list, identical", "GET /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: {LEN}, {LEN}\r\n\r\n{HIDDEN}{NEXT}", Answered(&[200, 405])),
        ("tabs as OWS", "GET /index.html HTTP/1.1\r\nHost: x\r\nContent-Length:\t{LEN}\t\r\n\r\n{HIDDEN}{NEXT}", Answered(&[200, 405])),
        ("leading zeros", "GET /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 00{LEN}\r\n\r\n{HIDDEN}{NEXT}", Answered(&[200, 405])),
        ("leading zeros, 24 digits", "GET /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 0000000000000000000000{LEN}\r\n\r\n{HIDDEN}{NEXT}", Answered(&[200, 405])),
        ("007 is seven", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 007\r\n\r\n[1,2,3]{NEXT}", Answered(&[200, 405])),
        ("010 is ten, not octal eight", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 010\r\n\r\n[1,2,3,45]{NEXT}", Answered(&[200, 405])),
    ]);
}

/// The `007` case, with the echoed body checked: exactly seven bytes were
/// the body, and the request after them was parsed from the right place.
#[test]
fn content_length_007_frames_seven_bytes() {
    let server = smuggling_server();
    let mut client = server.connect();
    client.send(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 007\r\n\r\n[1,2,3]GET /echo HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let echoed = client.response();
    assert_eq!(echoed.status, 200);
    assert_eq!(echoed.text(), r#"{"received": [1, 2, 3]}"#);
    let next = client.response();
    assert_eq!(next.status, 405);
    assert_eq!(next.field("Allow"), Some("OPTIONS, POST"));
}

/// chunk-size is `1*HEXDIG` (RFC 9112 §7.1): no sign, no `0x`, no spaces
/// around it but BWS before extensions, at most 16 digits here; chunk data
/// ends in CRLF.
#[test]
fn chunk_size_variants_are_refused_or_framed_exactly() {
    check_cases(&[
        ("0x prefix", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("0X prefix", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0X{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("plus sign", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n+{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("minus sign", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("minus zero as last chunk", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-0\r\n\r\n{HIDDEN}", Rejected(400)),
        ("leading space", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n {HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("leading tab", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\t{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("trailing space", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{HEX} \r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("space inside", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2 c\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("underscore", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2_c\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("empty size", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("17 hex digits", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n000000000000000{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("17 hex digits wrapping to the length", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n100000000000000{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("17 zeros as last chunk", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000000\r\n\r\n{HIDDEN}", Rejected(400)),
        ("16 f's is over max body", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(413)),
        ("data longer than its size", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX\r\n0\r\n\r\n{HIDDEN}", Rejected(400)),
        ("data without its CRLF", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}0\r\n\r\n{HIDDEN}", Rejected(400)),
        ("size covering less than the data", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("extension with bare value", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{HEX};a=\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("extension with NUL", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{HEX};a\x00\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("unterminated quoted extension", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{HEX};a=\"b\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        // Framed exactly.
        ("16 hex digits", "GET /index.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n{NEXT}", Answered(&[200, 405])),
        ("upper-case hex", "GET /index.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2C\r\n{HIDDEN}\r\n0\r\n\r\n{NEXT}", Answered(&[200, 405])),
        ("extensions with BWS", "GET /index.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{HEX} ; a = b ;c=\"d;\\\"e\"\r\n{HIDDEN}\r\n0;last\r\n\r\n{NEXT}", Answered(&[200, 405])),
        ("several chunks", "GET /index.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nG\r\n2b\r\nET /secret-marker.txt HTTP/1.1\r\nHost: x\r\n\r\n\r\n0\r\n\r\n{NEXT}", Answered(&[200, 405])),
        ("last chunk with leading zeros", "GET /index.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{HEX}\r\n{HIDDEN}\r\n000\r\n\r\n{NEXT}", Answered(&[200, 405])),
    ]);
}

/// RFC 9112 §2.2: lines end in CRLF. A bare LF or a bare CR anywhere (request
/// line, field lines, the end of the head, chunk lines, after chunk data,
/// trailers) is refused, as recipients disagree on where such a line ends.
#[test]
fn bare_lf_and_bare_cr_are_400_in_every_position() {
    check_cases(&[
        ("LF before the request line", "\nGET /index.html HTTP/1.1\r\nHost: x\r\n\r\n{HIDDEN}", Rejected(400)),
        ("CR before the request line", "\rGET /index.html HTTP/1.1\r\nHost: x\r\n\r\n{HIDDEN}", Rejected(400)),
        ("LF ending the request line", "GET /index.html HTTP/1.1\nHost: x\r\n\r\n{HIDDEN}", Rejected(400)),
        ("CR ending the request line", "GET /index.html HTTP/1.1\rHost: x\r\n\r\n{HIDDEN}", Rejected(400)),
        ("CR inside the request line", "GET /index.html\rHTTP/1.1\r\nHost: x\r\n\r\n{HIDDEN}", Rejected(400)),
        ("LF inside the request line", "GET /index.html\nHTTP/1.1\r\nHost: x\r\n\r\n{HIDDEN}", Rejected(400)),
        ("LF ending a field line", "GET /index.html HTTP/1.1\r\nHost: x\nX: y\r\n\r\n{HIDDEN}", Rejected(400)),
        ("CR ending a field line", "GET /index.html HTTP/1.1\r\nHost: x\rX: y\r\n\r\n{HIDDEN}", Rejected(400)),
        ("CR inside a field value", "GET /index.html HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n{HIDDEN}", Rejected(400)),
        ("CR inside a field name", "GET /index.html HTTP/1.1\r\nHost: x\r\nX\r: y\r\n\r\n{HIDDEN}", Rejected(400)),
        ("LF LF ending the head", "GET /index.html HTTP/1.1\r\nHost: x\n\n{HIDDEN}", Rejected(400)),
        ("CRLF LF ending the head", "GET /index.html HTTP/1.1\r\nHost: x\r\n\n{HIDDEN}", Rejected(400)),
        ("CRLF CR ending the head", "GET /index.html HTTP/1.1\r\nHost: x\r\n\r{HIDDEN}", Rejected(400)),
        ("CR CR LF ending the head", "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\r\n{HIDDEN}", Rejected(400)),
        ("LF ending a CL header before a body", "GET /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: {LEN}\n\r\n{HIDDEN}", Rejected(400)),
        ("LF ending the chunk-size line", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{HEX}\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("CR ending the chunk-size line", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{HEX}\r{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("LF in a chunk extension", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{HEX};a\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("CR in a chunk extension", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{HEX};a\rb\r\n{HIDDEN}\r\n0\r\n\r\n", Rejected(400)),
        ("LF after chunk data", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{HEX}\r\n{HIDDEN}\n0\r\n\r\n", Rejected(400)),
        ("CR after chunk data", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{HEX}\r\n{HIDDEN}\r0\r\n\r\n", Rejected(400)),
        ("LF ending the last-chunk line", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\n\r\n{HIDDEN}", Rejected(400)),
        ("CR ending the last-chunk line", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\r\n{HIDDEN}", Rejected(400)),
        ("LF ending the chunked body", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\n{HIDDEN}", Rejected(400)),
        ("CR ending the chunked body", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r{HIDDEN}", Rejected(400)),
        ("LF ending a trailer line", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\n\r\n{HIDDEN}", Rejected(400)),
        ("CR ending a trailer line", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\rZ: w\r\n\r\n{HIDDEN}", Rejected(400)),
        ("CR inside a trailer value", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: a\rb\r\n\r\n{HIDDEN}", Rejected(400)),
    ]);
}

/// A body on GET or HEAD has no defined meaning (RFC 9110 §9.3.1-2) but its
/// framing does (RFC 9112 §6.3): it is read and skipped, and the request
/// pipelined after it is answered once.
#[test]
fn bodies_on_get_and_head_are_skipped_and_the_next_request_answered() {
    check_cases(&[
        ("GET with Content-Length", "GET /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: {LEN}\r\n\r\n{HIDDEN}{NEXT}", Answered(&[200, 405])),
        ("HEAD with Content-Length", "HEAD /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: {LEN}\r\n\r\n{HIDDEN}{NEXT}", Answered(&[200, 405])),
        ("GET with chunked", "GET /index.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n{NEXT}", Answered(&[200, 405])),
        ("HEAD with chunked", "HEAD /index.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n{NEXT}", Answered(&[200, 405])),
        ("GET of a missing file with a body", "GET /missing HTTP/1.1\r\nHost: x\r\nContent-Length: {LEN}\r\n\r\n{HIDDEN}{NEXT}", Answered(&[404, 405])),
        ("HEAD of /echo with a body", "HEAD /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {LEN}\r\n\r\n{HIDDEN}{NEXT}", Answered(&[405, 405])),
        ("DELETE with a body", "DELETE /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: {LEN}\r\n\r\n{HIDDEN}{NEXT}", Answered(&[405, 405])),
        ("OPTIONS with a body", "OPTIONS /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: {LEN}\r\n\r\n{HIDDEN}{NEXT}", Answered(&[204, 405])),
        ("GET, HTTP/1.0 keep-alive", "GET /index.html HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: {LEN}\r\n\r\n{HIDDEN}{NEXT}", Answered(&[200, 405])),
        ("GET with Connection: close", "GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {LEN}\r\n\r\n{HIDDEN}", Answered(&[200])),
        // A body that cannot be skipped closes the connection after the
        // answer: too large to drain, or malformed.
        ("GET with a malformed chunked body", "GET /index.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{HIDDEN}\r\n0\r\n\r\n{NEXT}", Answered(&[200])),
        ("GET with a body too large to drain", "GET /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n{HIDDEN}{NEXT}", Answered(&[200])),
    ]);
}

/// `Expect: 100-continue` with the body sent at once (RFC 9110 §10.1.1: a
/// client need not wait): the body is read exactly once, as body, and the
/// next request is answered. A `100 Continue` may or may not be sent.
/// Sent whole only: "sent early" means the body is buffered with the head;
/// sent in pieces, a route that does not read the body would rightly close
/// (RFC 9110 §10.1.1: the client may or may not be sending it).
#[test]
fn expect_100_continue_with_the_body_sent_early() {
    check_cases_delivered(&[
        ("echo, Content-Length", "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 7\r\n\r\n[1,2,3]{NEXT}", Answered(&[200, 405])),
        ("echo, chunked", "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n[1,2,3]\r\n0\r\n\r\n{NEXT}", Answered(&[200, 405])),
        ("echo, hidden request as body", "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: {LEN}\r\n\r\n{HIDDEN}{NEXT}", Answered(&[400, 405])),
        ("static file, body buffered", "GET /index.html HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: {LEN}\r\n\r\n{HIDDEN}{NEXT}", Answered(&[200, 405])),
        ("static file, chunked body buffered", "GET /index.html HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n{HEX}\r\n{HIDDEN}\r\n0\r\n\r\n{NEXT}", Answered(&[200, 405])),
        ("upper case expectation", "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-CONTINUE\r\nContent-Length: 7\r\n\r\n[1,2,3]{NEXT}", Answered(&[200, 405])),
        ("HTTP/1.0 ignores it", "POST /echo HTTP/1.0\r\nConnection: keep-alive\r\nExpect: 100-continue\r\nContent-Length: 7\r\n\r\n[1,2,3]{NEXT}", Answered(&[200, 405])),
        // An expectation the server cannot meet is 417; the body is still
        // framed, and skipped.
        ("unsupported expectation", "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: {LEN}\r\n\r\n{HIDDEN}{NEXT}", Answered(&[417, 405])),
        // Framing errors win over the expectation.
        ("with CL.TE", "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{HIDDEN}", Rejected(400)),
    ], &[Delivery::Whole]);
}

/// The echoed body proves the early body was read once, as body.
#[test]
fn expect_100_continue_body_sent_early_is_echoed_once() {
    let server = smuggling_server();
    let mut client = server.connect();
    client.send(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 7\r\n\r\n[1,2,3]GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    let raw = client.read_to_close();
    let text = String::from_utf8_lossy(&raw);
    assert_eq!(
        text.matches(r#"{"received": [1, 2, 3]}"#).count(),
        1,
        "{text}"
    );
    let statuses: Vec<u16> = split_responses(&raw)
        .iter()
        .map(|r| r.status)
        .filter(|s| *s >= 200)
        .collect();
    assert_eq!(statuses, [200, 405], "{text}");
}

/// RFC 9112 §9.6: after a request with `Connection: close` (or an HTTP/1.0
/// request without keep-alive) the server answers and closes; a request
/// pipelined after it is never processed.
#[test]
fn requests_after_a_closing_request_are_never_answered() {
    check_cases(&[
        ("Connection: close", "GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n{HIDDEN}", Answered(&[200])),
        ("Connection: close in a list", "GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, CLOSE\r\n\r\n{HIDDEN}", Answered(&[200])),
        ("Connection: close on a second line", "GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n{HIDDEN}", Answered(&[200])),
        ("HTTP/1.0 without keep-alive", "GET /index.html HTTP/1.0\r\n\r\n{HIDDEN}", Answered(&[200])),
        ("HTTP/1.0 keep-alive and close", "GET /index.html HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n{HIDDEN}", Answered(&[200])),
        ("echo with Connection: close", "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}{HIDDEN}", Answered(&[200])),
    ]);
}
