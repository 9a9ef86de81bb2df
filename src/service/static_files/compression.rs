//! What the static files hand to the compressor threads, as they see it:
//! the options, the [`VariantCache`], the [`ContentHashes`] and the
//! [`Compressor`] that fills both; and [`Compression::pick`], the one walk
//! over a request's `Accept-Encoding` candidates that both the normal path
//! and the hot cache take, so they cannot choose differently.
//!
//! For each coding the client accepts, most preferred first: a fresh
//! sidecar wins; else a ready variant of this file version; else the walk
//! goes on to the next coding (a variant being made, or declined because
//! it was not smaller, is skipped). The first acceptable coding with
//! nothing known is started on the compressor, unless a more preferred one
//! is being made already (one at a time per file, the best first), and the
//! request gets what the walk found meanwhile, at worst the file as it is.

use super::compressor::{Compressor, Job, Source};
use super::content_hash::{ContentHashes, Sha256Digest};
use super::encoding::{Candidate, ContentCoding};
use super::options::{CompressionOptions, EtagPolicy};
use super::representation::Metadata;
use super::variant_cache::{FileVersion, Found, Variant, VariantCache, VariantKey};
use std::sync::Arc;
use std::time::SystemTime;

/// What [`Compression::pick`] chose.
pub enum Pick<S> {
    /// The client's sidecar for the first coding that has one.
    Sidecar(S),
    /// A compressed variant from the cache.
    Variant(Arc<Variant>),
    /// The file as it is.
    Identity,
}

/// What [`Compression::choose`] found, for [`Compression::settle`].
pub struct Choice<S> {
    /// The representation picked.
    pub picked: Pick<S>,
    /// A variant to start making (its bytes come from the file).
    to_make: Option<VariantKey>,
    /// Whether a variant was wanted and is not there yet.
    missed: bool,
    /// Whether the pick counts for the metrics.
    counts: bool,
}

impl<S> Choice<S> {
    /// Whether settling it needs the file's bytes: to start a variant.
    pub fn makes_a_variant(&self) -> bool {
        self.to_make.is_some()
    }
}

/// The compression state of one [`super::StaticFiles`].
pub struct Compression {
    options: CompressionOptions,
    etag: EtagPolicy,
    variants: Arc<VariantCache>,
    hashes: Arc<ContentHashes>,
    compressor: Compressor,
    /// The wall clock that tells whether a file has settled; tests move it.
    pub(super) settled_clock: fn() -> SystemTime,
}

impl Compression {
    pub fn new(options: CompressionOptions, etag: EtagPolicy) -> Compression {
        let stats = Arc::clone(crate::service::counters::variant_cache_stats());
        let variants = Arc::new(VariantCache::new(options.cache_bytes, stats));
        let hashes = Arc::new(ContentHashes::default());
        Compression {
            compressor: Compressor::new(Arc::clone(&variants), Arc::clone(&hashes)),
            variants,
            hashes,
            options,
            etag,
            settled_clock: SystemTime::now,
        }
    }

    /// The SHA-256 of the file version `version`, if computed.
    pub fn content_digest(&self, version: &FileVersion) -> Option<Sha256Digest> {
        self.hashes.get(version)
    }

    /// Have the digest of `version` computed, from `source`, unless it is
    /// known or being computed, or the file has not settled (a write could
    /// hide behind its timestamp).
    pub fn digest_soon(&self, version: FileVersion, source: impl FnOnce() -> Option<Source>) {
        if !version.is_settled((self.settled_clock)()) || !self.hashes.start(version) {
            return;
        }
        match source() {
            Some(source) => self.compressor.submit_hash(version, source),
            None => self.hashes.finish(version, None),
        }
    }

    /// Whether a file of `size` bytes of a compressible type is compressed
    /// on the fly.
    pub fn applies(&self, size: u64) -> bool {
        self.options.enabled && (self.options.min_bytes..=self.options.max_bytes).contains(&size)
    }

    /// The representation for `candidates` (the request's, most preferred
    /// first) of a compressible file at `version` (`None`: not compressed
    /// on the fly), given `sidecar`, which says whether a coding has a
    /// fresh sidecar. `job` gives the bytes and the file's metadata if a
    /// variant must be started. [`Compression::choose`], then
    /// [`Compression::settle`].
    pub fn pick<S>(
        &self,
        candidates: &[Candidate],
        version: Option<FileVersion>,
        sidecar: impl FnMut(ContentCoding) -> Option<S>,
        job: impl FnOnce() -> Option<(Source, Metadata)>,
    ) -> Pick<S> {
        let choice = self.choose(candidates, version, sidecar);
        self.settle(choice, job)
    }

