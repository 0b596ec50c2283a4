//! Image data sets from their standard formats: MNIST / Fashion-MNIST IDX ([`idx`]),
//! scikit-learn's digits CSV ([`digits`]), CIFAR-10 binary records ([`cifar`]) and folders of
//! PNG/JPEG images ([`folder`]).

pub mod cifar;
pub mod digits;
pub mod folder;
pub mod idx;
