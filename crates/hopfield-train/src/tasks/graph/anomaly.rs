//! Supervised node anomaly detection on one big attributed graph. Each node is classified from its
//! ego-graph (k hops, capped at a node budget; the centre is node 0) through the same dense, masked
//! Energy Transformer as whole graphs; the baseline MLP sees the centre's features only. The loss
//! weights each class by the inverse of its share of the training nodes. The epoch is chosen on
//! the validation nodes (average precision), the decision threshold too (macro-F1); the test nodes
//! are scored once, at the end.

use burn::module::Module;
use burn::tensor::Device;
use hopfield_data::graph::anomaly::AnomalyGraph;
use hopfield_data::graph::ego::{ego_graph, EgoGraph};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{
    ego_input, make_batch, rows, scaled_features, weighted_cross_entropy, GraphModel, GraphSettings, ModelKind,
    PreparedGraph, Standardizer,
};
use crate::error::{invalid, Result};
use crate::experiments::resume::{train_run, ProtocolCheckpoint};
use crate::metrics::{auc, average_precision, best_f1_threshold, macro_f1};
use crate::trainer::{Best, EpochFigures, EpochSummary, Event, Iteration, Optimizer, Plan, StepResult, Task, Trainer};

/// Training, validation and test nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSplit {
    /// Training nodes.
    pub train: Vec<u32>,
    /// Validation nodes.
    pub val: Vec<u32>,
    /// Test nodes.
    pub test: Vec<u32>,
}

/// A stratified split: `train_fraction` of the anomalies and of the normal nodes (at least one of
/// each) to training, the rest 1:2 to validation and test, each class shuffled by `seed`.
pub fn split_nodes(anomalous: &[bool], train_fraction: f64, seed: u64) -> Result<NodeSplit> {
    if !(train_fraction > 0.0 && train_fraction < 1.0) {
        return Err(invalid("training fraction", train_fraction, "between 0 and 1"));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut s = NodeSplit { train: Vec::new(), val: Vec::new(), test: Vec::new() };
    for class in [true, false] {
        let mut of: Vec<u32> = (0..anomalous.len() as u32).filter(|&i| anomalous[i as usize] == class).collect();
        if of.len() < 3 {
            return Err(invalid(
                "labels",
                format!("{} {} nodes", of.len(), if class { "anomalous" } else { "normal" }),
                "at least 3 of each class to train, validate and test",
            ));
        }
        of.shuffle(&mut rng);
        let t = ((of.len() as f64 * train_fraction).round() as usize).clamp(1, of.len() - 2);
        let v = ((of.len() - t) / 3).max(1);
        s.train.extend_from_slice(&of[..t]);
        s.val.extend_from_slice(&of[t..t + v]);
        s.test.extend_from_slice(&of[t + v..]);
    }
    for p in [&mut s.train, &mut s.val, &mut s.test] {
        p.sort_unstable();
    }
    Ok(s)
}

/// How ego-graphs are drawn.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EgoSettings {
    /// Hops from the centre.
    pub hops: usize,
    /// Most nodes of an ego-graph, centre included.
    pub budget: usize,
}

/// One graph ready for training: standardised features and undirected neighbour lists.
pub struct AnomalyData {
    /// The graph's name.
    pub name: String,
    /// Standardised features (statistics of the training nodes), [nodes, dim].
    pub features: Vec<f32>,
    /// Features per node.
    pub dim: usize,
    /// Neighbours of each node.
    pub neighbours: Vec<Vec<u32>>,
    /// Anomaly or not.
    pub labels: Vec<bool>,
}

impl AnomalyData {
    /// `graph` with features standardised on the nodes `train`.
    ///
    /// # Errors
    /// A standardised feature too large for the models ([`super::MAX_FEATURE`]), naming the node
    /// and the column.
    pub fn new(graph: &AnomalyGraph, train: &[u32]) -> Result<AnomalyData> {
        let d = graph.dim;
        let std = Standardizer::fit(train.iter().map(|&i| &graph.features[i as usize * d..(i as usize + 1) * d]), d);
        Ok(AnomalyData {
            name: graph.name.clone(),
            features: scaled_features(graph, &std)?,
            dim: d,
            neighbours: graph.neighbours(),
            labels: graph.anomalous(),
        })
    }

