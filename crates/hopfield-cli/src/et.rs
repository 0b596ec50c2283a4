//! `hopfield et …`: the Energy Transformer for masked image reconstruction.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use hopfield::et::{EtConfig, ImageEtConfig, MaskSpec};
use hopfield_train::et_checkpoint::{load, load_for_resume, save, CheckpointMeta};
use hopfield_train::et_import::{import_npz, ImportOptions};
use hopfield_train::et_pictures::{random_masks, reconstruct, write_et_pictures};
use hopfield_train::et_train::{
    evaluate, mean_patches, train, EpochMetrics, EtTrainConfig, Normalization, Resume, TrainEvent,
};

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
}

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
    /// α.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    pub alpha: f64,
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
    /// α: descent step size.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    pub alpha: f64,
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

#[derive(Args, Debug)]
pub struct EtEvalArgs {
    /// Checkpoint folder written by `hopfield et train` (model.safetensors + config.json).
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Data set to evaluate on; default: the one the checkpoint was trained on.
    #[arg(long)]
    pub data: Option<hopfield_data::DataSource>,
}

#[derive(Args, Debug)]
pub struct EtReconstructArgs {
    /// Checkpoint folder written by `hopfield et train`.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Data set whose first test images are shown; default: the one the checkpoint was trained on.
    #[arg(long)]
    pub data: Option<hopfield_data::DataSource>,
    /// How many test images to show.
    #[arg(long, default_value_t = 6)]
    pub count: usize,
    /// Seed of the masks.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Folder for the pictures (created if missing).
    #[arg(long, default_value = "out/et-reconstruct")]
    pub out: PathBuf,
    /// Reconstruct this PNG or JPEG file instead of test images (converted to the model's
    /// channels; another size is an error unless --resize).
    #[arg(long, conflicts_with_all = ["data", "count"])]
    pub image: Option<PathBuf>,
    /// Scale --image to the model's height and width.
    #[arg(long, requires = "image")]
    pub resize: bool,
    /// Which patches to mask: a .npy of 0/1 per patch (shape N, or rows × columns of patches),
    /// used for every image; 1 = masked (replaced by the MASK token and reconstructed).
    /// Default: random masks from --seed as in training.
    #[arg(long)]
    pub mask: Option<PathBuf>,
    /// Also write reconstruction.npy (the decoder's output after T steps, C×H×W per image, in the
    /// model's normalised space), energies.npy (E at steps 0..=T per image), input.npy (the
    /// normalised input) and mask.npy (the 0/1 mask per patch). With several images each array
    /// has a leading image axis.
    #[arg(long)]
    pub save_npy: bool,
}

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
    #[arg(long, conflicts_with_all = ["batch_size", "lr", "warmup", "patch", "mask_fraction", "replaced_share", "steps", "alpha", "dim", "heads", "head_dim", "memories", "exclude_self", "weight_decay", "clip", "seed"])]
    pub config: Option<PathBuf>,
    /// Continue the run saved in this checkpoint folder (weights, AdamW state, configuration) from
    /// its last finished epoch up to --epochs (default: the run's own). With the same total the
    /// result is bit for bit that of an uninterrupted run. The model and training flags are not
    /// allowed with it.
    #[arg(long, conflicts_with_all = ["batch_size", "lr", "warmup", "patch", "mask_fraction", "replaced_share", "steps", "alpha", "dim", "heads", "head_dim", "memories", "exclude_self", "weight_decay", "clip", "seed", "config"])]
    pub resume: Option<PathBuf>,
    /// Images per optimiser step.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Peak learning rate (AdamW, linear warm-up then cosine decay to lr/1000).
    #[arg(long, default_value_t = 4e-3)]
    pub lr: f64,
    /// Warm-up iterations.
    #[arg(long, default_value_t = 10)]
    pub warmup: usize,
    /// Patch side; image height and width must be multiples of it.
    #[arg(long, default_value_t = 7)]
    pub patch: usize,
    /// Fraction of patches masked and scored, in (0, 1).
    #[arg(long, default_value_t = 0.5)]
    pub mask_fraction: f64,
    /// Share of the masked patches whose token is replaced by MASK (the rest stay but are scored).
    #[arg(long, default_value_t = 0.9)]
    pub replaced_share: f64,
    /// T: descent steps (≥ 1).
    #[arg(long, default_value_t = 6)]
    pub steps: usize,
    /// α: descent step size (> 0).
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    pub alpha: f64,
    /// D: token dimension.
    #[arg(long, default_value_t = 64)]
    pub dim: usize,
    /// H: attention heads.
    #[arg(long, default_value_t = 4)]
    pub heads: usize,
    /// Y: dimension per head.
    #[arg(long, default_value_t = 16)]
    pub head_dim: usize,
    /// M: Hopfield memories.
    #[arg(long, default_value_t = 128)]
    pub memories: usize,
    /// Exclude self-attention (B ≠ C, the paper's equation; the official weights allow it).
    #[arg(long)]
    pub exclude_self: bool,
    /// AdamW weight decay.
    #[arg(long, default_value_t = 0.05)]
    pub weight_decay: f64,
    /// Gradient clipping by global norm.
    #[arg(long, default_value_t = 1.0)]
    pub clip: f64,
    /// Seed of initialisation, shuffling and masks.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Checkpoint folder written after every epoch (model.safetensors + config.json, replaced
    /// atomically); default: <out>/checkpoint.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
}

