//! The graph tasks: [`classify`] (a label per graph, 10-fold cross-validation) and [`anomaly`]
//! (normal or anomalous nodes of one big graph, classified from their ego-graphs). Both train the
//! graph Energy Transformer and, on the same data and splits, a structure-blind MLP on the same node
//! features, through the one [`crate::trainer::Trainer`].
//!
//! Here: graphs prepared for the models ([`PreparedGraph`]: standardised features, Laplacian
//! encodings computed once), padded batches ([`make_batch`], [`balanced_batches`]), the two models
//! ([`GraphModel`]) and
//! the class-weighted cross-entropy.

pub mod anomaly;
pub mod baselines;
mod batching;
pub mod classify;
pub mod gin;
pub mod outlier;

pub use batching::{balanced_batches, make_batch};
pub use gin::Gin;

use burn::module::{Module, Param};
use burn::tensor::activation::{log_softmax, relu};
use burn::tensor::{Device, Tensor, TensorData};
pub use hopfield::et::Readout;
use hopfield::et::{node_pool_weights, Descent, EtConfig, GraphBatch, GraphEnergyTransformer, GraphEtConfig, Observe};
use hopfield::init::normal;
use hopfield_data::graph::anomaly::AnomalyGraph;
use hopfield_data::graph::ego::EgoGraph;
use hopfield_data::graph::encodings::laplacian_encodings;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{invalid, positive, Result};
use crate::trainer::values;

/// One graph as the models take it.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedGraph {
    /// Nodes.
    pub nodes: usize,
    /// Directed node pairs (0-based); a TU file or an ego-graph lists both directions.
    pub edges: Vec<(u32, u32)>,
    /// Node features, row-major [nodes, F].
    pub features: Vec<f32>,
    /// Laplacian encodings, row-major [nodes, k] (empty when k = 0).
    pub encodings: Vec<f32>,
    /// The label of each edge, in the order of `edges`, as an index below the set's number of
    /// edge labels (empty: the set has none).
    pub edge_labels: Vec<u32>,
}

/// The largest size a standardised node feature may have: the models compute in float32, whose
/// squares (layer norm) overflow beyond 1.8·10¹⁹.
pub const MAX_FEATURE: f32 = 1e15;

/// Per-column standardisation fitted on training nodes only: (x − mean) / std, a constant
/// column centred to 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Standardizer {
    mean: Vec<f32>,
    inv_std: Vec<f32>,
}

