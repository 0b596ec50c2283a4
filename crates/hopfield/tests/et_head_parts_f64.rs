//! The attention's optional head parts — learned per-head inverse temperatures β_h and a learned
//! mixing of heads — against a plain loop of the energy's definition, their gradient (explicit,
//! the descent's step, and backpropagation into u and M) against central finite differences,
//! the plain energy at initialisation, and the descent's implementations. In f64. (Its own test
//! binary: the Flex device is configured for f64 before any tensor exists.)

mod common;

use burn::module::Param;
use burn::tensor::{Device, Tensor};
use common::{device, random, tensor, to_vec};
use hopfield::et::{Descent, EnergyTransformer, EtConfig, Implementation, Observe, TokenMask};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const B: usize = 2;
const N: usize = 5;
const D: usize = 8;
const H: usize = 3;
const Y: usize = 4;

/// A block with H = 3 heads, its head parts set to random values (u in ±0.7, M = I + ±0.6).
fn block(betas: bool, mixing: bool, rng: &mut ChaCha8Rng, dev: &Device) -> EnergyTransformer {
    let mut c = EtConfig::new(D, H, Y, 11);
    c.init_std = Some(0.5);
    (c.head_betas, c.head_mixing) = (betas, mixing);
    let mut et = c.init(3, dev).unwrap();
    if betas {
        et.attention.head_betas = Some(Param::from_tensor(tensor(random(rng, H, 0.7), [H], dev)));
    }
    if mixing {
        let m: Vec<f64> = random(rng, H * H, 0.6)
            .into_iter()
            .enumerate()
            .map(|(i, v)| v + if i % (H + 1) == 0 { 1.0 } else { 0.0 })
            .collect();
        et.attention.head_mixing = Some(Param::from_tensor(tensor(m, [H, H], dev)));
    }
    et
}

/// Per-head pair weights [B, H, N, N] (0 or in [0.5, 2)) with query 0 of example 0 seeing nothing.
fn head_pairs(rng: &mut ChaCha8Rng, dev: &Device) -> Tensor<4> {
    let mut w: Vec<f64> = (0..B * H * N * N)
        .map(|_| if rng.random::<f64>() < 0.7 { 0.5 + 1.5 * rng.random::<f64>() } else { 0.0 })
        .collect();
    for h in 0..H {
        w[h * N * N..h * N * N + N].iter_mut().for_each(|v| *v = 0.0);
    }
    tensor(w, [B, H, N, N], dev)
}

/// E^ATT of every example by the definition, one number at a time:
/// −Σ_h' (1/β_h') Σ_C log Σ_B w_h'CB exp(Σ_h M_hh' β_h K_hB·Q_hC).
fn energy_by_loops(et: &EnergyTransformer, g: &[f64], pairs: &[f64]) -> Vec<f64> {
    let (wq, wk) = (to_vec(et.attention.wq.val()), to_vec(et.attention.wk.val()));
    let beta = et.attention.beta;
    let betas: Vec<f64> = match &et.attention.head_betas {
        Some(u) => to_vec(u.val()).iter().map(|u| beta * u.exp()).collect(),
        None => vec![beta; H],
    };
    let mix: Vec<f64> = match &et.attention.head_mixing {
        Some(m) => to_vec(m.val()),
        None => (0..H * H).map(|i| if i % (H + 1) == 0 { 1.0 } else { 0.0 }).collect(),
    };
    let project = |w: &[f64], b: usize, h: usize, t: usize, f: usize| -> f64 {
        (0..D).map(|d| w[(h * Y + f) * D + d] * g[(b * N + t) * D + d]).sum()
    };
    let dot = |b: usize, h: usize, c: usize, k: usize| -> f64 {
        (0..Y).map(|f| project(&wq, b, h, c, f) * project(&wk, b, h, k, f)).sum()
    };
    (0..B)
        .map(|b| {
            let mut e = 0.0;
            for hp in 0..H {
                for c in 0..N {
                    let logit = |k: usize| (0..H).map(|h| mix[h * H + hp] * betas[h] * dot(b, h, c, k)).sum::<f64>();
                    let w = |k: usize| pairs[((b * H + hp) * N + c) * N + k];
                    let open: Vec<usize> = (0..N).filter(|&k| w(k) != 0.0).collect();
                    if open.is_empty() {
                        continue;
                    }
                    let z: f64 = open.iter().map(|&k| w(k) * logit(k).exp()).sum();
                    e -= z.ln() / betas[hp];
                }
            }
            e
        })
        .collect()
}

