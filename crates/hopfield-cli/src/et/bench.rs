//! `hopfield et bench`: milliseconds per forward pass and per training step.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use hopfield::et::{EtConfig, ImageEnergyTransformer, ImageEtConfig, MaskSpec};
use hopfield_train::bench::et::{bench_et, descent_flops, peak_memory_bytes, EtBenchInputs, ReferenceGemm};
use hopfield_train::tasks::masked_image::checkpoint::load;

use super::common::{ensure_zero_one, parse_image_shape};

#[derive(Args, Debug)]
pub struct EtBenchArgs {
    /// Weights to time (e.g. from et import-npz); default: random weights of the shape flags.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Normalised images, a .npy of shape (B, C, H, W); default: N(0, 1) values.
    #[arg(long)]
    pub inputs: Option<PathBuf>,
    /// 0/1 masked patches, a .npy of shape (B, N); default: --masked random patches per image.
    #[arg(long)]
    pub mask: Option<PathBuf>,
    /// Image shape C×H×W for random weights.
    #[arg(long, default_value = "3x32x32")]
    pub image: String,
    /// Patch side for random weights.
    #[arg(long, default_value_t = 4)]
    pub patch: usize,
    /// D.
    #[arg(long, default_value_t = 128)]
    pub dim: usize,
    /// H.
    #[arg(long, default_value_t = 4)]
    pub heads: usize,
    /// Y.
    #[arg(long, default_value_t = 32)]
    pub head_dim: usize,
    /// M.
    #[arg(long, default_value_t = 512)]
    pub memories: usize,
    /// B for random inputs.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Masked patches per image for random masks.
    #[arg(long, default_value_t = 32)]
    pub masked: usize,
    /// T.
    #[arg(long, default_value_t = 12)]
    pub steps: usize,
    /// α: the descent's step size (> 0).
    #[arg(long, visible_alias = "alpha", default_value_t = 0.1, allow_negative_numbers = true)]
    pub step_size: f64,
    /// Untimed runs before timing.
    #[arg(long, default_value_t = 2)]
    pub warmup: usize,
    /// Timed runs (median reported).
    #[arg(long, default_value_t = 10)]
    pub reps: usize,
    /// Seed of random weights, inputs and masks.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also print one JSON line with every figure.
    #[arg(long)]
    pub json: bool,
}

/// The model to time: the checkpoint's, or random weights of the flags' shape (refused before
/// allocating when it cannot fit).
fn model(a: &EtBenchArgs, train_device: &burn::tensor::Device) -> Result<(ImageEnergyTransformer, ImageEtConfig)> {
    if let Some(dir) = &a.checkpoint {
        let (m, meta) = load(dir, train_device)?;
        return Ok((m, meta.train.model));
    }
    let mut et = EtConfig::new(a.dim, a.heads, a.head_dim, a.memories);
    et.exclude_self = false;
    let cfg = ImageEtConfig::new(parse_image_shape(&a.image)?, a.patch, et);
    cfg.validate()?;
    let estimate = ImageEtConfig { descent: hopfield::et::Descent::new(a.steps, a.step_size), ..cfg.clone() };
    hopfield_train::budget::check(
        &format!("timing this model on {} images with T = {}", a.batch, a.steps),
        hopfield_train::tasks::masked_image::memory_needed(&estimate, a.batch, true),
    )?;
    Ok((hopfield_train::checkpoint::with_stable_ids(cfg.init(a.seed, train_device)?), cfg))
}

