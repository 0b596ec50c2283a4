//! Graph data sets: [`tu`], the TU text format with its cross-validation folds.

pub mod tu;
