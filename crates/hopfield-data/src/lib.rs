//! # hopfield-data: real data sets, read from their standard formats
//!
//! Readers for MNIST / Fashion-MNIST IDX files, scikit-learn's digits CSV, CIFAR-10 binary
//! records and folders of PNG/JPEG images ([`image`]); each checks
//! magic numbers, counts and sizes against the file and returns a [`DataError`] that names the file
//! and the problem. [`source`] resolves a `--data` argument (a built-in name or a path) and carries
//! the small subsets bundled in the binary; [`fetch`] downloads full sets with checksum checks;
//! [`batch`] turns examples into model input (normalisation); [`npy`] reads and writes arrays;
//! [`graph`] reads graph data sets (the TU format and its folds).

pub mod batch;
pub mod budget;
pub mod bytes;
pub mod dataset;
pub mod error;
pub mod fetch;
pub mod graph;
pub mod image;
pub mod npy;
pub mod outputs;
pub mod source;

pub use dataset::Dataset;
pub use error::{DataError, Result};
pub use source::{load, Builtin, DataSource, Split};
