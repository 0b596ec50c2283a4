//! The two-layer HAM classifier as a protocol: train on a data set's training images, test after
//! every epoch, write `metrics.csv` and the pictures ([`crate::tasks::ham_classifier`]).

use std::path::{Path, PathBuf};

use burn::tensor::Device;

use super::{relay, ImageData, Observer, Progress, RunId};
use crate::error::Result;
use crate::tasks::ham_classifier::{train_ham, write_pictures, HamClassifier, HamConfig, HamEpoch};
use crate::trainer::Trainer;

/// What a finished run reports.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HamResult {
    /// Test error after the last epoch.
    pub test_error: f64,
    /// The lowest test error of any epoch, and that epoch (reported, never used to choose anything).
    pub best: (f64, usize),
}

/// The trained classifier and its epochs.
#[derive(Debug)]
pub struct HamReport {
    /// The data's name.
    pub data: String,
    /// The settings.
    pub config: HamConfig,
    /// Every epoch's figures.
    pub history: Vec<HamEpoch>,
    /// The final figures.
    pub result: HamResult,
    /// The trained model (plain device).
    pub model: HamClassifier,
    /// What was written.
    pub files: Vec<PathBuf>,
}

/// Trains the HAM of `config` on `data`, writing `metrics.csv` and the pictures into `out` when
/// given; `observer` sees every step and epoch and may cancel the run.
///
/// # Errors
/// Invalid settings, test images of another size, a loss that becomes NaN/∞, the observer's cancel
/// flag, files that cannot be written.
pub fn run(
    config: &HamConfig,
    data: &ImageData,
    out: Option<&Path>,
    device: &Device,
    mut observer: impl Observer<HamEpoch, HamResult>,
) -> Result<HamReport> {
    config.validate()?;
    if let Some(dir) = out {
        std::fs::create_dir_all(dir).map_err(|e| crate::TrainError::write(dir, e))?;
    }
    let trainer = Trainer { metrics: out.map(|d| d.join("metrics.csv")), checkpoint: None, cancel: observer.cancel() };
    let run = RunId {
        unit: "run",
        index: 1,
        of: 1,
        model: "HAM".into(),
        examples: data.train.len(),
        epochs: config.epochs,
        example_unit: "images",
    };
    observer.on(Progress::Started(&run));
    let (model, history) = train_ham(&data.train, &data.test, config, device, &trainer, relay(&run, &mut observer))?;
    let last = history.last().map_or(f64::NAN, |e| e.test_error);
    let best =
        history.iter().fold((f64::INFINITY, 0), |b, e| if e.test_error < b.0 { (e.test_error, e.epoch) } else { b });
    let result = HamResult { test_error: last, best };
    observer.on(Progress::Finished(&run, &result));
    let mut files = Vec::new();
    if let Some(dir) = out {
        files.push(dir.join("metrics.csv"));
        files.extend(write_pictures(&model, &history, &data.test, device, dir)?);
    }
    Ok(HamReport { data: data.name.clone(), config: config.clone(), history, result, model, files })
}
