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
    pad_graphs, pad_node_values, GraphBatch, GraphEnergyTransformer, GraphEtConfig, GraphInput, GraphOutput,
};
pub use hopfield::HopfieldModule;
pub use image::{masked_patch_mse, patchify, ImageEnergyTransformer, ImageEtConfig, MaskSpec, Reconstruction};
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
            attention: EnergyAttention::new(wq, wk, self.attention_beta(), self.exclude_self),
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

    fn check(&self, g: &Tensor<3>, mask: &TokenMask) -> Result<()> {
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

    fn energy_and_grad_unchecked(&self, g: Tensor<3>, mask: &TokenMask) -> (Tensor<1>, Tensor<3>) {
        let (ea, ga) = self.attention.energy_and_grad(g.clone(), mask);
        let (eh, gh) = self.hopfield.energy_and_grad(g, mask);
        (ea + eh, ga + gh)
    }

    /// Runs `descent` from the tokens `x` [B, N, D]: T steps of `g = LN(x); x ← x − α ∂E/∂g` with
    /// the weights shared across steps, recording what `observe` asks for, by the implementation
    /// that suits it ([`Implementation::for_observe`]). Padded tokens (`mask.real`) never move.
    ///
    /// # Errors
    /// α ≤ 0 or not finite; tokens or mask of the wrong shape.
    pub fn descend(
        &self,
        x: Tensor<3>,
        mask: &TokenMask,
        descent: &Descent,
        observe: Observe,
    ) -> Result<DescentResult> {
        // f32 on the CPU backend takes the fused routines (inference: the whole descent; autodiff:
        // one operation per step with its hand-written backward); energies need the reference,
        // and f64 keeps the tensor path (the finite-difference checks of the whole models).
        let implementation = match observe {
            Observe::Nothing if fused_applies(&x) => Implementation::Fused,
            o => Implementation::for_observe(o),
        };
        self.descend_with(implementation, x, mask, descent, observe)
    }

    /// [`EnergyTransformer::descend`] by a given implementation (for tests and benchmarks).
    ///
    /// # Errors
    /// As `descend`, and an energy asked of [`Implementation::Folded`], which computes none.
    pub fn descend_with(
        &self,
        implementation: Implementation,
        x: Tensor<3>,
        mask: &TokenMask,
        descent: &Descent,
        observe: Observe,
    ) -> Result<DescentResult> {
        descent.validate()?;
        self.check(&x, mask)?;
        if implementation != Implementation::Reference && observe != Observe::Nothing {
            return Err(invalid(
                "observe",
                format!("{observe:?}"),
                if implementation == Implementation::Fused {
                    "nothing: the fused descent computes no energy"
                } else {
                    "nothing: the folded descent computes no energy"
                },
            ));
        }
        if implementation == Implementation::Fused {
            return if x.device().is_autodiff() {
                self.descend_fused_steps(x, mask, descent)
            } else {
                self.descend_fused(x, mask, descent)
            };
        }
        let step_size = descent.step_size;
        let mut x = x;
        let (mut energy, mut states) = (Vec::new(), Vec::new());
        for _ in 0..descent.steps {
            if observe == Observe::Trajectory {
                states.push(x.clone());
            }
            let g = self.norm.activation(x.clone());
            let step = match implementation {
                Implementation::Reference => {
                    let (e, grad) = self.energy_and_grad_unchecked(g, mask);
                    if observe != Observe::Nothing {
                        energy.push(e);
                    }
                    -grad * step_size
                }
                // The step −α ∂E/∂g with α (and β) folded into the weights, which saves the
                // energy's pass over [B, N, M] and several over [B, N, D]. (Fused returned above.)
                Implementation::Folded | Implementation::Fused => {
                    self.attention.descent_step(g.clone(), mask, step_size)
                        + self.hopfield.descent_step(g, mask, step_size)
                }
            };
            x = x + step;
        }
        if observe != Observe::Nothing {
            let g = self.norm.activation(x.clone());
            energy.push(self.attention.energy(g.clone(), mask) + self.hopfield.energy(g, mask));
        }
        if observe == Observe::Trajectory {
            states.push(x.clone());
        }
        Ok(DescentResult { x, energy, states })
    }
}