    /// The walk of [`Compression::pick`] alone: what it picks and what it
    /// would start, counting nothing and starting nothing yet, so a caller
    /// that cannot give what the choice needs (the hot cache, for a file
    /// whose bytes it does not hold) can leave the request to the normal
    /// path, which walks again. (Looking a ready variant up counts toward
    /// its upgrade; a walk left that way counts twice, which only brings an
    /// upgrade a request nearer.)
    pub fn choose<S>(
        &self,
        candidates: &[Candidate],
        version: Option<FileVersion>,
        mut sidecar: impl FnMut(ContentCoding) -> Option<S>,
    ) -> Choice<S> {
        let version = version.filter(|version| self.applies(version.size));
        let mut to_make = None;
        let mut picked = Pick::Identity;
        let mut asked_for_coding = false;
        let mut making_a_better_one = false;
        for candidate in candidates {
            let Candidate::Coded(coding) = *candidate else {
                break;
            };
            asked_for_coding = true;
            if let Some(found) = sidecar(coding) {
                picked = Pick::Sidecar(found);
                break;
            }
            let Some(version) = version else {
                continue;
            };
            let key = VariantKey { version, coding };
            match self.variants.find(&key) {
                Found::Ready(variant) => {
                    picked = Pick::Variant(variant);
                    break;
                }
                Found::Absent if !making_a_better_one => {
                    to_make.get_or_insert(key);
                }
                Found::Making => making_a_better_one = true,
                Found::Absent | Found::Declined => {}
            }
        }
        Choice {
            picked,
            to_make,
            // A miss is a variant wanted and not there yet: declined ones
            // (not smaller) are a decision, not a miss.
            missed: to_make.is_some() || making_a_better_one,
            counts: version.is_some() && asked_for_coding,
        }
    }

    /// Count what `choice` picked for the metrics, start the variant it
    /// found missing (from `job`), and return the pick.
    pub fn settle<S>(
        &self,
        choice: Choice<S>,
        job: impl FnOnce() -> Option<(Source, Metadata)>,
    ) -> Pick<S> {
        if choice.counts {
            match choice.picked {
                Pick::Variant(_) => crate::service::counters::count_variant_hit(),
                Pick::Identity if choice.missed => crate::service::counters::count_variant_miss(),
                Pick::Identity | Pick::Sidecar(_) => {}
            }
        }
        if let Some(key) = choice.to_make {
            self.make(key, job);
        }
        choice.picked
    }

    /// Start making `key`, unless its file has not settled or it is known.
    fn make(&self, key: VariantKey, job: impl FnOnce() -> Option<(Source, Metadata)>) {
        if !key.version.is_settled((self.settled_clock)()) || !self.variants.start_making(key) {
            return;
        }
        match job() {
            Some((source, plain)) => self.compressor.submit(Job {
                key,
                source,
                plain,
                etag: self.etag,
            }),
            None => self.variants.abandon(&key),
        }
    }

    /// The cache, for tests that wait for a variant.
    #[cfg(test)]
    pub(super) fn variants(&self) -> &VariantCache {
        &self.variants
    }
}

#[cfg(test)]
mod tests {
    use super::super::compress::tests::{decode, script};
    use super::super::options::{CompressionOptions, EtagPolicy};
    use super::super::representation::tests::body_bytes;
    use super::super::{StaticFiles, StaticOptions};
    use super::*;
    use crate::proto::RequestHead;
    use crate::service::Response;
    use std::path::Path;
    use std::time::Duration;

    const EVERY_CODING: &str = "gzip, deflate, br, zstd";

    /// A wall clock an hour ahead: every file a test just wrote is settled.
    fn an_hour_ahead() -> SystemTime {
        SystemTime::now() + Duration::from_secs(3600)
    }

    /// Static files over `root` that compress files just written.
    fn files_with(root: &Path, compression: CompressionOptions) -> StaticFiles {
        files_with_options(
            root,
            StaticOptions {
                compression,
                ..StaticOptions::default()
            },
        )
    }

