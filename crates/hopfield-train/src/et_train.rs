//! Training the image Energy Transformer for masked reconstruction: AdamW with warm-up + cosine
//! learning rate and gradient clipping, backpropagation through the T descent steps, evaluation
//! on the test split next to two baselines computed on the same masks.

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer, OptimizerRecord};
use burn::tensor::{Device, Tensor, TensorData};
use hopfield::et::{masked_patch_mse, ImageEnergyTransformer, ImageEtConfig, MaskSpec};
use hopfield_data::Dataset;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{invalid, positive, Result, TrainError};

/// Per-channel normalisation x ← (pixel − mean) / std, pixels in [0, 1].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Normalization {
    /// Mean per channel.
    pub mean: Vec<f32>,
    /// Standard deviation per channel.
    pub std: Vec<f32>,
}

impl Normalization {
    /// The training set's own per-channel mean and standard deviation.
    pub fn of(ds: &Dataset) -> Self {
        let (c, hw) = (ds.channels(), ds.height() * ds.width());
        let (mut s, mut s2) = (vec![0f64; c], vec![0f64; c]);
        for i in 0..ds.len() {
            let img = ds.image(i);
            for ch in 0..c {
                for &v in &img[ch * hw..(ch + 1) * hw] {
                    s[ch] += v as f64;
                    s2[ch] += (v as f64) * (v as f64);
                }
            }
        }
        let n = (ds.len() * hw) as f64;
        let mean: Vec<f64> = s.iter().map(|v| v / n).collect();
        let std = s2.iter().zip(&mean).map(|(v, m)| ((v / n - m * m).max(1e-12)).sqrt() as f32).collect();
        Normalization { mean: mean.into_iter().map(|m| m as f32).collect(), std }
    }

    /// Images `idx` of `ds`, normalised, as [B, C, H, W].
    pub fn batch(&self, ds: &Dataset, idx: &[usize], device: &Device) -> Tensor<4> {
        let (c, h, w) = (ds.channels(), ds.height(), ds.width());
        let hw = h * w;
        let mut v = Vec::with_capacity(idx.len() * c * hw);
        for &i in idx {
            let img = ds.image(i);
            for ch in 0..c {
                v.extend(img[ch * hw..(ch + 1) * hw].iter().map(|p| (p - self.mean[ch]) / self.std[ch]));
            }
        }
        Tensor::from_data(TensorData::new(v, [idx.len(), c, h, w]), device)
    }
}

