//! The memories of 2023–2025 against references written from the papers' formulas, not calling the
//! code under test: the sparse transforms (KKT conditions, brute-force sparsemax, the conjugate as a
//! maximum), exact one-step retrieval past the margin bound, the log-sum-ReLU energy's gradient,
//! fixed points and minima (brute force over every subset), and the random-feature DAM's kernel,
//! gradient and constant size.

use hopfield::memory::{
    descend, Energy, GaussianDam, LogSumRelu, ModernHopfield, RandomFeatureDam, Retrieve, Transform,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

fn uniform(r: &mut ChaCha8Rng, n: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..n).map(|_| lo + (hi - lo) * r.random::<f64>()).collect()
}

const TRANSFORMS: [Transform; 5] = [
    Transform::Softmax,
    Transform::Entmax { alpha: 1.25 },
    Transform::Entmax { alpha: 1.5 },
    Transform::SPARSEMAX,
    Transform::Normmax,
];

/// ∂Ω/∂p_i of each regulariser, written from its definition.
fn omega_derivative(t: Transform, p: f64) -> f64 {
    match t {
        Transform::Softmax => p.ln() + 1.0,
        Transform::Entmax { alpha } => p.powf(alpha - 1.0) / (alpha - 1.0),
        Transform::Normmax => unreachable!("normmax's derivative depends on the whole vector"),
    }
}

#[test]
fn each_transform_satisfies_the_optimality_conditions_of_its_regularised_argmax() {
    let mut r = rng(1);
    for trial in 0..200 {
        let k = 2 + trial % 9;
        let z = uniform(&mut r, k, -3.0, 3.0);
        for t in TRANSFORMS {
            let mut p = vec![0.0; k];
            let conj = t.apply(&z, &mut p);
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12 && p.iter().all(|&v| v >= 0.0), "{t}: {p:?}");
            // Stationarity on the support: z_i − ∂Ω/∂p_i is one constant τ; off the support it is ≤ τ.
            let stationary = |i: usize| match t {
                Transform::Normmax => z[i] - p[i] / p.iter().map(|v| v * v).sum::<f64>().sqrt(),
                _ => z[i] - omega_derivative(t, p[i]),
            };
            let support: Vec<usize> = (0..k).filter(|&i| p[i] > 1e-12).collect();
            let tau = stationary(support[0]);
            for &i in &support {
                assert!((stationary(i) - tau).abs() < 1e-7, "{t} z = {z:?}: entry {i} off the common τ");
            }
            if !matches!(t, Transform::Softmax) {
                for i in (0..k).filter(|i| !support.contains(i)) {
                    let at_zero = match t {
                        Transform::Normmax => z[i],
                        _ => z[i] - omega_derivative(t, 0.0),
                    };
                    assert!(at_zero <= tau + 1e-7, "{t}: entry {i} outside the support would gain");
                }
            }
            // Ω*(z) is the maximum of p·z − Ω(p) over the simplex: no random point does better.
            for _ in 0..20 {
                let mut q: Vec<f64> = (0..k).map(|_| -r.random::<f64>().max(1e-300).ln()).collect();
                let s: f64 = q.iter().sum();
                q.iter_mut().for_each(|v| *v /= s);
                let value = q.iter().zip(&z).map(|(a, b)| a * b).sum::<f64>() - t.regulariser(&q);
                assert!(value <= conj + 1e-9, "{t}: a random point beats the conjugate");
            }
        }
    }
}

#[test]
fn sparsemax_is_the_euclidean_projection_found_by_trying_every_support() {
    let mut r = rng(2);
    for _ in 0..300 {
        let k = 1 + r.random_range(0..6);
        let z = uniform(&mut r, k, -2.0, 2.0);
        // Brute force: for every support S, p_S = z_S − τ_S with τ_S = (Σ z_S − 1)/|S|; keep the
        // feasible one nearest to z.
        let mut best: Option<(f64, Vec<f64>)> = None;
        for mask in 1u32..(1 << k) {
            let s: Vec<usize> = (0..k).filter(|i| mask & (1 << i) != 0).collect();
            let tau = (s.iter().map(|&i| z[i]).sum::<f64>() - 1.0) / s.len() as f64;
            let p: Vec<f64> = (0..k).map(|i| if s.contains(&i) { z[i] - tau } else { 0.0 }).collect();
            if p.iter().any(|&v| v < -1e-12) {
                continue;
            }
            let d: f64 = p.iter().zip(&z).map(|(a, b)| (a - b) * (a - b)).sum();
            if best.as_ref().is_none_or(|(bd, _)| d < *bd) {
                best = Some((d, p));
            }
        }
        let mut p = vec![0.0; k];
        Transform::SPARSEMAX.apply(&z, &mut p);
        for (a, b) in p.iter().zip(&best.unwrap().1) {
            assert!((a - b).abs() < 1e-12, "z = {z:?}: {p:?}");
        }
    }
}

