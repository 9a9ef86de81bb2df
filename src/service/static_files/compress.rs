//! Compressing a file's bytes into one content coding, at one of two
//! efforts: pure functions over bytes in memory (no file system, no clock),
//! used by the variant cache's compressor threads.
//!
//! [`Effort::Fast`] is what a variant is first made at: it must be cheap
//! enough that the first client of a file version gets it soon. At
//! [`Effort::Best`] (the idle upgrade) the levels are the smallest each
//! library makes: brotli 11, zstd 19 with a window of at most 8 MiB (what
//! RFC 8878 §3.1.1.1.2 asks of HTTP zstd, so every decoder accepts it), and
//! gzip 9.

use super::encoding::ContentCoding;
use std::io::{Read, Write};

/// How hard to compress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effort {
    /// The first variant of a file version (brotli 4, zstd 3, gzip 5).
    Fast,
    /// The idle upgrade of a popular variant (brotli 11, zstd 19, gzip 9).
    Best,
}

impl Effort {
    /// The level passed to the library for `coding`.
    pub fn level(self, coding: ContentCoding) -> i32 {
        match (self, coding) {
            (Effort::Fast, ContentCoding::Brotli) => 4,
            (Effort::Fast, ContentCoding::Zstd) => 3,
            (Effort::Fast, ContentCoding::Gzip) => 5,
            (Effort::Best, ContentCoding::Brotli) => 11,
            (Effort::Best, ContentCoding::Zstd) => 19,
            (Effort::Best, ContentCoding::Gzip) => 9,
        }
    }
}

/// zstd's window for HTTP: 2^23 = 8 MiB at most (RFC 8878 §3.1.1.1.2).
const ZSTD_MAX_WINDOW_LOG: u32 = 23;

/// Brotli's window: 2^22 = 4 MiB, the library's default and what every
/// browser decodes.
const BROTLI_WINDOW_LOG: i32 = 22;

/// `source` compressed with `coding` at `effort`; `None` only if the
/// library fails, which it does not for bytes in memory.
pub fn compress(source: &[u8], coding: ContentCoding, effort: Effort) -> Option<Vec<u8>> {
    let level = effort.level(coding);
    // Most text shrinks to a quarter or less.
    let mut out = Vec::with_capacity(source.len() / 4 + 64);
    match coding {
        ContentCoding::Brotli => {
            let params = brotli::enc::BrotliEncoderParams {
                quality: level,
                lgwin: BROTLI_WINDOW_LOG,
                size_hint: source.len(),
                mode: brotli::enc::backward_references::BrotliEncoderMode::BROTLI_MODE_TEXT,
                ..Default::default()
            };
            let mut reader = source;
            brotli::BrotliCompress(&mut reader, &mut out, &params).ok()?;
        }
        ContentCoding::Zstd => {
            let mut compressor = zstd::bulk::Compressor::new(level).ok()?;
            // Levels above ~17 default to larger windows on large inputs.
            let window_log = zstd_window_log(source.len());
            compressor
                .set_parameter(zstd::zstd_safe::CParameter::WindowLog(window_log))
                .ok()?;
            compressor
                .set_parameter(zstd::zstd_safe::CParameter::ChecksumFlag(false))
                .ok()?;
            out = compressor.compress(source).ok()?;
        }
        ContentCoding::Gzip => {
            let level = u32::try_from(level).ok()?;
            let mut encoder = flate2::write::GzEncoder::new(out, flate2::Compression::new(level));
            encoder.write_all(source).ok()?;
            out = encoder.finish().ok()?;
        }
    }
    Some(out)
}

/// `encoded` (made by [`compress`] with `coding`) decoded, if it decodes to
/// exactly `len` bytes: the source of an upgrade.
pub fn decompress(encoded: &[u8], coding: ContentCoding, len: u64) -> Option<Vec<u8>> {
    let len = usize::try_from(len).ok()?;
    let mut out = Vec::with_capacity(len);
    // One byte more than expected tells a longer output from an exact one.
    let limit = len as u64 + 1;
    match coding {
        ContentCoding::Brotli => {
            brotli::Decompressor::new(encoded, 4096)
                .take(limit)
                .read_to_end(&mut out)
                .ok()?;
        }
        ContentCoding::Zstd => {
            zstd::stream::read::Decoder::new(encoded)
                .ok()?
                .take(limit)
                .read_to_end(&mut out)
                .ok()?;
        }
        ContentCoding::Gzip => {
            flate2::read::GzDecoder::new(encoded)
                .take(limit)
                .read_to_end(&mut out)
                .ok()?;
        }
    }
    (out.len() == len).then_some(out)
}

/// The window log for `len` bytes of zstd: what spans them, at most 8 MiB.
fn zstd_window_log(len: usize) -> u32 {
    needed_window_log(len).min(ZSTD_MAX_WINDOW_LOG)
}

