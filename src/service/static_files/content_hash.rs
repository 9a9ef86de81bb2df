//! SHA-256 digests of file versions, for `--etag content` and for
//! `Repr-Digest` (RFC 9530): computed once per version (device, inode,
//! size, modification time) on the compressor threads, never on an event
//! loop, and kept beside that version. Until a version's digest is known
//! its responses carry no content ETag and no `Repr-Digest`: a missing
//! validator only costs a revalidation, a wrong one would cost correctness.
//!
//! Bounded: at most [`MAX_DIGESTS`] versions; when full, an arbitrary
//! known digest makes room (it is computed again if asked for again).

use super::variant_cache::FileVersion;
use crate::proto::digest::{base64, repr_digest_sha256, Alphabet};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// The most versions whose digest is kept (about 100 bytes each).
pub const MAX_DIGESTS: usize = 64 * 1024;

/// A SHA-256 digest.
pub type Sha256Digest = [u8; 32];

/// The digest of `bytes`.
pub fn sha256(bytes: &[u8]) -> Sha256Digest {
    Sha256::digest(bytes).into()
}

/// A running digest, for reading a file in pieces.
pub struct Hasher(Sha256);

impl Hasher {
    pub fn new() -> Hasher {
        Hasher(Sha256::new())
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    pub fn finish(self) -> Sha256Digest {
        self.0.finalize().into()
    }
}

impl Default for Hasher {
    fn default() -> Self {
        Hasher::new()
    }
}

/// A strong entity tag from a digest: the first 128 bits in URL-safe
/// base64 (22 characters), so every replica serving the same bytes gives
/// the same tag (RFC 9110 §8.8.3).
pub fn content_tag(digest: &Sha256Digest) -> String {
    format!("\"{}\"", base64(&digest[..16], Alphabet::UrlSafeUnpadded))
}

/// A digest as a `Repr-Digest` value, shared by every response that sends
/// it.
pub fn repr_digest(digest: &Sha256Digest) -> Arc<str> {
    Arc::from(repr_digest_sha256(digest))
}

enum State {
    Computing,
    Known(Sha256Digest),
}

/// The digests of one [`super::StaticFiles`]'s files.
#[derive(Default)]
pub struct ContentHashes {
    map: RwLock<HashMap<FileVersion, State>>,
}

impl ContentHashes {
    /// The digest of `version`, if known.
    pub fn get(&self, version: &FileVersion) -> Option<Sha256Digest> {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        match map.get(version) {
            Some(State::Known(digest)) => Some(*digest),
            _ => None,
        }
    }

    /// Mark `version` as being computed unless anything is known of it;
    /// whether it was marked (then the caller submits the work).
    pub fn start(&self, version: FileVersion) -> bool {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if map.contains_key(&version) {
            return false;
        }
        if map.len() >= MAX_DIGESTS {
            let known = map
                .iter()
                .find(|(_, state)| matches!(state, State::Known(_)))
                .map(|(version, _)| *version);
            match known {
                Some(victim) => map.remove(&victim),
                None => return false,
            };
        }
        map.insert(version, State::Computing);
        true
    }

    /// Record the digest of `version`, or forget it (`None`: the file
    /// changed while read, or the work could not be queued).
    pub fn finish(&self, version: FileVersion, digest: Option<Sha256Digest>) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        match digest {
            Some(digest) => map.insert(version, State::Known(digest)),
            None => map.remove(&version),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_and_tags_match_known_vectors() {
        // FIPS 180-4 "abc".
        let abc = sha256(b"abc");
        assert_eq!(
            repr_digest(&abc).as_ref(),
            "sha-256=:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=:"
        );
        assert_eq!(content_tag(&abc), "\"ungWv48Bz-pBQUDeXa4iIw\"");
        let mut pieces = Hasher::new();
        pieces.update(b"a");
        pieces.update(b"bc");
        assert_eq!(pieces.finish(), abc);
    }

    #[test]
    fn a_version_is_computed_once() {
        let hashes = ContentHashes::default();
        let version = FileVersion {
            device: 1,
            inode: 2,
            size: 3,
            mtime: (4, 5),
        };
        assert!(hashes.start(version));
        assert!(!hashes.start(version));
        assert_eq!(hashes.get(&version), None);
        hashes.finish(version, Some([7; 32]));
        assert_eq!(hashes.get(&version), Some([7; 32]));
        assert!(!hashes.start(version));
        hashes.finish(version, None);
        assert!(hashes.start(version));
    }
}