#[test]
fn the_gradient_of_the_conjugate_is_the_transform() {
    let mut r = rng(3);
    for t in TRANSFORMS {
        for _ in 0..20 {
            let z = uniform(&mut r, 6, -2.0, 2.0);
            let mut p = vec![0.0; 6];
            t.apply(&z, &mut p);
            let h = 1e-6;
            for i in 0..6 {
                let (mut zp, mut zm) = (z.clone(), z.clone());
                zp[i] += h;
                zm[i] -= h;
                let mut scratch = vec![0.0; 6];
                let fd = (t.apply(&zp, &mut scratch) - t.apply(&zm, &mut scratch)) / (2.0 * h);
                assert!((fd - p[i]).abs() < 1e-6, "{t}: ∂Ω*/∂z_{i} = {fd} vs {}", p[i]);
            }
        }
    }
}

#[test]
fn alpha_outside_one_to_two_is_refused_with_its_value() {
    for alpha in [0.5, 2.5, f64::NAN] {
        let e = Transform::Entmax { alpha }.validate().unwrap_err().to_string();
        assert!(e.contains("alpha") && e.contains(&alpha.to_string()), "{e}");
        let net = ModernHopfield::new(vec![1.0f64, -1.0], 2, 1.0).unwrap();
        assert!(net.with_transform(Transform::Entmax { alpha }).is_err());
    }
}

/// K random ±1 patterns of N and a query: pattern 0 with `flips` entries negated.
fn sparse_setup(n: usize, k: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut r = rng(seed);
    let patterns: Vec<f64> = (0..n * k).map(|_| if r.random::<bool>() { 1.0 } else { -1.0 }).collect();
    let mut q = patterns[..n].to_vec();
    for v in q.iter_mut().take(n / 10) {
        *v = -*v;
    }
    (patterns, q)
}

#[test]
fn past_the_margin_bound_one_sparse_update_lands_exactly_on_the_pattern_and_softmax_does_not() {
    let (n, k) = (100, 20);
    let (patterns, q) = sparse_setup(n, k, 4);
    // The margin of the query in pattern units: x_0·q − max_{ν≠0} x_ν·q.
    let scores: Vec<f64> = patterns.chunks(n).map(|p| p.iter().zip(&q).map(|(a, b)| a * b).sum()).collect();
    let margin = scores[0] - scores[1..].iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert!(margin > 10.0, "the setup needs a clear margin: {margin}");
    for t in TRANSFORMS {
        // β·margin just above and just below the transform's bound.
        let Some(bound) = t.exact_margin() else {
            let net = ModernHopfield::new(patterns.clone(), n, 1.0 / margin).unwrap();
            let out = net.update(&q).unwrap();
            let err: f64 = out.iter().zip(&patterns[..n]).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            assert!(err > 1e-6, "softmax keeps a residual at β·margin = 1: {err}");
            continue;
        };
        let above = ModernHopfield::new(patterns.clone(), n, 1.01 * bound / margin).unwrap().with_transform(t).unwrap();
        let out = above.update(&q).unwrap();
        assert_eq!(&out, &patterns[..n], "{t}: one update past the bound is the pattern exactly");
        assert_eq!(above.update(&out).unwrap(), out, "{t}: and a fixed point");
        let below = ModernHopfield::new(patterns.clone(), n, 0.9 * bound / margin).unwrap().with_transform(t).unwrap();
        let out = below.update(&q).unwrap();
        assert_ne!(&out, &patterns[..n], "{t}: below the bound another pattern shares the weight");
    }
}

