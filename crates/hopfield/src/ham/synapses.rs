//! The synapses the crate provides: dense between two neurons, and the Energy Transformer's two
//! terms over one neuron of tokens.

use burn::tensor::Tensor;

use super::Synapse;
use crate::error::{shape, Result};
use crate::et::{EnergyAttention, HopfieldModule, TokenMask};

/// E = −Σ g_aᵀ W g_b over the flattened activations of two neurons, W: [|a|, |b|].
#[derive(Debug, Clone)]
pub struct DenseSynapse {
    /// W, [rows_a·cols_a, rows_b·cols_b].
    pub w: Tensor<2>,
    /// The shapes of a and b.
    pub shapes: [[usize; 2]; 2],
}

impl DenseSynapse {
    /// W between a neuron of shape `a` and one of shape `b`.
    ///
    /// # Errors
    /// W's dimensions are not [|a|, |b|].
    pub fn new(w: Tensor<2>, a: [usize; 2], b: [usize; 2]) -> Result<Self> {
        let dims = w.dims();
        let want = [a[0] * a[1], b[0] * b[1]];
        if dims != want {
            return Err(shape("dense synapse W", format!("{want:?}"), format!("{dims:?}")));
        }
        Ok(DenseSynapse { w, shapes: [a, b] })
    }

    fn flat(g: &Tensor<3>) -> Tensor<2> {
        let [b, r, c] = g.dims();
        g.clone().reshape([b, r * c])
    }
}

impl Synapse for DenseSynapse {
    fn describe(&self) -> String {
        let [a, b] = self.w.dims();
        format!("dense {a}×{b}")
    }

    fn shapes(&self) -> Vec<[usize; 2]> {
        self.shapes.to_vec()
    }

    fn energy(&self, g: &[Tensor<3>]) -> Tensor<1> {
        let (a, b) = (Self::flat(&g[0]), Self::flat(&g[1]));
        let [batch, _] = a.dims();
        -(a * b.matmul(self.w.clone().transpose())).sum_dim(1).reshape([batch])
    }

    fn explicit(&self, g: &[Tensor<3>]) -> Option<(Tensor<1>, Vec<Tensor<3>>)> {
        let (a, b) = (Self::flat(&g[0]), Self::flat(&g[1]));
        let [batch, _] = a.dims();
        let wb = b.clone().matmul(self.w.clone().transpose()); // [B, |a|]
        let energy = -(a.clone() * wb.clone()).sum_dim(1).reshape([batch]);
        let ga = -wb.reshape(g[0].dims());
        let gb = -a.matmul(self.w.clone()).reshape(g[1].dims());
        Some((energy, vec![ga, gb]))
    }
}

/// An Energy Transformer term over the tokens [B, N, D] of one neuron: its energy and explicit
/// gradient under a [`TokenMask`].
pub trait TokenEnergy: std::fmt::Debug + Send + Sync {
    /// A short description for messages.
    fn describe(&self) -> String;
    /// E of each example: [B].
    fn energy(&self, g: Tensor<3>, mask: &TokenMask) -> Tensor<1>;
    /// E and ∂E/∂g.
    fn energy_and_grad(&self, g: Tensor<3>, mask: &TokenMask) -> (Tensor<1>, Tensor<3>);
}

impl TokenEnergy for EnergyAttention {
    fn describe(&self) -> String {
        let [h, y, d] = self.wq.dims();
        format!("energy attention (H = {h}, Y = {y}, D = {d})")
    }
    fn energy(&self, g: Tensor<3>, mask: &TokenMask) -> Tensor<1> {
        EnergyAttention::energy(self, g, mask)
    }
    fn energy_and_grad(&self, g: Tensor<3>, mask: &TokenMask) -> (Tensor<1>, Tensor<3>) {
        EnergyAttention::energy_and_grad(self, g, mask)
    }
}

/// The Hopfield module is a dense synapse to a hidden layer (ReLU² or softmax) that is always at
/// its equilibrium, integrated out.
impl TokenEnergy for HopfieldModule {
    fn describe(&self) -> String {
        let [m, d] = self.xi.dims();
        format!("Hopfield module (M = {m}, D = {d})")
    }
    fn energy(&self, g: Tensor<3>, mask: &TokenMask) -> Tensor<1> {
        HopfieldModule::energy(self, g, mask)
    }
    fn energy_and_grad(&self, g: Tensor<3>, mask: &TokenMask) -> (Tensor<1>, Tensor<3>) {
        HopfieldModule::energy_and_grad(self, g, mask)
    }
}

/// A synapse over one neuron of N tokens × D made of an Energy Transformer term.
#[derive(Debug, Clone)]
pub struct TokenSynapse<E> {
    /// The term (the attention's weights and β, or the Hopfield module's memories).
    pub term: E,
    /// Which tokens are real and which pairs may attend.
    pub mask: TokenMask,
    /// [N, D].
    pub shape: [usize; 2],
}

/// The Energy Transformer's attention energy as a synapse.
pub type AttentionSynapse = TokenSynapse<EnergyAttention>;
/// The Energy Transformer's Hopfield module as a synapse.
pub type HopfieldSynapse = TokenSynapse<HopfieldModule>;

impl<E: TokenEnergy> Synapse for TokenSynapse<E> {
    fn describe(&self) -> String {
        self.term.describe()
    }

    fn shapes(&self) -> Vec<[usize; 2]> {
        vec![self.shape]
    }

    fn energy(&self, g: &[Tensor<3>]) -> Tensor<1> {
        self.term.energy(g[0].clone(), &self.mask)
    }

    fn explicit(&self, g: &[Tensor<3>]) -> Option<(Tensor<1>, Vec<Tensor<3>>)> {
        let (e, grad) = self.term.energy_and_grad(g[0].clone(), &self.mask);
        Some((e, vec![grad]))
    }
}
