//! [`super::Implementation::Folded`]: the step −α ∂E/∂g with α (and β) folded into the small
//! weight matrices, which saves the energy's pass over [B, N, M] and several over [B, N, D]; no
//! energy is computed. The tensor-op path autodiff records where the fused one does not apply
//! (f64, other backends).

use burn::tensor::Tensor;

use super::{Descent, DescentResult};
use crate::et::{EnergyAttention, EnergyTransformer, HopfieldModule, TokenMask};

/// T folded steps from `x`.
pub(super) fn descend(et: &EnergyTransformer, x: Tensor<3>, mask: &TokenMask, descent: &Descent) -> DescentResult {
    let mut x = x;
    for _ in 0..descent.steps {
        let g = et.norm.activation(x.clone());
        x = x
            + et.attention.descent_step(g.clone(), mask, descent.step_size)
            + et.hopfield.descent_step(g, mask, descent.step_size);
    }
    DescentResult { x, energy: Vec::new(), states: Vec::new() }
}

impl EnergyAttention {
    /// The descent's step from this term, −α ∂E^ATT/∂g, with β and α folded into the small
    /// weight matrices instead of full passes over [B, H, N, N] and [B, N, D]: with Q' = βQ,
    /// −α ∂E/∂g_A = Σ_h [ (α W^Q_h)ᵀ Σ_B S_hAB K_hB + (α/β W^K_h)ᵀ Σ_C S_hCA Q'_hC ].
    /// With per-head β_h or a mixing of heads, the step is α Σ_h [W^Qᵀ_h Σ_B P_hAB K_hB +
    /// W^Kᵀ_h Σ_C P_hCA Q_hC] from the gradient's weights P.
    pub fn descent_step(&self, g: Tensor<3>, mask: &TokenMask, step_size: f64) -> Tensor<3> {
        if !self.is_plain() {
            let s = self.scores(g, mask);
            return self.back_project(self.gradient_weights(s.weights), s.q, s.k, step_size, step_size);
        }
        let q = EnergyAttention::project(g.clone(), self.wq.val() * self.beta); // Q' = βQ
        let k = EnergyAttention::project(g, self.wk.val());
        let logits = q.clone().matmul(k.clone().swap_dims(2, 3));
        let s = self.normalise(q, k, logits, mask);
        self.back_project(s.weights, s.q, s.k, step_size, step_size / self.beta)
    }
}

impl HopfieldModule {
    /// The descent's step from this term, −α ∂E^HN/∂g = α ∇L(ξ g) ξ, with α folded into ξ:
    /// [B, N, D] → [B, N, D] (0 at padded tokens).
    pub fn descent_step(&self, g: Tensor<3>, mask: &TokenMask, step_size: f64) -> Tensor<3> {
        let act = self.lagrangian().activation(self.hidden(g));
        let act = match mask.real_column() {
            Some(r) => act * r,
            None => act,
        };
        crate::et::linear(act, self.xi.val() * step_size)
    }
}
