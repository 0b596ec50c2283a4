//! The recall experiment: store K images in a memory, corrupt cues, retrieve, and measure.
//!
//! Binary memories store each image binarised (pixel ≥ ½ → +1, else −1, N = channels·height·width);
//! the modern Hopfield network stores 2·pixel − 1 ∈ [−1, 1]. A cue is a stored pattern with a
//! fraction p of its entries negated (`Flip`), or with the bottom half of every channel hidden
//! (`Occlude`): set to −1 (black) in a binary memory, to 0 (grey: unknown, no contribution to
//! any dot product) in the modern one. A query is *retrieved exactly* when the final state has the stored
//! pattern's sign everywhere; its *overlap* is the cosine between final state and pattern (for
//! ±1 vectors, (1/N) ξ·σ).

use std::io::Write;
use std::path::{Path, PathBuf};

use hopfield::memory::{Separation, Transform, UpdateRule};
use hopfield_data::Dataset;
use rand::seq::index::sample;
use rand_chacha::ChaCha8Rng;

use crate::error::{invalid, Result, TrainError};
use crate::pictures::{write_grid, Corner, LinePlot, Mark, Picture, Series};

mod runs;

use runs::{dense_runs, drdam_runs, lse_relu_runs, modern_runs, rng_for, DENSE_AXES, MODERN_AXES};

/// Which memory stores the patterns.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum MemoryKind {
    /// A binary Dense Associative Memory with this separation function.
    Dense(Separation),
    /// The continuous modern Hopfield network with inverse temperature β.
    Modern {
        /// β.
        beta: f64,
    },
    /// The modern network with a sparse transform in place of the softmax (α-entmax, sparsemax, normmax).
    Sparse {
        /// β.
        beta: f64,
        /// The transform.
        transform: Transform,
    },
    /// The log-sum-ReLU (Epanechnikov) memory with kernels of this width.
    LogSumRelu {
        /// r = √(2/β).
        width: f64,
    },
    /// The random-feature DAM (DrDAM) of the Gaussian DAM at β with Y features, descending with step α.
    RandomFeatures {
        /// β.
        beta: f64,
        /// Y.
        features: usize,
        /// α of x ← x − α ∇Ẽ.
        step_size: f64,
    },
}

impl std::fmt::Display for MemoryKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MemoryKind::Dense(s) => write!(f, "{s}"),
            MemoryKind::Modern { beta } => write!(f, "modern Hopfield (β = {beta})"),
            MemoryKind::Sparse { beta, transform } => write!(f, "{transform} Hopfield (β = {beta})"),
            MemoryKind::LogSumRelu { width } => write!(f, "log-sum-ReLU (width {width})"),
            MemoryKind::RandomFeatures { beta, features, .. } => write!(f, "DrDAM (β = {beta}, Y = {features})"),
        }
    }
}

/// How cues are made from stored patterns.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Corruption {
    /// Negate this fraction of the entries, chosen at random.
    Flip(f64),
    /// Set the bottom half of every channel to −1.
    Occlude,
}

/// Settings of a recall run, with the command line's defaults in [`RecallConfig::default`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RecallConfig {
    /// The memory.
    pub memory: MemoryKind,
    /// K: the first K images of the data set are stored.
    pub patterns: usize,
    /// How cues are corrupted.
    pub corruption: Corruption,
    /// How many stored patterns are queried (the first ones); `None` queries all K.
    pub queries: Option<usize>,
    /// How many examples the pictures show.
    pub show: usize,
    /// Seed of every random choice (cue corruption, update order).
    pub seed: u64,
    /// Upper bound on sweeps (binary) or updates (modern).
    pub max_steps: usize,
    /// Asynchronous or synchronous updates (binary memories; the modern network updates all at once).
    pub rule: UpdateRule,
}

/// The degree n of the default memory F = max(x, 0)^n (digits are strongly correlated: n must be large).
pub const DEFAULT_DEGREE: u32 = 30;
/// β of the modern network when it is chosen without one.
pub const DEFAULT_BETA: f64 = 0.2;
/// The share of a cue's entries flipped by default.
pub const DEFAULT_FLIP: f64 = 0.2;

impl Default for RecallConfig {
    /// `hopfield recall`'s run: 50 patterns in the dense memory F = max(x, 0)^30, 20% of each cue
    /// flipped, asynchronous updates for at most 100 sweeps, 8 examples shown, seed 0.
    fn default() -> Self {
        RecallConfig {
            memory: MemoryKind::Dense(Separation::RectifiedPolynomial { n: DEFAULT_DEGREE }),
            patterns: 50,
            corruption: Corruption::Flip(DEFAULT_FLIP),
            queries: None,
            show: 8,
            seed: 0,
            max_steps: 100,
            rule: UpdateRule::Asynchronous,
        }
    }
}

