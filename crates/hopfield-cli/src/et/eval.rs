//! `hopfield et eval`: the test masked-patch MSE of a checkpoint next to its baselines.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;
use hopfield_train::tasks::masked_image::{evaluate, mean_patches};

use super::common::{data_for, load_checked, load_checkpoint};

#[derive(Args, Debug)]
pub struct EtEvalArgs {
    /// Checkpoint folder written by `hopfield et train` (model.safetensors + config.json).
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Data set to evaluate on; default: the one the checkpoint was trained on.
    #[arg(long)]
    pub data: Option<hopfield_data::DataSource>,
}

/// Runs `et eval`.
pub fn run(a: &EtEvalArgs, data_dir: &Path, device: &burn::tensor::Device) -> Result<()> {
    let (model, meta) = load_checkpoint(&a.checkpoint, device)?;
    let source = data_for(&meta, &a.data)?;
    let tr = load_checked(&source, hopfield_data::Split::Train, data_dir, &meta)?;
    let te = load_checked(&source, hopfield_data::Split::Test, data_dir, &meta)?;
    let cfg = meta.train.clone();
    let spec = cfg.validate()?;
    let norm = meta.normalization.clone();
    let dev = device.clone();
    let mean = mean_patches(model.patch, &tr, &norm, &dev);
    let r = evaluate(&model, &te, &norm, &mean, &cfg, (spec, cfg.eval_seed()), &dev)?;
    println!(
        "{} ({} test images), T = {}, α = {}: masked-patch MSE {:.4} | mean-patch baseline {:.4} | same model with T = 0: {:.4}",
        source,
        te.len(),
        cfg.model.descent.steps,
        cfg.model.descent.step_size,
        r.mse,
        r.mse_mean_patch,
        r.mse_no_dynamics
    );
    Ok(())
}