    /// The ego-graph of `centre` as a model input (`k` encodings).
    pub fn prepare(&self, ego: &EgoGraph, k: usize) -> PreparedGraph {
        let d = self.dim;
        let features =
            ego.nodes.iter().flat_map(|&n| self.features[n as usize * d..(n as usize + 1) * d].to_vec()).collect();
        ego_input(ego, features, k)
    }

    /// The fixed ego-graph an evaluation uses for `centre` (its draw seeded by the node).
    pub fn fixed(&self, centre: u32, ego: EgoSettings, k: usize, seed: u64) -> PreparedGraph {
        self.prepare(&fixed_ego(&self.neighbours, centre, ego, seed), k)
    }
}

/// The ego-graph an evaluation uses for `centre`: drawn by a generator seeded from `seed` and the
/// node, so that every evaluation of a run sees the same one.
pub fn fixed_ego(neighbours: &[Vec<u32>], centre: u32, ego: EgoSettings, seed: u64) -> EgoGraph {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (centre as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    ego_graph(neighbours, centre, ego.hops, ego.budget, &mut rng)
}

/// Anomaly scores (the softmax probability of "anomalous") of prepared ego-graphs.
///
/// # Errors
/// Shapes that disagree with the model.
pub fn scores(
    model: &GraphModel,
    graphs: &[PreparedGraph],
    dim: usize,
    k: usize,
    settings: &GraphSettings,
    device: &Device,
) -> Result<Vec<f64>> {
    let mut out = Vec::with_capacity(graphs.len());
    let refs: Vec<&PreparedGraph> = graphs.iter().collect();
    for chunk in refs.chunks(128) {
        let l = settings.edge_weights as usize;
        let z = rows(model.centre_logits(make_batch(chunk, dim, k, l, None, device)?, &settings.descent)?)?;
        if let Some((i, r)) = z.iter().enumerate().find(|(_, r)| r.iter().any(|v| !v.is_finite())) {
            return Err(crate::TrainError::NotFinite {
                what: format!(
                    "the {} model's anomaly logits of ego-graph {} of the {} scored (its centre first)",
                    model.kind(),
                    out.len() + i,
                    graphs.len()
                ),
                value: r.iter().copied().find(|v| !v.is_finite()).unwrap_or(f64::NAN),
                why: crate::checkpoint::largest_parameter(model)
                    .map(|(p, v)| format!("the model's largest weight is {v:e}, in {p}"))
                    .unwrap_or_default(),
            });
        }
        out.extend(z.iter().map(|r| 1.0 / (1.0 + (r[0] - r[1]).exp())));
    }
    Ok(out)
}

/// One epoch's figures.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AnomalyEpoch {
    /// From 1.
    pub epoch: usize,
    /// Mean class-weighted training loss.
    pub train_loss: f64,
    /// Validation ROC-AUC.
    pub val_auc: f64,
    /// Validation average precision.
    pub val_auprc: f64,
    /// Seconds of training steps.
    pub seconds: f64,
    /// Training centre nodes a second.
    pub nodes_per_second: f64,
}

impl EpochFigures for AnomalyEpoch {
    fn epoch(&self) -> usize {
        self.epoch
    }
    fn csv_header() -> &'static str {
        "epoch,train_loss,val_auc,val_auprc,seconds,nodes_per_second"
    }
    fn csv_row(&self) -> String {
        format!(
            "{},{:.6},{:.6},{:.6},{:.3},{:.1}",
            self.epoch, self.train_loss, self.val_auc, self.val_auprc, self.seconds, self.nodes_per_second
        )
    }
}

/// The model as training leaves it, and the best one so far by validation.
pub struct AnomalyState {
    /// On the autodiff device.
    pub model: GraphModel,
    /// AdamW.
    pub optim: Optimizer,
    /// The epoch with the best validation AUPRC, its model on the plain device.
    pub best: Option<Best<f64, GraphModel>>,
}

struct AnomalyTask<'a> {
    checkpoint: Option<(&'a ProtocolCheckpoint, usize)>,
    data: &'a AnomalyData,
    train: &'a [u32],
    val: &'a [PreparedGraph],
    val_labels: Vec<bool>,
    ego: EgoSettings,
    k: usize,
    class_weights: [f64; 2],
    settings: GraphSettings,
    device: Device,
    autodiff: Device,
}

