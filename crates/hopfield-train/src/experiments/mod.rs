//! The protocols: each a validated config, a `run(config, data, &device, observer)` and a typed
//! report that prints its table and writes its CSVs and pictures into a folder. The command line
//! and the Python package are front ends over these calls.
//!
//! | module | protocol |
//! |---|---|
//! | [`recall`] | recall of stored images from corrupted cues |
//! | [`capacity`] | capacity sweeps of the load against the theory |
//! | [`ham`] | the two-layer HAM classifier trained through its dynamics |
//! | [`families`] | the memories of 2023–2025: sparse transforms, log-sum-ReLU minima, DrDAM against Y |
//! | [`graph_cv`] | graph classification by k-fold cross-validation, ET beside the MLP |
//! | [`node_anomaly`] | supervised node anomaly detection over several seeds, ET beside the MLP |
//! | [`node_outliers`] | unsupervised node anomaly detection (BOND): ET, MLP autoencoder and LOF, no labels in any fit |
//! | [`mil`] | multiple-instance learning: Hopfield pooling against mean pooling on the same bags |
//! | [`dam`] | the Dense Associative Memory classifier trained on images, with its pictures |
//! | [`et_image`] | the Energy Transformer's masked image reconstruction beside both baselines |
//!
//! The protocols of several runs (graph classification, node anomaly detection, MIL) keep a
//! checkpoint of every run and epoch when given a [`resume::Checkpointing`], and continue from it.
//!
//! The training protocols report while they run through one event type, [`Progress`], and stop
//! between two batches when their [`Observer`]'s [`Cancel`] flag is set.

pub mod capacity;
pub mod dam;
pub mod et_image;
pub mod families;
pub mod graph_cv;
pub mod graph_select;
pub mod ham;
pub mod mil;
pub mod node_anomaly;
pub mod node_outliers;
pub mod recall;
pub mod resume;

use std::path::{Path, PathBuf};

use hopfield_data::Dataset;

pub use crate::trainer::Cancel;
use crate::trainer::Event;

/// One training run inside a protocol: which fold (or seed, or pooling) and which model.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RunId {
    /// What the protocol repeats over: "fold", "seed" or "pooling".
    pub unit: &'static str,
    /// 1-based position among the repetitions.
    pub index: usize,
    /// Repetitions in all.
    pub of: usize,
    /// The model trained, as its report names it ("ET", "MLP", "hopfield", "mean").
    pub model: String,
    /// Training examples an epoch.
    pub examples: usize,
    /// Epochs of the run.
    pub epochs: usize,
    /// What an example is: "graphs", "nodes", "bags".
    pub example_unit: &'static str,
}

/// Training and test images, and what they are called (in the checkpoint and in titles).
#[derive(Debug, Clone)]
pub struct ImageData {
    /// The data's name, e.g. "mnist-sample".
    pub name: String,
    /// Trained on.
    pub train: Dataset,
    /// Evaluated on after every epoch, and drawn in the pictures.
    pub test: Dataset,
}

/// Where a run writes: `metrics.csv` and the pictures into `dir`, the checkpoint into `checkpoint`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunFiles {
    /// Folder for metrics.csv and the pictures (created if missing).
    pub dir: PathBuf,
    /// Checkpoint folder, written after every epoch.
    pub checkpoint: PathBuf,
}

impl RunFiles {
    /// `dir/metrics.csv`.
    pub fn metrics(&self) -> PathBuf {
        self.dir.join("metrics.csv")
    }

    /// A trainer writing metrics.csv and the checkpoint here (the folder created), stopped by `cancel`.
    ///
    /// # Errors
    /// The folder cannot be created.
    pub fn trainer(&self, cancel: Cancel) -> crate::Result<crate::trainer::Trainer> {
        std::fs::create_dir_all(&self.dir).map_err(|e| crate::TrainError::write(&self.dir, e))?;
        Ok(crate::trainer::Trainer { checkpoint: Some(self.checkpoint.clone()), metrics: Some(self.metrics()), cancel })
    }
}

impl RunId {
    /// The one run of a protocol that trains one model.
    pub fn single(model: &str, examples: usize, epochs: usize, example_unit: &'static str) -> RunId {
        RunId { unit: "run", index: 1, of: 1, model: model.into(), examples, epochs, example_unit }
    }
}

