//! The fused inference descent against the folded one (the tensor-library path): the same tokens
//! after T steps to 1e-4 relative in f32, for ReLU² and softmax memories, with and without the
//! B ≠ C exclusion, unmasked and with padding plus weighted per-head pair masks; padded tokens
//! unchanged bit for bit; the energy falling at every step of the fused path. Under autodiff, the
//! fused step's hand-written backward gives the folded path's gradients to 1e-4 (relative norm),
//! learned pair weights included.

use burn::tensor::{Device, Tensor, TensorData};
use hopfield::et::{Descent, EnergyTransformer, EtConfig, HopfieldKind, Implementation, Observe, TokenMask};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap()
}

fn values(rng: &mut ChaCha8Rng, len: usize, scale: f32) -> Vec<f32> {
    (0..len).map(|_| (rng.random::<f32>() * 2.0 - 1.0) * scale).collect()
}

fn block(exclude_self: bool, hopfield: HopfieldKind, dev: &Device) -> EnergyTransformer {
    let mut c = EtConfig::new(24, 3, 8, 40);
    c.exclude_self = exclude_self;
    c.hopfield = hopfield;
    c.init(5, dev).unwrap()
}

/// Items of 9, 4 and 6 real tokens of 9, junk in the padding, random per-head pair weights.
fn masked(rng: &mut ChaCha8Rng, dev: &Device) -> (Tensor<3>, TokenMask, Vec<usize>) {
    let (lengths, n, d, h) = (vec![9usize, 4, 6], 9usize, 24usize, 3usize);
    let x = Tensor::<3>::from_data(TensorData::new(values(rng, 3 * n * d, 3.0), [3, n, d]), dev);
    let pairs: Vec<f32> = (0..3 * h * n * n)
        .map(|_| match rng.random_range(0..4) {
            0 => 0.0,
            1 => 0.5,
            2 => 2.0,
            _ => 1.0,
        })
        .collect();
    let mask = TokenMask::from_lengths(&lengths, n, dev)
        .unwrap()
        .with_head_pairs(Tensor::from_data(TensorData::new(pairs, [3, h, n, n]), dev));
    (x, mask, lengths)
}

fn relative(a: &[f32], b: &[f32]) -> f32 {
    let scale = b.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
    a.iter().zip(b).fold(0f32, |m, (p, q)| m.max((p - q).abs())) / scale
}

#[test]
fn the_fused_descent_gives_the_folded_tokens() {
    let dev = Device::flex();
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let descent = Descent::new(5, 0.1);
    for kind in [HopfieldKind::Relu2, HopfieldKind::Softmax { beta: 2.0 }] {
        for exclude_self in [false, true] {
            let et = block(exclude_self, kind, &dev);
            let plain = Tensor::<3>::from_data(TensorData::new(values(&mut rng, 4 * 10 * 24, 2.0), [4, 10, 24]), &dev);
            let (padded, mask, lengths) = masked(&mut rng, &dev);
            for (x, mask) in [(plain, TokenMask::all()), (padded.clone(), mask)] {
                let run = |i| to_vec(et.descend_with(i, x.clone(), &mask, &descent, Observe::Nothing).unwrap().x);
                let (fused, folded) = (run(Implementation::Fused), run(Implementation::Folded));
                let moved = relative(&folded, &to_vec(x.clone()));
                let err = relative(&fused, &folded);
                assert!(moved > 1e-2, "the descent moves the tokens ({moved})");
                assert!(err < 1e-4, "{kind:?}, exclude_self {exclude_self}, masked {}: {err}", !mask.is_all());
                // descend() without autodiff takes the fused path.
                assert_eq!(to_vec(et.descend(x.clone(), &mask, &descent, Observe::Nothing).unwrap().x), fused);
            }
            // Padded tokens are never moved: bit for bit the input.
            let (padded_x, mask, _) = masked(&mut ChaCha8Rng::seed_from_u64(99), &dev);
            let input = to_vec(padded_x.clone());
            let out =
                to_vec(et.descend_with(Implementation::Fused, padded_x, &mask, &descent, Observe::Nothing).unwrap().x);
            for (b, &l) in lengths.iter().enumerate() {
                let pad = &out[(b * 9 + l) * 24..(b + 1) * 9 * 24];
                assert_eq!(pad, &input[(b * 9 + l) * 24..(b + 1) * 9 * 24], "item {b}: padding moved");
            }
        }
    }
}

