//! The settings of a masked-image training run and their checks.

use hopfield::et::{Descent, ImageEtConfig, MaskSpec};

use crate::error::{invalid, positive, Result};
use crate::trainer::Schedule;

/// Settings of a training run, with the defaults of [`EtTrainConfig::new`]. The descent (T, α)
/// is the model's, `model.descent`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(from = "EtTrainConfigFile")]
pub struct EtTrainConfig {
    /// The model, its descent included.
    pub model: ImageEtConfig,
    /// Passes over the training set.
    pub epochs: usize,
    /// Images per optimiser step.
    pub batch_size: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Warm-up iterations (linear from lr/1000 to lr), then cosine down to lr/1000.
    pub warmup: usize,
    /// AdamW weight decay.
    pub weight_decay: f64,
    /// Gradient clipping by global norm.
    pub clip: f64,
    /// Fraction of patches scored, and the share of those replaced by MASK.
    pub mask_fraction: f64,
    /// Share of scored patches that get the MASK token (the rest stay unchanged).
    pub replaced_share: f64,
    /// Seed of initialisation, shuffling and masks.
    pub seed: u64,
}

impl Default for EtTrainConfig {
    /// The command line's defaults (`hopfield et train`): a small model for 28×28 images (patches
    /// of 7, D = 64, 4 heads of 16, 128 memories, T = 6, α = 0.1), 5 epochs, batches of 32, peak lr
    /// 4e-3 after 10 warm-up steps, and [`EtTrainConfig::new`]'s other settings.
    fn default() -> Self {
        let mut model = ImageEtConfig::new((1, 28, 28), 7, hopfield::et::EtConfig::new(64, 4, 16, 128));
        model.descent = Descent::new(6, 0.1);
        EtTrainConfig { epochs: 5, lr: 4e-3, warmup: 10, ..EtTrainConfig::new(model) }
    }
}

impl EtTrainConfig {
    /// Training settings for `model` (its descent included): 1 epoch, batches of 32, AdamW (β
    /// 0.9/0.99, weight decay 0.05) at lr 1e-3 without warm-up then cosine decay, clipping at 1.0,
    /// half the patches masked and scored (90% of them replaced by MASK), seed 0.
    pub fn new(model: ImageEtConfig) -> Self {
        EtTrainConfig {
            model,
            epochs: 1,
            batch_size: 32,
            lr: 1e-3,
            warmup: 0,
            weight_decay: 0.05,
            clip: 1.0,
            mask_fraction: 0.5,
            replaced_share: 0.9,
            seed: 0,
        }
    }

    /// Checks every setting.
    pub fn validate(&self) -> Result<MaskSpec> {
        // The settings that do not depend on the data first, so that a shape problem of the
        // images does not hide them.
        if self.model.descent.steps == 0 {
            return Err(invalid("steps", 0, "training needs at least one descent step (T ≥ 1)"));
        }
        if self.epochs == 0 || self.batch_size == 0 {
            return Err(invalid(
                "epochs/batch-size",
                format!("{}/{}", self.epochs, self.batch_size),
                "both at least 1",
            ));
        }
        positive("lr", self.lr)?;
        positive("clip", self.clip)?;
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return Err(invalid("weight-decay", self.weight_decay, "must be zero or positive"));
        }
        self.model.validate()?;
        Ok(MaskSpec::from_fraction(self.mask_fraction, self.model.patches(), self.replaced_share)?)
    }

    /// The seed of the evaluation masks (the same at every epoch and in `et eval`).
    pub fn eval_seed(&self) -> u64 {
        self.seed ^ 0xe7a1
    }

    /// The learning rate over the run: linear warm-up, then cosine to lr/1000.
    pub fn schedule(&self) -> Schedule {
        Schedule::WarmupCosine { peak: self.lr, warmup: self.warmup }
    }

    /// The learning rate at iteration `it` of `total`.
    pub fn lr_at(&self, it: usize, total: usize) -> f64 {
        self.schedule().at(it, total)
    }
}

/// `config.json` as written before the descent moved into the model's configuration: `steps` and
/// `step_size` beside `model`. Both forms load; the old fields win when present.
#[derive(serde::Deserialize)]
struct EtTrainConfigFile {
    model: ImageEtConfig,
    #[serde(default)]
    steps: Option<usize>,
    #[serde(default)]
    step_size: Option<f64>,
    epochs: usize,
    batch_size: usize,
    lr: f64,
    warmup: usize,
    weight_decay: f64,
    clip: f64,
    mask_fraction: f64,
    replaced_share: f64,
    seed: u64,
}

impl From<EtTrainConfigFile> for EtTrainConfig {
    fn from(f: EtTrainConfigFile) -> Self {
        let mut model = f.model;
        let descent = model.descent;
        model.descent = Descent::new(f.steps.unwrap_or(descent.steps), f.step_size.unwrap_or(descent.step_size));
        EtTrainConfig {
            model,
            epochs: f.epochs,
            batch_size: f.batch_size,
            lr: f.lr,
            warmup: f.warmup,
            weight_decay: f.weight_decay,
            clip: f.clip,
            mask_fraction: f.mask_fraction,
            replaced_share: f.replaced_share,
            seed: f.seed,
        }
    }
}
