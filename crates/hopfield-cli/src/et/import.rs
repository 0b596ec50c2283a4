//! `hopfield et import-npz`: the official model's weights as a checkpoint.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use hopfield_data::batch::Normalization;
use hopfield_train::import::npz::{import_npz, ImportOptions};
use hopfield_train::tasks::masked_image::checkpoint::save;

use super::common::parse_image_shape;

#[derive(Args, Debug)]
pub struct EtImportArgs {
    /// The .npz file.
    #[arg(long)]
    pub npz: PathBuf,
    /// Checkpoint folder to write (replaced atomically if it exists).
    #[arg(long)]
    pub out: PathBuf,
    /// Image shape the weights were trained on, C×H×W (also CxHxW).
    #[arg(long, default_value = "3x224x224")]
    pub image: String,
    /// Patch side.
    #[arg(long, default_value_t = 16)]
    pub patch: usize,
    /// T: descent steps used by eval / reconstruct.
    #[arg(long, default_value_t = 12)]
    pub steps: usize,
    /// α: the descent's step size (> 0).
    #[arg(long, visible_alias = "alpha", default_value_t = 0.1, allow_negative_numbers = true)]
    pub step_size: f64,
    /// Patches masked per image by eval / reconstruct (all get the MASK token).
    #[arg(long, default_value_t = 100)]
    pub masked: usize,
    /// Per-channel mean of pixels in [0, 1] (ImageNet's by default).
    #[arg(long, value_delimiter = ',', default_value = "0.485,0.456,0.406", allow_negative_numbers = true)]
    pub mean: Vec<f32>,
    /// Per-channel standard deviation of pixels in [0, 1] (ImageNet's by default).
    #[arg(long, value_delimiter = ',', default_value = "0.229,0.224,0.225", allow_negative_numbers = true)]
    pub std: Vec<f32>,
}

/// Runs `et import-npz`.
pub fn run(a: &EtImportArgs, device: &burn::tensor::Device) -> Result<()> {
    let mut opts = ImportOptions::official();
    opts.image = parse_image_shape(&a.image)?;
    opts.patch = a.patch;
    opts.descent = hopfield::et::Descent::new(a.steps, a.step_size);
    opts.masked = a.masked;
    opts.normalization = Normalization { mean: a.mean.clone(), std: a.std.clone() };
    let imported = import_npz(&a.npz, &opts, device).with_context(|| format!("importing {}", a.npz.display()))?;
    save(&a.out, &imported.model, &imported.meta, None)?;
    let m = &imported.meta.train.model;
    let params: usize = burn::module::Module::num_params(&imported.model);
    println!(
        "imported {}: D = {}, {} heads × {}, M = {} memories, {}×{}×{} images in {} patches of {}×{}; {} parameters",
        a.npz.display(),
        m.et.dim,
        m.et.heads,
        m.et.head_dim,
        m.et.memories,
        m.image.0,
        m.image.1,
        m.image.2,
        m.patches(),
        m.patch,
        m.patch,
        params
    );
    if !imported.ignored.is_empty() {
        println!("  ignored arrays the model does not use: {:?}", imported.ignored);
    }
    println!("  wrote {} (model.safetensors, config.json)", a.out.display());
    Ok(())
}
