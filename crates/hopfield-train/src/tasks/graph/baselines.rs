//! Label-free baselines of unsupervised node anomaly detection (detectors of the BOND benchmark),
//! each scoring every node of an [`UnlabelledGraph`] (higher: more anomalous): from the features
//! alone, the reconstruction error of an MLP autoencoder (MLPAE) and the local outlier factor (LOF,
//! Breunig et al. 2000); from structure and features, a graph autoencoder in the spirit of DOMINANT
//! (Ding et al. 2019) on the same ego-graphs as the ET ([`GraphAutoencoder`]).

use burn::module::{Module, Param};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use hopfield::init::normal;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::anomaly::{fixed_ego, EgoSettings};
use super::outlier::{finite_scores, NodeTask, OutlierEpoch, UnlabelledGraph};
use super::{make_batch, PreparedGraph};
use crate::error::{invalid, positive, Result};
use crate::trainer::{values, Event, Optimizer, Schedule, Trainer};
use hopfield_data::graph::ego::ego_graph;

/// The MLP autoencoder's sizes and training.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct AutoencoderSettings {
    /// Width of the hidden layers (PyGOD's MLPAE: 64).
    pub hidden: usize,
    /// Width of the code; 0: half the features, between 2 and 16 (a code as wide as the input
    /// could copy it).
    pub bottleneck: usize,
    /// Passes over the nodes.
    pub epochs: usize,
    /// Nodes per step.
    pub batch_size: usize,
    /// Adam's learning rate (PyGOD: 0.004).
    pub lr: f64,
}

impl Default for AutoencoderSettings {
    fn default() -> Self {
        AutoencoderSettings { hidden: 64, bottleneck: 0, epochs: 100, batch_size: 256, lr: 0.004 }
    }
}

impl AutoencoderSettings {
    /// Checks every size and rate.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("autoencoder hidden width", self.hidden),
            ("autoencoder epochs", self.epochs),
            ("autoencoder batch size", self.batch_size),
        ] {
            if v == 0 {
                return Err(invalid(name, 0, "must be at least 1"));
            }
        }
        positive("autoencoder lr", self.lr)
    }

    /// The code's width for `features` features.
    pub fn code(&self, features: usize) -> usize {
        if self.bottleneck > 0 {
            self.bottleneck
        } else {
            (features / 2).clamp(2, 16)
        }
    }
}

/// features → hidden → code → hidden → features, ReLU after every layer but the last.
#[derive(Module, Debug)]
pub struct MlpAutoencoder {
    /// The four layers' weights [in, out].
    pub weights: Vec<Param<Tensor<2>>>,
    /// Their biases [out].
    pub biases: Vec<Param<Tensor<1>>>,
}

impl MlpAutoencoder {
    /// He-initialised layers from `seed`.
    pub fn new(features: usize, hidden: usize, code: usize, seed: u64, device: &Device) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xae01);
        let sizes = [features, hidden, code, hidden, features];
        let (mut weights, mut biases) = (Vec::new(), Vec::new());
        for w in sizes.windows(2) {
            weights.push(Param::from_tensor(normal(&mut rng, [w[0], w[1]], (2.0 / w[0] as f64).sqrt(), device)));
            biases.push(Param::from_tensor(Tensor::zeros([w[1]], device)));
        }
        MlpAutoencoder { weights, biases }
    }

    /// Reconstructions of the rows of `x` [B, F].
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let last = self.weights.len() - 1;
        let mut h = x;
        for (i, (w, b)) in self.weights.iter().zip(&self.biases).enumerate() {
            h = h.matmul(w.val()) + b.val().unsqueeze_dim(0);
            if i < last {
                h = relu(h);
            }
        }
        h
    }
}

