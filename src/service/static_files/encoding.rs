//! Content-coding negotiation for precompressed sidecars (RFC 9110 §12.5.3).
//!
//! Pure: the `Accept-Encoding` value in, the order in which to try
//! representations out. Opening `file.br`, `file.zst` or `file.gz` and
//! checking that it is a fresh regular file is `mod.rs`'s business; it walks
//! [`Negotiation::candidates`] and serves the first one it has.
//!
//! The rules:
//! - No `Accept-Encoding` at all: identity only. RFC 9110 allows any coding
//!   then, but clients that send nothing are usually tools that would not
//!   decode it, and every browser sends the field.
//! - An empty value: identity only (the client wants no coding).
//! - Coding names are case-insensitive; `x-gzip` is `gzip` (RFC 9110
//!   §8.4.1.3). Unknown codings are ignored; an element with a malformed
//!   weight is ignored. When a coding is listed twice, the first wins.
//! - `*` gives its weight to every coding not listed by name, identity
//!   included (RFC 9110 §12.5.3).
//! - Identity is acceptable unless refused by `identity;q=0`, or by `*;q=0`
//!   without `identity` listed. When neither `identity` nor `*` is listed it
//!   is acceptable but comes after every listed coding: a client that sends
//!   `br;q=0.5, gzip;q=0.8` wants compression, and RFC 9110 gives unlisted
//!   identity acceptability, not a weight of 1.
//! - Candidates are ordered by weight, then br > zstd > gzip > identity at
//!   equal weight: smaller first, and identity last since it is the largest.
//! - When the client refuses identity and no acceptable sidecar exists, we
//!   still serve identity rather than 406: RFC 9110 §12.1 lets a server
//!   disregard a negotiation field and send its default representation,
//!   and a 406 for a file we have helps nobody (nginx and Go do the same).

use crate::proto::fields::Weighted;

/// A content coding we can serve from a sidecar file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentCoding {
    Brotli,
    Zstd,
    Gzip,
}

impl ContentCoding {
    /// Every sidecar coding, in order of preference at equal weight.
    pub const ALL: [ContentCoding; 3] = [
        ContentCoding::Brotli,
        ContentCoding::Zstd,
        ContentCoding::Gzip,
    ];

    /// The token for `Content-Encoding` (and for the ETag suffix).
    pub fn token(self) -> &'static str {
        match self {
            ContentCoding::Brotli => "br",
            ContentCoding::Zstd => "zstd",
            ContentCoding::Gzip => "gzip",
        }
    }

    /// The file-name suffix of the sidecar: `app.js` → `app.js.br`.
    pub fn file_suffix(self) -> &'static str {
        match self {
            ContentCoding::Brotli => ".br",
            ContentCoding::Zstd => ".zst",
            ContentCoding::Gzip => ".gz",
        }
    }

    fn from_token(token: &[u8]) -> Option<ContentCoding> {
        ContentCoding::ALL
            .into_iter()
            .find(|coding| token.eq_ignore_ascii_case(coding.token().as_bytes()))
            .or_else(|| {
                token
                    .eq_ignore_ascii_case(b"x-gzip")
                    .then_some(ContentCoding::Gzip)
            })
    }
}

/// One representation to try: a sidecar with this coding, or the file as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Candidate {
    Coded(ContentCoding),
    Identity,
}

/// The outcome of reading `Accept-Encoding`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiation {
    /// Acceptable representations, most preferred first. Identity is absent
    /// when the client refused it.
    pub candidates: Vec<Candidate>,
}

/// Read an `Accept-Encoding` field (the weighted elements of all its
/// lines, or `None` when the field is absent) into the order of
/// representations to try.
pub fn negotiate<'a>(accept_encoding: Option<impl Iterator<Item = Weighted<'a>>>) -> Negotiation {
    let Some(elements) = accept_encoding else {
        return Negotiation {
            candidates: vec![Candidate::Identity],
        };
    };
    // Weights in thousandths, as qvalue allows three decimals.
    let mut coded: [Option<u16>; 3] = [None; 3];
    let mut identity: Option<u16> = None;
    let mut star: Option<u16> = None;
    for Weighted { item: name, weight } in elements {
        let slot = if name == b"*" {
            &mut star
        } else if name.eq_ignore_ascii_case(b"identity") {
            &mut identity
        } else if let Some(coding) = ContentCoding::from_token(name) {
            let index = ContentCoding::ALL
                .iter()
                .position(|c| *c == coding)
                .expect("ALL holds every coding");
            &mut coded[index]
        } else {
            continue;
        };
        if slot.is_none() {
            *slot = Some(weight);
        }
    }
    // (weight, rank at equal weight, candidate)
    let mut ranked: Vec<(u16, usize, Candidate)> = Vec::with_capacity(4);
    for (index, coding) in ContentCoding::ALL.into_iter().enumerate() {
        let weight = coded[index].or(star).unwrap_or(0);
        if weight > 0 {
            ranked.push((weight, index, Candidate::Coded(coding)));
        }
    }
    let identity_weight = identity.or(star);
    if let Some(weight) = identity_weight.filter(|&w| w > 0) {
        ranked.push((weight, ContentCoding::ALL.len(), Candidate::Identity));
    }
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut candidates: Vec<Candidate> = ranked.into_iter().map(|(_, _, c)| c).collect();
    if identity_weight.is_none() {
        candidates.push(Candidate::Identity);
    }
    Negotiation { candidates }
}

