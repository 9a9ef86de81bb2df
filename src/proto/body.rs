//! Request body decoding: Content-Length and chunked (RFC 9112 §6, §7.1).
//!
//! The decoder is a state machine fed borrowed bytes. Each call reports how
//! many input bytes it consumed and one event: a range of body data inside the
//! input, "need more", or the end of the body. It never buffers and never
//! allocates: the caller owns the bytes, the decoder owns only its position in
//! the grammar. Limits on body size, chunk-size lines and trailers are enforced
//! here; timeouts and buffer sizes are the connection driver's business.

use super::fields::{hex_digit_value, is_field_value, is_field_value_byte, is_tchar};
use super::{BodyFraming, Error, Limits};
use memchr::memchr2;
use std::ops::Range;

/// What one call to [`BodyDecoder::decode`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyEvent {
    /// Body bytes at this range of the input given to `decode`. Never empty.
    Data(Range<usize>),
    /// The input is used up, or what is left of it is an incomplete framing
    /// unit (part of a chunk-size line, of the CRLF after chunk data, or of a
    /// trailer line) that was not consumed; call again with the unconsumed
    /// bytes followed by more.
    NeedMore,
    /// The body (and, for chunked, its trailer section) is complete.
    End,
}

/// Decodes one request body.
///
/// The caller loops: `decode` its unconsumed bytes, advance by the returned
/// count, handle the event. Bytes after the end of the body (a pipelined
/// request) are never consumed, and after [`BodyEvent::End`] every call
/// returns `(End, 0)`. After an error every call returns the same error.
///
/// Between calls the decoder remembers how much of an incomplete line it has
/// already checked, so a peer that sends a line one byte at a time costs
/// linear, not quadratic, work. This relies on the contract above: the bytes
/// not consumed are presented again, unchanged, at the start of the next input.
#[derive(Debug, Clone)]
pub struct BodyDecoder {
    state: State,
    /// Chunk data announced so far, checked against `max_body_bytes` before
    /// any of a chunk's data is read.
    announced: u64,
    max_body_bytes: u64,
    max_chunk_line_bytes: usize,
    max_head_bytes: usize,
    max_headers: usize,
}

impl BodyDecoder {
    /// A decoder for a body framed as `framing`, bounded by `limits`.
    ///
    /// A Content-Length above `limits.max_body_bytes` is not an error here
    /// (construction cannot fail): the first call to `decode` returns
    /// [`Error::BodyTooLarge`], before any byte is read.
    pub fn new(framing: BodyFraming, limits: &Limits) -> Self {
        let state = match framing {
            BodyFraming::None | BodyFraming::Length(0) => State::Done,
            BodyFraming::Length(n) if n > limits.max_body_bytes => {
                State::Failed(Error::BodyTooLarge)
            }
            BodyFraming::Length(n) => State::Length { remaining: n },
            BodyFraming::Chunked => State::Chunked(ChunkedState::SizeLine(SizeLine::new())),
        };
        BodyDecoder {
            state,
            announced: 0,
            max_body_bytes: limits.max_body_bytes,
            max_chunk_line_bytes: limits.max_chunk_line_bytes,
            max_head_bytes: limits.max_head_bytes,
            max_headers: limits.max_headers,
        }
    }

    /// Decode from `input`; returns the event and how many bytes of `input`
    /// were consumed (framing bytes included).
    pub fn decode(&mut self, input: &[u8]) -> Result<(BodyEvent, usize), Error> {
        let result = self.step(input);
        if let Err(error) = result {
            self.state = State::Failed(error);
        }
        result
    }

