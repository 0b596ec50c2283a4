//! Associative memories: the binary Dense Associative Memory, the continuous modern Hopfield
//! network (with softmax or a sparse transform: α-entmax, sparsemax, normmax), the log-sum-ReLU
//! (Epanechnikov) memory and the random-feature DAM (DrDAM) beside its exact Gaussian DAM.

mod dense;
mod epanechnikov;
mod modern;
mod on_device;
mod random_features;
mod separation;

pub use crate::lagrangian::Transform;
pub use dense::{DenseMemory, Dynamics, Trajectory, UpdateRule};
pub use epanechnikov::{LogSumRelu, Minimum, Settled, MAX_CANDIDATES};
pub use modern::{ModernHopfield, Retrieval, Retrieve};
pub use random_features::{descend, Descent, Energy, GaussianDam, RandomFeatureDam, SIMILARITY_FLOOR};
pub use separation::{Separation, MAX_DEGREE};
