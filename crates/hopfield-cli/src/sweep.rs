//! `hopfield sweep`: the claims of the memories of 2023–2025, each a sweep with its CSV and pictures.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use clap::{Args, Subcommand};
use hopfield::memory::Transform;
use hopfield_train::experiments::families::epanechnikov::{self, EpanechnikovConfig};
use hopfield_train::experiments::families::random_features::{self, DrdamConfig};
use hopfield_train::experiments::families::sparse::{self, Patterns, SparseConfig};

use crate::common::{load, DataArgs};

#[derive(Subcommand, Debug)]
pub enum SweepCommand {
    /// Sparse modern Hopfield networks: one update with softmax, α-entmax, sparsemax and normmax; the
    /// retrieval error and the share retrieved exactly against β and against the load.
    Sparse(SparseArgs),
    /// The log-sum-ReLU (Epanechnikov) energy: stored and emergent minima, counted exactly, against
    /// the load and the kernel width; a 2-D landscape with basins.
    LseRelu(LseReluArgs),
    /// DrDAM: the random-feature DAM's energy and retrieval error against Y beside the exact DAM, and
    /// the parameters each holds against K.
    Drdam(DrdamArgs),
}

#[derive(Args, Debug)]
pub struct SparseArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Store random ±1 patterns of this many entries instead of images.
    #[arg(long)]
    pub random: Option<usize>,
    /// Transforms compared: softmax, sparsemax, normmax, entmax (α = 1.5), <α>-entmax (α in [1, 2]).
    #[arg(long, value_delimiter = ',', default_value = "softmax,1.5-entmax,sparsemax,normmax")]
    pub transforms: Vec<String>,
    /// β of the β sweep, comma-separated; default 13 values from 0.001 to 1.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    pub betas: Option<Vec<f64>>,
    /// K of the β sweep.
    #[arg(long, default_value_t = SparseConfig::default().load)]
    pub load: usize,
    /// Loads K of the load sweep, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "10,20,50,100,200,500,1000")]
    pub loads: Vec<usize>,
    /// β of the load sweep.
    #[arg(long, default_value_t = SparseConfig::default().beta, allow_negative_numbers = true)]
    pub beta: f64,
    /// σ of the Gaussian noise added to every entry of a query.
    #[arg(long, default_value_t = SparseConfig::default().noise, allow_negative_numbers = true)]
    pub noise: f64,
    /// Queries per setting (the first patterns).
    #[arg(long, default_value_t = SparseConfig::default().queries)]
    pub queries: usize,
    /// Seed of the noise and of random patterns.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Folder for sparse.csv and the pictures (created if missing).
    #[arg(long, default_value = "out/sweep")]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct LseReluArgs {
    /// d, the dimension of the uniform random patterns.
    #[arg(long, default_value_t = EpanechnikovConfig::default().dim)]
    pub dim: usize,
    /// Loads K, comma-separated (at most 24: the minima are enumerated exactly).
    #[arg(long, value_delimiter = ',', default_value = "5,10,15,20")]
    pub loads: Vec<usize>,
    /// Kernel widths r = √(2/β), comma-separated; default 0.1 to 1.6 in steps of 0.1.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    pub widths: Option<Vec<f64>>,
    /// Pattern sets per load and width.
    #[arg(long, default_value_t = EpanechnikovConfig::default().seeds)]
    pub seeds: usize,
    /// Patterns of the 2-D landscape.
    #[arg(long, default_value_t = EpanechnikovConfig::default().landscape_patterns)]
    pub landscape_patterns: usize,
    /// Kernel width of the 2-D landscape.
    #[arg(long, default_value_t = EpanechnikovConfig::default().landscape_width, allow_negative_numbers = true)]
    pub landscape_width: f64,
    /// Seed of the patterns.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Folder for lse-relu.csv and the pictures (created if missing).
    #[arg(long, default_value = "out/sweep")]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct DrdamArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Store random ±1 patterns of this many entries instead of images.
    #[arg(long)]
    pub random: Option<usize>,
    /// K, the stored patterns.
    #[arg(long, default_value_t = DrdamConfig::default().load)]
    pub load: usize,
    /// β of the exponential DAM.
    #[arg(long, default_value_t = DrdamConfig::default().beta, allow_negative_numbers = true)]
    pub beta: f64,
    /// Feature counts Y, comma-separated; default 64 to 16384 in powers of 2.
    #[arg(long, value_delimiter = ',')]
    pub features: Option<Vec<usize>>,
    /// Draws of the random frequencies per Y.
    #[arg(long, default_value_t = DrdamConfig::default().draws)]
    pub draws: usize,
    /// Queries (the first patterns, noisy).
    #[arg(long, default_value_t = DrdamConfig::default().queries)]
    pub queries: usize,
    /// σ of the query noise (each entry gets σ/√N).
    #[arg(long, default_value_t = DrdamConfig::default().noise, allow_negative_numbers = true)]
    pub noise: f64,
    /// Descent steps L from each query.
    #[arg(long, default_value_t = DrdamConfig::default().steps)]
    pub steps: usize,
    /// Descent step size α.
    #[arg(long, default_value_t = DrdamConfig::default().step_size, allow_negative_numbers = true)]
    pub step_size: f64,
    /// Seed of the noise, the frequencies and random patterns.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Folder for drdam.csv and the pictures (created if missing).
    #[arg(long, default_value = "out/sweep")]
    pub out: PathBuf,
}