    /// Whether the body is complete (`End` was or would be returned).
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Advance through whole framing units until there is an event to report.
    fn step(&mut self, input: &[u8]) -> Result<(BodyEvent, usize), Error> {
        let mut pos = 0;
        loop {
            let rest = input.get(pos..).unwrap_or_default();
            match &mut self.state {
                State::Failed(error) => return Err(*error),
                State::Done => return Ok((BodyEvent::End, pos)),
                State::Length { remaining } => {
                    let take = take_data(remaining, rest.len());
                    if take == 0 {
                        return Ok((BodyEvent::NeedMore, pos));
                    }
                    if *remaining == 0 {
                        self.state = State::Done;
                    }
                    return Ok((BodyEvent::Data(pos..pos + take), pos + take));
                }
                State::Chunked(ChunkedState::SizeLine(line)) => {
                    let Some(len) = line.scan(rest, self.max_chunk_line_bytes)? else {
                        return Ok((BodyEvent::NeedMore, pos));
                    };
                    let size = line.size;
                    pos += len;
                    self.state = if size == 0 {
                        // The last-chunk: a trailer section follows (RFC 9112 §7.1).
                        State::Chunked(ChunkedState::Trailer(TrailerLine::new(0, 0)))
                    } else {
                        // Refuse a chunk as soon as its size says the body
                        // would be too large, before reading its data.
                        self.announced = self
                            .announced
                            .checked_add(size)
                            .filter(|total| *total <= self.max_body_bytes)
                            .ok_or(Error::BodyTooLarge)?;
                        State::Chunked(ChunkedState::Data { remaining: size })
                    };
                }
                State::Chunked(ChunkedState::Data { remaining }) => {
                    let take = take_data(remaining, rest.len());
                    if take == 0 {
                        return Ok((BodyEvent::NeedMore, pos));
                    }
                    if *remaining == 0 {
                        self.state = State::Chunked(ChunkedState::DataEnd);
                    }
                    return Ok((BodyEvent::Data(pos..pos + take), pos + take));
                }
                State::Chunked(ChunkedState::DataEnd) => {
                    // chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
                    // (RFC 9112 §7.1): anything but CRLF here means the size
                    // lied, and the rest of the stream cannot be trusted.
                    match rest {
                        [] | [b'\r'] => return Ok((BodyEvent::NeedMore, pos)),
                        [b'\r', b'\n', ..] => {
                            pos += 2;
                            self.state = State::Chunked(ChunkedState::SizeLine(SizeLine::new()));
                        }
                        _ => return Err(Error::MalformedChunk),
                    }
                }
                State::Chunked(ChunkedState::Trailer(line)) => {
                    let Some((len, empty)) = line.scan(rest, self.max_head_bytes)? else {
                        return Ok((BodyEvent::NeedMore, pos));
                    };
                    pos += len;
                    if empty {
                        self.state = State::Done;
                        return Ok((BodyEvent::End, pos));
                    }
                    // Trailer fields are read and dropped: nothing the server
                    // does depends on them (RFC 9110 §6.5.1 lets a recipient
                    // discard them), but they count against the head limits.
                    let fields = line.fields.saturating_add(1);
                    if fields > self.max_headers {
                        return Err(Error::TooManyFields);
                    }
                    let section_bytes = line.section_bytes.saturating_add(len);
                    self.state = State::Chunked(ChunkedState::Trailer(TrailerLine::new(
                        section_bytes,
                        fields,
                    )));
                }
            }
        }
    }
}

/// Take up to `available` bytes of the `remaining` body data.
fn take_data(remaining: &mut u64, available: usize) -> usize {
    let take = usize::try_from(*remaining).map_or(available, |r| r.min(available));
    // `take` <= `remaining`, so this cannot underflow; u64 holds any usize here.
    *remaining -= take as u64;
    take
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Content-Length framing with this many bytes still to come (RFC 9112 §6.2).
    Length { remaining: u64 },
    /// Chunked framing (RFC 9112 §7.1).
    Chunked(ChunkedState),
    /// The body is complete; nothing more is consumed.
    Done,
    /// A peer fault was found; it is reported again on every call.
    Failed(Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkedState {
    /// Reading a chunk-size line: `chunk-size [ chunk-ext ] CRLF`.
    SizeLine(SizeLine),
    /// Inside chunk data, with this many bytes still to come.
    Data { remaining: u64 },
    /// Expecting the CRLF that ends chunk data.
    DataEnd,
    /// Reading the trailer section after the last-chunk (RFC 9112 §7.1.2).
    Trailer(TrailerLine),
}

/// Progress through one chunk-size line not yet consumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SizeLine {
    /// Bytes of the line already checked.
    scanned: usize,
    lexeme: SizeLexeme,
    /// Hex digits of the size seen so far.
    digits: u8,
    size: u64,
}

/// Where the size-line scanner is in `chunk-size [ chunk-ext ] CRLF`, with
/// `chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )`
/// (RFC 9112 §7.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SizeLexeme {
    /// In the hex digits of chunk-size.
    Size,
    /// In whitespace after the size; only `;` may follow.
    SizeSpace,
    /// After `;`, before an extension name.
    BeforeName,
    /// In an extension name.
    Name,
    /// In whitespace after an extension name.
    AfterName,
    /// After `=`, before the value.
    BeforeValue,
    /// In a token value.
    Token,
    /// In a quoted-string value.
    Quoted,
    /// After a backslash in a quoted-string.
    QuotedPair,
    /// In whitespace after a value.
    AfterValue,
    /// After the CR that ends the line.
    Cr,
}

