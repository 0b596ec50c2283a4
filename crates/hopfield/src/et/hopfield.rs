//! The Hopfield module of the Energy Transformer: M memories ξ (M×D) over the layer-normalised
//! tokens. ReLU² (the paper's): E = −½ Σ_B Σ_μ r(ξ_μ·g_B)², ∂E/∂g_B = −ξᵀ r(ξ g_B). Softmax (the
//! continuous modern Hopfield energy): E = −(1/β) Σ_B log Σ_μ exp(β ξ_μ·g_B), ∂E/∂g_B = −ξᵀ softmax(β ξ g_B).

use burn::module::{Module, Param};
use burn::tensor::activation::{relu, softmax};
use burn::tensor::Tensor;

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

    /// ξ g for every token: [B, N, D] → [B, N, M].
    fn hidden(&self, g: Tensor<3>) -> Tensor<3> {
        super::linear(g, self.xi.val().transpose())
    }

    /// E^HN for each example: [B, N, D] → [B].
    pub fn energy(&self, g: Tensor<3>) -> Tensor<1> {
        self.energy_and_grad(g).0
    }

    /// The descent's step from this term, −α ∂E^HN/∂g = α r(ξ g) ξ, with α folded into ξ:
    /// [B, N, D] → [B, N, D].
    pub fn descent_step(&self, g: Tensor<3>, alpha: f64) -> Tensor<3> {
        let hid = self.hidden(g);
        let xi = self.xi.val() * alpha;
        match self.softmax_beta {
            None => super::linear(relu(hid), xi),
            Some(beta) => super::linear(softmax(hid * beta, 2), xi),
        }
    }

    /// E^HN and ∂E^HN/∂g: [B, N, D] → ([B], [B, N, D]).
    pub fn energy_and_grad(&self, g: Tensor<3>) -> (Tensor<1>, Tensor<3>) {
        let [b, _, _] = g.dims();
        let hid = self.hidden(g);
        let xi = self.xi.val(); // [M, D]
        match self.softmax_beta {
            None => {
                let r = relu(hid);
                let energy = r.clone().square().sum_dims(&[1, 2]).reshape([b]) * -0.5;
                (energy, -super::linear(r, xi))
            }
            Some(beta) => {
                let logits = hid * beta;
                let max = logits.clone().max_dim(2).detach();
                let lse = (logits.clone() - max.clone()).exp().sum_dim(2).log() + max; // [B, N, 1]
                let energy = lse.sum_dims(&[1, 2]).reshape([b]) * (-1.0 / beta);
                (energy, -super::linear(softmax(logits, 2), xi))
            }
        }
    }
}
