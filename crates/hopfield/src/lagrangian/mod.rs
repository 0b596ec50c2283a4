//! Lagrangians and their activations g = ∇L — the vocabulary every energy in this crate is
//! written in (Krotov & Hopfield 2021; Hoover et al. 2023): a layer of neurons x has a convex
//! Lagrangian L(x), its activation is g = ∂L/∂x, and an energy couples activations.
//!
//! | Lagrangian | L(x), summed over the last axis | g = ∂L/∂x | used by |
//! |---|---|---|---|
//! | [`Lagrangian::Identity`] | ½ Σ x² | x | the ½ ξ·ξ term of the modern Hopfield energy |
//! | [`Lagrangian::Relu2`] | ½ Σ max(x, 0)² | max(x, 0) | the ET Hopfield module (ReLU²) |
//! | [`Lagrangian::LogSumExp`] | β⁻¹ log Σ exp(β x) | softmax(β x) | the modern Hopfield energy, Hopfield layers, the ET Hopfield module's softmax variant |
//! | [`Lagrangian::RectifiedPower`] | Σ max(x, 0)ⁿ / n | max(x, 0)ⁿ⁻¹ | the hidden layer of the dense memory F(x) = max(x, 0)ⁿ as a HAM |
//! | [`Lagrangian::Sigmoid`] | β⁻¹ Σ log(1 + e^(βx)) | σ(βx) | HAM neurons |
//! | [`Lagrangian::Tanh`] | β⁻¹ Σ log cosh(βx) | tanh(βx) | HAM neurons |
//! | [`Lagrangian::Spherical`] | ‖x‖₂ | x / ‖x‖₂ | HAM neurons |
//! | [`EnergyLayerNorm`] | D γ √(var(x) + ε) + Σ δ x | γ (x − x̄)/√(var + ε) + δ | the ET's tokens |
//! | [`Transform`] (host slices) | Ω*(z) = max_{p∈Δ} p·z − Ω(p) | softmax, α-entmax, sparsemax, normmax | the sparse modern Hopfield networks |
//!
//! [`masked_log_sum_exp`] is the one stable, masked log-sum-exp of the crate (attention over
//! allowed keys, padded stored patterns); [`log_sum_exp`] its scalar twin for slices.

mod layer_norm;
mod sparse;

pub use layer_norm::EnergyLayerNorm;
pub use sparse::Transform;

use burn::tensor::activation::{relu, sigmoid, softmax};
use burn::tensor::Tensor;

use crate::error::{invalid, Result};

/// A large negative logit for excluded entries (finite, so that 0 · it stays 0).
pub const EXCLUDED: f64 = -1e30;

/// A Lagrangian of one layer of neurons; its activation is its gradient.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lagrangian {
    /// L = ½ Σ x², g = x.
    Identity,
    /// L = ½ Σ max(x, 0)², g = max(x, 0).
    Relu2,
    /// L = β⁻¹ log Σ exp(β x), g = softmax(β x).
    LogSumExp {
        /// β, the inverse temperature.
        beta: f64,
    },
    /// L = Σ max(x, 0)ⁿ / n, g = max(x, 0)ⁿ⁻¹ (n ≥ 2).
    RectifiedPower {
        /// n.
        n: u32,
    },
    /// L = β⁻¹ Σ log(1 + e^(βx)), g = σ(βx).
    Sigmoid {
        /// β, the gain.
        beta: f64,
    },
    /// L = β⁻¹ Σ log cosh(βx), g = tanh(βx).
    Tanh {
        /// β, the gain.
        beta: f64,
    },
    /// L = ‖x‖₂ over the last axis, g = x / ‖x‖₂ (0 at x = 0).
    Spherical,
}

/// log 2, for log cosh y = |y| + log(1 + e^(−2|y|)) − log 2.
const LN_2: f64 = std::f64::consts::LN_2;

/// The smallest norm a spherical neuron divides by.
const TINY_NORM: f64 = 1e-12;