pub fn run(cmd: &EtCommand, data_dir: &Path) -> Result<()> {
    match cmd {
        EtCommand::Train(a) => train_cmd(a, data_dir),
        EtCommand::Eval(a) => eval_cmd(a, data_dir),
        EtCommand::Reconstruct(a) => reconstruct_cmd(a, data_dir),
        EtCommand::ImportNpz(a) => import_cmd(a),
        EtCommand::Bench(a) => bench_cmd(a),
    }
}

/// The training config from flags and the data's image shape.
pub fn config(a: &EtTrainArgs, image: (usize, usize, usize)) -> EtTrainConfig {
    let mut et = EtConfig::new(a.dim, a.heads, a.head_dim, a.memories);
    et.exclude_self = a.exclude_self;
    let mut c = EtTrainConfig::new(ImageEtConfig::new(image, a.patch, et));
    c.epochs = a.epochs.unwrap_or(5);
    c.batch_size = a.batch_size;
    c.lr = a.lr;
    c.warmup = a.warmup;
    c.steps = a.steps;
    c.step_size = a.alpha;
    c.mask_fraction = a.mask_fraction;
    c.replaced_share = a.replaced_share;
    c.weight_decay = a.weight_decay;
    c.clip = a.clip;
    c.seed = a.seed;
    c
}

/// Prints one epoch's line.
pub fn print_epoch(m: &EpochMetrics) {
    println!(
        "epoch {:>3}: train loss {:.4} | test masked-patch MSE {:.4} (mean-patch baseline {:.4}, T = 0 {:.4}) | {:.0} images/s",
        m.epoch, m.train_loss, m.eval.mse, m.eval.mse_mean_patch, m.eval.mse_no_dynamics, m.images_per_second
    );
}

