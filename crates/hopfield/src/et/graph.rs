//! The Energy Transformer on graphs (Hoover et al. 2023, §5): node tokens = linear(node
//! features) + linear(positional encodings), a learned CLS token at position 0 that attends to
//! every node and that every node attends to, the attention energy restricted by the adjacency
//! through the [`TokenMask`] (pairs that are not edges get exactly zero weight; a node attends to
//! itself only when `self_loops`), the Hopfield module on the same layer-normalised tokens, the same
//! [`Descent`]. Graphs of different sizes go in one padded batch with their node counts. The
//! graph's logits are a linear read-out of the final, layer-normalised CLS token, or of it beside
//! the mean or the sum of the final, layer-normalised node tokens ([`Readout`]).

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{normal, Descent, EnergyTransformer, EtConfig, Observe, TokenMask};
use crate::error::{invalid, positive, shape, Result};

/// What the graph's logits read after the descent: always the layer-normalised CLS token g_CLS,
/// and beside it (concatenated) a pooling of the layer-normalised node tokens g_v over the real
/// nodes. Every choice is invariant to the order of the nodes; a sum grows with the graph's size
/// (which the structure-blind baselines of the TU sets exploit), a mean does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Readout {
    /// g_CLS alone (the paper's read-out).
    #[default]
    Cls,
    /// [g_CLS, (1/n) Σ_v g_v].
    ClsMean,
    /// [g_CLS, Σ_v g_v].
    ClsSum,
}

impl Readout {
    /// Every read-out, in the order of the CLI's choices.
    pub const ALL: [Readout; 3] = [Readout::Cls, Readout::ClsMean, Readout::ClsSum];

    /// The name the CLI, the Python package and a grid file use.
    pub fn name(self) -> &'static str {
        match self {
            Readout::Cls => "cls",
            Readout::ClsMean => "cls-mean",
            Readout::ClsSum => "cls-sum",
        }
    }

    /// Values the linear read-out reads per graph for tokens of dimension `dim`.
    pub fn width(self, dim: usize) -> usize {
        match self {
            Readout::Cls => dim,
            Readout::ClsMean | Readout::ClsSum => 2 * dim,
        }
    }
}

impl std::fmt::Display for Readout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

impl std::str::FromStr for Readout {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self> {
        Readout::ALL
            .into_iter()
            .find(|r| r.name() == s.trim())
            .ok_or_else(|| invalid("readout", s, "one of cls, cls-mean, cls-sum"))
    }
}

/// Sizes of the graph model.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GraphEtConfig {
    /// Node features per node (one-hot labels, attributes or degrees).
    pub features: usize,
    /// Positional encodings per node (Laplacian eigenvectors); 0 for none.
    pub encodings: usize,
    /// Graph classes.
    pub classes: usize,
    /// Whether a node attends to itself.
    pub self_loops: bool,
    /// Edge labels for learned per-head edge weights (0: every edge weighs 1 in every head). With
    /// L labels a pair joined by an edge of label l weighs exp(W_lh) in head h (W [L, H], from 0).
    #[serde(default)]
    pub edge_labels: usize,
    /// What the logits read ([`Readout`]; the CLS token alone by default).
    #[serde(default)]
    pub readout: Readout,
    /// The block.
    pub et: EtConfig,
    /// T and α.
    pub descent: Descent,
    /// Standard deviation of the initial linear maps and the CLS token.
    pub init_std: f64,
}

impl GraphEtConfig {
    /// A model for graphs with `features` features per node and `classes` classes.
    pub fn new(features: usize, encodings: usize, classes: usize, et: EtConfig) -> Self {
        GraphEtConfig {
            features,
            encodings,
            classes,
            self_loops: false,
            edge_labels: 0,
            readout: Readout::Cls,
            et,
            descent: Descent::default(),
            init_std: 0.1,
        }
    }

    /// Checks the sizes.
    pub fn validate(&self) -> Result<()> {
        self.et.validate()?;
        if self.features == 0 {
            return Err(invalid("features", 0, "a node needs at least one feature"));
        }
        if self.classes < 2 {
            return Err(invalid("classes", self.classes, "at least two classes"));
        }
        positive("init_std", self.init_std)?;
        self.descent.validate()
    }

