//! DrDAM (Hoover et al. 2024): the exponential DAM approximated by Y random features, against the
//! exact DAM (MrDAM) on the same patterns and queries.
//!
//! Patterns: the first K images of a data set (2·pixel − 1, divided by √N so that ‖x‖ ≤ 1) or
//! random ±1/√N patterns. Queries: stored patterns with N(0, σ²/N) noise. Measured against Y, over
//! several draws of the frequencies: the energy error |Ẽ(q) − E(q)| at the queries, and the retrieval
//! error ‖x̃_L − x_L‖ after L steps of gradient descent from the same query; both should fall like
//! Y^(−1/2). And the parameters each holds against K: K·N for MrDAM, Y·N + 2Y for DrDAM.

use std::path::{Path, PathBuf};

use hopfield::memory::{descend, Energy, GaussianDam, RandomFeatureDam};
use hopfield_data::Dataset;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::sparse::Patterns;
use super::{log_log_slope, mean_std, write_file};
use crate::error::{invalid, Result};
use crate::pictures::{Corner, LinePlot, Mark, Series};

/// The sweep's settings, with the command line's defaults in [`DrdamConfig::default`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct DrdamConfig {
    /// Where the patterns come from.
    pub patterns: Patterns,
    /// K.
    pub load: usize,
    /// β.
    pub beta: f64,
    /// The feature counts Y.
    pub features: Vec<usize>,
    /// Draws of the frequencies per Y.
    pub draws: usize,
    /// Queries (the first patterns, noisy).
    pub queries: usize,
    /// σ of the query noise (per entry σ/√N).
    pub noise: f64,
    /// Descent steps L.
    pub steps: usize,
    /// Descent step size α.
    pub step_size: f64,
    /// The loads of the parameter count.
    pub memory_loads: Vec<usize>,
    /// Seed of everything random.
    pub seed: u64,
}

impl Default for DrdamConfig {
    /// Images, K = 100, β = 4, Y = 2⁶ … 2¹⁴, 5 draws, 20 queries with σ = 0.5, 10 steps of α = 0.05,
    /// parameter counts for K = 10 … 10⁵, seed 0.
    fn default() -> Self {
        DrdamConfig {
            patterns: Patterns::Images,
            load: 100,
            beta: 4.0,
            features: (6..=14).map(|p| 1usize << p).collect(),
            draws: 5,
            queries: 20,
            noise: 0.5,
            steps: 10,
            step_size: 0.05,
            memory_loads: vec![10, 100, 1000, 10_000, 100_000],
            seed: 0,
        }
    }
}

impl DrdamConfig {
    /// Checks every setting (`images`: how many the data set holds, if it is used).
    ///
    /// # Errors
    /// The setting and its value.
    pub fn validate(&self, images: Option<usize>) -> Result<()> {
        for (name, v) in [("beta", self.beta), ("step size", self.step_size)] {
            if !(v > 0.0 && v.is_finite()) {
                return Err(invalid(name, v, "must be positive and finite"));
            }
        }
        if let Some(y) = self.features.iter().find(|&&y| y == 0) {
            return Err(invalid("features", y, "Y, the number of random features, must be at least 1"));
        }
        if self.features.is_empty() || self.draws == 0 || self.queries == 0 {
            return Err(invalid("features/draws/queries", 0, "give at least one of each"));
        }
        if self.load < self.queries {
            return Err(invalid("load", self.load, format!("K must hold the {} queried patterns", self.queries)));
        }
        if !(self.noise >= 0.0 && self.noise.is_finite()) {
            return Err(invalid("noise", self.noise, "σ must be zero or positive and finite"));
        }
        if let Patterns::Random { neurons: 0 } = self.patterns {
            return Err(invalid("neurons", 0, "a pattern needs at least one entry"));
        }
        if let (Patterns::Images, Some(n)) = (self.patterns, images) {
            if self.load > n {
                return Err(invalid("load", self.load, format!("K is larger than the data set's {n} images")));
            }
        }
        Ok(())
    }
}

/// One Y, over the draws.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DrdamPoint {
    /// Y.
    pub features: usize,
    /// Mean |Ẽ − E| over queries and draws, and its std over the draws.
    pub energy_error: (f64, f64),
    /// Mean ‖x̃_L − x_L‖ / ‖x_L‖, and its std over the draws.
    pub retrieval_error: (f64, f64),
    /// DrDAM's parameters.
    pub parameters: usize,
}

