//! Timing of the image Energy Transformer: a forward pass (T steps + decoder + masked-patch MSE,
//! no autodiff) and a training step (the same under autodiff, backward through the T steps,
//! AdamW with clipping), on given or random inputs, for comparison with the JAX reference in
//! `bench/`.

use std::time::Instant;

use burn::module::Module;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use hopfield::et::{masked_patch_mse, Descent, ImageEnergyTransformer, Observe};

use crate::error::{invalid, Result};
use crate::trainer::scalar;

/// Inputs of one benchmark: normalised images and the 0/1 mask of masked (replaced and scored)
/// patches.
#[derive(Debug, Clone)]
pub struct EtBenchInputs {
    /// [B, C, H, W] values, row-major.
    pub images: Vec<f32>,
    /// B.
    pub batch: usize,
    /// [B, N] 0/1.
    pub mask: Vec<f32>,
    /// T and α.
    pub descent: Descent,
}

/// What [`bench_et`] measured.
#[derive(Debug, Clone)]
pub struct EtBenchReport {
    /// Median milliseconds of a forward pass with the loss.
    pub forward_ms: f64,
    /// Median milliseconds of a training step.
    pub train_step_ms: f64,
    /// The loss at the given weights (from the timed, non-recording forward pass).
    pub loss: f64,
    /// E(g(x_t)), t = 0..=T, of image 0 at the given weights.
    pub energies: Vec<f32>,
    /// Every timed forward, ms.
    pub forward_all: Vec<f64>,
    /// Every timed training step, ms.
    pub train_all: Vec<f64>,
    /// The reference GEMM, timed once after every forward pass (warm-ups included, untimed), ms:
    /// the machine's rate sampled over the same seconds as the forward passes.
    pub reference_all: Vec<f64>,
    /// Its GFLOP/s, from the median of `reference_all`.
    pub reference_gflops: f64,
    /// Its GFLOP/s in the fastest of `reference_all`: the rate the machine reached at best.
    pub reference_best_gflops: f64,
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[s.len() / 2]
}

/// Times `reps` forward passes and `reps` training steps (after `warmup` untimed ones of each)
/// of `model` (on `device`'s autodiff twin; the forward passes run on `device`).
pub fn bench_et(
    model: ImageEnergyTransformer,
    x: &EtBenchInputs,
    warmup: usize,
    reps: usize,
    device: &Device,
    reference: &mut ReferenceGemm,
) -> Result<EtBenchReport> {
    if reps == 0 {
        return Err(invalid("reps", 0, "at least 1"));
    }
    if x.descent.steps == 0 {
        return Err(invalid("steps", 0, "at least 1: the benchmark times the descent and reports its energies"));
    }
    if x.batch == 0 {
        return Err(invalid("batch", 0, "at least one image"));
    }
    let sizes = hopfield::et::ImageEtConfig { descent: x.descent, ..model.sizes() };
    crate::budget::check(
        &format!("timing this model on {} images with T = {}", x.batch, x.descent.steps),
        crate::tasks::masked_image::memory_needed(&sizes, x.batch, true),
    )?;
    let [c, h, w] = model.image;
    let n = model.patches();
    if x.images.len() != x.batch * c * h * w || x.mask.len() != x.batch * n {
        return Err(invalid(
            "bench inputs",
            format!("{} image values and {} mask values", x.images.len(), x.mask.len()),
            format!("B·{c}·{h}·{w} and B·{n} for B = {}", x.batch),
        ));
    }
    let plain = device.clone();
    let valid = model.valid();
    let images = |d: &Device| Tensor::<4>::from_data(TensorData::new(x.images.clone(), [x.batch, c, h, w]), d);
    let mask = |d: &Device| Tensor::<2>::from_data(TensorData::new(x.mask.clone(), [x.batch, n]), d);

    let forward = |record: bool| -> Result<(f64, Vec<f32>)> {
        let imgs = images(&plain);
        let target = valid.patchify(imgs.clone());
        let observe = if record { Observe::Energy } else { Observe::Nothing };
        let r = valid.forward(imgs, mask(&plain), &x.descent, observe)?;
        let loss = scalar(masked_patch_mse(r.patches, target, mask(&plain)));
        let e0 = r.energy.into_iter().map(|e| e.into_data().try_into_vec_as::<f32>().unwrap_or_default()[0]).collect();
        Ok((loss, e0))
    };
    // The loss from the path that training and the timings use (no energies recorded); the
    // energies from the recording path.
    let (loss, _) = forward(false)?;
    let (_, energies) = forward(true)?;
    let (mut forward_all, mut reference_all) = (Vec::new(), Vec::new());
    for i in 0..warmup + reps {
        let t = Instant::now();
        forward(false)?;
        let forward_ms = t.elapsed().as_secs_f64() * 1e3;
        let reference_ms = reference.time_once() * 1e3;
        if i >= warmup {
            forward_all.push(forward_ms);
            reference_all.push(reference_ms);
        }
    }

    let train_all = time_training(model, x, warmup + reps, device)?.split_off(warmup);
    Ok(EtBenchReport {
        forward_ms: median(&forward_all),
        train_step_ms: median(&train_all),
        loss,
        energies,
        forward_all,
        train_all,
        reference_gflops: reference.flops() / (median(&reference_all) / 1e3) / 1e9,
        reference_best_gflops: reference.flops()
            / (reference_all.iter().copied().fold(f64::INFINITY, f64::min) / 1e3)
            / 1e9,
        reference_all,
    })
}

