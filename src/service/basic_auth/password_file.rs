//! The `--auth` file: `user:hash` lines as Apache's `htpasswd -B` writes
//! them, read and checked once at start.
//!
//! Only bcrypt hashes (`$2y$`, as `htpasswd -B` writes, and `$2a$`/`$2b$`,
//! as other tools do) are taken: the other htpasswd formats (MD5-crypt
//! `$apr1$`, `{SHA}`, crypt, plain text) are fast to guess and refused at
//! start, naming the file and line, so no weak hash is ever in service.
//! Blank lines and lines starting with `#` are skipped; a line may end in
//! `\r\n`. The cost must be 4 to 17, the range `htpasswd -C` allows: a
//! higher one would hold a verifying thread for minutes per attempt.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// The users of an `--auth` file and their bcrypt hashes.
#[derive(Clone)]
pub struct PasswordFile {
    users: HashMap<String, Arc<str>>,
}

/// The costs `htpasswd -C` accepts.
const COSTS: std::ops::RangeInclusive<u32> = 4..=17;

/// Only the user names: hashes stay out of debug prints and `--print-config`.
impl std::fmt::Debug for PasswordFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&str> = self.users.keys().map(String::as_str).collect();
        names.sort_unstable();
        f.debug_struct("PasswordFile")
            .field("users", &names)
            .finish()
    }
}

impl PasswordFile {
    /// Read and check the file at `path`. The error is one line naming
    /// `path`, and the line number when one line is at fault.
    pub fn load(path: &Path) -> Result<PasswordFile, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        PasswordFile::parse(&bytes).map_err(|(line, message)| match line {
            Some(line) => format!("{}:{line}: {message}", path.display()),
            None => format!("{}: {message}", path.display()),
        })
    }

    /// Check the file's bytes; an error carries the 1-based line at fault.
    pub fn parse(bytes: &[u8]) -> Result<PasswordFile, (Option<usize>, String)> {
        let mut users = HashMap::new();
        for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
            let number = index + 1;
            let fault = |message: String| (Some(number), message);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let line = std::str::from_utf8(line).map_err(|_| fault("not UTF-8".to_owned()))?;
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let (user, hash) = line
                .split_once(':')
                .ok_or_else(|| fault("expected user:hash".to_owned()))?;
            if user.is_empty() {
                return Err(fault("empty user name".to_owned()));
            }
            if user.chars().any(char::is_control) {
                return Err(fault("control character in the user name".to_owned()));
            }
            check_hash(hash).map_err(fault)?;
            if users.insert(user.to_owned(), Arc::from(hash)).is_some() {
                return Err(fault(format!("user {user:?} appears twice")));
            }
        }
        if users.is_empty() {
            return Err((
                None,
                "no users (expected user:hash lines from htpasswd -B)".to_owned(),
            ));
        }
        Ok(PasswordFile { users })
    }

    /// The bcrypt hash of `user`, if the file names them.
    pub fn hash_of(&self, user: &str) -> Option<&Arc<str>> {
        self.users.get(user)
    }

    /// A hash of the cost most users have (the higher one on a tie): what
    /// an unknown user's password is checked against, so that a wrong name
    /// takes as long as a wrong password.
    pub fn typical_hash(&self) -> Arc<str> {
        let mut counts: HashMap<u32, (usize, &Arc<str>)> = HashMap::new();
        for hash in self.users.values() {
            let entry = counts.entry(cost_of(hash)).or_insert((0, hash));
            entry.0 += 1;
        }
        let (_, (_, hash)) = counts
            .into_iter()
            .max_by_key(|&(cost, (count, _))| (count, cost))
            .expect("a password file has at least one user");
        Arc::clone(hash)
    }
}

/// Whether `hash` is a bcrypt hash this server verifies.
fn check_hash(hash: &str) -> Result<(), String> {
    if !["$2y$", "$2a$", "$2b$"].iter().any(|p| hash.starts_with(p)) {
        return Err("not a bcrypt hash ($2y$, $2a$ or $2b$): make it with htpasswd -B".to_owned());
    }
    let parts: bcrypt::HashParts = hash
        .parse()
        .map_err(|e| format!("malformed bcrypt hash: {e}"))?;
    let cost = parts.get_cost();
    if !COSTS.contains(&cost) {
        return Err(format!(
            "bcrypt cost {cost} is outside {}..={} (htpasswd -C)",
            COSTS.start(),
            COSTS.end()
        ));
    }
    Ok(())
}