/// One query's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    /// Index of the stored pattern the cue came from.
    pub pattern: usize,
    /// Its class label.
    pub label: u8,
    /// Whether the final state has the pattern's sign everywhere.
    pub exact: bool,
    /// Cosine between cue and pattern.
    pub cue_overlap: f64,
    /// Cosine between final state and pattern.
    pub overlap: f64,
    /// Sweeps (binary) or updates (modern) until convergence.
    pub steps: usize,
    /// Energy trace: (time, energy).
    pub energy: Vec<(f64, f64)>,
}

/// The outcome of [`recall`].
#[derive(Debug, Clone, PartialEq)]
pub struct RecallReport {
    /// The memory used.
    pub memory: MemoryKind,
    /// N.
    pub neurons: usize,
    /// K.
    pub patterns: usize,
    /// One entry per query.
    pub results: Vec<QueryResult>,
    /// (stored, cue, retrieved) pictures of the first `show` queries.
    pub examples: Vec<[Picture; 3]>,
    /// Axis labels of the energy trace.
    pub energy_axes: (String, String),
}

impl RecallReport {
    /// Fraction of queries retrieved exactly.
    /// One line: the memory, N, K, the queries, how many were retrieved exactly, the mean overlap
    /// of the retrieved states and of the cues.
    pub fn summary(&self) -> String {
        let n = self.results.len();
        format!(
            "{}: N = {}, K = {}, {n} queries: retrieved exactly {}/{n} = {:.3}; mean overlap {:.4} (cues {:.4})",
            self.memory,
            self.neurons,
            self.patterns,
            self.results.iter().filter(|q| q.exact).count(),
            self.exact_fraction(),
            self.mean_overlap(),
            self.mean_cue_overlap()
        )
    }