impl EnergyTransformer {
    /// The constants of a fused step of `descent`.
    fn step_settings(&self, descent: &Descent) -> fused::op::StepSettings {
        fused::op::StepSettings {
            alpha: descent.step_size,
            beta: self.attention.beta,
            eps: self.norm.eps,
            hopfield_beta: self.hopfield.softmax_beta,
            exclude_self: self.attention.exclude_self,
        }
    }

    /// [`Implementation::Fused`]: the descent on host buffers, without autodiff.
    fn descend_fused(&self, x: Tensor<3>, mask: &TokenMask, descent: &Descent) -> Result<DescentResult> {
        check_cpu(&x)?;
        let f32s = |t: burn::tensor::TensorData, what: &'static str| {
            t.try_into_vec_as::<f32>().map_err(|e| invalid(what, format!("{e:?}"), "f32 values"))
        };
        let [b, n, d] = x.dims();
        let [h, y, _] = self.attention.wq.dims();
        let [m, _] = self.hopfield.xi.dims();
        let weights = [
            f32s(self.attention.wq.val().into_data(), "W^Q")?,
            f32s(self.attention.wk.val().into_data(), "W^K")?,
            f32s(self.hopfield.xi.val().into_data(), "ξ")?,
            f32s(self.norm.delta.val().into_data(), "δ")?,
        ];
        let gamma = f32s(self.norm.gamma.val().into_data(), "γ")?[0];
        let block = fused::FusedBlock::new([h, y, d, m], weights, gamma, &self.step_settings(descent));
        let real = mask.real.clone().map(|r| f32s(r.into_data(), "real-token mask")).transpose()?;
        let pairs = match &mask.pairs {
            Some(p) => Some((f32s(p.clone().into_data(), "mask")?, p.dims()[1])),
            None => None,
        };
        let fmask =
            fused::FusedMask { real: real.as_deref(), pairs: pairs.as_ref().map(|(p, hp)| (p.as_slice(), *hp)) };
        let device = x.device();
        let mut buf = f32s(x.into_data(), "tokens")?;
        fused::descend(&block, &mut buf, n, &fmask, descent.steps, descent.step_size as f32);
        let x = Tensor::from_data(burn::tensor::TensorData::new(buf, [b, n, d]), &device);
        Ok(DescentResult { x, energy: Vec::new(), states: Vec::new() })
    }

    /// [`Implementation::Fused`] under autodiff: T steps, each one operation whose backward is
    /// written by hand ([`fused::op`]); gradients reach x, the weights and the pair weights.
    fn descend_fused_steps(&self, x: Tensor<3>, mask: &TokenMask, descent: &Descent) -> Result<DescentResult> {
        check_cpu(&x)?;
        let settings = self.step_settings(descent);
        let mut x = x;
        for _ in 0..descent.steps {
            x = fused::op::step(
                [x, self.attention.wq.val(), self.attention.wk.val()],
                self.hopfield.xi.val(),
                [self.norm.gamma.val(), self.norm.delta.val()],
                mask,
                settings,
            );
        }
        Ok(DescentResult { x, energy: Vec::new(), states: Vec::new() })
    }
}

/// Whether [`Implementation::Fused`] is the one to choose for these tokens: f32 on the CPU backend.
fn fused_applies(x: &Tensor<3>) -> bool {
    on_cpu(x) && x.dtype() == burn::tensor::DType::F32
}

fn on_cpu(x: &Tensor<3>) -> bool {
    matches!(x.device().inner().as_dispatch(), burn::backend::DispatchDevice::Flex(_))
}

fn check_cpu(x: &Tensor<3>) -> Result<()> {
    if on_cpu(x) {
        Ok(())
    } else {
        Err(invalid(
            "implementation",
            format!("Fused on {:?}", x.device()),
            "Folded or Reference: the fused descent runs on the CPU (Flex) backend only",
        ))
    }
}

/// x [B, N, K] · w [K, J] → [B, N, J] as one [B·N, K] × [K, J] product: a shared weight is
/// multiplied once for the whole batch instead of being broadcast to every example.
pub(crate) fn linear(x: Tensor<3>, w: Tensor<2>) -> Tensor<3> {
    let [b, n, k] = x.dims();
    let [_, j] = w.dims();
    x.reshape([b * n, k]).matmul(w).reshape([b, n, j])
}
