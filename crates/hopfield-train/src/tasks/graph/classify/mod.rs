//! Graph classification, one fold of a cross-validation: train on the fold's training part less a
//! stratified validation part, keep the model of the epoch with the best validation accuracy (ties:
//! the lower validation loss, then the earlier epoch), and only then measure it on the test part.
//! Nothing about the test part reaches training or the choice of the epoch.

use std::borrow::Cow;

use burn::module::Module;
use burn::tensor::Device;
use hopfield::et::GraphBatch;
use hopfield::init::standard_normal;
use hopfield::linalg::argmax;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{
    balanced_batches, make_batch, rows, weighted_cross_entropy, GraphModel, GraphSettings, ModelKind, PreparedGraph,
};
use crate::error::{invalid, Result};
use crate::experiments::resume::{train_run, ProtocolCheckpoint};
mod data;

pub use data::{check_encodings, check_random_walk, validation_split, GraphData};

use crate::trainer::{
    scalar, Best, EpochFigures, EpochSummary, Event, Iteration, Optimizer, Plan, StepResult, Task, Trainer,
};

/// One epoch's figures.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClassifyEpoch {
    /// From 1.
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Training accuracy over the epoch's steps (the model moving).
    pub train_accuracy: f64,
    /// Validation loss.
    pub val_loss: f64,
    /// Validation accuracy.
    pub val_accuracy: f64,
    /// Seconds of training steps.
    pub seconds: f64,
    /// Training graphs a second.
    pub graphs_per_second: f64,
}

impl EpochFigures for ClassifyEpoch {
    fn epoch(&self) -> usize {
        self.epoch
    }
    fn csv_header() -> &'static str {
        "epoch,train_loss,train_accuracy,val_loss,val_accuracy,seconds,graphs_per_second"
    }
    fn csv_row(&self) -> String {
        format!(
            "{},{:.6},{:.6},{:.6},{:.6},{:.3},{:.1}",
            self.epoch,
            self.train_loss,
            self.train_accuracy,
            self.val_loss,
            self.val_accuracy,
            self.seconds,
            self.graphs_per_second
        )
    }
}

/// The model as training leaves it, and the best one so far by validation.
pub struct ClassifyState {
    /// On the autodiff device.
    pub model: GraphModel,
    /// AdamW.
    pub optim: Optimizer,
    /// The epoch with the best (validation accuracy, −validation loss), its model on the plain device.
    pub best: Option<Best<(f64, f64), GraphModel>>,
}

/// Training one model on one fold.
pub struct ClassifyTask<'a> {
    data: &'a GraphData,
    fit: &'a [usize],
    val: &'a [usize],
    settings: GraphSettings,
    kind: ModelKind,
    device: Device,
    autodiff: Device,
    checkpoint: Option<(&'a ProtocolCheckpoint, usize)>,
}

/// Accuracy and mean cross-entropy of `model` on the graphs `idx` (batches of 64, no sign flips).
///
/// # Errors
/// Shapes that disagree with the model.
pub fn evaluate(
    model: &GraphModel,
    data: &GraphData,
    idx: &[usize],
    settings: &GraphSettings,
    device: &Device,
) -> Result<(f64, f64)> {
    let (mut right, mut loss) = (0usize, 0.0);
    // Graphs of like size in one batch: less padding, the same figures.
    let mut idx = idx.to_vec();
    idx.sort_by_key(|&g| data.graphs[g].nodes);
    let sizes: Vec<usize> = idx.iter().map(|&g| data.graphs[g].nodes).collect();
    for range in balanced_batches(&sizes, idx.len().div_ceil(16), 64) {
        let chunk = &idx[range];
        let graphs: Vec<&PreparedGraph> = chunk.iter().map(|&g| &data.graphs[g]).collect();
        let labels: Vec<usize> = chunk.iter().map(|&g| data.labels[g]).collect();
        let b = make_batch(&graphs, data.width, data.k, data.edge_labels, None, device)?;
        let z = model.graph_logits(b, &settings.descent)?;
        loss += scalar(weighted_cross_entropy(z.clone(), &labels, None)) * chunk.len() as f64;
        let logits = rows(z)?;
        if let Some((i, r)) = logits.iter().enumerate().find(|(_, r)| r.iter().any(|v| !v.is_finite())) {
            return Err(crate::TrainError::NotFinite {
                what: format!("the {} model's logits of graph {} (0-based) of {}", model.kind(), chunk[i], data.name),
                value: r.iter().copied().find(|v| !v.is_finite()).unwrap_or(f64::NAN),
                why: crate::checkpoint::largest_parameter(model)
                    .map(|(p, v)| format!("the model's largest weight is {v:e}, in {p}"))
                    .unwrap_or_default(),
            });
        }
        right += logits.iter().zip(&labels).filter(|(r, &y)| argmax(r) == y).count();
    }
    let n = idx.len().max(1) as f64;
    Ok((right as f64 / n, loss / n))
}

