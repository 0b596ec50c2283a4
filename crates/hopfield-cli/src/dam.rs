//! `hopfield dam …`: the Dense Associative Memory classifier of Krotov & Hopfield (2016).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use hopfield_train::pictures::dam::{write_dam_errors, write_dam_memories};
use hopfield_train::tasks::dam_classifier::{
    error_rate, load_dam, load_dam_for_resume, train_dam, DamEpoch, DamTrainConfig,
};
use hopfield_train::trainer::Trainer;

use crate::common::{describe_splits, load_split, styled_bar, with_hint};

#[derive(Subcommand, Debug)]
pub enum DamCommand {
    /// Train on a data set's train split with the paper's recipe; test error every epoch,
    /// metrics.csv, a checkpoint after every epoch, the memories picture and errors.png.
    Train(DamTrainArgs),
    /// Test error of a checkpoint (or, with --split train, its training error).
    Eval(DamEvalArgs),
    /// A PNG grid of a checkpoint's memories as images.
    Memories(DamMemoriesArgs),
}

#[derive(Args, Debug)]
pub struct DamTrainArgs {
    /// Data set (built-in name or path); trains on its train split, tests on its test split.
    /// Default: mnist-sample, or the data of the checkpoint given to --resume.
    #[arg(long)]
    pub data: Option<hopfield_data::DataSource>,
    /// Folder for metrics.csv, memories.png, errors.png and the checkpoint (created if missing).
    #[arg(long, default_value = "out/dam")]
    pub out: PathBuf,
    /// n: degree of F(x) = max(x, 0)^n.
    #[arg(long, default_value_t = 20)]
    pub n: u32,
    /// m: the loss is Σ (c − t)^(2m).
    #[arg(long, default_value_t = 30)]
    pub m: u32,
    /// K: memories.
    #[arg(long, default_value_t = 100)]
    pub memories: usize,
    /// T: temperature, β = 1/T^n (with --temperature-final: the first epoch's).
    #[arg(long, default_value_t = 540.0, allow_negative_numbers = true)]
    pub temperature: f64,
    /// Ramp T linearly from --temperature to this over --temperature-ramp epochs, then hold it
    /// (the public code's Temp_in → Temp_f; default: no ramp).
    #[arg(long, allow_negative_numbers = true)]
    pub temperature_final: Option<f64>,
    /// Length of the temperature ramp in epochs (the public code's thresh_pret).
    #[arg(long, default_value_t = 200, requires = "temperature_final")]
    pub temperature_ramp: usize,
    /// Passes over the training split [default: 300, or the --resume run's own].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Inputs per update.
    #[arg(long, default_value_t = 1000)]
    pub batch_size: usize,
    /// Initial learning rate (the largest entry of each memory moves by exactly this).
    #[arg(long, default_value_t = 0.04, allow_negative_numbers = true)]
    pub lr: f64,
    /// Learning rate factor per epoch.
    #[arg(long, default_value_t = 0.998)]
    pub lr_decay: f64,
    /// Momentum on the gradient.
    #[arg(long, default_value_t = 0.6, allow_negative_numbers = true)]
    pub momentum: f64,
    /// Mean of the initial memories.
    #[arg(long, default_value_t = -0.3, allow_negative_numbers = true)]
    pub init_mean: f64,
    /// Standard deviation of the initial memories (clipped to [−1, 1] afterwards).
    #[arg(long, default_value_t = 0.3, allow_negative_numbers = true)]
    pub init_std: f64,
    /// Seed of the initial memories and the shuffling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Continue the run saved in this checkpoint folder (memories, momentum, learning rate,
    /// shuffling stream) from its last epoch up to --epochs; with the same total the memories are
    /// bit for bit those of an uninterrupted run. The training flags are not allowed with it.
    #[arg(long, conflicts_with_all = ["n", "m", "memories", "temperature", "temperature_final", "batch_size", "lr", "lr_decay", "momentum", "init_mean", "init_std", "seed"])]
    pub resume: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct DamEvalArgs {
    /// Checkpoint folder written by `hopfield dam train`.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Data set to test on; default: the one the checkpoint was trained on.
    #[arg(long)]
    pub data: Option<hopfield_data::DataSource>,
    /// Which split to classify: test (default) or train (the training error of the final memories).
    #[arg(long, default_value = "test")]
    pub split: hopfield_data::Split,
}

#[derive(Args, Debug)]
pub struct DamMemoriesArgs {
    /// Checkpoint folder written by `hopfield dam train`.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// The PNG to write.
    #[arg(long, default_value = "out/dam/memories.png")]
    pub out: PathBuf,
    /// How many memories to draw (10 to a row).
    #[arg(long, default_value_t = 100)]
    pub count: usize,
}

pub fn run(cmd: &DamCommand, data_dir: &Path) -> Result<()> {
    match cmd {
        DamCommand::Train(a) => train_cmd(a, data_dir),
        DamCommand::Eval(a) => eval_cmd(a, data_dir),
        DamCommand::Memories(a) => memories_cmd(a),
    }
}

fn train_cmd(a: &DamTrainArgs, data_dir: &Path) -> Result<()> {
    let (cfg, data, resume) = match &a.resume {
        Some(dir) => {
            let (state, meta) = load_dam_for_resume(dir).with_context(|| format!("--resume {}", dir.display()))?;
            let cfg = DamTrainConfig { epochs: a.epochs.unwrap_or(meta.train.epochs), ..meta.train.clone() };
            let data = match &a.data {
                Some(d) => d.clone(),
                None => meta.data.parse().map_err(anyhow::Error::msg)?,
            };
            (cfg, data, Some((state, meta.epoch)))
        }
        None => {
            let cfg = DamTrainConfig {
                memories: a.memories,
                n: a.n,
                m: a.m,
                temperature: a.temperature,
                temperature_final: a.temperature_final,
                temperature_ramp: a.temperature_ramp,
                batch_size: a.batch_size,
                lr: a.lr,
                lr_decay: a.lr_decay,
                momentum: a.momentum,
                init_mean: a.init_mean,
                init_std: a.init_std,
                epochs: a.epochs.unwrap_or(300),
                seed: a.seed,
            };
            let data =
                a.data.clone().unwrap_or(hopfield_data::DataSource::Builtin(hopfield_data::Builtin::MnistSample));
            (cfg, data, None)
        }
    };
    cfg.validate()?;
    let load = |split| load_split(&data, split, data_dir);
    let (tr, te) = (load(hopfield_data::Split::Train)?, load(hopfield_data::Split::Test)?);
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let ramp = match cfg.temperature_final {
        Some(t) => format!(" → {t} over {} epochs", cfg.temperature_ramp),
        None => String::new(),
    };
    println!(
        "DAM classifier on {}: K = {}, n = {}, m = {}, T = {}{ramp}",
        describe_splits(&data, &tr, &te),
        cfg.memories,
        cfg.n,
        cfg.m,
        cfg.temperature
    );
    let done = resume.as_ref().map_or(0, |r| r.1);
    if done > 0 {
        println!("resuming after epoch {done} of {}", cfg.epochs);
    }
    let image = (tr.channels(), tr.height(), tr.width());
    let checkpoint = a.out.join("checkpoint");
    let csv_path = a.out.join("metrics.csv");
    let trainer =
        Trainer { checkpoint: Some(checkpoint.clone()), metrics: Some(csv_path.clone()), ..Default::default() };
    let pb = styled_bar(cfg.epochs as u64, "[{bar:30}] epoch {pos}/{len} {msg} {elapsed_precise}");
    let started = std::time::Instant::now();
    let (dam, history) = train_dam(&tr, &te, &cfg, &data.to_string(), resume, &trainer, |e| {
        pb.set_position(e.epoch as u64);
        pb.set_message(format!("loss {:.4}, test error {:.2}%", e.train_loss, 100.0 * e.test_error));
        if e.epoch == 1 || e.epoch % 10 == 0 || e.epoch == cfg.epochs {
            pb.suspend(|| {
                println!(
                    "epoch {:>3}: train loss {:.4} | train error {:.2}% | test error {:.2}% | lr {:.5} | T {:.1} | {:.2} s",
                    e.epoch,
                    e.train_loss,
                    100.0 * e.train_error,
                    100.0 * e.test_error,
                    e.lr,
                    e.temperature,
                    e.seconds
                )
            });
        }
    })
    .map_err(|e| with_hint(e, "lower --lr"))?;
    pb.finish_and_clear();
    let png = a.out.join("memories.png");
    write_dam_memories(&dam, image, cfg.memories, 10, &png)?;
    // The whole run's curve: a resumed run's earlier epochs are in metrics.csv.
    let all: Vec<DamEpoch> = std::fs::read_to_string(&csv_path)
        .map(|t| t.lines().filter_map(DamEpoch::from_csv_row).collect())
        .unwrap_or_default();
    let history = if all.len() >= history.len() { all } else { history };
    let errors_png = a.out.join("errors.png");
    let title = format!("DAM on {}: K = {}, n = {}, T = {}{ramp}", data, cfg.memories, cfg.n, cfg.temperature);
    write_dam_errors(&history, &title, &errors_png)?;
    let last = history.last().context("training ran no epoch")?;
    println!(
        "trained in {:.0} s: test error {:.2}% ({} of {} wrong)",
        started.elapsed().as_secs_f64(),
        100.0 * last.test_error,
        (last.test_error * te.len() as f64).round(),
        te.len()
    );
    for f in [checkpoint, csv_path, png, errors_png] {
        println!("  wrote {}", f.display());
    }
    Ok(())
}

fn eval_cmd(a: &DamEvalArgs, data_dir: &Path) -> Result<()> {
    let (dam, meta) = load_dam(&a.checkpoint)?;
    let source = match &a.data {
        Some(d) => d.clone(),
        None => meta.data.parse().map_err(anyhow::Error::msg)?,
    };
    let te = load_split(&source, a.split, data_dir)?;
    let (c, h, w) = meta.image;
    anyhow::ensure!(
        (te.channels(), te.height(), te.width()) == meta.image,
        "{source} holds {}×{}×{} images but the checkpoint's memories are for {c}×{h}×{w}",
        te.channels(),
        te.height(),
        te.width()
    );
    let err = error_rate(&dam, &te)?;
    let split = a.split;
    println!(
        "{source} ({} {split} images): {split} error {:.2}% ({} wrong); K = {}, n = {}, T = {}, epoch {}",
        te.len(),
        100.0 * err,
        (err * te.len() as f64).round(),
        meta.train.memories,
        meta.train.n,
        dam.temperature,
        meta.epoch
    );
    Ok(())
}

fn memories_cmd(a: &DamMemoriesArgs) -> Result<()> {
    let (dam, meta) = load_dam(&a.checkpoint)?;
    if let Some(parent) = a.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    write_dam_memories(&dam, meta.image, a.count, 10, &a.out)?;
    println!("  wrote {} ({} memories, n = {})", a.out.display(), a.count.min(dam.count()), meta.train.n);
    Ok(())
}
