//! Credentials that passed a bcrypt check, remembered so the next request
//! with them costs a SHA-256 instead of a bcrypt (bcrypt is slow on
//! purpose: milliseconds at cost 5, a quarter second at 12).
//!
//! Nothing here holds a password: an entry is a SHA-256 of a random
//! per-process key and the token68 the client sent (its user-id and
//! password, base64-encoded), so a memory dump gives nothing to replay,
//! and without the key nobody can aim at an entry. Keying by the token
//! rather than the decoded pair spares a hit the decoding; two spellings
//! of the same credentials (with and without padding) are two entries,
//! each verified once.
//! Looking an entry up is not constant time, and need not be: the client
//! cannot compute the digest it would be probing for.
//!
//! Only verified credentials are inserted, so the set grows only with
//! users who know their password; it is still bounded ([`CAPACITY`]),
//! cleared when full, which costs each user one more bcrypt check.
//! The password file is read once, at start, so an entry stays true for
//! the process's life.

use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::sync::RwLock;

/// Most entries kept; past it the set starts over.
pub const CAPACITY: usize = 4096;

/// A keyed digest of one `Basic` token68.
pub type CredentialDigest = [u8; 32];

/// The set of credentials known to be good.
pub struct VerifiedCache {
    key: [u8; 32],
    digests: RwLock<HashSet<CredentialDigest>>,
}

impl VerifiedCache {
    /// An empty cache with a fresh random key.
    pub fn new() -> VerifiedCache {
        let mut key = [0; 32];
        getrandom::fill(&mut key).expect("the OS random source");
        VerifiedCache::with_key(key)
    }

    fn with_key(key: [u8; 32]) -> VerifiedCache {
        VerifiedCache {
            key,
            digests: RwLock::new(HashSet::new()),
        }
    }

    /// The digest naming the credentials `token` (a token68) carries.
    pub fn digest(&self, token: &[u8]) -> CredentialDigest {
        let mut hasher = Sha256::new();
        hasher.update(self.key);
        hasher.update(token);
        hasher.finalize().into()
    }

    /// Whether these credentials passed a check before.
    pub fn contains(&self, digest: &CredentialDigest) -> bool {
        self.digests
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains(digest)
    }

    /// Remember credentials that passed a check.
    pub fn insert(&self, digest: CredentialDigest) {
        let mut digests = self
            .digests
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if digests.len() >= CAPACITY {
            digests.clear();
        }
        digests.insert(digest);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.digests.read().expect("not poisoned").len()
    }
}

impl Default for VerifiedCache {
    fn default() -> VerifiedCache {
        VerifiedCache::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_depend_on_key_and_token() {
        let cache = VerifiedCache::with_key([1; 32]);
        let base = cache.digest(b"YWxpY2U6c2VjcmV0");
        assert_eq!(base, cache.digest(b"YWxpY2U6c2VjcmV0"));
        assert_ne!(base, cache.digest(b"YWxpY2U6c2VjcmVU"));
        assert_ne!(base, cache.digest(b"YWxpY2U6c2VjcmV0="));
        assert_ne!(
            base,
            VerifiedCache::with_key([2; 32]).digest(b"YWxpY2U6c2VjcmV0")
        );
        // Two caches made by `new` have different keys.
        assert_ne!(
            VerifiedCache::new().digest(b"YWxpY2U6c2VjcmV0"),
            VerifiedCache::new().digest(b"YWxpY2U6c2VjcmV0")
        );
    }

    #[test]
    fn remembers_what_was_inserted_and_stays_bounded() {
        let cache = VerifiedCache::with_key([3; 32]);
        let alice = cache.digest(b"YWxpY2U6c2VjcmV0");
        assert!(!cache.contains(&alice));
        cache.insert(alice);
        assert!(cache.contains(&alice));
        assert!(!cache.contains(&cache.digest(b"YWxpY2U6d3Jvbmc=")));
        for n in 0..CAPACITY * 2 {
            cache.insert(cache.digest(n.to_string().as_bytes()));
            assert!(cache.len() <= CAPACITY);
        }
    }
}
