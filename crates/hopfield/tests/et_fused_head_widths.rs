//! The fused descent at the head widths where its AVX-512 attention kernels run (Y = 16, 32, 48,
//! 64; `et/fused/head.rs`) and at one where they do not (Y = 13), against the reference descent
//! (explicit gradient, energies recorded) through the public entry point, `descend_with`: the
//! tokens after T steps, unmasked and with padding, the B ≠ C exclusion and per-head pair weights,
//! on 17 and 33 tokens (one past a vector of 16, and past two); padded tokens bit for bit unchanged;
//! and under autodiff the gradients of the tokens and of every weight. On a CPU without AVX-512F
//! the same tests cover the portable path (`gemm`) at these widths.

use burn::tensor::{Device, Tensor, TensorData};
use hopfield::et::{Descent, EnergyTransformer, EtConfig, HopfieldKind, Implementation, Observe, TokenMask};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const WIDTHS: [usize; 5] = [16, 32, 48, 64, 13];

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap()
}

fn values(rng: &mut ChaCha8Rng, len: usize, scale: f32) -> Vec<f32> {
    (0..len).map(|_| (rng.random::<f32>() * 2.0 - 1.0) * scale).collect()
}

/// D = 32, H = 2 heads of width `y`, M = 40, ReLU² memories.
fn block(y: usize, exclude_self: bool, dev: &Device) -> EnergyTransformer {
    let mut c = EtConfig::new(32, 2, y, 40);
    c.exclude_self = exclude_self;
    c.hopfield = HopfieldKind::Relu2;
    c.init(y as u64, dev).unwrap()
}

/// Three items of `n` tokens: all real, n − 5 real, 9 real; junk in the padding; per-head pair
/// weights of 0, ½, 1 and 2.
fn padded(rng: &mut ChaCha8Rng, n: usize, dev: &Device) -> (Tensor<3>, TokenMask, Vec<usize>) {
    let lengths = vec![n, n - 5, 9];
    let x = Tensor::<3>::from_data(TensorData::new(values(rng, 3 * n * 32, 3.0), [3, n, 32]), dev);
    let pairs: Vec<f32> = (0..3 * 2 * n * n).map(|_| [0.0, 0.5, 1.0, 2.0][rng.random_range(0..4)]).collect();
    let mask = TokenMask::from_lengths(&lengths, n, dev)
        .unwrap()
        .with_head_pairs(Tensor::from_data(TensorData::new(pairs, [3, 2, n, n]), dev));
    (x, mask, lengths)
}

fn relative(a: &[f32], b: &[f32]) -> f32 {
    let scale = b.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
    a.iter().zip(b).fold(0f32, |m, (p, q)| m.max((p - q).abs())) / scale
}

fn norm_relative(a: &[f32], b: &[f32]) -> f32 {
    let diff: f32 = a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum();
    let base: f32 = b.iter().map(|q| q * q).sum();
    (diff / base.max(1e-30)).sqrt()
}

#[test]
fn fused_tokens_equal_the_reference_at_every_kernel_width() {
    let dev = Device::flex();
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let descent = Descent::new(5, 0.1);
    for y in WIDTHS {
        for n in [17, 33] {
            for exclude_self in [false, true] {
                let et = block(y, exclude_self, &dev);
                let plain =
                    Tensor::<3>::from_data(TensorData::new(values(&mut rng, 2 * n * 32, 2.0), [2, n, 32]), &dev);
                let (x_pad, mask, lengths) = padded(&mut rng, n, &dev);
                for (x, mask) in [(plain, TokenMask::all()), (x_pad.clone(), mask.clone())] {
                    let run = |i| to_vec(et.descend_with(i, x.clone(), &mask, &descent, Observe::Nothing).unwrap().x);
                    let (fused, reference) = (run(Implementation::Fused), run(Implementation::Reference));
                    let moved = relative(&reference, &to_vec(x.clone()));
                    let err = relative(&fused, &reference);
                    let what = format!("Y {y}, {n} tokens, exclude_self {exclude_self}, masked {}", !mask.is_all());
                    assert!(moved > 1e-2, "{what}: the descent moves the tokens ({moved})");
                    assert!(err < 1e-4, "{what}: fused vs reference {err:e}");
                }
                // Padded tokens are never moved by the fused path: bit for bit the input.
                let input = to_vec(x_pad.clone());
                let out =
                    to_vec(et.descend_with(Implementation::Fused, x_pad, &mask, &descent, Observe::Nothing).unwrap().x);
                for (b, &l) in lengths.iter().enumerate() {
                    let pad = (b * n + l) * 32..(b + 1) * n * 32;
                    assert_eq!(out[pad.clone()], input[pad], "Y {y}, {n} tokens, item {b}: padding moved");
                }
            }
        }
    }
}

/// ∂ℓ/∂(x, W^Q, W^K, ξ, γ, δ) of ℓ = Σ 0.3·x_T + ½ Σ x_T² by `implementation` on autodiff.
fn gradients(et: &EnergyTransformer, implementation: Implementation, x: &Tensor<3>, mask: &TokenMask) -> Vec<Vec<f32>> {
    let x = x.clone().require_grad();
    let out = et.descend_with(implementation, x.clone(), mask, &Descent::new(3, 0.1), Observe::Nothing).unwrap().x;
    let grads = ((out.clone() * 0.3).sum() + (out.clone() * out).sum() * 0.5).backward();
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
fn fused_gradients_equal_the_reference_at_every_kernel_width() {
    let dev = Device::flex().autodiff();
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    for y in WIDTHS {
        let et = block(y, true, &dev);
        let plain = Tensor::<3>::from_data(TensorData::new(values(&mut rng, 2 * 17 * 32, 2.0), [2, 17, 32]), &dev);
        let (x_pad, mask, _) = padded(&mut rng, 17, &dev);
        for (x, mask) in [(plain, TokenMask::all()), (x_pad, mask)] {
            let fused = gradients(&et, Implementation::Fused, &x, &mask);
            let reference = gradients(&et, Implementation::Reference, &x, &mask);
            for (name, (a, b)) in ["x", "W^Q", "W^K", "ξ", "γ", "δ"].iter().zip(fused.iter().zip(&reference)) {
                let err = norm_relative(a, b);
                assert!(
                    err < 1e-4 && b.iter().any(|v| *v != 0.0),
                    "Y {y}, masked {}: ∂ℓ/∂{name} fused vs reference {err:e}",
                    !mask.is_all()
                );
            }
        }
    }
}
