//! Tests of the continuous modern Hopfield network against DESIGN.md §2.

use hopfield::memory::{ModernHopfield, Retrieve};
use hopfield::Error;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn gaussian(rng: &mut ChaCha8Rng, len: usize, scale: f64) -> Vec<f64> {
    // Box–Muller, enough for test data.
    (0..len)
        .map(|_| {
            let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
            scale * (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
        })
        .collect()
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

#[test]
fn energy_never_increases_under_the_update() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for &beta in &[0.01, 0.1, 1.0, 8.0] {
        let (n, k, b) = (32, 50, 16);
        let net = ModernHopfield::new(gaussian(&mut rng, k * n, 1.0), n, beta).unwrap();
        let q = gaussian(&mut rng, b * n, 2.0);
        let r = net.retrieve(&q, &Retrieve { tolerance: 0.0, max_steps: 10, record_energy: true }).unwrap();
        for (qi, e) in r.energy.iter().enumerate() {
            assert!(e.len() >= 2);
            for w in e.windows(2) {
                assert!(w[1] <= w[0] + 1e-10 * w[0].abs().max(1.0), "β={beta} query {qi}: {} -> {}", w[0], w[1]);
            }
        }
        // The energy is bounded below by 0 (Ramsauer et al., Lemma A.1 with the constants).
        assert!(r.energy.iter().flatten().all(|&e| e >= -1e-9));
    }
}

/// One update from pattern `i` of `x` (K×N) plus N(0, noise²) noise: the distance to the pattern
/// after it, and Theorem 4's bound ‖f(ξ) − x_i‖ ≤ 2 ε (K−1) M with ε = (K−1) exp(−β (Δ_i − 2 r M)),
/// M = √N (±1 patterns), Δ_i = min_{j≠i} x_iᵀx_i − x_iᵀx_j, r the larger distance of the query
/// and of the fixed point from x_i.
fn one_step_error_and_bound(
    net: &ModernHopfield<f64>,
    x: &[f64],
    n: usize,
    i: usize,
    noise: f64,
    rng: &mut ChaCha8Rng,
) -> (f64, f64) {
    let (k, beta, m) = ((x.len() / n) as f64, net.beta(), (n as f64).sqrt());
    let xi = &x[i * n..(i + 1) * n];
    let q: Vec<f64> = xi.iter().zip(gaussian(rng, n, noise)).map(|(a, b)| a + b).collect();
    let one = net.update(&q).unwrap();
    let fixed = net.retrieve(&q, &Retrieve::default()).unwrap().states;
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
    let delta = (0..x.len() / n)
        .filter(|&j| j != i)
        .map(|j| dot(xi, xi) - dot(xi, &x[j * n..(j + 1) * n]))
        .fold(f64::INFINITY, f64::min);
    let dist = |v: &[f64]| norm(&v.iter().zip(xi).map(|(a, b)| a - b).collect::<Vec<_>>());
    let r = dist(&q).max(dist(&fixed));
    let eps = (k - 1.0) * (-beta * (delta - 2.0 * r * m)).exp();
    (dist(&one), 2.0 * eps * (k - 1.0) * m)
}

#[test]
fn one_step_retrieval_of_separated_patterns_is_within_the_papers_bound() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let (n, k) = (64, 20);
    let x: Vec<f64> = (0..k * n).map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 }).collect();
    let beta = 1.0;
    let net = ModernHopfield::new(x.clone(), n, beta).unwrap();
    for i in 0..k {
        let (err, bound) = one_step_error_and_bound(&net, &x, n, i, 0.2, &mut rng);
        assert!(err <= bound.max(1e-12), "pattern {i}: error {err} > bound {bound}");
        assert!(err < 1e-6, "pattern {i}: one-step error {err}");
    }
}

#[test]
fn beta_to_zero_gives_the_mean_pattern() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (n, k) = (10, 30);
    let x = gaussian(&mut rng, k * n, 1.0);
    let net = ModernHopfield::new(x.clone(), n, 1e-9).unwrap();
    let out = net.update(&gaussian(&mut rng, n, 1.0)).unwrap();
    for j in 0..n {
        let mean = (0..k).map(|mu| x[mu * n + j]).sum::<f64>() / k as f64;
        assert!((out[j] - mean).abs() < 1e-7, "entry {j}: {} vs mean {mean}", out[j]);
    }
}

