//! `hopfield et …`: the Energy Transformer for masked image reconstruction. One file per
//! subcommand; [`common`] holds what several of them share.

mod bench;
mod check;
mod common;
mod eval;
mod import;
mod reconstruct;
mod train;

use std::path::Path;

use anyhow::Result;
use burn::tensor::Device;
use clap::Subcommand;

pub use bench::EtBenchArgs;
pub use check::EtCheckArgs;
pub use eval::EtEvalArgs;
pub use import::EtImportArgs;
pub use reconstruct::EtReconstructArgs;
pub use train::EtTrainArgs;

#[derive(Subcommand, Debug)]
pub enum EtCommand {
    /// Train on a data set's train split, evaluate on its test split every epoch; write
    /// metrics.csv and the reconstruction pictures.
    Train(EtTrainArgs),
    /// Test-split masked-patch MSE of a checkpoint next to the mean-patch and T = 0 baselines,
    /// computed on the same masks.
    Eval(EtEvalArgs),
    /// Pictures from a checkpoint: original | masked | reconstructed, the decoded image after
    /// each step, and the energy over the steps; for test images or any image file.
    Reconstruct(EtReconstructArgs),
    /// Convert the official model's weights (bhoov/energy-transformer-jax, a .npz with keys Wk, Wq,
    /// Xi, Wenc, Benc, Wdec, Bdec, POS_embed, CLS_token, MASK_token, LNORM_gamma, LNORM_bias) into a
    /// checkpoint folder that et eval / et reconstruct take.
    ImportNpz(EtImportArgs),
    /// Milliseconds per forward pass and per training step (median of --reps), the loss and the
    /// energies of image 0, on given (--checkpoint, --inputs, --mask) or random weights and inputs.
    Bench(EtBenchArgs),
    /// The math on the device --device names, in seconds: explicit energy gradient = autodiff,
    /// the energy falling at every step, the device's energies and tokens = the CPU's.
    Check(EtCheckArgs),
}

/// Runs an `et` subcommand on `device`.
pub fn run(cmd: &EtCommand, data_dir: &Path, device: &Device) -> Result<()> {
    match cmd {
        EtCommand::Train(a) => train::run(a, data_dir, device),
        EtCommand::Eval(a) => eval::run(a, data_dir, device),
        EtCommand::Reconstruct(a) => reconstruct::run(a, data_dir, device),
        EtCommand::ImportNpz(a) => import::run(a, device),
        EtCommand::Bench(a) => bench::run(a, device),
        EtCommand::Check(a) => check::run(a, device),
    }
}