/// Settings of a training run, with the defaults of [`EtTrainConfig::new`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EtTrainConfig {
    /// The model.
    pub model: ImageEtConfig,
    /// T, descent steps.
    pub steps: usize,
    /// α, descent step size.
    pub step_size: f64,
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
            steps: 12,
            step_size: 0.1,
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
        self.model.validate()?;
        if self.steps == 0 {
            return Err(invalid("steps", 0, "training needs at least one descent step (T ≥ 1)"));
        }
        if !(self.step_size > 0.0 && self.step_size.is_finite()) {
            return Err(invalid("alpha", self.step_size, "the step size must be positive and finite"));
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
        Ok(MaskSpec::from_fraction(self.mask_fraction, self.model.patches(), self.replaced_share)?)
    }

    /// The seed of the evaluation masks (the same at every epoch and in `et eval`).
    pub fn eval_seed(&self) -> u64 {
        self.seed ^ 0xe7a1
    }

    /// The learning rate at iteration `it` of `total`: linear warm-up, then cosine to lr/1000.
    pub fn lr_at(&self, it: usize, total: usize) -> f64 {
        let floor = self.lr * 1e-3;
        if it < self.warmup {
            return floor + (self.lr - floor) * (it + 1) as f64 / self.warmup as f64;
        }
        let span = total.saturating_sub(self.warmup).max(1) as f64;
        let t = ((it - self.warmup) as f64 / span).min(1.0);
        floor + 0.5 * (self.lr - floor) * (1.0 + (std::f64::consts::PI * t).cos())
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

/// The first value of a tensor as f64 (NaN if it cannot be read).
pub(crate) fn scalar(t: Tensor<1>) -> f64 {
    t.into_data().try_into_vec_as::<f64>().map(|v| v[0]).unwrap_or(f64::NAN)
}

/// The mean normalised training patch at each position: [N, C·p·p].
pub fn mean_patches(model: &ImageEnergyTransformer, ds: &Dataset, norm: &Normalization, device: &Device) -> Tensor<2> {
    let idx: Vec<usize> = (0..ds.len()).collect();
    let mut sum: Option<Tensor<2>> = None;
    for chunk in idx.chunks(256) {
        let p = model.patchify(norm.batch(ds, chunk, device)).sum_dim(0).squeeze_dim::<2>(0);
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
    let (mut a, mut b, mut c, mut count) = (0.0, 0.0, 0.0, 0usize);
    let idx: Vec<usize> = (0..ds.len()).collect();
    for chunk in idx.chunks(cfg.batch_size.max(64)) {
        let images = norm.batch(ds, chunk, device);
        let target = model.patchify(images.clone());
        let (scored, replaced) = spec.sample(&mut rng, chunk.len(), n);
        let scored = Tensor::<2>::from_data(TensorData::new(scored, [chunk.len(), n]), device);
        let replaced = Tensor::<2>::from_data(TensorData::new(replaced, [chunk.len(), n]), device);
        let with = model.forward(images.clone(), replaced.clone(), cfg.steps, cfg.step_size, false)?.patches;
        let without = model.forward(images, replaced, 0, cfg.step_size, false)?.patches;
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

/// What [`train`] reports while it runs.
#[derive(Clone, Copy)]
pub enum TrainEvent<'a> {
    /// One optimiser step finished.
    Batch {
        /// 1-based epoch.
        epoch: usize,
        /// Training images seen in this epoch.
        done: usize,
        /// Training images per epoch.
        total: usize,
        /// This batch's loss.
        loss: f64,
    },
    /// An epoch finished and was evaluated: its figures, the model after it (plain device), the
    /// optimiser's state and the normalisation the run uses, for checkpoints.
    Epoch(EpochMetrics, &'a ImageEnergyTransformer, &'a ModuleOptimizer, &'a Normalization),
}

/// A run to continue: the model and optimiser state after `epochs_done` epochs of the same
/// configuration (see [`crate::et_checkpoint::load_for_resume`]).
pub struct Resume {
    /// The model, on [`train_device`].
    pub model: ImageEnergyTransformer,
    /// AdamW's moments and step counts.
    pub optimizer: OptimizerRecord,
    /// Epochs already trained.
    pub epochs_done: usize,
}

/// The device training runs on: Flex with autodiff.
pub fn train_device() -> Device {
    Device::flex().autodiff()
}

struct Renumber(u64);

impl ModuleMapper for Renumber {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        self.0 += 1;
        let (_, value, mapper) = param.consume();
        Param::from_mapped_value(ParamId::from(self.0), value, mapper)
    }
}

/// Gives the model's parameters the ids 1, 2, … in the order the module visits them. The
/// optimiser keys its state by parameter id and safetensors keeps no ids, so this is what lets
/// optimiser state saved with one instance of the model apply to another loaded from the same
/// checkpoint.
pub fn with_stable_ids(model: ImageEnergyTransformer) -> ImageEnergyTransformer {
    model.map(&mut Renumber(0))
}

/// The shuffling and masking generator of one epoch: a function of the seed and the epoch only,
/// so a resumed run draws exactly what the uninterrupted run would have.
fn epoch_rng(seed: u64, epoch: usize) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64((seed ^ 0x7ea1).wrapping_add((epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)))
}

/// Trains from scratch, or continues `resume` up to `cfg.epochs`; calls `on_event` after each batch
/// and each epoch. Returns the trained model (on the plain device) and the figures of the epochs
/// run here. A resumed run gives bit for bit the weights of an uninterrupted one: each epoch's
/// shuffle and masks depend only on the seed and the epoch, and the optimiser state is restored.
///
/// # Errors
/// Invalid settings, images that do not fit the model, or a loss that becomes NaN/∞ (the error
/// names the iteration).
pub fn train(
    train: &Dataset,
    test: &Dataset,
    cfg: &EtTrainConfig,
    resume: Option<Resume>,
    mut on_event: impl FnMut(&TrainEvent),
) -> Result<(ImageEnergyTransformer, Vec<EpochMetrics>)> {
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
    let plain = Device::flex();
    let device = train_device();
    let norm = Normalization::of(train);
    let mut optim = AdamWConfig::new()
        .with_beta_1(0.9)
        .with_beta_2(0.99)
        .with_weight_decay(cfg.weight_decay as f32)
        .with_grad_clipping(Some(GradientClippingConfig::Norm(cfg.clip as f32)))
        .init();
    let (mut model, first) = match resume {
        None => (with_stable_ids(cfg.model.init(cfg.seed, &device)?), 1),
        Some(r) => {
            if r.epochs_done >= cfg.epochs {
                return Err(invalid(
                    "epochs",
                    cfg.epochs,
                    format!("more than the {} epochs the checkpoint has already trained", r.epochs_done),
                ));
            }
            optim = optim.load_record(r.optimizer);
            (with_stable_ids(r.model), r.epochs_done + 1)
        }
    };
    let n = cfg.model.patches();
    let per_epoch = train.len().div_ceil(cfg.batch_size);
    let total = per_epoch * cfg.epochs;
    let mut it = per_epoch * (first - 1);
    let mut metrics = Vec::new();
    let mean_patch = mean_patches(&model.valid(), train, &norm, &plain);
    for epoch in first..=cfg.epochs {
        let start = std::time::Instant::now();
        let mut rng = epoch_rng(cfg.seed, epoch);
        let mut order: Vec<usize> = (0..train.len()).collect();
        order.shuffle(&mut rng);
        let mut loss_sum = 0.0;
        let mut done = 0;
        for chunk in order.chunks(cfg.batch_size) {
            let images = norm.batch(train, chunk, &device);
            let target = model.patchify(images.clone());
            let (scored, replaced) = spec.sample(&mut rng, chunk.len(), n);
            let scored = Tensor::<2>::from_data(TensorData::new(scored, [chunk.len(), n]), &device);
            let replaced = Tensor::<2>::from_data(TensorData::new(replaced, [chunk.len(), n]), &device);
            let pred = model.forward(images, replaced, cfg.steps, cfg.step_size, false)?.patches;
            let loss = masked_patch_mse(pred, target, scored);
            let value = scalar(loss.clone().detach());
            if !value.is_finite() {
                return Err(TrainError::Invalid {
                    name: "loss",
                    value: value.to_string(),
                    expected: format!(
                        "a finite loss; it diverged at iteration {it} (epoch {epoch}): lower --lr or --alpha"
                    ),
                });
            }
            loss_sum += value;
            done += chunk.len();
            on_event(&TrainEvent::Batch { epoch, done, total: train.len(), loss: value });
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(cfg.lr_at(it, total), model, grads);
            it += 1;
        }
        let seconds = start.elapsed().as_secs_f64();
        let valid = model.valid();
        let eval = evaluate(&valid, test, &norm, &mean_patch, cfg, spec, cfg.eval_seed(), &plain)?;
        let m = EpochMetrics {
            epoch,
            train_loss: loss_sum / per_epoch as f64,
            eval,
            images_per_second: train.len() as f64 / seconds,
        };
        on_event(&TrainEvent::Epoch(m, &valid, &optim, &norm));
        metrics.push(m);
    }
    Ok((model.valid(), metrics))
}
