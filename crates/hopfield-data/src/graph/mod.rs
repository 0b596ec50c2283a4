//! Graph data sets: [`tu`], the TU text format with its cross-validation folds, and
//! [`encodings`], Laplacian positional encodings.

pub mod encodings;
pub mod tu;