/// The most hex digits a chunk-size may have: 16 fill a u64, so no size can
/// overflow, and a longer one (even of leading zeros) is refused rather than
/// parsed differently from other implementations (RFC 9112 §7.1 asks
/// recipients to guard against overflow).
const MAX_CHUNK_SIZE_DIGITS: u8 = 16;

impl SizeLine {
    fn new() -> Self {
        SizeLine {
            scanned: 0,
            lexeme: SizeLexeme::Size,
            digits: 0,
            size: 0,
        }
    }

    /// Check the bytes of `line` not yet checked. Returns the length of the
    /// line, CRLF included, once it is complete.
    ///
    /// Every decision depends only on the bytes up to the one being checked,
    /// so the same input yields the same error however it is split.
    fn scan(&mut self, line: &[u8], max_line_bytes: usize) -> Result<Option<usize>, Error> {
        use SizeLexeme::*;
        while let Some(&byte) = line.get(self.scanned) {
            let index = self.scanned;
            self.scanned += 1;
            if self.lexeme == Cr {
                // Lines end in CRLF only; a bare CR is a framing fault
                // (RFC 9112 §2.2 lets a server reject it, and for a body
                // the framing must not be guessed).
                return if byte == b'\n' {
                    Ok(Some(self.scanned))
                } else {
                    Err(Error::MalformedChunk)
                };
            }
            if byte == b'\r' {
                self.lexeme = match self.lexeme {
                    Size if self.digits > 0 => Cr,
                    // An empty size, or whitespace after it with nothing to follow.
                    Size | SizeSpace => return Err(Error::InvalidChunkSize),
                    Name | AfterName | Token | AfterValue => Cr,
                    _ => return Err(Error::MalformedChunk),
                };
                continue;
            }
            if byte == b'\n' {
                // A bare LF as line terminator (RFC 9112 §2.2).
                return Err(Error::MalformedChunk);
            }
            if index >= max_line_bytes {
                // RFC 9112 §7.1.1: a server ought to limit extensions; the
                // line is refused as soon as it outgrows the limit, without
                // waiting for a CRLF that may never come.
                return Err(Error::ChunkLineTooLong);
            }
            self.lexeme = match (self.lexeme, byte) {
                (Size, b) if hex_digit_value(b).is_some() => {
                    if self.digits >= MAX_CHUNK_SIZE_DIGITS {
                        return Err(Error::InvalidChunkSize);
                    }
                    self.digits += 1;
                    // At most 15 digits so far: the shift cannot overflow.
                    self.size = (self.size << 4) | u64::from(hex_digit_value(b).unwrap_or(0));
                    Size
                }
                // chunk-size = 1*HEXDIG: no sign, no `0x`, no leading space.
                (Size, b' ' | b'\t' | b';') if self.digits == 0 => {
                    return Err(Error::InvalidChunkSize)
                }
                (Size | SizeSpace, b' ' | b'\t') => SizeSpace,
                (Size | SizeSpace, b';') => BeforeName,
                (Size | SizeSpace, _) => return Err(Error::InvalidChunkSize),
                (BeforeName, b' ' | b'\t') => BeforeName,
                (BeforeName | Name, b) if is_tchar(b) => Name,
                (Name | AfterName, b' ' | b'\t') => AfterName,
                (Name | AfterName, b'=') => BeforeValue,
                (Name | AfterName | Token | AfterValue, b';') => BeforeName,
                (BeforeValue, b' ' | b'\t') => BeforeValue,
                (BeforeValue, b'"') => Quoted,
                (BeforeValue | Token, b) if is_tchar(b) => Token,
                (Token | AfterValue, b' ' | b'\t') => AfterValue,
                (Quoted, b'"') => AfterValue,
                (Quoted, b'\\') => QuotedPair,
                // qdtext and quoted-pair (RFC 9110 §5.6.4); `"` and `\` were
                // matched above.
                (Quoted | QuotedPair, b) if is_quoted_text(b) => Quoted,
                _ => return Err(Error::MalformedChunk),
            };
        }
        Ok(None)
    }
}

/// HTAB, SP, visible ASCII and obs-text: what may appear in a quoted-string.
fn is_quoted_text(byte: u8) -> bool {
    byte == b'\t' || (b' '..=b'~').contains(&byte) || byte >= 0x80
}