#[test]
fn large_beta_gives_the_nearest_pattern() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let (n, k, b) = (20, 40, 25);
    // Equal norms, so the largest dot product is the nearest pattern.
    let x: Vec<f64> = (0..k * n).map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 }).collect();
    let net = ModernHopfield::new(x.clone(), n, 1e3).unwrap();
    let q = gaussian(&mut rng, b * n, 1.0);
    let out = net.update(&q).unwrap();
    let mut ties = 0;
    for qi in 0..b {
        let qv = &q[qi * n..(qi + 1) * n];
        let d2 = |mu: usize| x[mu * n..(mu + 1) * n].iter().zip(qv).map(|(a, b)| (a - b) * (a - b)).sum::<f64>();
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|&a, &b| d2(a).total_cmp(&d2(b)));
        let nearest = order[0];
        // β (x_1 − x_2)·q = β (d2(second) − d2(first)) / 2 ≥ 1e3 · 0.02 = 20: a clear winner.
        if d2(order[1]) - d2(nearest) < 0.04 {
            ties += 1;
            continue;
        }
        let o = &out[qi * n..(qi + 1) * n];
        let err = o.iter().zip(&x[nearest * n..(nearest + 1) * n]).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(err < 1e-6, "query {qi}: max deviation {err} from nearest pattern {nearest}");
    }
    assert!(ties <= 3, "{ties} of {b} queries had a near-tie; the test checks too little");
}

#[test]
fn f32_agrees_with_f64_and_is_stable_at_huge_beta() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (n, k, b) = (100, 300, 8);
    let x = gaussian(&mut rng, k * n, 1.0);
    let q = gaussian(&mut rng, b * n, 1.0);
    let n64 = ModernHopfield::new(x.clone(), n, 0.1).unwrap();
    let n32 = ModernHopfield::new(x.iter().map(|&v| v as f32).collect(), n, 0.1).unwrap();
    let o64 = n64.update(&q).unwrap();
    let o32 = n32.update(&q.iter().map(|&v| v as f32).collect::<Vec<_>>()).unwrap();
    for (a, b) in o64.iter().zip(&o32) {
        assert!((a - *b as f64).abs() < 1e-4, "{a} vs {b}");
    }
    // β‖x‖² ≈ 1e7: no NaN, no Inf.
    let big = ModernHopfield::new(x.iter().map(|&v| (v * 100.0) as f32).collect(), n, 1000.0).unwrap();
    let out = big.update(&q.iter().map(|&v| (v * 100.0) as f32).collect::<Vec<_>>()).unwrap();
    assert!(out.iter().all(|v| v.is_finite()));
    let e = big.energy(&out[..n]).unwrap();
    assert!(e.is_finite() && e >= 0.0, "energy {e}");
}

#[test]
fn attention_rows_are_distributions() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let net = ModernHopfield::new(gaussian(&mut rng, 50 * 16, 1.0), 16, 2.0).unwrap();
    let p = net.attention(&gaussian(&mut rng, 3 * 16, 1.0)).unwrap();
    assert_eq!(p.len(), 150);
    for row in p.chunks(50) {
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(row.iter().all(|&v| v >= 0.0));
    }
}

#[test]
fn invalid_inputs_are_errors_naming_the_value() {
    let x = vec![1.0f64, 2.0, 3.0, 4.0];
    for beta in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let e = ModernHopfield::new(x.clone(), 2, beta).unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { name: "beta", .. }), "{e}");
    }
    assert!(ModernHopfield::<f64>::new(vec![], 2, 1.0).unwrap_err().to_string().contains("at least one pattern"));
    let e = ModernHopfield::new(vec![1.0, f64::NAN], 2, 1.0).unwrap_err();
    assert!(matches!(e, Error::NonFinite { what: "patterns", index: 1, .. }), "{e}");
    assert!(e.to_string().contains("NaN"), "{e}");
    let net = ModernHopfield::new(x, 2, 1.0).unwrap();
    assert!(net.update(&[1.0, 2.0, 3.0]).unwrap_err().to_string().contains("got 3"));
    assert!(net.update(&[1.0, f64::INFINITY]).unwrap_err().to_string().contains("inf"));
    assert!(net.retrieve(&[1.0, 1.0], &Retrieve { max_steps: 0, ..Retrieve::default() }).is_err());
}

