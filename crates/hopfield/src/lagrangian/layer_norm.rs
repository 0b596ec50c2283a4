//! Layer norm as a Lagrangian (Hoover et al. 2023): the activation g = ∂L/∂x of
//! L(x) = D γ √((1/D) Σ_j (x_j − x̄)² + ε) + Σ_j δ_j x_j is the usual layer norm with a scalar
//! gain γ and a bias vector δ: g = γ (x − x̄) / √(var(x) + ε) + δ. Its Hessian is positive
//! semi-definite, which is what makes the Energy Transformer's energy fall.

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};

/// The energy layer norm: scalar γ, vector δ (D).
#[derive(Module, Debug)]
pub struct EnergyLayerNorm {
    /// γ, shape [1].
    pub gamma: Param<Tensor<1>>,
    /// δ, shape [D].
    pub delta: Param<Tensor<1>>,
    /// ε inside the square root.
    pub eps: f64,
}

impl EnergyLayerNorm {
    /// γ = 1, δ = 0.
    pub fn new(dim: usize, eps: f64, device: &Device) -> Self {
        EnergyLayerNorm {
            gamma: Param::from_tensor(Tensor::from_data(TensorData::new(vec![1.0f32], [1]), device)),
            delta: Param::from_tensor(Tensor::zeros([dim], device)),
            eps,
        }
    }

    /// The activation g = ∂L/∂x over the last dimension.
    ///
    /// # Shapes
    /// x: [B, N, D] → g: [B, N, D]
    pub fn activation(&self, x: Tensor<3>) -> Tensor<3> {
        let centred = x.clone() - x.mean_dim(2);
        let var = centred.clone().square().mean_dim(2); // biased: [B, N, 1]
        let gamma = self.gamma.val().reshape([1, 1, 1]);
        let delta = self.delta.val().unsqueeze_dims::<3>(&[0, 1]);
        // γ / √(var + ε) per token ([B, N, 1]), then one pass over the tokens.
        let scale = (var + self.eps).sqrt().recip() * gamma;
        centred * scale + delta
    }

    /// L(x), summed over the tokens of each example: [B, N, D] → [B].
    pub fn lagrangian(&self, x: Tensor<3>) -> Tensor<1> {
        let [b, _, d] = x.dims();
        let centred = x.clone() - x.clone().mean_dim(2);
        let var = centred.square().mean_dim(2); // [B, N, 1]
        let gamma = self.gamma.val().reshape([1, 1, 1]);
        let t1 = (var + self.eps).sqrt() * gamma * d as f64; // [B, N, 1]
        let t2 = (x * self.delta.val().unsqueeze_dims::<3>(&[0, 1])).sum_dim(2); // [B, N, 1]
        (t1 + t2).sum_dims(&[1, 2]).reshape([b])
    }

    /// The neurons' own energy through the Legendre transform, Σ g·x − L(x): [B, N, D] → [B].
    pub fn energy(&self, x: Tensor<3>) -> Tensor<1> {
        let [b, _, _] = x.dims();
        let g = self.activation(x.clone());
        (g * x.clone()).sum_dims(&[1, 2]).reshape([b]) - self.lagrangian(x)
    }
}
