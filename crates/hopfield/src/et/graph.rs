//! The Energy Transformer on graphs (Hoover et al. 2023, §5): node tokens = linear(node
//! features) + linear(positional encodings), a learned CLS token at position 0 that attends to
//! every node and that every node attends to, the attention energy restricted by the adjacency
//! through the [`TokenMask`] (pairs that are not edges get exactly zero weight; a node attends to
//! itself only when `self_loops`), the Hopfield module on the same layer-normalised tokens, the same
//! [`Descent`]. Graphs of different sizes go in one padded batch with their node counts. The
//! graph's logits are a linear read-out of the final, layer-normalised CLS token.

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{normal, Descent, EnergyTransformer, EtConfig, Observe, TokenMask};
use crate::error::{invalid, positive, shape, Result};

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
            readout_weight: Param::from_tensor(normal(&mut rng, [d, self.classes], s, device)),
            readout_bias: Param::from_tensor(Tensor::zeros([self.classes], device)),
            self_loops: self.self_loops,
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
    /// Read-out of the CLS token: [D, C] and [C].
    pub readout_weight: Param<Tensor<2>>,
    /// Its bias.
    pub readout_bias: Param<Tensor<1>>,
    /// Whether a node attends to itself.
    pub self_loops: bool,
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
    /// real; CLS ↔ every real node; node ↔ node by `adjacency` [B, N, N] (0 = no edge, other values
    /// weight the pair), the diagonal only with self-loops.
    pub fn mask(&self, adjacency: Tensor<3>, nodes: &[usize]) -> Result<TokenMask> {
        let [b, n, n2] = adjacency.dims();
        if n != n2 || nodes.len() != b {
            return Err(shape(
                "adjacency",
                format!("[{}, N, N] with one node count per graph", nodes.len()),
                format!("{:?}", adjacency.dims()),
            ));
        }
        let device = adjacency.device();
        let real = TokenMask::from_lengths(&nodes.iter().map(|&k| k + 1).collect::<Vec<_>>(), n + 1, &device)?;
        let diag: Tensor<3> = Tensor::<2>::eye(n, &device).unsqueeze_dim(0);
        let adjacency = if self.self_loops {
            adjacency.clone() * (diag.clone().neg() + 1.0) + diag
        } else {
            adjacency * (diag.neg() + 1.0)
        };
        // [B, N+1, N+1]: row/column 0 all ones (CLS), the adjacency below and right of it.
        let top = Tensor::<3>::ones([b, 1, n + 1], &device);
        let left = Tensor::<3>::ones([b, n, 1], &device);
        let pairs = Tensor::cat(vec![top, Tensor::cat(vec![left, adjacency], 2)], 1);
        Ok(real.with_pairs(pairs))
    }

    /// Logits of a padded batch of graphs: `features` [B, N, F], `encodings` [B, N, k] (k = 0:
    /// none), `adjacency` [B, N, N], `nodes[b]` real nodes in graph b.
    ///
    /// # Errors
    /// Shapes that disagree; a graph of no nodes or more than N; an invalid descent.
    pub fn forward(
        &self,
        features: Tensor<3>,
        encodings: Option<Tensor<3>>,
        adjacency: Tensor<3>,
        nodes: &[usize],
        descent: &Descent,
        observe: Observe,
    ) -> Result<GraphOutput> {
        let [b, n, f] = features.dims();
        let [fw, d] = self.feature_weight.dims();
        if f != fw {
            return Err(shape("node features", format!("[{b}, {n}, {fw}]"), format!("{:?}", features.dims())));
        }
        let mask = self.mask(adjacency, nodes)?;
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
        let logits = g.matmul(self.readout_weight.val()) + self.readout_bias.val().unsqueeze_dim(0);
        Ok(GraphOutput { logits, tokens: r.x, energy: r.energy, mask })
    }

    /// Per-node logits of a forward pass: the same linear read-out applied to every final,
    /// layer-normalised node token: [B, N, C] (CLS left out; padded nodes give values to ignore).
    pub fn node_logits(&self, out: &GraphOutput) -> Tensor<3> {
        let [b, n1, d] = out.tokens.dims();
        let nodes = out.tokens.clone().slice([0..b, 1..n1, 0..d]);
        let g = self.et.norm.activation(nodes);
        super::linear(g, self.readout_weight.val()) + self.readout_bias.val().unsqueeze_dims::<3>(&[0, 1])
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

/// One graph for [`pad_graphs`]: its node count, its edges (0-based node pairs) and its node
/// features (row-major [nodes, F]).
pub type GraphInput<'a> = (usize, &'a [(u32, u32)], &'a [f32]);

/// Dense, zero-padded tensors of a batch of graphs given as edge lists: features [B, N, F] and a
/// 0/1 adjacency [B, N, N], N the largest graph; and the node counts.
pub fn pad_graphs(graphs: &[GraphInput<'_>], f: usize, device: &Device) -> (Tensor<3>, Tensor<3>, Vec<usize>) {
    let n = graphs.iter().map(|g| g.0).max().unwrap_or(1).max(1);
    let b = graphs.len();
    let mut adj = vec![0f32; b * n * n];
    for (i, &(_, edges, _)) in graphs.iter().enumerate() {
        for &(u, v) in edges {
            adj[i * n * n + u as usize * n + v as usize] = 1.0;
        }
    }
    let rows: Vec<(usize, &[f32])> = graphs.iter().map(|g| (g.0, g.2)).collect();
    (
        pad_node_values(&rows, f, n, device),
        Tensor::from_data(TensorData::new(adj, [b, n, n]), device),
        graphs.iter().map(|g| g.0).collect(),
    )
}

/// Per-node values of a batch of graphs (`(nodes, row-major [nodes, width])` each) as one
/// zero-padded tensor [B, n, width].
pub fn pad_node_values(graphs: &[(usize, &[f32])], width: usize, n: usize, device: &Device) -> Tensor<3> {
    let b = graphs.len();
    let mut out = vec![0f32; b * n * width];
    for (i, &(nodes, x)) in graphs.iter().enumerate() {
        out[i * n * width..i * n * width + nodes * width].copy_from_slice(&x[..nodes * width]);
    }
    Tensor::from_data(TensorData::new(out, [b, n, width]), device)
}