#[test]
fn the_energy_is_its_definition_and_its_gradient_the_finite_differences() {
    let dev = device();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for (betas, mixing) in [(true, false), (false, true), (true, true)] {
        let et = block(betas, mixing, &mut rng, &dev);
        assert!(!et.attention.is_plain());
        let pairs = head_pairs(&mut rng, &dev);
        let mask = TokenMask::all().with_head_pairs(pairs.clone());
        let g = random(&mut rng, B * N * D, 1.5);
        let gt = tensor(g.clone(), [B, N, D], &dev);
        let tag = format!("betas={betas} mixing={mixing}");

        let loops = energy_by_loops(&et, &g, &to_vec(pairs));
        let energy = to_vec(et.attention.energy(gt.clone(), &mask));
        for (a, b) in energy.iter().zip(&loops) {
            assert!((a - b).abs() < 1e-10 * b.abs().max(1.0), "{tag}: energy {a} vs the loops' {b}");
        }

        let (e, grad) = et.attention.energy_and_grad(gt.clone(), &mask);
        for (a, b) in to_vec(e).iter().zip(&loops) {
            assert!((a - b).abs() < 1e-10 * b.abs().max(1.0), "{tag}: energy_and_grad's energy {a} vs {b}");
        }
        let grad = to_vec(grad);
        let step = to_vec(et.attention.descent_step(gt, &mask, 0.3));
        for (s, gr) in step.iter().zip(&grad) {
            assert!((s + 0.3 * gr).abs() < 1e-12 * gr.abs().max(1.0), "{tag}: step {s} vs {}", -0.3 * gr);
        }
        let h = 1e-6;
        let scale = grad.iter().fold(1.0f64, |a, v| a.max(v.abs()));
        let e = |v: Vec<f64>| to_vec(et.attention.energy(tensor(v, [B, N, D], &dev), &mask).sum())[0];
        for i in 0..g.len() {
            let (mut up, mut down) = (g.clone(), g.clone());
            up[i] += h;
            down[i] -= h;
            let fd = (e(up) - e(down)) / (2.0 * h);
            assert!((fd - grad[i]).abs() / scale < 1e-7, "{tag}: ∂E/∂g[{i}] {} vs finite difference {fd}", grad[i]);
        }
    }
}

#[test]
fn at_initialisation_the_head_parts_change_nothing() {
    let dev = device();
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let plain = {
        let mut c = EtConfig::new(D, H, Y, 11);
        c.init_std = Some(0.5);
        c.init(3, &dev).unwrap()
    };
    let mut c = EtConfig::new(D, H, Y, 11);
    c.init_std = Some(0.5);
    (c.head_betas, c.head_mixing) = (true, true);
    let parts = c.init(3, &dev).unwrap();
    assert_eq!(to_vec(parts.attention.head_betas.as_ref().unwrap().val()), vec![0.0; H]);
    let eye: Vec<f64> = (0..H * H).map(|i| if i % (H + 1) == 0 { 1.0 } else { 0.0 }).collect();
    assert_eq!(to_vec(parts.attention.head_mixing.as_ref().unwrap().val()), eye);
    let mask = TokenMask::all().with_head_pairs(head_pairs(&mut rng, &dev));
    let g = tensor(random(&mut rng, B * N * D, 1.5), [B, N, D], &dev);
    let (ep, gp) = plain.energy_and_grad(g.clone(), &mask).unwrap();
    let (eh, gh) = parts.energy_and_grad(g.clone(), &mask).unwrap();
    let close = |a: Vec<f64>, b: Vec<f64>, what: &str| {
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-12 * y.abs().max(1.0), "{what}: {x} vs {y}");
        }
    };
    close(to_vec(eh), to_vec(ep), "energy");
    close(to_vec(gh), to_vec(gp), "gradient");
    let descent = Descent::new(4, 0.2);
    let x = tensor(random(&mut rng, B * N * D, 2.0), [B, N, D], &dev);
    let a = plain.descend(x.clone(), &mask, &descent, Observe::Nothing).unwrap().x;
    let b = parts.descend(x, &mask, &descent, Observe::Nothing).unwrap().x;
    close(to_vec(b), to_vec(a), "descent");
}

