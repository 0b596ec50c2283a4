//! The training tasks, each a [`crate::trainer::Task`] run by the one training loop:
//! [`masked_image`] (the Energy Transformer filling in masked patches), [`dam_classifier`] (the
//! Krotov–Hopfield classifier with its own update rule) and [`mil`] (multiple-instance learning
//! with Hopfield pooling), [`graph`] (graph classification and node anomaly detection) and
//! [`ham_classifier`] (the two-layer HAM built with `hopfield::ham`, trained through its dynamics).

pub mod dam_classifier;
pub mod graph;
pub mod ham_classifier;
pub mod masked_image;
pub mod mil;
