//! The Energy Transformer (Hoover, Liang, Pham, Panda, Strobelt, Chau, Zaki, Krotov; NeurIPS 2023).
//!
//! One block whose attention and MLP are replaced by a single energy over the layer-normalised
//! tokens g = LN(x): E = E^ATT(g) + E^HN(g). Its forward pass is gradient descent,
//! `g = LN(x); x ← x − α ∂E/∂g`, for T steps with the weights shared across steps; since the
//! layer norm's Hessian is positive semi-definite, dE/dt ≤ 0 and the energy falls for small α.
//! Every term exposes its energy and its explicit gradient ∂E/∂g (checked against finite
//! differences and autodiff in the tests), so training needs only first-order autodiff through
//! the unrolled steps.
//!
//! The symbols and their names in code are in the crate's notation table ([`crate`]).

mod attention;
mod descent;
mod fused;
mod graph;
mod hopfield;
mod image;
mod mask;

pub use crate::init::normal;
pub use crate::lagrangian::EnergyLayerNorm;
pub use attention::EnergyAttention;
pub use descent::{Descent, DescentResult, Implementation, Observe, MAX_STEP_SIZE};
pub use graph::{
    node_pool_weights, pad_graphs, pad_node_values, GraphBatch, GraphEnergyTransformer, GraphEtConfig, GraphInput,
    GraphOutput, Readout,
};
pub use hopfield::HopfieldModule;
pub use image::{
    masked_patch_mse, patchify, ImageEnergyTransformer, ImageEtConfig, ImageParam, MaskSpec, Reconstruction,
};
pub use mask::TokenMask;

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{invalid, positive, shape, Result};

/// The Hopfield module's Lagrangian.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum HopfieldKind {
    /// ReLU² (the paper's choice).
    Relu2,
    /// Log-sum-exp with inverse temperature β (the continuous modern Hopfield energy).
    Softmax {
        /// β.
        beta: f64,
    },
}

/// The block's sizes and switches, with documented defaults ([`EtConfig::new`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EtConfig {
    /// D, the token dimension.
    pub dim: usize,
    /// H, attention heads.
    pub heads: usize,
    /// Y, the dimension of each head's queries and keys.
    pub head_dim: usize,
    /// M, Hopfield memories.
    pub memories: usize,
    /// β of the attention; `None` means the paper's 1/√Y.
    pub beta: Option<f64>,
    /// Exclude B = C in the attention (the paper's equation); the official weights allow it.
    pub exclude_self: bool,
    /// The Hopfield module's Lagrangian.
    pub hopfield: HopfieldKind,
    /// ε of the layer norm.
    pub eps: f64,
    /// Standard deviation of the initial W^Q, W^K and ξ; `None` means 1/√D.
    pub init_std: Option<f64>,
    /// Learned per-head inverse temperatures β_h (from β); off: β in every head.
    #[serde(default)]
    pub head_betas: bool,
    /// A learned mixing of the heads' logits (from the identity); off: none.
    #[serde(default)]
    pub head_mixing: bool,
}

impl EtConfig {
    /// D, H, Y, M with the defaults: β = 1/√Y, self-attention allowed (as the official code),
    /// ReLU² memories, ε = 1e-5, initial weights N(0, 1/D).
    pub fn new(dim: usize, heads: usize, head_dim: usize, memories: usize) -> Self {
        EtConfig {
            dim,
            heads,
            head_dim,
            memories,
            beta: None,
            exclude_self: false,
            hopfield: HopfieldKind::Relu2,
            eps: 1e-5,
            init_std: None,
            head_betas: false,
            head_mixing: false,
        }
    }