#[test]
fn batched_energies_match_the_single_state_energy() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (n, k, b) = (24, 70, 9);
    let net = ModernHopfield::new(gaussian(&mut rng, k * n, 1.5), n, 0.7).unwrap();
    let q = gaussian(&mut rng, b * n, 2.0);
    let batched = net.energies(&q).unwrap();
    for (i, e) in batched.iter().enumerate() {
        let single = net.energy(&q[i * n..(i + 1) * n]).unwrap();
        assert!((e - single).abs() < 1e-10 * single.abs().max(1.0), "state {i}: {e} vs {single}");
    }
}

/// The same bound where it says something: a small β makes the one-step error large enough to
/// measure, and the bound must hold while staying within four orders of magnitude of the error
/// (measured: error / bound 6e-4 to 7e-3; the paper's constants carry a factor 2(K−1)²M).
#[test]
fn the_one_step_bound_holds_where_the_error_is_measurable() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let (n, k) = (64, 20);
    let x: Vec<f64> = (0..k * n).map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 }).collect();
    for beta in [0.25, 0.4] {
        let net = ModernHopfield::new(x.clone(), n, beta).unwrap();
        let mut ratios = Vec::new();
        for i in 0..k {
            let (err, bound) = one_step_error_and_bound(&net, &x, n, i, 0.02, &mut rng);
            assert!(err <= bound, "β = {beta}, pattern {i}: error {err} > bound {bound}");
            ratios.push(err / bound);
        }
        ratios.sort_by(f64::total_cmp);
        let median = ratios[k / 2];
        eprintln!("β = {beta}: error / bound from {:.1e} to {:.1e}, median {median:.1e}", ratios[0], ratios[k - 1]);
        assert!(median > 1e-4, "β = {beta}: the bound is {:.0e} times the error", 1.0 / median);
    }
}

/// The retrieval as burn tensors (what runs on a GPU) against the host arrays, here on the CPU
/// backend: the same iterations per query, states and energies to f32 rounding.
#[test]
fn retrieval_on_a_device_agrees_with_the_host_arrays() {
    let dev = burn::tensor::Device::flex();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for &(beta, tolerance) in &[(0.5, 1e-4), (0.02, 1e-3), (4.0, 1e-5), (20.0, 0.0)] {
        let (n, k, b) = (48, 40, 12);
        let x: Vec<f32> = gaussian(&mut rng, k * n, 1.0).into_iter().map(|v| v as f32).collect();
        // Queries near stored patterns (they converge at different steps) and far from them.
        let mut q = Vec::with_capacity(b * n);
        for i in 0..b {
            let noise = gaussian(&mut rng, n, if i < 8 { 0.3 } else { 2.0 });
            q.extend((0..n).map(|j| if i < 8 { x[i * n + j] + noise[j] as f32 } else { noise[j] as f32 }));
        }
        let net = ModernHopfield::new(x, n, beta).unwrap();
        let opts = Retrieve { tolerance, max_steps: 25, record_energy: true };
        let (host, device) = (net.retrieve(&q, &opts).unwrap(), net.retrieve_on(&q, &opts, &dev).unwrap());
        assert_eq!(device.iterations, host.iterations, "β={beta}");
        assert_eq!(device.converged, host.converged, "β={beta}");
        let worst = host.states.iter().zip(&device.states).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst < 1e-5, "β={beta}: states differ by {worst}");
        for (qi, (h, d)) in host.energy.iter().zip(&device.energy).enumerate() {
            assert_eq!(h.len(), d.len(), "β={beta} query {qi}: energies recorded");
            for (a, b) in h.iter().zip(d) {
                assert!((a - b).abs() <= 1e-4 * a.abs().max(1.0), "β={beta} query {qi}: energy {a} vs {b}");
            }
        }
        assert!(host.iterations.iter().any(|&i| i < opts.max_steps), "β={beta}: some query converges");
    }
    let net = ModernHopfield::new(vec![1.0f32, 2.0, 3.0, 4.0], 2, 1.0).unwrap();
    assert!(net.retrieve_on(&[1.0, 2.0, 3.0], &Retrieve::default(), &dev).unwrap_err().to_string().contains("got 3"));
    assert!(net.retrieve_on(&[1.0, f32::NAN], &Retrieve::default(), &dev).is_err());
    let e = net.retrieve_on(&[1.0, 1.0], &Retrieve { tolerance: -1.0, ..Retrieve::default() }, &dev).unwrap_err();
    assert!(e.to_string().contains("tolerance"), "{e}");
}