impl ClassifyTask<'_> {
    fn batch(&self, idx: &[usize], rng: &mut ChaCha8Rng) -> Result<(GraphBatch, Vec<usize>)> {
        let sigma = self.settings.noise;
        // Training noise: a copy of each graph with N(0, σ²) added to every feature of its nodes.
        let graphs: Vec<Cow<'_, PreparedGraph>> = idx
            .iter()
            .map(|&i| {
                let g = &self.data.graphs[self.fit[i]];
                if sigma == 0.0 {
                    return Cow::Borrowed(g);
                }
                let mut g = g.clone();
                g.features.iter_mut().for_each(|v| *v += (sigma * standard_normal(rng)) as f32);
                Cow::Owned(g)
            })
            .collect();
        let graphs: Vec<&PreparedGraph> = graphs.iter().map(|g| g.as_ref()).collect();
        let labels = idx.iter().map(|&i| self.data.labels[self.fit[i]]).collect();
        Ok((
            make_batch(&graphs, self.data.width, self.data.k, self.data.edge_labels, Some(rng), &self.autodiff)?,
            labels,
        ))
    }
}

impl Task for ClassifyTask<'_> {
    type State = ClassifyState;
    type Epoch = ClassifyEpoch;

    fn plan(&self) -> Plan {
        Plan { examples: self.fit.len(), batch_size: self.settings.batch_size, epochs: self.settings.epochs }
    }

    fn epoch_rng(&self, _: &ClassifyState, epoch: usize) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(self.settings.seed.wrapping_mul(0x9e37).wrapping_add(epoch as u64))
    }

    fn step(
        &self,
        mut s: ClassifyState,
        idx: &[usize],
        rng: &mut ChaCha8Rng,
        at: Iteration,
    ) -> Result<(ClassifyState, StepResult)> {
        let (b, labels) = self.batch(idx, rng)?;
        let z = s.model.graph_logits(b, &self.settings.descent)?;
        // The batches differ in size (see `batches`): the mean over the batch times its share of a
        // nominal batch, so that every graph weighs the same in the run.
        let share = idx.len() as f64 / self.settings.batch_size as f64;
        let loss = weighted_cross_entropy(z.clone(), &labels, None) * share;
        let wrong = rows(z.detach())?.iter().zip(&labels).filter(|(r, &y)| argmax(r) != y).count();
        let value;
        (s.model, value) = s.optim.step_if_finite(s.model, loss, at);
        Ok((s, StepResult { loss: value, wrong }))
    }

    fn finish_epoch(&self, s: &mut ClassifyState, sum: EpochSummary, _: ChaCha8Rng) -> Result<ClassifyEpoch> {
        let model = s.model.valid();
        let (val_accuracy, val_loss) = evaluate(&model, self.data, self.val, &self.settings, &self.device)?;
        // Accuracy first, then the lower loss: (accuracy, −loss) compared in order.
        Best::offer(&mut s.best, sum.epoch, (val_accuracy, -val_loss), model);
        Ok(ClassifyEpoch {
            epoch: sum.epoch,
            // Σ over steps of (Σ of the batch's losses) / B, so this is the mean over graphs.
            train_loss: sum.loss_sum * self.settings.batch_size as f64 / sum.examples.max(1) as f64,
            train_accuracy: 1.0 - sum.wrong as f64 / sum.examples.max(1) as f64,
            val_loss,
            val_accuracy,
            seconds: sum.seconds,
            graphs_per_second: sum.examples as f64 / sum.seconds.max(1e-9),
        })
    }

    /// Pools of 16 batches' worth of the shuffled graphs, each sorted by size and cut into as many
    /// batches as equal chunks would give, of at most twice the batch size, with the dearest
    /// padded batch as cheap as possible ([`balanced_batches`]); the batches then shuffled. Big
    /// graphs share a batch with few others, small ones with more.
    fn batches(&self, order: &[usize], batch_size: usize, rng: &mut ChaCha8Rng) -> Vec<Vec<usize>> {
        let mut out = Vec::new();
        for pool in order.chunks(batch_size * 16) {
            let mut pool = pool.to_vec();
            pool.sort_by_key(|&i| self.data.graphs[self.fit[i]].nodes);
            let sizes: Vec<usize> = pool.iter().map(|&i| self.data.graphs[self.fit[i]].nodes).collect();
            let k = pool.len().div_ceil(batch_size);
            out.extend(balanced_batches(&sizes, k, 2 * batch_size).into_iter().map(|r| pool[r].to_vec()));
        }
        out.shuffle(rng);
        out
    }

    /// With a patience p: stop once the best validation epoch lies p epochs back.
    fn stop(&self, s: &ClassifyState, figures: &ClassifyEpoch) -> bool {
        match (self.settings.patience, &s.best) {
            (Some(p), Some(best)) => figures.epoch >= best.epoch + p,
            _ => false,
        }
    }

    fn describe(&self) -> String {
        format!(" ({} on {})", self.kind, self.data.name)
    }

    fn checkpoint(&self, s: &ClassifyState, figures: &ClassifyEpoch) -> Result<()> {
        match self.checkpoint {
            Some((c, run)) => c.save_epoch(run, (&s.model, &s.optim.inner), s.best.as_ref(), figures),
            None => Ok(()),
        }
    }
}