fn rows_tensor(graph: &UnlabelledGraph, nodes: impl Iterator<Item = usize>, device: &Device) -> Tensor<2> {
    let x: Vec<f32> = nodes.flat_map(|i| graph.row(i as u32).to_vec()).collect();
    let n = x.len() / graph.dim.max(1);
    Tensor::from_data(TensorData::new(x, [n, graph.dim]), device)
}

/// Trains an MLP autoencoder on every node's features (weights and batch order from `seed`) and
/// scores each node by its reconstruction's mean squared error; returns the scores and every
/// epoch's figures.
///
/// # Errors
/// Invalid settings; a loss that becomes NaN/∞; the trainer's cancel flag; a score that is not finite.
pub fn mlp_autoencoder_scores(
    graph: &UnlabelledGraph,
    settings: &AutoencoderSettings,
    (seed, device): (u64, &Device),
    trainer: &Trainer,
    on_event: impl FnMut(Event<'_, OutlierEpoch>),
) -> Result<(Vec<f64>, Vec<OutlierEpoch>)> {
    settings.validate()?;
    let autodiff = device.clone().autodiff();
    let model = MlpAutoencoder::new(graph.dim, settings.hidden, settings.code(graph.dim), seed, &autodiff);
    let loss = |model: &MlpAutoencoder, idx: &[usize], _: &mut ChaCha8Rng| {
        let x = rows_tensor(graph, idx.iter().copied(), &autodiff);
        Ok((model.forward(x.clone()) - x).square().mean())
    };
    let task =
        NodeTask::new(graph, (settings.batch_size, settings.epochs), seed.wrapping_mul(0xae5), "MLP autoencoder", loss);
    let (model, history) = task.fit(model, Optimizer::adam(Schedule::Constant(settings.lr)), trainer, on_event)?;
    let mut scores = Vec::with_capacity(graph.nodes);
    let all: Vec<usize> = (0..graph.nodes).collect();
    for chunk in all.chunks(1024) {
        let x = rows_tensor(graph, chunk.iter().copied(), device);
        let err = (model.forward(x.clone()) - x).square().mean_dim(1);
        scores.extend(values(err, "autoencoder errors")?);
    }
    Ok((finite_scores(scores, "the MLP autoencoder's reconstruction error", graph)?, history))
}

/// Each row's neighbours, nearest first: their indices and their distances, [n][k] each.
pub type Neighbours = (Vec<Vec<u32>>, Vec<Vec<f64>>);

/// Each row's `k` nearest other rows of `x` ([n, dim], row-major) by Euclidean distance, nearest
/// first: (indices, distances), each [n][k]. Candidates come from one matrix product per block of
/// 512 rows (‖a‖² + ‖b‖² − 2 a·b, in float32 on `device`): the k + 8 nearest by it, whose
/// distances are then computed exactly (f64); ties keep the lower index.
///
/// # Errors
/// k = 0 or k ≥ n.
pub fn nearest_neighbours(x: &[f32], dim: usize, k: usize, device: &Device) -> Result<Neighbours> {
    let n = x.len() / dim.max(1);
    if k == 0 || k >= n {
        return Err(invalid("neighbours", k, format!("between 1 and {} (the other nodes)", n.saturating_sub(1))));
    }
    let norms: Vec<f64> = x.chunks(dim).map(|r| r.iter().map(|&v| v as f64 * v as f64).sum()).collect();
    let all = Tensor::<2>::from_data(TensorData::new(x.to_vec(), [n, dim]), device).transpose();
    let (mut idx, mut dist) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for start in (0..n).step_by(512) {
        let end = (start + 512).min(n);
        let block =
            Tensor::<2>::from_data(TensorData::new(x[start * dim..end * dim].to_vec(), [end - start, dim]), device);
        let dots = values(block.matmul(all.clone()), "distances")?;
        for (r, row) in dots.chunks(n).enumerate() {
            let i = start + r;
            let mut d: Vec<(f64, u32)> = row
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(j, &dot)| ((norms[i] + norms[j] - 2.0 * dot).max(0.0), j as u32))
                .collect();
            // The float32 product picks candidates; their distances are recomputed exactly.
            let keep = (k + 8).min(d.len());
            d.select_nth_unstable_by(keep - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            d.truncate(keep);
            let row = |j: usize| &x[j * dim..(j + 1) * dim];
            for p in &mut d {
                p.0 = row(i).iter().zip(row(p.1 as usize)).map(|(&a, &b)| (a as f64 - b as f64).powi(2)).sum();
            }
            d.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            d.truncate(k);
            idx.push(d.iter().map(|p| p.1).collect());
            dist.push(d.iter().map(|p| p.0.sqrt()).collect());
        }
    }
    Ok((idx, dist))
}

/// The local outlier factor of every row of `x` ([n, dim]) with `k` neighbours, as scikit-learn's
/// `LocalOutlierFactor` defines it: reach-dist(a, b) = max(k-distance(b), d(a, b)); lrd(a) =
/// 1 / (mean over a's k neighbours b of reach-dist(a, b) + 1e-10); LOF(a) = mean lrd(b) / lrd(a).
/// About 1 inside a cluster, above 1 for a point less dense than its neighbours.
///
/// # Errors
/// k = 0 or k ≥ n.
pub fn local_outlier_factor(x: &[f32], dim: usize, k: usize, device: &Device) -> Result<Vec<f64>> {
    let (idx, dist) = nearest_neighbours(x, dim, k, device)?;
    let kdist: Vec<f64> = dist.iter().map(|d| d[k - 1]).collect();
    let lrd: Vec<f64> = idx
        .iter()
        .zip(&dist)
        .map(|(nb, d)| {
            let reach: f64 = nb.iter().zip(d).map(|(&b, &dab)| kdist[b as usize].max(dab)).sum();
            1.0 / (reach / k as f64 + 1e-10)
        })
        .collect();
    Ok(idx
        .iter()
        .enumerate()
        .map(|(a, nb)| nb.iter().map(|&b| lrd[b as usize]).sum::<f64>() / k as f64 / lrd[a])
        .collect())
}

/// A graph autoencoder in the spirit of DOMINANT (Ding et al., SDM 2019), run on ego-graphs: two
/// GCN layers encode the nodes (Z = ReLU(Â ReLU(Â X W₁) W₂), Â = D^-1/2 (A + I) D^-1/2), one
/// decodes the features (X̂ = Â Z W₃) and the inner products decode the structure (Â_rec =
/// σ(Z Zᵀ)). Trained on every node's ego-graph to reconstruct both; a node's score weighs its
/// feature error ‖x − x̂‖ and its structure error ‖a − â‖ (its row of the ego-graph's adjacency) as
/// DOMINANT does, each in its ego-graph, the node at the centre.
#[derive(Module, Debug)]
pub struct GraphAutoencoder {
    /// W₁ [F, H], W₂ [H, H], W₃ [H, F].
    pub weights: Vec<Param<Tensor<2>>>,
    /// Their biases.
    pub biases: Vec<Param<Tensor<1>>>,
}

/// The graph autoencoder's sizes and training.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct GraphAutoencoderSettings {
    /// Width of the hidden layers (PyGOD's DOMINANT: 64).
    pub hidden: usize,
    /// Weight of the feature error against the structure error (PyGOD: 0.5).
    pub alpha: f64,
    /// Ego-graphs per step.
    pub batch_size: usize,
    /// Adam's learning rate (PyGOD: 0.004).
    pub lr: f64,
}