/// Trains with a progress bar, writes metrics.csv, the pictures and the checkpoint; returns the metrics.
pub fn train_and_report(
    cfg: &EtTrainConfig,
    data: &hopfield_data::DataSource,
    data_dir: &Path,
    out: &Path,
    checkpoint: &Path,
    resume: Option<Resume>,
) -> Result<Vec<EpochMetrics>> {
    let tr = hopfield_data::load(data, hopfield_data::Split::Train, data_dir)
        .with_context(|| format!("loading --data {data}"))?;
    let te = hopfield_data::load(data, hopfield_data::Split::Test, data_dir)
        .with_context(|| format!("loading --data {data}"))?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    println!(
        "training on {} ({} train / {} test images of {}×{}×{}), {} patches of {}, T = {}, α = {}",
        data,
        tr.len(),
        te.len(),
        tr.channels(),
        tr.height(),
        tr.width(),
        cfg.model.patches(),
        cfg.model.patch_elements(),
        cfg.steps,
        cfg.step_size
    );
    let pb =
        crate::commands::styled_bar(tr.len() as u64, "epoch {prefix} [{bar:30}] {pos}/{len} {msg} {elapsed_precise}");
    let csv_path = out.join("metrics.csv");
    let mut csv =
        String::from("epoch,train_loss,test_mse,test_mse_mean_patch,test_mse_no_dynamics,images_per_second\n");
    if let Some(r) = &resume {
        println!("resuming after epoch {} of {}", r.epochs_done, cfg.epochs);
        // Keep the earlier epochs' lines of a metrics.csv the interrupted run left here.
        if let Ok(old) = std::fs::read_to_string(&csv_path) {
            for line in old.lines().skip(1) {
                let epoch = line.split(',').next().and_then(|e| e.parse::<usize>().ok());
                if epoch.is_some_and(|e| e <= r.epochs_done) {
                    csv += line;
                    csv.push('\n');
                }
            }
        }
    }
    let started = std::time::Instant::now();
    let mut saved: Option<anyhow::Error> = None;
    let mut run_norm: Option<Normalization> = None;
    let (model, metrics) = train(&tr, &te, cfg, resume, |e| match e {
        TrainEvent::Batch { epoch, done, loss, .. } => {
            pb.set_prefix(epoch.to_string());
            pb.set_position(*done as u64);
            let rate = *done as f64 / pb.elapsed().as_secs_f64().max(1e-9);
            pb.set_message(format!("loss {loss:.4}, {rate:.0} images/s"));
        }
        TrainEvent::Epoch(m, model, optim, norm) => {
            pb.suspend(|| print_epoch(m));
            pb.reset();
            csv += &format!(
                "{},{:.6},{:.6},{:.6},{:.6},{:.1}\n",
                m.epoch, m.train_loss, m.eval.mse, m.eval.mse_mean_patch, m.eval.mse_no_dynamics, m.images_per_second
            );
            // A checkpoint after every epoch, replaced atomically.
            let meta = CheckpointMeta::new(cfg, norm, m.epoch, &data.to_string());
            run_norm.get_or_insert_with(|| (*norm).clone());
            if let Err(e) = save(checkpoint, model, &meta, Some(optim)) {
                saved.get_or_insert(e.into());
            }
        }
    })?;
    if let Some(e) = saved {
        return Err(e);
    }
    pb.finish_and_clear();
    crate::commands::write_text(&csv_path, &csv)?;
    let spec = MaskSpec::from_fraction(cfg.mask_fraction, cfg.model.patches(), cfg.replaced_share)?;
    let norm = run_norm.context("training ran no epoch")?;
    let files = write_et_pictures(&model, &te, &norm, spec, cfg.steps, cfg.step_size, 6, cfg.seed, out)?;
    println!("trained in {:.0} s", started.elapsed().as_secs_f64());
    println!("  wrote {} (model.safetensors, config.json, optimizer.bpk; after every epoch)", checkpoint.display());
    println!("  wrote {}", csv_path.display());
    for f in files {
        println!("  wrote {}", f.display());
    }
    Ok(metrics)
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

fn train_cmd(a: &EtTrainArgs, data_dir: &Path) -> Result<()> {
    let default_data = || hopfield_data::DataSource::Builtin(hopfield_data::Builtin::MnistSample);
    let checkpoint = a.checkpoint.clone().unwrap_or_else(|| a.out.join("checkpoint"));
    if let Some(dir) = &a.resume {
        let (resume, meta) = load_for_resume(dir).with_context(|| format!("--resume {}", dir.display()))?;
        let mut cfg = meta.train.clone();
        cfg.epochs = a.epochs.unwrap_or(cfg.epochs);
        cfg.validate()?;
        let data = match &a.data {
            Some(d) => d.clone(),
            None => meta.data.parse().map_err(anyhow::Error::msg)?,
        };
        let checkpoint = a.checkpoint.clone().unwrap_or_else(|| dir.clone());
        train_and_report(&cfg, &data, data_dir, &a.out, &checkpoint, Some(resume))?;
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
            let probe = hopfield_data::load(&data, hopfield_data::Split::Test, data_dir)
                .with_context(|| format!("loading --data {data}"))?;
            config(a, (probe.channels(), probe.height(), probe.width()))
        }
    };
    cfg.validate()?;
    train_and_report(&cfg, &data, data_dir, &a.out, &checkpoint, None)?;
    Ok(())
}

fn load_checkpoint(path: &Path) -> Result<(hopfield::et::ImageEnergyTransformer, CheckpointMeta)> {
    Ok(load(path, &burn::tensor::Device::flex())?)
}

fn data_for(meta: &CheckpointMeta, data: &Option<hopfield_data::DataSource>) -> Result<hopfield_data::DataSource> {
    match data {
        Some(d) => Ok(d.clone()),
        None if meta.data.is_empty() => {
            let (c, h, w) = meta.train.model.image;
            anyhow::bail!(
                "this checkpoint names no data set (it was imported from a .npz): pass --data with {c}×{h}×{w} \
                 images, or --image FILE"
            )
        }
        None => meta.data.parse().map_err(anyhow::Error::msg),
    }
}

