//! The masked-image-reconstruction task of the Energy Transformer: AdamW with warm-up + cosine
//! learning rate and gradient clipping, backpropagation through the T descent steps, evaluation
//! on the test split next to two baselines computed on the same masks. It runs in the one
//! training loop ([`crate::trainer`]); its checkpoints are in [`checkpoint`].

pub mod checkpoint;
mod config;

pub use config::EtTrainConfig;

use std::path::Path;

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use hopfield::et::{masked_patch_mse, patchify, Descent, ImageEnergyTransformer, ImageEtConfig, MaskSpec, Observe};
use hopfield_data::batch::Normalization;
use hopfield_data::Dataset;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::checkpoint::with_stable_ids;
use crate::error::{invalid, Result, TrainError};
use crate::parallel::{DataParallel, Shard, ShardLoss};
use crate::trainer::{
    scalar, EpochFigures, EpochSummary, Event, Iteration, Optimizer, Plan, StepResult, Task, Trainer,
};
use checkpoint::{CheckpointMeta, Resume};

/// Test-split masked-patch MSE next to its two baselines on the same masks.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct EvalReport {
    /// The model after T steps.
    pub mse: f64,
    /// The same model with T = 0 (no dynamics).
    pub mse_no_dynamics: f64,
    /// Predicting each position's mean training patch.
    pub mse_mean_patch: f64,
}

/// One epoch's figures.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
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

/// The error for a masked-patch MSE that came out `value` (NaN or ∞) on the images `chunk` of the
/// data set `name`, traced: the first descent step whose energy is not finite, and the model's
/// largest weight.
fn not_finite_eval(
    model: &ImageEnergyTransformer,
    value: f64,
    (chunk, name): (&[usize], &str),
    images: Tensor<4>,
    descent: &Descent,
) -> TrainError {
    let n = model.patches();
    let b = chunk.len();
    let none = Tensor::<2>::zeros([b, n], &images.device());
    let step = model.forward(images, none, descent, Observe::Energy).ok().and_then(|r| {
        r.energy.iter().position(|e| {
            e.clone().into_data().try_into_vec_as::<f32>().map_or(true, |v| v.iter().any(|x| !x.is_finite()))
        })
    });
    let energy = match step {
        Some(0) => "the energy of the encoded tokens is already not finite (before any descent step)".to_string(),
        Some(t) => format!("the descent's energy is first not finite after step {t} of {}", descent.steps),
        None => "the descent's energies stay finite, so the decoder overflows".to_string(),
    };
    let weight = crate::checkpoint::largest_parameter(model)
        .map(|(path, v)| format!("; the largest weight is {v:e}, in {path}"))
        .unwrap_or_default();
    TrainError::NotFinite {
        what: format!(
            "the masked-patch MSE (T = {}) of images {}–{} of {name}",
            descent.steps,
            chunk.first().copied().unwrap_or(0),
            chunk.last().copied().unwrap_or(0)
        ),
        value,
        why: format!("{energy}{weight} (weights this large overflow float32: is the checkpoint damaged?)"),
    }
}

/// Evaluates `model` (without autodiff) on `ds` with masks drawn by `spec` from `seed`.
pub fn evaluate(
    model: &ImageEnergyTransformer,
    ds: &Dataset,
    norm: &Normalization,
    mean_patch: &Tensor<2>,
    cfg: &EtTrainConfig,
    (spec, seed): (MaskSpec, u64),
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
        let (with, without) = (
            scalar(masked_patch_mse(with, target.clone(), scored.clone())),
            scalar(masked_patch_mse(without, target.clone(), scored.clone())),
        );
        for (value, steps) in [(with, descent.steps), (without, 0)] {
            if !value.is_finite() {
                let images = image_batch(norm, ds, chunk, device);
                return Err(not_finite_eval(model, value, (chunk, ds.name()), images, &descent.with_steps(steps)));
            }
        }
        a += with * w as f64;
        b += without * w as f64;
        c += scalar(masked_patch_mse(mean, target, scored)) * w as f64;
        count += w;
    }
    let k = count as f64;
    Ok(EvalReport { mse: a / k, mse_no_dynamics: b / k, mse_mean_patch: c / k })
}

