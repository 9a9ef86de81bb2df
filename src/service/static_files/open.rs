//! Opening beneath the root: every file is opened relative to a directory
//! fd held on the root, under the symlink policy, and `fstat`ed on the same
//! fd, so there is no check-then-open race and no path string is ever joined
//! onto the root (see the module docs of [`super`] for the policy). Also the
//! one mapping of an open error to a status and fixed text.

use super::encoding::ContentCoding;
use super::{StaticFiles, SymlinkPolicy};
use crate::service::Response;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use std::path::Path;

/// How many times an `openat2` that failed with `EAGAIN` or `EINTR` is
/// retried: the kernel answers `EAGAIN` when a concurrent rename made it
/// unsure a `..` in a symlink stayed beneath the root, and says to retry.
const OPEN_ATTEMPTS: usize = 3;

/// How paths under the root are resolved; chosen once at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resolver {
    /// `openat2` with `RESOLVE_BENEATH`: the kernel enforces containment.
    Beneath,
    /// One `openat(O_NOFOLLOW)` per component: symlinks are refused.
    Walk,
}

/// Open the directory `root` and choose how paths beneath it are resolved:
/// with `openat2` where the kernel has it, else by walking.
pub(super) fn open_root(root: &Path) -> std::io::Result<(OwnedFd, Resolver)> {
    // O_PATH: we only ever look up names relative to this fd, which needs
    // search permission, not read permission.
    let root = rustix::fs::open(
        root,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let probe = rustix::fs::openat2(
        &root,
        ".",
        OFlags::PATH | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
    );
    let resolver = match probe {
        Ok(_) => Resolver::Beneath,
        // Old kernels answer ENOSYS; some container seccomp profiles
        // answer EPERM for syscalls they do not know.
        Err(Errno::NOSYS) | Err(Errno::PERM) => Resolver::Walk,
        Err(other) => return Err(other.into()),
    };
    Ok((root, resolver))
}

impl StaticFiles {
    /// Open `relative` (from a [`RelativePath`](super::path::RelativePath)) beneath the root for
    /// reading, under the symlink policy, and fstat the same fd.
    pub(super) fn open_and_stat(&self, relative: &str) -> Result<(OwnedFd, FileFacts), Errno> {
        let root = self.root.as_fd();
        let fd = match (self.options.symlinks, self.resolver) {
            (SymlinkPolicy::Follow, _) => open_following(root, relative)?,
            (_, Resolver::Walk) => open_by_walking(root, relative)?,
            (SymlinkPolicy::WithinRoot, Resolver::Beneath) => open_resolving(
                root,
                relative,
                ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
            )?,
            (SymlinkPolicy::Deny, Resolver::Beneath) => open_resolving(
                root,
                relative,
                ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS,
            )?,
        };
        let stat = FileFacts::from_stat(&rustix::fs::fstat(&fd)?);
        Ok((fd, stat))
    }
}

/// What we use from `fstat`, in fixed types: the `Stat` field types differ
/// between architectures (`c_long` here, `i64` there).
pub(super) struct FileFacts {
    pub(super) file_type: FileType,
    pub(super) size: i64,
    pub(super) mtime_secs: i64,
    pub(super) mtime_nanos: u64,
    pub(super) inode: u64,
    /// Which version of which file: device, inode, size and mtime.
    pub(super) version: super::variant_cache::FileVersion,
    /// The content coding when this is a sidecar: it suffixes the ETag.
    pub(super) coding: Option<ContentCoding>,
}

impl FileFacts {
    // The conversions are no-ops on x86_64 but not on every target.
    #[allow(clippy::useless_conversion)]
    pub(super) fn from_stat(stat: &rustix::fs::Stat) -> FileFacts {
        FileFacts {
            file_type: FileType::from_raw_mode(stat.st_mode),
            size: i64::from(stat.st_size),
            mtime_secs: i64::from(stat.st_mtime),
            mtime_nanos: u64::from(stat.st_mtime_nsec),
            inode: u64::from(stat.st_ino),
            version: super::variant_cache::FileVersion::of(stat),
            coding: None,
        }
    }

    /// Whether this file was modified before `other` (a stale sidecar).
    pub(super) fn is_older_than(&self, other: &FileFacts) -> bool {
        (self.mtime_secs, self.mtime_nanos) < (other.mtime_secs, other.mtime_nanos)
    }
}

/// The status and fixed text for an error from opening a file. Nothing of
/// the OS message reaches the client.
pub(super) fn status_for_open_error(errno: Errno) -> (u16, &'static str) {
    match errno {
        // Missing, or a path through something that is not a directory.
        Errno::NOENT | Errno::NOTDIR | Errno::NAMETOOLONG => (404, "Not Found"),
        // A symlink that leaves the root (EXDEV), a loop or a symlink in the
        // walking fallback (ELOOP), a socket (ENXIO): all "not here".
        Errno::XDEV | Errno::LOOP | Errno::NXIO => (404, "Not Found"),
        Errno::ACCESS | Errno::PERM => (403, "Forbidden"),
        // Out of descriptors, for the process or the system: a moment's
        // overload that passes as responses finish (RFC 9110 §15.6.4).
        Errno::MFILE | Errno::NFILE => (503, "Service Unavailable"),
        _ => (500, "Internal Server Error"),
    }
}

/// The flags for the final component: read-only; non-blocking so opening a
/// FIFO with no writer returns at once instead of stalling the request (it
/// is then refused as not a regular file); no controlling terminal even if a
/// tty device is somehow under the root. O_NONBLOCK has no effect on reads of
/// regular files.
fn final_open_flags() -> OFlags {
    OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK
}

/// Open with the kernel enforcing `resolve` (always with `BENEATH`, so
/// resolution stays beneath `root`).
pub(super) fn open_resolving(
    root: BorrowedFd<'_>,
    relative: &str,
    resolve: ResolveFlags,
) -> Result<OwnedFd, Errno> {
    let mut attempt = 1;
    loop {
        let result =
            rustix::fs::openat2(root, relative, final_open_flags(), Mode::empty(), resolve);
        match result {
            Err(Errno::AGAIN) | Err(Errno::INTR) if attempt < OPEN_ATTEMPTS => attempt += 1,
            other => return other,
        }
    }
}

/// Open relative to `root` following every symlink (`--symlinks follow`).
/// `relative` comes from a [`RelativePath`](super::path::RelativePath), so
/// it has no `..` and is not absolute; only symlinks can lead out, which is
/// what this policy allows.
pub(super) fn open_following(root: BorrowedFd<'_>, relative: &str) -> Result<OwnedFd, Errno> {
    if relative.split('/').any(|component| component == "..") || relative.starts_with('/') {
        return Err(Errno::XDEV);
    }
    rustix::fs::openat(root, relative, final_open_flags(), Mode::empty())
}

/// Open by walking one component at a time, refusing every symlink: the
/// fallback where `openat2` is unavailable.
pub(super) fn open_by_walking(root: BorrowedFd<'_>, relative: &str) -> Result<OwnedFd, Errno> {
    let mut components = relative.split('/').peekable();
    let mut directory: Option<OwnedFd> = None;
    while let Some(component) = components.next() {
        // RelativePath never yields `..`; refuse it anyway rather than let
        // a future caller walk out of the root.
        if component == ".." {
            return Err(Errno::XDEV);
        }
        let at = directory.as_ref().map_or(root, |fd| fd.as_fd());
        if components.peek().is_none() {
            return rustix::fs::openat(
                at,
                component,
                final_open_flags() | OFlags::NOFOLLOW,
                Mode::empty(),
            );
        }
        // O_DIRECTORY with O_NOFOLLOW: a symlink here fails with ENOTDIR.
        directory = Some(rustix::fs::openat(
            at,
            component,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )?);
    }
    // `relative` is never empty (the root is "."), so the loop returned.
    Err(Errno::NOENT)
}

/// The answer when opening failed with `errno`: its status and fixed text.
pub(super) fn open_error_response(errno: Errno) -> Response {
    match status_for_open_error(errno) {
        // Files close within moments of a response; ask for a retry soon.
        (503, text) => Response::text(503, text).with_field("Retry-After", "1"),
        (status, text) => Response::text(status, text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_errors_map_to_fixed_statuses() {
        // Tests run as root, which ignores permission bits, so 403 is checked
        // here rather than with a chmod-ed file.
        let cases = [
            (Errno::NOENT, 404, "Not Found"),
            (Errno::NOTDIR, 404, "Not Found"),
            (Errno::NAMETOOLONG, 404, "Not Found"),
            (Errno::XDEV, 404, "Not Found"),
            (Errno::LOOP, 404, "Not Found"),
            (Errno::NXIO, 404, "Not Found"),
            (Errno::ACCESS, 403, "Forbidden"),
            (Errno::PERM, 403, "Forbidden"),
            (Errno::IO, 500, "Internal Server Error"),
            (Errno::MFILE, 503, "Service Unavailable"),
            (Errno::NFILE, 503, "Service Unavailable"),
        ];
        for (errno, status, text) in cases {
            assert_eq!(status_for_open_error(errno), (status, text), "{errno:?}");
        }
        let busy = open_error_response(Errno::MFILE);
        assert_eq!(busy.field("Retry-After"), Some("1"));
    }
}
