//! `hopfield dam train`: flags into [`DamTrainConfig`] (its `Default` gives every flag's
//! default), [`dam::run`] with a progress bar, then the final error and the files.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use hopfield_data::{Builtin, DataSource, Split};
use hopfield_train::experiments::{dam, ImageData, Progress, RunFiles};
use hopfield_train::tasks::dam_classifier::{load_dam_for_resume, DamEpoch, DamTrainConfig};

use crate::common::{describe_splits, load_split, styled_bar, with_hint};

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
    #[arg(long, default_value_t = DamTrainConfig::default().n)]
    pub n: u32,
    /// m: the loss is Σ (c − t)^(2m).
    #[arg(long, default_value_t = DamTrainConfig::default().m)]
    pub m: u32,
    /// K: memories.
    #[arg(long, default_value_t = DamTrainConfig::default().memories)]
    pub memories: usize,
    /// T: temperature, β = 1/T^n (with --temperature-final: the first epoch's).
    #[arg(long, default_value_t = DamTrainConfig::default().temperature, allow_negative_numbers = true)]
    pub temperature: f64,
    /// Ramp T linearly from --temperature to this over --temperature-ramp epochs, then hold it
    /// (the public code's Temp_in → Temp_f; default: no ramp).
    #[arg(long, allow_negative_numbers = true)]
    pub temperature_final: Option<f64>,
    /// Length of the temperature ramp in epochs (the public code's thresh_pret).
    #[arg(long, default_value_t = DamTrainConfig::default().temperature_ramp, requires = "temperature_final")]
    pub temperature_ramp: usize,
    /// Passes over the training split [default: 300, or the --resume run's own].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Inputs per update.
    #[arg(long, default_value_t = DamTrainConfig::default().batch_size)]
    pub batch_size: usize,
    /// Initial learning rate (the largest entry of each memory moves by exactly this).
    #[arg(long, default_value_t = DamTrainConfig::default().lr, allow_negative_numbers = true)]
    pub lr: f64,
    /// Learning rate factor per epoch.
    #[arg(long, default_value_t = DamTrainConfig::default().lr_decay)]
    pub lr_decay: f64,
    /// Momentum on the gradient.
    #[arg(long, default_value_t = DamTrainConfig::default().momentum, allow_negative_numbers = true)]
    pub momentum: f64,
    /// Mean of the initial memories.
    #[arg(long, default_value_t = DamTrainConfig::default().init_mean, allow_negative_numbers = true)]
    pub init_mean: f64,
    /// Standard deviation of the initial memories (clipped to [−1, 1] afterwards).
    #[arg(long, default_value_t = DamTrainConfig::default().init_std, allow_negative_numbers = true)]
    pub init_std: f64,
    /// Seed of the initial memories and the shuffling.
    #[arg(long, default_value_t = DamTrainConfig::default().seed)]
    pub seed: u64,
    /// Continue the run saved in this checkpoint folder (memories, momentum, learning rate,
    /// shuffling stream) from its last epoch up to --epochs; with the same total the memories are
    /// bit for bit those of an uninterrupted run. The training flags are not allowed with it.
    #[arg(long, conflicts_with_all = ["n", "m", "memories", "temperature", "temperature_final", "batch_size", "lr", "lr_decay", "momentum", "init_mean", "init_std", "seed"])]
    pub resume: Option<PathBuf>,
}

impl DamTrainArgs {
    /// The training config these flags give (a new run).
    fn config(&self) -> DamTrainConfig {
        DamTrainConfig {
            memories: self.memories,
            n: self.n,
            m: self.m,
            temperature: self.temperature,
            temperature_final: self.temperature_final,
            temperature_ramp: self.temperature_ramp,
            batch_size: self.batch_size,
            lr: self.lr,
            lr_decay: self.lr_decay,
            momentum: self.momentum,
            init_mean: self.init_mean,
            init_std: self.init_std,
            epochs: self.epochs.unwrap_or(DamTrainConfig::default().epochs),
            seed: self.seed,
        }
    }
}

/// The line printed at epoch 1, every tenth and the last.
fn epoch_line(e: &DamEpoch) -> String {
    format!(
        "epoch {:>3}: train loss {:.4} | train error {:.2}% | test error {:.2}% | lr {:.5} | T {:.1} | {:.2} s",
        e.epoch,
        e.train_loss,
        100.0 * e.train_error,
        100.0 * e.test_error,
        e.lr,
        e.temperature,
        e.seconds
    )
}

/// Runs `dam train`.
pub fn run(a: &DamTrainArgs, data_dir: &Path) -> Result<()> {
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
        None => (a.config(), a.data.clone().unwrap_or(DataSource::Builtin(Builtin::MnistSample)), None),
    };
    cfg.validate()?;
    let (train, test) = (load_split(&data, Split::Train, data_dir)?, load_split(&data, Split::Test, data_dir)?);
    println!("{}", dam::describe(&cfg, &describe_splits(&data, &train, &test)));
    let done = resume.as_ref().map_or(0, |r| r.1);
    if done > 0 {
        println!("resuming after epoch {done} of {}", cfg.epochs);
    }
    let data = ImageData { name: data.to_string(), train, test };
    let files = RunFiles { dir: a.out.clone(), checkpoint: a.out.join("checkpoint") };
    let pb = styled_bar(cfg.epochs as u64, "[{bar:30}] epoch {pos}/{len} {msg} {elapsed_precise}");
    let started = std::time::Instant::now();
    let on = |e: dam::Event<'_>| {
        if let Progress::Epoch(_, e) = e {
            pb.set_position(e.epoch as u64);
            pb.set_message(format!("loss {:.4}, test error {:.2}%", e.train_loss, 100.0 * e.test_error));
            if e.epoch == 1 || e.epoch % 10 == 0 || e.epoch == cfg.epochs {
                pb.suspend(|| println!("{}", epoch_line(e)));
            }
        }
    };
    let report = dam::run(&cfg, &data, &files, resume, on).map_err(|e| with_hint(e, "lower --lr"))?;
    pb.finish_and_clear();
    let last = report.last().context("training ran no epoch")?;
    let tested = data.test.len();
    println!(
        "trained in {:.0} s: test error {:.2}% ({} of {tested} wrong)",
        started.elapsed().as_secs_f64(),
        100.0 * last.test_error,
        (last.test_error * tested as f64).round(),
    );
    for f in std::iter::once(&files.checkpoint).chain(&report.files) {
        println!("  wrote {}", f.display());
    }
    Ok(())
}
