//! Answering a representation: the one function between "these are the
//! bytes and metadata we would send" and the response a request gets, after
//! Go's `serveContent` (`net/http/fs.go`).
//!
//! A [`Representation`] is its [`Content`] (a range of an open file, or
//! bytes in memory) and its [`Metadata`] (the fields of a whole 200,
//! validators, media type, whether it takes ranges and whether it was
//! chosen by `Accept-Encoding`). [`answer`] gives the response for what the
//! request [`Asked`]:
//!
//! 1. the preconditions ([`super::conditional`], RFC 9110 §13.2.2): 304
//!    with the fields a cache needs, or 412;
//! 2. for GET of a representation that takes ranges, `If-Range` then
//!    `Range` ([`super::range`], §14): 206 with one range, 206
//!    `multipart/byteranges`, or 416;
//! 3. else 200 with all of it.
//!
//! Files (and their sidecars), directory listings and the hot cache's
//! in-memory copies all go through it, so a copy in memory answers exactly
//! as the file it was read from: a test of this module builds both from the
//! same bytes and requires the same status, fields and bytes on the wire.
//!
//! What the answerer does not decide: which representation (the caller
//! chose it, by path, index, sidecar or form) and the fields that do not
//! describe a representation (`Date`, `Content-Length`, `Connection` are
//! the driver's; `-H` and CORS fields the router's).

use super::conditional::{
    evaluate_preconditions, if_range_allows, Conditions, Precondition, Validators, CONDITION_FIELDS,
};
use super::encoding::{negotiate, Candidate};
use super::range::{self, evaluate_range, ByteRange, RangeOutcome};
use crate::proto::request::{FieldLines, FoundFields};
use crate::proto::{Method, RequestHead};
use crate::service::response::FieldValue;
use crate::service::{Body, Part, Response};
use bytes::Bytes;
use std::borrow::Cow;
use std::fs::File;

/// A response's fields, in the order they are sent.
pub type Fields = Vec<(&'static str, FieldValue)>;

/// A representation of a resource: its bytes and what describes them.
#[derive(Debug)]
pub struct Representation {
    pub metadata: Metadata,
    pub content: Content,
}

/// The bytes of a representation.
#[derive(Debug)]
pub enum Content {
    /// `len` bytes of an open file from `offset`.
    File { file: File, offset: u64, len: u64 },
    /// Bytes in memory: a listing, a cached file, a compressed copy.
    Memory(Bytes),
}

/// What describes a representation, apart from its bytes (RFC 9110 §8).
#[derive(Debug, Clone)]
pub struct Metadata {
    /// The fields of a 200 carrying all of it, in the order they are sent:
    /// `Content-Type`, its `ETag` (the validator that preconditions and
    /// `If-Range` compare, so they compare what the client was sent),
    /// cache and coding fields.
    pub fields: Fields,
    /// `Last-Modified` in seconds since the Unix epoch; `None` without one,
    /// which makes the date preconditions ignored (RFC 9110 §13.1.3).
    pub last_modified: Option<u64>,
    /// The media type, for the parts of a `multipart/byteranges` answer.
    pub media_type: &'static str,
    /// Whether a `Range` request gets part of it; if so, the fields say
    /// `Accept-Ranges: bytes`.
    pub accepts_ranges: bool,
    /// Whether it was chosen by `Accept-Encoding`: then the answers that
    /// carry none of it (412, 416) still say `Vary: Accept-Encoding`, since
    /// their status depended on the coding asked too.
    pub varies_on_coding: bool,
    /// Its `Repr-Digest` value (RFC 9530), once its digest is known: sent
    /// on a 200 (GET or HEAD) to a request with `Want-Repr-Digest` asking
    /// for it, never on a 206, whose content is a part.
    pub repr_digest: Option<std::sync::Arc<str>>,
}

/// What a GET or HEAD asks of the representation it gets: the fields that
/// choose one (`Accept-Encoding`), make the request conditional, or ask for
/// part of it, found in one pass over the head. A request with none of
/// them (most) costs that pass and nothing more.
#[derive(Debug, Clone, Copy)]
pub struct Asked<'a> {
    method: Method,
    found: FoundFields<'a, 8>,
}