fn load_checked(
    source: &hopfield_data::DataSource,
    split: hopfield_data::Split,
    data_dir: &Path,
    meta: &CheckpointMeta,
) -> Result<hopfield_data::Dataset> {
    let ds = hopfield_data::load(source, split, data_dir).with_context(|| format!("loading --data {source}"))?;
    let shape = [ds.channels(), ds.height(), ds.width()];
    anyhow::ensure!(
        shape == [meta.train.model.image.0, meta.train.model.image.1, meta.train.model.image.2],
        "{source} holds {}×{}×{} images but the checkpoint's model takes {}×{}×{}",
        shape[0],
        shape[1],
        shape[2],
        meta.train.model.image.0,
        meta.train.model.image.1,
        meta.train.model.image.2
    );
    Ok(ds)
}

fn eval_cmd(a: &EtEvalArgs, data_dir: &Path) -> Result<()> {
    let (model, meta) = load_checkpoint(&a.checkpoint)?;
    let source = data_for(&meta, &a.data)?;
    let tr = load_checked(&source, hopfield_data::Split::Train, data_dir, &meta)?;
    let te = load_checked(&source, hopfield_data::Split::Test, data_dir, &meta)?;
    let cfg = meta.train.clone();
    let spec = cfg.validate()?;
    let norm = meta.normalization.clone();
    let dev = burn::tensor::Device::flex();
    let mean = mean_patches(&model, &tr, &norm, &dev);
    let r = evaluate(&model, &te, &norm, &mean, &cfg, spec, cfg.eval_seed(), &dev)?;
    println!(
        "{} ({} test images), T = {}, α = {}: masked-patch MSE {:.4} | mean-patch baseline {:.4} | same model with T = 0: {:.4}",
        source,
        te.len(),
        cfg.steps,
        cfg.step_size,
        r.mse,
        r.mse_mean_patch,
        r.mse_no_dynamics
    );
    Ok(())
}

/// Reads `--mask`: 0/1 per patch, shape (N,), (1, N) or (rows, columns) of patches.
fn read_mask(path: &Path, meta: &CheckpointMeta) -> Result<Vec<f32>> {
    let m = &meta.train.model;
    let (rows, cols) = (m.image.1 / m.patch, m.image.2 / m.patch);
    let n = rows * cols;
    let a = hopfield_data::npy::read_npy(path).with_context(|| format!("reading --mask {}", path.display()))?;
    anyhow::ensure!(
        a.data.len() == n && (a.shape == [n] || a.shape == [1, n] || a.shape == [rows, cols]),
        "--mask {}: shape {:?}, but the model cuts its images into {n} patches ({rows} rows × {cols} columns): \
         expected ({n},) or ({rows}, {cols})",
        path.display(),
        a.shape
    );
    ensure_zero_one(path, &a.data)?;
    Ok(a.data)
}

/// A `--mask` holds only 0 and 1; the error names the first other value and where it is.
fn ensure_zero_one(path: &Path, mask: &[f32]) -> Result<()> {
    if let Some((i, v)) = mask.iter().enumerate().find(|(_, v)| **v != 0.0 && **v != 1.0) {
        anyhow::bail!("--mask {}: value {v} at patch {i}; a mask holds only 0 and 1", path.display());
    }
    Ok(())
}

