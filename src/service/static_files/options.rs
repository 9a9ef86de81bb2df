//! What can be configured about static files: symlink policy, hidden files,
//! index names and the single-page-app fallback. `config.rs` builds these
//! from flags; [`StaticFiles`](super::StaticFiles) reads them.

use super::cache::CachePolicy;
use super::path::RelativePath;

/// How symlinks under the root are treated, for every path component (the
/// file itself and each directory on the way), in file serving and listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SymlinkPolicy {
    /// Refuse every symlink (404): `openat2` with `RESOLVE_NO_SYMLINKS`, or
    /// `O_NOFOLLOW` on each component where `openat2` is missing.
    Deny,
    /// Follow a symlink only if what it resolves to stays inside the root
    /// (`openat2` with `RESOLVE_BENEATH`). Where `openat2` is missing this
    /// degrades to `Deny`, as following safely needs the kernel's help.
    #[default]
    WithinRoot,
    /// Follow every symlink, wherever it leads. `..` in the URL is still
    /// refused, but a symlink in the root may expose anything the server's
    /// user can read: use only for roots whose every symlink you trust.
    Follow,
}

impl SymlinkPolicy {
    /// The flag spelling: `deny`, `within-root`, `follow`.
    pub fn as_str(self) -> &'static str {
        match self {
            SymlinkPolicy::Deny => "deny",
            SymlinkPolicy::WithinRoot => "within-root",
            SymlinkPolicy::Follow => "follow",
        }
    }
}

impl std::str::FromStr for SymlinkPolicy {
    type Err = String;

    fn from_str(text: &str) -> Result<SymlinkPolicy, String> {
        match text {
            "deny" => Ok(SymlinkPolicy::Deny),
            "within-root" => Ok(SymlinkPolicy::WithinRoot),
            "follow" => Ok(SymlinkPolicy::Follow),
            _ => Err("expected deny, within-root or follow".to_owned()),
        }
    }
}

/// The name served for a directory when `--index` is not given.
pub const DEFAULT_INDEX: &str = "index.html";

/// Static-file settings. `Default` is what the server does without flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticOptions {
    /// `--symlinks`; default [`SymlinkPolicy::WithinRoot`].
    pub symlinks: SymlinkPolicy,
    /// `--hidden`: serve and list dotfiles and dot-directories. Default
    /// false (404, not listed). `/.well-known/` (RFC 8615) is served either
    /// way; which names are hidden is [`super::path::is_hidden_segment`].
    pub hidden: bool,
    /// `--index`: names tried in order for a directory requested with a
    /// trailing slash. Each is a single path segment. Default `index.html`.
    pub index_names: Vec<String>,
    /// `--spa`: a file, relative to the root, served (200) for navigations
    /// that match no file. Default none.
    pub spa: Option<String>,
    /// `--cache`: `Cache-Control` on file responses. Default `auto`.
    pub cache: CachePolicy,
    /// `--listing`: a directory without an index gets a listing instead of
    /// 404. Default off.
    pub listing: bool,
    /// `--compress*`: on-the-fly compression.
    pub compression: CompressionOptions,
    /// `--etag`: what strong entity tags are made of. Default
    /// [`EtagPolicy::Mtime`].
    pub etag: EtagPolicy,
}

/// What a file's strong `ETag` is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EtagPolicy {
    /// Inode, modification time and size, from the `fstat` every request
    /// makes anyway: free, and present from the first response, but
    /// different on every copy of the same file.
    #[default]
    Mtime,
    /// The first 128 bits of the SHA-256 of the bytes, computed once per
    /// file version off the event loop: the same on every replica serving
    /// the same bytes, absent until computed.
    Content,
}

impl EtagPolicy {
    /// The flag spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            EtagPolicy::Mtime => "mtime",
            EtagPolicy::Content => "content",
        }
    }
}

impl std::str::FromStr for EtagPolicy {
    type Err = String;

    fn from_str(text: &str) -> Result<EtagPolicy, String> {
        match text {
            "mtime" => Ok(EtagPolicy::Mtime),
            "content" => Ok(EtagPolicy::Content),
            _ => Err("expected mtime or content".to_owned()),
        }
    }
}

/// On-the-fly compression of compressible types (see
/// [`super::variant_cache`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompressionOptions {
    /// `--compress on|off`; default on. Off, only sidecars are served
    /// compressed.
    pub enabled: bool,
    /// `--compress-min-bytes`: smaller files go out as they are; default
    /// [`DEFAULT_COMPRESS_MIN_BYTES`].
    pub min_bytes: u64,
    /// `--compress-max-bytes`: larger files go out as they are (each is
    /// compressed whole in memory); default [`DEFAULT_COMPRESS_MAX_BYTES`].
    pub max_bytes: u64,
    /// `--compress-cache-bytes`: the most bytes of variants kept, least
    /// recently used evicted first; default [`DEFAULT_COMPRESS_CACHE_BYTES`].
    pub cache_bytes: u64,
}

/// Below this a compressed copy saves less than a packet: see README,
/// Compression, for the measurement.
pub const DEFAULT_COMPRESS_MIN_BYTES: u64 = 1024;