/// The images and masks to time on: from --inputs and --mask, else drawn from --seed.
fn inputs(a: &EtBenchArgs, cfg: &ImageEtConfig) -> Result<EtBenchInputs> {
    let (c, h, w) = cfg.image;
    let n = cfg.patches();
    let (images, batch) = match &a.inputs {
        Some(p) => {
            let arr = hopfield_data::npy::read_npy(p).with_context(|| format!("--inputs {}", p.display()))?;
            anyhow::ensure!(
                arr.shape.len() == 4 && arr.shape[1..] == [c, h, w],
                "--inputs {}: shape {:?}, the model takes (B, {c}, {h}, {w})",
                p.display(),
                arr.shape
            );
            anyhow::ensure!(arr.data.iter().all(|v| v.is_finite()), "--inputs {}: holds NaN or ∞", p.display());
            (arr.data, arr.shape[0])
        }
        None => (hopfield::init::normal_values(a.seed, a.batch * c * h * w), a.batch),
    };
    let mask = match &a.mask {
        Some(p) => {
            let arr = hopfield_data::npy::read_npy(p).with_context(|| format!("--mask {}", p.display()))?;
            anyhow::ensure!(
                arr.shape == [batch, n],
                "--mask {}: shape {:?}, expected ({batch}, {n}) (images, patches)",
                p.display(),
                arr.shape
            );
            ensure_zero_one(p, &arr.data)?;
            arr.data
        }
        None => {
            anyhow::ensure!(a.masked >= 1 && a.masked < n, "--masked {}: between 1 and {}", a.masked, n - 1);
            let spec = MaskSpec { masked: a.masked, replaced_share: 1.0 };
            spec.from_seed(a.seed, batch, n).1
        }
    };
    Ok(EtBenchInputs { images, batch, mask, descent: hopfield::et::Descent::new(a.steps, a.step_size) })
}

/// Runs `et bench`.
pub fn run(a: &EtBenchArgs, device: &burn::tensor::Device) -> Result<()> {
    let (model, cfg) = model(a, &device.clone().autodiff())?;
    let x = inputs(a, &cfg)?;
    let (batch, tokens, e) = (x.batch, cfg.patches() + 1, &cfg.et);
    // The device's rate for the descent's largest product (the Hopfield module's [B·N, D]·[D, M]),
    // timed after each forward pass, so that both sample the machine over the same seconds.
    let mut reference = ReferenceGemm::new(batch * tokens, e.dim, e.memories, device);
    let r = bench_et(model, &x, a.warmup, a.reps, device, &mut reference)?;
    let (c, h, w) = cfg.image;
    println!(
        "ET {c}×{h}×{w}, patch {}: {tokens} tokens, D = {}, {} heads × {}, M = {}, T = {}, batch {batch}",
        cfg.patch, e.dim, e.heads, e.head_dim, e.memories, a.steps
    );
    let flops = descent_flops(batch, tokens, e.dim, e.heads, e.head_dim, e.memories, a.steps);
    let forward_gflops = flops / (r.forward_ms / 1e3) / 1e9;
    let (gemm, best) = (r.reference_gflops, r.reference_best_gflops);
    let peak = peak_memory_bytes();
    println!("  forward    {:>9.2} ms (median of {})", r.forward_ms, a.reps);
    println!("  train step {:>9.2} ms (median of {})", r.train_step_ms, a.reps);
    println!(
        "  descent {:.1} GFLOP a forward pass: {forward_gflops:.0} GFLOP/s, {:.0}% of a plain GEMM [{}×{}]·[{}×{}] \
         on this device ({gemm:.0} GFLOP/s: the median of one timed after each forward pass; {:.0}% of its best, \
         {best:.0} GFLOP/s); peak host memory {}",
        flops / 1e9,
        100.0 * forward_gflops / gemm,
        batch * tokens,
        e.dim,
        e.dim,
        e.memories,
        100.0 * forward_gflops / best,
        peak.map_or("unknown".into(), |b| hopfield_train::budget::human(b as u128))
    );
    println!("  loss {:.6}; energy of image 0: {:.4} → {:.4}", r.loss, r.energies[0], r.energies[a.steps]);
    if a.json {
        let j = serde_json::json!({
            "descent_gflop": flops / 1e9, "forward_gflops": forward_gflops, "gemm_gflops": gemm,
            "gemm_best_gflops": best,
            "peak_memory_bytes": peak,
            "forward_ms": r.forward_ms, "train_step_ms": r.train_step_ms, "loss": r.loss,
            "energies": r.energies, "forward_all": r.forward_all, "train_all": r.train_all,
            "gemm_all": r.reference_all,
            "threads": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            "device": format!("{device:?}"),
        });
        println!("{j}");
    }
    Ok(())
}