/// The smallest window log (10 to 31, zstd's bounds) that spans `len`
/// bytes: a window larger than the input only costs the decoder memory.
fn needed_window_log(len: usize) -> u32 {
    let bits = usize::BITS - len.saturating_sub(1).leading_zeros();
    bits.clamp(10, 31)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Text like what a site serves: repetitive, but not one byte repeated.
    pub(crate) fn script(len: usize) -> Vec<u8> {
        let mut text = Vec::with_capacity(len + 64);
        let mut i = 0u32;
        while text.len() < len {
            text.extend_from_slice(
                format!("function f{i}(a, b) {{ return a * {} + b; }}\n", i % 97).as_bytes(),
            );
            i += 1;
        }
        text.truncate(len);
        text
    }

    /// Decode `encoded` with the library's decoder side (brotli's separate
    /// decompressor crate, libzstd's decoder, zlib-rs's inflate): what a
    /// client does, independent of the encoder settings used.
    pub(crate) fn decode(coding: ContentCoding, encoded: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        match coding {
            ContentCoding::Brotli => {
                brotli::Decompressor::new(encoded, 4096)
                    .read_to_end(&mut out)
                    .expect("valid brotli");
            }
            ContentCoding::Zstd => {
                zstd::stream::read::Decoder::new(encoded)
                    .expect("decoder")
                    .read_to_end(&mut out)
                    .expect("valid zstd");
            }
            ContentCoding::Gzip => {
                flate2::read::GzDecoder::new(encoded)
                    .read_to_end(&mut out)
                    .expect("valid gzip");
            }
        }
        out
    }

    /// Real text: this project's README.
    const README: &[u8] = include_bytes!("../../../README.md");

    #[test]
    fn every_coding_and_effort_decodes_to_the_source_and_is_smaller() {
        let source = README;
        for coding in ContentCoding::ALL {
            let fast = compress(source, coding, Effort::Fast).expect("fast");
            let best = compress(source, coding, Effort::Best).expect("best");
            assert_eq!(decode(coding, &fast), source, "{coding:?} fast");
            assert_eq!(decode(coding, &best), source, "{coding:?} best");
            assert!(fast.len() < source.len() / 2, "{coding:?} {}", fast.len());
            assert!(
                best.len() <= fast.len(),
                "{coding:?} {} {}",
                best.len(),
                fast.len()
            );
        }
    }

    #[test]
    fn decompressing_gives_back_exactly_the_source() {
        for coding in ContentCoding::ALL {
            let encoded = compress(README, coding, Effort::Fast).expect("compress");
            let len = README.len() as u64;
            assert_eq!(decompress(&encoded, coding, len).as_deref(), Some(README));
            assert_eq!(decompress(&encoded, coding, len - 1), None, "{coding:?}");
            assert_eq!(decompress(&encoded, coding, len + 1), None, "{coding:?}");
            assert_eq!(decompress(b"not encoded", coding, len), None, "{coding:?}");
        }
    }

    #[test]
    fn the_same_bytes_compress_to_the_same_bytes() {
        // A content-derived ETag of a variant is the same on every replica
        // only if compression is deterministic.
        let source = script(10_000);
        for coding in ContentCoding::ALL {
            assert_eq!(
                compress(&source, coding, Effort::Fast),
                compress(&source, coding, Effort::Fast),
                "{coding:?}"
            );
        }
    }

    #[test]
    fn zstd_frames_never_ask_for_more_than_an_8_mib_window() {
        // The frame header's window descriptor (RFC 8878 §3.1.1.1.2): with
        // a single segment the window is the content size, else
        // 2^(10 + exponent) plus a mantissa of at most 7/8 of it.
        // (A 9 MiB input at level 19 takes too long for a unit test: the
        // cap itself is `window_logs_span_the_input`.)
        for len in [100, 70_000, 300_000] {
            let source = script(len);
            let frame = compress(&source, ContentCoding::Zstd, Effort::Best).expect("zstd");
            let descriptor = frame[4];
            let single_segment = descriptor & 0x20 != 0;
            let window = match single_segment {
                true => len as u64,
                false => {
                    let window_byte = frame[5];
                    let base = 1u64 << (10 + (window_byte >> 3));
                    base + (base / 8) * u64::from(window_byte & 7)
                }
            };
            assert!(window <= 8 * 1024 * 1024, "{len}: window {window}");
            assert_eq!(decode(ContentCoding::Zstd, &frame), source);
        }
    }

    #[test]
    fn window_logs_span_the_input() {
        let cases = [
            (0, 10),
            (1, 10),
            (1024, 10),
            (1025, 11),
            (65_536, 16),
            (65_537, 17),
            (8 << 20, 23),
            ((8 << 20) + 1, 24),
        ];
        for (len, log) in cases {
            assert_eq!(needed_window_log(len), log, "{len}");
            assert_eq!(zstd_window_log(len), log.min(23), "{len}");
        }
    }
}
