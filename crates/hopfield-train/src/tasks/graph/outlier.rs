//! Unsupervised node anomaly detection, as the BOND benchmark poses it: a detector is fitted on a
//! whole graph's structure and features **without its labels** and scores every node (higher: more
//! anomalous). The type the detectors take, [`UnlabelledGraph`], holds no labels, so none can reach
//! a fit.
//!
//! The Energy Transformer's detector: the graph ET trained by masked reconstruction on ego-graphs.
//! In each training ego-graph the centre and a share of the other nodes are masked (their features
//! replaced by the mean, 0 after standardisation, and a last input column set to 1, whose weights
//! are the learned mask embedding); the descent runs over the ego-graph and the final tokens are
//! read out (the model's per-node read-out, one output per feature) as the masked nodes' features;
//! the loss is their mean squared error. A node's score is the error of its own features
//! reconstructed with only it masked, from its fixed ego-graph: what its neighbourhood and the
//! memories cannot explain. Both kinds of anomaly that BOND injects raise it: a node whose features
//! were swapped for a distant node's (contextual) no longer matches its neighbourhood, and a node
//! wired into a clique of unrelated nodes (structural) is surrounded by neighbours that do not
//! predict it. The energy of that ego-graph after the descent, and the energy's drop over it, both
//! per token, are reported beside it.

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use hopfield::et::{masked_patch_mse, pad_node_values, GraphEnergyTransformer, GraphOutput, Observe};
use hopfield_data::graph::anomaly::AnomalyGraph;
use hopfield_data::graph::ego::{ego_graph, EgoGraph};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::anomaly::{fixed_ego, EgoSettings};
use super::{ego_input, make_batch, scaled_features, GraphSettings, PreparedGraph, Standardizer};
use crate::error::{invalid, Result};
use crate::trainer::{
    values, EpochFigures, EpochSummary, Event, Iteration, Optimizer, Plan, StepResult, Task, Trainer,
};

/// A graph as an unsupervised detector sees it: its features standardised over all its nodes (no
/// split: every node is scored), its neighbour lists, and no labels.
#[derive(Debug, Clone, PartialEq)]
pub struct UnlabelledGraph {
    /// The graph's name.
    pub name: String,
    /// Nodes.
    pub nodes: usize,
    /// Standardised features, row-major [nodes, dim].
    pub features: Vec<f32>,
    /// Features per node.
    pub dim: usize,
    /// Undirected neighbour lists (no self-loops, no repeats).
    pub neighbours: Vec<Vec<u32>>,
}

/// How the detectors see the features: the raw geometry that BOND feeds its detectors (centred,
/// one global scale: distances keep their ratios, so LOF is exactly that of the raw features), or
/// per-column standardisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Scale {
    /// `Global` when most entries (over 90%) are zero — a sparse bag of words, whose rare words
    /// per-column standardisation would blow up (a word in one node of n becomes ≈ √n) — else
    /// `Columns`. Decided from the features alone.
    #[serde(rename = "auto")]
    Auto,
    /// Each column to mean 0 and standard deviation 1 over all nodes.
    #[serde(rename = "columns")]
    Columns,
    /// Each column centred, all divided by one standard deviation: distances keep their raw geometry.
    #[serde(rename = "global")]
    Global,
}

impl std::fmt::Display for Scale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            Scale::Auto => "auto",
            Scale::Columns => "columns",
            Scale::Global => "global",
        })
    }
}

impl Scale {
    /// `Columns` or `Global` for `features` (`Auto` decided by their share of zeros).
    pub fn resolve(self, features: &[f32]) -> Scale {
        match self {
            Scale::Auto => {
                let zeros = features.iter().filter(|&&v| v == 0.0).count();
                if zeros as f64 > 0.9 * features.len() as f64 {
                    Scale::Global
                } else {
                    Scale::Columns
                }
            }
            s => s,
        }
    }
}