    /// A model with weights drawn from `seed`.
    pub fn init(&self, seed: u64, device: &Device) -> Result<GraphEnergyTransformer> {
        self.validate()?;
        let et = self.et.init(seed, device)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6a4f);
        let (d, s) = (self.et.dim, self.init_std);
        Ok(GraphEnergyTransformer {
            et,
            feature_weight: Param::from_tensor(normal(&mut rng, [self.features, d], s, device)),
            feature_bias: Param::from_tensor(Tensor::zeros([d], device)),
            encoding_weight: Param::from_tensor(normal(&mut rng, [self.encodings.max(1), d], s, device)),
            cls_token: Param::from_tensor(normal(&mut rng, [d], s, device)),
            readout_weight: Param::from_tensor(normal(&mut rng, [self.readout.width(d), self.classes], s, device)),
            readout_bias: Param::from_tensor(Tensor::zeros([self.classes], device)),
            edge_weight: (self.edge_labels > 0)
                .then(|| Param::from_tensor(Tensor::zeros([self.edge_labels, self.et.heads], device))),
            self_loops: self.self_loops,
            readout: self.readout,
        })
    }
}

/// The graph model.
#[derive(Module, Debug)]
pub struct GraphEnergyTransformer {
    /// The block.
    pub et: EnergyTransformer,
    /// Node features → tokens: [F, D] and [D].
    pub feature_weight: Param<Tensor<2>>,
    /// Its bias.
    pub feature_bias: Param<Tensor<1>>,
    /// Positional encodings → tokens: [k, D] (one unused row when k = 0).
    pub encoding_weight: Param<Tensor<2>>,
    /// The CLS token: [D].
    pub cls_token: Param<Tensor<1>>,
    /// The read-out: [D, C] for the CLS token alone, [2D, C] with a pooling of the nodes beside
    /// it (the CLS token's rows first), and [C].
    pub readout_weight: Param<Tensor<2>>,
    /// Its bias.
    pub readout_bias: Param<Tensor<1>>,
    /// log of the per-head weight of each edge label: [L, H] (`None`: every edge weighs 1).
    pub edge_weight: Option<Param<Tensor<2>>>,
    /// Whether a node attends to itself.
    pub self_loops: bool,
    /// What the logits read.
    #[module(skip)]
    pub readout: Readout,
}

/// A zero-padded batch of graphs as the model takes it.
#[derive(Debug, Clone)]
pub struct GraphBatch {
    /// Node features [B, N, F].
    pub features: Tensor<3>,
    /// Positional encodings [B, N, k], if the model takes them.
    pub encodings: Option<Tensor<3>>,
    /// 0/1 adjacency [B, N, N] (row: the attending node, column: the attended one).
    pub adjacency: Tensor<3>,
    /// One-hot edge labels [B, N, N, L] for a model with edge weights.
    pub edge_labels: Option<Tensor<4>>,
    /// Real nodes of each graph.
    pub nodes: Vec<usize>,
}

impl GraphBatch {
    /// Features, adjacency and node counts; no encodings or edge labels.
    pub fn new(features: Tensor<3>, adjacency: Tensor<3>, nodes: Vec<usize>) -> Self {
        GraphBatch { features, encodings: None, adjacency, edge_labels: None, nodes }
    }
}

/// What [`GraphEnergyTransformer::forward`] returns.
#[derive(Debug, Clone)]
pub struct GraphOutput {
    /// Class logits per graph: [B, C].
    pub logits: Tensor<2>,
    /// The tokens after the descent, CLS first: [B, N + 1, D].
    pub tokens: Tensor<3>,
    /// E(g(x_t)), t = 0..=T, each [B] (when observed).
    pub energy: Vec<Tensor<1>>,
    /// The mask the descent ran with (CLS included): for attention pictures.
    pub mask: TokenMask,
}