/// The masked-patch MSE of `model` (its descent from `cfg`) on normalised images given as host
/// values, with their masks ([B, N] each), computed on `device`.
fn masked_loss(
    model: &ImageEnergyTransformer,
    cfg: &ImageEtConfig,
    images: Vec<f32>,
    scored: Vec<f32>,
    replaced: Vec<f32>,
    device: &Device,
) -> Result<Tensor<1>> {
    let ((c, h, w), n) = (cfg.image, cfg.patches());
    let b = scored.len() / n.max(1);
    let images = Tensor::<4>::from_data(TensorData::new(images, [b, c, h, w]), device);
    let scored = Tensor::<2>::from_data(TensorData::new(scored, [b, n]), device);
    let replaced = Tensor::<2>::from_data(TensorData::new(replaced, [b, n]), device);
    let target = model.patchify(images.clone());
    let pred = model.forward(images, replaced, &cfg.descent, Observe::Nothing)?.patches;
    Ok(masked_patch_mse(pred, target, scored))
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
    parallel: Option<DataParallel<ImageEnergyTransformer>>,
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
            parallel: None,
        })
    }

    /// Trains data-parallel on `devices` (the first must be the task's device: evaluation runs
    /// there, and there the gradients are summed and the optimiser steps): each batch is split
    /// into one contiguous shard per device (see [`crate::parallel`]). One device: no change.
    ///
    /// # Errors
    /// No device, or a first device other than the task's.
    pub fn with_devices(mut self, devices: &[Device]) -> Result<Self> {
        match devices.first() {
            None => return Err(invalid("devices", "none", "at least one device")),
            Some(first) if *first != self.device => {
                return Err(invalid(
                    "devices",
                    format!("{first:?} first"),
                    format!("the task's device ({:?}) first", self.device),
                ))
            }
            Some(_) => {}
        }
        self.parallel = match devices.len() {
            1 => None,
            _ => Some(DataParallel::new(&devices.iter().map(|d| d.clone().autodiff()).collect::<Vec<_>>())?),
        };
        Ok(self)
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
    /// burn restores the optimiser state on its default device (the first step moves it to the
    /// parameters'); with burn's `cuda` feature that default is GPU 0, so a program that resumes on
    /// the CPU of such a build sets `BURN_DEVICE=flex` first, as the `hopfield` binary does.
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

impl MaskedImage<'_> {
    /// One optimiser step with the batch split over the devices: each shard's masked-patch MSE
    /// weighted by its share of the batch, the gradients summed on the main device.
    fn parallel_step(
        &self,
        parallel: &DataParallel<ImageEnergyTransformer>,
        mut state: EtState,
        batch: &[usize],
        (scored, replaced): (Vec<f32>, Vec<f32>),
        at: Iteration,
    ) -> Result<(EtState, StepResult)> {
        let n = self.cfg.model.patches();
        let shards = parallel
            .split(batch.len())
            .into_iter()
            .enumerate()
            .map(|(index, r)| {
                let device = parallel.devices()[index].clone();
                let images = self.norm.values(self.train, &batch[r.clone()]);
                let (scored, replaced) =
                    (scored[r.start * n..r.end * n].to_vec(), replaced[r.start * n..r.end * n].to_vec());
                let (share, cfg) = (r.len() as f64 / batch.len() as f64, self.cfg.model.clone());
                let loss: ShardLoss<ImageEnergyTransformer> = Box::new(move |model: &ImageEnergyTransformer| {
                    let loss =
                        masked_loss(model, &cfg, images, scored, replaced, &device).map_err(|e| e.to_string())?;
                    Ok(loss * share)
                });
                Shard { index, loss }
            })
            .collect();
        let (grads, value) = parallel.gradients(&state.model, shards)?;
        if value.is_finite() {
            state.model = state.optim.apply(state.model, grads, at);
        }
        Ok((state, StepResult { loss: value, wrong: 0 }))
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
        let (scored, replaced) = self.spec.sample(rng, batch.len(), self.cfg.model.patches());
        if let Some(parallel) = &self.parallel {
            return self.parallel_step(parallel, state, batch, (scored, replaced), at);
        }
        let images = self.norm.values(self.train, batch);
        let loss = masked_loss(&state.model, &self.cfg.model, images, scored, replaced, &self.autodiff)?;
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
            (self.spec, self.cfg.eval_seed()),
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
