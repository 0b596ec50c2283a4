//! One training loop for every task. A [`Task`] says how a batch of examples becomes an optimiser
//! step (its loss, its update rule) and what an epoch's evaluation measures; the [`Trainer`] does
//! the rest: the shuffle of each epoch, batching, the divergence check naming the iteration, the
//! evaluation after every epoch, progress [`Event`]s, `metrics.csv` (a line appended after every
//! epoch, earlier lines kept on resume), a checkpoint after every epoch, and resuming from one.
//!
//! The gradient tasks (masked image reconstruction, multiple-instance learning) step through
//! [`Optimizer`] (Adam or AdamW, a learning-rate [`Schedule`], gradient clipping); the DAM
//! classifier keeps its own update rule and runs in the same loop.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use burn::module::Module;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamConfig, AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::Tensor;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::error::{invalid, Result, TrainError};

/// Where a step sits in the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Iteration {
    /// 1-based epoch.
    pub epoch: usize,
    /// 0-based optimiser step over the whole run.
    pub index: usize,
    /// Optimiser steps in the whole run.
    pub total: usize,
}

/// What one optimiser step reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepResult {
    /// The batch's loss (the trainer stops when it is NaN or infinite).
    pub loss: f64,
    /// How many of the batch's examples the model got wrong, for tasks that count it.
    pub wrong: usize,
}

/// The sums of an epoch's steps, from which a task makes its epoch figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochSummary {
    /// 1-based epoch.
    pub epoch: usize,
    /// Σ of the steps' losses.
    pub loss_sum: f64,
    /// Optimiser steps.
    pub batches: usize,
    /// Training examples seen.
    pub examples: usize,
    /// Σ of the steps' wrong counts.
    pub wrong: usize,
    /// Seconds the steps took (evaluation excluded).
    pub seconds: f64,
}

/// The size of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Training examples (the trainer shuffles their indices).
    pub examples: usize,
    /// Examples per optimiser step.
    pub batch_size: usize,
    /// Epochs of the whole run.
    pub epochs: usize,
}

/// An epoch's figures as a line of `metrics.csv`.
pub trait EpochFigures {
    /// 1-based epoch.
    fn epoch(&self) -> usize;
    /// The CSV header (without a newline).
    fn csv_header() -> &'static str;
    /// This epoch's CSV line (without a newline).
    fn csv_row(&self) -> String;
}

/// How a batch of examples becomes an optimiser step, and what an epoch's evaluation measures.
pub trait Task {
    /// What training changes: the model and the optimiser's state.
    type State;
    /// One epoch's figures.
    type Epoch: EpochFigures;
    /// How many examples, how many a step, how many epochs.
    fn plan(&self) -> Plan;
    /// The generator of epoch `epoch`: it shuffles the examples and then draws whatever the steps
    /// draw (masks). A function of the seed and the epoch, or a stream carried in `state`, so
    /// that a resumed run draws what the uninterrupted one would.
    fn epoch_rng(&self, state: &Self::State, epoch: usize) -> ChaCha8Rng;
    /// One optimiser step on the examples `batch` (the state moves through it, as burn modules do).
    fn step(
        &self,
        state: Self::State,
        batch: &[usize],
        rng: &mut ChaCha8Rng,
        at: Iteration,
    ) -> Result<(Self::State, StepResult)>;
    /// After the epoch's last step (`rng` as the steps left it): evaluate, and return the figures.
    fn finish_epoch(&self, state: &mut Self::State, summary: EpochSummary, rng: ChaCha8Rng) -> Result<Self::Epoch>;
    /// Writes a checkpoint of `state` after the epoch `figures` describe into the folder `dir`
    /// (by default nothing: a task without checkpoints).
    fn save(&self, state: &Self::State, figures: &Self::Epoch, dir: &Path) -> Result<()> {
        let _ = (state, figures, dir);
        Ok(())
    }
    /// After every epoch (and after [`Task::save`]): a task that keeps a checkpoint of its own — a
    /// protocol's, which holds its finished runs beside this one — writes it here (by default
    /// nothing).
    fn checkpoint(&self, state: &Self::State, figures: &Self::Epoch) -> Result<()> {
        let _ = (state, figures);
        Ok(())
    }
    /// Groups an epoch's shuffled examples into the batches of its steps: by default consecutive
    /// chunks of `batch_size`. A task may regroup them (graphs of like size together, so a padded
    /// batch wastes little) but must return ⌈examples / batch_size⌉ batches that hold every example
    /// once; `rng` is the epoch's generator, after the shuffle.
    fn batches(&self, order: &[usize], batch_size: usize, rng: &mut ChaCha8Rng) -> Vec<Vec<usize>> {
        let _ = rng;
        order.chunks(batch_size).map(<[usize]>::to_vec).collect()
    }
    /// After epoch `figures` (evaluated, checkpointed): whether the run stops here, before its epoch
    /// budget (by default never; early stopping on a validation figure says when).
    fn stop(&self, state: &Self::State, figures: &Self::Epoch) -> bool {
        let _ = (state, figures);
        false
    }
    /// Words for a divergence error, e.g. " with mean pooling" (empty by default).
    fn describe(&self) -> String {
        String::new()
    }
}

