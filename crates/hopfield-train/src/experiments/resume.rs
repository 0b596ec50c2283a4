//! The checkpoint of a protocol that trains several runs (folds, seeds, poolings): one folder,
//! rewritten through [`crate::checkpoint::save_folder`] after every epoch of every run and after
//! every run, so that a killed protocol resumes at the run and the epoch it reached and ends with
//! the figures of the uninterrupted one.
//!
//! The folder holds
//! - `config.json`: the format tag [`FORMAT`], the protocol, its configuration, a fingerprint of
//!   the data, the results of the finished runs, and the run in progress (its index, its epochs'
//!   figures, the epoch and score of the best model so far);
//! - `model.safetensors` and `optimizer.bpk`: the run in progress's model and optimiser state after
//!   its last finished epoch; `best.safetensors`: its best model so far (when the run chooses one);
//! - `picture.safetensors`: the finished model the report draws (fold 1's ET, seed 0's ET, the
//!   Hopfield pooling), once it has run.
//!
//! A resumed protocol must have the configuration and the data of the one that wrote the
//! checkpoint; any difference is an error that names it.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use burn::module::Module;
use burn::optim::{ModuleOptimizer, OptimizerRecord};
use burn::store::{ModuleSnapshot, SafetensorsStore};
use burn::tensor::Device;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::checkpoint::{
    check_writable, checkpoint_error, read_config, resolve, save_folder, with_stable_ids, RunLock,
};
use crate::error::{Result, TrainError};
use crate::trainer::{Best, EpochFigures, Event, Optimizer, Task, Trainer};

/// The format tag of a protocol checkpoint's `config.json`.
pub const FORMAT: &str = "hopfield-protocol/1";

/// Where a protocol keeps its checkpoint, and whether it continues the run saved there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpointing {
    /// The checkpoint folder (created, then rewritten after every epoch).
    pub dir: PathBuf,
    /// Continue the protocol saved in `dir` (same configuration and data) instead of starting anew.
    pub resume: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Saved {
    format: String,
    protocol: String,
    config: Value,
    data: String,
    finished: Vec<Value>,
    current: Option<Current>,
    picture: bool,
    /// What the picture needs besides the model (the run's test scores, …).
    #[serde(default)]
    picture_extra: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Current {
    /// 0-based run, in the protocol's order.
    run: usize,
    /// Figures of its finished epochs.
    history: Vec<Value>,
    /// Epoch and score of its best model so far.
    best: Option<(usize, Vec<f64>)>,
}

/// The run in progress as a checkpoint left it.
pub(crate) struct RunResume<M: Module, E, S> {
    /// Its model (on the autodiff device), with stable parameter ids.
    pub model: M,
    /// Its optimiser's state.
    pub optimizer: OptimizerRecord,
    /// Its finished epochs' figures.
    pub history: Vec<E>,
    /// Its best model so far (plain device).
    pub best: Option<Best<S, M>>,
}

/// A protocol's checkpoint while it runs: holds the folder's lock, and what was saved so far.
pub(crate) struct ProtocolCheckpoint {
    dir: PathBuf,
    saved: Mutex<Saved>,
    picture: Mutex<Option<Vec<u8>>>,
    _lock: RunLock,
}

/// A 64-bit FNV-1a hash, for the data's fingerprint.
pub(crate) struct Fingerprint(u64);

impl Default for Fingerprint {
    fn default() -> Self {
        Fingerprint(0xcbf2_9ce4_8422_2325)
    }
}

impl Fingerprint {
    /// Mixes in `values`.
    pub fn add(&mut self, values: impl IntoIterator<Item = u64>) -> &mut Self {
        for v in values {
            for b in v.to_le_bytes() {
                self.0 = (self.0 ^ b as u64).wrapping_mul(0x0100_0000_01b3);
            }
        }
        self
    }

    /// The hash as 16 hex digits.
    pub fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

/// A score (the value [`Best`] compares) as the numbers a checkpoint stores, and back.
pub(crate) trait Score: Sized {
    fn to_vec(&self) -> Vec<f64>;
    fn from_slice(v: &[f64]) -> Option<Self>;
}

impl Score for f64 {
    fn to_vec(&self) -> Vec<f64> {
        vec![*self]
    }
    fn from_slice(v: &[f64]) -> Option<Self> {
        (v.len() == 1).then(|| v[0])
    }
}

impl Score for (f64, f64) {
    fn to_vec(&self) -> Vec<f64> {
        vec![self.0, self.1]
    }
    fn from_slice(v: &[f64]) -> Option<Self> {
        (v.len() == 2).then(|| (v[0], v[1]))
    }
}

fn bad(path: &Path, problem: impl std::fmt::Display) -> TrainError {
    checkpoint_error(path, format!("{problem} (a hopfield protocol checkpoint folder is expected)"), None)
}

fn to_value(v: &impl Serialize, path: &Path) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| TrainError::write(path, e))
}