impl GraphEnergyTransformer {
    /// The token mask of a padded batch: CLS (token 0) and the first `nodes[b]` node tokens are
    /// real; CLS ↔ every real node with weight 1; node ↔ node by the adjacency (0 = no edge), each
    /// edge weighted per head by its label when the model has edge weights; the diagonal (weight
    /// 1) only with self-loops.
    ///
    /// # Errors
    /// Shapes that disagree; edge labels missing for a model with edge weights, or given to one
    /// without.
    pub fn mask(&self, batch: &GraphBatch) -> Result<TokenMask> {
        let [b, n, n2] = batch.adjacency.dims();
        let nodes = &batch.nodes;
        if n != n2 || nodes.len() != b {
            return Err(shape(
                "adjacency",
                format!("[{}, N, N] with one node count per graph", nodes.len()),
                format!("{:?}", batch.adjacency.dims()),
            ));
        }
        let device = batch.adjacency.device();
        let real = TokenMask::from_lengths(&nodes.iter().map(|&k| k + 1).collect::<Vec<_>>(), n + 1, &device)?;
        let diag: Tensor<3> = Tensor::<2>::eye(n, &device).unsqueeze_dim(0);
        let off_diag = diag.clone().neg() + 1.0;
        // [B, 1 or H, N, N]: the node block.
        let block: Tensor<4> = match (&self.edge_weight, &batch.edge_labels) {
            (None, None) => (batch.adjacency.clone() * off_diag).unsqueeze_dim(1),
            (Some(w), Some(onehot)) => {
                let [lb, ln, ln2, l] = onehot.dims();
                let [wl, h] = w.dims();
                if [lb, ln, ln2, l] != [b, n, n, wl] {
                    return Err(shape("edge labels", format!("[{b}, {n}, {n}, {wl}]"), format!("{:?}", onehot.dims())));
                }
                // Σ_l onehot_l · exp(W_lh): [B·N·N, L] × [L, H] → [B, H, N, N], 0 where no edge.
                let per = onehot.clone().reshape([b * n * n, l]).matmul(w.val().exp()).reshape([b, n, n, h]);
                let edges = (batch.adjacency.clone() * off_diag).unsqueeze_dim::<4>(3);
                (per * edges).permute([0, 3, 1, 2])
            }
            (Some(_), None) => return Err(invalid("edge labels", "none", "the model weighs edges by their labels")),
            (None, Some(_)) => return Err(invalid("edge labels", "given", "none: the model has no edge weights")),
        };
        let block = if self.self_loops { block + diag.unsqueeze_dim(1) } else { block };
        let h = block.dims()[1];
        // Row and column 0 all ones (CLS), the node block below and right of it.
        let top = Tensor::<4>::ones([b, h, 1, n + 1], &device);
        let left = Tensor::<4>::ones([b, h, n, 1], &device);
        let pairs = Tensor::cat(vec![top, Tensor::cat(vec![left, block], 3)], 2);
        Ok(real.with_head_pairs(pairs))
    }

    /// Logits of a padded batch of graphs.
    ///
    /// # Errors
    /// Shapes that disagree; a graph of no nodes or more than N; an invalid descent.
    pub fn forward(&self, batch: GraphBatch, descent: &Descent, observe: Observe) -> Result<GraphOutput> {
        let mask = self.mask(&batch)?;
        let GraphBatch { features, encodings, nodes: batch_nodes, .. } = batch;
        let [b, n, f] = features.dims();
        let [fw, d] = self.feature_weight.dims();
        if f != fw {
            return Err(shape("node features", format!("[{b}, {n}, {fw}]"), format!("{:?}", features.dims())));
        }
        let mut x =
            super::linear(features, self.feature_weight.val()) + self.feature_bias.val().unsqueeze_dims::<3>(&[0, 1]);
        if let Some(pe) = encodings {
            let [k, _] = self.encoding_weight.dims();
            if pe.dims() != [b, n, k] {
                return Err(shape("positional encodings", format!("[{b}, {n}, {k}]"), format!("{:?}", pe.dims())));
            }
            x = x + super::linear(pe, self.encoding_weight.val());
        }
        let cls = self.cls_token.val().unsqueeze_dims::<3>(&[0, 1]).expand([b, 1, d]);
        let x = Tensor::cat(vec![cls, x], 1);
        let r = self.et.descend(x, &mask, descent, observe)?;
        let cls = r.x.clone().slice([0..b, 0..1, 0..d]);
        let g = self.et.norm.activation(cls).reshape([b, d]);
        let read = match self.readout {
            Readout::Cls => g,
            Readout::ClsMean | Readout::ClsSum => {
                let mean = self.readout == Readout::ClsMean;
                let w = node_pool_weights(&batch_nodes, n + 1, 1, mean, &r.x.device());
                let pooled = w.matmul(self.et.norm.activation(r.x.clone())).reshape([b, d]);
                Tensor::cat(vec![g, pooled], 1)
            }
        };
        let logits = read.matmul(self.readout_weight.val()) + self.readout_bias.val().unsqueeze_dim(0);
        Ok(GraphOutput { logits, tokens: r.x, energy: r.energy, mask })
    }

    /// Per-node logits of a forward pass: the same linear read-out applied to every final,
    /// layer-normalised node token: [B, N, C] (CLS left out; padded nodes give values to ignore).
    pub fn node_logits(&self, out: &GraphOutput) -> Tensor<3> {
        let [b, n1, d] = out.tokens.dims();
        let nodes = out.tokens.clone().slice([0..b, 1..n1, 0..d]);
        let g = self.et.norm.activation(nodes);
        let c = self.readout_bias.dims()[0];
        // The CLS token's rows of the read-out (all of it with `Readout::Cls`).
        let w = self.readout_weight.val().slice([0..d, 0..c]);
        super::linear(g, w) + self.readout_bias.val().unsqueeze_dims::<3>(&[0, 1])
    }

