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

pub(crate) use super::write_file as write_text;

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
