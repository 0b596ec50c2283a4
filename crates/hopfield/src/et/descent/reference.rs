//! [`super::Implementation::Reference`]: E and ∂E/∂g from the energy terms' explicit formulas,
//! the energy (and the tokens) recorded along the way on request — the path every other
//! implementation is tested against.

use burn::tensor::Tensor;

use super::{Descent, DescentResult, Observe};
use crate::et::{EnergyTransformer, TokenMask};

/// T steps of `x ← x − α ∂E/∂g` from `x`, recording what `observe` asks for: E(g(x_t)) and x_t
/// for t = 0..=T.
pub(super) fn descend(
    et: &EnergyTransformer,
    x: Tensor<3>,
    mask: &TokenMask,
    descent: &Descent,
    observe: Observe,
) -> DescentResult {
    let mut x = x;
    let (mut energy, mut states) = (Vec::new(), Vec::new());
    for _ in 0..descent.steps {
        if observe == Observe::Trajectory {
            states.push(x.clone());
        }
        let (e, grad) = et.energy_and_grad_unchecked(et.norm.activation(x.clone()), mask);
        if observe != Observe::Nothing {
            energy.push(e);
        }
        x = x + -grad * descent.step_size;
    }
    if observe != Observe::Nothing {
        let g = et.norm.activation(x.clone());
        energy.push(et.attention.energy(g.clone(), mask) + et.hopfield.energy(g, mask));
    }
    if observe == Observe::Trajectory {
        states.push(x.clone());
    }
    DescentResult { x, energy, states }
}
