//! Hopfield layers (Ramsauer et al. 2020): the energy and the output equal slow f64 loops, one
//! update never raises the energy, β → ∞ with identity projections returns the nearest stored
//! pattern, pooling ignores the order and the padding of a bag, gradients match finite
//! differences, and bad sizes or settings are errors that name the value.

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};
use hopfield::layers::{Hopfield, HopfieldConfig, HopfieldPooling, Keys, Update};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().try_into_vec_as::<f64>().unwrap()
}

fn uniform(rng: &mut ChaCha8Rng, len: usize, scale: f32) -> Vec<f32> {
    (0..len).map(|_| (rng.random::<f32>() * 2.0 - 1.0) * scale).collect()
}

fn tensor<const D: usize>(v: Vec<f32>, shape: [usize; D], dev: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(v, shape), dev)
}

/// a [r, k] · b [k, c], row-major f64.
fn mm(a: &[f64], b: &[f64], r: usize, k: usize, c: usize) -> Vec<f64> {
    let mut out = vec![0.0; r * c];
    for i in 0..r {
        for j in 0..c {
            out[i * c + j] = (0..k).map(|t| a[i * k + t] * b[t * c + j]).sum();
        }
    }
    out
}

/// The energy and output of one state row q (d_K) against the valid rows of X (len × d_K) and V,
/// written from the paper's formulas with nothing shared with the library.
fn slow(q: &[f64], x: &[f64], v: &[f64], len: usize, dk: usize, dv: usize, beta: f64) -> (f64, Vec<f64>) {
    let dots: Vec<f64> = (0..len).map(|j| (0..dk).map(|t| q[t] * x[j * dk + t]).sum::<f64>()).collect();
    let sum_exp: f64 = dots.iter().map(|d| (beta * d).exp()).sum();
    let max_norm = (0..len).map(|j| (0..dk).map(|t| x[j * dk + t].powi(2)).sum::<f64>()).fold(0.0, f64::max);
    let energy =
        -sum_exp.ln() / beta + 0.5 * q.iter().map(|a| a * a).sum::<f64>() + (len as f64).ln() / beta + 0.5 * max_norm;
    let mut out = vec![0.0; dv];
    for j in 0..len {
        let p = (beta * dots[j]).exp() / sum_exp;
        for t in 0..dv {
            out[t] += p * v[j * dv + t];
        }
    }
    (energy, out)
}

#[test]
fn energy_and_output_equal_a_slow_loop() {
    let dev = Device::flex();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (b, s, m, dr, dy, dk, dv) = (3, 2, 7, 6, 5, 4, 3);
    for beta in [0.3, 1.0, 3.0] {
        let hf = HopfieldConfig::new(dr, dy, dk, dv).with_beta(beta).init(11, &dev).unwrap();
        let r = uniform(&mut rng, b * s * dr, 1.0);
        let y = uniform(&mut rng, b * m * dy, 1.0);
        let lengths = [7, 4, 1];
        let rt = tensor(r.clone(), [b, s, dr], &dev);
        let yt = tensor(y.clone(), [b, m, dy], &dev);
        let energy = to_vec(hf.energy(rt.clone(), yt.clone(), Some(&lengths)).unwrap());
        let out = to_vec(hf.forward(rt, yt, Some(&lengths)).unwrap());
        let (wq, wk, wv) = (to_vec(hf.w_q.val()), to_vec(hf.w_k.val()), to_vec(hf.w_v.val()));
        let (r, y): (Vec<f64>, Vec<f64>) =
            (r.iter().map(|&v| v as f64).collect(), y.iter().map(|&v| v as f64).collect());
        for bi in 0..b {
            let q = mm(&r[bi * s * dr..(bi + 1) * s * dr], &wq, s, dr, dk);
            let x = mm(&y[bi * m * dy..(bi + 1) * m * dy], &wk, m, dy, dk);
            let v = mm(&y[bi * m * dy..(bi + 1) * m * dy], &wv, m, dy, dv);
            for si in 0..s {
                let (e, o) = slow(&q[si * dk..(si + 1) * dk], &x, &v, lengths[bi], dk, dv, beta);
                let got = energy[bi * s + si];
                assert!((got - e).abs() < 1e-4 * (1.0 + e.abs()), "β {beta} set {bi} state {si}: energy {got} vs {e}");
                assert!(e >= 0.0, "the energy is bounded below by 0, got {e}");
                for t in 0..dv {
                    let g = out[(bi * s + si) * dv + t];
                    assert!((g - o[t]).abs() < 1e-5, "β {beta} set {bi} state {si} entry {t}: {g} vs {}", o[t]);
                }
            }
        }
    }
}

