//! What a service answers: a status, fields and a body. How the body reaches
//! the wire (one write, or `sendfile`) is the connection driver's business.

use bytes::Bytes;
use std::borrow::Cow;
use std::fs::File;

/// A field value: most are fixed strings, so they cost no allocation.
pub type FieldValue = Cow<'static, str>;

/// A response from a service. The driver adds `Date`, `Content-Length` and
/// `Connection`, and drops the body of a response to `HEAD`.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub fields: Vec<(&'static str, FieldValue)>,
    pub body: Body,
}

/// A response body.
#[derive(Debug)]
pub enum Body {
    Empty,
    Bytes(Bytes),
    /// `len` bytes of an open file starting at `offset`.
    File {
        file: File,
        offset: u64,
        len: u64,
    },
    /// Pieces of in-memory bytes and ranges of one open file, sent in order:
    /// a `multipart/byteranges` body (RFC 9110 §14.6).
    Parts {
        file: File,
        parts: Vec<Part>,
    },
}

/// One piece of a [`Body::Parts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Bytes(Bytes),
    /// `len` bytes of the body's file starting at `offset`.
    File {
        offset: u64,
        len: u64,
    },
}

impl Part {
    /// The number of bytes this piece puts on the wire.
    pub fn len(&self) -> u64 {
        match self {
            Part::Bytes(b) => b.len() as u64,
            Part::File { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Body {
    /// The number of bytes the body will put on the wire.
    pub fn len(&self) -> u64 {
        match self {
            Body::Empty => 0,
            Body::Bytes(b) => b.len() as u64,
            Body::File { len, .. } => *len,
            Body::Parts { parts, .. } => parts.iter().map(Part::len).sum(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Response {
    /// A response with no fields and no body.
    pub fn empty(status: u16) -> Response {
        Response {
            status,
            fields: Vec::new(),
            body: Body::Empty,
        }
    }

    /// A short `text/plain` response, used for errors.
    pub fn text(status: u16, text: &'static str) -> Response {
        Response {
            status,
            fields: vec![("Content-Type", Cow::Borrowed("text/plain; charset=utf-8"))],
            body: Body::Bytes(Bytes::from_static(text.as_bytes())),
        }
    }

    /// Add a field; returns self for chaining.
    pub fn with_field(mut self, name: &'static str, value: impl Into<FieldValue>) -> Response {
        self.fields.push((name, value.into()));
        self
    }

    /// Every field as a name and the bytes of its value, in order: what
    /// `proto::response::encode_response_head` takes.
    pub fn field_lines(&self) -> impl Iterator<Item = (&str, &[u8])> + '_ {
        self.fields
            .iter()
            .map(|(name, value)| (*name, value.as_bytes()))
    }

    /// The value of the first field with this name, if any.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }
}
