//! GIN-0 (Xu et al., ICLR 2019, "How Powerful are Graph Neural Networks?"), the strongest simple
//! peer of the graph ET: L layers h_v ← MLP(h_v + Σ_{u ∈ N(v)} h_u) (ε = 0, sum aggregation, a
//! two-layer ReLU MLP per layer), and a sum read-out over the nodes of every layer's
//! representations (the input's included), each layer through its own linear map to the logits.

use burn::module::{Module, Param};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use hopfield::et::{node_pool_weights, GraphBatch};
use hopfield::init::normal;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// GIN layers after the input (Xu et al. use 5 including the input).
pub const GIN_LAYERS: usize = 4;

/// One GIN-0 layer: MLP(h + A h), padded nodes kept at 0.
#[derive(Module, Debug)]
pub struct GinLayer {
    /// [F_in, H].
    pub w1: Param<Tensor<2>>,
    /// [H].
    pub b1: Param<Tensor<1>>,
    /// [H, H].
    pub w2: Param<Tensor<2>>,
    /// [H].
    pub b2: Param<Tensor<1>>,
}

impl GinLayer {
    fn new(rng: &mut ChaCha8Rng, input: usize, hidden: usize, device: &Device) -> Self {
        let he = |fan_in: usize| (2.0 / fan_in as f64).sqrt();
        GinLayer {
            w1: Param::from_tensor(normal(rng, [input, hidden], he(input), device)),
            b1: Param::from_tensor(Tensor::zeros([hidden], device)),
            w2: Param::from_tensor(normal(rng, [hidden, hidden], he(hidden), device)),
            b2: Param::from_tensor(Tensor::zeros([hidden], device)),
        }
    }

    /// h [B, N, F_in], 0/1 adjacency [B, N, N] (row: the node, column: its neighbour), `real`
    /// [B, N, 1] (1 for a real node) → [B, N, H].
    pub fn forward(&self, h: Tensor<3>, adjacency: Tensor<3>, real: Tensor<3>) -> Tensor<3> {
        let [b, n, f] = h.dims();
        let summed = h.clone() + adjacency.matmul(h);
        let x = relu(normalised(summed.reshape([b * n, f]).matmul(self.w1.val()) + self.b1.val().unsqueeze_dim(0)));
        let x = relu(normalised(x.matmul(self.w2.val()) + self.b2.val().unsqueeze_dim(0)));
        let d = x.dims()[1];
        x.reshape([b, n, d]) * real
    }
}

/// Each row centred and scaled to unit variance: the layer norm that stands in for GIN's batch norm
/// (a batch of padded graphs has no clean batch statistics), keeping the sums from growing by the
/// degree at every layer.
fn normalised(x: Tensor<2>) -> Tensor<2> {
    let centred = x.clone() - x.mean_dim(1);
    let var = centred.clone().square().mean_dim(1);
    centred / (var + 1e-5).sqrt()
}

/// GIN-0 with a per-layer linear read-out.
#[derive(Module, Debug)]
pub struct Gin {
    /// The layers.
    pub layers: Vec<GinLayer>,
    /// The read-out of each representation, the input's first: [F, C], then [H, C] per layer.
    pub readouts: Vec<Param<Tensor<2>>>,
    /// [C].
    pub readout_bias: Param<Tensor<1>>,
}

impl Gin {
    /// He-initialised layers of width `hidden` from `seed`.
    pub fn new(features: usize, hidden: usize, classes: usize, seed: u64, device: &Device) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6117);
        let layers = (0..GIN_LAYERS)
            .map(|l| GinLayer::new(&mut rng, if l == 0 { features } else { hidden }, hidden, device))
            .collect();
        let readouts = (0..=GIN_LAYERS)
            .map(|l| {
                let fan_in = if l == 0 { features } else { hidden };
                Param::from_tensor(normal(&mut rng, [fan_in, classes], 0.1 / (fan_in as f64).sqrt(), device))
            })
            .collect();
        Gin { layers, readouts, readout_bias: Param::from_tensor(Tensor::zeros([classes], device)) }
    }

    /// Every layer's node representations, the input's first: [B, N, ·] each.
    pub fn representations(&self, b: &GraphBatch) -> Vec<Tensor<3>> {
        let [bs, n, _] = b.features.dims();
        // 1 on each graph's real nodes, 0 on padding: [B, N, 1].
        let real = node_pool_weights(&b.nodes, n, 0, false, &b.features.device()).reshape([bs, n, 1]);
        let mut h = b.features.clone() * real.clone();
        let mut all = vec![h.clone()];
        for layer in &self.layers {
            h = layer.forward(h, b.adjacency.clone(), real.clone());
            all.push(h.clone());
        }
        all
    }

    /// Σ_l (pooled_l W_l) + bias for per-layer pooled vectors [B, ·].
    fn read(&self, pooled: Vec<Tensor<2>>) -> Tensor<2> {
        let mut logits = self.readout_bias.val().unsqueeze_dim::<2>(0);
        for (p, w) in pooled.into_iter().zip(&self.readouts) {
            logits = logits + p.matmul(w.val());
        }
        logits
    }

    /// Graph logits [B, C]: the sum over each graph's nodes of every layer, read out and added.
    pub fn graph_logits(&self, b: &GraphBatch) -> Tensor<2> {
        let pooled = self
            .representations(b)
            .into_iter()
            .map(|h| {
                let [bs, _, d] = h.dims();
                h.sum_dim(1).reshape([bs, d])
            })
            .collect();
        self.read(pooled)
    }

    /// Logits of every graph's node 0 [B, C]: its representation in every layer, read out and added.
    pub fn centre_logits(&self, b: &GraphBatch) -> Tensor<2> {
        let pooled = self
            .representations(b)
            .into_iter()
            .map(|h| {
                let [bs, _, d] = h.dims();
                h.slice([0..bs, 0..1, 0..d]).reshape([bs, d])
            })
            .collect();
        self.read(pooled)
    }
}