impl Task for AnomalyTask<'_> {
    type State = AnomalyState;
    type Epoch = AnomalyEpoch;

    fn plan(&self) -> Plan {
        Plan { examples: self.train.len(), batch_size: self.settings.batch_size, epochs: self.settings.epochs }
    }

    fn epoch_rng(&self, _: &AnomalyState, epoch: usize) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(self.settings.seed.wrapping_mul(0x51ed).wrapping_add(epoch as u64))
    }

    fn step(
        &self,
        mut s: AnomalyState,
        idx: &[usize],
        rng: &mut ChaCha8Rng,
        at: Iteration,
    ) -> Result<(AnomalyState, StepResult)> {
        let centres: Vec<u32> = idx.iter().map(|&i| self.train[i]).collect();
        let graphs: Vec<PreparedGraph> = centres
            .iter()
            .map(|&c| {
                self.data.prepare(&ego_graph(&self.data.neighbours, c, self.ego.hops, self.ego.budget, rng), self.k)
            })
            .collect();
        let refs: Vec<&PreparedGraph> = graphs.iter().collect();
        let labels: Vec<usize> = centres.iter().map(|&c| self.data.labels[c as usize] as usize).collect();
        let l = self.settings.edge_weights as usize;
        let b = make_batch(&refs, self.data.dim, self.k, l, Some(rng), &self.autodiff)?;
        let z = s.model.centre_logits(b, &self.settings.descent)?;
        let loss = weighted_cross_entropy(z, &labels, Some(&self.class_weights));
        let value;
        (s.model, value) = s.optim.step_if_finite(s.model, loss, at);
        Ok((s, StepResult { loss: value, wrong: 0 }))
    }

    fn finish_epoch(&self, s: &mut AnomalyState, sum: EpochSummary, _: ChaCha8Rng) -> Result<AnomalyEpoch> {
        let model = s.model.valid();
        let sc = scores(&model, self.val, self.data.dim, self.k, &self.settings, &self.device)?;
        let (val_auc, val_auprc) = (auc(&sc, &self.val_labels), average_precision(&sc, &self.val_labels));
        Best::offer(&mut s.best, sum.epoch, val_auprc, model);
        Ok(AnomalyEpoch {
            epoch: sum.epoch,
            train_loss: sum.loss_sum / sum.batches.max(1) as f64,
            val_auc,
            val_auprc,
            seconds: sum.seconds,
            nodes_per_second: sum.examples as f64 / sum.seconds.max(1e-9),
        })
    }

    /// With a patience p: stop once the best validation epoch lies p epochs back.
    fn stop(&self, s: &AnomalyState, figures: &AnomalyEpoch) -> bool {
        match (self.settings.patience, &s.best) {
            (Some(p), Some(best)) => figures.epoch >= best.epoch + p,
            _ => false,
        }
    }

    fn describe(&self) -> String {
        format!(" (anomaly detection on {})", self.data.name)
    }

    fn checkpoint(&self, s: &AnomalyState, figures: &AnomalyEpoch) -> Result<()> {
        match self.checkpoint {
            Some((c, run)) => c.save_epoch(run, (&s.model, &s.optim.inner), s.best.as_ref(), figures),
            None => Ok(()),
        }
    }
}

/// What one run (one seed, one model) gives.
pub struct AnomalyOutcome {
    /// The epoch validation chose.
    pub best_epoch: usize,
    /// The threshold on the anomaly score chosen on validation for macro-F1.
    pub threshold: f64,
    /// Test ROC-AUC.
    pub test_auc: f64,
    /// Test average precision.
    pub test_auprc: f64,
    /// Test macro-F1 at the threshold.
    pub test_macro_f1: f64,
    /// Test scores, in the order of the split's test nodes.
    pub test_scores: Vec<f64>,
    /// Every epoch's figures.
    pub history: Vec<AnomalyEpoch>,
    /// The chosen model.
    pub model: GraphModel,
    /// Seconds the run took.
    pub seconds: f64,
}

/// One graph, its split of the nodes and how ego-graphs are drawn: what [`run_anomaly`] trains on.
#[derive(Debug, Clone, Copy)]
pub struct AnomalyRun<'a> {
    /// The graph.
    pub graph: &'a AnomalyGraph,
    /// Its training, validation and test nodes.
    pub split: &'a NodeSplit,
    /// Hops and budget of the ego-graphs.
    pub ego: EgoSettings,
}

