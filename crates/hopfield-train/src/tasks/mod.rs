//! The training tasks, each a [`crate::trainer::Task`] run by the one training loop:
//! [`masked_image`] (the Energy Transformer filling in masked patches), [`dam_classifier`] (the
//! Krotov–Hopfield classifier with its own update rule) and [`mil`] (multiple-instance learning
//! with Hopfield pooling) and [`graph`] (graph classification and node anomaly detection).

pub mod dam_classifier;
pub mod graph;
pub mod masked_image;
pub mod mil;