/// The keys (dotted) where two JSON values differ, each with both values.
fn differences(a: &Value, b: &Value, at: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let path = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
                differences(x.get(k).unwrap_or(&Value::Null), y.get(k).unwrap_or(&Value::Null), &path, out);
            }
        }
        _ if a != b => out.push(format!("{at}: {a} in the checkpoint, {b} now")),
        _ => {}
    }
}

impl ProtocolCheckpoint {
    /// Opens the checkpoint of `protocol` with `config` on the data `data` (a fingerprint): a new
    /// one (the folder must be empty, absent or a checkpoint of ours; nothing is written before
    /// the first epoch), or with `resume` the one saved there, which must be of the same protocol,
    /// configuration and data.
    ///
    /// # Errors
    /// The folder is not ours or is locked by another run; with `resume`, no checkpoint there or
    /// one of another protocol, configuration or data (naming the differences).
    /// `extendable` names the settings that may differ on resume because they only add runs
    /// after the saved ones (the folds or seeds to run).
    pub fn open(
        c: &Checkpointing,
        protocol: &str,
        (config, extendable): (&impl Serialize, &[&str]),
        data: String,
    ) -> Result<Self> {
        check_writable(&c.dir)?;
        let lock = RunLock::acquire(&c.dir)?;
        let config = to_value(config, &c.dir)?;
        let fresh = Saved {
            format: FORMAT.into(),
            protocol: protocol.into(),
            config,
            data,
            finished: Vec::new(),
            current: None,
            picture: false,
            picture_extra: Value::Null,
        };
        let (saved, picture) = if c.resume { Self::read(&c.dir, fresh, extendable)? } else { (fresh, None) };
        Ok(ProtocolCheckpoint {
            dir: c.dir.clone(),
            saved: Mutex::new(saved),
            picture: Mutex::new(picture),
            _lock: lock,
        })
    }

    fn read(dir: &Path, now: Saved, extendable: &[&str]) -> Result<(Saved, Option<Vec<u8>>)> {
        if !resolve(dir).join("config.json").is_file() {
            return Err(bad(dir, "there is no checkpoint to resume here (no config.json); run without --resume"));
        }
        let (folder, mut saved): (_, Saved) = read_config(dir, "protocol checkpoint")?;
        let cfg = folder.join("config.json");
        if saved.format != FORMAT {
            return Err(bad(&cfg, format!("format '{}', expected '{FORMAT}'", saved.format)));
        }
        if saved.protocol != now.protocol {
            return Err(bad(&cfg, format!("it is a checkpoint of '{}', not of '{}'", saved.protocol, now.protocol)));
        }
        if saved.data != now.data {
            return Err(checkpoint_error(
                &cfg,
                format!(
                    "it was written for other data ({}; now {}): resume with the data and folds it was started with",
                    saved.data, now.data
                ),
                None,
            ));
        }
        let mut diff = Vec::new();
        differences(&saved.config, &now.config, "", &mut diff);
        diff.retain(|d| !extendable.iter().any(|k| d.starts_with(&format!("{k}:"))));
        if !diff.is_empty() {
            return Err(checkpoint_error(
                &cfg,
                format!(
                    "it was written with other settings ({}): resume with the settings it was started with",
                    diff.join("; ")
                ),
                None,
            ));
        }
        // From now on the checkpoint holds the settings of this run (more folds or seeds, perhaps).
        saved.config = now.config;
        let picture = if saved.picture {
            let p = folder.join("picture.safetensors");
            Some(std::fs::read(&p).map_err(|e| bad(&p, format!("cannot read it: {e}")))?)
        } else {
            None
        };
        Ok((saved, picture))
    }

    /// The checkpoint of a protocol run with `checkpointing` (none without: nothing is kept), as
    /// [`ProtocolCheckpoint::open`] opens it (`data` is computed only then), and the results of
    /// the runs it had finished, in order.
    ///
    /// # Errors
    /// As [`ProtocolCheckpoint::open`] and [`ProtocolCheckpoint::finished`].
    pub fn open_optional<R: DeserializeOwned>(
        checkpointing: Option<&Checkpointing>,
        protocol: &str,
        config: (&impl Serialize, &[&str]),
        data: impl FnOnce() -> String,
    ) -> Result<(Option<Self>, Vec<R>)> {
        let Some(c) = checkpointing else { return Ok((None, Vec::new())) };
        let checkpoint = Self::open(c, protocol, config, data())?;
        let finished = checkpoint.finished()?;
        Ok((Some(checkpoint), finished))
    }

