//! # hopfield-data: real data sets, read from their standard formats
//!
//! Readers for MNIST / Fashion-MNIST IDX files ([`idx`]), scikit-learn's digits CSV ([`digits`]),
//! CIFAR-10 binary records ([`cifar`]) and folders of PNG/JPEG images ([`folder`]); each checks
//! magic numbers, counts and sizes against the file and returns a [`DataError`] that names the file
//! and the problem. [`source`] resolves a `--data` argument (a built-in name or a path) and carries
//! the small subsets bundled in the binary; [`fetch`] downloads full sets with checksum checks.

pub mod bytes;
pub mod cifar;
pub mod dataset;
pub mod digits;
pub mod error;
pub mod fetch;
pub mod folder;
pub mod idx;
pub mod npy;
pub mod source;

pub use dataset::Dataset;
pub use error::{DataError, Result};
pub use source::{load, Builtin, DataSource, Split};