/// The cost of a hash [`check_hash`] accepted: the digits at 4..6.
fn cost_of(hash: &str) -> u32 {
    hash.get(4..6).and_then(|d| d.parse().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `htpasswd -nbB alice secret` from Debian's apache2-utils 2.4.
    const ALICE: &str = "alice:$2y$05$hmkFgjk2nYeqf9baVpih4elRpqxXiVfW7cChQIcNORAwADRoE.Pgu";

    fn error_of(text: &str) -> (Option<usize>, String) {
        PasswordFile::parse(text.as_bytes()).expect_err(text)
    }

    #[test]
    fn reads_htpasswd_lines_and_skips_comments_and_blanks() {
        let hash_b = bcrypt::hash_with_salt("pw", 4, [7; 16])
            .expect("cost 4")
            .format_for_version(bcrypt::Version::TwoB);
        let hash_a = hash_b.replacen("$2b$", "$2a$", 1);
        let text = format!("# users\n\n{ALICE}\r\nbob:{hash_b}\ncarol:{hash_a}\n");
        let file = PasswordFile::parse(text.as_bytes()).expect("valid");
        let alice = file.hash_of("alice").expect("alice");
        assert!(matches!(bcrypt::verify("secret", alice), Ok(true)));
        assert!(matches!(bcrypt::verify("Secret", alice), Ok(false)));
        assert_eq!(file.hash_of("bob").map(|h| &**h), Some(hash_b.as_str()));
        assert!(file.hash_of("carol").is_some());
        assert!(file.hash_of("dave").is_none());
        assert!(file.hash_of("# users").is_none());
        assert!(!format!("{file:?}").contains("$2"), "no hash in {file:?}");
    }

    #[test]
    fn each_fault_names_its_line() {
        let good = ALICE;
        let cases: &[(String, usize, &str)] = &[
            (format!("{good}\nbob\n"), 2, "expected user:hash"),
            (format!("{good}\n:{}\n", &good[6..]), 2, "empty user name"),
            (format!("{good}\nbob:secret\n"), 2, "not a bcrypt hash"),
            (
                format!("{good}\nbob:$apr1$abc$def\n"),
                2,
                "not a bcrypt hash",
            ),
            (format!("{good}\nbob:{{SHA}}abc=\n"), 2, "not a bcrypt hash"),
            (
                format!("bob:{}\n", good[6..].replace("$2y$", "$2x$")),
                1,
                "not a bcrypt hash",
            ),
            (format!("bob:{}x\n", &good[6..]), 1, "malformed bcrypt hash"),
            (
                format!("bob:{}\n", &good[6..good.len() - 1]),
                1,
                "malformed bcrypt hash",
            ),
            // A trailing space is part of the hash, so the hash is wrong.
            (format!("bob:{} \n", &good[6..]), 1, "malformed bcrypt hash"),
            (
                format!("bob:{}\n", good[6..].replace("$05$", "$18$")),
                1,
                "cost 18",
            ),
            (
                format!("bob:{}\n", good[6..].replace("$05$", "$03$")),
                1,
                "cost 3",
            ),
            (format!("{good}\n{good}\n"), 2, "appears twice"),
            (format!("a\tb:{}\n", &good[6..]), 1, "control character"),
        ];
        for (text, line, message) in cases {
            let (at, said) = error_of(text);
            assert_eq!(at, Some(*line), "{text:?}: {said}");
            assert!(said.contains(message), "{text:?}: {said}");
        }
        let (at, said) = PasswordFile::parse(b"ok\n\xff:x\n").expect_err("latin-1");
        assert_eq!((at, said.as_str()), (Some(1), "expected user:hash"));
        let (at, said) = PasswordFile::parse(b"# only\n\xff:x\n").expect_err("latin-1");
        assert_eq!((at, said.as_str()), (Some(2), "not UTF-8"));
        let (at, said) = error_of("# nobody\n\n");
        assert_eq!(at, None);
        assert!(said.contains("no users"), "{said}");
    }

    #[test]
    fn load_names_the_file_and_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("users");
        std::fs::write(&path, format!("{ALICE}\nbob:plain\n")).expect("write");
        let message = PasswordFile::load(&path).expect_err("plain text");
        assert!(
            message.starts_with(&format!("{}:2: not a bcrypt hash", path.display())),
            "{message}"
        );
        let missing = dir.path().join("missing");
        let message = PasswordFile::load(&missing).expect_err("missing");
        assert!(
            message.starts_with(&missing.display().to_string()),
            "{message}"
        );
    }

    #[test]
    fn the_typical_hash_has_the_most_common_cost() {
        let at = |cost| {
            bcrypt::hash_with_salt("pw", cost, [1; 16])
                .expect("cost")
                .format_for_version(bcrypt::Version::TwoY)
        };
        let text = format!("a:{}\nb:{}\nc:{}\n", at(4), at(5), at(4));
        let file = PasswordFile::parse(text.as_bytes()).expect("valid");
        assert_eq!(cost_of(&file.typical_hash()), 4);
        let text = format!("a:{}\nb:{}\n", at(4), at(5));
        let file = PasswordFile::parse(text.as_bytes()).expect("valid");
        assert_eq!(cost_of(&file.typical_hash()), 5);
    }
}