impl Default for GraphAutoencoderSettings {
    fn default() -> Self {
        GraphAutoencoderSettings { hidden: 64, alpha: 0.5, batch_size: 64, lr: 0.004 }
    }
}

impl GraphAutoencoderSettings {
    /// Checks every size and rate.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in
            [("graph autoencoder hidden width", self.hidden), ("graph autoencoder batch size", self.batch_size)]
        {
            if v == 0 {
                return Err(invalid(name, 0, "must be at least 1"));
            }
        }
        if !(0.0..=1.0).contains(&self.alpha) {
            return Err(invalid("graph autoencoder alpha", self.alpha, "a weight in [0, 1]"));
        }
        positive("graph autoencoder lr", self.lr)
    }
}

/// What the graph autoencoder gives on a padded batch: the normalised adjacency's target (A + I
/// without padding) [B, N, N], the reconstructions X̂ [B, N, F] and Â_rec [B, N, N].
struct GaeOutput {
    adjacency: Tensor<3>,
    features: Tensor<3>,
    structure: Tensor<3>,
}

impl GraphAutoencoder {
    /// He-initialised layers from `seed`.
    pub fn new(features: usize, hidden: usize, seed: u64, device: &Device) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6ae0);
        let (mut weights, mut biases) = (Vec::new(), Vec::new());
        for (i, o) in [(features, hidden), (hidden, hidden), (hidden, features)] {
            weights.push(Param::from_tensor(normal(&mut rng, [i, o], (2.0 / i as f64).sqrt(), device)));
            biases.push(Param::from_tensor(Tensor::zeros([o], device)));
        }
        GraphAutoencoder { weights, biases }
    }

    fn layer(&self, i: usize, a: &Tensor<3>, h: Tensor<3>) -> Tensor<3> {
        let [b, n, k] = h.dims();
        let o = self.weights[i].dims()[1];
        let hw = h.reshape([b * n, k]).matmul(self.weights[i].val()).reshape([b, n, o]);
        a.clone().matmul(hw) + self.biases[i].val().unsqueeze_dims::<3>(&[0, 1])
    }

    fn forward(&self, graphs: &[&PreparedGraph], dim: usize, device: &Device) -> Result<(GaeOutput, Tensor<3>)> {
        let batch = make_batch(graphs, dim, 0, 0, None, device)?;
        let [b, n, _] = batch.features.dims();
        // A + I on the real nodes only; D^-1/2 (A + I) D^-1/2 (a padded row is all zero).
        let mut eye = vec![0f32; b * n * n];
        for (g, &k) in batch.nodes.iter().enumerate() {
            for i in 0..k {
                eye[(g * n + i) * n + i] = 1.0;
            }
        }
        let a = batch.adjacency.clone() + Tensor::<3>::from_data(TensorData::new(eye, [b, n, n]), device);
        let inv_sqrt = a.clone().sum_dim(2).clamp_min(1.0).sqrt().recip(); // [B, N, 1]
        let norm = a.clone() * inv_sqrt.clone() * inv_sqrt.swap_dims(1, 2);
        let h = relu(self.layer(0, &norm, batch.features.clone()));
        let z = relu(self.layer(1, &norm, h));
        let features = self.layer(2, &norm, z.clone());
        let structure = burn::tensor::activation::sigmoid(z.clone().matmul(z.swap_dims(1, 2)));
        Ok((GaeOutput { adjacency: a, features, structure }, batch.features))
    }
}