/// The fields [`Asked`] reads: the four of [`CONDITION_FIELDS`] first.
const ASKED_FIELDS: [&str; 8] = [
    CONDITION_FIELDS[0],
    CONDITION_FIELDS[1],
    CONDITION_FIELDS[2],
    CONDITION_FIELDS[3],
    "Range",
    "If-Range",
    "Accept-Encoding",
    "Want-Repr-Digest",
];
const RANGE: usize = 4;
const IF_RANGE: usize = 5;
const ACCEPT_ENCODING: usize = 6;
const WANT_REPR_DIGEST: usize = 7;

impl<'a> Asked<'a> {
    #[inline]
    pub fn of(head: &'a RequestHead) -> Asked<'a> {
        Asked {
            method: head.method(),
            found: head.find_fields(&ASKED_FIELDS),
        }
    }

    /// Whether any precondition field was sent: without one there is
    /// nothing to evaluate.
    pub fn is_conditional(&self) -> bool {
        (0..CONDITION_FIELDS.len()).any(|index| self.found.is_present(index))
    }

    /// The precondition fields.
    pub fn conditions(&self) -> Conditions<'a> {
        Conditions::from_lines([0, 1, 2, 3].map(|index| self.found.lines(index)))
    }

    pub fn range(&self) -> FieldLines<'a> {
        self.found.lines(RANGE)
    }

    pub fn if_range(&self) -> FieldLines<'a> {
        self.found.lines(IF_RANGE)
    }

    pub fn accept_encoding(&self) -> FieldLines<'a> {
        self.found.lines(ACCEPT_ENCODING)
    }

    /// Whether `Want-Repr-Digest` asks for a SHA-256 `Repr-Digest`.
    pub fn wants_repr_digest(&self) -> bool {
        let want = self.found.lines(WANT_REPR_DIGEST);
        want.is_present() && crate::proto::digest::wants_sha256(want.lines())
    }

    /// The representations `Accept-Encoding` (all its lines) asks for, most
    /// preferred first ([`negotiate`]).
    pub fn coding_candidates(&self) -> Vec<Candidate> {
        let accept_encoding = self.accept_encoding();
        let elements = accept_encoding
            .is_present()
            .then(|| accept_encoding.weighted());
        negotiate(elements).candidates
    }

    fn is_get_or_head(&self) -> bool {
        matches!(self.method, Method::Get | Method::Head)
    }
}

