//! The Hopfield module of the Energy Transformer: M memories ξ (M×D) over the layer-normalised
//! tokens, with a Lagrangian L of the hidden neurons h_B = ξ g_B:
//! E^HN = −Σ_{B real} L(ξ g_B), ∂E^HN/∂g_B = −ξᵀ ∇L(ξ g_B).
//! ReLU² (the paper's): L = ½ Σ_μ r(h_μ)², so E = −½ Σ_B Σ_μ r(ξ_μ·g_B)². Softmax (the continuous
//! modern Hopfield energy): L = (1/β) log Σ_μ exp(β h_μ). Padded tokens contribute nothing.

use burn::module::{Module, Param};
use burn::tensor::Tensor;

use super::TokenMask;
use crate::lagrangian::Lagrangian;

/// The Hopfield module's memories and its Lagrangian.
#[derive(Module, Debug)]
pub struct HopfieldModule {
    /// ξ, shape [M, D].
    pub xi: Param<Tensor<2>>,
    /// `None`: ReLU² energy. `Some(β)`: the softmax (log-sum-exp) energy with inverse temperature β.
    pub softmax_beta: Option<f64>,
}

impl HopfieldModule {
    /// Builds the module from its memories.
    pub fn new(xi: Tensor<2>, softmax_beta: Option<f64>) -> Self {
        HopfieldModule { xi: Param::from_tensor(xi), softmax_beta }
    }

    /// The hidden neurons' Lagrangian.
    pub fn lagrangian(&self) -> Lagrangian {
        match self.softmax_beta {
            None => Lagrangian::Relu2,
            Some(beta) => Lagrangian::LogSumExp { beta },
        }
    }

    /// ξ g for every token: [B, N, D] → [B, N, M].
    pub(in crate::et) fn hidden(&self, g: Tensor<3>) -> Tensor<3> {
        super::linear(g, self.xi.val().transpose())
    }

    /// E^HN for each example: [B, N, D] → [B].
    pub fn energy(&self, g: Tensor<3>, mask: &TokenMask) -> Tensor<1> {
        self.energy_and_grad(g, mask).0
    }

    /// E^HN and ∂E^HN/∂g: [B, N, D] → ([B], [B, N, D]).
    pub fn energy_and_grad(&self, g: Tensor<3>, mask: &TokenMask) -> (Tensor<1>, Tensor<3>) {
        let [b, _, _] = g.dims();
        let (l, act) = self.lagrangian().lagrangian_and_activation(self.hidden(g)); // [B, N, 1], [B, N, M]
        let (l, act) = match mask.real_column() {
            Some(r) => (l * r.clone(), act * r),
            None => (l, act),
        };
        (-l.sum_dims(&[1, 2]).reshape([b]), -super::linear(act, self.xi.val()))
    }
}