/// Energies of `q` after 0, 1, …, `steps` updates on `keys`.
fn energy_course(keys: &Keys, q: Tensor<3>, steps: usize) -> Vec<Vec<f64>> {
    let mut q = q;
    let mut course = vec![to_vec(keys.energy(q.clone()))];
    for _ in 0..steps {
        q = keys.update(q);
        course.push(to_vec(keys.energy(q.clone())));
    }
    course
}

fn assert_descends(course: &[Vec<f64>], what: &str) {
    let mut fell = 0;
    for (t, pair) in course.windows(2).enumerate() {
        for (i, (before, after)) in pair[0].iter().zip(&pair[1]).enumerate() {
            assert!(
                *after <= before + 1e-5 * (1.0 + before.abs()),
                "{what}: state {i} rose from {before} to {after} at update {}",
                t + 1
            );
            assert!(*after >= -1e-5, "{what}: energy {after} below the bound 0");
            if *after < before - 1e-6 {
                fell += 1;
            }
        }
    }
    assert!(fell > 0, "{what}: the energy never fell at all");
}

#[test]
fn one_update_never_raises_the_energy() {
    let dev = Device::flex();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for beta in [0.05, 0.5, 2.0, 10.0] {
        let cfg = HopfieldConfig::new(12, 10, 8, 6).with_beta(beta);
        // Hopfield: states and stored sets of different lengths.
        let hf = cfg.init(1, &dev).unwrap();
        let r = tensor(uniform(&mut rng, 4 * 5 * 12, 2.0), [4, 5, 12], &dev);
        let y = tensor(uniform(&mut rng, 4 * 9 * 10, 2.0), [4, 9, 10], &dev);
        let keys = hf.keys(y.clone(), Some(&[9, 3, 1, 6])).unwrap();
        let q = hf.state(r).unwrap();
        assert_descends(&energy_course(&keys, q, 15), &format!("Hopfield β {beta}"));
        // Pooling: the learned query on each bag.
        let pool = cfg.init_pooling(2, 2, &dev).unwrap();
        let keys = pool.hopfield.keys(y, Some(&[2, 9, 5, 1])).unwrap();
        let q = pool.hopfield.state(pool.queries(4)).unwrap();
        assert_descends(&energy_course(&keys, q, 15), &format!("HopfieldPooling β {beta}"));
        // Layer: states on the learned stored patterns.
        let layer = cfg.init_layer(16, 3, &dev).unwrap();
        let r = tensor(uniform(&mut rng, 2 * 7 * 12, 2.0), [2, 7, 12], &dev);
        let keys = layer.hopfield.keys(layer.stored_patterns(2), None).unwrap();
        let q = layer.hopfield.state(r).unwrap();
        assert_descends(&energy_course(&keys, q, 15), &format!("HopfieldLayer β {beta}"));
    }
}

/// `k` unit-norm patterns of dimension `d` (equal norms: the largest dot product is the nearest).
fn unit_patterns(rng: &mut ChaCha8Rng, k: usize, d: usize) -> Vec<f32> {
    let mut v = uniform(rng, k * d, 1.0);
    for row in v.chunks_mut(d) {
        let n = row.iter().map(|a| a * a).sum::<f32>().sqrt();
        row.iter_mut().for_each(|a| *a /= n);
    }
    v
}

