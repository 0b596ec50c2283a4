//! Label-free baselines of unsupervised node anomaly detection (detectors of the BOND benchmark),
//! each scoring every node of an [`UnlabelledGraph`] from its standardised features (higher: more
//! anomalous): the reconstruction error of an MLP autoencoder (MLPAE) and the local outlier factor
//! (LOF, Breunig et al. 2000).

use burn::module::{Module, Param};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use hopfield::init::normal;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::outlier::{OutlierEpoch, UnlabelledGraph};
use crate::error::{invalid, positive, Result};
use crate::trainer::{values, EpochSummary, Event, Iteration, Optimizer, Plan, Schedule, StepResult, Task, Trainer};

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

struct AutoencoderTask<'a> {
    graph: &'a UnlabelledGraph,
    settings: &'a AutoencoderSettings,
    seed: u64,
    autodiff: Device,
}

fn rows_tensor(graph: &UnlabelledGraph, nodes: impl Iterator<Item = usize>, device: &Device) -> Tensor<2> {
    let x: Vec<f32> = nodes.flat_map(|i| graph.row(i as u32).to_vec()).collect();
    let n = x.len() / graph.dim.max(1);
    Tensor::from_data(TensorData::new(x, [n, graph.dim]), device)
}

impl Task for AutoencoderTask<'_> {
    type State = (MlpAutoencoder, Optimizer);
    type Epoch = OutlierEpoch;

    fn plan(&self) -> Plan {
        Plan { examples: self.graph.nodes, batch_size: self.settings.batch_size, epochs: self.settings.epochs }
    }

    fn epoch_rng(&self, _: &Self::State, epoch: usize) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(self.seed.wrapping_mul(0xae5).wrapping_add(epoch as u64))
    }

    fn step(
        &self,
        (model, mut optim): Self::State,
        idx: &[usize],
        _: &mut ChaCha8Rng,
        at: Iteration,
    ) -> Result<(Self::State, StepResult)> {
        let x = rows_tensor(self.graph, idx.iter().copied(), &self.autodiff);
        let loss = (model.forward(x.clone()) - x).square().mean();
        let (model, value) = optim.step_if_finite(model, loss, at);
        Ok(((model, optim), StepResult { loss: value, wrong: 0 }))
    }

    fn finish_epoch(&self, _: &mut Self::State, sum: EpochSummary, _: ChaCha8Rng) -> Result<OutlierEpoch> {
        Ok(OutlierEpoch::of(&sum))
    }

    fn describe(&self) -> String {
        format!(" (MLP autoencoder on {})", self.graph.name)
    }
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
    let task = AutoencoderTask { graph, settings, seed, autodiff };
    let optim = Optimizer::adam(Schedule::Constant(settings.lr));
    let ((model, _), history) = trainer.run(&task, (model, optim), 0, on_event)?;
    let model = model.valid();
    let mut scores = Vec::with_capacity(graph.nodes);
    let all: Vec<usize> = (0..graph.nodes).collect();
    for chunk in all.chunks(1024) {
        let x = rows_tensor(graph, chunk.iter().copied(), device);
        let err = (model.forward(x.clone()) - x).square().mean_dim(1);
        scores.extend(values(err, "autoencoder errors")?);
    }
    if let Some((i, v)) = scores.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(crate::TrainError::NotFinite {
            what: format!("the MLP autoencoder's reconstruction error of node {i} of {}", graph.name),
            value: *v,
            why: String::new(),
        });
    }
    Ok((scores, history))
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
