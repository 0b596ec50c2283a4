//! The claims of the memories of 2023–2025, each a sweep with its CSV and pictures:
//!
//! - [`sparse`]: one update of the modern Hopfield network with softmax, α-entmax, sparsemax and
//!   normmax (Santos et al. 2024; Hu et al. 2023): the retrieval error against β and against the load
//!   on real images or random patterns, and the share of queries landing *exactly* on their pattern.
//! - [`epanechnikov`]: the log-sum-ReLU energy (Hoover et al. 2025): stored patterns kept as exact
//!   minima and emergent minima counted exactly against the load and the kernel width; a 2-D landscape.
//! - [`random_features`]: DrDAM (Hoover et al. 2024): the energy and retrieval error of Y random
//!   features against the exact DAM, falling like Y^(−1/2), and the parameter count against K.

pub mod epanechnikov;
pub mod random_features;
pub mod sparse;

use hopfield_data::Dataset;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub(crate) use super::write_file;
use crate::error::{invalid, Result};

/// Where the stored patterns come from.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Patterns {
    /// The first K images of the data set given to [`run`] (2·pixel − 1).
    Images,
    /// K random ±1 patterns of this many entries.
    Random {
        /// N.
        neurons: usize,
    },
}

/// K patterns (K×N row-major), N and the source's name: the first K images of `data` as
/// 2·pixel − 1, or K random ±1 patterns from `seed`.
///
/// # Errors
/// Images asked for without a data set.
pub(crate) fn load_patterns(
    patterns: Patterns,
    data: Option<&Dataset>,
    k: usize,
    seed: u64,
) -> Result<(Vec<f64>, usize, String)> {
    match (patterns, data) {
        (Patterns::Images, Some(ds)) => {
            let v: Vec<f64> = (0..k).flat_map(|i| ds.image(i)).map(|p| 2.0 * p as f64 - 1.0).collect();
            Ok((v, ds.image_len(), ds.name().to_string()))
        }
        (Patterns::Images, None) => {
            Err(invalid("data", "none", "the image patterns need a data set (or random patterns)"))
        }
        (Patterns::Random { neurons }, _) => {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let v = (0..k * neurons).map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 }).collect();
            Ok((v, neurons, "random ±1".to_string()))
        }
    }
}

/// Mean and population standard deviation.
pub(crate) fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let m = v.iter().sum::<f64>() / n;
    (m, (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n).sqrt())
}

/// The least-squares slope of log y against log x (points with x, y > 0).
pub fn log_log_slope(points: &[(f64, f64)]) -> f64 {
    let pts: Vec<(f64, f64)> = points.iter().filter(|p| p.0 > 0.0 && p.1 > 0.0).map(|p| (p.0.ln(), p.1.ln())).collect();
    let n = pts.len() as f64;
    let (mx, my) = (pts.iter().map(|p| p.0).sum::<f64>() / n, pts.iter().map(|p| p.1).sum::<f64>() / n);
    let cov: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let var: f64 = pts.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    cov / var
}