impl Standardizer {
    /// Fits the columns of the rows (each `width` values) that `rows` yields.
    pub fn fit<'a>(rows: impl Iterator<Item = &'a [f32]>, width: usize) -> Self {
        let (mut sum, mut sq, mut n) = (vec![0f64; width], vec![0f64; width], 0usize);
        for r in rows {
            for (c, &v) in r.iter().enumerate() {
                sum[c] += v as f64;
                sq[c] += (v as f64) * (v as f64);
            }
            n += 1;
        }
        let n = n.max(1) as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let inv_std = sq
            .iter()
            .zip(&mean)
            .map(|(q, m)| {
                let var = (q / n - m * m).max(0.0);
                if var > 1e-12 {
                    (1.0 / var.sqrt()) as f32
                } else {
                    1.0
                }
            })
            .collect();
        Standardizer { mean: mean.into_iter().map(|m| m as f32).collect(), inv_std }
    }

    /// Centres every column (its mean over `rows`) and divides all by one global standard
    /// deviation (the root mean square of the centred values): the distances between rows keep
    /// their geometry, up to one constant.
    pub fn global<'a>(rows: impl Iterator<Item = &'a [f32]> + Clone, width: usize) -> Self {
        let columns = Standardizer::fit(rows.clone(), width);
        let (mut sq, mut count) = (0f64, 0usize);
        for r in rows {
            for (c, &v) in r.iter().enumerate() {
                sq += (v as f64 - columns.mean[c] as f64).powi(2);
                count += 1;
            }
        }
        let rms = (sq / count.max(1) as f64).sqrt();
        let inv = if rms > 1e-12 { (1.0 / rms) as f32 } else { 1.0 };
        Standardizer { mean: columns.mean, inv_std: vec![inv; width] }
    }

    /// Standardises the rows of `x` in place and checks the result: every value finite and at most
    /// [`MAX_FEATURE`] in size. `row(i)` names row `i` in the error ("node 5").
    ///
    /// # Errors
    /// A value beyond that, named with its row, column, raw and standardised value.
    pub fn apply_checked(&self, x: &mut [f32], row: impl Fn(usize) -> String) -> Result<()> {
        let w = self.mean.len();
        for (r, values) in x.chunks_mut(w.max(1)).enumerate() {
            for (c, v) in values.iter_mut().enumerate() {
                let raw = *v;
                *v = (raw - self.mean[c]) * self.inv_std[c];
                if !v.is_finite() || v.abs() > MAX_FEATURE {
                    return Err(invalid(
                        "node features",
                        format!("{raw:e} at {}, column {c} (standardised: {:e})", row(r), *v),
                        format!(
                            "features whose standardised size is at most {MAX_FEATURE:e}: larger ones overflow the \
                             models' float32 arithmetic (layer norm squares them); rescale or clip this feature"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// `ego` as a model input whose node features are `features` (row-major, its nodes in order), with
/// `k` Laplacian encodings (none when k = 0).
pub(crate) fn ego_input(ego: &EgoGraph, features: Vec<f32>, k: usize) -> PreparedGraph {
    let encodings = if k > 0 { laplacian_encodings(ego.nodes.len(), &ego.edges, k).0 } else { Vec::new() };
    PreparedGraph { nodes: ego.nodes.len(), edges: ego.edges.clone(), features, encodings, edge_labels: Vec::new() }
}

/// `graph`'s features transformed by `scale` and checked ([`Standardizer::apply_checked`]), an
/// error naming the node of `graph`.
pub(crate) fn scaled_features(graph: &AnomalyGraph, scale: &Standardizer) -> Result<Vec<f32>> {
    let mut features = graph.features.clone();
    scale.apply_checked(&mut features, |node| format!("node {node} of {}", graph.name))?;
    Ok(features)
}

/// Which model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ModelKind {
    /// The graph Energy Transformer.
    #[serde(rename = "ET", alias = "Et", alias = "et")]
    Et,
    /// The structure-blind baseline: an MLP on each node's features, mean-pooled for a graph.
    #[serde(rename = "MLP", alias = "Mlp", alias = "mlp")]
    Mlp,
    /// GIN-0: sum aggregation, an MLP per layer, a sum read-out over the layers ([`gin`]).
    #[serde(rename = "GIN", alias = "Gin", alias = "gin")]
    Gin,
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            ModelKind::Et => "ET",
            ModelKind::Mlp => "MLP",
            ModelKind::Gin => "GIN",
        })
    }
}

/// The sizes of both models and how they are trained.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GraphSettings {
    /// D of the ET; the MLP's hidden width.
    pub dim: usize,
    /// H.
    pub heads: usize,
    /// Y.
    pub head_dim: usize,
    /// M, Hopfield memories.
    pub memories: usize,
    /// T and α.
    pub descent: Descent,
    /// k, Laplacian encodings per node (0: none).
    pub encodings: usize,
    /// Random-walk return probabilities after 1..=`random_walk` steps appended to every node's
    /// features, for every model (0: none).
    #[serde(default)]
    pub random_walk: usize,
    /// Whether a node attends to itself.
    pub self_loops: bool,
    /// Learned per-head edge weights from the edges' labels (one label for all edges in a set
    /// without them).
    pub edge_weights: bool,
    /// What the ET's logits read: the CLS token, or it beside the mean or sum of the node tokens.
    #[serde(default)]
    pub readout: Readout,
    /// The ET's attention with learned per-head inverse temperatures β_h (from β = 1/√Y).
    #[serde(default)]
    pub head_betas: bool,
    /// The ET's attention with a learned mixing of its heads' logits (from the identity).
    #[serde(default)]
    pub head_mixing: bool,
    /// Standard deviation of Gaussian noise added to every standardised node feature of the
    /// training batches (0: none; never at validation or test), for every model.
    #[serde(default)]
    pub noise: f64,
    /// Passes over the training examples: the budget, when `patience` stops a run early.
    pub epochs: usize,
    /// Early stopping: a run ends once this many epochs have passed without a better validation
    /// figure than its best epoch's (`None`: every epoch of the budget runs).
    #[serde(default)]
    pub patience: Option<usize>,
    /// Examples (graphs or centre nodes) per step.
    pub batch_size: usize,
    /// AdamW's learning rate.
    pub lr: f64,
    /// AdamW's decoupled weight decay.
    pub weight_decay: f64,
    /// Seed of the splits' shuffles, the weights and the batch order.
    pub seed: u64,
}

impl Default for GraphSettings {
    fn default() -> Self {
        GraphSettings {
            dim: 64,
            heads: 4,
            head_dim: 16,
            memories: 128,
            descent: Descent::new(4, 0.1),
            encodings: 8,
            random_walk: 0,
            self_loops: false,
            edge_weights: false,
            readout: Readout::Cls,
            head_betas: false,
            head_mixing: false,
            noise: 0.0,
            epochs: 60,
            patience: None,
            batch_size: 32,
            lr: 1e-3,
            weight_decay: 1e-4,
            seed: 0,
        }
    }
}

impl GraphSettings {
    /// Checks every size and rate.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("dim", self.dim),
            ("heads", self.heads),
            ("head_dim", self.head_dim),
            ("memories", self.memories),
            ("epochs", self.epochs),
            ("batch size", self.batch_size),
        ] {
            if v == 0 {
                return Err(invalid(name, 0, "must be at least 1"));
            }
        }
        if self.descent.steps == 0 {
            // The CLS token only moves in the descent: without a step every graph's logits are equal.
            return Err(invalid("steps", 0, "at least 1: the CLS token learns about a graph only in the descent"));
        }
        if self.patience == Some(0) {
            return Err(invalid("patience", 0, "at least 1 epoch without improvement before stopping (or none)"));
        }
        positive("lr", self.lr)?;
        classify::check_random_walk(self.random_walk)?;
        if !(self.noise.is_finite() && self.noise >= 0.0) {
            return Err(invalid("noise", self.noise, "a finite standard deviation ≥ 0 (0: no noise)"));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(invalid("weight decay", self.weight_decay, "a finite number ≥ 0"));
        }
        self.descent.validate().map_err(Into::into)
    }

    /// Refuses what only graph classification has: a read-out other than the CLS token (node
    /// anomaly detection reads each node's own token), training noise and random-walk encodings.
    ///
    /// # Errors
    /// Any, naming the value.
    pub fn check_node_task(&self) -> Result<()> {
        if self.readout != Readout::Cls {
            return Err(invalid(
                "readout",
                self.readout,
                "cls: node anomaly detection reads each node's own token; the pooled read-outs are graph classification's",
            ));
        }
        if self.noise != 0.0 {
            return Err(invalid("noise", self.noise, "0: training noise is graph classification's"));
        }
        if self.random_walk != 0 {
            return Err(invalid(
                "random walk",
                self.random_walk,
                "0: random-walk encodings are graph classification's (an ego-graph's own are not computed)",
            ));
        }
        Ok(())
    }

    /// Refuses sizes that cannot fit before anything is allocated: the weights with their gradients
    /// and AdamW's moments, and a batch of `batch_size` graphs padded to `largest` nodes (CLS
    /// added) with four [B, H, N, N] and four [B, N, D + M] tensors kept per descent step.
    ///
    /// # Errors
    /// [`crate::TrainError::TooLarge`] with the figure.
    pub fn check_memory(&self, features: usize, classes: usize, largest: usize) -> Result<()> {
        use crate::budget::product;
        let (f, k, c) = (features as u128, self.encodings as u128, classes as u128);
        let (d, h, y, m) = (self.dim as u128, self.heads as u128, self.head_dim as u128, self.memories as u128);
        let params =
            (|| product(&[f + k + c + 2, d])?.checked_add(product(&[2, h, y, d])?)?.checked_add(product(&[m, d])?))();
        let n = largest as u128 + 1;
        let (b, t) = (self.batch_size as u128, self.descent.steps as u128);
        let need = (|| {
            let pairs = product(&[b, h, n, n, 4, 4, t])?;
            let tokens = product(&[b, n, d.checked_add(m)?, 4, 4, t])?;
            product(&[params?, 16])?.checked_add(pairs)?.checked_add(tokens)
        })();
        crate::budget::check(
            &format!(
                "training a graph model (D = {}, {} heads × {}, {} memories, T = {}) on batches of {} graphs of up to {} nodes",
                self.dim, self.heads, self.head_dim, self.memories, self.descent.steps, self.batch_size, largest
            ),
            need,
        )
    }

    /// AdamW (β 0.9 / 0.999, clipping at norm 1) at this learning rate and weight decay: the
    /// graph models' optimiser.
    pub fn optimizer(&self) -> crate::trainer::Optimizer {
        use crate::trainer::{Optimizer, Schedule};
        Optimizer::adamw((0.9, 0.999), self.weight_decay, 1.0, Schedule::Constant(self.lr))
    }

    /// The ET's configuration for `features` node features, `classes` classes and a set of
    /// `edge_labels` edge labels (used when `edge_weights`).
    pub fn et_config(&self, features: usize, classes: usize, edge_labels: usize) -> GraphEtConfig {
        let mut et = EtConfig::new(self.dim, self.heads, self.head_dim, self.memories);
        (et.head_betas, et.head_mixing) = (self.head_betas, self.head_mixing);
        let mut c = GraphEtConfig::new(features, self.encodings, classes, et);
        c.descent = self.descent;
        c.self_loops = self.self_loops;
        c.edge_labels = if self.edge_weights { edge_labels.max(1) } else { 0 };
        c.readout = self.readout;
        c
    }
}