/// Milliseconds of each of `runs` training steps of `model` on `device`'s autodiff twin (AdamW as
/// in training, each step waited for).
fn time_training(model: ImageEnergyTransformer, x: &EtBenchInputs, runs: usize, device: &Device) -> Result<Vec<f64>> {
    let [c, h, w] = model.image;
    let n = model.patches();
    let device = device.clone().autodiff();
    let images = || Tensor::<4>::from_data(TensorData::new(x.images.clone(), [x.batch, c, h, w]), &device);
    let mask = || Tensor::<2>::from_data(TensorData::new(x.mask.clone(), [x.batch, n]), &device);
    let mut model = model;
    let mut optim = AdamWConfig::new()
        .with_beta_1(0.9)
        .with_beta_2(0.99)
        .with_weight_decay(0.05)
        .with_grad_clipping(Some(GradientClippingConfig::Norm(1.0)))
        .init();
    let mut all = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let imgs = images();
        let target = model.patchify(imgs.clone());
        let pred = model.forward(imgs, mask(), &x.descent, Observe::Nothing)?.patches;
        let l = masked_patch_mse(pred, target, mask());
        let grads = GradientsParams::from_grads(l.backward(), &model);
        model = optim.step(1e-4, model, grads);
        // Wait for the update's values, as JAX's block_until_ready does.
        let _ = scalar(model.decoder_bias.val().sum());
        all.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok(all)
}

/// Floating-point operations of one descent (T steps) of B items of N tokens, counting 2 per
/// multiply-add of the products: per step Q and K (2·2·BN·D·HY), the logits, Σ S K and Σ Sᵀ Q
/// (3·2·B·H·N²·Y), the two back-projections (2·2·BN·HY·D), and the Hopfield module's ξ g and
/// act ξ (2·2·BN·D·M). Element-wise work is not counted.
pub fn descent_flops(b: usize, n: usize, d: usize, h: usize, y: usize, m: usize, steps: usize) -> f64 {
    let (b, n, d, h, y, m, t) = (b as f64, n as f64, d as f64, h as f64, y as f64, m as f64, steps as f64);
    let hy = h * y;
    t * (4.0 * b * n * d * hy + 6.0 * b * h * n * n * y + 4.0 * b * n * hy * d + 4.0 * b * n * d * m)
}

/// A plain f32 GEMM [rows, k] · [k, cols] of random values: the machine's reference rate for the
/// descent's largest product. On the CPU backend the `gemm` crate on all cores (what the fused
/// descent calls); on another device the backend's own product, each waited for by reading one
/// value back.
pub struct ReferenceGemm {
    dims: (usize, usize, usize),
    on: Operands,
}

enum Operands {
    Host { a: Vec<f32>, b: Vec<f32>, c: Vec<f32> },
    Device(Box<(Tensor<2>, Tensor<2>)>),
}

impl ReferenceGemm {
    /// The product [rows, k] · [k, cols] on `device`.
    pub fn new(rows: usize, k: usize, cols: usize, device: &Device) -> Self {
        let (a, b) = (hopfield::init::normal_values(1, rows * k), hopfield::init::normal_values(2, k * cols));
        let on = if device.clone().inner() == Device::flex() {
            Operands::Host { a, b, c: vec![0.0; rows * cols] }
        } else {
            let a = Tensor::<2>::from_data(TensorData::new(a, [rows, k]), device);
            Operands::Device(Box::new((a, Tensor::<2>::from_data(TensorData::new(b, [k, cols]), device))))
        };
        ReferenceGemm { dims: (rows, k, cols), on }
    }

    /// Its floating-point operations (2 per multiply-add).
    pub fn flops(&self) -> f64 {
        let (rows, k, cols) = self.dims;
        2.0 * (rows * k * cols) as f64
    }

    /// Seconds of one product.
    pub fn time_once(&mut self) -> f64 {
        let (rows, k, cols) = self.dims;
        let t = Instant::now();
        match &mut self.on {
            Operands::Host { a, b, c } => {
                use hopfield::linalg::{matmul, Op};
                matmul(rows, cols, k, a, Op::N, b, Op::N, c, 1.0);
                std::hint::black_box(&c);
            }
            Operands::Device(ab) => {
                let (a, b) = &**ab;
                std::hint::black_box(a.clone().matmul(b.clone()).slice([0..1, 0..1]).into_data());
            }
        }
        t.elapsed().as_secs_f64()
    }
}

/// The process's peak resident memory in bytes (VmHWM), where /proc tells it.
pub fn peak_memory_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = s.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
