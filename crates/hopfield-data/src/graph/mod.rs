//! Graph data sets: [`tu`], the TU text format with its cross-validation folds; [`anomaly`], graphs
//! whose nodes are labelled normal or anomalous; [`ego`], k-hop neighbourhoods of big graphs;
//! [`encodings`], Laplacian positional encodings.

pub mod anomaly;
pub mod ego;
pub mod encodings;
mod text;
pub mod tu;
