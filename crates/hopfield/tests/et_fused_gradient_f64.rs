//! The fused descent step's hand-written backward (issue 12, part 2) against central finite
//! differences in f64: the loss ℓ = Σ R ⊙ x_T + ½ Σ x_T² after T fused steps, differentiated by the
//! fused operations' backward, and ℓ evaluated by the reference descent (the explicit energy
//! gradient, no fused code) at x ± h and every weight ± h — for entries of x, W^Q, W^K, ξ, γ and δ,
//! ReLU² memories unmasked, and softmax memories with padding, learned weighted per-head pairs
//! (their gradient too) and the B ≠ C exclusion. (Its own test binary: the Flex device is configured for f64 first.)

mod common;

use burn::module::Param;
use burn::tensor::{Device, Tensor};
use common::{device, tensor, to_vec};
use hopfield::et::{Descent, EnergyTransformer, EtConfig, HopfieldKind, Implementation, Observe, TokenMask};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn set<const D: usize>(p: &mut Param<Tensor<D>>, i: usize, delta: f64, dev: &Device) {
    let shape = p.dims();
    let mut values = to_vec(p.val());
    values[i] += delta;
    *p = Param::from_tensor(tensor(values, shape, dev));
}

/// The block of `config` with γ = 1.3 and a random δ, on `dev`.
fn block(config: &EtConfig, delta: &[f64], dev: &Device) -> EnergyTransformer {
    let mut et = config.init(3, dev).unwrap();
    et.norm.gamma = Param::from_tensor(tensor(vec![1.3], [1], dev));
    et.norm.delta = Param::from_tensor(tensor(delta.to_vec(), [delta.len()], dev));
    et
}

const SHAPE: [usize; 3] = [2, 5, 6];

/// A mask on `dev` from its values: real tokens [2, 5] and per-head pairs [2, 2, 5, 5].
/// (Learned pair weights: the tensor is a leaf that requires gradients on an autodiff device.)
fn mask(values: &Option<(Vec<f64>, Vec<f64>)>, dev: &Device) -> TokenMask {
    match values {
        None => TokenMask::all(),
        Some((real, pairs)) => {
            let pairs = tensor(pairs.clone(), [2, 2, 5, 5], dev);
            let pairs = if dev.is_autodiff() { pairs.require_grad() } else { pairs };
            TokenMask { real: Some(tensor(real.clone(), [2, 5], dev)), pairs: Some(pairs) }
        }
    }
}

fn check(config: EtConfig, masked: bool, seed: u64) {
    let (dev, descent) = (device(), Descent::new(3, 0.2));
    let ad = dev.clone().autodiff();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let len = SHAPE.iter().product::<usize>();
    let mut rand = |n: usize, s: f64| (0..n).map(|_| (rng.random::<f64>() * 2.0 - 1.0) * s).collect::<Vec<f64>>();
    let (x0, r, delta) = (rand(len, 1.5), rand(len, 1.0), rand(SHAPE[2], 0.3));
    let mask_values = masked.then(|| {
        let real: Vec<f64> = (0..10).map(|i| if i < 5 || i < 8 { 1.0 } else { 0.0 }).collect();
        let pairs = rand(2 * 2 * 25, 1.0).iter().map(|v| [0.0, 0.5, 1.0, 2.0][((v + 1.0) * 1.99) as usize]).collect();
        (real, pairs)
    });
    let loss = |x: Tensor<3>| {
        let rt = tensor(r.clone(), SHAPE, &x.device());
        (x.clone() * rt).sum() + (x.clone() * x).sum() * 0.5
    };

    // The fused descent's gradients, on the autodiff twin of the f64 device.
    let et_ad = block(&config, &delta, &ad);
    let x_ad = tensor(x0.clone(), SHAPE, &ad).require_grad();
    let mask_ad = mask(&mask_values, &ad);
    let out = et_ad.descend_with(Implementation::Fused, x_ad.clone(), &mask_ad, &descent, Observe::Nothing);
    let grads = loss(out.unwrap().x).backward();
    let g3 = |p: Tensor<3>| to_vec(p.grad(&grads).unwrap());
    let mut fused: Vec<(&str, Vec<f64>)> = vec![
        ("x", g3(x_ad)),
        ("wq", g3(et_ad.attention.wq.val())),
        ("wk", g3(et_ad.attention.wk.val())),
        ("xi", to_vec(et_ad.hopfield.xi.val().grad(&grads).unwrap())),
        ("gamma", to_vec(et_ad.norm.gamma.val().grad(&grads).unwrap())),
        ("delta", to_vec(et_ad.norm.delta.val().grad(&grads).unwrap())),
    ];
    if let Some(p) = &mask_ad.pairs {
        fused.push(("pairs", to_vec(p.grad(&grads).unwrap())));
    }

    // Central differences of the loss by the reference descent.
    let (h, m) = (1e-6, mask(&mask_values, &dev));
    for (name, grad) in &fused {
        let scale = grad.iter().fold(1e-3f64, |a, v| a.max(v.abs()));
        // A blocked pair (weight 0, padding, or the diagonal under the exclusion) has no
        // gradient, as on the tensor path: only open pairs are compared.
        let open = |i: usize| {
            let Some((real, pairs)) = &mask_values else { return true };
            let (b, c, key) = (i / 50, (i / 5) % 5, i % 5);
            pairs[i] != 0.0 && real[b * 5 + c] != 0.0 && real[b * 5 + key] != 0.0 && !(config.exclude_self && c == key)
        };
        let picks: Vec<usize> = (0..grad.len()).filter(|&i| *name != "pairs" || open(i)).collect();
        for i in (0..6).map(|_| picks[rng.random_range(0..picks.len())]) {
            let eval = |step: f64| {
                let mut et = block(&config, &delta, &dev);
                let mut x = x0.clone();
                let mut values = mask_values.clone();
                match *name {
                    "x" => x[i] += step,
                    "pairs" => values.as_mut().unwrap().1[i] += step,
                    "wq" => set(&mut et.attention.wq, i, step, &dev),
                    "wk" => set(&mut et.attention.wk, i, step, &dev),
                    "xi" => set(&mut et.hopfield.xi, i, step, &dev),
                    "gamma" => set(&mut et.norm.gamma, i, step, &dev),
                    _ => set(&mut et.norm.delta, i, step, &dev),
                }
                let m = if *name == "pairs" { mask(&values, &dev) } else { m.clone() };
                let run =
                    et.descend_with(Implementation::Reference, tensor(x, SHAPE, &dev), &m, &descent, Observe::Nothing);
                to_vec(loss(run.unwrap().x))[0]
            };
            let fd = (eval(h) - eval(-h)) / (2.0 * h);
            let err = (fd - grad[i]).abs() / scale;
            assert!(err < 1e-6, "{name}[{i}]: fused backward {} vs finite difference {fd} (relative {err:e})", grad[i]);
        }
    }
}

#[test]
fn the_fused_backward_matches_finite_differences() {
    check(EtConfig::new(6, 2, 3, 7), false, 1);
    let mut c = EtConfig::new(6, 2, 3, 7);
    c.hopfield = HopfieldKind::Softmax { beta: 1.5 };
    c.exclude_self = true;
    check(c, true, 2);
}