impl UnlabelledGraph {
    /// `graph` without its labels, its features scaled over all nodes as `scale` says.
    ///
    /// # Errors
    /// A scaled feature too large for the models ([`super::MAX_FEATURE`]), naming the node and the
    /// column.
    pub fn new(graph: &AnomalyGraph, scale: Scale) -> Result<UnlabelledGraph> {
        let d = graph.dim;
        let rows = graph.features.chunks(d.max(1));
        let std = match scale.resolve(&graph.features) {
            Scale::Global => Standardizer::global(rows, d),
            _ => Standardizer::fit(rows, d),
        };
        Ok(UnlabelledGraph {
            name: graph.name.clone(),
            nodes: graph.nodes,
            features: scaled_features(graph, &std)?,
            dim: d,
            neighbours: graph.neighbours(),
        })
    }

    /// The standardised features of `node`.
    pub fn row(&self, node: u32) -> &[f32] {
        let d = self.dim;
        &self.features[node as usize * d..(node as usize + 1) * d]
    }

    /// `ego` with its nodes' standardised features (no mask column, no encodings).
    pub fn plain(&self, ego: &EgoGraph) -> PreparedGraph {
        ego_input(ego, ego.nodes.iter().flat_map(|&n| self.row(n).to_vec()).collect(), 0)
    }

    /// `ego` as the reconstruction model takes it: each node's standardised features and a last
    /// column 0; a masked node's features 0 (the mean) and its last column 1. `k` encodings.
    pub fn masked(&self, ego: &EgoGraph, masked: &[bool], k: usize) -> PreparedGraph {
        let mut features = Vec::with_capacity(ego.nodes.len() * (self.dim + 1));
        for (&n, &m) in ego.nodes.iter().zip(masked) {
            if m {
                features.extend(std::iter::repeat_n(0.0, self.dim));
                features.push(1.0);
            } else {
                features.extend_from_slice(self.row(n));
                features.push(0.0);
            }
        }
        ego_input(ego, features, k)
    }
}

/// How the ET's detector is trained: ego-graphs and the share of their non-centre nodes masked.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Reconstruction {
    /// Hops and node budget of each ego-graph.
    pub ego: EgoSettings,
    /// Share of an ego-graph's other nodes masked beside its centre in training (0 ≤ p < 1).
    pub mask_fraction: f64,
}

impl Reconstruction {
    /// Checks the ego-graph and the mask share.
    ///
    /// # Errors
    /// A budget of 0; a share outside [0, 1).
    pub fn validate(&self) -> Result<()> {
        if self.ego.budget == 0 {
            return Err(invalid("budget", 0, "an ego-graph holds at least its centre"));
        }
        if !(self.mask_fraction >= 0.0 && self.mask_fraction < 1.0) {
            return Err(invalid("mask fraction", self.mask_fraction, "a share in [0, 1): the centre is always masked"));
        }
        Ok(())
    }
}

/// One epoch of an unsupervised fit (no validation: there are no labels to validate on).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OutlierEpoch {
    /// From 1.
    pub epoch: usize,
    /// Mean training loss (reconstruction MSE of the masked nodes, or of every node's features).
    pub train_loss: f64,
    /// Seconds of training steps.
    pub seconds: f64,
    /// Training nodes a second.
    pub nodes_per_second: f64,
}

impl EpochFigures for OutlierEpoch {
    fn epoch(&self) -> usize {
        self.epoch
    }
    fn csv_header() -> &'static str {
        "epoch,train_loss,seconds,nodes_per_second"
    }
    fn csv_row(&self) -> String {
        format!("{},{:.6},{:.3},{:.1}", self.epoch, self.train_loss, self.seconds, self.nodes_per_second)
    }
}

impl OutlierEpoch {
    /// The figures of an epoch from its summary.
    pub fn of(sum: &EpochSummary) -> OutlierEpoch {
        OutlierEpoch {
            epoch: sum.epoch,
            train_loss: sum.loss_sum / sum.batches.max(1) as f64,
            seconds: sum.seconds,
            nodes_per_second: sum.examples as f64 / sum.seconds.max(1e-9),
        }
    }
}

