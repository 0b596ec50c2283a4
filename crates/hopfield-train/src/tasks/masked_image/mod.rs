//! The masked-image-reconstruction task of the Energy Transformer: AdamW with warm-up + cosine
//! learning rate and gradient clipping, backpropagation through the T descent steps, evaluation
//! on the test split next to two baselines computed on the same masks. It runs in the one
//! training loop ([`crate::trainer`]); its checkpoints are in [`checkpoint`].

pub mod checkpoint;

use std::path::Path;

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use hopfield::et::{masked_patch_mse, patchify, Descent, ImageEnergyTransformer, ImageEtConfig, MaskSpec, Observe};
use hopfield_data::batch::Normalization;
use hopfield_data::Dataset;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::checkpoint::with_stable_ids;
use crate::error::{invalid, positive, Result};
use crate::trainer::{
    scalar, EpochFigures, EpochSummary, Event, Iteration, Optimizer, Plan, Schedule, StepResult, Task, Trainer,
};
use checkpoint::{CheckpointMeta, Resume};

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

impl EtTrainConfig {
    /// T = 12, α = 0.1, AdamW (β 0.9/0.99, weight decay 0.05), clip 1.0, 90/10 masking of half
    /// the patches, batch 32, lr 1e-3 with 10% warm-up.
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

/// Test-split masked-patch MSE next to its two baselines on the same masks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalReport {
    /// The model after T steps.
    pub mse: f64,
    /// The same model with T = 0 (no dynamics).
    pub mse_no_dynamics: f64,
    /// Predicting each position's mean training patch.
    pub mse_mean_patch: f64,
}

/// One epoch's figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochMetrics {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss over the epoch.
    pub train_loss: f64,
    /// Evaluation on the test split.
    pub eval: EvalReport,
    /// Training throughput.
    pub images_per_second: f64,
}

impl EpochFigures for EpochMetrics {
    fn epoch(&self) -> usize {
        self.epoch
    }
    fn csv_header() -> &'static str {
        "epoch,train_loss,test_mse,test_mse_mean_patch,test_mse_no_dynamics,images_per_second"
    }
    fn csv_row(&self) -> String {
        let e = &self.eval;
        format!(
            "{},{:.6},{:.6},{:.6},{:.6},{:.1}",
            self.epoch, self.train_loss, e.mse, e.mse_mean_patch, e.mse_no_dynamics, self.images_per_second
        )
    }
}

/// The patch side for images of `height` × `width` when none is given: 7 (MNIST's 28 × 28 in 16
/// patches) where it divides both, else the largest divisor of both below 7 (4 for CIFAR's 32 × 32
/// and the digits' 8 × 8).
pub fn default_patch(height: usize, width: usize) -> usize {
    (1..=7).rev().find(|p| height.is_multiple_of(*p) && width.is_multiple_of(*p)).unwrap_or(1)
}

/// The memory a batch of `batch` images needs, in bytes, in checked arithmetic (`None` beyond
/// counting): the weights (four copies when `training`: weights, gradients and AdamW's two
/// moments) and the tensors of the T steps (kept for the backward pass when training).
pub fn memory_needed(model: &ImageEtConfig, batch: usize, training: bool) -> Option<u128> {
    use crate::budget::product;
    let et = &model.et;
    let tokens = (model.patches() as u128).checked_add(1)?;
    let (d, hy, m) = (et.dim as u128, product(&[et.heads as u128, et.head_dim as u128])?, et.memories as u128);
    // Per token and step: x, g, the step (3 D), Q, K, ΣSK, ΣSQ (4 HY), logits and weights
    // (2 H N), hidden and activation (2 M).
    let per_token = product(&[3, d])?
        .checked_add(product(&[4, hy])?)?
        .checked_add(product(&[2, et.heads as u128, tokens])?)?
        .checked_add(product(&[2, m])?)?;
    let steps = if training { (model.descent.steps as u128).checked_add(1)? } else { 2 };
    let activations = product(&[batch as u128, tokens, per_token, steps, 4, 2])?;
    let weights = product(&[model.parameter_count()?, 4, if training { 4 } else { 1 }])?;
    weights.checked_add(activations)
}

/// Images `idx` of `ds`, normalised, as [B, C, H, W] on `device`.
pub fn image_batch(norm: &Normalization, ds: &Dataset, idx: &[usize], device: &Device) -> Tensor<4> {
    let shape = [idx.len(), ds.channels(), ds.height(), ds.width()];
    Tensor::from_data(TensorData::new(norm.values(ds, idx), shape), device)
}