impl Content {
    /// How many bytes the representation has.
    pub fn len(&self) -> u64 {
        match self {
            Content::File { len, .. } => *len,
            Content::Memory(bytes) => bytes.len() as u64,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All of it, as a body.
    fn into_body(self) -> Body {
        match self {
            Content::File { file, offset, len } => Body::File { file, offset, len },
            Content::Memory(bytes) => Body::Bytes(bytes),
        }
    }

    /// One satisfiable range of it, as a body.
    fn into_range(self, range: ByteRange) -> Body {
        match self {
            Content::File { file, offset, .. } => Body::File {
                file,
                offset: offset + range.start,
                len: range.len,
            },
            Content::Memory(bytes) => Body::Bytes(bytes.slice(memory_span(range))),
        }
    }

    /// A `multipart/byteranges` body from `parts`, whose file parts are
    /// offsets into this representation: the file's parts shifted to where
    /// it starts in its file, or for bytes in memory one buffer with the
    /// parts copied in (a [`Body::Parts`] needs a file).
    fn into_parts(self, parts: Vec<Part>) -> Body {
        match self {
            Content::File { file, offset, .. } => {
                let parts = parts
                    .into_iter()
                    .map(|part| match part {
                        Part::File { offset: start, len } => Part::File {
                            offset: offset + start,
                            len,
                        },
                        bytes => bytes,
                    })
                    .collect();
                Body::Parts { file, parts }
            }
            Content::Memory(bytes) => {
                let total: u64 = parts.iter().map(Part::len).sum();
                let mut body = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
                for part in parts {
                    match part {
                        Part::Bytes(header) => body.extend_from_slice(&header),
                        Part::File { offset, len } => {
                            let span = memory_span(ByteRange { start: offset, len });
                            body.extend_from_slice(&bytes[span]);
                        }
                    }
                }
                Body::Bytes(Bytes::from(body))
            }
        }
    }
}

/// A satisfiable range of bytes in memory as indexes: it lies inside the
/// bytes, whose length fits a `usize`.
fn memory_span(range: ByteRange) -> std::ops::Range<usize> {
    let start = usize::try_from(range.start).expect("a satisfiable range lies inside the bytes");
    let len = usize::try_from(range.len).expect("a satisfiable range lies inside the bytes");
    start..start + len
}

/// The response to `asked` with `representation` (see the module docs).
pub fn answer(representation: Representation, asked: &Asked<'_>) -> Response {
    let Representation { metadata, content } = representation;
    let Metadata {
        mut fields,
        last_modified,
        media_type,
        accepts_ranges,
        varies_on_coding,
        repr_digest,
    } = metadata;
    let ranged = accepts_ranges && asked.method == Method::Get && asked.range().is_present();
    if !ranged && !asked.is_conditional() && repr_digest.is_none() {
        // What most requests get, without looking for validators.
        return whole(fields, content);
    }
    // The digest of all of it, only where all of it is sent (RFC 9530 §3).
    let whole = |mut fields: Fields, content: Content| {
        if let Some(digest) = &repr_digest {
            if asked.wants_repr_digest() {
                fields.push(("Repr-Digest", Cow::Owned(digest.to_string())));
            }
        }
        whole(fields, content)
    };
    if !ranged && !asked.is_conditional() {
        return whole(fields, content);
    }
    // Errors answer no representation: they carry only `Vary`, which still
    // tells caches that the status depended on the coding asked.
    let vary = |response: Response| match varies_on_coding {
        true => response.with_field("Vary", "Accept-Encoding"),
        false => response,
    };
    let validators = Validators {
        etag: field_value(&fields, "ETag"),
        last_modified,
    };
    if asked.is_conditional() {
        let conditions = asked.conditions();
        let precondition =
            evaluate_preconditions(&conditions, asked.is_get_or_head(), Some(&validators));
        match precondition {
            Precondition::Proceed => {}
            Precondition::NotModified => return not_modified(fields),
            Precondition::Failed => return vary(Response::text(412, "Precondition Failed")),
        }
    }
    let len = content.len();
    let outcome = match ranged {
        true => requested_range(asked, len, &validators),
        false => RangeOutcome::Full,
    };
    match outcome {
        RangeOutcome::Full => whole(fields, content),
        RangeOutcome::Single(range) => {
            fields.push(("Content-Range", Cow::Owned(range.content_range(len))));
            Response {
                status: 206,
                fields,
                body: content.into_range(range),
            }
        }
        RangeOutcome::Multiple(ranges) => {
            let boundary = range::boundary_for(validators.etag);
            match range::multipart_body(&ranges, len, media_type, &boundary) {
                Some(parts) => {
                    // The parts carry the representation's type; the whole
                    // is multipart.
                    let multipart = format!("multipart/byteranges; boundary={boundary}");
                    match fields.iter_mut().find(|(name, _)| *name == "Content-Type") {
                        Some(content_type) => content_type.1 = Cow::Owned(multipart),
                        None => fields.insert(0, ("Content-Type", Cow::Owned(multipart))),
                    }
                    Response {
                        status: 206,
                        fields,
                        body: content.into_parts(parts),
                    }
                }
                // Larger than the representation itself: send all of it.
                None => whole(fields, content),
            }
        }
        RangeOutcome::Unsatisfiable => vary(
            Response::text(416, "Range Not Satisfiable")
                .with_field("Content-Range", range::unsatisfied_content_range(len))
                .with_field("Accept-Ranges", "bytes"),
        ),
    }
}

/// 200 with all of `content`.
fn whole(fields: Fields, content: Content) -> Response {
    Response {
        status: 200,
        fields,
        body: content.into_body(),
    }
}

/// The fields of a 304 (RFC 9110 §15.4.5): those a 200 would carry that
/// help a cache update its stored response; no content fields.
const NOT_MODIFIED_FIELDS: &[&str] = &[
    "ETag",
    "Last-Modified",
    "Cache-Control",
    "Expires",
    "Vary",
    "Content-Location",
];

/// 304 with the validator and cache fields of `fields`, and no body.
fn not_modified(mut fields: Fields) -> Response {
    fields.retain(|(name, _)| NOT_MODIFIED_FIELDS.contains(name));
    Response {
        status: 304,
        fields,
        body: Body::Empty,
    }
}

/// The value of the first field named `name` (as this module spells it),
/// or empty.
fn field_value<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, value)| value.as_ref())
}