/// What [`Trainer::run`] reports while it runs.
pub enum Event<'a, E> {
    /// One optimiser step finished.
    Batch {
        /// 1-based epoch.
        epoch: usize,
        /// Examples seen in this epoch.
        done: usize,
        /// Examples per epoch.
        total: usize,
        /// This step's loss.
        loss: f64,
    },
    /// An epoch finished, was evaluated, and (when the trainer has a folder for it) checkpointed.
    Epoch(&'a E),
}

/// A flag that stops a run between two batches: clone it, hand one copy to the run and set the
/// other from anywhere (another thread, a signal handler's poll, a Python callback). The run then
/// stops before its next step with [`TrainError::Cancelled`]; what it wrote after its last complete
/// epoch (checkpoint, `metrics.csv` line) stays, so the run can be resumed from there.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A flag not yet set.
    pub fn new() -> Self {
        Cancel::default()
    }

    /// Asks every run holding a copy to stop before its next step.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`Cancel::cancel`] was called on any copy.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// The run's bookkeeping: where the checkpoint and `metrics.csv` go (neither by default), and the
/// flag that cancels it.
#[derive(Debug, Clone, Default)]
pub struct Trainer {
    /// Checkpoint folder, written after every epoch.
    pub checkpoint: Option<PathBuf>,
    /// `metrics.csv`, a line appended after every epoch.
    pub metrics: Option<PathBuf>,
    /// Checked before every step: once set, the run stops with [`TrainError::Cancelled`].
    pub cancel: Cancel,
}