/// The mean normalised training patch at each position, for `patch`×`patch` patches: [N, C·p·p].
pub fn mean_patches(patch: usize, ds: &Dataset, norm: &Normalization, device: &Device) -> Tensor<2> {
    let idx: Vec<usize> = (0..ds.len()).collect();
    let mut sum: Option<Tensor<2>> = None;
    for chunk in idx.chunks(256) {
        let p = patchify(image_batch(norm, ds, chunk, device), patch).sum_dim(0).squeeze_dim::<2>(0);
        sum = Some(match sum {
            Some(s) => s + p,
            None => p,
        });
    }
    sum.expect("a data set with images") / ds.len() as f64
}

/// Evaluates `model` (without autodiff) on `ds` with masks drawn from `seed`.
#[allow(clippy::too_many_arguments)]
pub fn evaluate(
    model: &ImageEnergyTransformer,
    ds: &Dataset,
    norm: &Normalization,
    mean_patch: &Tensor<2>,
    cfg: &EtTrainConfig,
    spec: MaskSpec,
    seed: u64,
    device: &Device,
) -> Result<EvalReport> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = model.patches();
    let descent: Descent = cfg.model.descent;
    let (mut a, mut b, mut c, mut count) = (0.0, 0.0, 0.0, 0usize);
    let idx: Vec<usize> = (0..ds.len()).collect();
    for chunk in idx.chunks(cfg.batch_size.max(64)) {
        let images = image_batch(norm, ds, chunk, device);
        let target = model.patchify(images.clone());
        let (scored, replaced) = spec.sample(&mut rng, chunk.len(), n);
        let scored = Tensor::<2>::from_data(TensorData::new(scored, [chunk.len(), n]), device);
        let replaced = Tensor::<2>::from_data(TensorData::new(replaced, [chunk.len(), n]), device);
        let with = model.forward(images.clone(), replaced.clone(), &descent, Observe::Nothing)?.patches;
        let without = model.forward(images, replaced, &descent.with_steps(0), Observe::Nothing)?.patches;
        let [bsz, np, pe] = target.dims();
        let mean = mean_patch.clone().unsqueeze_dim::<3>(0).expand([bsz, np, pe]);
        let w = chunk.len();
        a += scalar(masked_patch_mse(with, target.clone(), scored.clone())) * w as f64;
        b += scalar(masked_patch_mse(without, target.clone(), scored.clone())) * w as f64;
        c += scalar(masked_patch_mse(mean, target, scored)) * w as f64;
        count += w;
    }
    let k = count as f64;
    Ok(EvalReport { mse: a / k, mse_no_dynamics: b / k, mse_mean_patch: c / k })
}

/// The shuffling and masking generator of one epoch: a function of the seed and the epoch only,
/// so a resumed run draws exactly what the uninterrupted run would have.
fn epoch_rng(seed: u64, epoch: usize) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64((seed ^ 0x7ea1).wrapping_add((epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)))
}

/// The model and AdamW's state while training.
pub struct EtState {
    /// The model, on the autodiff device.
    pub model: ImageEnergyTransformer,
    /// AdamW with the run's schedule.
    pub optim: Optimizer,
}

/// Masked image reconstruction on a data set's train and test splits.
pub struct MaskedImage<'a> {
    train: &'a Dataset,
    test: &'a Dataset,
    cfg: EtTrainConfig,
    spec: MaskSpec,
    norm: Normalization,
    mean_patch: Tensor<2>,
    data: String,
    device: Device,
    autodiff: Device,
}

impl<'a> MaskedImage<'a> {
    /// The task on `train` and `test` (named `data` in checkpoints), computed on `device` (training
    /// runs on its autodiff twin).
    ///
    /// # Errors
    /// Invalid settings, an empty split, images of another shape than the model's.
    pub fn new(
        train: &'a Dataset,
        test: &'a Dataset,
        cfg: &EtTrainConfig,
        data: &str,
        device: &Device,
    ) -> Result<Self> {
        let spec = cfg.validate()?;
        let (c, h, w) = cfg.model.image;
        for ds in [train, test] {
            if (ds.channels(), ds.height(), ds.width()) != (c, h, w) {
                return Err(invalid(
                    "data",
                    format!("{} ({}×{}×{})", ds.name(), ds.channels(), ds.height(), ds.width()),
                    format!("images of {c}×{h}×{w}, as the model expects"),
                ));
            }
            if ds.is_empty() {
                return Err(invalid("data", ds.name(), "the data set holds no images"));
            }
        }
        crate::budget::check(
            &format!(
                "training this model (D = {}, {} heads × {}, M = {}, T = {}) in batches of {}",
                cfg.model.et.dim,
                cfg.model.et.heads,
                cfg.model.et.head_dim,
                cfg.model.et.memories,
                cfg.model.descent.steps,
                cfg.batch_size
            ),
            memory_needed(&cfg.model, cfg.batch_size, true),
        )?;
        let norm = Normalization::of(train);
        let mean_patch = mean_patches(cfg.model.patch, train, &norm, device);
        Ok(MaskedImage {
            train,
            test,
            cfg: cfg.clone(),
            spec,
            norm,
            mean_patch,
            data: data.into(),
            device: device.clone(),
            autodiff: device.clone().autodiff(),
        })
    }