/// Progress through the trailer section: the lines already consumed and the
/// line being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TrailerLine {
    /// Bytes of the trailer section already consumed, CRLFs included.
    section_bytes: usize,
    /// Trailer field lines already consumed.
    fields: usize,
    /// Bytes of the current line already checked.
    scanned: usize,
    lexeme: TrailerLexeme,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TrailerLexeme {
    /// At the start of a line: a field name, or CRLF ending the section.
    Start,
    Name,
    Value,
    /// After the CR ending a line; `empty` when it ends the section.
    Cr {
        empty: bool,
    },
}

impl TrailerLine {
    fn new(section_bytes: usize, fields: usize) -> Self {
        TrailerLine {
            section_bytes,
            fields,
            scanned: 0,
            lexeme: TrailerLexeme::Start,
        }
    }

    /// Check the bytes of `line` not yet checked. Returns the length of the
    /// line, CRLF included, and whether it was the empty line ending the
    /// section, once the line is complete.
    fn scan(&mut self, line: &[u8], max_head_bytes: usize) -> Result<Option<(usize, bool)>, Error> {
        use TrailerLexeme::*;
        // The index of the first byte of this line beyond the section limit.
        let budget = max_head_bytes.saturating_sub(self.section_bytes);
        loop {
            if self.lexeme == Value {
                // Skip the value with memchr up to the line end, the limit or
                // the input end; the byte checks below then see the same
                // first offending byte as a byte-by-byte scan would.
                let end = budget.min(line.len());
                if let Some(window) = line.get(self.scanned..end) {
                    let run = memchr2(b'\r', b'\n', window).unwrap_or(window.len());
                    let text = window.get(..run).unwrap_or_default();
                    if !is_field_value(text) {
                        // A CTL or DEL in a trailer value (RFC 9110 §5.5).
                        return Err(Error::MalformedChunk);
                    }
                    self.scanned += run;
                }
            }
            let Some(&byte) = line.get(self.scanned) else {
                return Ok(None);
            };
            // The trailer section shares the header section's size limit,
            // every byte counted (RFC 9112 §7.1.2 treats trailers like
            // header fields); refused before the line ends.
            if self.scanned >= budget {
                return Err(Error::HeadTooLarge);
            }
            self.scanned += 1;
            self.lexeme = match (self.lexeme, byte) {
                (Cr { empty }, b'\n') => return Ok(Some((self.scanned, empty))),
                (Start, b'\r') => Cr { empty: true },
                // field-line = field-name ":" OWS field-value OWS (RFC 9112 §5);
                // a line starting with whitespace (obs-fold) is refused too.
                (Start | Name, b) if is_tchar(b) => Name,
                (Name, b':') => Value,
                (Value, b'\r') => Cr { empty: false },
                (Value, b) if is_field_value_byte(b) => Value,
                _ => return Err(Error::MalformedChunk),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::response::{encode_chunk, encode_last_chunk};
    use proptest::prelude::*;

    /// What feeding a body to a decoder came to.
    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Outcome {
        /// The body ended; the decoded data.
        End(Vec<u8>),
        /// The input ran out before the body ended; the data so far.
        Incomplete(Vec<u8>),
        /// A peer fault, and the data decoded before it.
        Failed(Error, Vec<u8>),
    }

    /// A request pipelined after the body: never to be consumed.
    const PIPELINED: &[u8] = b"GET /next HTTP/1.1\r\nHost: example.com\r\n\r\n";

    /// Feed `pieces` the way the connection driver does: append each piece
    /// to a buffer of unconsumed bytes, decode until `NeedMore`, drop what
    /// was consumed. Returns the outcome and the bytes left unconsumed (for
    /// `End`, with the pieces not yet fed).
    fn feed(framing: BodyFraming, limits: &Limits, pieces: &[&[u8]]) -> (Outcome, Vec<u8>) {
        let mut decoder = BodyDecoder::new(framing, limits);
        let mut buffer = Vec::new();
        let mut data = Vec::new();
        for (fed, piece) in pieces.iter().enumerate() {
            buffer.extend_from_slice(piece);
            loop {
                match decoder.decode(&buffer) {
                    Err(error) => {
                        // Errors are sticky.
                        assert_eq!(decoder.decode(&buffer), Err(error));
                        return (Outcome::Failed(error, data), buffer);
                    }
                    Ok((BodyEvent::Data(range), used)) => {
                        assert!(!range.is_empty() && range.end <= used && used <= buffer.len());
                        data.extend_from_slice(&buffer[range]);
                        buffer.drain(..used);
                    }
                    Ok((BodyEvent::NeedMore, used)) => {
                        assert!(used <= buffer.len());
                        buffer.drain(..used);
                        break;
                    }
                    Ok((BodyEvent::End, used)) => {
                        buffer.drain(..used);
                        assert!(decoder.is_done());
                        assert_eq!(decoder.decode(&buffer), Ok((BodyEvent::End, 0)));
                        for rest in &pieces[fed + 1..] {
                            buffer.extend_from_slice(rest);
                        }
                        return (Outcome::End(data), buffer);
                    }
                }
            }
        }
        (Outcome::Incomplete(data), buffer)
    }

    /// Decode `input` whole, one byte at a time and split at every point,
    /// assert that all ways agree, and return the common outcome. When the
    /// body ends, a pipelined request is appended and must be left untouched.
    fn check(framing: BodyFraming, limits: &Limits, input: &[u8]) -> Outcome {
        let (baseline, _) = feed(framing, limits, &[input]);
        let mut full = input.to_vec();
        if matches!(baseline, Outcome::End(_)) {
            full.extend_from_slice(PIPELINED);
        }
        let mut ways: Vec<(String, Vec<&[u8]>)> = vec![
            ("whole".into(), vec![&full[..]]),
            // An empty first read too: the driver may call before bytes arrive.
            (
                "bytewise".into(),
                std::iter::once(&full[..0]).chain(full.chunks(1)).collect(),
            ),
        ];
        for split in 0..=full.len() {
            ways.push((
                format!("split at {split}"),
                vec![&full[..split], &full[split..]],
            ));
        }
        for (way, pieces) in ways {
            let (outcome, leftover) = feed(framing, limits, &pieces);
            assert_eq!(outcome, baseline, "{way}: {}", input.escape_ascii());
            if matches!(outcome, Outcome::End(_)) {
                assert_eq!(leftover, PIPELINED, "{way}: {}", input.escape_ascii());
            }
        }
        baseline
    }

    fn chunked(input: &[u8]) -> Outcome {
        check(BodyFraming::Chunked, &Limits::default(), input)
    }

    fn end(data: &[u8]) -> Outcome {
        Outcome::End(data.to_vec())
    }

    fn failed(error: Error, data_before: &[u8]) -> Outcome {
        Outcome::Failed(error, data_before.to_vec())
    }

    fn assert_cases(limits: &Limits, cases: &[(&[u8], Outcome)]) {
        for (input, expected) in cases {
            let outcome = check(BodyFraming::Chunked, limits, input);
            assert_eq!(outcome, *expected, "{}", input.escape_ascii());
        }
    }

    #[test]
    fn no_body_ends_immediately() {
        for framing in [BodyFraming::None, BodyFraming::Length(0)] {
            assert_eq!(check(framing, &Limits::default(), b""), end(b""));
        }
    }

    #[test]
    fn content_length_exact_ends_at_the_length() {
        let framing = BodyFraming::Length(5);
        assert_eq!(check(framing, &Limits::default(), b"hello"), end(b"hello"));
    }

    #[test]
    fn content_length_short_needs_more() {
        let framing = BodyFraming::Length(5);
        assert_eq!(
            check(framing, &Limits::default(), b"hel"),
            Outcome::Incomplete(b"hel".to_vec())
        );
    }

    #[test]
    fn content_length_over_max_body_is_413() {
        let limits = Limits {
            max_body_bytes: 4,
            ..Limits::default()
        };
        assert_eq!(
            check(BodyFraming::Length(4), &limits, b"abcd"),
            end(b"abcd")
        );
        // Refused at the first call, before any byte arrives.
        assert_eq!(
            check(BodyFraming::Length(5), &limits, b""),
            failed(Error::BodyTooLarge, b"")
        );
        assert_eq!(Error::BodyTooLarge.status(), 413);
    }

    #[test]
    fn chunked_bodies_decode() {
        assert_cases(
            &Limits::default(),
            &[
                (b"0\r\n\r\n", end(b"")),
                (b"5\r\nhello\r\n0\r\n\r\n", end(b"hello")),
                (b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", end(b"abcde")),
                (b"5\r\nhel", Outcome::Incomplete(b"hel".to_vec())),
                (
                    b"5\r\nhello\r\n0\r\n",
                    Outcome::Incomplete(b"hello".to_vec()),
                ),
            ],
        );
    }

    #[test]
    fn chunk_size_uppercase_and_lowercase_hex() {
        let sixteen = [b'x'; 26];
        let mut upper = b"1A\r\n".to_vec();
        upper.extend_from_slice(&sixteen);
        upper.extend_from_slice(b"\r\n0\r\n\r\n");
        let lower = upper.to_ascii_lowercase();
        assert_eq!(chunked(&upper), end(&sixteen));
        assert_eq!(chunked(&lower), end(&sixteen));
    }

    #[test]
    fn chunk_size_leading_zeros_within_16_digits() {
        assert_cases(
            &Limits::default(),
            &[
                (b"0005\r\nhello\r\n0\r\n\r\n", end(b"hello")),
                (
                    b"0000000000000005\r\nhello\r\n0000000000000000\r\n\r\n",
                    end(b"hello"),
                ),
            ],
        );
    }

    #[test]
    fn chunk_size_with_17_hex_digits_is_400() {
        assert_cases(
            &Limits::default(),
            &[
                (
                    b"00000000000000005\r\nhello\r\n0\r\n\r\n",
                    failed(Error::InvalidChunkSize, b""),
                ),
                (
                    b"fffffffffffffffff\r\n",
                    failed(Error::InvalidChunkSize, b""),
                ),
            ],
        );
        assert_eq!(Error::InvalidChunkSize.status(), 400);
    }

    #[test]
    fn chunk_size_that_fills_u64_is_too_large_not_overflow() {
        assert_eq!(
            chunked(b"ffffffffffffffff\r\n"),
            failed(Error::BodyTooLarge, b"")
        );
    }

    #[test]
    fn chunk_size_with_0x_prefix_is_400() {
        assert_cases(
            &Limits::default(),
            &[
                (
                    b"0x5\r\nhello\r\n0\r\n\r\n",
                    failed(Error::InvalidChunkSize, b""),
                ),
                (b"0X5\r\n", failed(Error::InvalidChunkSize, b"")),
            ],
        );
        assert_eq!(Error::InvalidChunkSize.status(), 400);
    }

    #[test]
    fn chunk_size_with_sign_or_junk_is_400() {
        assert_cases(
            &Limits::default(),
            &[
                (
                    b"+5\r\nhello\r\n0\r\n\r\n",
                    failed(Error::InvalidChunkSize, b""),
                ),
                (b"-5\r\n", failed(Error::InvalidChunkSize, b"")),
                (b"5g\r\n", failed(Error::InvalidChunkSize, b"")),
                (b"5 5\r\n", failed(Error::InvalidChunkSize, b"")),
                // Trailing whitespace with no extension after it.
                (
                    b"5 \r\nhello\r\n0\r\n\r\n",
                    failed(Error::InvalidChunkSize, b""),
                ),
            ],
        );
    }

    #[test]
    fn chunk_size_with_leading_space_is_400() {
        assert_cases(
            &Limits::default(),
            &[
                (
                    b" 5\r\nhello\r\n0\r\n\r\n",
                    failed(Error::InvalidChunkSize, b""),
                ),
                (b"\t5\r\n", failed(Error::InvalidChunkSize, b"")),
            ],
        );
    }

    #[test]
    fn empty_chunk_size_is_400() {
        assert_cases(
            &Limits::default(),
            &[
                (
                    b"\r\nhello\r\n0\r\n\r\n",
                    failed(Error::InvalidChunkSize, b""),
                ),
                (b";ext\r\n", failed(Error::InvalidChunkSize, b"")),
                (
                    b"5\r\nhello\r\n\r\n",
                    failed(Error::InvalidChunkSize, b"hello"),
                ),
            ],
        );
    }

    #[test]
    fn chunk_extensions_are_skipped() {
        assert_cases(
            &Limits::default(),
            &[
                (b"5;a\r\nhello\r\n0\r\n\r\n", end(b"hello")),
                (b"5;a=b;c\r\nhello\r\n0;last\r\n\r\n", end(b"hello")),
                (b"5 ; a = b\r\nhello\r\n0\r\n\r\n", end(b"hello")),
                (b"5;a=\"q;\\\"x\"\r\nhello\r\n0\r\n\r\n", end(b"hello")),
                (b"5;a=\"\"\t;b\r\nhello\r\n0\r\n\r\n", end(b"hello")),
            ],
        );
    }

    #[test]
    fn malformed_chunk_extension_is_400() {
        assert_cases(
            &Limits::default(),
            &[
                (
                    b"5;\r\nhello\r\n0\r\n\r\n",
                    failed(Error::MalformedChunk, b""),
                ),
                (b"5;=b\r\n", failed(Error::MalformedChunk, b"")),
                (b"5;a=\r\n", failed(Error::MalformedChunk, b"")),
                (b"5;a=\"open\r\n", failed(Error::MalformedChunk, b"")),
                (b"5;a b\r\n", failed(Error::MalformedChunk, b"")),
                (b"5;a\x00\r\n", failed(Error::MalformedChunk, b"")),
            ],
        );
        assert_eq!(Error::MalformedChunk.status(), 400);
    }

    #[test]
    fn chunk_line_over_limit_is_400() {
        let limits = Limits {
            max_chunk_line_bytes: 8,
            ..Limits::default()
        };
        assert_cases(
            &limits,
            &[
                // Exactly 8 bytes before the CRLF: accepted.
                (b"5;abcdef\r\nhello\r\n0\r\n\r\n", end(b"hello")),
                (
                    b"5;abcdefg\r\nhello\r\n0\r\n\r\n",
                    failed(Error::ChunkLineTooLong, b""),
                ),
                // Detected before any CRLF arrives.
                (b"5;abcdefghijklmnop", failed(Error::ChunkLineTooLong, b"")),
                (b"000000005\r\n", failed(Error::ChunkLineTooLong, b"")),
            ],
        );
        assert_eq!(Error::ChunkLineTooLong.status(), 400);
    }

    #[test]
    fn missing_crlf_after_chunk_data_is_400() {
        assert_cases(
            &Limits::default(),
            &[
                (
                    b"5\r\nhelloX\r\n0\r\n\r\n",
                    failed(Error::MalformedChunk, b"hello"),
                ),
                (
                    b"5\r\nhello0\r\n\r\n",
                    failed(Error::MalformedChunk, b"hello"),
                ),
                (b"5\r\nhello\rX", failed(Error::MalformedChunk, b"hello")),
                (
                    b"3\r\nhello\r\n0\r\n\r\n",
                    failed(Error::MalformedChunk, b"hel"),
                ),
            ],
        );
    }

    #[test]
    fn lf_only_line_endings_are_400() {
        assert_cases(
            &Limits::default(),
            &[
                (b"5\nhello\r\n0\r\n\r\n", failed(Error::MalformedChunk, b"")),
                (
                    b"5\r\nhello\n0\r\n\r\n",
                    failed(Error::MalformedChunk, b"hello"),
                ),
                (b"5;a\nhello\r\n", failed(Error::MalformedChunk, b"")),
                (b"0\r\n\n", failed(Error::MalformedChunk, b"")),
                (b"0\r\nA: b\n\r\n", failed(Error::MalformedChunk, b"")),
            ],
        );
    }

    #[test]
    fn bare_cr_is_400() {
        assert_cases(
            &Limits::default(),
            &[
                (b"5\rhello\r\n0\r\n\r\n", failed(Error::MalformedChunk, b"")),
                (b"0\r\n\rX", failed(Error::MalformedChunk, b"")),
                (b"0\r\nA: b\rc\r\n\r\n", failed(Error::MalformedChunk, b"")),
            ],
        );
    }

    #[test]
    fn trailers_are_dropped() {
        assert_cases(
            &Limits::default(),
            &[
                (b"5\r\nhello\r\n0\r\nExpires: never\r\n\r\n", end(b"hello")),
                (b"0\r\nA: 1\r\nB-c:\r\nD:\t x y \r\n\r\n", end(b"")),
            ],
        );
    }

    #[test]
    fn malformed_trailer_line_is_400() {
        assert_cases(
            &Limits::default(),
            &[
                (b"0\r\nno colon\r\n\r\n", failed(Error::MalformedChunk, b"")),
                (
                    b"0\r\n: empty name\r\n\r\n",
                    failed(Error::MalformedChunk, b""),
                ),
                (
                    b"0\r\nA : space before colon\r\n\r\n",
                    failed(Error::MalformedChunk, b""),
                ),
                (
                    b"0\r\nA: 1\r\n folded\r\n\r\n",
                    failed(Error::MalformedChunk, b""),
                ),
                (
                    b"0\r\nA: nul\x00\r\n\r\n",
                    failed(Error::MalformedChunk, b""),
                ),
            ],
        );
    }

    #[test]
    fn trailer_section_over_max_head_bytes_is_431() {
        let limits = Limits {
            max_head_bytes: 10,
            ..Limits::default()
        };
        assert_cases(
            &limits,
            &[
                // "A: 12345\r\n" + "\r\n" is 12 bytes; "A: 1234\r\n\r\n" is 11.
                (b"0\r\nA: 123\r\n\r\n", end(b"")),
                (b"0\r\nA: 1234\r\n\r\n", failed(Error::HeadTooLarge, b"")),
                // Detected before the line ends.
                (b"0\r\nA: 1234567890", failed(Error::HeadTooLarge, b"")),
                (
                    b"0\r\nA: 1\r\nB: 2\r\n\r\n",
                    failed(Error::HeadTooLarge, b""),
                ),
            ],
        );
        assert_eq!(Error::HeadTooLarge.status(), 431);
    }

    #[test]
    fn too_many_trailer_fields_is_431() {
        let limits = Limits {
            max_headers: 2,
            ..Limits::default()
        };
        assert_cases(
            &limits,
            &[
                (b"0\r\nA: 1\r\nB: 2\r\n\r\n", end(b"")),
                (
                    b"0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
                    failed(Error::TooManyFields, b""),
                ),
            ],
        );
        assert_eq!(Error::TooManyFields.status(), 431);
    }

    #[test]
    fn chunked_body_over_max_body_is_413() {
        let limits = Limits {
            max_body_bytes: 6,
            ..Limits::default()
        };
        assert_cases(
            &limits,
            &[
                (b"3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", end(b"abcdef")),
                // Refused when the size line arrives, before the data.
                (b"3\r\nabc\r\n4\r\n", failed(Error::BodyTooLarge, b"abc")),
                (b"7\r\n", failed(Error::BodyTooLarge, b"")),
            ],
        );
    }

    /// Encode `body` as chunks of the given sizes, then the last chunk.
    fn encode_chunked(body: &[u8], sizes: &[usize]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = body;
        for &size in sizes.iter().cycle().take(body.len() + 1) {
            if rest.is_empty() {
                break;
            }
            let (chunk, tail) = rest.split_at(size.clamp(1, rest.len()));
            encode_chunk(chunk, &mut out);
            rest = tail;
        }
        encode_chunk(rest, &mut out);
        encode_last_chunk(&mut out);
        out
    }

    /// Cut `bytes` into pieces at the given (unsorted, possibly repeated) points.
    fn cut<'a>(bytes: &'a [u8], points: &[usize]) -> Vec<&'a [u8]> {
        let mut points: Vec<usize> = points.iter().map(|p| p % (bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut pieces = Vec::new();
        let mut start = 0;
        for point in points {
            pieces.push(&bytes[start..point]);
            start = point;
        }
        pieces.push(&bytes[start..]);
        pieces
    }

    fn any_framing() -> impl Strategy<Value = BodyFraming> {
        prop_oneof![
            Just(BodyFraming::None),
            (0u64..64).prop_map(BodyFraming::Length),
            Just(BodyFraming::Chunked),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn chunked_round_trip_at_random_splits(
            body in proptest::collection::vec(any::<u8>(), 0..600),
            sizes in proptest::collection::vec(1usize..80, 1..8),
            points in proptest::collection::vec(any::<usize>(), 0..12),
        ) {
            let mut wire = encode_chunked(&body, &sizes);
            wire.extend_from_slice(PIPELINED);
            let (outcome, leftover) =
                feed(BodyFraming::Chunked, &Limits::default(), &cut(&wire, &points));
            prop_assert_eq!(outcome, Outcome::End(body));
            prop_assert_eq!(leftover, PIPELINED);
        }

        /// A Content-Length body is exactly its first `n` bytes, however
        /// they arrive; the bytes after it are left for the next request.
        #[test]
        fn content_length_decodes_exactly_n_bytes(
            n in 1u64..300,
            bytes in proptest::collection::vec(any::<u8>(), 0..400),
            points in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            let (outcome, leftover) =
                feed(BodyFraming::Length(n), &Limits::default(), &cut(&bytes, &points));
            let taken = bytes.len().min(n as usize);
            let data = bytes[..taken].to_vec();
            if taken == n as usize {
                prop_assert_eq!(outcome, Outcome::End(data));
                prop_assert_eq!(&leftover[..], &bytes[taken..]);
            } else {
                prop_assert_eq!(outcome, Outcome::Incomplete(data));
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_splits_agree(
            framing in any_framing(),
            bytes in proptest::collection::vec(
                prop_oneof![
                    4 => any::<u8>(),
                    1 => proptest::sample::select(b"0123456789abcdefABCDEF;= \t\"\\:\r\n".to_vec()),
                ],
                0..200,
            ),
            points in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            let limits = Limits {
                max_head_bytes: 40,
                max_headers: 3,
                max_body_bytes: 100,
                max_chunk_line_bytes: 12,
                ..Limits::default()
            };
            let (whole, _) = feed(framing, &limits, &[&bytes]);
            let (split, _) = feed(framing, &limits, &cut(&bytes, &points));
            prop_assert_eq!(whole, split);
        }
    }
}
