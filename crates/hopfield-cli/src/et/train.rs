//! `hopfield et train`: training, resuming, and the run's outputs.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::tensor::Device;
use clap::Args;
use hopfield::et::{EtConfig, ImageEtConfig};
use hopfield_train::experiments::et_image::{ImageData, RunFiles};
use hopfield_train::tasks::masked_image::checkpoint::{load_for_resume, Resume};
use hopfield_train::tasks::masked_image::EtTrainConfig;

use crate::common::{load_split, DeviceArg};

#[derive(Args, Debug)]
pub struct EtTrainArgs {
    /// Data set: a built-in name (mnist-sample, cifar10-sample, digits bundled; mnist,
    /// fashion-mnist, cifar10 from --data-dir) or a path. Trains on its train split, evaluates on test.
    /// Default: mnist-sample, or the data of the checkpoint given to --resume.
    #[arg(long)]
    pub data: Option<hopfield_data::DataSource>,
    /// Folder for metrics.csv and the pictures (created if missing).
    #[arg(long, default_value = "out/et")]
    pub out: PathBuf,
    /// Passes over the training split [default: 5, or the --config / --resume run's own].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Training configuration as JSON: a checkpoint's config.json, or its "train" object alone
    /// (model, steps, step_size, epochs, batch_size, lr, warmup, weight_decay, clip,
    /// mask_fraction, replaced_share, seed). The model and training flags are then not allowed;
    /// --epochs overrides the file's.
    #[arg(long, conflicts_with_all = ["batch_size", "lr", "warmup", "patch", "mask_fraction", "replaced_share", "steps", "step_size", "dim", "heads", "head_dim", "memories", "exclude_self", "weight_decay", "clip", "seed"])]
    pub config: Option<PathBuf>,
    /// Continue the run saved in this checkpoint folder (weights, AdamW state, configuration) from
    /// its last finished epoch up to --epochs (default: the run's own). With the same total the
    /// result is bit for bit that of an uninterrupted run. The model and training flags are not
    /// allowed with it.
    #[arg(long, conflicts_with_all = ["batch_size", "lr", "warmup", "patch", "mask_fraction", "replaced_share", "steps", "step_size", "dim", "heads", "head_dim", "memories", "exclude_self", "weight_decay", "clip", "seed", "config"])]
    pub resume: Option<PathBuf>,
    /// Images per optimiser step.
    #[arg(long, default_value_t = EtTrainConfig::default().batch_size)]
    pub batch_size: usize,
    /// Peak learning rate (AdamW, linear warm-up then cosine decay to lr/1000).
    #[arg(long, default_value_t = EtTrainConfig::default().lr, allow_negative_numbers = true)]
    pub lr: f64,
    /// Warm-up iterations.
    #[arg(long, default_value_t = EtTrainConfig::default().warmup)]
    pub warmup: usize,
    /// Patch side; image height and width must be multiples of it [default: 7 where it divides
    /// them (28×28), else the largest divisor below 7 (4 for 32×32 and 8×8)].
    #[arg(long)]
    pub patch: Option<usize>,
    /// Fraction of patches masked and scored, in (0, 1).
    #[arg(long, default_value_t = EtTrainConfig::default().mask_fraction)]
    pub mask_fraction: f64,
    /// Share of the masked patches whose token is replaced by MASK (the rest stay but are scored).
    #[arg(long, default_value_t = EtTrainConfig::default().replaced_share)]
    pub replaced_share: f64,
    /// T: descent steps (≥ 1).
    #[arg(long, default_value_t = EtTrainConfig::default().model.descent.steps)]
    pub steps: usize,
    /// α: the descent's step size (> 0).
    #[arg(long, visible_alias = "alpha", default_value_t = EtTrainConfig::default().model.descent.step_size, allow_negative_numbers = true)]
    pub step_size: f64,
    /// D: token dimension.
    #[arg(long, default_value_t = EtTrainConfig::default().model.et.dim)]
    pub dim: usize,
    /// H: attention heads.
    #[arg(long, default_value_t = EtTrainConfig::default().model.et.heads)]
    pub heads: usize,
    /// Y: dimension per head.
    #[arg(long, default_value_t = EtTrainConfig::default().model.et.head_dim)]
    pub head_dim: usize,
    /// M: Hopfield memories.
    #[arg(long, default_value_t = EtTrainConfig::default().model.et.memories)]
    pub memories: usize,
    /// Exclude self-attention (B ≠ C, the paper's equation; the official weights allow it).
    #[arg(long)]
    pub exclude_self: bool,
    /// AdamW weight decay.
    #[arg(long, default_value_t = EtTrainConfig::default().weight_decay, allow_negative_numbers = true)]
    pub weight_decay: f64,
    /// Gradient clipping by global norm.
    #[arg(long, default_value_t = EtTrainConfig::default().clip, allow_negative_numbers = true)]
    pub clip: f64,
    /// Seed of initialisation, shuffling and masks.
    #[arg(long, default_value_t = EtTrainConfig::default().seed)]
    pub seed: u64,
    /// Data-parallel training on several devices, comma-separated: each batch is split into one
    /// share per device (burn-train's multi-device step), the gradients are summed on the first,
    /// which also evaluates. `cpu,cpu` runs two workers on the CPU; `cuda:0,cuda:1` two GPUs.
    /// Instead of --device. The result is that of one device with the whole batch, up to the
    /// order of float sums.
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    pub devices: Vec<DeviceArg>,
    /// Checkpoint folder written after every epoch (model.safetensors + config.json, replaced
    /// atomically); default: <out>/checkpoint.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
}