/// What [`run`] measured.
#[derive(Debug, Clone, PartialEq)]
pub struct DrdamReport {
    /// The patterns' source.
    pub source: String,
    /// N.
    pub neurons: usize,
    /// One per Y.
    pub points: Vec<DrdamPoint>,
    /// The fitted slopes of log error against log Y over the larger half of the Y (energy, retrieval).
    pub slopes: (f64, f64),
    /// (K, MrDAM's parameters, DrDAM's parameters at the largest Y).
    pub memory: Vec<(usize, usize, usize)>,
    /// The settings.
    pub config: DrdamConfig,
}

/// Runs the sweep on `data` (used when the patterns are images).
///
/// # Errors
/// An invalid setting; images asked for without a data set.
pub fn run(config: &DrdamConfig, data: Option<&Dataset>) -> Result<DrdamReport> {
    config.validate(data.map(|d| d.len()))?;
    let k = config.load;
    let (raw, n, source) = super::load_patterns(config.patterns, data, k, config.seed ^ 0xd2d4)?;
    let scale = (n as f64).powf(-0.5);
    let patterns: Vec<f64> = raw.iter().map(|v| v * scale).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let queries: Vec<Vec<f64>> = patterns[..config.queries * n]
        .chunks(n)
        .map(|p| p.iter().map(|v| v + config.noise * scale * hopfield::init::standard_normal(&mut rng)).collect())
        .collect();
    let exact = GaussianDam::new(patterns.clone(), n, config.beta)?;
    let reference = queries
        .iter()
        .map(|q| {
            let e = exact.energy_and_gradient(q).0;
            Ok((e, descend(&exact, q, config.steps, config.step_size)?.state))
        })
        .collect::<Result<Vec<_>>>()?;
    let jobs: Vec<(usize, u64)> =
        config.features.iter().flat_map(|&y| (0..config.draws as u64).map(move |d| (y, d))).collect();
    let per_draw = jobs
        .par_iter()
        .map(|&(y, draw)| {
            let mut m = RandomFeatureDam::new(n, y, config.beta, config.seed.wrapping_add(7919 * draw + y as u64))?;
            m.store(&patterns)?;
            let (mut de, mut dx) = (0.0, 0.0);
            for (q, (e, x)) in queries.iter().zip(&reference) {
                de += (m.energy_and_gradient(q).0 - e).abs();
                let got = descend(&m, q, config.steps, config.step_size)?.state;
                let diff: f64 = got.iter().zip(x).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
                dx += diff / x.iter().map(|v| v * v).sum::<f64>().sqrt().max(f64::MIN_POSITIVE);
            }
            let q = queries.len() as f64;
            Ok((y, de / q, dx / q, m.parameters()))
        })
        .collect::<Result<Vec<_>>>()?;
    let points: Vec<DrdamPoint> = config
        .features
        .iter()
        .map(|&y| {
            let rows: Vec<&(usize, f64, f64, usize)> = per_draw.iter().filter(|r| r.0 == y).collect();
            let e: Vec<f64> = rows.iter().map(|r| r.1).collect();
            let x: Vec<f64> = rows.iter().map(|r| r.2).collect();
            DrdamPoint { features: y, energy_error: mean_std(&e), retrieval_error: mean_std(&x), parameters: rows[0].3 }
        })
        .collect();
    // The bound is asymptotic: fit the larger half of the feature counts.
    let upper = &points[(points.len() - 1) / 2..];
    let slopes = (
        log_log_slope(&upper.iter().map(|p| (p.features as f64, p.energy_error.0)).collect::<Vec<_>>()),
        log_log_slope(&upper.iter().map(|p| (p.features as f64, p.retrieval_error.0)).collect::<Vec<_>>()),
    );
    let largest = points.last().map_or(0, |p| p.parameters);
    let memory = config.memory_loads.iter().map(|&k| (k, k * n, largest)).collect();
    Ok(DrdamReport { source, neurons: n, points, slopes, memory, config: config.clone() })
}