/// What a protocol reports while it runs: `E` is its epoch figures, `R` one run's result.
#[derive(Debug)]
pub enum Progress<'a, E, R> {
    /// A run starts.
    Started(&'a RunId),
    /// One optimiser step of a run finished.
    Step {
        /// The run.
        run: &'a RunId,
        /// 1-based epoch.
        epoch: usize,
        /// Examples seen in this epoch.
        done: usize,
        /// This step's loss.
        loss: f64,
        /// Training examples a second since the run started.
        per_second: f64,
    },
    /// An epoch of a run finished and was evaluated.
    Epoch(&'a RunId, &'a E),
    /// A run finished: its result.
    Finished(&'a RunId, &'a R),
}

/// Who watches a protocol: sees each [`Progress`] event, and may hold the flag that cancels it.
/// Any `FnMut(Progress<'_, E, R>)` closure is an observer that never cancels (write its argument's
/// type, `|e: Progress<'_, _, _>| …`, so that it takes events of any lifetime); [`Silent`] sees
/// nothing.
pub trait Observer<E, R> {
    /// Called for every event, in order.
    fn on(&mut self, event: Progress<'_, E, R>);
    /// The flag checked before every step (by default one nobody sets).
    fn cancel(&self) -> Cancel {
        Cancel::default()
    }
}

impl<E, R, F: FnMut(Progress<'_, E, R>)> Observer<E, R> for F {
    fn on(&mut self, event: Progress<'_, E, R>) {
        self(event)
    }
}

/// An observer that ignores every event and never cancels.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl<E, R> Observer<E, R> for Silent {
    fn on(&mut self, _: Progress<'_, E, R>) {}
}

/// An observer (a closure) with a cancel flag.
pub struct Cancellable<F> {
    /// Sees the events.
    pub on: F,
    /// Stops the run once set.
    pub cancel: Cancel,
}

impl<E, R, F: FnMut(Progress<'_, E, R>)> Observer<E, R> for Cancellable<F> {
    fn on(&mut self, event: Progress<'_, E, R>) {
        (self.on)(event)
    }
    fn cancel(&self) -> Cancel {
        self.cancel.clone()
    }
}

/// Turns the training loop's events of `run` into the protocol's [`Progress`] for `observer`.
pub(crate) fn relay<'o, E, R>(run: &'o RunId, observer: &'o mut impl Observer<E, R>) -> impl FnMut(Event<'_, E>) + 'o {
    let started = std::time::Instant::now();
    move |e| match e {
        Event::Batch { epoch, done, total, loss } => {
            let seen = (epoch - 1) * total + done;
            let per_second = seen as f64 / started.elapsed().as_secs_f64().max(1e-9);
            observer.on(Progress::Step { run, epoch, done, loss, per_second });
        }
        Event::Epoch(figures) => observer.on(Progress::Epoch(run, figures)),
    }
}

/// Every epoch of every run as one CSV: `keys` names the columns that say which run (e.g.
/// "model,fold"), each run gives its key values (e.g. "ET,3") and its epochs.
pub(crate) fn history_csv<'r, E: crate::trainer::EpochFigures + 'r>(
    keys: &str,
    runs: impl Iterator<Item = (String, &'r [E])>,
) -> String {
    let mut csv = format!("{keys},{}\n", E::csv_header());
    for (key, history) in runs {
        history.iter().for_each(|e| csv += &format!("{key},{}\n", e.csv_row()));
    }
    csv
}

/// The runs of each model in the order the models first ran: (model, its runs).
pub(crate) fn by_model<R, M: PartialEq + Copy>(runs: &[R], model: impl Fn(&R) -> M) -> Vec<(M, Vec<&R>)> {
    let mut out: Vec<(M, Vec<&R>)> = Vec::new();
    for r in runs {
        match out.iter_mut().find(|(m, _)| *m == model(r)) {
            Some((_, of)) => of.push(r),
            None => out.push((model(r), vec![r])),
        }
    }
    out
}

/// The folder `name` names: itself when it is one, else `<data_dir>/<kind>/<name>` when that is
/// one; `Err` holds the place looked for under the data folder.
pub(crate) fn named_dir(name: &str, data_dir: &Path, kind: &str) -> std::result::Result<PathBuf, PathBuf> {
    let looked = data_dir.join(kind).join(name);
    [PathBuf::from(name), looked.clone()].into_iter().find(|p| p.is_dir()).ok_or(looked)
}

/// Creates `dir` and writes `text` to `dir/name`; returns the path.
pub(crate) fn write_file(dir: &Path, name: &str, text: &str) -> crate::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| crate::TrainError::write(dir, e))?;
    let path = hopfield_data::outputs::claim(&dir.join(name))?;
    std::fs::write(&path, text).map_err(|e| crate::TrainError::write(&path, e))?;
    Ok(path)
}
