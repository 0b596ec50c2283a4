//! [`super::Implementation::Fused`]: the steps on plain buffers and `gemm` ([`crate::et::fused`]),
//! through the one burn operation of [`crate::et::fused::op`] — without autodiff the T steps in
//! one call, under autodiff one recorded operation per step whose backward is written by hand.
//! The block's constants, α among them, reach the buffers only through [`settings`].

use burn::tensor::Tensor;

use super::{Descent, DescentResult};
use crate::error::{invalid, Result};
use crate::et::fused::op::{self, StepSettings};
use crate::et::{EnergyTransformer, TokenMask};

/// The fused operation's constants for `descent` on the block `et`.
fn settings(et: &EnergyTransformer, descent: &Descent) -> StepSettings {
    StepSettings {
        steps: descent.steps,
        alpha: descent.step_size,
        beta: et.attention.beta,
        eps: et.norm.eps,
        hopfield_beta: et.hopfield.softmax_beta,
        exclude_self: et.attention.exclude_self,
    }
}

/// T fused steps from `x` (CPU only).
pub(super) fn descend(
    et: &EnergyTransformer,
    x: Tensor<3>,
    mask: &TokenMask,
    descent: &Descent,
) -> Result<DescentResult> {
    if !et.attention.is_plain() {
        return Err(invalid(
            "implementation",
            "Fused with per-head β_h or a mixing of heads",
            "Folded or Reference: the fused descent computes the plain attention energy's step",
        ));
    }
    if !on_cpu(&x) {
        return Err(invalid(
            "implementation",
            format!("Fused on {:?}", x.device()),
            "Folded or Reference: the fused descent runs on the CPU (Flex) backend only",
        ));
    }
    let x = op::descend(
        [x, et.attention.wq.val(), et.attention.wk.val()],
        et.hopfield.xi.val(),
        [et.norm.gamma.val(), et.norm.delta.val()],
        mask,
        settings(et, descent),
    );
    Ok(DescentResult { x, energy: Vec::new(), states: Vec::new() })
}

/// Whether the fused implementation is the one to choose for these tokens: f32 on the CPU backend.
pub(super) fn applies(x: &Tensor<3>) -> bool {
    on_cpu(x) && x.dtype() == burn::tensor::DType::F32
}

fn on_cpu(x: &Tensor<3>) -> bool {
    matches!(x.device().inner().as_dispatch(), burn::backend::DispatchDevice::Flex(_))
}