#[test]
fn large_beta_with_identity_projections_returns_the_nearest_stored_pattern() {
    let dev = Device::flex();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let (d, k, queries) = (16, 10, 40);
    let stored = unit_patterns(&mut rng, k, d);
    let r: Vec<f32> = (0..queries)
        .flat_map(|i| {
            let base = &stored[(i % k) * d..(i % k + 1) * d];
            base.iter().map(|&a| a + (rng.random::<f32>() * 2.0 - 1.0) * 0.35).collect::<Vec<_>>()
        })
        .collect();
    // The nearest stored pattern by Euclidean distance, and its margin over the runner-up.
    let dist = |q: &[f32], j: usize| -> f32 { (0..d).map(|t| (q[t] - stored[j * d + t]).powi(2)).sum() };
    let mut worst_at = [0f64; 2];
    for (bi, beta) in [1.0, 1e4].into_iter().enumerate() {
        let eye = || Tensor::<2>::eye(d, &dev);
        let hf = Hopfield::from_weights(eye(), eye(), eye(), beta, Update::Once).unwrap();
        let out = to_vec(
            hf.forward(tensor(r.clone(), [1, queries, d], &dev), tensor(stored.clone(), [1, k, d], &dev), None)
                .unwrap(),
        );
        let mut used = 0;
        for i in 0..queries {
            let q = &r[i * d..(i + 1) * d];
            let mut order: Vec<usize> = (0..k).collect();
            order.sort_by(|&a, &b| dist(q, a).total_cmp(&dist(q, b)));
            // dot margin = half the squared-distance margin for unit patterns
            if (dist(q, order[1]) - dist(q, order[0])) / 2.0 < 5e-3 {
                continue; // a near tie: no finite β separates it
            }
            used += 1;
            let err = (0..d).map(|t| (out[i * d + t] - stored[order[0] * d + t] as f64).abs()).fold(0.0, f64::max);
            worst_at[bi] = worst_at[bi].max(err);
        }
        assert!(used >= 36, "only {used} of {queries} queries had a clear nearest pattern");
    }
    assert!(worst_at[1] < 1e-4, "β = 1e4: output differs from the nearest pattern by {}", worst_at[1]);
    assert!(worst_at[0] > 0.05, "β = 1 should blend patterns, yet the largest deviation is {}", worst_at[0]);
}

#[test]
fn converge_iterates_to_a_fixed_point() {
    let dev = Device::flex();
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let d = 12;
    let stored = unit_patterns(&mut rng, 6, d);
    let eye = || Tensor::<2>::eye(d, &dev);
    let update = Update::Converge { tolerance: 1e-6, max_steps: 200 };
    let hf = Hopfield::from_weights(eye(), eye(), eye(), 8.0, update).unwrap();
    assert_eq!(hf.update_rule(), update);
    let r = tensor(uniform(&mut rng, 5 * d, 0.5), [1, 5, d], &dev);
    let y = tensor(stored, [1, 6, d], &dev);
    let keys = hf.keys(y.clone(), None).unwrap();
    let (q, steps) = hf.retrieve(hf.state(r.clone()).unwrap(), &keys);
    assert!(steps < 200, "did not converge in 200 updates");
    let moved = to_vec(keys.update(q.clone()) - q.clone()).into_iter().fold(0.0, |a: f64, v| a.max(v.abs()));
    assert!(moved <= 2e-6, "after {steps} updates the state still moves by {moved}");
    // The output is the read-out of the fixed point (W_V = I: one more update).
    let out = to_vec(hf.forward(r, y, None).unwrap());
    for (a, b) in out.iter().zip(to_vec(keys.update(q))) {
        assert!((a - b).abs() < 1e-5);
    }
}