/// The structure-blind baseline: two ReLU layers on each node's features, then a linear read-out
/// of the mean over a graph's nodes (graph labels) or of one node (node labels).
#[derive(Module, Debug)]
pub struct NodeMlp {
    /// [F, H].
    pub w1: Param<Tensor<2>>,
    /// [H].
    pub b1: Param<Tensor<1>>,
    /// [H, H].
    pub w2: Param<Tensor<2>>,
    /// [H].
    pub b2: Param<Tensor<1>>,
    /// [H, C].
    pub readout: Param<Tensor<2>>,
    /// [C].
    pub readout_bias: Param<Tensor<1>>,
}

impl NodeMlp {
    /// He-initialised layers from `seed`.
    pub fn new(features: usize, hidden: usize, classes: usize, seed: u64, device: &Device) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x313b);
        let he = |fan_in: usize| (2.0 / fan_in as f64).sqrt();
        NodeMlp {
            w1: Param::from_tensor(normal(&mut rng, [features, hidden], he(features), device)),
            b1: Param::from_tensor(Tensor::zeros([hidden], device)),
            w2: Param::from_tensor(normal(&mut rng, [hidden, hidden], he(hidden), device)),
            b2: Param::from_tensor(Tensor::zeros([hidden], device)),
            readout: Param::from_tensor(normal(&mut rng, [hidden, classes], (1.0 / hidden as f64).sqrt(), device)),
            readout_bias: Param::from_tensor(Tensor::zeros([classes], device)),
        }
    }

    fn embed(&self, x: Tensor<3>) -> Tensor<3> {
        let [b, n, f] = x.dims();
        let h = relu(x.reshape([b * n, f]).matmul(self.w1.val()) + self.b1.val().unsqueeze_dim(0));
        let h = relu(h.matmul(self.w2.val()) + self.b2.val().unsqueeze_dim(0));
        let d = h.dims()[1];
        h.reshape([b, n, d])
    }

    fn read(&self, h: Tensor<2>) -> Tensor<2> {
        h.matmul(self.readout.val()) + self.readout_bias.val().unsqueeze_dim(0)
    }
}