    /// The results of the runs finished before, in order.
    ///
    /// # Errors
    /// A result that does not read as `R`.
    pub fn finished<R: DeserializeOwned>(&self) -> Result<Vec<R>> {
        let saved = self.saved.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        saved
            .finished
            .iter()
            .enumerate()
            .map(|(i, v)| {
                serde_json::from_value(v.clone()).map_err(|e| {
                    bad(&self.dir.join("config.json"), format!("finished run {} does not read: {e}", i + 1))
                })
            })
            .collect()
    }

    /// The picture's model saved with a finished run, loaded into `fresh` (plain device), and
    /// what else the picture needs as it was saved.
    ///
    /// # Errors
    /// Weights that do not fit `fresh`.
    pub fn picture<M: Module>(&self, fresh: M) -> Result<Option<(M, Value)>> {
        let bytes = self.picture.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let path = self.dir.join("picture.safetensors");
        let extra = self.saved.lock().unwrap_or_else(std::sync::PoisonError::into_inner).picture_extra.clone();
        bytes.map(|b| Ok((load_bytes(fresh, b, &path)?, extra))).transpose()
    }

    /// Run `run` as the checkpoint left it, when it was in progress: `fresh` builds a new model on
    /// a device (the weights are then read into it).
    ///
    /// # Errors
    /// Files missing or not fitting the model.
    pub fn resume_run<M: Module, E: DeserializeOwned, S: Score>(
        &self,
        run: usize,
        fresh: impl Fn(&Device) -> Result<M>,
        device: &Device,
    ) -> Result<Option<RunResume<M, E, S>>> {
        let current = {
            let saved = self.saved.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            match &saved.current {
                Some(c) if c.run == run => c.clone(),
                _ => return Ok(None),
            }
        };
        let folder = resolve(&self.dir);
        let read = |name: &str| {
            let p = folder.join(name);
            std::fs::read(&p).map_err(|e| bad(&p, format!("cannot read it: {e}")))
        };
        let model = with_stable_ids(load_bytes(
            fresh(&device.clone().autodiff())?,
            read("model.safetensors")?,
            &folder.join("model.safetensors"),
        )?);
        let opt_path = folder.join("optimizer.bpk");
        let optimizer = OptimizerRecord::load(&opt_path)
            .map_err(|e| bad(&opt_path, format!("cannot read the optimiser state: {e}")))?;
        let history = current
            .history
            .iter()
            .map(|v| serde_json::from_value(v.clone()))
            .collect::<std::result::Result<Vec<E>, _>>()
            .map_err(|e| bad(&folder.join("config.json"), format!("an epoch's figures do not read: {e}")))?;
        let best = match &current.best {
            None => None,
            Some((epoch, score)) => {
                let score = S::from_slice(score).ok_or_else(|| {
                    bad(&folder.join("config.json"), format!("a best score of {} values", score.len()))
                })?;
                let kept = load_bytes(fresh(device)?, read("best.safetensors")?, &folder.join("best.safetensors"))?;
                Some(Best { epoch: *epoch, score, kept })
            }
        };
        Ok(Some(RunResume { model, optimizer, history, best }))
    }

    /// After an epoch of run `run`: the model, optimiser and best model so far, with the epoch's
    /// figures added to the run's.
    ///
    /// # Errors
    /// Files that cannot be written.
    pub fn save_epoch<M: Module, E: EpochFigures + Serialize, S: Score>(
        &self,
        run: usize,
        (model, optim): (&M, &ModuleOptimizer),
        best: Option<&Best<S, M>>,
        figures: &E,
    ) -> Result<()> {
        let mut saved = self.saved.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let figures = to_value(figures, &self.dir)?;
        match &mut saved.current {
            Some(c) if c.run == run => c.history.push(figures),
            _ => saved.current = Some(Current { run, history: vec![figures], best: None }),
        }
        if let Some(c) = &mut saved.current {
            c.best = best.map(|b| (b.epoch, b.score.to_vec()));
        }
        let picture = self.picture.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        save_folder(&self.dir, |tmp| {
            let mut files = vec![write_model(model, &tmp.join("model.safetensors"))?];
            let opt = tmp.join("optimizer.bpk");
            optim.to_record().save(&opt).map_err(|e| TrainError::write(&opt, e.to_string()))?;
            files.push(opt);
            if let Some(b) = best {
                files.push(write_model(&b.kept, &tmp.join("best.safetensors"))?);
            }
            files.extend(write_rest(tmp, &saved, picture.as_deref())?);
            Ok(files)
        })
    }