    /// The normalisation the run uses (the training split's).
    pub fn normalization(&self) -> &Normalization {
        &self.norm
    }

    /// The masks of scored and replaced patches.
    pub fn mask_spec(&self) -> MaskSpec {
        self.spec
    }

    /// Trains from scratch, or continues `resume` up to `cfg.epochs`, with `trainer`'s checkpoint
    /// and metrics; returns the trained model (on the plain device) and the figures of the epochs
    /// run here. A resumed run gives bit for bit the weights of an uninterrupted one.
    ///
    /// # Errors
    /// Nothing left to train, a loss that becomes NaN/∞ (naming the iteration), outputs that
    /// cannot be written.
    pub fn train(
        &self,
        resume: Option<Resume>,
        trainer: &Trainer,
        on_event: impl FnMut(Event<'_, EpochMetrics>),
    ) -> Result<(ImageEnergyTransformer, Vec<EpochMetrics>)> {
        let mut optim = Optimizer::adamw((0.9, 0.99), self.cfg.weight_decay, self.cfg.clip, self.cfg.schedule());
        let (model, done) = match resume {
            None => (with_stable_ids(self.cfg.model.init(self.cfg.seed, &self.autodiff)?), 0),
            Some(r) => {
                optim.inner = optim.inner.load_record(r.optimizer);
                (with_stable_ids(r.model), r.epochs_done)
            }
        };
        let (state, history) = trainer.run(self, EtState { model, optim }, done, on_event)?;
        Ok((state.model.valid(), history))
    }
}

impl Task for MaskedImage<'_> {
    type State = EtState;
    type Epoch = EpochMetrics;

    fn plan(&self) -> Plan {
        Plan { examples: self.train.len(), batch_size: self.cfg.batch_size, epochs: self.cfg.epochs }
    }
    fn epoch_rng(&self, _: &EtState, epoch: usize) -> ChaCha8Rng {
        epoch_rng(self.cfg.seed, epoch)
    }

    fn step(
        &self,
        mut state: EtState,
        batch: &[usize],
        rng: &mut ChaCha8Rng,
        at: Iteration,
    ) -> Result<(EtState, StepResult)> {
        let (device, n) = (&self.autodiff, self.cfg.model.patches());
        let images = image_batch(&self.norm, self.train, batch, device);
        let target = state.model.patchify(images.clone());
        let (scored, replaced) = self.spec.sample(rng, batch.len(), n);
        let scored = Tensor::<2>::from_data(TensorData::new(scored, [batch.len(), n]), device);
        let replaced = Tensor::<2>::from_data(TensorData::new(replaced, [batch.len(), n]), device);
        let pred = state.model.forward(images, replaced, &self.cfg.model.descent, Observe::Nothing)?.patches;
        let loss = masked_patch_mse(pred, target, scored);
        let value;
        (state.model, value) = state.optim.step_if_finite(state.model, loss, at);
        Ok((state, StepResult { loss: value, wrong: 0 }))
    }

    fn finish_epoch(&self, state: &mut EtState, s: EpochSummary, _: ChaCha8Rng) -> Result<EpochMetrics> {
        let valid = state.model.valid();
        let eval = evaluate(
            &valid,
            self.test,
            &self.norm,
            &self.mean_patch,
            &self.cfg,
            self.spec,
            self.cfg.eval_seed(),
            &self.device,
        )?;
        Ok(EpochMetrics {
            epoch: s.epoch,
            train_loss: s.loss_sum / s.batches as f64,
            eval,
            images_per_second: s.examples as f64 / s.seconds,
        })
    }

    fn save(&self, state: &EtState, figures: &EpochMetrics, dir: &Path) -> Result<()> {
        let meta = CheckpointMeta::new(&self.cfg, &self.norm, figures.epoch, &self.data);
        checkpoint::save(dir, &state.model.valid(), &meta, Some(&state.optim.inner))
    }
}