/// Either model, one type for the training loop.
// A few hundred bytes of handles either way, moved once per step: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum GraphModel {
    /// The graph Energy Transformer.
    Et(GraphEnergyTransformer),
    /// The node MLP.
    Mlp(NodeMlp),
    /// GIN-0.
    Gin(Gin),
}

impl GraphModel {
    /// A new model of `kind` for `features` node features, `classes` classes and `edge_labels`
    /// edge labels.
    ///
    /// # Errors
    /// Invalid sizes.
    pub fn new(
        kind: ModelKind,
        s: &GraphSettings,
        features: usize,
        classes: usize,
        edge_labels: usize,
        device: &Device,
    ) -> Result<GraphModel> {
        s.validate()?;
        Ok(match kind {
            ModelKind::Et => GraphModel::Et(s.et_config(features, classes, edge_labels).init(s.seed, device)?),
            ModelKind::Mlp => GraphModel::Mlp(NodeMlp::new(features, s.dim, classes, s.seed, device)),
            ModelKind::Gin => GraphModel::Gin(Gin::new(features, s.dim, classes, s.seed, device)),
        })
    }

    /// Which model this is.
    pub fn kind(&self) -> ModelKind {
        match self {
            GraphModel::Et(_) => ModelKind::Et,
            GraphModel::Mlp(_) => ModelKind::Mlp,
            GraphModel::Gin(_) => ModelKind::Gin,
        }
    }