    /// Checks every size and constant.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in
            [("dim", self.dim), ("heads", self.heads), ("head_dim", self.head_dim), ("memories", self.memories)]
        {
            if v == 0 {
                return Err(invalid(name, 0, "must be at least 1"));
            }
        }
        if let Some(b) = self.beta {
            positive("beta", b)?;
        }
        if let HopfieldKind::Softmax { beta } = self.hopfield {
            positive("hopfield beta", beta)?;
        }
        positive("eps", self.eps)?;
        if let Some(s) = self.init_std {
            positive("init_std", s)?;
        }
        Ok(())
    }

    /// The attention's β.
    pub fn attention_beta(&self) -> f64 {
        self.beta.unwrap_or(1.0 / (self.head_dim as f64).sqrt())
    }

    /// A block with weights drawn from N(0, init_std²) by a ChaCha8 generator seeded with `seed`
    /// (the same seed gives the same weights on every machine).
    pub fn init(&self, seed: u64, device: &Device) -> Result<EnergyTransformer> {
        self.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let std = self.init_std.unwrap_or(1.0 / (self.dim as f64).sqrt());
        let (h, y, d, m) = (self.heads, self.head_dim, self.dim, self.memories);
        let wq = normal(&mut rng, [h, y, d], std, device);
        let wk = normal(&mut rng, [h, y, d], std, device);
        let xi = normal(&mut rng, [m, d], std, device);
        let softmax_beta = match self.hopfield {
            HopfieldKind::Relu2 => None,
            HopfieldKind::Softmax { beta } => Some(beta),
        };
        Ok(EnergyTransformer {
            norm: EnergyLayerNorm::new(d, self.eps, device),
            attention: EnergyAttention::new(wq, wk, self.attention_beta(), self.exclude_self)
                .with_head_parts(self.head_betas, self.head_mixing),
            hopfield: HopfieldModule::new(xi, softmax_beta),
        })
    }
}

/// One Energy Transformer block: layer norm, energy attention, Hopfield module.
#[derive(Module, Debug)]
pub struct EnergyTransformer {
    /// The layer norm whose activation g the energy is a function of.
    pub norm: EnergyLayerNorm,
    /// E^ATT.
    pub attention: EnergyAttention,
    /// E^HN.
    pub hopfield: HopfieldModule,
}

impl EnergyTransformer {
    /// D.
    pub fn dim(&self) -> usize {
        self.norm.delta.dims()[0]
    }

    /// H, the attention heads.
    pub fn heads(&self) -> usize {
        self.attention.wq.dims()[0]
    }

    pub(in crate::et) fn check(&self, g: &Tensor<3>, mask: &TokenMask) -> Result<()> {
        let [b, n, d] = g.dims();
        if d != self.dim() {
            return Err(shape("tokens", format!("[batch, N, D = {}]", self.dim()), format!("{:?}", g.dims())));
        }
        mask.check(b, n, self.heads())
    }

    /// E = E^ATT + E^HN at activations g: [B, N, D] → [B].
    pub fn energy(&self, g: Tensor<3>, mask: &TokenMask) -> Result<Tensor<1>> {
        self.check(&g, mask)?;
        Ok(self.attention.energy(g.clone(), mask) + self.hopfield.energy(g, mask))
    }

    /// E and its explicit gradient ∂E/∂g: [B, N, D] → ([B], [B, N, D]).
    pub fn energy_and_grad(&self, g: Tensor<3>, mask: &TokenMask) -> Result<(Tensor<1>, Tensor<3>)> {
        self.check(&g, mask)?;
        Ok(self.energy_and_grad_unchecked(g, mask))
    }

    pub(in crate::et) fn energy_and_grad_unchecked(&self, g: Tensor<3>, mask: &TokenMask) -> (Tensor<1>, Tensor<3>) {
        let (ea, ga) = self.attention.energy_and_grad(g.clone(), mask);
        let (eh, gh) = self.hopfield.energy_and_grad(g, mask);
        (ea + eh, ga + gh)
    }
}

/// x [B, N, K] · w [K, J] → [B, N, J] as one [B·N, K] × [K, J] product: a shared weight is
/// multiplied once for the whole batch instead of being broadcast to every example.
pub(crate) fn linear(x: Tensor<3>, w: Tensor<2>) -> Tensor<3> {
    let [b, n, k] = x.dims();
    let [_, j] = w.dims();
    x.reshape([b * n, k]).matmul(w).reshape([b, n, j])
}
