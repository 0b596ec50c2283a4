//! The Energy Transformer on images: masked patch reconstruction trained through the one training
//! loop (metrics.csv and a checkpoint after every epoch, resumable), evaluated after every epoch
//! beside both baselines (each position's mean training patch, and the same model without its
//! descent, T = 0), then its pictures (reconstructions, the image after each descent step, the
//! energy over the steps).

use std::path::PathBuf;

use burn::tensor::Device;
use hopfield::et::ImageEnergyTransformer;

use super::{relay, Observer, Progress, RunId};
pub use super::{ImageData, RunFiles};
use crate::error::{invalid, Result};
use crate::pictures::et::{write_et_pictures, Reconstructor};
use crate::tasks::masked_image::checkpoint::Resume;
use crate::tasks::masked_image::{EpochMetrics, EtTrainConfig, MaskedImage};

/// What this protocol reports while it runs (write a closure's argument as `|e: Event<'_>|`).
pub type Event<'a> = Progress<'a, EpochMetrics, Vec<EpochMetrics>>;

/// What a run gives.
pub struct EtImageReport {
    /// The trained model (plain device).
    pub model: ImageEnergyTransformer,
    /// The figures of the epochs run here.
    pub metrics: Vec<EpochMetrics>,
    /// The files written: metrics.csv, then the pictures.
    pub files: Vec<PathBuf>,
    /// Seconds of training and pictures.
    pub seconds: f64,
}

/// The files a run writes into its output folder.
pub const OUTPUTS: &[&str] =
    &["metrics.csv", "et-reconstruction.png", "et-steps.png", "et-energy.png", "et-memories.png"];

/// Trains `config` on `data` over `devices` (the first is the main one; more than one trains
/// data-parallel), from `resume` when given, writing into `files`; tells `observer` as it goes.
///
/// # Errors
/// Invalid settings; images of another shape than the model's; sizes that cannot fit; a loss that
/// becomes NaN/∞; outputs that cannot be written; the observer's cancel flag (the checkpoint then
/// holds the last finished epoch).
pub fn run(
    config: &EtTrainConfig,
    data: &ImageData,
    devices: &[Device],
    files: &RunFiles,
    resume: Option<Resume>,
    mut observer: impl Observer<EpochMetrics, Vec<EpochMetrics>>,
) -> Result<EtImageReport> {
    config.validate()?;
    let device = devices.first().ok_or_else(|| invalid("devices", "none", "at least one device"))?;
    // A user's file under one of the run's output names stops it before it trains.
    hopfield_data::outputs::claim_all(&files.dir, OUTPUTS)?;
    let trainer = files.trainer(observer.cancel())?;
    let started = std::time::Instant::now();
    let task = MaskedImage::new(&data.train, &data.test, config, &data.name, device)?.with_devices(devices)?;
    let csv = files.metrics();
    let id = RunId::single("ET", data.train.len(), config.epochs, "images");
    observer.on(Progress::Started(&id));
    let (model, metrics) = task.train(resume, &trainer, relay(&id, &mut observer))?;
    let r = Reconstructor { model: &model, norm: task.normalization(), descent: &config.model.descent };
    let pictures = write_et_pictures(&r, &data.test, (task.mask_spec(), config.seed), 6, &files.dir, device)?;
    observer.on(Progress::Finished(&id, &metrics));
    let files = std::iter::once(csv).chain(pictures).collect();
    Ok(EtImageReport { model, metrics, files, seconds: started.elapsed().as_secs_f64() })
}
