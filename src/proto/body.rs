//! Request body decoding: Content-Length and chunked (RFC 9112 §6, §7.1).
//!
//! The decoder is a state machine fed borrowed bytes. Each call reports how
//! many input bytes it consumed and one event: a range of body data inside the
//! input, "need more", or the end of the body.

use super::{BodyFraming, Error, Limits};
use std::ops::Range;

/// What one call to [`BodyDecoder::decode`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyEvent {
    /// Body bytes at this range of the input given to `decode`.
    Data(Range<usize>),
    /// The input is used up; call again with more bytes.
    NeedMore,
    /// The body (and, for chunked, its trailer section) is complete.
    End,
}

/// Decodes one request body.
#[derive(Debug, Clone)]
pub struct BodyDecoder {
    _todo: (),
}

impl BodyDecoder {
    pub fn new(framing: BodyFraming, limits: &Limits) -> Self {
        let _ = (framing, limits);
        todo!("body decoder")
    }

    /// Decode from `input`; returns the event and how many bytes of `input`
    /// were consumed (framing bytes included).
    pub fn decode(&mut self, input: &[u8]) -> Result<(BodyEvent, usize), Error> {
        let _ = input;
        todo!("body decoder")
    }
}
