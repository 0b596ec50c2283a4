//! # hopfield-train: experiments, tasks and pictures on top of the math library
//!
//! [`recall`] stores images and retrieves them from corrupted cues; [`capacity`] sweeps the load on
//! random patterns against the theory; [`bench`] measures throughput; [`pictures`] draws PNGs;
//! [`et_train`] trains the Energy Transformer; [`dam_train`] the Dense Associative Memory
//! classifier; [`mil`] multiple-instance learning with Hopfield or mean pooling.

pub mod bench;
pub mod capacity;
pub mod dam_train;
pub mod error;
pub mod et_bench;
pub mod et_checkpoint;
pub mod et_import;
pub mod et_pictures;
pub mod et_train;
pub mod mil;
pub mod pictures;
pub mod recall;

pub use error::{Result, TrainError};