/// The reconstruction model: the graph ET with one input column more than the graph has features
/// (the mask flag) and one output per feature (at least two, the read-out's minimum; the extra one
/// of a one-feature graph is ignored).
///
/// # Errors
/// Invalid sizes.
pub fn reconstruction_model(settings: &GraphSettings, dim: usize, device: &Device) -> Result<GraphEnergyTransformer> {
    settings.validate()?;
    Ok(settings.et_config(dim + 1, dim.max(2), 1).init(settings.seed, device)?)
}

/// The model's reconstruction of every node's features after the descent, [B, N, dim], and the
/// forward pass it came from.
fn reconstruct(
    model: &GraphEnergyTransformer,
    graphs: &[&PreparedGraph],
    dim: usize,
    (settings, k, observe): (&GraphSettings, usize, Observe),
    flip: Option<&mut ChaCha8Rng>,
    device: &Device,
) -> Result<(Tensor<3>, GraphOutput)> {
    let batch = make_batch(graphs, dim + 1, k, settings.edge_weights as usize, flip, device)?;
    let out = model.forward(batch, &settings.descent, observe)?;
    let z = model.node_logits(&out);
    let [b, n, _] = z.dims();
    Ok((z.slice([0..b, 0..n, 0..dim]), out))
}

/// Training on every node of a graph, a batch of nodes a step: what the label-free detectors that
/// learn (the ET, the MLP and graph autoencoders) share. `loss` gives a batch's loss under the
/// model (drawing ego-graphs and masks from the epoch's generator); the state is the model and its
/// optimiser; an epoch's figures are its mean loss and speed.
pub(crate) struct NodeTask<'a, M, L> {
    graph: &'a UnlabelledGraph,
    plan: Plan,
    rng_seed: u64,
    what: &'static str,
    loss: L,
    model: std::marker::PhantomData<M>,
}

impl<M, L> Task for NodeTask<'_, M, L>
where
    M: Module,
    L: Fn(&M, &[usize], &mut ChaCha8Rng) -> Result<Tensor<1>>,
{
    type State = (M, Optimizer);
    type Epoch = OutlierEpoch;

    fn plan(&self) -> Plan {
        self.plan
    }

    fn epoch_rng(&self, _: &Self::State, epoch: usize) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(self.rng_seed.wrapping_add(epoch as u64))
    }

    fn step(
        &self,
        (model, mut optim): Self::State,
        idx: &[usize],
        rng: &mut ChaCha8Rng,
        at: Iteration,
    ) -> Result<(Self::State, StepResult)> {
        let loss = (self.loss)(&model, idx, rng)?;
        let (model, value) = optim.step_if_finite(model, loss, at);
        Ok(((model, optim), StepResult { loss: value, wrong: 0 }))
    }

    fn finish_epoch(&self, _: &mut Self::State, sum: EpochSummary, _: ChaCha8Rng) -> Result<OutlierEpoch> {
        Ok(OutlierEpoch::of(&sum))
    }

    fn describe(&self) -> String {
        format!(" ({} on {})", self.what, self.graph.name)
    }
}

impl<'a, M, L> NodeTask<'a, M, L>
where
    M: Module,
    L: Fn(&M, &[usize], &mut ChaCha8Rng) -> Result<Tensor<1>>,
{
    /// Training on every node of `graph`, `batch_size` nodes a step, for `epochs`; epoch e's
    /// generator seeded by `rng_seed + e`; `what` names the detector in a divergence error.
    pub fn new(
        graph: &'a UnlabelledGraph,
        (batch_size, epochs): (usize, usize),
        rng_seed: u64,
        what: &'static str,
        loss: L,
    ) -> Self {
        let plan = Plan { examples: graph.nodes, batch_size, epochs };
        NodeTask { graph, plan, rng_seed, what, loss, model: std::marker::PhantomData }
    }

    /// Trains `model` with `optim`; returns it on the plain device and every epoch's figures.
    pub fn fit(
        self,
        model: M,
        optim: Optimizer,
        trainer: &Trainer,
        on_event: impl FnMut(Event<'_, OutlierEpoch>),
    ) -> Result<(M, Vec<OutlierEpoch>)> {
        let ((model, _), history) = trainer.run(&self, (model, optim), 0, on_event)?;
        Ok((model.valid(), history))
    }
}

/// `scores` when every one is finite; else an error naming the first other one's node.
pub(crate) fn finite_scores(scores: Vec<f64>, what: &str, graph: &UnlabelledGraph) -> Result<Vec<f64>> {
    match scores.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        Some((i, &v)) => Err(crate::TrainError::NotFinite {
            what: format!("{what} of node {i} of {}", graph.name),
            value: v,
            why: String::new(),
        }),
        None => Ok(scores),
    }
}