impl Trainer {
    /// Runs `task` from `state` after `epochs_done` finished epochs (0 for a new run) up to
    /// `task.epochs()`, calling `on_event` after each step and each epoch. Returns the state and the
    /// figures of the epochs run here.
    ///
    /// # Errors
    /// Nothing left to train; a loss that becomes NaN or infinite ([`TrainError::Diverged`], naming
    /// the iteration); the cancel flag set ([`TrainError::Cancelled`]); the task's own errors; a
    /// checkpoint or `metrics.csv` that cannot be written (the run stops at once).
    pub fn run<T: Task>(
        &self,
        task: &T,
        mut state: T::State,
        epochs_done: usize,
        mut on_event: impl FnMut(Event<'_, T::Epoch>),
    ) -> Result<(T::State, Vec<T::Epoch>)> {
        let plan = task.plan();
        let Plan { examples: n, batch_size, epochs } = plan;
        if batch_size == 0 || n == 0 {
            return Err(invalid("batch", format!("{batch_size} of {n} examples"), "at least one example a step"));
        }
        if epochs_done >= epochs {
            return Err(invalid("epochs", epochs, format!("more than the {epochs_done} epochs already trained")));
        }
        // Before anything is written: the checkpoint folder is ours (or new) and no other run holds it.
        let _lock = match &self.checkpoint {
            Some(dir) => {
                crate::checkpoint::check_writable(dir)?;
                Some(crate::checkpoint::RunLock::acquire(dir)?)
            }
            None => None,
        };
        if let Some(path) = &self.metrics {
            start_metrics::<T::Epoch>(path, epochs_done)?;
        }
        let per_epoch = n.div_ceil(batch_size);
        let total = per_epoch.checked_mul(epochs).ok_or_else(|| {
            invalid("epochs", epochs, format!("few enough epochs of {per_epoch} steps that their total can be counted"))
        })?;
        let mut at = Iteration { epoch: epochs_done, index: per_epoch * epochs_done, total };
        let mut history = Vec::new();
        for epoch in epochs_done + 1..=epochs {
            let start = Instant::now();
            at.epoch = epoch;
            let (mut rng, batches) = shuffled_batches(task, &state, epoch, plan)?;
            let (next, mut summary) = self.epoch_steps(task, state, &batches, &mut rng, &mut at, &mut on_event)?;
            state = next;
            summary.seconds = start.elapsed().as_secs_f64();
            let figures = task.finish_epoch(&mut state, summary, rng)?;
            // The line first: a kill between the two leaves a line for an epoch the checkpoint
            // lacks, which a resumed run drops and writes again (the other order would lose it).
            if let Some(path) = &self.metrics {
                append_line(path, &figures.csv_row())?;
            }
            if let Some(dir) = &self.checkpoint {
                task.save(&state, &figures, dir)?;
            }
            task.checkpoint(&state, &figures)?;
            on_event(Event::Epoch(&figures));
            let stop = task.stop(&state, &figures);
            history.push(figures);
            if stop {
                break;
            }
        }
        Ok((state, history))
    }

    /// The optimiser steps of one epoch over `batches`, `at` moving along; stops before a step
    /// when the cancel flag is set, and after one whose loss is NaN or infinite.
    fn epoch_steps<T: Task>(
        &self,
        task: &T,
        mut state: T::State,
        batches: &[Vec<usize>],
        rng: &mut ChaCha8Rng,
        at: &mut Iteration,
        on_event: &mut impl FnMut(Event<'_, T::Epoch>),
    ) -> Result<(T::State, EpochSummary)> {
        let epoch = at.epoch;
        let total = batches.iter().map(Vec::len).sum();
        let mut s = EpochSummary { epoch, loss_sum: 0.0, batches: 0, examples: 0, wrong: 0, seconds: 0.0 };
        for batch in batches {
            if self.cancel.is_cancelled() {
                return Err(TrainError::Cancelled { epoch, iteration: at.index, epochs_done: epoch - 1 });
            }
            let (next, r) = task.step(state, batch, rng, *at)?;
            state = next;
            if !r.loss.is_finite() {
                return Err(TrainError::Diverged {
                    loss: r.loss,
                    iteration: at.index,
                    epoch,
                    context: task.describe(),
                });
            }
            s.loss_sum += r.loss;
            s.batches += 1;
            s.examples += batch.len();
            s.wrong += r.wrong;
            at.index += 1;
            on_event(Event::Batch { epoch, done: s.examples, total, loss: r.loss });
        }
        Ok((state, s))
    }
}

/// Epoch `epoch`'s generator, after it shuffled the examples, and the batches the task makes of
/// them, checked to hold every example once in ⌈examples / batch size⌉ batches.
fn shuffled_batches<T: Task>(
    task: &T,
    state: &T::State,
    epoch: usize,
    plan: Plan,
) -> Result<(ChaCha8Rng, Vec<Vec<usize>>)> {
    let Plan { examples: n, batch_size, .. } = plan;
    let mut rng = task.epoch_rng(state, epoch);
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng);
    let batches = task.batches(&order, batch_size, &mut rng);
    let covered = batches.iter().map(Vec::len).sum::<usize>();
    let per_epoch = n.div_ceil(batch_size);
    if batches.len() != per_epoch || covered != n {
        return Err(invalid(
            "batches",
            format!("{} holding {covered} examples", batches.len()),
            format!("{per_epoch} batches holding the {n} examples"),
        ));
    }
    Ok((rng, batches))
}

/// Starts `metrics.csv`: the header, and on resume the lines of the epochs already done that a
/// file there holds (a killed run's lines after them are dropped).
fn start_metrics<E: EpochFigures>(path: &Path, epochs_done: usize) -> Result<()> {
    let mut text = format!("{}\n", E::csv_header());
    if epochs_done > 0 {
        if let Ok(old) = std::fs::read_to_string(path) {
            for line in old.lines().skip(1) {
                let epoch = line.split(',').find_map(|f| f.parse::<usize>().ok());
                if epoch.is_some_and(|e| e <= epochs_done) {
                    text += line;
                    text.push('\n');
                }
            }
        }
    }
    hopfield_data::outputs::claim(path)?;
    std::fs::write(path, text).map_err(|e| TrainError::write(path, e))
}

fn append_line(path: &Path, line: &str) -> Result<()> {
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut f| writeln!(f, "{line}"))
        .map_err(|e| TrainError::write(path, e))
}