/// Trains `kind` on the split's training nodes of the graph; picks epoch and threshold on
/// validation; scores the test nodes once. `trainer` holds the cancel flag.
///
/// # Errors
/// Invalid settings; a loss that becomes NaN/∞; the trainer's cancel flag.
pub fn run_anomaly(
    run: &AnomalyRun<'_>,
    kind: ModelKind,
    settings: &GraphSettings,
    device: &Device,
    trainer: &Trainer,
    on_event: impl FnMut(Event<'_, AnomalyEpoch>),
) -> Result<(AnomalyOutcome, AnomalyData)> {
    run_anomaly_in(run, kind, (settings, device), trainer, None, on_event)
}

/// [`run_anomaly`] as run `checkpoint.1` of a protocol whose checkpoint is `checkpoint.0`: saved
/// after every epoch, and continued from there when the checkpoint holds it in progress.
pub(crate) fn run_anomaly_in(
    run: &AnomalyRun<'_>,
    kind: ModelKind,
    (settings, device): (&GraphSettings, &Device),
    trainer: &Trainer,
    checkpoint: Option<(&ProtocolCheckpoint, usize)>,
    on_event: impl FnMut(Event<'_, AnomalyEpoch>),
) -> Result<(AnomalyOutcome, AnomalyData)> {
    let AnomalyRun { graph, split, ego } = *run;
    let started = std::time::Instant::now();
    if ego.budget == 0 {
        return Err(invalid("ego-graph budget", 0, "at least 1 node (the centre)"));
    }
    if settings.encodings > ego.budget {
        return Err(invalid(
            "encodings",
            settings.encodings,
            format!(
                "at most {}, the nodes of an ego-graph (its budget; a graph of n nodes has n Laplacian eigenvectors)",
                ego.budget
            ),
        ));
    }
    settings.check_memory(graph.dim, 2, ego.budget)?;
    let data = AnomalyData::new(graph, &split.train)?;
    // The MLP reads the centre only: its ego-graph is the centre alone.
    let (ego, k) = match kind {
        ModelKind::Et => (ego, settings.encodings),
        ModelKind::Gin => (ego, 0),
        ModelKind::Mlp => (EgoSettings { hops: 0, budget: 1 }, 0),
    };
    let fixed = |nodes: &[u32]| nodes.iter().map(|&c| data.fixed(c, ego, k, settings.seed)).collect::<Vec<_>>();
    let val = fixed(&split.val);
    let labels_of = |nodes: &[u32]| nodes.iter().map(|&c| data.labels[c as usize]).collect::<Vec<bool>>();
    let anomalies = split.train.iter().filter(|&&c| data.labels[c as usize]).count();
    let n = split.train.len();
    if anomalies == 0 || anomalies == n {
        return Err(invalid("training nodes", format!("{anomalies} anomalies of {n}"), "both classes"));
    }
    let class_weights = [n as f64 / (2.0 * (n - anomalies) as f64), n as f64 / (2.0 * anomalies as f64)];
    let task = AnomalyTask {
        data: &data,
        train: &split.train,
        val: &val,
        val_labels: labels_of(&split.val),
        ego,
        k,
        class_weights,
        settings: settings.clone(),
        device: device.clone(),
        autodiff: device.clone().autodiff(),
        checkpoint,
    };
    let fresh = |d: &Device| GraphModel::new(kind, settings, data.dim, 2, 1, d);
    let optim = settings.optimizer();
    let (state, history) = train_run(
        (&task, trainer),
        checkpoint,
        (fresh, device),
        optim,
        |model, optim, best| AnomalyState { model, optim, best },
        on_event,
    )?;
    let Best { epoch: best_epoch, kept: model, .. } = state.best.expect("at least one epoch was evaluated");
    let val_scores = scores(&model, &val, data.dim, k, settings, device)?;
    let (threshold, _) = best_f1_threshold(&val_scores, &task.val_labels);
    let test_scores = scores(&model, &fixed(&split.test), data.dim, k, settings, device)?;
    let test_labels = labels_of(&split.test);
    let outcome = AnomalyOutcome {
        best_epoch,
        threshold,
        test_auc: auc(&test_scores, &test_labels),
        test_auprc: average_precision(&test_scores, &test_labels),
        test_macro_f1: macro_f1(&test_scores, &test_labels, threshold),
        test_scores,
        history,
        model,
        seconds: started.elapsed().as_secs_f64(),
    };
    Ok((outcome, data))
}