#[test]
fn the_energy_falls_at_every_step_of_the_fused_descent() {
    let dev = Device::flex();
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    for kind in [HopfieldKind::Relu2, HopfieldKind::Softmax { beta: 2.0 }] {
        let et = block(false, kind, &dev);
        let (x, mask, _) = masked(&mut rng, &dev);
        let energy = |t: usize| {
            let xt = et.descend_with(Implementation::Fused, x.clone(), &mask, &Descent::new(t, 0.05), Observe::Nothing);
            to_vec(et.energy(et.norm.activation(xt.unwrap().x), &mask).unwrap())
        };
        let trace: Vec<Vec<f32>> = (0..=8).map(energy).collect();
        for b in 0..3 {
            for (t, w) in trace.windows(2).enumerate() {
                assert!(
                    w[1][b] <= w[0][b] + 1e-5 * w[0][b].abs().max(1.0),
                    "{kind:?} item {b} step {t}: {} -> {}",
                    w[0][b],
                    w[1][b]
                );
            }
            assert!(trace[8][b] < trace[0][b]);
        }
    }
}

/// ‖a − b‖ / ‖b‖.
fn norm_relative(a: &[f32], b: &[f32]) -> f32 {
    let diff: f32 = a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum();
    let base: f32 = b.iter().map(|q| q * q).sum();
    (diff / base.max(1e-30)).sqrt()
}

/// The gradients (x, W^Q, W^K, ξ, γ, δ) of ℓ = Σ R ⊙ x_T + ½ Σ x_T² by `implementation` on autodiff.
fn gradients(et: &EnergyTransformer, implementation: Implementation, x: &Tensor<3>, mask: &TokenMask) -> Vec<Vec<f32>> {
    let x = x.clone().require_grad();
    let out = et.descend_with(implementation, x.clone(), mask, &Descent::new(4, 0.1), Observe::Nothing).unwrap().x;
    let r = Tensor::<3>::ones(out.dims(), &out.device()) * 0.3;
    let grads = ((out.clone() * r).sum() + (out.clone() * out).sum() * 0.5).backward();
    vec![
        to_vec(x.grad(&grads).unwrap()),
        to_vec(et.attention.wq.val().grad(&grads).unwrap()),
        to_vec(et.attention.wk.val().grad(&grads).unwrap()),
        to_vec(et.hopfield.xi.val().grad(&grads).unwrap()),
        to_vec(et.norm.gamma.val().grad(&grads).unwrap()),
        to_vec(et.norm.delta.val().grad(&grads).unwrap()),
    ]
}

#[test]
fn the_fused_training_step_gives_the_folded_gradients() {
    let dev = Device::flex().autodiff();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for kind in [HopfieldKind::Relu2, HopfieldKind::Softmax { beta: 2.0 }] {
        for exclude_self in [false, true] {
            let et = block(exclude_self, kind, &dev);
            let plain = Tensor::<3>::from_data(TensorData::new(values(&mut rng, 4 * 10 * 24, 2.0), [4, 10, 24]), &dev);
            let (padded, mask, _) = masked(&mut rng, &dev);
            for (x, mask) in [(plain, TokenMask::all()), (padded, mask)] {
                let fused = gradients(&et, Implementation::Fused, &x, &mask);
                let folded = gradients(&et, Implementation::Folded, &x, &mask);
                for (name, (a, b)) in ["x", "W^Q", "W^K", "ξ", "γ", "δ"].iter().zip(fused.iter().zip(&folded)) {
                    let err = norm_relative(a, b);
                    assert!(err < 1e-4, "{kind:?}, exclusion {exclude_self}: ∂ℓ/∂{name} fused vs folded {err:e}");
                }
                // descend() under autodiff takes the fused step: the same tokens as forcing it.
                let run = |i: Option<Implementation>| {
                    let d = Descent::new(4, 0.1);
                    to_vec(match i {
                        Some(i) => et.descend_with(i, x.clone(), &mask, &d, Observe::Nothing).unwrap().x,
                        None => et.descend(x.clone(), &mask, &d, Observe::Nothing).unwrap().x,
                    })
                };
                assert_eq!(run(None), run(Some(Implementation::Fused)));
            }
        }
    }
}

#[test]
fn learned_pair_weights_get_the_folded_gradient() {
    let dev = Device::flex().autodiff();
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    for shared in [true, false] {
        let et = block(true, HopfieldKind::Relu2, &dev);
        let (x, mask, _) = masked(&mut rng, &dev);
        let pairs = mask.pairs.clone().unwrap();
        let pairs = if shared { pairs.narrow(1, 0, 1) } else { pairs };
        let grad = |implementation| {
            // The pair weights as a function of a learned tensor (as the graph model's edge weights).
            let learned = pairs.clone().detach().require_grad();
            let mask = TokenMask { real: mask.real.clone(), pairs: Some(learned.clone() * 1.5) };
            let out = et.descend_with(implementation, x.clone(), &mask, &Descent::new(3, 0.1), Observe::Nothing);
            let out = out.unwrap().x;
            to_vec(learned.grad(&(out.clone() * out).sum().backward()).unwrap())
        };
        let (fused, folded) = (grad(Implementation::Fused), grad(Implementation::Folded));
        let err = norm_relative(&fused, &folded);
        assert!(
            err < 1e-4 && folded.iter().any(|v| *v != 0.0),
            "shared {shared}: pair weights fused vs folded {err:e}"
        );
    }
}
