//! The Energy Transformer's forward pass: T steps of `g = LN(x); x ← x − α ∂E/∂g` with the
//! weights shared across steps. [`Descent`] holds the settings (part of every model's config),
//! [`Observe`] says what the caller wants recorded, and [`super::EnergyTransformer::descend`] (the
//! one entry point) runs it, choosing the implementation in [`Implementation::choose`]:
//!
//! - [`Implementation::Reference`] (`reference.rs`): E and ∂E/∂g from the energy terms' explicit formulas, the
//!   energy recorded along the way — the path every other one is tested against;
//! - [`Implementation::Folded`] (`folded.rs`): the step −α ∂E/∂g with α (and β) folded into the small weight
//!   matrices, no energy computed — the tensor-op path autodiff records where the fused one does
//!   not apply (f64, other backends);
//! - [`Implementation::Fused`] (`fused.rs`): the same steps on plain buffers and `gemm` — for inference the
//!   whole descent as one routine, under autodiff one operation per step whose backward is written
//!   by hand — chosen when nothing is recorded, for f32 on the CPU (Flex) backend.
//!
//! A faster implementation is one more variant here, chosen where it applies and tested against
//! the reference.

mod folded;
mod fused;
mod reference;

use burn::tensor::Tensor;

use super::{EnergyTransformer, TokenMask};
use crate::error::{invalid, Result};

/// The largest step size α a [`Descent`] takes.
pub const MAX_STEP_SIZE: f64 = 10.0;

/// The most descent steps a model may take. The official model takes 12; the descent is a
/// gradient flow whose energy has settled long before this, while a T from a damaged or hostile
/// configuration (10⁹) would run for days without a word.
pub const MAX_STEPS: usize = 10_000;

/// T and α of the descent.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Descent {
    /// T, the number of steps (0 leaves the tokens as they are).
    pub steps: usize,
    /// α, the step size.
    pub step_size: f64,
}

impl Default for Descent {
    /// The official model's T = 12, α = 0.1.
    fn default() -> Self {
        Descent { steps: 12, step_size: 0.1 }
    }
}

impl Descent {
    /// T steps of size α.
    pub fn new(steps: usize, step_size: f64) -> Self {
        Descent { steps, step_size }
    }

    /// The same step size with `steps` steps (T = 0: the model without its dynamics).
    pub fn with_steps(self, steps: usize) -> Self {
        Descent { steps, ..self }
    }

    /// Checks T and α.
    ///
    /// # Errors
    /// T above [`MAX_STEPS`]; α not positive or not finite, or above 10.
    pub fn validate(&self) -> Result<()> {
        if self.steps > MAX_STEPS {
            return Err(invalid(
                "steps",
                self.steps,
                "at most 10000 descent steps (MAX_STEPS; the official model takes 12, and the energy settles \
                 within a few hundred)",
            ));
        }
        if !(self.step_size > 0.0 && self.step_size.is_finite()) {
            return Err(invalid("alpha", self.step_size, "the step size α must be positive and finite"));
        }
        if self.step_size > MAX_STEP_SIZE {
            return Err(invalid(
                "alpha",
                self.step_size,
                "the step size α must be at most 10: the descent is a small-step gradient flow on the energy \
                 (the official α is 0.1), and larger steps jump past its minima",
            ));
        }
        Ok(())
    }
}

/// What a descent records besides the final tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Observe {
    /// Nothing: the fastest implementation runs.
    #[default]
    Nothing,
    /// E(g(x_t)) for t = 0..=T.
    Energy,
    /// E(g(x_t)) and the tokens x_t for t = 0..=T (for pictures of every step).
    Trajectory,
}

/// How the descent is computed; [`super::EnergyTransformer::descend`] chooses, tests and
/// benchmarks may force one with [`super::EnergyTransformer::descend_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implementation {
    /// The explicit energy gradient, energies recorded on request.
    Reference,
    /// α and β folded into the weights; computes no energy.
    Folded,
    /// f32 or f64 on the CPU (Flex) backend: without autodiff the whole descent as one routine over
    /// plain buffers and `gemm` (token-wise products over all tokens at once, the attention over
    /// examples in parallel); under autodiff one burn operation per step with a hand-written
    /// backward over the buffers its forward kept. Computes no energy.
    Fused,
}

impl Implementation {
    /// The implementation for what is to be recorded, on any tokens: the reference when energies
    /// are asked for, else the folded step.
    pub fn for_observe(observe: Observe) -> Self {
        match observe {
            Observe::Nothing => Implementation::Folded,
            Observe::Energy | Observe::Trajectory => Implementation::Reference,
        }
    }

    /// The implementation [`EnergyTransformer::descend`] runs for the tokens `x`: f32 on the CPU
    /// backend takes the fused routines when nothing is recorded (inference: the whole descent;
    /// autodiff: one operation per step with its hand-written backward); energies need the
    /// reference; f64 and other backends keep the folded tensor path (what the finite-difference
    /// checks of the whole models differentiate), as does a block whose attention has per-head
    /// β_h or a mixing of heads (the fused routines compute the plain energy's step).
    pub fn choose(et: &EnergyTransformer, observe: Observe, x: &Tensor<3>) -> Self {
        match observe {
            Observe::Nothing if fused::applies(x) && et.attention.is_plain() => Implementation::Fused,
            o => Implementation::for_observe(o),
        }
    }
}

impl EnergyTransformer {
    /// Runs `descent` from the tokens `x` [B, N, D]: T steps of `g = LN(x); x ← x − α ∂E/∂g` with
    /// the weights shared across steps, recording what `observe` asks for, by the implementation
    /// [`Implementation::choose`] picks. Padded tokens (`mask.real`) never move.
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
        self.descend_with(Implementation::choose(self, observe, &x), x, mask, descent, observe)
    }

    /// [`EnergyTransformer::descend`] by a given implementation (for tests and benchmarks).
    ///
    /// # Errors
    /// As `descend`; an energy asked of an implementation that computes none (folded, fused);
    /// the fused one off the CPU backend or for an attention with per-head β_h or a mixing.
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
        match implementation {
            Implementation::Reference => Ok(reference::descend(self, x, mask, descent, observe)),
            _ if observe != Observe::Nothing => Err(invalid(
                "observe",
                format!("{observe:?}"),
                if implementation == Implementation::Fused {
                    "nothing: the fused descent computes no energy"
                } else {
                    "nothing: the folded descent computes no energy"
                },
            )),
            Implementation::Folded => Ok(folded::descend(self, x, mask, descent)),
            Implementation::Fused => fused::descend(self, x, mask, descent),
        }
    }
}

/// What a descent returns.
#[derive(Debug, Clone)]
pub struct DescentResult {
    /// The tokens after T steps: [B, N, D].
    pub x: Tensor<3>,
    /// E(g(x_t)) for t = 0..=T, each [B] (empty unless recorded).
    pub energy: Vec<Tensor<1>>,
    /// x_t for t = 0..=T, each [B, N, D] (empty unless [`Observe::Trajectory`]).
    pub states: Vec<Tensor<3>>,
}
