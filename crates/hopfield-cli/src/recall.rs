//! `hopfield recall`: store images, corrupt cues, retrieve them.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use clap::Args;
use hopfield::memory::{Transform, UpdateRule};
use hopfield_train::experiments::recall::{self, Corruption, MemoryKind, RecallConfig};

use crate::common::{load, separation, DataArgs, MemoryArg, RuleArg};

#[derive(Args, Debug)]
pub struct RecallArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Memory to store the patterns in.
    #[arg(long, value_enum, default_value = "rect-poly")]
    pub memory: MemoryArg,
    /// Degree n of the poly / rect-poly separation function (n ≥ 2).
    #[arg(long, default_value_t = recall::DEFAULT_DEGREE)]
    pub n: u32,
    /// Inverse temperature β of the modern Hopfield network, its sparse variants and DrDAM (β > 0).
    #[arg(long, default_value_t = recall::DEFAULT_BETA, allow_negative_numbers = true)]
    pub beta: f64,
    /// α of --memory entmax, in [1, 2] (1 = softmax, 2 = sparsemax).
    #[arg(long, default_value_t = 1.5, allow_negative_numbers = true)]
    pub alpha: f64,
    /// Kernel width r of --memory lse-relu (β = 2/r²), in the units of the patterns (2·pixel − 1).
    #[arg(long, default_value_t = 12.0, allow_negative_numbers = true)]
    pub width: f64,
    /// Y, the random features of --memory drdam.
    #[arg(long, default_value_t = 4096)]
    pub features: usize,
    /// α of DrDAM's descent x ← x − α ∇Ẽ.
    #[arg(long, default_value_t = 0.5, allow_negative_numbers = true)]
    pub step_size: f64,
    /// K: how many images (the first K of the split) are stored.
    #[arg(long, default_value_t = RecallConfig::default().patterns)]
    pub patterns: usize,
    /// Fraction p of the cue's entries to flip (0 ≤ p ≤ 1). Ignored with --occlude.
    #[arg(long, default_value_t = recall::DEFAULT_FLIP, allow_negative_numbers = true)]
    pub flip: f64,
    /// Occlude the bottom half of each cue instead of flipping entries.
    #[arg(long)]
    pub occlude: bool,
    /// How many stored patterns to query (the first ones); default: all K.
    #[arg(long)]
    pub queries: Option<usize>,
    /// How many examples the picture grid and the energy plot show.
    #[arg(long, default_value_t = RecallConfig::default().show)]
    pub show: usize,
    /// Update rule of binary memories: async (one neuron at a time, random order; the energy never
    /// rises) or sync (all neurons at once).
    #[arg(long, value_enum, default_value = "async")]
    pub rule: RuleArg,
    /// Upper bound on sweeps (binary memories) or updates (modern).
    #[arg(long, default_value_t = RecallConfig::default().max_steps)]
    pub max_steps: usize,
    /// Seed of every random choice; the same seed gives the same numbers.
    #[arg(long, default_value_t = RecallConfig::default().seed)]
    pub seed: u64,
    /// Folder for recall.png, energy.png and recall.csv (created if missing).
    #[arg(long, default_value = "out/recall")]
    pub out: PathBuf,
}

fn recall_config(a: &RecallArgs) -> Result<RecallConfig> {
    let sparse = |transform| MemoryKind::Sparse { beta: a.beta, transform };
    let memory = match a.memory {
        MemoryArg::Modern => MemoryKind::Modern { beta: a.beta },
        MemoryArg::Sparsemax => sparse(Transform::SPARSEMAX),
        MemoryArg::Entmax => sparse(Transform::Entmax { alpha: a.alpha }),
        MemoryArg::Normmax => sparse(Transform::Normmax),
        MemoryArg::LseRelu => MemoryKind::LogSumRelu { width: a.width },
        MemoryArg::Drdam => MemoryKind::RandomFeatures { beta: a.beta, features: a.features, step_size: a.step_size },
        m => MemoryKind::Dense(separation(m, a.n)?),
    };
    Ok(RecallConfig {
        memory,
        patterns: a.patterns,
        corruption: if a.occlude { Corruption::Occlude } else { Corruption::Flip(a.flip) },
        queries: a.queries,
        show: a.show,
        seed: a.seed,
        max_steps: a.max_steps,
        rule: match a.rule {
            RuleArg::Async => UpdateRule::Asynchronous,
            RuleArg::Sync => UpdateRule::Synchronous,
        },
    })
}

/// Runs `recall`.
///
/// `device`: where the modern network retrieves (`None`: host arrays on the CPU).
pub fn run(a: &RecallArgs, data_dir: &Path, device: Option<&burn::tensor::Device>) -> Result<()> {
    let cfg = recall_config(a)?;
    let ds = load(&a.data, data_dir)?;
    recall::validate(&ds, &cfg)?;
    let t = Instant::now();
    let report = recall::recall_on(&ds, &cfg, device)?;
    let files = recall::write_outputs(&report, &a.out, "")?;
    crate::runs::print_recall(&report, &files, t.elapsed().as_secs_f64());
    Ok(())
}
