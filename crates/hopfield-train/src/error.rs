//! Errors of the training layer: wraps the math and data errors and adds its own. Messages speak
//! of values and files, never of command-line flags (the CLI adds those); causes are kept as
//! sources.

use std::path::PathBuf;

/// Any error that caused a read or write to fail.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Errors from training, experiments and their outputs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// From the math library.
    #[error(transparent)]
    Math(#[from] hopfield::Error),
    /// From the data layer.
    #[error(transparent)]
    Data(#[from] hopfield_data::DataError),
    /// A data set named by a protocol is neither a folder nor under the data folder.
    #[error("{what} '{name}' not found: it is not a folder, and {} does not exist; {hint}", looked.display())]
    NotFound {
        /// What was looked for ("graph set", "anomaly graph").
        what: &'static str,
        /// The name given.
        name: String,
        /// Where it was looked for under the data folder.
        looked: PathBuf,
        /// What to give instead.
        hint: &'static str,
    },
    /// A setting outside its valid range.
    #[error("invalid {name} = {value}: {expected}")]
    Invalid {
        /// The setting.
        name: &'static str,
        /// The value given.
        value: String,
        /// What a valid value looks like.
        expected: String,
    },
    /// A worker of data-parallel training failed, or a shard's loss could not be computed.
    #[error("data-parallel training: {0}")]
    Parallel(String),
    /// The training loss became NaN or infinite.
    #[error("the loss diverged at iteration {iteration} (epoch {epoch}){context}: it reached {loss}")]
    Diverged {
        /// The loss value.
        loss: f64,
        /// 0-based optimiser step of the whole run.
        iteration: usize,
        /// 1-based epoch.
        epoch: usize,
        /// What was being trained, e.g. " with mean pooling" (may be empty).
        context: String,
    },
    /// The run's cancel flag was set: it stopped before iteration `iteration`. The checkpoint and
    /// `metrics.csv` (when the run keeps them) hold the `epochs_done` complete epochs.
    #[error("cancelled at iteration {iteration} (epoch {epoch}), before its step; the {epochs_done} epochs finished before it are kept")]
    Cancelled {
        /// 1-based epoch the run was in.
        epoch: usize,
        /// 0-based optimiser step that did not run.
        iteration: usize,
        /// Epochs finished (and checkpointed, when the run has a checkpoint folder) before it stopped.
        epochs_done: usize,
    },
    /// A figure that must be a number came out NaN or infinite: where it arose, and why.
    #[error("{what} is {value}: {why}")]
    NotFinite {
        /// The figure and where it arose ("the masked-patch MSE of test images 0–63").
        what: String,
        /// Its value (NaN or ±∞).
        value: f64,
        /// What made it so, as far as it can be traced (a step, a weight).
        why: String,
    },
    /// Work whose memory does not fit in the machine, refused before allocating.
    #[error("{what} needs {needs}, more than the {available} this process may use")]
    TooLarge {
        /// What needs the memory, with its sizes.
        what: String,
        /// The memory it needs.
        needs: String,
        /// The machine's memory.
        available: String,
    },
    /// Writing an output failed.
    #[error("cannot write {}", path.display())]
    Write {
        /// The output file or folder.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: Cause,
    },
    /// A checkpoint that cannot be read or does not fit.
    #[error("{}: {problem}", path.display())]
    Checkpoint {
        /// The folder or file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
        /// The underlying error, when there is one.
        #[source]
        source: Option<Cause>,
    },
}

/// Result type of the training layer.
pub type Result<T> = std::result::Result<T, TrainError>;

impl TrainError {
    /// A write of `path` that failed with `source`.
    pub fn write(path: impl Into<PathBuf>, source: impl Into<Cause>) -> Self {
        TrainError::Write { path: path.into(), source: source.into() }
    }
}

/// Ok for a positive, finite `v`; else the error naming `name` and the value.
pub(crate) fn positive(name: &'static str, v: f64) -> Result<()> {
    if v > 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(invalid(name, v, "must be positive and finite"))
    }
}

pub(crate) fn invalid(name: &'static str, value: impl ToString, expected: impl ToString) -> TrainError {
    TrainError::Invalid { name, value: value.to_string(), expected: expected.to_string() }
}