#[test]
fn pooling_ignores_the_order_and_the_padding_of_a_bag() {
    let dev = Device::flex();
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let (b, m, d) = (3, 6, 8);
    let pool = HopfieldConfig::new(8, d, 4, 5).with_beta(2.0).init_pooling(2, 4, &dev).unwrap();
    let lengths = [6, 3, 5];
    let y = uniform(&mut rng, b * m * d, 1.5);
    let run = |y: &[f32]| to_vec(pool.forward(tensor(y.to_vec(), [b, m, d], &dev), Some(&lengths)).unwrap());
    let energy = |y: &[f32]| to_vec(pool.energy(tensor(y.to_vec(), [b, m, d], &dev), Some(&lengths)).unwrap());
    let (base, base_e) = (run(&y), energy(&y));
    assert_eq!(base.len(), b * 2 * 5);
    for trial in 0..5 {
        let mut permuted = y.clone();
        for (bi, &len) in lengths.iter().enumerate() {
            let mut order: Vec<usize> = (0..len).collect();
            order.shuffle(&mut rng);
            for (to, &from) in order.iter().enumerate() {
                let (dst, src) = ((bi * m + to) * d, (bi * m + from) * d);
                permuted[dst..dst + d].copy_from_slice(&y[src..src + d]);
            }
            // and junk in the padding
            for row in len..m {
                for t in 0..d {
                    permuted[(bi * m + row) * d + t] = (trial as f32 + 1.0) * 100.0 * (t as f32 - 3.5);
                }
            }
        }
        for (a, c) in run(&permuted).iter().zip(&base) {
            assert!((a - c).abs() < 1e-5, "trial {trial}: pooled {a} vs {c}");
        }
        for (a, c) in energy(&permuted).iter().zip(&base_e) {
            assert!((a - c).abs() < 1e-4 * (1.0 + c.abs()), "trial {trial}: energy {a} vs {c}");
        }
    }
    // A bag's output depends on its own instances only: changing bag 0 leaves bags 1 and 2 alone.
    let mut other = y.clone();
    other[..m * d].iter_mut().for_each(|v| *v = -*v);
    let changed = run(&other);
    assert!(changed[..10].iter().zip(&base[..10]).any(|(a, c)| (a - c).abs() > 1e-3));
    assert_eq!(&changed[10..], &base[10..]);
}

/// A pooling layer with parameters from flat vectors on `dev`.
fn pooling_from(p: &[Vec<f32>; 4], dims: [usize; 5], beta: f64, dev: &Device) -> HopfieldPooling {
    let [queries, dr, dy, dk, dv] = dims;
    let hopfield = Hopfield::from_weights(
        tensor(p[1].clone(), [dr, dk], dev),
        tensor(p[2].clone(), [dy, dk], dev),
        tensor(p[3].clone(), [dy, dv], dev),
        beta,
        Update::Once,
    )
    .unwrap();
    HopfieldPooling { query: Param::from_tensor(tensor(p[0].clone(), [queries, dr], dev)), hopfield }
}

#[test]
fn pooling_gradients_match_finite_differences() {
    let dev = Device::flex().autodiff();
    let mut rng = ChaCha8Rng::seed_from_u64(31);
    let dims = [2, 5, 4, 3, 3];
    let [queries, dr, dy, dk, dv] = dims;
    let params = [
        uniform(&mut rng, queries * dr, 1.0),
        uniform(&mut rng, dr * dk, 1.0),
        uniform(&mut rng, dy * dk, 1.0),
        uniform(&mut rng, dy * dv, 1.0),
    ];
    let (b, m) = (2, 5);
    let y = uniform(&mut rng, b * m * dy, 1.0);
    let c = uniform(&mut rng, b * queries * dv, 1.0);
    let lengths = [5, 2];
    let loss = |p: &[Vec<f32>; 4]| -> Tensor<1> {
        let pool = pooling_from(p, dims, 1.5, &dev);
        let out = pool.forward(tensor(y.clone(), [b, m, dy], &dev), Some(&lengths)).unwrap();
        (out * tensor(c.clone(), [b, queries, dv], &dev)).sum()
    };
    let pool = pooling_from(&params, dims, 1.5, &dev);
    let out = pool.forward(tensor(y.clone(), [b, m, dy], &dev), Some(&lengths)).unwrap();
    let grads = (out * tensor(c.clone(), [b, queries, dv], &dev)).sum().backward();
    let analytic = [
        to_vec(pool.query.val().grad(&grads).unwrap()),
        to_vec(pool.hopfield.w_q.val().grad(&grads).unwrap()),
        to_vec(pool.hopfield.w_k.val().grad(&grads).unwrap()),
        to_vec(pool.hopfield.w_v.val().grad(&grads).unwrap()),
    ];
    let h = 1e-2f32;
    for (which, g) in analytic.iter().enumerate() {
        assert!(g.iter().any(|v| v.abs() > 1e-4), "parameter {which} got no gradient");
        for i in 0..g.len() {
            let mut plus = params.clone();
            plus[which][i] += h;
            let mut minus = params.clone();
            minus[which][i] -= h;
            let fd = (to_vec(loss(&plus))[0] - to_vec(loss(&minus))[0]) / (2.0 * h as f64);
            assert!(
                (fd - g[i]).abs() < 2e-3 * (1.0 + fd.abs()),
                "parameter {which} entry {i}: autodiff {} vs FD {fd}",
                g[i]
            );
        }
    }
}

