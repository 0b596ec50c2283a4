//! The library's typed error: every variant names the offending value and what was expected.

/// Errors returned by the math library.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A hyper-parameter outside its valid range.
    #[error("invalid {name} = {value}: {expected}")]
    InvalidParameter {
        /// Parameter name as the user knows it (e.g. `beta`).
        name: &'static str,
        /// The value given.
        value: String,
        /// What a valid value looks like.
        expected: &'static str,
    },
    /// Inputs whose sizes do not agree.
    #[error("shape mismatch for {what}: expected {expected}, got {actual}")]
    Shape {
        /// Which input.
        what: &'static str,
        /// Expected size.
        expected: String,
        /// Actual size.
        actual: String,
    },
    /// A NaN or infinity where a finite number is required.
    #[error("non-finite value {value} in {what} at index {index}")]
    NonFinite {
        /// Which input.
        what: &'static str,
        /// Flat index of the first offending entry.
        index: usize,
        /// The value found there.
        value: f64,
    },
}

/// Result type of the math library.
pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn invalid(name: &'static str, value: impl ToString, expected: &'static str) -> Error {
    Error::InvalidParameter { name, value: value.to_string(), expected }
}

pub(crate) fn shape(what: &'static str, expected: impl ToString, actual: impl ToString) -> Error {
    Error::Shape { what, expected: expected.to_string(), actual: actual.to_string() }
}

/// Ok for a positive, finite `v`; else the error naming `name` and the value.
pub(crate) fn positive(name: &'static str, v: f64) -> Result<()> {
    if v > 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(invalid(name, v, "must be positive and finite"))
    }
}

/// K for a K×N row-major pattern matrix of `len` entries: errors for N = 0, no patterns, or a
/// length that is not a multiple of N.
pub(crate) fn pattern_count(len: usize, neurons: usize) -> Result<usize> {
    if neurons == 0 {
        return Err(invalid("neurons", 0, "need at least one neuron"));
    }
    if len == 0 {
        return Err(invalid("patterns", 0, "need at least one pattern to store"));
    }
    if !len.is_multiple_of(neurons) {
        return Err(shape("patterns", format!("a multiple of N = {neurons}"), len));
    }
    Ok(len / neurons)
}
