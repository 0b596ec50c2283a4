//! `hopfield ham`: the two-layer Hierarchical Associative Memory classifier built from neurons and
//! synapses, trained through its dynamics.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use clap::{Args, Subcommand};
use hopfield_data::Split;
use hopfield_train::experiments::ham::{self, HamResult};
use hopfield_train::experiments::{ImageData, Progress};
use hopfield_train::tasks::ham_classifier::{HamConfig, HamEpoch};

use crate::common::load_split;

#[derive(Subcommand, Debug)]
pub enum HamCommand {
    /// Train the classic two-layer HAM (image → hidden → label, dense synapses) by backpropagation
    /// through its T steps; write metrics.csv and pictures.
    Train(HamTrainArgs),
}

#[derive(Args, Debug)]
pub struct HamTrainArgs {
    /// Data set (trained on its train split, tested on its test split): a built-in name or a path.
    #[arg(long, default_value = "mnist-sample")]
    pub data: hopfield_data::DataSource,
    /// Hidden neurons.
    #[arg(long, default_value_t = HamConfig::default().hidden)]
    pub hidden: usize,
    /// Hidden neurons' Lagrangian: ReLU (½ max(x, 0)²) unless a softmax β is given.
    #[arg(long, allow_negative_numbers = true)]
    pub hidden_softmax: Option<f64>,
    /// T, Euler steps of the dynamics.
    #[arg(long, default_value_t = HamConfig::default().steps)]
    pub steps: usize,
    /// α = dt/τ, the Euler step, in (0, 1].
    #[arg(long, default_value_t = HamConfig::default().step_size, allow_negative_numbers = true)]
    pub step_size: f64,
    /// Passes over the training images.
    #[arg(long, default_value_t = HamConfig::default().epochs)]
    pub epochs: usize,
    /// Images per Adam step.
    #[arg(long, default_value_t = HamConfig::default().batch_size)]
    pub batch_size: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = HamConfig::default().lr, allow_negative_numbers = true)]
    pub lr: f64,
    /// Seed of the weights and the shuffling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Folder for metrics.csv and the pictures (created if missing).
    #[arg(long, default_value = "out/ham")]
    pub out: PathBuf,
}

/// Runs `ham`.
pub fn run(c: &HamCommand, data_dir: &Path, device: &burn::tensor::Device) -> Result<()> {
    let HamCommand::Train(a) = c;
    let cfg = HamConfig {
        hidden: a.hidden,
        hidden_softmax: a.hidden_softmax,
        steps: a.steps,
        step_size: a.step_size,
        epochs: a.epochs,
        batch_size: a.batch_size,
        lr: a.lr,
        seed: a.seed,
    };
    cfg.validate()?;
    let train = load_split(&a.data, Split::Train, data_dir)?;
    let test = load_split(&a.data, Split::Test, data_dir)?;
    println!(
        "HAM classifier: {} train / {} test images of {}, {} hidden ({}), T = {} steps of α = {}",
        train.len(),
        test.len(),
        train.image_len(),
        cfg.hidden,
        cfg.hidden_softmax.map_or("ReLU".to_string(), |b| format!("softmax β = {b}")),
        cfg.steps,
        cfg.step_size
    );
    let started = Instant::now();
    let tests = test.len();
    let data = ImageData { name: a.data.to_string(), train, test };
    let report = ham::run(&cfg, &data, Some(&a.out), device, |e: Progress<'_, HamEpoch, HamResult>| {
        if let Progress::Epoch(_, e) = e {
            println!(
                "epoch {:>3}: loss {:.4}, train error {:.2}%, test error {:.2}% ({:.1} s)",
                e.epoch,
                e.train_loss,
                100.0 * e.train_error,
                100.0 * e.test_error,
                e.seconds
            );
        }
    })?;
    let last = report.result.test_error;
    println!(
        "test error {:.2}% ({} of {tests}) after {} epochs, {:.0} s (lowest {:.2}% at epoch {}, not used to choose)",
        100.0 * last,
        (last * tests as f64).round(),
        cfg.epochs,
        started.elapsed().as_secs_f64(),
        100.0 * report.result.best.0,
        report.result.best.1
    );
    for f in &report.files {
        println!("  wrote {}", f.display());
    }
    Ok(())
}
