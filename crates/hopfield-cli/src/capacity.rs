//! `hopfield capacity`: sweep the load on random patterns against the theory.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::Args;
use hopfield_train::experiments::capacity::{self, CapacityConfig};

use crate::common::{bar, separation, MemoryArg};

#[derive(Args, Debug)]
pub struct CapacityArgs {
    /// Memory to sweep (the modern network has no binary capacity sweep).
    #[arg(long, value_enum, default_value = "classical")]
    pub memory: MemoryArg,
    /// Degrees n for poly / rect-poly, comma-separated: one curve each (e.g. 2,3,4).
    #[arg(long, value_delimiter = ',', default_value = "3")]
    pub n: Vec<u32>,
    /// N: neurons per pattern.
    #[arg(long, default_value_t = 200)]
    pub neurons: usize,
    /// Loads K, comma-separated; default: 12 log-spaced loads around each curve's capacity.
    #[arg(long, value_delimiter = ',')]
    pub loads: Option<Vec<usize>>,
    /// Independent random pattern sets per load.
    #[arg(long, default_value_t = 4)]
    pub trials: usize,
    /// Stored patterns probed per set.
    #[arg(long, default_value_t = 25)]
    pub probes: usize,
    /// Seed; the same seed gives the same numbers.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Folder for capacity.csv, capacity.png and retrieval.png (created if missing).
    #[arg(long, default_value = "out/capacity")]
    pub out: PathBuf,
}

/// Builds the capacity config from flags.
pub fn capacity_config(a: &CapacityArgs) -> Result<CapacityConfig> {
    let separations = match a.memory {
        MemoryArg::Poly | MemoryArg::RectPoly => {
            if a.n.is_empty() {
                bail!("--n needs at least one degree");
            }
            a.n.iter().map(|&n| separation(a.memory, n)).collect::<Result<Vec<_>>>()?
        }
        MemoryArg::Modern => {
            bail!("capacity sweeps binary memories: choose --memory classical, poly, rect-poly or exp")
        }
        m => vec![separation(m, 2)?],
    };
    let cfg = CapacityConfig {
        separations,
        neurons: a.neurons,
        loads: a.loads.clone(),
        trials: a.trials,
        probes: a.probes,
        seed: a.seed,
    };
    capacity::validate(&cfg)?;
    Ok(cfg)
}

/// Runs a capacity sweep with a progress bar and prints its table; returns the points and files.
pub fn run_capacity(cfg: &CapacityConfig, out: &Path) -> Result<(Vec<capacity::CapacityPoint>, Vec<PathBuf>)> {
    let total: usize = cfg
        .separations
        .iter()
        .map(|&s| cfg.loads.as_ref().map(|l| l.len()).unwrap_or_else(|| capacity::auto_loads(s, cfg.neurons).len()))
        .sum();
    let pb = bar(total as u64, "capacity");
    let points = capacity::sweep(cfg, |done, _| pb.set_position(done as u64))?;
    pb.finish_and_clear();
    println!(
        "{:<16} {:>7} {:>7} {:>11} {:>11} {:>9} {:>9}",
        "memory", "K", "K/N", "P(flip)", "theory", "exact", "≥97%"
    );
    for p in &points {
        println!(
            "{:<16} {:>7} {:>7.3} {:>11.3e} {:>11} {:>9.3} {:>9.3}",
            capacity::label(p.separation),
            p.memories,
            p.memories as f64 / p.neurons as f64,
            p.flip_probability,
            p.flip_theory.map(|t| format!("{t:.3e}")).unwrap_or_else(|| "-".into()),
            p.retrieved_exact,
            p.retrieved_approx
        );
    }
    for &s in &cfg.separations {
        let pts: Vec<_> = points.iter().filter(|p| p.separation == s).cloned().collect();
        match capacity::estimated_capacity(&pts) {
            Some(k) => println!(
                "{}: half the patterns stay within 97% overlap up to K ≈ {k:.1} = {:.3} N",
                capacity::label(s),
                k / cfg.neurons as f64
            ),
            None => println!(
                "{}: every measured load was retrieved (raise --loads to find the capacity)",
                capacity::label(s)
            ),
        }
    }
    let files = capacity::write_outputs(&points, cfg, out)?;
    for f in &files {
        println!("  wrote {}", f.display());
    }
    Ok((points, files))
}

/// Runs `capacity`.
pub fn run(a: &CapacityArgs) -> Result<()> {
    let cfg = capacity_config(a)?;
    run_capacity(&cfg, &a.out)?;
    Ok(())
}