    /// Static files over `root` whose files all count as settled, and
    /// whose variants are never upgraded: no upgrade may change a tag a
    /// test holds (the upgrade test lowers this again).
    fn files_with_options(root: &Path, options: StaticOptions) -> StaticFiles {
        let mut files = StaticFiles::new(root.to_path_buf(), options).expect("root");
        files.compression.settled_clock = an_hour_ahead;
        files
            .compression
            .variants()
            .set_upgrade_after_hits(u64::MAX);
        files
    }

    fn files(root: &Path) -> StaticFiles {
        files_with(root, CompressionOptions::default())
    }

    fn request(method: &str, target: &str, fields: &[(&str, &str)]) -> RequestHead {
        RequestHead::for_test(method, target, fields)
    }

    /// Ask until a compressed answer comes (the compressor works on its
    /// own threads); bounded to 3000 tries over at most 30 seconds.
    fn until_compressed(files: &StaticFiles, head: &RequestHead) -> Response {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        for _ in 0..3000 {
            let response = files.serve(head);
            if response.field("Content-Encoding").is_some() {
                return response;
            }
            if std::time::Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("no compressed answer for {:?}", head.path());
    }

    /// Wait until nothing of `files` is being made; bounded as above.
    fn until_settled(files: &StaticFiles, version: FileVersion) {
        for _ in 0..2000 {
            let making = ContentCoding::ALL.iter().any(|&coding| {
                files
                    .compression
                    .variants()
                    .is_making(&VariantKey { version, coding })
            });
            if !making {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn version_of(path: &Path) -> FileVersion {
        FileVersion::of(&rustix::fs::stat(path).expect("stat"))
    }

    #[test]
    fn every_coding_is_made_once_and_decodes_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let source = script(64 * 1024);
        std::fs::write(dir.path().join("app.js"), &source).unwrap();
        let files = files(dir.path());
        let mut tags = Vec::new();
        for coding in ContentCoding::ALL {
            let head = request("GET", "/app.js", &[("Accept-Encoding", coding.token())]);
            // The first answer is the file as it is, while it is made.
            let first = files.serve(&head);
            assert_eq!(first.field("Content-Encoding"), None, "{coding:?}");
            assert_eq!(first.field("Vary"), Some("Accept-Encoding"));
            let response = until_compressed(&files, &head);
            assert_eq!(response.status, 200);
            assert_eq!(response.field("Content-Encoding"), Some(coding.token()));
            assert_eq!(response.field("Vary"), Some("Accept-Encoding"));
            assert_eq!(
                response.field("Content-Type"),
                Some("text/javascript; charset=utf-8")
            );
            let etag = response.field("ETag").expect("etag").to_owned();
            let level = super::super::compress::Effort::Fast.level(coding);
            assert!(
                etag.ends_with(&format!("-{}{level}\"", coding.token())),
                "{etag}"
            );
            tags.push(etag);
            let encoded = body_bytes(&response.body);
            assert!(encoded.len() < source.len() / 3, "{coding:?}");
            assert_eq!(decode(coding, &encoded), source, "{coding:?}");
            // The same bytes again, from the cache: not made twice.
            assert!(matches!(response.body, crate::service::Body::Bytes(_)));
            let again = files.serve(&head);
            assert_eq!(body_bytes(&again.body), encoded);
            assert_eq!(again.field("ETag"), Some(tags.last().unwrap().as_str()));
        }
        let identity = files.serve(&request("GET", "/app.js", &[]));
        tags.push(identity.field("ETag").unwrap().to_owned());
        assert_eq!(body_bytes(&identity.body), source);
        tags.sort();
        tags.dedup();
        assert_eq!(tags.len(), 4, "a tag per representation: {tags:?}");
    }

    #[test]
    fn preferences_and_refusals_choose_among_ready_variants() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.js"), script(20_000)).unwrap();
        let files = files(dir.path());
        for coding in ["gzip", "zstd", "br"] {
            let head = request("GET", "/app.js", &[("Accept-Encoding", coding)]);
            until_compressed(&files, &head);
        }
        // (Accept-Encoding, Content-Encoding)
        let cases: &[(&str, Option<&str>)] = &[
            (EVERY_CODING, Some("br")),
            ("gzip, zstd", Some("zstd")),
            ("br;q=0.5, gzip", Some("gzip")),
            ("identity, gzip;q=0.5", None),
            ("gzip;q=0, zstd;q=0, br;q=0", None),
            ("deflate", None),
            ("", None),
        ];
        for (accept, coding) in cases {
            let response = files.serve(&request("GET", "/app.js", &[("Accept-Encoding", accept)]));
            assert_eq!(response.field("Content-Encoding"), *coding, "{accept}");
            assert_eq!(response.field("Vary"), Some("Accept-Encoding"), "{accept}");
        }
        let bare = files.serve(&request("GET", "/app.js", &[]));
        assert_eq!(bare.field("Content-Encoding"), None);
    }

    #[test]
    fn validators_and_ranges_apply_to_the_encoded_bytes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("page.html"), script(16 * 1024)).unwrap();
        let files = files(dir.path());
        let br = [("Accept-Encoding", "br")];
        let whole = until_compressed(&files, &request("GET", "/page.html", &br));
        let etag = whole.field("ETag").unwrap().to_owned();
        let encoded = body_bytes(&whole.body);
        let len = encoded.len();
        let plain_tag = files
            .serve(&request("GET", "/page.html", &[]))
            .field("ETag")
            .unwrap()
            .to_owned();
        let ask = |method: &str, extra: &[(&str, &str)]| {
            let mut fields = br.to_vec();
            fields.extend_from_slice(extra);
            files.serve(&request(method, "/page.html", &fields))
        };
        // HEAD: the variant's fields and length (the driver drops the body).
        let head = ask("HEAD", &[]);
        assert_eq!(head.field("ETag"), Some(etag.as_str()));
        assert_eq!(head.field("Content-Encoding"), Some("br"));
        assert_eq!(head.body.len(), len as u64);
        // A range of the encoded bytes.
        let part = ask("GET", &[("Range", "bytes=0-9")]);
        assert_eq!(part.status, 206);
        assert_eq!(
            part.field("Content-Range"),
            Some(format!("bytes 0-9/{len}").as_str())
        );
        assert_eq!(body_bytes(&part.body), &encoded[..10]);
        let tail = ask("GET", &[("Range", "bytes=-5"), ("If-Range", &etag)]);
        assert_eq!(tail.status, 206);
        assert_eq!(body_bytes(&tail.body), &encoded[len - 5..]);
        // If-Range with another representation's tag: all of this one.
        let other = ask("GET", &[("Range", "bytes=-5"), ("If-Range", &plain_tag)]);
        assert_eq!(other.status, 200);
        assert_eq!(body_bytes(&other.body), encoded);
        let beyond = ask("GET", &[("Range", &format!("bytes={len}-"))]);
        assert_eq!(beyond.status, 416);
        assert_eq!(beyond.field("Vary"), Some("Accept-Encoding"));
        // If-None-Match compares the variant's tag; a 304 still varies.
        let not_modified = ask("GET", &[("If-None-Match", &etag)]);
        assert_eq!(not_modified.status, 304);
        assert_eq!(not_modified.field("ETag"), Some(etag.as_str()));
        assert_eq!(not_modified.field("Vary"), Some("Accept-Encoding"));
        let modified = ask("GET", &[("If-None-Match", &plain_tag)]);
        assert_eq!(modified.status, 200);
        assert_eq!(body_bytes(&modified.body), encoded);
        assert_eq!(ask("GET", &[("If-Match", &plain_tag)]).status, 412);
    }