#[test]
fn no_transform_raises_the_energy_along_its_retrieval() {
    let (n, k) = (64, 40);
    let (patterns, _) = sparse_setup(n, k, 5);
    let mut r = rng(6);
    let queries = uniform(&mut r, 8 * n, -1.0, 1.0);
    for t in TRANSFORMS {
        for beta in [0.05, 0.2, 1.0] {
            let net = ModernHopfield::new(patterns.clone(), n, beta).unwrap().with_transform(t).unwrap();
            let out = net.retrieve(&queries, &Retrieve { tolerance: 0.0, max_steps: 12, record_energy: true }).unwrap();
            for trace in &out.energy {
                for w in trace.windows(2) {
                    assert!(w[1] <= w[0] + 1e-9 * w[0].abs().max(1.0), "{t} β = {beta}: {trace:?}");
                }
            }
            // The energy of a state from its formula: −β⁻¹(Ω*(βXξ) − Ω*(0)) + ½ξᵀξ + ½M².
            let s = &queries[..n];
            let z: Vec<f64> =
                patterns.chunks(n).map(|p| beta * p.iter().zip(s).map(|(a, b)| a * b).sum::<f64>()).collect();
            let mut scratch = vec![0.0; k];
            let omega_star = t.apply(&z, &mut scratch) - t.apply(&vec![0.0; k], &mut scratch);
            let direct = -omega_star / beta + 0.5 * s.iter().map(|v| v * v).sum::<f64>() + 0.5 * n as f64;
            let e = net.energy(s).unwrap();
            assert!((e - direct).abs() < 1e-9 * direct.abs().max(1.0), "{t}: {e} vs {direct}");
        }
    }
}

// ---------------------------------------------------------------- log-sum-ReLU (Epanechnikov)

fn lsr_energy_direct(patterns: &[f64], n: usize, beta: f64, eps: f64, x: &[f64]) -> f64 {
    let f: f64 = patterns
        .chunks(n)
        .map(|p| (1.0 - 0.5 * beta * p.iter().zip(x).map(|(a, b)| (a - b) * (a - b)).sum::<f64>()).max(0.0))
        .sum();
    -(eps + f).ln() / beta
}

#[test]
fn the_log_sum_relu_gradient_matches_finite_differences_of_the_formula() {
    let mut r = rng(7);
    let (n, k) = (5, 12);
    let patterns = uniform(&mut r, n * k, 0.0, 1.0);
    let mem = LogSumRelu::with_width(patterns.clone(), n, 0.6, 1e-3).unwrap();
    let mut checked = 0;
    for _ in 0..200 {
        let x = uniform(&mut r, n, 0.0, 1.0);
        let e = mem.energy(&x).unwrap();
        assert!((e - lsr_energy_direct(&patterns, n, mem.beta(), 1e-3, &x)).abs() < 1e-12);
        let g = mem.gradient(&x).unwrap();
        let h = 1e-6;
        let fd: Vec<f64> = (0..n)
            .map(|i| {
                let (mut a, mut b) = (x.clone(), x.clone());
                a[i] += h;
                b[i] -= h;
                (lsr_energy_direct(&patterns, n, mem.beta(), 1e-3, &a)
                    - lsr_energy_direct(&patterns, n, mem.beta(), 1e-3, &b))
                    / (2.0 * h)
            })
            .collect();
        // Skip points within h of a kernel's edge, where the energy has a kink.
        let near_edge = patterns.chunks(n).any(|p| {
            let d = p.iter().zip(&x).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
            (d - mem.width()).abs() < 1e-4
        });
        if !near_edge {
            checked += 1;
            for (a, b) in g.iter().zip(&fd) {
                assert!((a - b).abs() < 1e-5 * b.abs().max(1.0), "{g:?} vs {fd:?}");
            }
        }
    }
    assert!(checked > 150);
}

