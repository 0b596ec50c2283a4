//! # hopfield-train: tasks, the training loop, experiments and pictures on top of the math library
//!
//! | module | holds |
//! |---|---|
//! | [`trainer`] | the one training loop ([`trainer::Trainer`], [`trainer::Task`]), optimisers and schedules |
//! | [`budget`] | sizes in checked arithmetic against the machine's memory, before allocating |
//! | [`checkpoint`] | checkpoint folders that survive a kill, `config.json`, stable parameter ids |
//! | [`tasks`] | masked image reconstruction (ET), the DAM classifier, multiple-instance learning, graph classification and node anomaly detection |
//! | [`experiments`] | recall from corrupted cues, capacity sweeps |
//! | [`pictures`] | PNG grids and plots, and each task's pictures |
//! | [`bench`] | throughput of retrieval and of the Energy Transformer |
//! | [`import`] | the official Energy Transformer's `.npz` weights |
//! | [`parallel`] | data-parallel training over several devices through burn-train's multi-device step |
//! | [`metrics`] | figures several tasks report (ROC-AUC, average precision, macro-F1) |
//!
//! Every function takes the `burn` device it computes on; none picks one.

pub mod bench;
pub mod budget;
pub mod checkpoint;
pub mod error;
pub mod experiments;
pub mod import;
pub mod metrics;
pub mod parallel;
pub mod pictures;
pub mod tasks;
pub mod trainer;

pub use error::{Result, TrainError};
