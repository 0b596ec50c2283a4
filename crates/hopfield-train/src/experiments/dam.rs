//! The Dense Associative Memory classifier (Krotov & Hopfield 2016) trained on images: through
//! the one training loop (metrics.csv and a checkpoint after every epoch, resumable bit for bit),
//! tested after every epoch, then its pictures (the memories, and the errors over the whole run,
//! a resumed run's earlier epochs included).

use std::path::PathBuf;

use hopfield::dam::DamClassifier;

use super::{ImageData, Observer, Progress, RunFiles, RunId};
use crate::error::Result;
use crate::pictures::dam::{write_dam_errors, write_dam_memories};
use crate::tasks::dam_classifier::{train_dam, DamEpoch, DamState, DamTrainConfig};

/// What this protocol reports while it runs (write a closure's argument as `|e: Event<'_>|`).
pub type Event<'a> = Progress<'a, DamEpoch, Vec<DamEpoch>>;

/// What a run gives.
pub struct DamReport {
    /// The trained classifier.
    pub dam: DamClassifier<f32>,
    /// Every epoch's figures over the whole run (a resumed run's earlier epochs read back from
    /// metrics.csv).
    pub history: Vec<DamEpoch>,
    /// The files written: metrics.csv, memories.png, errors.png.
    pub files: Vec<PathBuf>,
}

impl DamReport {
    /// The last epoch's figures.
    pub fn last(&self) -> Option<&DamEpoch> {
        self.history.last()
    }
}

/// " → T_f over R epochs" when the temperature ramps, else nothing.
fn ramp(config: &DamTrainConfig) -> String {
    match config.temperature_final {
        Some(t) => format!(" → {t} over {} epochs", config.temperature_ramp),
        None => String::new(),
    }
}

/// The title of the errors picture: the data, K, n, T and its ramp.
pub fn title(config: &DamTrainConfig, data: &str) -> String {
    format!("DAM on {data}: K = {}, n = {}, T = {}{}", config.memories, config.n, config.temperature, ramp(config))
}

/// One line: the data (as the caller describes it), K, n, m, T and its ramp.
pub fn describe(config: &DamTrainConfig, data: &str) -> String {
    let (k, n, m, t) = (config.memories, config.n, config.m, config.temperature);
    format!("DAM classifier on {data}: K = {k}, n = {n}, m = {m}, T = {t}{}", ramp(config))
}

/// The files a run writes into its output folder.
pub const OUTPUTS: &[&str] = &["metrics.csv", "memories.png", "errors.png"];

/// Trains `config` on `data` (from `resume`: a state after its epochs when given), writing into
/// `files`; tells `observer` as it goes.
///
/// # Errors
/// Invalid settings; a loss that becomes NaN/∞; outputs that cannot be written; the observer's
/// cancel flag (the checkpoint then holds the last finished epoch).
pub fn run(
    config: &DamTrainConfig,
    data: &ImageData,
    files: &RunFiles,
    resume: Option<(DamState, usize)>,
    mut observer: impl Observer<DamEpoch, Vec<DamEpoch>>,
) -> Result<DamReport> {
    config.validate()?;
    // A user's file under one of the run's output names stops it before it trains.
    hopfield_data::outputs::claim_all(&files.dir, OUTPUTS)?;
    let (trainer, csv) = (files.trainer(observer.cancel())?, files.metrics());
    let id = RunId::single("DAM", data.train.len(), config.epochs, "images");
    observer.on(Progress::Started(&id));
    let (dam, history) = train_dam(&data.train, &data.test, config, &data.name, resume, &trainer, |e| {
        observer.on(Progress::Epoch(&id, e))
    })?;
    let (train, memories) = (&data.train, files.dir.join("memories.png"));
    write_dam_memories(&dam, (train.channels(), train.height(), train.width()), config.memories, 10, &memories)?;
    // The whole run's curve: a resumed run's earlier epochs are in metrics.csv.
    let all: Vec<DamEpoch> = std::fs::read_to_string(&csv)
        .map(|t| t.lines().filter_map(DamEpoch::from_csv_row).collect())
        .unwrap_or_default();
    let history = if all.len() >= history.len() { all } else { history };
    let errors = files.dir.join("errors.png");
    write_dam_errors(&history, &title(config, &data.name), &errors)?;
    observer.on(Progress::Finished(&id, &history));
    Ok(DamReport { dam, history, files: vec![csv, memories, errors] })
}