/// Per graph of a batch: the centre's feature error ‖x − x̂‖ and structure error ‖a − â‖ (over the
/// real nodes), and the batch's training loss (α · mean feature error² + (1 − α) · mean structure
/// error² over the real nodes).
fn gae_errors(out: &GaeOutput, x: &Tensor<3>, nodes: &[usize], alpha: f64) -> (Tensor<1>, Tensor<2>, Tensor<2>) {
    let [b, n, _] = x.dims();
    let device = x.device();
    let mut real = vec![0f32; b * n];
    for (g, &k) in nodes.iter().enumerate() {
        real[g * n..g * n + k].iter_mut().for_each(|v| *v = 1.0);
    }
    let real = Tensor::<2>::from_data(TensorData::new(real, [b, n]), &device);
    let count = nodes.iter().sum::<usize>().max(1) as f64;
    let feature = (out.features.clone() - x.clone()).square().sum_dim(2).reshape([b, n]) * real.clone(); // [B, N]
    let pair_mask = real.clone().unsqueeze_dim::<3>(2) * real.clone().unsqueeze_dim::<3>(1);
    let structure = ((out.structure.clone() - out.adjacency.clone()).square() * pair_mask).sum_dim(2).reshape([b, n]);
    let loss = (feature.clone().sum() * alpha + structure.clone().sum() * (1.0 - alpha)) / count;
    (loss, feature, structure)
}