/// What the `Range` field of a GET asks of a representation of `len`
/// bytes, once `If-Range` agrees (RFC 9110 §13.1.5). `Full` unless there is
/// exactly one `Range` field; a repeated `If-Range` never matches.
fn requested_range(asked: &Asked<'_>, len: u64, validators: &Validators<'_>) -> RangeOutcome {
    let Some(range) = asked.range().single() else {
        return RangeOutcome::Full;
    };
    let if_range = asked.if_range();
    if if_range.is_present() {
        match if_range.single() {
            Some(value) if if_range_allows(value, validators, now_secs()) => {}
            _ => return RangeOutcome::Full,
        }
    }
    evaluate_range(range, len)
}

/// Seconds since the Unix epoch, for telling a strong `Last-Modified`.
fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::fs::FileExt;

    const CONTENT: &[u8] = b"0123456789abcdefghij";
    /// Sun, 06 Nov 1994 08:49:37 GMT
    const MODIFIED: u64 = 784_111_777;
    const MODIFIED_DATE: &str = "Sun, 06 Nov 1994 08:49:37 GMT";

    fn metadata(accepts_ranges: bool, varies_on_coding: bool) -> Metadata {
        let mut fields: Fields = vec![
            ("Content-Type", Cow::Borrowed("text/plain; charset=utf-8")),
            ("X-Content-Type-Options", Cow::Borrowed("nosniff")),
            ("ETag", Cow::Borrowed("\"tag\"")),
            ("Last-Modified", Cow::Borrowed(MODIFIED_DATE)),
            ("Cache-Control", Cow::Borrowed("no-cache")),
        ];
        if accepts_ranges {
            fields.push(("Accept-Ranges", Cow::Borrowed("bytes")));
        }
        if varies_on_coding {
            fields.push(("Vary", Cow::Borrowed("Accept-Encoding")));
        }
        Metadata {
            fields,
            last_modified: Some(MODIFIED),
            media_type: "text/plain; charset=utf-8",
            accepts_ranges,
            varies_on_coding,
            repr_digest: None,
        }
    }

    /// The same representation twice: as a range of a file (after some
    /// other bytes, so offsets are tested too) and in memory.
    fn both_ways(
        content: &[u8],
        accepts_ranges: bool,
        varies_on_coding: bool,
    ) -> [Representation; 2] {
        let mut file = tempfile::tempfile().expect("temp file");
        file.write_all(b"not this: ").expect("write");
        file.write_all(content).expect("write");
        file.write_all(b" nor this").expect("write");
        let from_file = Representation {
            metadata: metadata(accepts_ranges, varies_on_coding),
            content: Content::File {
                file,
                offset: 10,
                len: content.len() as u64,
            },
        };
        let in_memory = Representation {
            metadata: metadata(accepts_ranges, varies_on_coding),
            content: Content::Memory(Bytes::copy_from_slice(content)),
        };
        [from_file, in_memory]
    }

    /// The bytes a body puts on the wire, whatever its kind: for every
    /// test of static files.
    pub(in crate::service::static_files) fn body_bytes(body: &Body) -> Vec<u8> {
        let read = |file: &File, offset: u64, len: u64, out: &mut Vec<u8>| {
            let start = out.len();
            out.resize(start + len as usize, 0);
            file.read_exact_at(&mut out[start..], offset).expect("read");
        };
        let mut bytes = Vec::new();
        match body {
            Body::Empty => {}
            Body::Bytes(memory) => bytes.extend_from_slice(memory),
            Body::File { file, offset, len } => read(file, *offset, *len, &mut bytes),
            Body::Parts { file, parts } => {
                for part in parts {
                    match part {
                        Part::Bytes(memory) => bytes.extend_from_slice(memory),
                        Part::File { offset, len } => read(file, *offset, *len, &mut bytes),
                    }
                }
            }
        }
        bytes
    }

    /// What goes on the wire for a response: status, fields, body bytes.
    fn wire(response: Response) -> (u16, Vec<(&'static str, String)>, Vec<u8>) {
        let body = body_bytes(&response.body);
        let fields = response
            .fields
            .into_iter()
            .map(|(name, value)| (name, value.into_owned()))
            .collect();
        (response.status, fields, body)
    }

    fn field<'a>(fields: &'a [(&'static str, String)], name: &str) -> Option<&'a str> {
        fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, value)| value.as_str())
    }

    /// Answer `method` with `fields` from a file and from memory, require
    /// the same answer, and return it.
    fn answer_both_ways(
        content: &[u8],
        method: &str,
        fields: &[(&str, &str)],
        accepts_ranges: bool,
        varies_on_coding: bool,
    ) -> (u16, Vec<(&'static str, String)>, Vec<u8>) {
        let head = RequestHead::for_test(method, "/f", fields);
        let asked = Asked::of(&head);
        let [from_file, in_memory] = both_ways(content, accepts_ranges, varies_on_coding);
        let from_file = wire(answer(from_file, &asked));
        let in_memory = wire(answer(in_memory, &asked));
        assert_eq!(from_file, in_memory, "{method} {fields:?}");
        from_file
    }

    #[test]
    fn file_and_memory_give_the_same_answers() {
        let whole = CONTENT;
        // (method, fields, status, Content-Range, body; None: not checked)
        type Case<'a> = (
            &'a str,
            &'a [(&'a str, &'a str)],
            u16,
            Option<&'a str>,
            Option<&'a [u8]>,
        );
        let cases: &[Case] = &[
            ("GET", &[], 200, None, Some(whole)),
            ("HEAD", &[], 200, None, Some(whole)),
            ("GET", &[("If-None-Match", "\"tag\"")], 304, None, Some(b"")),
            (
                "GET",
                &[("If-None-Match", "W/\"tag\", \"x\"")],
                304,
                None,
                Some(b""),
            ),
            ("GET", &[("If-None-Match", "\"x\"")], 200, None, Some(whole)),
            ("GET", &[("If-Match", "\"x\"")], 412, None, None),
            ("GET", &[("If-Match", "\"tag\"")], 200, None, Some(whole)),
            (
                "GET",
                &[("If-Modified-Since", MODIFIED_DATE)],
                304,
                None,
                Some(b""),
            ),
            (
                "GET",
                &[("If-Unmodified-Since", "Sun, 06 Nov 1990 08:49:37 GMT")],
                412,
                None,
                None,
            ),
            ("POST", &[("If-None-Match", "\"tag\"")], 412, None, None),
            (
                "GET",
                &[("Range", "bytes=0-4")],
                206,
                Some("bytes 0-4/20"),
                Some(b"01234"),
            ),
            (
                "GET",
                &[("Range", "bytes=-3")],
                206,
                Some("bytes 17-19/20"),
                Some(b"hij"),
            ),
            (
                "GET",
                &[("Range", "bytes=15-99")],
                206,
                Some("bytes 15-19/20"),
                Some(b"fghij"),
            ),
            ("HEAD", &[("Range", "bytes=0-4")], 200, None, Some(whole)),
            // Several ranges whose part headers would make the answer
            // larger than the whole (see the multipart test below): all of it.
            ("GET", &[("Range", "bytes=0-1,5-6")], 200, None, Some(whole)),
            // Overlapping ranges asking for more than the whole: all of it.
            (
                "GET",
                &[("Range", "bytes=0-15,5-10")],
                200,
                None,
                Some(whole),
            ),
            (
                "GET",
                &[("Range", "bytes=20-")],
                416,
                Some("bytes */20"),
                None,
            ),
            ("GET", &[("Range", "bytes=x")], 200, None, Some(whole)),
            (
                "GET",
                &[("Range", "bytes=0-1"), ("Range", "bytes=2-3")],
                200,
                None,
                Some(whole),
            ),
            (
                "GET",
                &[("Range", "bytes=1-2"), ("If-Range", "\"tag\"")],
                206,
                Some("bytes 1-2/20"),
                Some(b"12"),
            ),
            (
                "GET",
                &[("Range", "bytes=1-2"), ("If-Range", "W/\"tag\"")],
                200,
                None,
                Some(whole),
            ),
            (
                "GET",
                &[("Range", "bytes=1-2"), ("If-Range", "\"x\"")],
                200,
                None,
                Some(whole),
            ),
            (
                "GET",
                &[("Range", "bytes=1-2"), ("If-Range", MODIFIED_DATE)],
                206,
                Some("bytes 1-2/20"),
                Some(b"12"),
            ),
            (
                "GET",
                &[
                    ("Range", "bytes=1-2"),
                    ("If-Range", "Sun, 06 Nov 1994 08:49:38 GMT"),
                ],
                200,
                None,
                Some(whole),
            ),
            // Preconditions come before the range.
            (
                "GET",
                &[("Range", "bytes=1-2"), ("If-None-Match", "*")],
                304,
                None,
                Some(b""),
            ),
            (
                "GET",
                &[("Range", "bytes=99-"), ("If-Match", "\"x\"")],
                412,
                None,
                None,
            ),
        ];
        for (method, fields, status, content_range, body) in cases {
            let (got_status, got_fields, got_body) =
                answer_both_ways(CONTENT, method, fields, true, true);
            let context = format!("{method} {fields:?}");
            assert_eq!(got_status, *status, "{context}");
            assert_eq!(
                field(&got_fields, "Content-Range"),
                *content_range,
                "{context}"
            );
            if let Some(body) = body {
                assert_eq!(got_body, *body, "{context}");
            }
            // What each status carries (RFC 9110 §15.4.5, §15.5.13, §15.5.17).
            let names: Vec<&str> = got_fields.iter().map(|(name, _)| *name).collect();
            match got_status {
                304 => assert_eq!(
                    names,
                    ["ETag", "Last-Modified", "Cache-Control", "Vary"],
                    "{context}"
                ),
                412 => assert_eq!(names, ["Content-Type", "Vary"], "{context}"),
                416 => assert_eq!(
                    names,
                    ["Content-Type", "Content-Range", "Accept-Ranges", "Vary"],
                    "{context}"
                ),
                _ => {
                    let mut whole_names: Vec<&str> = metadata(true, true)
                        .fields
                        .iter()
                        .map(|(n, _)| *n)
                        .collect();
                    if content_range.is_some() {
                        whole_names.push("Content-Range");
                    }
                    assert_eq!(names, whole_names, "{context}");
                }
            }
        }
    }

    #[test]
    fn several_ranges_are_one_multipart_body_either_way() {
        let content: Vec<u8> = (0..1000)
            .map(|i| b"abcdefghijklmnopqrstuvwxyz"[i % 26])
            .collect();
        let (status, fields, body) =
            answer_both_ways(&content, "GET", &[("Range", "bytes=0-1,5-6")], true, true);
        assert_eq!(status, 206);
        let boundary = range::boundary_for("\"tag\"");
        assert_eq!(
            field(&fields, "Content-Type"),
            Some(format!("multipart/byteranges; boundary={boundary}").as_str())
        );
        let want = format!(
            "--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Range: bytes 0-1/1000\r\n\r\nab\r\n\
             --{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Range: bytes 5-6/1000\r\n\r\nfg\r\n--{boundary}--\r\n"
        );
        assert_eq!(String::from_utf8(body).unwrap(), want);
        // The same two ranges of 20 bytes: the part headers would make the
        // answer larger than all of it, which is sent instead.
        let (status, _, body) =
            answer_both_ways(CONTENT, "GET", &[("Range", "bytes=0-1,5-6")], true, true);
        assert_eq!((status, body.as_slice()), (200, CONTENT));
    }

    #[test]
    fn a_representation_without_ranges_or_coding_ignores_range_and_vary() {
        // (fields, status, field names)
        type Case<'a> = (&'a [(&'a str, &'a str)], u16, &'a [&'a str]);
        let cases: &[Case] = &[
            (
                &[("Range", "bytes=0-4")],
                200,
                &[
                    "Content-Type",
                    "X-Content-Type-Options",
                    "ETag",
                    "Last-Modified",
                    "Cache-Control",
                ],
            ),
            (
                &[("Range", "bytes=99-")],
                200,
                &[
                    "Content-Type",
                    "X-Content-Type-Options",
                    "ETag",
                    "Last-Modified",
                    "Cache-Control",
                ],
            ),
            (&[("If-Match", "\"x\"")], 412, &["Content-Type"]),
            (
                &[("If-None-Match", "\"tag\"")],
                304,
                &["ETag", "Last-Modified", "Cache-Control"],
            ),
        ];
        for (fields, status, names) in cases {
            let (got_status, got_fields, body) =
                answer_both_ways(CONTENT, "GET", fields, false, false);
            assert_eq!(got_status, *status, "{fields:?}");
            let got_names: Vec<&str> = got_fields.iter().map(|(name, _)| *name).collect();
            assert_eq!(got_names, *names, "{fields:?}");
            if got_status == 200 {
                assert_eq!(body, CONTENT);
            }
        }
    }

    #[test]
    fn the_request_is_read_in_one_pass() {
        let head = RequestHead::for_test(
            "GET",
            "/f",
            &[
                ("Host", "x"),
                ("accept-encoding", "gzip"),
                ("RANGE", "bytes=0-1"),
                ("if-none-match", "\"a\""),
                ("Accept-Encoding", "br;q=0.5"),
                ("If-Modified-Since", MODIFIED_DATE),
                ("If-Range", "\"a\""),
            ],
        );
        let asked = Asked::of(&head);
        assert!(asked.is_conditional());
        let conditions = asked.conditions();
        assert_eq!(conditions.if_none_match.count(), 1);
        assert!(!conditions.if_match.is_present());
        assert_eq!(conditions.if_modified_since, Some(MODIFIED));
        assert_eq!(conditions.if_unmodified_since, None);
        assert_eq!(asked.range().single(), Some(&b"bytes=0-1"[..]));
        assert_eq!(asked.if_range().single(), Some(&b"\"a\""[..]));
        assert_eq!(asked.accept_encoding().count(), 2);
        use super::super::encoding::{Candidate::*, ContentCoding::*};
        assert_eq!(
            asked.coding_candidates(),
            [Coded(Gzip), Coded(Brotli), Identity]
        );
        let plain = RequestHead::for_test("GET", "/f", &[("Host", "x"), ("If", "x")]);
        let asked = Asked::of(&plain);
        assert!(!asked.is_conditional());
        assert!(!asked.range().is_present() && !asked.accept_encoding().is_present());
        assert_eq!(asked.coding_candidates(), [Identity]);
    }
}