/// What one fold gives for one model.
pub struct FoldOutcome {
    /// The epoch validation chose.
    pub best_epoch: usize,
    /// Its validation accuracy.
    pub val_accuracy: f64,
    /// The chosen model's accuracy on the test part, measured once, after training.
    pub test_accuracy: f64,
    /// Every epoch's figures.
    pub history: Vec<ClassifyEpoch>,
    /// The chosen model (plain device).
    pub model: GraphModel,
    /// The data as the model sees it (standardised on the training part).
    pub data: GraphData,
    /// Seconds the fold took (training and evaluation).
    pub seconds: f64,
}

/// The three disjoint parts of one fold: trained on, choosing the epoch, measured once.
#[derive(Debug, Clone, Copy)]
pub struct FoldParts<'a> {
    /// Graphs trained on.
    pub fit: &'a [usize],
    /// Graphs that choose the epoch.
    pub val: &'a [usize],
    /// Graphs the chosen model is measured on, once.
    pub test: &'a [usize],
}

/// Trains `kind` on `parts.fit`, picks the epoch on `parts.val`, then tests on `parts.test`.
/// `data` is standardised on the training graphs first. `trainer` holds the cancel flag;
/// `on_event` sees every step and epoch.
///
/// # Errors
/// Parts that overlap or are empty; invalid settings; a loss that becomes NaN/∞; the trainer's
/// cancel flag.
pub fn run_fold(
    data: &GraphData,
    parts: &FoldParts<'_>,
    kind: ModelKind,
    settings: &GraphSettings,
    device: &Device,
    trainer: &Trainer,
    on_event: impl FnMut(Event<'_, ClassifyEpoch>),
) -> Result<FoldOutcome> {
    run_fold_in(data, parts, kind, (settings, device), trainer, None, on_event)
}

/// What training one model on one fold gives before its test: the validation figures only.
pub struct Trained {
    /// The epoch validation chose.
    pub best_epoch: usize,
    /// Its validation accuracy.
    pub val_accuracy: f64,
    /// Its validation loss.
    pub val_loss: f64,
    /// Every epoch's figures.
    pub history: Vec<ClassifyEpoch>,
    /// The chosen model (plain device).
    pub model: GraphModel,
    /// The data as the model sees it (standardised on the training part).
    pub data: GraphData,
    /// Seconds of training and validation.
    pub seconds: f64,
}

/// [`run_fold`] as run `checkpoint.1` of a protocol whose checkpoint is `checkpoint.0`: saved
/// after every epoch, and continued from there when the checkpoint holds it in progress.
pub(crate) fn run_fold_in(
    data: &GraphData,
    parts: &FoldParts<'_>,
    kind: ModelKind,
    (settings, device): (&GraphSettings, &Device),
    trainer: &Trainer,
    checkpoint: Option<(&ProtocolCheckpoint, usize)>,
    on_event: impl FnMut(Event<'_, ClassifyEpoch>),
) -> Result<FoldOutcome> {
    let started = std::time::Instant::now();
    let t = train_fold_in(data, parts, kind, (settings, device), trainer, checkpoint, on_event)?;
    let (test_accuracy, _) = evaluate(&t.model, &t.data, parts.test, settings, device)?;
    Ok(FoldOutcome {
        best_epoch: t.best_epoch,
        val_accuracy: t.val_accuracy,
        test_accuracy,
        history: t.history,
        model: t.model,
        data: t.data,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Trains `kind` on `parts.fit` and picks the epoch on `parts.val`; `parts.test` is only checked
/// to be disjoint from both, never read: what this returns cannot depend on it.
pub(crate) fn train_fold_in(
    data: &GraphData,
    parts: &FoldParts<'_>,
    kind: ModelKind,
    (settings, device): (&GraphSettings, &Device),
    trainer: &Trainer,
    checkpoint: Option<(&ProtocolCheckpoint, usize)>,
    on_event: impl FnMut(Event<'_, ClassifyEpoch>),
) -> Result<Trained> {
    let FoldParts { fit, val, test } = *parts;
    let started = std::time::Instant::now();
    let mut owner = vec![0u8; data.graphs.len()];
    for (part, idx) in [(1u8, fit), (2, val), (3, test)] {
        if idx.is_empty() {
            return Err(invalid("split", ["", "training", "validation", "test"][part as usize], "at least one graph"));
        }
        for &g in idx {
            if g >= owner.len() || owner[g] != 0 {
                return Err(invalid("split", g, "each graph in at most one of training, validation and test"));
            }
            owner[g] = part;
        }
    }
    let largest = data.graphs.iter().map(|g| g.nodes).max().unwrap_or(1);
    settings.check_memory(data.width, data.classes, largest)?;
    let data = data.standardised(fit)?;
    let task = ClassifyTask {
        data: &data,
        fit,
        val,
        settings: settings.clone(),
        kind,
        device: device.clone(),
        autodiff: device.clone().autodiff(),
        checkpoint,
    };
    let fresh = |d: &Device| GraphModel::new(kind, settings, data.width, data.classes, data.edge_labels, d);
    let optim = settings.optimizer();
    let (state, history) = train_run(
        (&task, trainer),
        checkpoint,
        (fresh, device),
        optim,
        |model, optim, best| ClassifyState { model, optim, best },
        on_event,
    )?;
    let Best { epoch: best_epoch, score: (val_accuracy, neg_loss), kept: model } =
        state.best.expect("at least one epoch was evaluated");
    Ok(Trained {
        best_epoch,
        val_accuracy,
        val_loss: -neg_loss,
        history,
        model,
        data,
        seconds: started.elapsed().as_secs_f64(),
    })
}
