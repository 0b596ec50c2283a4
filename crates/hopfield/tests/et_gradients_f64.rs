//! The Energy Transformer's explicit gradients against central finite differences, in f64.
//! (Its own test binary: the Flex device is configured for f64 before any tensor exists.)

mod common;

use burn::tensor::{Device, Tensor};
use common::{device, random, tensor, to_vec};
use hopfield::et::{EnergyTransformer, EtConfig, HopfieldKind, TokenMask};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A 0/1 mask with random entries and the query 0 of example 0 seeing nothing at all.
fn random_mask(rng: &mut ChaCha8Rng, b: usize, n: usize, dev: &Device) -> Tensor<3> {
    let mut m: Vec<f64> = (0..b * n * n).map(|_| if rng.random::<f64>() < 0.6 { 1.0 } else { 0.0 }).collect();
    m[..n].iter_mut().for_each(|v| *v = 0.0);
    tensor(m, [b, n, n], dev)
}

/// max |explicit − finite difference| / max(1, max |explicit|) for one energy function.
fn check(
    name: &str,
    g: &[f64],
    shape: [usize; 3],
    dev: &Device,
    energy: &dyn Fn(Tensor<3>) -> f64,
    explicit: Vec<f64>,
) {
    let h = 1e-6;
    let scale = explicit.iter().fold(1.0f64, |a, v| a.max(v.abs()));
    let mut worst = 0.0f64;
    for i in 0..g.len() {
        let (mut up, mut down) = (g.to_vec(), g.to_vec());
        up[i] += h;
        down[i] -= h;
        let fd = (energy(tensor(up, shape, dev)) - energy(tensor(down, shape, dev))) / (2.0 * h);
        worst = worst.max((fd - explicit[i]).abs() / scale);
    }
    assert!(worst < 1e-7, "{name}: relative error {worst:e}");
}

fn block(exclude_self: bool, hopfield: HopfieldKind, dev: &Device) -> EnergyTransformer {
    let mut c = EtConfig::new(8, 2, 3, 11);
    c.exclude_self = exclude_self;
    c.hopfield = hopfield;
    c.init_std = Some(0.5);
    c.init(3, dev).unwrap()
}

#[test]
fn every_term_and_the_sum_match_finite_differences() {
    let dev = device();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let shape = [2, 5, 8];
    let mut cases = 0;
    for exclude_self in [false, true] {
        for with_mask in [false, true] {
            for hopfield in [HopfieldKind::Relu2, HopfieldKind::Softmax { beta: 0.7 }] {
                let et = block(exclude_self, hopfield, &dev);
                let g = random(&mut rng, 80, 1.5);
                let mask = TokenMask::from_pairs(with_mask.then(|| random_mask(&mut rng, 2, 5, &dev)));
                let gt = tensor(g.clone(), shape, &dev);
                let tag = format!("exclude_self={exclude_self} mask={with_mask} {hopfield:?}");

                let (_, ga) = et.attention.energy_and_grad(gt.clone(), &mask);
                let e_att = |t: Tensor<3>| to_vec(et.attention.energy(t, &mask).sum())[0];
                let ga = to_vec(ga);
                // The descent's own step (β and α folded into the weights) is −α ∂E/∂g.
                let step = to_vec(et.attention.descent_step(gt.clone(), &mask, 0.3));
                for (s, gr) in step.iter().zip(&ga) {
                    assert!((s + 0.3 * gr).abs() < 1e-12 * gr.abs().max(1.0), "attention {tag}: {s} vs {}", -0.3 * gr);
                }
                check(&format!("attention {tag}"), &g, shape, &dev, &e_att, ga);

                let (_, gh) = et.hopfield.energy_and_grad(gt.clone(), &mask);
                let e_hn = |t: Tensor<3>| to_vec(et.hopfield.energy(t, &mask).sum())[0];
                let gh = to_vec(gh);
                let step = to_vec(et.hopfield.descent_step(gt.clone(), &mask, 0.3));
                for (s, gr) in step.iter().zip(&gh) {
                    assert!((s + 0.3 * gr).abs() < 1e-12 * gr.abs().max(1.0), "hopfield {tag}: {s} vs {}", -0.3 * gr);
                }
                check(&format!("hopfield {tag}"), &g, shape, &dev, &e_hn, gh);

                let (e, gs) = et.energy_and_grad(gt.clone(), &mask).unwrap();
                let e_sum = |t: Tensor<3>| to_vec(et.energy(t, &mask).unwrap().sum())[0];
                check(&format!("sum {tag}"), &g, shape, &dev, &e_sum, to_vec(gs));
                // energy_and_grad's energy is the energy.
                let direct = to_vec(et.energy(gt, &mask).unwrap());
                for (a, b) in to_vec(e).iter().zip(&direct) {
                    assert!((a - b).abs() < 1e-12 * b.abs().max(1.0), "{tag}: {a} vs {b}");
                }
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 8);
}

#[test]
fn layer_norm_lagrangian_has_the_layer_norm_as_gradient() {
    let dev = device();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let et = block(false, HopfieldKind::Relu2, &dev);
    let shape = [2, 3, 8];
    let x = random(&mut rng, 48, 2.0);
    let g = to_vec(et.norm.activation(tensor(x.clone(), shape, &dev)));
    let l = |t: Tensor<3>| to_vec(et.norm.lagrangian(t).sum())[0];
    check("layer norm", &x, shape, &dev, &l, g.clone());
    // g is the usual layer norm (γ = 1, δ = 0): zero mean, unit (biased) variance per token.
    for tok in g.chunks(8) {
        let mean = tok.iter().sum::<f64>() / 8.0;
        let var = tok.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 8.0;
        assert!(mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-4, "mean {mean}, var {var}");
    }
}
