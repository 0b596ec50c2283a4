//! Sparse modern Hopfield networks (Santos et al. 2024; Hu et al. 2023): one update
//! ξ ← Xᵀ ŷ_Ω(β X ξ) of a noisy query, softmax against α-entmax, sparsemax and normmax.
//!
//! Patterns: the first K images of a data set (2·pixel − 1) or K random ±1 patterns of N. A query
//! is pattern μ plus N(0, σ²) noise on every entry. Measured per setting: the mean relative error
//! ‖ξ₁ − x_μ‖ / ‖x_μ‖ after one update, and the share of queries whose update *is* x_μ, exactly.
//! Two sweeps: over β at a fixed load, and over the load K at a fixed β.

use std::path::{Path, PathBuf};

use hopfield::memory::{ModernHopfield, Transform};
use hopfield_data::Dataset;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{mean_std, write_file};
use crate::error::{invalid, Result};
use crate::pictures::{Corner, LinePlot, Mark, Series};

pub use super::Patterns;

/// The sweeps' settings, with the command line's defaults in [`SparseConfig::default`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SparseConfig {
    /// The transforms compared.
    pub transforms: Vec<Transform>,
    /// Where the patterns come from.
    pub patterns: Patterns,
    /// The β of the β sweep.
    pub betas: Vec<f64>,
    /// K of the β sweep.
    pub load: usize,
    /// The loads K of the load sweep.
    pub loads: Vec<usize>,
    /// β of the load sweep.
    pub beta: f64,
    /// σ of the noise added to every entry of a query.
    pub noise: f64,
    /// Queries per setting: the first min(queries, K) patterns, each with its own noise.
    pub queries: usize,
    /// Seed of the noise and of random patterns.
    pub seed: u64,
}

impl Default for SparseConfig {
    /// Softmax, 1.5-entmax, sparsemax and normmax on images; 13 β from 10⁻³ to 1 at K = 100; loads
    /// 10 to 1000 at β = 0.1; noise σ = 0.5; 100 queries; seed 0.
    fn default() -> Self {
        SparseConfig {
            transforms: vec![
                Transform::Softmax,
                Transform::Entmax { alpha: 1.5 },
                Transform::SPARSEMAX,
                Transform::Normmax,
            ],
            patterns: Patterns::Images,
            betas: (0..13).map(|i| 10f64.powf(-3.0 + 0.25 * i as f64)).collect(),
            load: 100,
            loads: vec![10, 20, 50, 100, 200, 500, 1000],
            beta: 0.1,
            noise: 0.5,
            queries: 100,
            seed: 0,
        }
    }
}

impl SparseConfig {
    /// Checks every setting against the data (`images`: how many the data set holds, if it is used).
    ///
    /// # Errors
    /// The setting and its value.
    pub fn validate(&self, images: Option<usize>) -> Result<()> {
        if self.transforms.is_empty() {
            return Err(invalid("transforms", "none", "compare at least one transform"));
        }
        for t in &self.transforms {
            t.validate()?;
        }
        if let Some(b) = self.betas.iter().chain([&self.beta]).find(|b| !(**b > 0.0 && b.is_finite())) {
            return Err(invalid("beta", b, "every β must be positive and finite"));
        }
        if self.betas.is_empty() || self.loads.is_empty() {
            return Err(invalid("betas/loads", "none", "give at least one β and one load"));
        }
        if !(self.noise >= 0.0 && self.noise.is_finite()) {
            return Err(invalid("noise", self.noise, "σ must be zero or positive and finite"));
        }
        if let Patterns::Random { neurons: 0 } = self.patterns {
            return Err(invalid("neurons", 0, "a pattern needs at least one entry"));
        }
        let largest = self.loads.iter().copied().chain([self.load]).max().unwrap_or(0);
        if let Some(k) = self.loads.iter().chain([&self.load]).find(|&&k| k == 0) {
            return Err(invalid("load", k, "store at least one pattern"));
        }
        if self.queries == 0 {
            return Err(invalid("queries", 0, "query at least one pattern"));
        }
        if let (Patterns::Images, Some(n)) = (self.patterns, images) {
            if largest > n {
                return Err(invalid("load", largest, format!("K is larger than the data set's {n} images")));
            }
        }
        Ok(())
    }
}

/// One measured setting.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SparsePoint {
    /// "beta" or "load".
    pub sweep: &'static str,
    /// The transform.
    pub transform: Transform,
    /// β.
    pub beta: f64,
    /// K.
    pub load: usize,
    /// Mean of ‖ξ₁ − x_μ‖ / ‖x_μ‖.
    pub error: f64,
    /// Its standard deviation over the queries.
    pub error_std: f64,
    /// Share of queries whose update is x_μ exactly.
    pub exact: f64,
}

/// What [`run`] measured.
#[derive(Debug, Clone, PartialEq)]
pub struct SparseReport {
    /// The data set's name, or "random ±1".
    pub source: String,
    /// N.
    pub neurons: usize,
    /// Every point of both sweeps.
    pub points: Vec<SparsePoint>,
    /// The settings.
    pub config: SparseConfig,
}