fn reconstruct_cmd(a: &EtReconstructArgs, data_dir: &Path) -> Result<()> {
    anyhow::ensure!(a.count > 0, "--count must be at least 1");
    let (model, meta) = load_checkpoint(&a.checkpoint)?;
    let ds = match &a.image {
        Some(file) => hopfield_data::folder::load_image_file(file, meta.train.model.image, a.resize)
            .with_context(|| format!("--image {}", file.display()))?,
        None => {
            let source = data_for(&meta, &a.data)?;
            load_checked(&source, hopfield_data::Split::Test, data_dir, &meta)?
        }
    };
    let cfg = meta.train.clone();
    let spec = cfg.validate()?;
    let count = a.count.min(ds.len());
    let n = cfg.model.patches();
    let (scored, replaced) = match &a.mask {
        Some(path) => {
            let mask = read_mask(path, &meta)?;
            let all: Vec<f32> = (0..count).flat_map(|_| mask.iter().copied()).collect();
            (all.clone(), all)
        }
        None => random_masks(spec, a.seed, count, n),
    };
    let r = reconstruct(&model, &ds, &meta.normalization, &scored, &replaced, cfg.steps, cfg.step_size, &a.out)?;
    let masked = scored.iter().filter(|v| **v == 1.0).count() / count;
    let mask_tokens = replaced.iter().filter(|v| **v == 1.0).count() / count;
    println!(
        "{} image(s) of {}×{}×{}, {masked} of {n} patches masked ({mask_tokens} replaced by the MASK token), T = {}, α = {}",
        count, cfg.model.image.0, cfg.model.image.1, cfg.model.image.2, cfg.steps, cfg.step_size
    );
    for i in 0..count {
        let e = &r.energies[i * (cfg.steps + 1)..(i + 1) * (cfg.steps + 1)];
        println!("  image {i}: energy {:.4} at t = 0 → {:.4} at t = {}", e[0], e[cfg.steps], cfg.steps);
    }
    let mut files = r.files.clone();
    if a.save_npy {
        let (c, h, w) = cfg.model.image;
        let lead: Vec<usize> = if count == 1 { vec![] } else { vec![count] };
        let shape = |rest: &[usize]| [lead.as_slice(), rest].concat();
        for (name, shape, data) in [
            ("reconstruction.npy", shape(&[c, h, w]), &r.reconstruction),
            ("energies.npy", shape(&[cfg.steps + 1]), &r.energies),
            ("input.npy", shape(&[c, h, w]), &r.input),
            ("mask.npy", shape(&[n]), &replaced),
        ] {
            let path = a.out.join(name);
            hopfield_data::npy::write_npy(&path, &shape, data)?;
            files.push(path);
        }
    }
    for f in files {
        println!("  wrote {}", f.display());
    }
    Ok(())
}

fn parse_image_shape(s: &str) -> Result<(usize, usize, usize)> {
    let parts: Vec<&str> = s.split(['x', '×', 'X']).collect();
    let nums: Vec<usize> = parts.iter().filter_map(|p| p.trim().parse().ok()).collect();
    anyhow::ensure!(parts.len() == 3 && nums.len() == 3, "--image {s}: expected channels×height×width, e.g. 3x224x224");
    Ok((nums[0], nums[1], nums[2]))
}

fn import_cmd(a: &EtImportArgs) -> Result<()> {
    let mut opts = ImportOptions::official();
    opts.image = parse_image_shape(&a.image)?;
    opts.patch = a.patch;
    opts.steps = a.steps;
    opts.step_size = a.alpha;
    opts.masked = a.masked;
    opts.normalization = Normalization { mean: a.mean.clone(), std: a.std.clone() };
    let imported = import_npz(&a.npz, &opts, &burn::tensor::Device::flex())
        .with_context(|| format!("importing {}", a.npz.display()))?;
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

fn bench_cmd(a: &EtBenchArgs) -> Result<()> {
    use hopfield_train::et_bench::{bench_et, EtBenchInputs};
    use hopfield_train::et_train::{train_device, with_stable_ids};
    let (model, cfg) = match &a.checkpoint {
        Some(dir) => {
            let (m, meta) = load(dir, &train_device())?;
            (m, meta.train.model)
        }
        None => {
            let mut et = EtConfig::new(a.dim, a.heads, a.head_dim, a.memories);
            et.exclude_self = false;
            let cfg = ImageEtConfig::new(parse_image_shape(&a.image)?, a.patch, et);
            (with_stable_ids(cfg.init(a.seed, &train_device())?), cfg)
        }
    };
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
        None => (hopfield_train::et_bench::normal_values(a.seed, a.batch * c * h * w), a.batch),
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
            random_masks(spec, a.seed, batch, n).1
        }
    };
    let x = EtBenchInputs { images, batch, mask, steps: a.steps, step_size: a.alpha };
    let r = bench_et(model, &x, a.warmup, a.reps)?;
    println!(
        "ET {c}×{h}×{w}, patch {}: {} tokens, D = {}, {} heads × {}, M = {}, T = {}, batch {batch}",
        cfg.patch,
        n + 1,
        cfg.et.dim,
        cfg.et.heads,
        cfg.et.head_dim,
        cfg.et.memories,
        a.steps
    );
    println!("  forward    {:>9.2} ms (median of {})", r.forward_ms, a.reps);
    println!("  train step {:>9.2} ms (median of {})", r.train_step_ms, a.reps);
    println!("  loss {:.6}; energy of image 0: {:.4} → {:.4}", r.loss, r.energies[0], r.energies[a.steps]);
    if a.json {
        let j = serde_json::json!({
            "forward_ms": r.forward_ms, "train_step_ms": r.train_step_ms, "loss": r.loss,
            "energies": r.energies, "forward_all": r.forward_all, "train_all": r.train_all,
            "threads": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        });
        println!("{j}");
    }
    Ok(())
}