/// The training config from flags and the data's image shape.
pub fn config(a: &EtTrainArgs, image: (usize, usize, usize)) -> EtTrainConfig {
    let mut et = EtConfig::new(a.dim, a.heads, a.head_dim, a.memories);
    et.exclude_self = a.exclude_self;
    let patch = a.patch.unwrap_or_else(|| hopfield_train::tasks::masked_image::default_patch(image.1, image.2));
    let mut c = EtTrainConfig::new(ImageEtConfig::new(image, patch, et));
    c.epochs = a.epochs.unwrap_or(EtTrainConfig::default().epochs);
    c.batch_size = a.batch_size;
    c.lr = a.lr;
    c.warmup = a.warmup;
    c.model.descent = hopfield::et::Descent::new(a.steps, a.step_size);
    c.mask_fraction = a.mask_fraction;
    c.replaced_share = a.replaced_share;
    c.weight_decay = a.weight_decay;
    c.clip = a.clip;
    c.seed = a.seed;
    c
}

/// Loads both splits of `data` and trains through [`crate::runs::et_image`].
fn train_and_report(
    cfg: &EtTrainConfig,
    data: &hopfield_data::DataSource,
    data_dir: &Path,
    files: &RunFiles,
    resume: Option<Resume>,
    devices: &[Device],
) -> Result<()> {
    let train = load_split(data, hopfield_data::Split::Train, data_dir)?;
    let test = load_split(data, hopfield_data::Split::Test, data_dir)?;
    let data = ImageData { name: data.to_string(), train, test };
    crate::runs::et_image(cfg, &data, devices, files, resume)?;
    Ok(())
}

/// Reads `--config`: a checkpoint's config.json or its "train" object alone.
pub fn read_config(path: &Path) -> Result<EtTrainConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading --config {}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("--config {} is not JSON", path.display()))?;
    let train = value.get("train").cloned().unwrap_or(value);
    serde_json::from_value(train).with_context(|| {
        format!("--config {}: not a training configuration (see `hopfield et train --help`)", path.display())
    })
}

/// Runs `et train`.
pub fn run(a: &EtTrainArgs, data_dir: &Path, device: &Device) -> Result<()> {
    // `device` is already the first of --devices (main.rs resolved it); the others here.
    let rest = a.devices.iter().skip(1).map(|d| d.device("--devices"));
    let devices = std::iter::once(Ok(device.clone())).chain(rest).collect::<Result<Vec<_>>>()?;
    let default_data = || hopfield_data::DataSource::Builtin(hopfield_data::Builtin::MnistSample);
    let checkpoint = a.checkpoint.clone().unwrap_or_else(|| a.out.join("checkpoint"));
    if let Some(dir) = &a.resume {
        let (resume, meta) = load_for_resume(dir, device).with_context(|| format!("--resume {}", dir.display()))?;
        let mut cfg = meta.train.clone();
        cfg.epochs = a.epochs.unwrap_or(cfg.epochs);
        cfg.validate()?;
        let data = match &a.data {
            Some(d) => d.clone(),
            None => meta.data.parse().map_err(anyhow::Error::msg)?,
        };
        let checkpoint = a.checkpoint.clone().unwrap_or_else(|| dir.clone());
        let files = RunFiles { dir: a.out.clone(), checkpoint };
        train_and_report(&cfg, &data, data_dir, &files, Some(resume), &devices)?;
        return Ok(());
    }
    let data = a.data.clone().unwrap_or_else(default_data);
    let cfg = match &a.config {
        Some(path) => {
            let mut cfg = read_config(path)?;
            cfg.epochs = a.epochs.unwrap_or(cfg.epochs);
            cfg
        }
        None => {
            let probe = load_split(&data, hopfield_data::Split::Test, data_dir)?;
            config(a, (probe.channels(), probe.height(), probe.width()))
        }
    };
    cfg.validate()?;
    let files = RunFiles { dir: a.out.clone(), checkpoint };
    train_and_report(&cfg, &data, data_dir, &files, None, &devices)
}