/// The learning rate over a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Schedule {
    /// The same rate at every step.
    Constant(f64),
    /// Linear warm-up from peak/1000 to `peak` over `warmup` steps, then cosine down to peak/1000.
    WarmupCosine {
        /// The peak learning rate.
        peak: f64,
        /// Warm-up steps.
        warmup: usize,
    },
}

impl Schedule {
    /// The rate at step `it` (0-based) of `total`.
    pub fn at(&self, it: usize, total: usize) -> f64 {
        match *self {
            Schedule::Constant(lr) => lr,
            Schedule::WarmupCosine { peak, warmup } => {
                let floor = peak * 1e-3;
                if it < warmup {
                    return floor + (peak - floor) * (it + 1) as f64 / warmup as f64;
                }
                let span = total.saturating_sub(warmup).max(1) as f64;
                let t = ((it - warmup) as f64 / span).min(1.0);
                floor + 0.5 * (peak - floor) * (1.0 + (std::f64::consts::PI * t).cos())
            }
        }
    }
}

/// A burn optimiser with its learning-rate schedule: one gradient step of a model from a loss.
pub struct Optimizer {
    /// The optimiser and its state (moments, step counts).
    pub inner: ModuleOptimizer,
    /// The learning rate over the run.
    pub schedule: Schedule,
}

impl Optimizer {
    /// AdamW with β₁, β₂, decoupled weight decay and clipping by global norm.
    pub fn adamw(betas: (f32, f32), weight_decay: f64, clip: f64, schedule: Schedule) -> Self {
        let inner = AdamWConfig::new()
            .with_beta_1(betas.0)
            .with_beta_2(betas.1)
            .with_weight_decay(weight_decay as f32)
            .with_grad_clipping(Some(GradientClippingConfig::Norm(clip as f32)))
            .init();
        Optimizer { inner, schedule }
    }

    /// Adam with burn's defaults (β 0.9 / 0.999), no clipping.
    pub fn adam(schedule: Schedule) -> Self {
        Optimizer { inner: AdamConfig::new().init(), schedule }
    }

    /// Backpropagates `loss` and moves `model` by one step at the scheduled rate.
    pub fn step<M: Module>(&mut self, model: M, loss: Tensor<1>, at: Iteration) -> M {
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        self.apply(model, grads, at)
    }

    /// Moves `model` by one step of `grads` (computed elsewhere, e.g. summed over devices) at the
    /// scheduled rate.
    pub fn apply<M: Module>(&mut self, model: M, grads: GradientsParams, at: Iteration) -> M {
        self.inner.step(self.schedule.at(at.index, at.total), model, grads)
    }

    /// Reads the loss's value and steps only when it is finite (the trainer then stops with
    /// [`TrainError::Diverged`], naming the iteration): the model after the step, and the value.
    pub fn step_if_finite<M: Module>(&mut self, model: M, loss: Tensor<1>, at: Iteration) -> (M, f64) {
        let value = scalar(loss.clone().detach());
        if value.is_finite() {
            (self.step(model, loss, at), value)
        } else {
            (model, value)
        }
    }
}

/// The epoch with the best score so far (higher is better; a tie keeps the earlier epoch), and
/// what a task keeps of it (the model, to test after training).
#[derive(Debug, Clone)]
pub struct Best<S, M> {
    /// 1-based epoch.
    pub epoch: usize,
    /// Its score.
    pub score: S,
    /// What was kept of it.
    pub kept: M,
}

impl<S: PartialOrd, M> Best<S, M> {
    /// Keeps (`epoch`, `score`, `kept`) in `slot` when the slot is empty or `score` beats its score.
    pub fn offer(slot: &mut Option<Self>, epoch: usize, score: S, kept: M) {
        if slot.as_ref().is_none_or(|b| score > b.score) {
            *slot = Some(Best { epoch, score, kept });
        }
    }
}

/// The first value of a tensor as f64 (NaN if it cannot be read, which the divergence check catches).
pub fn scalar(t: Tensor<1>) -> f64 {
    t.into_data().try_into_vec_as::<f64>().map(|v| v[0]).unwrap_or(f64::NAN)
}

/// A tensor's values as f64; an error (not an empty vector) if they cannot be read.
pub fn values<const D: usize>(t: Tensor<D>, what: &'static str) -> Result<Vec<f64>> {
    t.into_data().try_into_vec_as::<f64>().map_err(|e| invalid(what, format!("{e:?}"), "values readable as f64"))
}
