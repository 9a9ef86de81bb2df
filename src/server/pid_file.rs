//! `--pid-file`: the serving process's id in a file, for scripts and
//! init systems that signal by pid. Written atomically (a temporary file
//! in the same directory renamed over the old one), so a reader sees the
//! old pid or the new one, never an empty or half-written file; an
//! upgrade's successor rewrites it when it serves. At a stop it is removed
//! only if it still names this process (after an upgrade it names the
//! successor, which must keep it).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Write `pid` (and a newline) to `path` atomically.
pub fn write_pid_file(path: &Path, pid: u32) -> io::Result<()> {
    let temporary = temporary_path(path, pid);
    let written = std::fs::File::create(&temporary).and_then(|mut file| {
        file.write_all(format!("{pid}\n").as_bytes())?;
        file.sync_all()
    });
    let renamed = written.and_then(|()| std::fs::rename(&temporary, path));
    if renamed.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    renamed
}

/// Remove `path` if it names `pid`; leave it otherwise (it names the
/// successor, or something else wrote it).
pub fn remove_pid_file_if_ours(path: &Path, pid: u32) -> io::Result<()> {
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim() == pid.to_string() => std::fs::remove_file(path),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// `.NAME.PID.tmp` beside `path`: same directory, so the rename stays on
/// one file system; the pid keeps two processes' writes apart.
fn temporary_path(path: &Path, pid: u32) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "pid".into(), |name| name.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.{pid}.tmp"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pid_file_is_replaced_whole_and_removed_only_by_its_process() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("httpserver.pid");
        write_pid_file(&path, 100).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "100\n");
        // The successor of an upgrade takes it over.
        write_pid_file(&path, 200).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "200\n");
        // The old process, stopping, leaves it to the successor.
        remove_pid_file_if_ours(&path, 100).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "200\n");
        remove_pid_file_if_ours(&path, 200).unwrap();
        assert!(!path.exists());
        remove_pid_file_if_ours(&path, 200).unwrap();
        // Nothing but the pid file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_pid_file_in_a_missing_directory_is_an_error_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("httpserver.pid");
        assert!(write_pid_file(&path, 100).is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