    #[test]
    fn only_compressible_files_within_the_bounds_that_shrink() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("logo.png"), script(8000)).unwrap();
        std::fs::write(root.join("small.css"), script(1000)).unwrap();
        std::fs::write(root.join("big.css"), script(50_000)).unwrap();
        // Bytes that do not compress: a variant would not be smaller.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let noise: Vec<u8> = (0..20_000)
            .map(|_| {
                // xorshift64: bytes no coder can shrink.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        std::fs::write(root.join("noise.js"), &noise).unwrap();
        std::fs::write(root.join("ok.css"), script(8000)).unwrap();
        let options = CompressionOptions {
            max_bytes: 40_000,
            ..CompressionOptions::default()
        };
        let files = files_with(root, options);
        let gzip = [("Accept-Encoding", "gzip")];
        for name in ["logo.png", "small.css", "big.css", "noise.js", "ok.css"] {
            let head = request("GET", &format!("/{name}"), &gzip);
            files.serve(&head);
            until_settled(&files, version_of(&root.join(name)));
        }
        for name in ["logo.png", "small.css", "big.css", "noise.js"] {
            let response = files.serve(&request("GET", &format!("/{name}"), &gzip));
            assert_eq!(response.field("Content-Encoding"), None, "{name}");
        }
        let ok = until_compressed(&files, &request("GET", "/ok.css", &gzip));
        assert_eq!(ok.field("Content-Encoding"), Some("gzip"));
        // Off: nothing is compressed on the fly.
        let off = files_with(
            root,
            CompressionOptions {
                enabled: false,
                ..CompressionOptions::default()
            },
        );
        let head = request("GET", "/ok.css", &gzip);
        off.serve(&head);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(off.serve(&head).field("Content-Encoding"), None);
        assert_eq!(off.serve(&head).field("Vary"), Some("Accept-Encoding"));
    }

    #[test]
    fn a_fresh_sidecar_wins_and_an_edited_file_is_never_served_stale() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("app.js"), script(10_000)).unwrap();
        let files = files(root);
        let head = request("GET", "/app.js", &[("Accept-Encoding", "br, gzip")]);
        let made = until_compressed(&files, &head);
        assert_eq!(made.field("Content-Encoding"), Some("br"));
        // A sidecar appears: it wins over the variant of the same coding.
        std::fs::write(root.join("app.js.br"), b"SIDECAR").unwrap();
        assert_eq!(body_bytes(&files.serve(&head).body), b"SIDECAR");
        std::fs::remove_file(root.join("app.js.br")).unwrap();
        // Edited: the old variant is never answered for the new version.
        let edited = script(12_000);
        std::fs::write(root.join("app.js"), &edited).unwrap();
        let first = files.serve(&head);
        assert_eq!(first.field("Content-Encoding"), None);
        assert_eq!(body_bytes(&first.body), edited);
        let remade = until_compressed(&files, &head);
        assert_eq!(
            decode(ContentCoding::Brotli, &body_bytes(&remade.body)),
            edited
        );
        assert_ne!(remade.field("ETag"), made.field("ETag"));
    }

    #[test]
    fn a_popular_variant_is_upgraded_when_idle_with_a_new_tag() {
        let dir = tempfile::tempdir().unwrap();
        let source = script(30_000);
        std::fs::write(dir.path().join("app.js"), &source).unwrap();
        let files = files(dir.path());
        let upgrade_after = super::super::variant_cache::UPGRADE_AFTER_HITS;
        files
            .compression
            .variants()
            .set_upgrade_after_hits(upgrade_after);
        let head = request("GET", "/app.js", &[("Accept-Encoding", "br")]);
        let fast = until_compressed(&files, &head);
        let fast_tag = fast.field("ETag").unwrap().to_owned();
        assert!(fast_tag.ends_with("-br4\""), "{fast_tag}");
        for _ in 0..super::super::variant_cache::UPGRADE_AFTER_HITS {
            files.serve(&head);
        }
        // The compressor upgrades it once idle; bounded wait.
        let mut upgraded = None;
        for _ in 0..3000 {
            let response = files.serve(&head);
            if response.field("ETag") != Some(fast_tag.as_str()) {
                upgraded = Some(response);
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let upgraded = upgraded.expect("upgraded within 30 s");
        assert!(upgraded.field("ETag").unwrap().ends_with("-br11\""));
        let (fast, best) = (body_bytes(&fast.body), body_bytes(&upgraded.body));
        assert!(best.len() < fast.len(), "{} < {}", best.len(), fast.len());
        assert_eq!(decode(ContentCoding::Brotli, &best), source);
        // A client holding the fast tag gets the new bytes, not a 304.
        let stale = request(
            "GET",
            "/app.js",
            &[("Accept-Encoding", "br"), ("If-None-Match", &fast_tag)],
        );
        assert_eq!(files.serve(&stale).status, 200);
    }

    /// Static files over `root` with `--etag content`, taking fresh files
    /// as settled.
    fn content_tagged(root: &Path) -> StaticFiles {
        files_with_options(
            root,
            StaticOptions {
                etag: EtagPolicy::Content,
                ..StaticOptions::default()
            },
        )
    }

    /// Ask until `field` is in the answer; bounded like `until_compressed`.
    fn until_field(files: &StaticFiles, head: &RequestHead, field: &str) -> Response {
        for _ in 0..3000 {
            let response = files.serve(head);
            if response.field(field).is_some() {
                return response;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("no {field} for {:?}", head.path());
    }

    /// SHA-256 with the `sha2` crate directly, and the two forms of it.
    fn expected_tag_and_digest(bytes: &[u8]) -> (String, String) {
        use crate::proto::digest::{base64, Alphabet};
        use sha2::Digest;
        let digest = sha2::Sha256::digest(bytes);
        (
            format!("\"{}\"", base64(&digest[..16], Alphabet::UrlSafeUnpadded)),
            format!("sha-256=:{}:", base64(&digest, Alphabet::Standard)),
        )
    }

    #[test]
    fn content_tags_are_the_same_for_the_same_bytes_in_two_roots() {
        let source = script(5000);
        let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::write(first.path().join("app.js"), &source).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(second.path().join("app.js"), &source).unwrap();
        let (tag, _) = expected_tag_and_digest(&source);
        let plain = request("GET", "/app.js", &[]);
        for root in [first.path(), second.path()] {
            let files = content_tagged(root);
            // Until the digest is computed: no ETag rather than another one.
            let first_answer = files.serve(&plain);
            assert_eq!(first_answer.field("ETag"), None);
            assert!(first_answer.field("Last-Modified").is_some());
            let tagged = until_field(&files, &plain, "ETag");
            assert_eq!(tagged.field("ETag"), Some(tag.as_str()));
            let revalidation = request("GET", "/app.js", &[("If-None-Match", &tag)]);
            assert_eq!(files.serve(&revalidation).status, 304);
            // A variant's content tag is its own bytes' digest.
            let br = request("GET", "/app.js", &[("Accept-Encoding", "br")]);
            let variant = until_compressed(&files, &br);
            let (variant_tag, _) = expected_tag_and_digest(&body_bytes(&variant.body));
            assert_eq!(variant.field("ETag"), Some(variant_tag.as_str()));
        }
        // The mtime tags of the two copies differ: what content tags fix.
        let mtime_tag = |root: &Path| {
            let files = StaticFiles::new(root.to_path_buf(), StaticOptions::default()).unwrap();
            files.serve(&plain).field("ETag").unwrap().to_owned()
        };
        assert_ne!(mtime_tag(first.path()), mtime_tag(second.path()));
    }

    #[test]
    fn repr_digest_is_sent_when_asked_for_files_and_variants_never_for_parts() {
        let dir = tempfile::tempdir().unwrap();
        let source = script(6000);
        std::fs::write(dir.path().join("app.js"), &source).unwrap();
        std::fs::write(dir.path().join("logo.png"), b"\x89PNG not really").unwrap();
        let files = files(dir.path());
        let want = ("Want-Repr-Digest", "sha-512=3, sha-256=7");
        let (_, digest) = expected_tag_and_digest(&source);
        let asked = request("GET", "/app.js", &[want]);
        let answered = until_field(&files, &asked, "Repr-Digest");
        assert_eq!(answered.field("Repr-Digest"), Some(digest.as_str()));
        // mtime tags stay as they were.
        assert!(answered.field("ETag").unwrap().len() > 20);
        let head = files.serve(&request("HEAD", "/app.js", &[want]));
        assert_eq!(head.field("Repr-Digest"), Some(digest.as_str()));
        // Not asked, asked with 0, or a part: none.
        for fields in [
            vec![],
            vec![("Want-Repr-Digest", "sha-256=0")],
            vec![want, ("Range", "bytes=0-9")],
        ] {
            let response = files.serve(&request("GET", "/app.js", &fields));
            assert_eq!(response.field("Repr-Digest"), None, "{fields:?}");
        }
        let png = until_field(&files, &request("GET", "/logo.png", &[want]), "Repr-Digest");
        let (_, png_digest) = expected_tag_and_digest(b"\x89PNG not really");
        assert_eq!(png.field("Repr-Digest"), Some(png_digest.as_str()));
        // A variant: the digest of the encoded bytes (RFC 9530 §3).
        let gzip = request("GET", "/app.js", &[("Accept-Encoding", "gzip"), want]);
        let variant = until_compressed(&files, &gzip);
        let (_, variant_digest) = expected_tag_and_digest(&body_bytes(&variant.body));
        assert_eq!(variant.field("Repr-Digest"), Some(variant_digest.as_str()));
        assert_ne!(variant_digest, digest);
    }

    #[test]
    fn the_hot_cache_sends_repr_digest_once_known() {
        let dir = tempfile::tempdir().unwrap();
        let source = script(3000);
        std::fs::write(dir.path().join("style.css"), &source).unwrap();
        let mut files = files(dir.path());
        files.hot_cache = super::super::hot_cache::HotCache::with_wall_clock(an_hour_ahead);
        let asked = request("GET", "/style.css", &[("Want-Repr-Digest", "sha-256=1")]);
        let (_, digest) = expected_tag_and_digest(&source);
        let mut answered = None;
        for _ in 0..3000 {
            let response = files.serve_cached(&asked);
            if response.field("Repr-Digest").is_some() {
                answered = Some(response);
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let answered = answered.expect("a digest within 30 s");
        assert_eq!(answered.field("Repr-Digest"), Some(digest.as_str()));
        assert!(matches!(answered.body, crate::service::Body::Bytes(_)));
    }

    #[test]
    fn a_large_variant_is_sent_from_a_sealed_memory_file() {
        let dir = tempfile::tempdir().unwrap();
        // Words in an order no coder can predict: compresses to about a
        // third, well above the memory-file threshold.
        let words = [
            "alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "zeta",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut source = Vec::new();
        while source.len() < 600_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            source.extend_from_slice(words[(state % 8) as usize].as_bytes());
            source.push(if state % 11 == 0 { b'\n' } else { b' ' });
        }
        std::fs::write(dir.path().join("big.txt"), &source).unwrap();
        let files = files(dir.path());
        let head = request("GET", "/big.txt", &[("Accept-Encoding", "gzip")]);
        let response = until_compressed(&files, &head);
        let encoded = body_bytes(&response.body);
        assert!(
            encoded.len() >= super::super::variant_cache::MEMORY_FILE_FROM_BYTES,
            "{}",
            encoded.len()
        );
        let crate::service::Body::File { file, .. } = &response.body else {
            panic!("a large variant is a file body");
        };
        // Sealed: nothing can change the bytes every response shares.
        use std::os::unix::fs::FileExt;
        assert!(file.write_at(b"x", 0).is_err());
        assert_eq!(decode(ContentCoding::Gzip, &encoded), source);
        let ranged = request(
            "GET",
            "/big.txt",
            &[("Accept-Encoding", "gzip"), ("Range", "bytes=1000-1999")],
        );
        let part = files.serve(&ranged);
        assert_eq!(part.status, 206);
        assert_eq!(body_bytes(&part.body), &encoded[1000..2000]);
    }

    #[test]
    fn an_unsettled_file_is_not_compressed_yet() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.js"), script(10_000)).unwrap();
        let mut files = files(dir.path());
        files.compression.settled_clock = SystemTime::now;
        let head = request("GET", "/app.js", &[("Accept-Encoding", "gzip")]);
        files.serve(&head);
        let key = VariantKey {
            version: version_of(&dir.path().join("app.js")),
            coding: ContentCoding::Gzip,
        };
        assert!(matches!(
            files.compression.variants().find(&key),
            Found::Absent
        ));
    }

    #[test]
    fn the_hot_cache_serves_the_same_variants_as_the_normal_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), script(16 * 1024)).unwrap();
        let mut files = files(dir.path());
        files.hot_cache = super::super::hot_cache::HotCache::with_wall_clock(an_hour_ahead);
        let head = request("GET", "/", &[("Accept-Encoding", EVERY_CODING)]);
        // Warm the hot cache; its entry is asked for the variant.
        files.serve_cached(&head);
        until_compressed(&files, &head);
        for fields in [
            vec![("Accept-Encoding", EVERY_CODING)],
            vec![("Accept-Encoding", "br"), ("Range", "bytes=3-7")],
            vec![("Accept-Encoding", "gzip")],
            vec![],
        ] {
            let head = request("GET", "/", &fields);
            // Both paths once more, so both have asked for every variant.
            files.serve_cached(&head);
            if !fields.is_empty() {
                until_compressed(&files, &head);
            }
            let normal = files.serve(&head);
            let cached = files.serve_cached(&head);
            assert!(matches!(cached.body, crate::service::Body::Bytes(_)));
            assert_eq!(cached.status, normal.status, "{fields:?}");
            assert_eq!(cached.fields, normal.fields, "{fields:?}");
            assert_eq!(body_bytes(&cached.body), body_bytes(&normal.body));
        }
    }
}
