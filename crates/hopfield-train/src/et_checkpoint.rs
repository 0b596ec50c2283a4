//! Checkpoints of the image Energy Transformer: a folder holding `model.safetensors` (the
//! weights) and `config.json` (the model and training configuration, the normalisation and the
//! seed), so that evaluation and reconstruction need only the folder. A checkpoint is written to
//! a temporary folder and renamed into place, so a killed run never leaves a broken one.

use std::path::{Path, PathBuf};

use burn::store::{ModuleSnapshot, SafetensorsStore};
use burn::tensor::Device;
use hopfield::et::{EtConfig, HopfieldKind, ImageEnergyTransformer, ImageEtConfig};
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};
use crate::et_train::{EtTrainConfig, Normalization};

/// The format tag written into every `config.json`.
pub const FORMAT: &str = "hopfield-et-image/1";

/// Everything besides the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointMeta {
    /// Always [`FORMAT`].
    pub format: String,
    /// C, H, W.
    pub image: [usize; 3],
    /// Patch side.
    pub patch: usize,
    /// D, H, Y, M.
    pub dim: usize,
    /// Attention heads.
    pub heads: usize,
    /// Dimension per head.
    pub head_dim: usize,
    /// Hopfield memories.
    pub memories: usize,
    /// Attention β.
    pub beta: f64,
    /// B ≠ C exclusion.
    pub exclude_self: bool,
    /// `None`: ReLU² memories; `Some(β)`: softmax memories.
    pub hopfield_softmax_beta: Option<f64>,
    /// Layer-norm ε.
    pub eps: f64,
    /// T.
    pub steps: usize,
    /// α.
    pub step_size: f64,
    /// Fraction of patches masked.
    pub mask_fraction: f64,
    /// Share of masked patches replaced by MASK.
    pub replaced_share: f64,
    /// Seed of the run.
    pub seed: u64,
    /// Per-channel mean of the normalisation.
    pub norm_mean: Vec<f32>,
    /// Per-channel standard deviation of the normalisation.
    pub norm_std: Vec<f32>,
    /// Epochs trained.
    pub epoch: usize,
    /// The data source trained on.
    pub data: String,
    /// The full training configuration, for the record.
    pub lr: f64,
    /// Images per step.
    pub batch_size: usize,
}

impl CheckpointMeta {
    /// The record of a run.
    pub fn new(cfg: &EtTrainConfig, norm: &Normalization, epoch: usize, data: &str) -> Self {
        let m = &cfg.model;
        CheckpointMeta {
            format: FORMAT.into(),
            image: [m.image.0, m.image.1, m.image.2],
            patch: m.patch,
            dim: m.et.dim,
            heads: m.et.heads,
            head_dim: m.et.head_dim,
            memories: m.et.memories,
            beta: m.et.attention_beta(),
            exclude_self: m.et.exclude_self,
            hopfield_softmax_beta: match m.et.hopfield {
                HopfieldKind::Relu2 => None,
                HopfieldKind::Softmax { beta } => Some(beta),
            },
            eps: m.et.eps,
            steps: cfg.steps,
            step_size: cfg.step_size,
            mask_fraction: cfg.mask_fraction,
            replaced_share: cfg.replaced_share,
            seed: cfg.seed,
            norm_mean: norm.mean.clone(),
            norm_std: norm.std.clone(),
            epoch,
            data: data.into(),
            lr: cfg.lr,
            batch_size: cfg.batch_size,
        }
    }

    /// The model configuration it describes.
    pub fn model_config(&self) -> ImageEtConfig {
        let mut et = EtConfig::new(self.dim, self.heads, self.head_dim, self.memories);
        et.beta = Some(self.beta);
        et.exclude_self = self.exclude_self;
        et.hopfield = match self.hopfield_softmax_beta {
            None => HopfieldKind::Relu2,
            Some(beta) => HopfieldKind::Softmax { beta },
        };
        et.eps = self.eps;
        ImageEtConfig::new((self.image[0], self.image[1], self.image[2]), self.patch, et)
    }

    /// The training configuration it describes (for evaluation: T, α, masks).
    pub fn train_config(&self) -> EtTrainConfig {
        let mut c = EtTrainConfig::new(self.model_config());
        c.steps = self.steps;
        c.step_size = self.step_size;
        c.mask_fraction = self.mask_fraction;
        c.replaced_share = self.replaced_share;
        c.seed = self.seed;
        c.lr = self.lr;
        c.batch_size = self.batch_size;
        c
    }

    /// The normalisation it was trained with.
    pub fn normalization(&self) -> Normalization {
        Normalization { mean: self.norm_mean.clone(), std: self.norm_std.clone() }
    }
}

fn werr(path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::Write { path: path.to_path_buf(), problem: e.to_string() }
}

fn bad(path: &Path, problem: impl std::fmt::Display) -> TrainError {
    TrainError::Invalid {
        name: "checkpoint",
        value: path.display().to_string(),
        expected: format!("a hopfield Energy Transformer checkpoint folder: {problem}"),
    }
}

/// Writes `model` and `meta` into the folder `dir`, atomically (temporary folder + rename).
pub fn save(dir: &Path, model: &ImageEnergyTransformer, meta: &CheckpointMeta) -> Result<()> {
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| werr(parent, e))?;
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "checkpoint".into());
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| werr(&tmp, e))?;
    let weights = tmp.join("model.safetensors");
    let mut store = SafetensorsStore::from_file(weights.clone()).overwrite(true);
    model.save_into(&mut store).map_err(|e| werr(&weights, e))?;
    let json = serde_json::to_string_pretty(meta).map_err(|e| werr(&tmp, e))?;
    let cfg = tmp.join("config.json");
    std::fs::write(&cfg, json).map_err(|e| werr(&cfg, e))?;
    for f in [&weights, &cfg] {
        std::fs::File::open(f).and_then(|f| f.sync_all()).map_err(|e| werr(f, e))?;
    }
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    if dir.exists() {
        std::fs::rename(dir, &old).map_err(|e| werr(dir, e))?;
    }
    std::fs::rename(&tmp, dir).map_err(|e| werr(dir, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// Reads a checkpoint folder; every problem is an error naming the file.
pub fn load(dir: &Path, device: &Device) -> Result<(ImageEnergyTransformer, CheckpointMeta)> {
    let cfg_path = dir.join("config.json");
    let text = std::fs::read_to_string(&cfg_path).map_err(|e| bad(&cfg_path, format!("cannot read it: {e}")))?;
    let meta: CheckpointMeta =
        serde_json::from_str(&text).map_err(|e| bad(&cfg_path, format!("not a checkpoint configuration: {e}")))?;
    if meta.format != FORMAT {
        return Err(bad(&cfg_path, format!("format '{}', expected '{FORMAT}'", meta.format)));
    }
    let mut model = meta.model_config().init(meta.seed, device)?;
    let weights: PathBuf = dir.join("model.safetensors");
    if !weights.is_file() {
        return Err(bad(&weights, "the weights file is missing"));
    }
    let mut store = SafetensorsStore::from_file(weights.clone());
    let applied = model.load_from(&mut store).map_err(|e| bad(&weights, format!("cannot read the weights: {e}")))?;
    if !applied.missing.is_empty() || !applied.errors.is_empty() {
        let missing: Vec<&str> = applied.missing.iter().map(|m| m.0.as_str()).collect();
        return Err(bad(
            &weights,
            format!("tensors missing {missing:?}, errors {:?} (does it match config.json?)", applied.errors),
        ));
    }
    Ok((model, meta))
}