#[cfg(test)]
mod tests {
    use super::Candidate::{Coded, Identity};
    use super::ContentCoding::{Brotli, Gzip, Zstd};
    use super::*;
    use crate::proto::fields::weighted_list;

    #[test]
    fn candidates_in_order_of_preference() {
        let cases: &[(Option<&str>, &[Candidate])] = &[
            (None, &[Identity]),
            (Some(""), &[Identity]),
            (Some("gzip"), &[Coded(Gzip), Identity]),
            // Equal weights: br > zstd > gzip > identity.
            (
                Some("gzip, deflate, br, zstd"),
                &[Coded(Brotli), Coded(Zstd), Coded(Gzip), Identity],
            ),
            (Some("gzip, br"), &[Coded(Brotli), Coded(Gzip), Identity]),
            // Weights win over the default order; unlisted identity is last.
            (
                Some("br;q=0.5, gzip;q=0.8"),
                &[Coded(Gzip), Coded(Brotli), Identity],
            ),
            (
                Some("br;q=0.5, gzip;q=0.8, identity"),
                &[Identity, Coded(Gzip), Coded(Brotli)],
            ),
            (
                Some("br;q=0.5, gzip;q=0.8, identity;q=0.1"),
                &[Coded(Gzip), Coded(Brotli), Identity],
            ),
            // q=0 refuses.
            (Some("br;q=0, gzip"), &[Coded(Gzip), Identity]),
            (Some("gzip;q=0.000"), &[Identity]),
            // Identity refused.
            (Some("br, identity;q=0"), &[Coded(Brotli)]),
            (Some("identity;q=0"), &[]),
            (Some("*;q=0"), &[]),
            (Some("*;q=0, identity"), &[Identity]),
            (Some("*;q=0, gzip"), &[Coded(Gzip)]),
            // `*` covers every coding not named.
            (
                Some("*"),
                &[Coded(Brotli), Coded(Zstd), Coded(Gzip), Identity],
            ),
            (
                Some("gzip;q=0.2, *;q=0.5"),
                &[Coded(Brotli), Coded(Zstd), Identity, Coded(Gzip)],
            ),
            // Case, whitespace and aliases.
            (
                Some("  GZIP ; Q=1.0 ,BR"),
                &[Coded(Brotli), Coded(Gzip), Identity],
            ),
            (Some("x-gzip"), &[Coded(Gzip), Identity]),
            (Some("ZSTD;q=0.9"), &[Coded(Zstd), Identity]),
            // Unknown codings and empty elements are ignored.
            (Some("deflate, compress, ,"), &[Identity]),
            // Malformed weights drop the element.
            (Some("br;q=2, gzip;q=0.5"), &[Coded(Gzip), Identity]),
            (Some("br;q=0.1234"), &[Identity]),
            (Some("br;q=, gzip;q=abc"), &[Identity]),
            (Some("br;q=1.001"), &[Identity]),
            (Some("br;q=1.000;level=9"), &[Coded(Brotli), Identity]),
            // The first mention wins.
            (Some("br;q=0, br"), &[Identity]),
        ];
        for (header, want) in cases {
            let got = negotiate(header.map(|value| weighted_list(value.as_bytes()))).candidates;
            assert_eq!(got, *want, "Accept-Encoding: {header:?}");
        }
    }

    #[test]
    fn tokens_and_suffixes() {
        assert_eq!(Brotli.token(), "br");
        assert_eq!(Zstd.token(), "zstd");
        assert_eq!(Gzip.token(), "gzip");
        assert_eq!(Brotli.file_suffix(), ".br");
        assert_eq!(Zstd.file_suffix(), ".zst");
        assert_eq!(Gzip.file_suffix(), ".gz");
    }
}