/// Runs both sweeps on `data` (used when the patterns are images).
///
/// # Errors
/// An invalid setting; images asked for without a data set.
pub fn run(config: &SparseConfig, data: Option<&Dataset>) -> Result<SparseReport> {
    config.validate(data.map(|d| d.len()))?;
    let largest = config.loads.iter().copied().chain([config.load]).max().unwrap_or(0);
    let (all, n, source) = super::load_patterns(config.patterns, data, largest, config.seed ^ 0x9a77)?;
    // The same noisy queries for every setting: pattern μ + σ·N(0, 1).
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let most = config.queries.min(largest);
    let queries: Vec<f64> =
        all[..most * n].iter().map(|v| v + config.noise * hopfield::init::standard_normal(&mut rng)).collect();
    let mut points = Vec::new();
    let settings = config
        .betas
        .iter()
        .map(|&b| ("beta", b, config.load))
        .chain(config.loads.iter().map(|&k| ("load", config.beta, k)));
    for (sweep, beta, load) in settings {
        for &t in &config.transforms {
            let net = ModernHopfield::new(all[..load * n].to_vec(), n, beta)?.with_transform(t)?;
            let asked = config.queries.min(load);
            let out = net.update(&queries[..asked * n])?;
            let (mut errors, mut exact) = (Vec::with_capacity(asked), 0usize);
            for (q, got) in out.chunks_exact(n).enumerate() {
                let want = &all[q * n..(q + 1) * n];
                let diff: f64 = got.iter().zip(want).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
                let norm: f64 = want.iter().map(|v| v * v).sum::<f64>().sqrt().max(f64::MIN_POSITIVE);
                errors.push(diff / norm);
                exact += usize::from(got == want);
            }
            let (error, error_std) = mean_std(&errors);
            points.push(SparsePoint {
                sweep,
                transform: t,
                beta,
                load,
                error,
                error_std,
                exact: exact as f64 / asked as f64,
            });
        }
    }
    Ok(SparseReport { source, neurons: n, points, config: config.clone() })
}

impl SparseReport {
    fn sweep<'a>(&'a self, sweep: &'a str, t: Transform) -> impl Iterator<Item = &'a SparsePoint> + 'a {
        self.points.iter().filter(move |p| p.sweep == sweep && p.transform == t)
    }

    /// Per transform: the smallest β of the β sweep at which every query was retrieved exactly, the
    /// error at the sweep's middle β, and the exact share at the load sweep's largest load.
    pub fn table(&self) -> String {
        let c = &self.config;
        let mid = c.betas[c.betas.len() / 2];
        let last = *c.loads.last().unwrap_or(&c.load);
        let mut s = format!(
            "{}: N = {}, {} queries with noise σ = {}; β sweep at K = {}, load sweep at β = {}\n",
            self.source, self.neurons, c.queries, c.noise, c.load, c.beta
        );
        s += &format!(
            "{:<12} {:>22} {:>18} {:>18} {:>22}\n",
            "transform",
            "first β all exact",
            format!("error at β={mid:.3}"),
            format!("exact at β={mid:.3}"),
            format!("exact at K={last}, β={}", c.beta)
        );
        for &t in &c.transforms {
            let first = self.sweep("beta", t).find(|p| p.exact >= 1.0).map(|p| format!("{:.4}", p.beta));
            let at = self.sweep("beta", t).find(|p| p.beta == mid);
            let load = self.sweep("load", t).find(|p| p.load == last);
            s += &format!(
                "{:<12} {:>22} {:>18} {:>18} {:>22}\n",
                t.to_string(),
                first.unwrap_or_else(|| "never".into()),
                at.map_or("-".into(), |p| format!("{:.4} ± {:.4}", p.error, p.error_std)),
                at.map_or("-".into(), |p| format!("{:.2}", p.exact)),
                load.map_or("-".into(), |p| format!("{:.2}", p.exact)),
            );
        }
        s
    }

    /// `sparse.csv`: a line per point.
    pub fn csv(&self) -> String {
        let mut s = String::from("sweep,transform,beta,load,error,error_std,exact\n");
        for p in &self.points {
            s += &format!(
                "{},{},{},{},{:.6e},{:.6e},{:.4}\n",
                p.sweep, p.transform, p.beta, p.load, p.error, p.error_std, p.exact
            );
        }
        s
    }

    fn plot(&self, sweep: &str, exact: bool, path: &Path) -> Result<()> {
        let series = self
            .config
            .transforms
            .iter()
            .enumerate()
            .map(|(i, &t)| Series {
                name: t.to_string(),
                points: self
                    .sweep(sweep, t)
                    .map(|p| {
                        (if sweep == "beta" { p.beta } else { p.load as f64 }, if exact { p.exact } else { p.error })
                    })
                    .collect(),
                color: i,
                mark: Mark::LinePoints,
            })
            .collect();
        let (x_label, fixed) = match sweep {
            "beta" => ("inverse temperature β".to_string(), format!("K = {}", self.config.load)),
            _ => ("stored patterns K".to_string(), format!("β = {}", self.config.beta)),
        };
        LinePlot {
            title: format!("{}: one update, noise σ = {}, {fixed}", self.source, self.config.noise),
            x_label,
            y_label: if exact { "share retrieved exactly" } else { "relative error ‖ξ₁ − x‖ / ‖x‖" }.into(),
            log_x: true,
            log_y: false,
            series,
            vlines: vec![],
            legend: match (sweep, exact) {
                ("beta", false) => Corner::UpperRight,
                (_, true) if sweep != "beta" => Corner::LowerRight,
                _ => Corner::UpperLeft,
            },
        }
        .write(path, (900, 560))
    }

    /// Writes `sparse.csv`, `sparse-beta-error.png`, `sparse-beta-exact.png`, `sparse-load-error.png`
    /// and `sparse-load-exact.png` into `dir`.
    ///
    /// # Errors
    /// A file that cannot be written.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        let mut files = vec![write_file(dir, "sparse.csv", &self.csv())?];
        for (sweep, exact, name) in [
            ("beta", false, "sparse-beta-error.png"),
            ("beta", true, "sparse-beta-exact.png"),
            ("load", false, "sparse-load-error.png"),
            ("load", true, "sparse-load-exact.png"),
        ] {
            let path = dir.join(name);
            self.plot(sweep, exact, &path)?;
            files.push(path);
        }
        Ok(files)
    }
}
