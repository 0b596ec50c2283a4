//! `hopfield dam eval` and `hopfield dam memories`: a checkpoint's error on a split, and its
//! memories as a picture.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use hopfield_train::pictures::dam::write_dam_memories;
use hopfield_train::tasks::dam_classifier::{error_rate, load_dam};

use crate::common::load_split;

#[derive(Args, Debug)]
pub struct DamEvalArgs {
    /// Checkpoint folder written by `hopfield dam train`.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Data set to test on; default: the one the checkpoint was trained on.
    #[arg(long)]
    pub data: Option<hopfield_data::DataSource>,
    /// Which split to classify: test (default) or train (the training error of the final memories).
    #[arg(long, default_value = "test")]
    pub split: hopfield_data::Split,
}

#[derive(Args, Debug)]
pub struct DamMemoriesArgs {
    /// Checkpoint folder written by `hopfield dam train`.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// The PNG to write.
    #[arg(long, default_value = "out/dam/memories.png")]
    pub out: PathBuf,
    /// How many memories to draw (10 to a row).
    #[arg(long, default_value_t = 100)]
    pub count: usize,
}

/// Runs `dam eval`.
pub fn eval(a: &DamEvalArgs, data_dir: &Path) -> Result<()> {
    let (dam, meta) = load_dam(&a.checkpoint)?;
    let source = match &a.data {
        Some(d) => d.clone(),
        None => meta.data.parse().map_err(anyhow::Error::msg)?,
    };
    let te = load_split(&source, a.split, data_dir)?;
    let (c, h, w) = meta.image;
    anyhow::ensure!(
        (te.channels(), te.height(), te.width()) == meta.image,
        "{source} holds {}×{}×{} images but the checkpoint's memories are for {c}×{h}×{w}",
        te.channels(),
        te.height(),
        te.width()
    );
    let err = error_rate(&dam, &te)?;
    let split = a.split;
    println!(
        "{source} ({} {split} images): {split} error {:.2}% ({} wrong); K = {}, n = {}, T = {}, epoch {}",
        te.len(),
        100.0 * err,
        (err * te.len() as f64).round(),
        meta.train.memories,
        meta.train.n,
        dam.temperature,
        meta.epoch
    );
    Ok(())
}

/// Runs `dam memories`.
pub fn memories(a: &DamMemoriesArgs) -> Result<()> {
    let (dam, meta) = load_dam(&a.checkpoint)?;
    if let Some(parent) = a.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    write_dam_memories(&dam, meta.image, a.count, 10, &a.out)?;
    println!("  wrote {} ({} memories, n = {})", a.out.display(), a.count.min(dam.count()), meta.train.n);
    Ok(())
}