/// Trains the reconstruction model on every node of `graph` for `settings.epochs` passes (its
/// seed seeds the weights, the ego-graphs and the masks); returns it on the plain device and every
/// epoch's figures.
///
/// # Errors
/// Invalid settings; sizes that cannot fit; a loss that becomes NaN/∞; the trainer's cancel flag.
pub fn fit_reconstruction(
    graph: &UnlabelledGraph,
    how: Reconstruction,
    (settings, device): (&GraphSettings, &Device),
    trainer: &Trainer,
    on_event: impl FnMut(Event<'_, OutlierEpoch>),
) -> Result<(GraphEnergyTransformer, Vec<OutlierEpoch>)> {
    how.validate()?;
    if settings.encodings > how.ego.budget {
        return Err(invalid(
            "encodings",
            settings.encodings,
            format!("at most {}, the nodes of an ego-graph (its budget)", how.ego.budget),
        ));
    }
    settings.check_memory(graph.dim + 1, graph.dim.max(2), how.ego.budget)?;
    let autodiff = device.clone().autodiff();
    let (k, ego) = (settings.encodings, how.ego);
    let loss = |model: &GraphEnergyTransformer, idx: &[usize], rng: &mut ChaCha8Rng| {
        let mut graphs = Vec::with_capacity(idx.len());
        let mut masks = Vec::with_capacity(idx.len());
        for &i in idx {
            let e = ego_graph(&graph.neighbours, i as u32, ego.hops, ego.budget, rng);
            let masked: Vec<bool> =
                (0..e.nodes.len()).map(|j| j == 0 || rng.random::<f64>() < how.mask_fraction).collect();
            graphs.push((graph.masked(&e, &masked, k), e.nodes));
            masks.push(masked);
        }
        let refs: Vec<&PreparedGraph> = graphs.iter().map(|(p, _)| p).collect();
        let (xhat, _) = reconstruct(model, &refs, graph.dim, (settings, k, Observe::Nothing), Some(rng), &autodiff)?;
        let n = xhat.dims()[1];
        let rows: Vec<Vec<f32>> =
            graphs.iter().map(|(_, nodes)| nodes.iter().flat_map(|&v| graph.row(v).to_vec()).collect()).collect();
        let padded: Vec<(usize, &[f32])> =
            graphs.iter().zip(&rows).map(|((_, nodes), r)| (nodes.len(), r.as_slice())).collect();
        let target = pad_node_values(&padded, graph.dim, n, &autodiff)?;
        let mut scored = vec![0f32; idx.len() * n];
        for (b, m) in masks.iter().enumerate() {
            for (j, &on) in m.iter().enumerate() {
                scored[b * n + j] = on as u8 as f32;
            }
        }
        let scored = Tensor::<2>::from_data(TensorData::new(scored, [idx.len(), n]), &autodiff);
        Ok(masked_patch_mse(xhat, target, scored))
    };
    let task = NodeTask::new(
        graph,
        (settings.batch_size, settings.epochs),
        settings.seed.wrapping_mul(0x7a3d),
        "masked reconstruction",
        loss,
    );
    let model = reconstruction_model(settings, graph.dim, &autodiff)?;
    task.fit(model, settings.optimizer(), trainer, on_event)
}

/// The ET detector's scores of every node, each from its fixed ego-graph with the node alone masked.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EtNodeScores {
    /// The node's reconstruction error: mean squared error over its standardised features (the score).
    pub error: Vec<f64>,
    /// The ego-graph's energy after the descent, per token (CLS included).
    pub energy: Vec<f64>,
    /// The energy's drop over the descent, per token: E(x₀) − E(x_T).
    pub drop: Vec<f64>,
}

