//! `proto::BodyDecoder`, fed the way the connection driver feeds it.
//!
//! Input: one byte choosing the limits, two bytes of split point, one byte
//! of Content-Length, then the body bytes. Invariants:
//! - chunked: fed whole, split at the fuzzer's point, and one byte at a time
//!   (unconsumed bytes re-fed each time), the decoder gives the same data,
//!   the same result and the same unconsumed bytes; errors are sticky and
//!   `End` is final;
//! - every `Data` range is non-empty and inside the consumed bytes;
//! - the data decoded from chunked, re-encoded as one chunk, decodes again to
//!   the same data and leaves the same bytes unconsumed;
//! - `Length(n)`: exactly `min(n, len)` bytes of data, the first ones of the
//!   input, and `End` with the rest unconsumed once `n` bytes arrived.
#![no_main]

use httpserver::proto::response::{encode_chunk, encode_last_chunk};
use httpserver::proto::{BodyDecoder, BodyEvent, BodyFraming, Error, Limits};
use libfuzzer_sys::fuzz_target;

/// What feeding a body came to: the data, how it ended, and the bytes left.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    data: Vec<u8>,
    end: Result<bool, Error>,
    leftover: Vec<u8>,
}

fuzz_target!(|data: &[u8]| {
    let [selector, split_low, split_high, length, input @ ..] = data else {
        return;
    };
    let limits = limits_for(*selector);
    let split = usize::from(u16::from_le_bytes([*split_low, *split_high])) % (input.len() + 1);

    let whole = feed(BodyFraming::Chunked, &limits, &[input]);
    let halves = feed(
        BodyFraming::Chunked,
        &limits,
        &[&input[..split], &input[split..]],
    );
    assert_eq!(whole, halves, "split at {split}");
    let bytewise: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(
        whole,
        feed(BodyFraming::Chunked, &limits, &bytewise),
        "bytewise"
    );

    // Round trip: what was decoded, framed again, decodes to the same.
    if whole.end == Ok(true) {
        let mut wire = Vec::new();
        encode_chunk(&whole.data, &mut wire);
        encode_last_chunk(&mut wire);
        wire.extend_from_slice(&whole.leftover);
        let again = feed(BodyFraming::Chunked, &limits, &[&wire]);
        assert_eq!(again, whole, "re-encoded");
    }

    // Content-Length framing: exactly n bytes.
    let n = u64::from(*length);
    let framing = if n == 0 {
        BodyFraming::None
    } else {
        BodyFraming::Length(n)
    };
    let counted = feed(framing, &limits, &[&input[..split], &input[split..]]);
    if n > limits.max_body_bytes {
        assert_eq!(counted.end, Err(Error::BodyTooLarge));
        assert!(counted.data.is_empty());
        return;
    }
    let taken = input.len().min(usize::from(*length));
    assert_eq!(counted.data, &input[..taken]);
    assert_eq!(counted.end, Ok(taken == usize::from(*length)));
    assert_eq!(counted.leftover, &input[taken..]);
});

/// Feed `pieces` as the driver does: append each to the unconsumed bytes,
/// decode until `NeedMore`, drop what was consumed.
fn feed(framing: BodyFraming, limits: &Limits, pieces: &[&[u8]]) -> Outcome {
    let mut decoder = BodyDecoder::new(framing, limits);
    let mut buffer: Vec<u8> = Vec::new();
    let mut data = Vec::new();
    for (fed, piece) in pieces.iter().enumerate() {
        buffer.extend_from_slice(piece);
        loop {
            match decoder.decode(&buffer) {
                Err(error) => {
                    assert_eq!(decoder.decode(&buffer), Err(error), "errors are sticky");
                    assert_eq!(decoder.decode(b"0\r\n\r\n"), Err(error));
                    return Outcome {
                        data,
                        end: Err(error),
                        leftover: Vec::new(),
                    };
                }
                Ok((BodyEvent::Data(range), used)) => {
                    assert!(!range.is_empty(), "empty data");
                    assert!(range.end <= used && used <= buffer.len());
                    data.extend_from_slice(&buffer[range]);
                    buffer.drain(..used);
                }
                Ok((BodyEvent::NeedMore, used)) => {
                    assert!(used <= buffer.len());
                    buffer.drain(..used);
                    break;
                }
                Ok((BodyEvent::End, used)) => {
                    assert!(used <= buffer.len());
                    buffer.drain(..used);
                    assert!(decoder.is_done());
                    assert_eq!(decoder.decode(&buffer), Ok((BodyEvent::End, 0)));
                    for rest in &pieces[fed + 1..] {
                        buffer.extend_from_slice(rest);
                    }
                    return Outcome {
                        data,
                        end: Ok(true),
                        leftover: buffer,
                    };
                }
            }
        }
    }
    assert!(!decoder.is_done());
    Outcome {
        data,
        end: Ok(false),
        leftover: buffer,
    }
}

fn limits_for(selector: u8) -> Limits {
    match selector % 4 {
        0 => Limits::default(),
        1 => Limits {
            max_head_bytes: 40,
            max_headers: 3,
            max_body_bytes: 100,
            max_chunk_line_bytes: 12,
            ..Limits::default()
        },
        2 => Limits {
            max_head_bytes: 0,
            max_headers: 0,
            max_body_bytes: 0,
            max_chunk_line_bytes: 0,
            ..Limits::default()
        },
        _ => Limits {
            max_head_bytes: usize::MAX,
            max_headers: usize::MAX,
            max_body_bytes: u64::MAX,
            max_chunk_line_bytes: usize::MAX,
            ..Limits::default()
        },
    }
}