impl DrdamReport {
    /// A row per Y; the fitted slopes (the bound's is −½).
    pub fn table(&self) -> String {
        let c = &self.config;
        let mut s = format!(
            "DrDAM vs the exact DAM: {}, N = {}, K = {}, β = {}, {} queries (σ = {}), {} steps of α = {}, {} draws\n",
            self.source, self.neurons, c.load, c.beta, c.queries, c.noise, c.steps, c.step_size, c.draws
        );
        s += &format!("{:>7} {:>12} {:>24} {:>24}\n", "Y", "parameters", "energy error", "retrieval error");
        for p in &self.points {
            s += &format!(
                "{:>7} {:>12} {:>24} {:>24}\n",
                p.features,
                p.parameters,
                format!("{:.3e} ± {:.1e}", p.energy_error.0, p.energy_error.1),
                format!("{:.3e} ± {:.1e}", p.retrieval_error.0, p.retrieval_error.1)
            );
        }
        s += &format!(
            "slope of log error against log Y from Y = {}: energy {:.3}, retrieval {:.3} (Y^(-1/2): -0.5)\n",
            self.points[self.points.len() / 2].features,
            self.slopes.0,
            self.slopes.1
        );
        s
    }

    /// `drdam.csv`: a line per Y.
    pub fn csv(&self) -> String {
        let mut s =
            String::from("features,parameters,energy_error,energy_error_std,retrieval_error,retrieval_error_std\n");
        for p in &self.points {
            s += &format!(
                "{},{},{:.6e},{:.6e},{:.6e},{:.6e}\n",
                p.features, p.parameters, p.energy_error.0, p.energy_error.1, p.retrieval_error.0, p.retrieval_error.1
            );
        }
        s
    }

    /// Writes `drdam.csv`, `drdam-error.png` (both errors against Y with a Y^(−1/2) guide) and
    /// `drdam-parameters.png` (parameters against K) into `dir`.
    ///
    /// # Errors
    /// A file that cannot be written.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        let csv = write_file(dir, "drdam.csv", &self.csv())?;
        let c = &self.config;
        let first = &self.points[0];
        let guide = |v0: f64| -> Vec<(f64, f64)> {
            self.points
                .iter()
                .map(|p| (p.features as f64, v0 * (p.features as f64 / first.features as f64).powf(-0.5)))
                .collect()
        };
        let error = dir.join("drdam-error.png");
        LinePlot {
            title: format!("DrDAM vs exact DAM: {}, K = {}, β = {}", self.source, c.load, c.beta),
            x_label: "random features Y".into(),
            y_label: "error (mean over queries and draws)".into(),
            log_x: true,
            log_y: true,
            series: vec![
                Series {
                    name: format!("energy |Ẽ − E| (slope {:.2})", self.slopes.0),
                    points: self.points.iter().map(|p| (p.features as f64, p.energy_error.0)).collect(),
                    color: 0,
                    mark: Mark::LinePoints,
                },
                Series {
                    name: format!("retrieval after {} steps (slope {:.2})", c.steps, self.slopes.1),
                    points: self.points.iter().map(|p| (p.features as f64, p.retrieval_error.0)).collect(),
                    color: 1,
                    mark: Mark::LinePoints,
                },
                Series {
                    name: "Y^(-1/2) from the first Y".into(),
                    points: guide(first.energy_error.0),
                    color: 7,
                    mark: Mark::Thin,
                },
                Series {
                    name: "Y^(-1/2) (retrieval)".into(),
                    points: guide(first.retrieval_error.0),
                    color: 5,
                    mark: Mark::Thin,
                },
            ],
            vlines: vec![],
            legend: Corner::LowerLeft,
        }
        .write(&error, (900, 560))?;
        let params = dir.join("drdam-parameters.png");
        LinePlot {
            title: format!("parameters held, N = {}", self.neurons),
            x_label: "stored memories K".into(),
            y_label: "parameters".into(),
            log_x: true,
            log_y: true,
            series: vec![
                Series {
                    name: "exact DAM (K·N)".into(),
                    points: self.memory.iter().map(|m| (m.0 as f64, m.1 as f64)).collect(),
                    color: 0,
                    mark: Mark::LinePoints,
                },
                Series {
                    name: format!("DrDAM, Y = {} (Y·N + 2Y)", self.points.last().map_or(0, |p| p.features)),
                    points: self.memory.iter().map(|m| (m.0 as f64, m.2 as f64)).collect(),
                    color: 1,
                    mark: Mark::LinePoints,
                },
            ],
            vlines: vec![],
            legend: Corner::UpperLeft,
        }
        .write(&params, (900, 560))?;
        Ok(vec![csv, error, params])
    }
}