    pub fn exact_fraction(&self) -> f64 {
        self.results.iter().filter(|r| r.exact).count() as f64 / self.results.len() as f64
    }
    /// Mean overlap of final state and pattern.
    pub fn mean_overlap(&self) -> f64 {
        self.results.iter().map(|r| r.overlap).sum::<f64>() / self.results.len() as f64
    }
    /// Mean overlap of cue and pattern.
    pub fn mean_cue_overlap(&self) -> f64 {
        self.results.iter().map(|r| r.cue_overlap).sum::<f64>() / self.results.len() as f64
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

/// Checks the settings against the data set.
pub fn validate(ds: &Dataset, cfg: &RecallConfig) -> Result<()> {
    if ds.is_empty() {
        return Err(invalid("data", ds.name(), "the data set holds no images"));
    }
    if cfg.patterns == 0 {
        return Err(invalid("patterns", 0, "store at least one pattern"));
    }
    if cfg.patterns > ds.len() {
        return Err(invalid(
            "patterns",
            cfg.patterns,
            format!("K is larger than the data set ({} holds {} images)", ds.name(), ds.len()),
        ));
    }
    if let Corruption::Flip(p) = cfg.corruption {
        if !(0.0..=1.0).contains(&p) {
            return Err(invalid("flip", p, "the fraction of flipped entries must lie in [0, 1]"));
        }
    }
    if let Some(q) = cfg.queries {
        if q == 0 || q > cfg.patterns {
            return Err(invalid("queries", q, format!("query between 1 and K = {} stored patterns", cfg.patterns)));
        }
    }
    if cfg.show == 0 {
        return Err(invalid("show", 0, "show at least one example in the pictures"));
    }
    if cfg.max_steps == 0 {
        return Err(invalid("max-steps", 0, "at least one step"));
    }
    match cfg.memory {
        MemoryKind::Dense(s) => s.validate()?,
        MemoryKind::Modern { beta } if !(beta > 0.0 && beta.is_finite()) => {
            return Err(invalid("beta", beta, "the inverse temperature must be positive and finite"))
        }
        MemoryKind::Modern { .. } => {}
        MemoryKind::Sparse { beta, transform } => {
            transform.validate()?;
            if !(beta > 0.0 && beta.is_finite()) {
                return Err(invalid("beta", beta, "the inverse temperature must be positive and finite"));
            }
        }
        MemoryKind::LogSumRelu { width } if !(width > 0.0 && width.is_finite()) => {
            return Err(invalid("width", width, "the kernel width must be positive and finite"))
        }
        MemoryKind::LogSumRelu { .. } => {}
        MemoryKind::RandomFeatures { beta, features, step_size } => {
            if features == 0 {
                return Err(invalid("features", 0, "Y, the number of random features, must be at least 1"));
            }
            for (name, v) in [("beta", beta), ("step size", step_size)] {
                if !(v > 0.0 && v.is_finite()) {
                    return Err(invalid(name, v, "must be positive and finite"));
                }
            }
        }
    }
    Ok(())
}

/// A cue: `pattern` corrupted as configured. Entries are ±1 for binary patterns, in [−1, 1] otherwise.
/// `fill` is what occluded entries become: −1 (black) for binary memories, 0 (unknown: no
/// contribution to any dot product) for the continuous one.
fn corrupt(pattern: &[f32], ds: &Dataset, c: Corruption, fill: f32, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let mut cue = pattern.to_vec();
    match c {
        Corruption::Flip(p) => {
            let n = cue.len();
            let count = ((p * n as f64).round() as usize).min(n);
            for i in sample(rng, n, count) {
                cue[i] = -cue[i];
            }
        }
        Corruption::Occlude => {
            let (h, w) = (ds.height(), ds.width());
            for ch in 0..ds.channels() {
                for y in h / 2..h {
                    cue[ch * h * w + y * w..ch * h * w + (y + 1) * w].iter_mut().for_each(|v| *v = fill);
                }
            }
        }
    }
    cue
}

fn picture(ds: &Dataset, v: &[f32]) -> Picture {
    Picture {
        channels: ds.channels(),
        height: ds.height(),
        width: ds.width(),
        values: v.iter().map(|x| (x + 1.0) * 0.5).collect(),
    }
}

/// Runs the recall experiment on the first K images of `ds`, on host arrays (the CPU).
pub fn recall(ds: &Dataset, cfg: &RecallConfig) -> Result<RecallReport> {
    recall_on(ds, cfg, None)
}

/// [`recall`] with the modern network's retrieval as burn tensors on `device` when one is given
/// (a GPU; [`ModernHopfield::retrieve_on`]); `None` computes on host arrays. The binary memories
/// are host arrays only.
///
/// # Errors
/// Those of [`recall`]; a device given for a binary memory.
pub fn recall_on(ds: &Dataset, cfg: &RecallConfig, device: Option<&burn::tensor::Device>) -> Result<RecallReport> {
    validate(ds, cfg)?;
    if let (Some(device), false) = (device, matches!(cfg.memory, MemoryKind::Modern { .. })) {
        return Err(invalid(
            "device",
            format!("{device:?}"),
            format!(
                "the CPU for the {} (its memory is a host array); a device applies to the modern network",
                cfg.memory
            ),
        ));
    }
    let n = ds.image_len();
    let k = cfg.patterns;
    let queries = cfg.queries.unwrap_or(k);
    let binary = matches!(cfg.memory, MemoryKind::Dense(_));
    // Stored patterns as f32: ±1 (binary) or 2·pixel − 1.
    let patterns: Vec<f32> = (0..k)
        .flat_map(|i| ds.image(i))
        .map(|v| {
            if binary {
                if v >= 0.5 {
                    1.0
                } else {
                    -1.0
                }
            } else {
                2.0 * v - 1.0
            }
        })
        .collect();
    let cues: Vec<Vec<f32>> = (0..queries)
        .map(|q| {
            corrupt(
                &patterns[q * n..(q + 1) * n],
                ds,
                cfg.corruption,
                if binary { -1.0 } else { 0.0 },
                &mut rng_for(cfg.seed, q),
            )
        })
        .collect();
    let (runs, axes) = match cfg.memory {
        MemoryKind::Dense(sep) => (dense_runs(&patterns, &cues, n, sep, cfg)?, DENSE_AXES),
        MemoryKind::Modern { beta } => {
            (modern_runs(&patterns, &cues, n, (beta, Transform::Softmax), cfg, device)?, MODERN_AXES)
        }
        MemoryKind::Sparse { beta, transform } => {
            (modern_runs(&patterns, &cues, n, (beta, transform), cfg, device)?, MODERN_AXES)
        }
        MemoryKind::LogSumRelu { width } => (lse_relu_runs(&patterns, &cues, n, width, cfg)?, MODERN_AXES),
        MemoryKind::RandomFeatures { beta, features, step_size } => {
            (drdam_runs(&patterns, &cues, n, (beta, features, step_size), cfg)?, MODERN_AXES)
        }
    };
    let results = runs
        .iter()
        .enumerate()
        .map(|(q, run)| {
            let p = &patterns[q * n..(q + 1) * n];
            QueryResult {
                pattern: q,
                label: ds.labels()[q],
                exact: p.iter().zip(&run.state).all(|(a, b)| (*a >= 0.0) == (*b >= 0.0)),
                cue_overlap: cosine(&cues[q], p),
                overlap: cosine(&run.state, p),
                steps: run.steps,
                energy: run.energy.clone(),
            }
        })
        .collect();
    let examples = (0..queries.min(cfg.show))
        .map(|q| [picture(ds, &patterns[q * n..(q + 1) * n]), picture(ds, &cues[q]), picture(ds, &runs[q].state)])
        .collect();
    let energy_axes = (axes.0.to_string(), axes.1.to_string());
    Ok(RecallReport { memory: cfg.memory, neurons: n, patterns: k, results, examples, energy_axes })
}

fn write_err(path: &Path, e: std::io::Error) -> TrainError {
    TrainError::write(path, e)
}

/// Writes `{prefix}recall.png` (stored | cue | retrieved), `{prefix}energy.png` (energy against
/// time for the shown examples) and `{prefix}recall.csv` (one row per query) into `out`.
pub fn write_outputs(report: &RecallReport, out: &Path, prefix: &str) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).map_err(|e| write_err(out, e))?;
    let grid = out.join(format!("{prefix}recall.png"));
    let rows: Vec<Vec<Picture>> = report.examples.iter().map(|e| e.to_vec()).collect();
    write_grid(&grid, &rows, &["stored", "cue", "retrieved"], 84)?;
    let energy = out.join(format!("{prefix}energy.png"));
    let series = report
        .results
        .iter()
        .take(report.examples.len())
        .enumerate()
        .map(|(i, r)| Series {
            name: format!("pattern {} (label {})", r.pattern, r.label),
            points: r.energy.clone(),
            color: i,
            mark: Mark::LinePoints,
        })
        .collect();
    LinePlot {
        title: format!("{}: N = {}, K = {}", report.memory, report.neurons, report.patterns),
        x_label: report.energy_axes.0.clone(),
        y_label: report.energy_axes.1.clone(),
        log_x: false,
        log_y: false,
        series,
        vlines: vec![],
        legend: Corner::UpperRight,
    }
    .write(&energy, (900, 600))?;
    let csv = out.join(format!("{prefix}recall.csv"));
    let mut text = String::from("pattern,label,exact,cue_overlap,overlap,steps,final_energy\n");
    for r in &report.results {
        let e = r.energy.last().map(|p| p.1).unwrap_or(f64::NAN);
        text += &format!(
            "{},{},{},{:.6},{:.6},{},{:.9e}\n",
            r.pattern, r.label, r.exact as u8, r.cue_overlap, r.overlap, r.steps, e
        );
    }
    hopfield_data::outputs::claim(&csv)?;
    let tmp = csv.with_extension("csv.tmp");
    std::fs::File::create(&tmp).and_then(|mut f| f.write_all(text.as_bytes())).map_err(|e| write_err(&tmp, e))?;
    std::fs::rename(&tmp, &csv).map_err(|e| write_err(&csv, e))?;
    Ok(vec![grid, energy, csv])
}

