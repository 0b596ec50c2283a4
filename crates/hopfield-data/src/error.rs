//! Typed errors of the data layer: each names the file (or source) and the problem.

use std::path::PathBuf;

/// Errors from loading, validating or fetching data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The content is not what the format says it must be.
    #[error("{file}: {problem}")]
    Format {
        /// The file, or the bundled resource's name.
        file: String,
        /// What is wrong, with the values.
        problem: String,
    },
    /// A named data set is not where it was looked for.
    #[error("data set '{name}' not found; looked in {looked}. {hint}")]
    NotFound {
        /// The data set name.
        name: String,
        /// The places looked in.
        looked: String,
        /// How to get it.
        hint: String,
    },
    /// A request that does not make sense for the data (e.g. more images than the set has).
    #[error("invalid {what}: {problem}")]
    Invalid {
        /// What was asked for.
        what: &'static str,
        /// Why it cannot be served.
        problem: String,
    },
    /// A download failed.
    #[error("download of {url} failed: {problem}")]
    Download {
        /// The URL tried.
        url: String,
        /// What went wrong.
        problem: String,
    },
    /// A downloaded file does not have the published checksum.
    #[error("checksum mismatch for {file}: expected md5 {expected}, got {actual} (the file was not kept)")]
    Checksum {
        /// File name.
        file: String,
        /// Published MD5.
        expected: String,
        /// MD5 of what arrived.
        actual: String,
    },
}

/// Result type of the data layer.
pub type Result<T> = std::result::Result<T, DataError>;

pub(crate) fn format_err(file: impl ToString, problem: impl ToString) -> DataError {
    DataError::Format { file: file.to_string(), problem: problem.to_string() }
}

pub(crate) fn io_err(path: impl Into<PathBuf>, source: std::io::Error) -> DataError {
    DataError::Io { path: path.into(), source }
}