#[test]
fn bad_sizes_and_settings_are_errors_that_name_the_value() {
    let dev = Device::flex();
    let cfg = HopfieldConfig::new(4, 3, 2, 2);
    let hf = cfg.init(0, &dev).unwrap();
    let r = Tensor::<3>::zeros([2, 1, 4], &dev);
    let y = Tensor::<3>::ones([2, 3, 3], &dev);
    let err = |e: hopfield::Error| e.to_string();
    let msg = err(hf.forward(r.clone(), y.clone(), Some(&[3, 0])).unwrap_err());
    assert!(msg.contains("0 (bag 1)") && msg.contains("at least one instance"), "{msg}");
    let msg = err(hf.forward(r.clone(), y.clone(), Some(&[3, 4])).unwrap_err());
    assert!(msg.contains("4 (bag 1)") && msg.contains("3 padded rows"), "{msg}");
    let msg = err(hf.forward(r.clone(), y.clone(), Some(&[3])).unwrap_err());
    assert!(msg.contains("lengths") && msg.contains('1'), "{msg}");
    let msg = err(hf.forward(Tensor::<3>::zeros([2, 1, 5], &dev), y.clone(), None).unwrap_err());
    assert!(msg.contains("state patterns R") && msg.contains("[2, 1, 5]"), "{msg}");
    let msg = err(hf.forward(r.clone(), Tensor::<3>::zeros([2, 3, 7], &dev), None).unwrap_err());
    assert!(msg.contains("stored patterns Y") && msg.contains("[2, 3, 7]"), "{msg}");
    let msg = err(hf.forward(r, Tensor::<3>::zeros([2, 0, 3], &dev), None).unwrap_err());
    assert!(msg.contains("stored patterns Y"), "{msg}");
    let msg = err(hf.forward(Tensor::<3>::zeros([1, 1, 4], &dev), y, None).unwrap_err());
    assert!(msg.contains("batch 1") && msg.contains('2'), "{msg}");

    for (c, name) in [
        (HopfieldConfig::new(0, 3, 2, 2), "state_dim"),
        (HopfieldConfig::new(4, 3, 0, 2), "assoc_dim"),
        (HopfieldConfig::new(4, 3, 2, 2).with_beta(0.0), "beta"),
        (HopfieldConfig::new(4, 3, 2, 2).with_beta(-1.0), "beta"),
        (HopfieldConfig::new(4, 3, 2, 2).with_beta(f64::NAN), "beta"),
        (
            HopfieldConfig::new(4, 3, 2, 2).with_update(Update::Converge { tolerance: f64::NAN, max_steps: 5 }),
            "tolerance",
        ),
        (HopfieldConfig::new(4, 3, 2, 2).with_update(Update::Converge { tolerance: 1e-3, max_steps: 0 }), "max_steps"),
    ] {
        let msg = err(c.init(0, &dev).unwrap_err());
        assert!(msg.contains(name), "{name}: {msg}");
    }
    assert!(err(cfg.init_pooling(0, 0, &dev).unwrap_err()).contains("queries"));
    assert!(err(cfg.init_layer(0, 0, &dev).unwrap_err()).contains("stored patterns"));
    let msg = err(Hopfield::from_weights(
        Tensor::zeros([4, 2], &dev),
        Tensor::zeros([3, 5], &dev),
        Tensor::zeros([3, 2], &dev),
        1.0,
        Update::Once,
    )
    .unwrap_err());
    assert!(msg.contains("W_K") && msg.contains("[3, 5]"), "{msg}");
}