/// Retrieval at one degree n of F = max(x, 0)^n ([`degree_sweep`]).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct DegreePoint {
    /// n.
    pub degree: u32,
    /// Share of the queries retrieved exactly.
    pub exact: f64,
    /// Mean overlap of the retrieved states with the stored patterns.
    pub overlap: f64,
}

/// The recall of `cfg` (its memory replaced) by the dense memory F = max(x, 0)^n for each n of
/// `degrees`: how much the degree buys on the same load.
///
/// # Errors
/// As [`recall`].
pub fn degree_sweep(ds: &Dataset, cfg: &RecallConfig, degrees: &[u32]) -> Result<Vec<DegreePoint>> {
    degrees
        .iter()
        .map(|&n| {
            let memory = MemoryKind::Dense(Separation::RectifiedPolynomial { n });
            let r = recall(ds, &RecallConfig { memory, ..cfg.clone() })?;
            Ok(DegreePoint { degree: n, exact: r.exact_fraction(), overlap: r.mean_overlap() })
        })
        .collect()
}

/// The exact-retrieval share and the mean overlap against the degree, titled `title`, into `path`.
///
/// # Errors
/// The picture cannot be written.
pub fn write_degree_plot(points: &[DegreePoint], title: &str, path: &Path) -> Result<()> {
    let series = |name: &str, color, f: fn(&DegreePoint) -> f64| Series {
        name: name.into(),
        points: points.iter().map(|p| (p.degree as f64, f(p))).collect(),
        color,
        mark: Mark::LinePoints,
    };
    LinePlot {
        title: title.into(),
        x_label: "degree n".into(),
        y_label: "fraction".into(),
        log_x: false,
        log_y: false,
        series: vec![series("retrieved exactly", 0, |p| p.exact), series("mean overlap", 1, |p| p.overlap)],
        vlines: vec![],
        legend: Corner::LowerRight,
    }
    .write(path, (900, 560))
}
