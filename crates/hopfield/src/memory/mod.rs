//! Associative memories: the binary Dense Associative Memory and the continuous modern Hopfield network.

mod dense;
mod modern;
mod on_device;
mod separation;

pub use dense::{DenseMemory, Dynamics, Trajectory, UpdateRule};
pub use modern::{ModernHopfield, Retrieval, Retrieve};
pub use separation::{Separation, MAX_DEGREE};