    /// Graph logits [B, C]: the ET's CLS read-out, the MLP's read-out of the node mean, or GIN's
    /// sum read-out over its layers.
    ///
    /// # Errors
    /// Shapes that disagree with the model.
    pub fn graph_logits(&self, b: GraphBatch, descent: &Descent) -> Result<Tensor<2>> {
        match self {
            GraphModel::Et(m) => Ok(m.forward(b, descent, Observe::Nothing)?.logits),
            GraphModel::Mlp(m) => {
                let [bs, n, _] = b.features.dims();
                let w = node_pool_weights(&b.nodes, n, 0, true, &b.features.device());
                let pooled = w.matmul(m.embed(b.features));
                let d = pooled.dims()[2];
                Ok(m.read(pooled.reshape([bs, d])))
            }
            GraphModel::Gin(m) => Ok(m.graph_logits(&b)),
        }
    }

    /// Logits of every graph's node 0 (an ego-graph's centre) [B, C]: the ET's per-node read-out
    /// after the descent, or the MLP on that node's features.
    ///
    /// # Errors
    /// Shapes that disagree with the model.
    pub fn centre_logits(&self, b: GraphBatch, descent: &Descent) -> Result<Tensor<2>> {
        match self {
            GraphModel::Et(m) => {
                let out = m.forward(b, descent, Observe::Nothing)?;
                let z = m.node_logits(&out);
                let [bs, _, c] = z.dims();
                Ok(z.slice([0..bs, 0..1, 0..c]).reshape([bs, c]))
            }
            GraphModel::Mlp(m) => {
                let [bs, _, f] = b.features.dims();
                let h = m.embed(b.features.slice([0..bs, 0..1, 0..f]));
                let d = h.dims()[2];
                Ok(m.read(h.reshape([bs, d])))
            }
            GraphModel::Gin(m) => Ok(m.centre_logits(&b)),
        }
    }
}

/// Cross-entropy of `logits` [B, C] for `labels`, each example weighted by its class's weight
/// (`None`: all 1), normalised by the total weight.
pub fn weighted_cross_entropy(logits: Tensor<2>, labels: &[usize], weights: Option<&[f64]>) -> Tensor<1> {
    let [b, c] = logits.dims();
    let device = logits.device();
    let mut w = vec![0f32; b * c];
    let mut total = 0.0;
    for (i, &y) in labels.iter().enumerate() {
        let v = weights.map_or(1.0, |ws| ws[y]);
        w[i * c + y] = v as f32;
        total += v;
    }
    let w = Tensor::<2>::from_data(TensorData::new(w, [b, c]), &device);
    (log_softmax(logits, 1) * w).sum() * (-1.0 / total.max(f64::MIN_POSITIVE))
}

/// Rows of a [B, C] tensor as f64 vectors.
pub fn rows(t: Tensor<2>) -> Result<Vec<Vec<f64>>> {
    let [_, c] = t.dims();
    Ok(values(t, "logits")?.chunks(c.max(1)).map(<[f64]>::to_vec).collect())
}