#[test]
fn the_descent_falls_and_its_implementations_agree_and_the_fused_one_refuses() {
    let dev = device();
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let et = block(true, true, &mut rng, &dev);
    let mask = TokenMask::all().with_head_pairs(head_pairs(&mut rng, &dev));
    let x = tensor(random(&mut rng, B * N * D, 2.0), [B, N, D], &dev);
    let descent = Descent::new(12, 0.05);
    let reference = et.descend_with(Implementation::Reference, x.clone(), &mask, &descent, Observe::Energy).unwrap();
    let folded = et.descend_with(Implementation::Folded, x.clone(), &mask, &descent, Observe::Nothing).unwrap();
    // descend() chooses: f64 never takes the fused path, and this block could not.
    let chosen = et.descend(x.clone(), &mask, &descent, Observe::Nothing).unwrap();
    let r = to_vec(reference.x);
    for (other, what) in [(to_vec(folded.x), "folded"), (to_vec(chosen.x), "chosen")] {
        for (a, b) in other.iter().zip(&r) {
            assert!((a - b).abs() < 1e-10 * b.abs().max(1.0), "{what}: {a} vs the reference's {b}");
        }
    }
    let e: Vec<Vec<f64>> = reference.energy.into_iter().map(to_vec).collect();
    for b in 0..B {
        for (t, pair) in e.windows(2).enumerate() {
            assert!(pair[1][b] <= pair[0][b] + 1e-12, "example {b} step {t}: {} -> {}", pair[0][b], pair[1][b]);
        }
        assert!(e[12][b] < e[0][b] - 1e-6, "example {b}: the energy did not fall ({} -> {})", e[0][b], e[12][b]);
    }
    let err = et.descend_with(Implementation::Fused, x, &mask, &descent, Observe::Nothing).unwrap_err().to_string();
    assert!(err.contains("per-head β_h or a mixing"), "{err}");
}

#[test]
fn backpropagation_reaches_the_head_parts_as_finite_differences_say() {
    let dev = device();
    let ad = dev.clone().autodiff();
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let (u, m) = (random(&mut rng, H, 0.7), random(&mut rng, H * H, 0.6));
    let x = random(&mut rng, B * N * D, 2.0);
    let target = random(&mut rng, B * N * D, 1.0);
    let pairs = to_vec(head_pairs(&mut rng, &dev));
    let descent = Descent::new(3, 0.2);
    // A loss through three descent steps: Σ (x_T · target).
    let loss = |u: &[f64], m: &[f64], dev: &Device| -> (Tensor<1>, EnergyTransformer) {
        let mut c = EtConfig::new(D, H, Y, 11);
        c.init_std = Some(0.5);
        (c.head_betas, c.head_mixing) = (true, true);
        let mut et = c.init(3, dev).unwrap();
        et.attention.head_betas = Some(Param::from_tensor(tensor(u.to_vec(), [H], dev)));
        et.attention.head_mixing = Some(Param::from_tensor(tensor(m.to_vec(), [H, H], dev)));
        let mask = TokenMask::all().with_head_pairs(tensor(pairs.clone(), [B, H, N, N], dev));
        let out = et.descend(tensor(x.clone(), [B, N, D], dev), &mask, &descent, Observe::Nothing).unwrap().x;
        ((out * tensor(target.clone(), [B, N, D], dev)).sum(), et)
    };
    let (l, et) = loss(&u, &m, &ad);
    let grads = l.backward();
    let gu = to_vec(et.attention.head_betas.as_ref().unwrap().val().grad(&grads).unwrap());
    let gm = to_vec(et.attention.head_mixing.as_ref().unwrap().val().grad(&grads).unwrap());
    let h = 1e-6;
    let value = |u: &[f64], m: &[f64]| to_vec(loss(u, m, &dev).0)[0];
    // Each entry of u (part 0) and of M (part 1) moved by ±h, the other part held.
    for (part, grad) in [("u", &gu), ("M", &gm)] {
        for (i, &g) in grad.iter().enumerate() {
            let moved = |delta: f64| {
                let (mut u, mut m) = (u.clone(), m.clone());
                if part == "u" {
                    u[i] += delta
                } else {
                    m[i] += delta
                }
                value(&u, &m)
            };
            let fd = (moved(h) - moved(-h)) / (2.0 * h);
            assert!(
                (fd - g).abs() < 1e-6 * fd.abs().max(1e-2),
                "∂L/∂{part}[{i}]: autodiff {g} vs finite difference {fd}"
            );
        }
    }
    assert!(gu.iter().any(|g| g.abs() > 1e-4) && gm.iter().any(|g| g.abs() > 1e-4), "no gradient: {gu:?} {gm:?}");
}