impl Lagrangian {
    /// Checks that L is convex and its parameters usable: β > 0 and finite, n ≥ 2.
    ///
    /// # Errors
    /// The parameter and its value.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Lagrangian::LogSumExp { beta } | Lagrangian::Sigmoid { beta } | Lagrangian::Tanh { beta }
                if !(beta > 0.0 && beta.is_finite()) =>
            {
                Err(invalid("beta", beta, "a Lagrangian's β must be positive and finite (β ≤ 0 is not convex)"))
            }
            Lagrangian::RectifiedPower { n } if n < 2 => {
                Err(invalid("n", n, "the rectified power Σ max(x, 0)ⁿ / n needs n ≥ 2"))
            }
            _ => Ok(()),
        }
    }

    /// L(x) over the last axis, kept as an axis of size 1: [.., K] → [.., 1].
    pub fn lagrangian<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match *self {
            Lagrangian::Identity => x.square().sum_dim(D - 1) * 0.5,
            Lagrangian::Relu2 => relu(x).square().sum_dim(D - 1) * 0.5,
            Lagrangian::LogSumExp { beta } => masked_log_sum_exp(x * beta, None).1 / beta,
            Lagrangian::RectifiedPower { n } => relu(x).powi_scalar(n as i32).sum_dim(D - 1) / n as f64,
            Lagrangian::Sigmoid { beta } => {
                // log(1 + e^y) = max(y, 0) + log(1 + e^(−|y|)), finite for every y.
                let y = x * beta;
                (relu(y.clone()) + (y.abs().neg().exp() + 1.0).log()).sum_dim(D - 1) / beta
            }
            Lagrangian::Tanh { beta } => {
                let y = (x * beta).abs();
                (y.clone() + ((y * -2.0).exp() + 1.0).log() - LN_2).sum_dim(D - 1) / beta
            }
            Lagrangian::Spherical => x.square().sum_dim(D - 1).sqrt(),
        }
    }

    /// g = ∂L/∂x: [.., K] → [.., K].
    pub fn activation<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match *self {
            Lagrangian::Identity => x,
            Lagrangian::Relu2 => relu(x),
            Lagrangian::LogSumExp { beta } => softmax(x * beta, D - 1),
            Lagrangian::RectifiedPower { n } => relu(x).powi_scalar(n as i32 - 1),
            Lagrangian::Sigmoid { beta } => sigmoid(x * beta),
            Lagrangian::Tanh { beta } => (x * beta).tanh(),
            Lagrangian::Spherical => {
                let norm = x.clone().square().sum_dim(D - 1).sqrt().clamp_min(TINY_NORM);
                x / norm
            }
        }
    }

    /// The neurons' own energy through the Legendre transform, Σ x·g − L(x), over the last axis:
    /// [.., K] → [.., 1].
    pub fn energy<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let (l, g) = self.lagrangian_and_activation(x.clone());
        (x * g).sum_dim(D - 1) - l
    }

    /// L(x) ([.., 1]) and g(x) ([.., K]) from one pass where they share work.
    pub fn lagrangian_and_activation<const D: usize>(&self, x: Tensor<D>) -> (Tensor<D>, Tensor<D>) {
        match *self {
            Lagrangian::Identity => (x.clone().square().sum_dim(D - 1) * 0.5, x),
            Lagrangian::Relu2 => {
                let r = relu(x);
                (r.clone().square().sum_dim(D - 1) * 0.5, r)
            }
            Lagrangian::LogSumExp { beta } => {
                let (s, lse) = masked_log_sum_exp(x * beta, None);
                (lse / beta, s)
            }
            other => (other.lagrangian(x.clone()), other.activation(x)),
        }
    }
}

/// Softmax and log-sum-exp over the last axis of `logits`, with optional non-negative `weights`
/// of the same shape (0 = excluded; a weight w multiplies its term, w e^l):
/// S_j = w_j e^{l_j} / Σ_k w_k e^{l_k} and lse = log Σ_k w_k e^{l_k}, computed after subtracting the
/// largest allowed logit so nothing overflows. A row whose weights are all 0 gets S = 0 and lse = 0
/// (it contributes nothing). Returns (S [.., K], lse [.., 1]).
pub fn masked_log_sum_exp<const D: usize>(logits: Tensor<D>, weights: Option<Tensor<D>>) -> (Tensor<D>, Tensor<D>) {
    let last = D - 1;
    match weights {
        None => {
            let max = logits.clone().max_dim(last).detach();
            let e = (logits - max.clone()).exp();
            let z = e.clone().sum_dim(last);
            (e / z.clone(), max + z.log())
        }
        Some(w) => {
            let blocked = w.clone().equal_elem(0.0);
            // Blocked logits are replaced before the exponential, not only after it: in a row with
            // no allowed entry (a padded token) logit − max would overflow to +∞, and the backward
            // pass would multiply the zero gradient of the masked entry by that ∞ (NaN).
            let logits = logits.mask_fill(blocked.clone(), EXCLUDED);
            let max = logits.clone().max_dim(last).detach();
            let e = (logits - max.clone()).exp().mask_fill(blocked, 0.0) * w;
            let z = e.clone().sum_dim(last);
            let seen = z.clone().greater_elem(0.0).float();
            // A row that sees nothing divides by 1, not by the smallest float: its S is 0 either
            // way, but 1/MIN_POSITIVE times the incoming gradient overflows to ∞, and ∞ × 0 at
            // the blocked weights' gradient is NaN.
            let z_safe = (z + (seen.clone().neg() + 1.0)).clamp_min(f32::MIN_POSITIVE as f64);
            (e / z_safe.clone(), (max + z_safe.log()) * seen)
        }
    }
}

/// log Σ exp(x_i) of a slice, computed as max + log Σ exp(x_i − max); −∞ for an empty slice.
pub fn log_sum_exp(x: &[f64]) -> f64 {
    let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return max;
    }
    max + x.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}