/// 8 MiB: the zstd window HTTP allows, and a fast compression of it takes
/// tens of milliseconds on a compressor thread.
pub const DEFAULT_COMPRESS_MAX_BYTES: u64 = 8 * 1024 * 1024;

/// 64 MiB of variants.
pub const DEFAULT_COMPRESS_CACHE_BYTES: u64 = 64 * 1024 * 1024;

impl Default for CompressionOptions {
    fn default() -> Self {
        CompressionOptions {
            enabled: true,
            min_bytes: DEFAULT_COMPRESS_MIN_BYTES,
            max_bytes: DEFAULT_COMPRESS_MAX_BYTES,
            cache_bytes: DEFAULT_COMPRESS_CACHE_BYTES,
        }
    }
}

impl Default for StaticOptions {
    fn default() -> Self {
        StaticOptions {
            symlinks: SymlinkPolicy::default(),
            hidden: false,
            index_names: vec![DEFAULT_INDEX.to_owned()],
            spa: None,
            cache: CachePolicy::default(),
            listing: false,
            compression: CompressionOptions::default(),
            etag: EtagPolicy::default(),
        }
    }
}

impl StaticOptions {
    /// Whether the hidden-file policy refuses `path` (404): it has a hidden
    /// segment and `--hidden` is off.
    pub fn hides(&self, path: &RelativePath) -> bool {
        !self.hidden && path.has_hidden_segment()
    }

    /// Whether the hidden-file policy leaves the entry `name` of `directory`
    /// out of a listing: exactly when it refuses a request for it, so no
    /// listed link is a 404.
    pub fn hides_entry(&self, directory: &RelativePath, name: &str) -> bool {
        !self.hidden && directory.is_hidden_entry(name)
    }
}

/// Parse `--index`: comma-separated file names, tried in order. Each must
/// be one non-empty path segment (no `/`, not `.` or `..`, no NUL).
pub fn parse_index_names(text: &str) -> Result<Vec<String>, String> {
    let names: Vec<String> = text
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        return Err("expected at least one file name".to_owned());
    }
    for name in &names {
        if name == "." || name == ".." || name.contains(['/', '\\', '\0']) {
            return Err(format!("{name:?} is not a plain file name"));
        }
    }
    Ok(names)
}

/// Parse `--spa`: a file relative to the root, spelled as a URL path
/// without the leading `/` (or with it). It is normalized like a request
/// path, so it cannot climb out of the root.
pub fn parse_spa_file(text: &str) -> Result<String, String> {
    let raw = format!("/{}", text.trim_start_matches('/'));
    match super::path::resolve_path(raw.as_bytes()) {
        Ok(path) if !path.is_root() && !path.has_trailing_slash() => Ok(path.as_str().to_owned()),
        _ => Err(format!("{text:?} is not a file path inside the root")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_names() {
        let ok: &[(&str, &[&str])] = &[
            ("index.html", &["index.html"]),
            ("index.html,index.htm", &["index.html", "index.htm"]),
            (
                " default.html , index.html ,",
                &["default.html", "index.html"],
            ),
        ];
        for (text, want) in ok {
            assert_eq!(parse_index_names(text).expect(text), *want, "{text}");
        }
        for text in ["", ",", "a/b.html", "..", ".", "a\\b", "x\0"] {
            assert!(parse_index_names(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn spa_files() {
        let cases: &[(&str, Option<&str>)] = &[
            ("index.html", Some("index.html")),
            ("/index.html", Some("index.html")),
            ("app/shell.html", Some("app/shell.html")),
            ("./app//shell.html", Some("app/shell.html")),
            ("../index.html", None),
            ("app/../../x", None),
            ("", None),
            ("/", None),
            ("app/", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_spa_file(text).ok().as_deref(), *want, "{text:?}");
        }
    }

    #[test]
    fn symlink_policy_spellings_round_trip() {
        for policy in [
            SymlinkPolicy::Deny,
            SymlinkPolicy::WithinRoot,
            SymlinkPolicy::Follow,
        ] {
            assert_eq!(policy.as_str().parse(), Ok(policy));
        }
        assert!("yes".parse::<SymlinkPolicy>().is_err());
        assert_eq!(SymlinkPolicy::default(), SymlinkPolicy::WithinRoot);
    }

    #[test]
    fn hidden_paths_and_entries() {
        let default = StaticOptions::default();
        let hidden = StaticOptions {
            hidden: true,
            ..StaticOptions::default()
        };
        let path = |raw: &str| super::super::path::resolve_path(raw.as_bytes()).expect("resolves");
        // (path, hidden by default)
        let cases = [
            ("/a.txt", false),
            ("/.env", true),
            ("/.well-known/x", false),
            ("/d/.well-known/x", true),
        ];
        for (raw, want) in cases {
            assert_eq!(default.hides(&path(raw)), want, "{raw}");
            assert!(!hidden.hides(&path(raw)), "{raw}");
        }
        // (directory, entry, hidden by default)
        let cases = [
            ("/", "a.txt", false),
            ("/", ".env", true),
            ("/", ".well-known", false),
            ("/d/", ".well-known", true),
        ];
        for (directory, name, want) in cases {
            assert_eq!(default.hides_entry(&path(directory), name), want, "{name}");
            assert!(!hidden.hides_entry(&path(directory), name), "{name}");
        }
    }
}