/// Trains the graph autoencoder on every node's ego-graph for `epochs` passes (weights, ego-graphs
/// and batch order from `seed`) and scores each node from its fixed ego-graph, it at the centre:
/// α ‖x − x̂‖ + (1 − α) ‖a − â‖. Returns the scores and every epoch's figures.
///
/// # Errors
/// Invalid settings; a loss that becomes NaN/∞; the trainer's cancel flag; a score that is not finite.
pub fn graph_autoencoder_scores(
    graph: &UnlabelledGraph,
    (ego, settings, epochs): (EgoSettings, &GraphAutoencoderSettings, usize),
    (seed, device): (u64, &Device),
    trainer: &Trainer,
    on_event: impl FnMut(Event<'_, OutlierEpoch>),
) -> Result<(Vec<f64>, Vec<OutlierEpoch>)> {
    settings.validate()?;
    let autodiff = device.clone().autodiff();
    let model = GraphAutoencoder::new(graph.dim, settings.hidden, seed, &autodiff);
    let loss = |model: &GraphAutoencoder, idx: &[usize], rng: &mut ChaCha8Rng| {
        let graphs: Vec<PreparedGraph> = idx
            .iter()
            .map(|&i| graph.plain(&ego_graph(&graph.neighbours, i as u32, ego.hops, ego.budget, rng)))
            .collect();
        let refs: Vec<&PreparedGraph> = graphs.iter().collect();
        let (out, x) = model.forward(&refs, graph.dim, &autodiff)?;
        let nodes: Vec<usize> = graphs.iter().map(|p| p.nodes).collect();
        Ok(gae_errors(&out, &x, &nodes, settings.alpha).0)
    };
    let task =
        NodeTask::new(graph, (settings.batch_size, epochs), seed.wrapping_mul(0x6ae5), "graph autoencoder", loss);
    let (model, history) = task.fit(model, Optimizer::adam(Schedule::Constant(settings.lr)), trainer, on_event)?;
    let mut scores = Vec::with_capacity(graph.nodes);
    let all: Vec<u32> = (0..graph.nodes as u32).collect();
    for chunk in all.chunks(256) {
        let graphs: Vec<PreparedGraph> =
            chunk.iter().map(|&c| graph.plain(&fixed_ego(&graph.neighbours, c, ego, seed))).collect();
        let refs: Vec<&PreparedGraph> = graphs.iter().collect();
        let (out, x) = model.forward(&refs, graph.dim, device)?;
        let nodes: Vec<usize> = graphs.iter().map(|p| p.nodes).collect();
        let (_, feature, structure) = gae_errors(&out, &x, &nodes, settings.alpha);
        let b = chunk.len();
        let f = values(feature.slice([0..b, 0..1]).reshape([b]), "graph autoencoder errors")?;
        let s = values(structure.slice([0..b, 0..1]).reshape([b]), "graph autoencoder errors")?;
        scores.extend(f.iter().zip(&s).map(|(f, s)| settings.alpha * f.sqrt() + (1.0 - settings.alpha) * s.sqrt()));
    }
    Ok((finite_scores(scores, "the graph autoencoder's score", graph)?, history))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The GCN's normalised adjacency and the errors against a hand computation on a padded batch:
    /// a path 0–1–2 and a single edge 0–1 padded to three nodes.
    #[test]
    fn the_graph_autoencoder_normalises_and_scores_as_written() {
        let device = Device::default();
        let path = PreparedGraph {
            nodes: 3,
            edges: vec![(0, 1), (1, 0), (1, 2), (2, 1)],
            features: vec![1.0, 2.0, 3.0],
            encodings: vec![],
            edge_labels: vec![],
        };
        let pair = PreparedGraph { nodes: 2, edges: vec![(0, 1), (1, 0)], features: vec![5.0, 7.0], ..path.clone() };
        // One feature, one hidden unit, every weight 1 and bias 0: Z = ReLU(Â ReLU(Â x)), X̂ = Â Z.
        let mut model = GraphAutoencoder::new(1, 1, 0, &device);
        for w in &mut model.weights {
            *w = Param::from_tensor(Tensor::ones([1, 1], &device));
        }
        let (out, x) = model.forward(&[&path, &pair], 1, &device).unwrap();
        // Degrees with the self-loop: path 2, 3, 2; pair 2, 2.
        let a_hat = |d: &[f64], edges: &[(usize, usize)], n: usize| {
            let mut m = vec![vec![0.0; n]; n];
            for i in 0..d.len() {
                m[i][i] = 1.0 / d[i];
            }
            for &(i, j) in edges {
                m[i][j] = 1.0 / (d[i] * d[j]).sqrt();
            }
            m
        };
        let mul = |m: &[Vec<f64>], v: &[f64]| {
            m.iter().map(|r| r.iter().zip(v).map(|(a, b)| a * b).sum()).collect::<Vec<f64>>()
        };
        let relu = |v: Vec<f64>| v.into_iter().map(|x: f64| x.max(0.0)).collect::<Vec<f64>>();
        let expect = |m: &[Vec<f64>], x: &[f64]| {
            let z = relu(mul(m, &relu(mul(m, x))));
            (mul(m, &z), z)
        };
        let (p_hat, p_z) = expect(&a_hat(&[2.0, 3.0, 2.0], &[(0, 1), (1, 0), (1, 2), (2, 1)], 3), &[1.0, 2.0, 3.0]);
        let (q_hat, q_z) = expect(&a_hat(&[2.0, 2.0], &[(0, 1), (1, 0)], 3), &[5.0, 7.0, 0.0]);
        let got = values(out.features.clone(), "x̂").unwrap();
        for (g, e) in got.iter().zip(p_hat.iter().chain(&q_hat[..2])) {
            assert!((g - e).abs() < 1e-5, "{got:?} against {p_hat:?} {q_hat:?}");
        }
        let s = values(out.structure.clone(), "structure").unwrap();
        let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
        assert!((s[1] - sigmoid(p_z[0] * p_z[1])).abs() < 1e-5 && (s[9 + 1] - sigmoid(q_z[0] * q_z[1])).abs() < 1e-5);
        // The centres' errors: ‖x − x̂‖² and ‖a − â‖² over the real nodes (A + I the target).
        let (_, feature, structure) = gae_errors(&out, &x, &[3, 2], 0.5);
        let (f, st) = (values(feature, "f").unwrap(), values(structure, "s").unwrap());
        assert!((f[0] - (1.0 - p_hat[0]).powi(2)).abs() < 1e-4, "{f:?}");
        assert_eq!(f[5], 0.0, "padding is not scored");
        let target = [1.0, 1.0, 0.0];
        let e: f64 = (0..3).map(|j| (target[j] - sigmoid(p_z[0] * p_z[j])).powi(2)).sum();
        assert!((st[0] - e).abs() < 1e-4, "{st:?} against {e}");
        let e2: f64 = (0..2).map(|j| (1.0 - sigmoid(q_z[0] * q_z[j])).powi(2)).sum();
        assert!((st[3] - e2).abs() < 1e-4, "{st:?} against {e2}");
    }
}