    /// After run `run` finished with `result`: no run in progress; `picture`, when given, is kept
    /// for the report's picture (the model, and what else the picture needs).
    ///
    /// # Errors
    /// Files that cannot be written.
    pub fn finish_run<M: Module>(
        &self,
        run: usize,
        result: &impl Serialize,
        picture: Option<(&M, Value)>,
    ) -> Result<()> {
        let mut saved = self.saved.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let value = to_value(result, &self.dir)?;
        if saved.finished.len() != run {
            return Err(bad(&self.dir, format!("run {} finished after {} runs", run + 1, saved.finished.len())));
        }
        saved.finished.push(value);
        saved.current = None;
        let mut kept = self.picture.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((m, extra)) = picture {
            saved.picture_extra = extra;
            let mut store = SafetensorsStore::from_bytes(None);
            m.save_into(&mut store).map_err(|e| TrainError::write(&self.dir, e.to_string()))?;
            *kept = Some(store.get_bytes().map_err(|e| TrainError::write(&self.dir, e.to_string()))?);
            saved.picture = true;
        }
        save_folder(&self.dir, |tmp| write_rest(tmp, &saved, kept.as_deref()))
    }
}

/// Trains run `checkpoint.1` of a protocol: from the checkpoint when it holds that run in progress
/// (its model, AdamW state, best model and epochs), else from a model `fresh` builds (on the
/// autodiff twin of `device`); then the epochs the task's plan has left. `state` makes the task's
/// state from the model, the optimiser and the best model so far. Returns the state and every
/// epoch's figures, the resumed ones first.
///
/// # Errors
/// A checkpoint that does not read; the training's own errors.
pub(crate) fn train_run<T: Task, M: Module, S: Score>(
    (task, trainer): (&T, &Trainer),
    checkpoint: Option<(&ProtocolCheckpoint, usize)>,
    (fresh, device): (impl Fn(&Device) -> Result<M>, &Device),
    mut optim: Optimizer,
    state: impl FnOnce(M, Optimizer, Option<Best<S, M>>) -> T::State,
    on_event: impl FnMut(Event<'_, T::Epoch>),
) -> Result<(T::State, Vec<T::Epoch>)>
where
    T::Epoch: DeserializeOwned,
{
    let resumed = match checkpoint {
        Some((c, run)) => c.resume_run::<M, T::Epoch, S>(run, &fresh, device)?,
        None => None,
    };
    let (start, mut history) = match resumed {
        Some(r) => {
            optim.inner = optim.inner.load_record(r.optimizer);
            (state(r.model, optim, r.best), r.history)
        }
        None => (state(with_stable_ids(fresh(&device.clone().autodiff())?), optim, None), Vec::new()),
    };
    // Done: every epoch of the budget ran, or the run had stopped early (killed before its result
    // was written): continuing would train epochs the uninterrupted run never did.
    if history.len() >= task.plan().epochs || history.last().is_some_and(|last| task.stop(&start, last)) {
        return Ok((start, history));
    }
    let (end, more) = trainer.run(task, start, history.len(), on_event)?;
    history.extend(more);
    Ok((end, history))
}

fn write_model<M: Module>(model: &M, path: &Path) -> Result<PathBuf> {
    let mut store = SafetensorsStore::from_file(path.to_path_buf()).overwrite(true);
    model.save_into(&mut store).map_err(|e| TrainError::write(path, e.to_string()))?;
    Ok(path.to_path_buf())
}

/// `config.json` and `picture.safetensors` into `tmp`.
fn write_rest(tmp: &Path, saved: &Saved, picture: Option<&[u8]>) -> Result<Vec<PathBuf>> {
    let cfg = tmp.join("config.json");
    crate::checkpoint::write_json(&cfg, saved)?;
    let mut files = vec![cfg];
    if let Some(bytes) = picture {
        let p = tmp.join("picture.safetensors");
        std::fs::write(&p, bytes).map_err(|e| TrainError::write(&p, e))?;
        files.push(p);
    }
    Ok(files)
}

fn load_bytes<M: Module>(mut model: M, bytes: Vec<u8>, path: &Path) -> Result<M> {
    let mut store = SafetensorsStore::from_bytes(Some(bytes));
    let applied = model.load_from(&mut store).map_err(|e| bad(path, format!("cannot read the weights: {e}")))?;
    if !applied.missing.is_empty() || !applied.errors.is_empty() {
        let missing: Vec<&str> = applied.missing.iter().map(|m| m.0.as_str()).collect();
        return Err(bad(path, format!("tensors missing {missing:?}, errors {:?}", applied.errors)));
    }
    Ok(model)
}
