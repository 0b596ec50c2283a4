//! `hopfield capacity`: sweep the load on random patterns against the theory.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use hopfield_train::experiments::capacity::{self, CapacityConfig};

use crate::common::{separation, MemoryArg};

#[derive(Args, Debug)]
pub struct CapacityArgs {
    /// Memory to sweep (the modern network has no binary capacity sweep).
    #[arg(long, value_enum, default_value = "classical")]
    pub memory: MemoryArg,
    /// Degrees n for poly / rect-poly, comma-separated: one curve each (e.g. 2,3,4).
    #[arg(long, value_delimiter = ',', default_value = "3")]
    pub n: Vec<u32>,
    /// N: neurons per pattern.
    #[arg(long, default_value_t = CapacityConfig::default().neurons)]
    pub neurons: usize,
    /// Loads K, comma-separated; default: 12 log-spaced loads around each curve's capacity.
    #[arg(long, value_delimiter = ',')]
    pub loads: Option<Vec<usize>>,
    /// Independent random pattern sets per load.
    #[arg(long, default_value_t = CapacityConfig::default().trials)]
    pub trials: usize,
    /// Stored patterns probed per set.
    #[arg(long, default_value_t = CapacityConfig::default().probes)]
    pub probes: usize,
    /// Seed; the same seed gives the same numbers.
    #[arg(long, default_value_t = CapacityConfig::default().seed)]
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
        m if !m.is_binary() => {
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

/// Runs `capacity`.
pub fn run(a: &CapacityArgs) -> Result<()> {
    let cfg = capacity_config(a)?;
    crate::runs::capacity(&cfg, &a.out)?;
    Ok(())
}
