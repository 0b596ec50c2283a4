//! Experiments on the memories: [`recall`] of stored images from corrupted cues, and [`capacity`]
//! sweeps of the load against the theory.

pub mod capacity;
pub mod recall;
