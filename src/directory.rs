//! The folder an index lives in: tantivy's memory-mapped directory with two changes that let
//! an index be shared and read from read-only places.
//!
//! - tantivy writes `meta.json` and `.managed.json` through `tempfile`, which creates files
//!   mode 0600 whatever the umask, so an index built by one user cannot be searched by another.
//!   Here they are written like every other file (mode 0666 minus the umask).
//! - Every reader reload takes tantivy's meta lock, which creates `.tantivy-meta.lock` for
//!   writing: on read-only media, or as a user who may not write the folder, searching fails
//!   with "Failed to acquire Lockfile". The lock only keeps a writer's garbage collection from
//!   deleting files while a reader opens them, so a reader that cannot create it takes the
//!   existing file read-only, or goes without when no writer can exist there anyway.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tantivy::directory::error::{DeleteError, LockError, OpenDirectoryError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, WatchCallback, WatchHandle, WritePtr,
};

/// tantivy's [`MmapDirectory`] with umask-respecting atomic writes and a meta lock that works
/// where the folder cannot be written.
#[derive(Debug, Clone)]
pub(crate) struct IndexDirectory {
    inner: MmapDirectory,
    root: PathBuf,
}

impl IndexDirectory {
    /// Opens an existing folder.
    pub(crate) fn open(root: &Path) -> Result<IndexDirectory, OpenDirectoryError> {
        Ok(IndexDirectory { inner: MmapDirectory::open(root)?, root: root.to_path_buf() })
    }
}

/// Writes `content` to `path` through a temporary file and a rename, so readers see the old
/// or the new content, never a mix. The file gets the process's default mode (umask applies).
pub(crate) fn atomic_write(path: &Path, content: &[u8]) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp = path.with_file_name(format!(".{name}.{}-{n}.tmp", std::process::id()));
    let written = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&temp)?;
        file.write_all(content)?;
        file.sync_data()?;
        fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

/// A lock that holds a read-only handle of an existing lock file, or nothing.
struct ReadOnlyLock {
    _file: Option<File>,
}

impl Directory for IndexDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        self.inner.get_file_handle(path)
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.inner.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.inner.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        self.inner.open_write(path)
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.inner.atomic_read(path)
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        atomic_write(&self.root.join(path), data)
    }

    fn sync_directory(&self) -> io::Result<()> {
        self.inner.sync_directory()
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        match self.inner.acquire_lock(lock) {
            Err(LockError::IoError(e)) if lock.is_blocking && cannot_write(&e) => {
                // Only the (blocking) meta lock is ever taken by readers; the writer lock must
                // keep failing where the folder cannot be written.
                let file = File::open(self.root.join(&lock.filepath)).ok();
                if let Some(file) = &file {
                    file.lock().map_err(LockError::wrap_io_error)?;
                }
                Ok(DirectoryLock::from(Box::new(ReadOnlyLock { _file: file })))
            }
            other => other,
        }
    }

    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.inner.watch(watch_callback)
    }
}

/// Whether an I/O error says the place cannot be written (as opposed to a real failure).
fn cannot_write(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn atomic_writes_follow_the_default_file_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let reference = dir.path().join("reference");
        File::create(&reference).unwrap();
        let target = dir.path().join("meta.json");
        atomic_write(&target, b"{}").unwrap();
        atomic_write(&target, b"{\"a\":1}").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&target), mode(&reference));
        assert_eq!(fs::read(&target).unwrap(), b"{\"a\":1}");
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 2, "no temporary file stays behind");
    }
}