/// Scores every node of `graph` with `model` (plain device): its fixed ego-graph (drawn from
/// `settings.seed` and the node) with the centre masked.
///
/// # Errors
/// Shapes that disagree with the model; a score that is NaN or infinite (naming the node and the
/// model's largest weight).
pub fn et_scores(
    model: &GraphEnergyTransformer,
    graph: &UnlabelledGraph,
    ego: EgoSettings,
    settings: &GraphSettings,
    device: &Device,
) -> Result<EtNodeScores> {
    let all: Vec<u32> = (0..graph.nodes as u32).collect();
    let mut s = EtNodeScores { error: Vec::new(), energy: Vec::new(), drop: Vec::new() };
    for chunk in all.chunks(128) {
        let (errors, traces) = centre_errors(model, graph, chunk, ego, settings, device)?;
        for (c, (e, t)) in chunk.iter().zip(errors.into_iter().zip(traces)) {
            let (first, last) = (t[0], t[t.len() - 1]);
            if let Some(v) = [e, first, last].into_iter().find(|v| !v.is_finite()) {
                return Err(crate::TrainError::NotFinite {
                    what: format!("the ET's reconstruction error or energy of node {c} of {}", graph.name),
                    value: v,
                    why: crate::checkpoint::largest_parameter(model)
                        .map(|(p, v)| format!("the model's largest weight is {v:e}, in {p}"))
                        .unwrap_or_default(),
                });
            }
            s.error.push(e);
            s.energy.push(last);
            s.drop.push(first - last);
        }
    }
    Ok(s)
}

/// For each of `centres`: the reconstruction error of its features from its fixed ego-graph with it
/// alone masked, and the ego-graph's energy per token at every step of the descent (t = 0..=T).
///
/// # Errors
/// Shapes that disagree with the model.
pub fn centre_errors(
    model: &GraphEnergyTransformer,
    graph: &UnlabelledGraph,
    centres: &[u32],
    ego: EgoSettings,
    settings: &GraphSettings,
    device: &Device,
) -> Result<(Vec<f64>, Vec<Vec<f64>>)> {
    let k = settings.encodings;
    let egos: Vec<EgoGraph> = centres.iter().map(|&c| fixed_ego(&graph.neighbours, c, ego, settings.seed)).collect();
    let graphs: Vec<PreparedGraph> = egos
        .iter()
        .map(|e| {
            let masked: Vec<bool> = (0..e.nodes.len()).map(|j| j == 0).collect();
            graph.masked(e, &masked, k)
        })
        .collect();
    let refs: Vec<&PreparedGraph> = graphs.iter().collect();
    let (xhat, out) = reconstruct(model, &refs, graph.dim, (settings, k, Observe::Energy), None, device)?;
    let [b, _, d] = xhat.dims();
    let centre = values(xhat.slice([0..b, 0..1, 0..d]), "reconstructions")?;
    let errors = centres
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let row = graph.row(c);
            let sq: f64 = row.iter().zip(&centre[i * d..(i + 1) * d]).map(|(&x, &y)| (x as f64 - y).powi(2)).sum();
            sq / d.max(1) as f64
        })
        .collect();
    let per_step: Vec<Vec<f64>> = out.energy.iter().map(|e| values(e.clone(), "energies")).collect::<Result<_>>()?;
    let traces =
        (0..centres.len()).map(|i| per_step.iter().map(|e| e[i] / (graphs[i].nodes + 1) as f64).collect()).collect();
    Ok((errors, traces))
}