#[test]
fn separated_patterns_are_exact_fixed_points_and_the_update_never_raises_the_energy() {
    let mut r = rng(8);
    let (n, k) = (8, 30);
    let patterns = uniform(&mut r, n * k, 0.0, 1.0);
    let min_dist = (0..k)
        .flat_map(|a| (a + 1..k).map(move |b| (a, b)))
        .map(|(a, b)| {
            patterns[a * n..(a + 1) * n]
                .iter()
                .zip(&patterns[b * n..(b + 1) * n])
                .map(|(x, y)| (x - y) * (x - y))
                .sum::<f64>()
                .sqrt()
        })
        .fold(f64::INFINITY, f64::min);
    // Kernels narrower than the closest pair: every pattern is retrieved exactly from itself and
    // from a cue nearer to it than to any other.
    let mem = LogSumRelu::with_width(patterns.clone(), n, 0.99 * min_dist, 0.0).unwrap();
    for mu in 0..k {
        let p = &patterns[mu * n..(mu + 1) * n];
        assert_eq!(mem.update(p).unwrap(), p, "pattern {mu}");
        let cue: Vec<f64> =
            p.iter().map(|v| v + 0.2 * min_dist / (n as f64).sqrt() * (r.random::<f64>() - 0.5)).collect();
        let out = mem.retrieve(&cue, 10).unwrap();
        assert_eq!(out.state, p, "pattern {mu} from a cue");
        assert_eq!(out.members, vec![mu]);
    }
    // Wide kernels: the energy along any retrieval is non-increasing and the end is a fixed point.
    let wide = LogSumRelu::with_width(patterns.clone(), n, 1.2, 1e-6).unwrap();
    for _ in 0..100 {
        let out = wide.retrieve(&uniform(&mut r, n, 0.0, 1.0), 100).unwrap();
        for w in out.energy.windows(2) {
            assert!(w[1] <= w[0] + 1e-12, "{:?}", out.energy);
        }
        if !out.members.is_empty() {
            assert_eq!(wide.update(&out.state).unwrap(), out.state);
        }
    }
}

#[test]
fn the_enumerated_minima_are_exactly_the_centroids_where_the_gradient_vanishes() {
    let mut r = rng(9);
    let (n, k) = (3, 11);
    for width in [0.25, 0.45, 0.7] {
        let patterns = uniform(&mut r, n * k, 0.0, 1.0);
        let mem = LogSumRelu::with_width(patterns.clone(), n, width, 0.0).unwrap();
        let minima = mem.local_minima().unwrap();
        // Brute force over all 2^K − 1 subsets: the centroid is a minimum when its energy is finite
        // and the formula's gradient (patterns within the width only) is zero there.
        let mut brute = Vec::new();
        for mask in 1u32..(1 << k) {
            let s: Vec<usize> = (0..k).filter(|i| mask & (1 << i) != 0).collect();
            let c: Vec<f64> =
                (0..n).map(|j| s.iter().map(|&m| patterns[m * n + j]).sum::<f64>() / s.len() as f64).collect();
            let mut grad = vec![0.0; n];
            let mut active = 0;
            for p in patterns.chunks(n) {
                let d2: f64 = p.iter().zip(&c).map(|(a, b)| (a - b) * (a - b)).sum();
                if d2 < width * width {
                    active += 1;
                    grad.iter_mut().zip(p.iter().zip(&c)).for_each(|(g, (a, b))| *g += b - a);
                }
            }
            if active > 0 && grad.iter().all(|g| g.abs() < 1e-12) {
                brute.push(s);
            }
        }
        let found: Vec<Vec<usize>> = minima.iter().map(|m| m.members.clone()).collect();
        brute.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
        assert_eq!(found, brute, "width {width}");
        // Retrievals from random starts end on one of them.
        for _ in 0..200 {
            let out = mem.retrieve(&uniform(&mut r, n, 0.0, 1.0), 100).unwrap();
            if !out.members.is_empty() {
                assert!(found.contains(&out.members), "width {width}: {:?}", out.members);
            }
        }
    }
}

#[test]
fn a_zero_or_negative_width_and_a_negative_floor_are_refused_by_value() {
    for width in [0.0, -1.0, f64::INFINITY] {
        let e = LogSumRelu::with_width(vec![0.0, 1.0], 2, width, 0.0).unwrap_err().to_string();
        assert!(e.contains("width") && e.contains(&width.to_string()), "{e}");
    }
    let e = LogSumRelu::new(vec![0.0, 1.0], 2, 1.0, -0.5).unwrap_err().to_string();
    assert!(e.contains("eps") && e.contains("-0.5"), "{e}");
}

