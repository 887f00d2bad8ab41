//! The library's error type: every fallible public function returns [`Result`].

use std::path::PathBuf;

/// Errors returned by the `sou` library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The query could not be understood; the message points at the problem.
    #[error("bad query: {0}")]
    Query(String),

    /// A date in a query or filter is not `YYYY-MM-DD` (or another supported form).
    #[error("bad date {0:?}: expected YYYY-MM-DD")]
    Date(String),

    /// There is no index at the given path.
    #[error("no index at {0}: run `sou index` first")]
    NoIndex(PathBuf),

    /// The folder exists but holds something that is not a sou index.
    #[error("{0} is not a sou index (no meta.json); refusing to touch it")]
    NotAnIndex(PathBuf),

    /// The index is damaged: a file is missing, truncated or unreadable as index data.
    #[error("index at {path} is damaged ({problem}): rebuild it with `sou index --rebuild`")]
    Corrupt {
        /// Index location.
        path: PathBuf,
        /// Which file, and what is wrong with it.
        problem: String,
    },

    /// The index was built by a different analyzer version or dictionary.
    #[error("index at {path} was built with {found}, this sou uses {expected}: {hint}")]
    VersionMismatch {
        /// Index location.
        path: PathBuf,
        /// What the index says it was built with.
        found: String,
        /// What this build of sou (with its options) would write.
        expected: String,
        /// The command that rebuilds it, and what that keeps.
        hint: String,
    },

    /// Another process holds the index writer lock.
    #[error("index at {0} is being written by another process; try again when it finishes")]
    Locked(PathBuf),

    /// A user dictionary could not be read or parsed.
    #[error("bad dictionary {path}: {message}")]
    Dictionary {
        /// Dictionary file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },

    /// A corpus path given by the caller does not exist or cannot be read.
    #[error("cannot read {path}")]
    Input {
        /// The path that failed.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },

    /// A file or folder of the index could not be created, read or written.
    #[error("cannot use {path}")]
    File {
        /// The file or folder.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },

    /// An OpenSearch cluster could not be reached, or refused a request.
    #[error("cluster at {url}: {message}")]
    Cluster {
        /// The cluster (and index) address.
        url: String,
        /// What went wrong, in OpenSearch's words where it gave some.
        message: String,
    },

    /// An error from the search engine underneath.
    #[error("index error: {0}")]
    Tantivy(#[from] tantivy::TantivyError),

    /// An I/O error outside a single corpus file.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl Error {
    /// An I/O error about `path`.
    pub(crate) fn file(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::File { path, source }
    }
}

/// `Result` with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
