//! Errors of the experiment layer: wraps the math and data errors and adds its own.

use std::path::PathBuf;

/// Errors from running an experiment or writing its outputs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// From the math library.
    #[error(transparent)]
    Math(#[from] hopfield::Error),
    /// From the data layer.
    #[error(transparent)]
    Data(#[from] hopfield_data::DataError),
    /// An experiment setting outside its valid range.
    #[error("invalid {name} = {value}: {expected}")]
    Invalid {
        /// The setting, as the user knows it.
        name: &'static str,
        /// The value given.
        value: String,
        /// What a valid value looks like.
        expected: String,
    },
    /// Writing an output failed.
    #[error("cannot write {}: {problem}", path.display())]
    Write {
        /// The output file.
        path: PathBuf,
        /// What went wrong.
        problem: String,
    },
}

/// Result type of the experiment layer.
pub type Result<T> = std::result::Result<T, TrainError>;

/// Ok for a positive, finite `v`; else the error naming `name` and the value.
pub(crate) fn positive(name: &'static str, v: f64) -> Result<()> {
    if v > 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(invalid(name, v, "must be positive and finite"))
    }
}

pub(crate) fn invalid(name: &'static str, value: impl ToString, expected: impl ToString) -> TrainError {
    TrainError::Invalid { name, value: value.to_string(), expected: expected.to_string() }
}