// ---------------------------------------------------------------- random features (DrDAM)

#[test]
fn the_random_feature_kernel_converges_like_one_over_root_y() {
    let mut r = rng(10);
    let n = 8;
    let (x, y) = (uniform(&mut r, n, -0.5, 0.5), uniform(&mut r, n, -0.5, 0.5));
    let beta = 1.0;
    let exact = (-0.5 * beta * x.iter().zip(&y).map(|(a, b)| (a - b) * (a - b)).sum::<f64>()).exp();
    let mut errors = Vec::new();
    for features in [16, 256, 4096] {
        // Mean absolute error over 40 draws of the frequencies.
        let err: f64 = (0..40)
            .map(|seed| {
                let mut m = RandomFeatureDam::new(n, features, beta, seed).unwrap();
                m.store(&y).unwrap();
                (m.similarity(&x).unwrap() - exact).abs()
            })
            .sum::<f64>()
            / 40.0;
        errors.push(err);
    }
    // 16× the features: the error falls by about 4 (√16); allow 2.5–6.5.
    for w in errors.windows(2) {
        let ratio = w[0] / w[1];
        assert!((2.5..6.5).contains(&ratio), "errors {errors:?}");
    }
}

fn fd_check(e: &impl Energy, x: &[f64], tol: f64) {
    let (_, g) = e.energy_and_gradient(x);
    let h = 1e-6;
    for i in 0..x.len() {
        let (mut a, mut b) = (x.to_vec(), x.to_vec());
        a[i] += h;
        b[i] -= h;
        let fd = (e.energy_and_gradient(&a).0 - e.energy_and_gradient(&b).0) / (2.0 * h);
        assert!((fd - g[i]).abs() < tol * fd.abs().max(1.0), "entry {i}: {fd} vs {}", g[i]);
    }
}

#[test]
fn both_dams_gradients_match_finite_differences_and_the_exact_energy_its_formula() {
    let mut r = rng(11);
    let (n, k, beta) = (6, 9, 2.0);
    let patterns = uniform(&mut r, n * k, -1.0, 1.0);
    let exact = GaussianDam::new(patterns.clone(), n, beta).unwrap();
    let mut approx = RandomFeatureDam::new(n, 2000, beta, 3).unwrap();
    approx.store(&patterns).unwrap();
    for _ in 0..10 {
        let x = uniform(&mut r, n, -1.0, 1.0);
        fd_check(&exact, &x, 1e-6);
        fd_check(&approx, &x, 1e-5);
        let sum: f64 = patterns
            .chunks(n)
            .map(|p| (-0.5 * beta * p.iter().zip(&x).map(|(a, b)| (a - b) * (a - b)).sum::<f64>()).exp())
            .sum();
        let (e, _) = exact.energy_and_gradient(&x);
        assert!((e - (-sum.ln() / beta)).abs() < 1e-12);
    }
    // Descent lowers the exact energy.
    let out = descend(&exact, &uniform(&mut r, n, -1.0, 1.0), 50, 0.1).unwrap();
    assert!(out.energy.windows(2).all(|w| w[1] <= w[0] + 1e-12), "{:?}", out.energy);
}

#[test]
fn storing_memories_does_not_add_parameters_and_y_zero_is_refused() {
    let mut m = RandomFeatureDam::new(10, 64, 1.0, 0).unwrap();
    let before = m.parameters();
    let mut r = rng(12);
    for _ in 0..5 {
        m.store(&uniform(&mut r, 10 * 100, -1.0, 1.0)).unwrap();
        assert_eq!(m.parameters(), before);
    }
    assert_eq!(m.stored(), 500);
    assert_eq!(before, 64 * 10 + 2 * 64);
    let e = RandomFeatureDam::new(10, 0, 1.0, 0).unwrap_err().to_string();
    assert!(e.contains("features") && e.contains('0'), "{e}");
    assert!(m.store(&[1.0, 2.0, 3.0]).is_err(), "a ragged pattern");
    assert!(m.store(&[f64::NAN; 10]).is_err(), "a NaN pattern");
}