fn patterns(random: Option<usize>) -> Patterns {
    random.map_or(Patterns::Images, |neurons| Patterns::Random { neurons })
}

fn done(table: &str, files: &[PathBuf], started: Instant) {
    print!("{table}");
    for f in files {
        println!("  wrote {}", f.display());
    }
    println!("{:.1} s", started.elapsed().as_secs_f64());
}

/// Runs `sweep`.
pub fn run(c: &SweepCommand, data_dir: &Path) -> Result<()> {
    let started = Instant::now();
    match c {
        SweepCommand::Sparse(a) => {
            let transforms = a.transforms.iter().map(|t| t.parse::<Transform>()).collect::<Result<Vec<_>, _>>()?;
            let cfg = SparseConfig {
                transforms,
                patterns: patterns(a.random),
                betas: a.betas.clone().unwrap_or_else(|| SparseConfig::default().betas),
                load: a.load,
                loads: a.loads.clone(),
                beta: a.beta,
                noise: a.noise,
                queries: a.queries,
                seed: a.seed,
            };
            cfg.validate(None)?;
            let ds = if a.random.is_none() { Some(load(&a.data, data_dir)?) } else { None };
            let report = sparse::run(&cfg, ds.as_ref())?;
            done(&report.table(), &report.write(&a.out)?, started);
        }
        SweepCommand::LseRelu(a) => {
            let cfg = EpanechnikovConfig {
                dim: a.dim,
                loads: a.loads.clone(),
                widths: a.widths.clone().unwrap_or_else(|| EpanechnikovConfig::default().widths),
                seeds: a.seeds,
                landscape_patterns: a.landscape_patterns,
                landscape_width: a.landscape_width,
                seed: a.seed,
            };
            let report = epanechnikov::run(&cfg)?;
            done(&report.table(), &report.write(&a.out)?, started);
        }
        SweepCommand::Drdam(a) => {
            let cfg = DrdamConfig {
                patterns: patterns(a.random),
                load: a.load,
                beta: a.beta,
                features: a.features.clone().unwrap_or_else(|| DrdamConfig::default().features),
                draws: a.draws,
                queries: a.queries,
                noise: a.noise,
                steps: a.steps,
                step_size: a.step_size,
                seed: a.seed,
                ..DrdamConfig::default()
            };
            cfg.validate(None)?;
            let ds = if a.random.is_none() { Some(load(&a.data, data_dir)?) } else { None };
            let report = random_features::run(&cfg, ds.as_ref())?;
            done(&report.table(), &report.write(&a.out)?, started);
        }
    }
    Ok(())
}