    /// The attention the CLS token pays each node after the descent, averaged over the heads:
    /// [B, N] (a row sums to 1 over the real nodes; 0 at padding).
    pub fn cls_attention(&self, out: &GraphOutput) -> Tensor<2> {
        let [b, n1, _] = out.tokens.dims();
        let g = self.et.norm.activation(out.tokens.clone());
        let w = self.et.attention.weights(g, &out.mask); // [B, H, N+1 (query), N+1 (key)]
        let h = w.dims()[1];
        w.slice([0..b, 0..h, 0..1, 1..n1]).mean_dim(1).reshape([b, n1 - 1])
    }
}

/// Pooling weights over a padded batch whose graph b has its `nodes[b]` real nodes at token
/// positions `first..first + nodes[b]` of `width`: 1 there (a sum) or 1/nodes[b] (a mean with
/// `mean`), 0 at every other position (CLS, padding): [B, 1, width]. `w.matmul(tokens)` pools each
/// graph's real nodes.
pub fn node_pool_weights(nodes: &[usize], width: usize, first: usize, mean: bool, device: &Device) -> Tensor<3> {
    let w: Vec<f32> = nodes
        .iter()
        .flat_map(|&k| {
            let value = if mean { 1.0 / k.max(1) as f32 } else { 1.0 };
            (0..width).map(move |j| if (first..first + k).contains(&j) { value } else { 0.0 })
        })
        .collect();
    Tensor::from_data(TensorData::new(w, [nodes.len(), 1, width]), device)
}

/// One graph for [`pad_graphs`]: its node count, its edges (0-based node pairs) and its node
/// features (row-major [nodes, F]).
pub type GraphInput<'a> = (usize, &'a [(u32, u32)], &'a [f32]);

/// Dense, zero-padded tensors of a batch of graphs given as edge lists: features [B, N, F] and a
/// 0/1 adjacency [B, N, N], N the largest graph; and the node counts.
///
/// # Errors
/// A graph whose features are not `nodes × f` values, or an edge with an end outside its graph's
/// nodes (named with the graph's position in the batch).
pub fn pad_graphs(graphs: &[GraphInput<'_>], f: usize, device: &Device) -> Result<(Tensor<3>, Tensor<3>, Vec<usize>)> {
    for (i, &(nodes, edges, _)) in graphs.iter().enumerate() {
        if let Some(&(u, v)) = edges.iter().find(|&&(u, v)| u as usize >= nodes || v as usize >= nodes) {
            return Err(invalid(
                "edge",
                format!("({u}, {v}) of graph {i} in the batch, which has {nodes} nodes"),
                "both ends among the graph's nodes (0-based)",
            ));
        }
    }
    let n = graphs.iter().map(|g| g.0).max().unwrap_or(1).max(1);
    let b = graphs.len();
    let mut adj = vec![0f32; b * n * n];
    for (i, &(_, edges, _)) in graphs.iter().enumerate() {
        for &(u, v) in edges {
            adj[i * n * n + u as usize * n + v as usize] = 1.0;
        }
    }
    let rows: Vec<(usize, &[f32])> = graphs.iter().map(|g| (g.0, g.2)).collect();
    Ok((
        pad_node_values(&rows, f, n, device)?,
        Tensor::from_data(TensorData::new(adj, [b, n, n]), device),
        graphs.iter().map(|g| g.0).collect(),
    ))
}

/// Per-node values of a batch of graphs (`(nodes, row-major [nodes, width])` each) as one
/// zero-padded tensor [B, n, width].
///
/// # Errors
/// A graph with more than `n` nodes, or whose values are not `nodes × width`.
pub fn pad_node_values(graphs: &[(usize, &[f32])], width: usize, n: usize, device: &Device) -> Result<Tensor<3>> {
    let b = graphs.len();
    let mut out = vec![0f32; b * n * width];
    for (i, &(nodes, x)) in graphs.iter().enumerate() {
        if nodes > n || x.len() != nodes * width {
            return Err(shape(
                "per-node values",
                format!("{nodes} × {width} values for graph {i} (at most {n} nodes)"),
                format!("{} values", x.len()),
            ));
        }
        out[i * n * width..i * n * width + nodes * width].copy_from_slice(x);
    }
    Ok(Tensor::from_data(TensorData::new(out, [b, n, width]), device))
}
