//! Tests of the binary Dense Associative Memory against the definitions in DESIGN.md §1.

use hopfield::memory::{DenseMemory, Dynamics, Separation, UpdateRule};
use hopfield::Error;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random_patterns(rng: &mut ChaCha8Rng, k: usize, n: usize) -> Vec<i8> {
    (0..k * n).map(|_| if rng.random::<bool>() { 1 } else { -1 }).collect()
}

fn flip(rng: &mut ChaCha8Rng, p: &[i8], frac: f64) -> Vec<i8> {
    let mut s = p.to_vec();
    let mut idx: Vec<usize> = (0..p.len()).collect();
    rand::seq::SliceRandom::shuffle(&mut idx[..], rng);
    for &i in idx.iter().take((frac * p.len() as f64).round() as usize) {
        s[i] = -s[i];
    }
    s
}

fn overlap(a: &[i8], b: &[i8]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| (x * y) as f64).sum::<f64>() / a.len() as f64
}

const ALL: [Separation; 6] = [
    Separation::Classical,
    Separation::Polynomial { n: 2 },
    Separation::Polynomial { n: 3 },
    Separation::RectifiedPolynomial { n: 4 },
    Separation::RectifiedPolynomial { n: 20 },
    Separation::Exponential,
];

/// Naive E(σ) = −Σ_μ F(ξ^μ·σ) with the unscaled F (small N only).
fn naive_energy(mem: &DenseMemory, state: &[i8]) -> f64 {
    (0..mem.memories())
        .map(|mu| {
            let m: i32 = mem.pattern(mu).iter().zip(state).map(|(&x, &s)| (x * s) as i32).sum();
            -mem.separation().f(m as f64)
        })
        .sum()
}

#[test]
fn energy_matches_naive_definition_up_to_the_documented_scale() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let n = 24;
    for sep in ALL {
        let mem = DenseMemory::new(&random_patterns(&mut rng, 7, n), n, sep).unwrap();
        let s = random_patterns(&mut rng, 1, n);
        let scale = match sep {
            Separation::Exponential => (n as f64).exp(),
            _ => sep.f(n as f64),
        };
        let got = mem.energy(&s).unwrap() * scale;
        let want = naive_energy(&mem, &s);
        assert!((got - want).abs() <= 1e-9 * want.abs().max(1.0), "{sep}: {got} vs {want}");
    }
}

#[test]
fn neuron_update_picks_the_lower_naive_energy() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let n = 16;
    for sep in ALL {
        let mem = DenseMemory::new(&random_patterns(&mut rng, 9, n), n, sep).unwrap();
        for _ in 0..20 {
            let s = random_patterns(&mut rng, 1, n);
            let m = mem.overlaps(&s).unwrap();
            for i in 0..n {
                let v = mem.neuron_update(i, &s, &m);
                let (mut up, mut down) = (s.clone(), s.clone());
                up[i] = 1;
                down[i] = -1;
                let (eu, ed) = (naive_energy(&mem, &up), naive_energy(&mem, &down));
                let want = if eu < ed {
                    1
                } else if ed < eu {
                    -1
                } else {
                    s[i]
                };
                assert_eq!(v, want, "{sep}, neuron {i}: E(+1) = {eu}, E(-1) = {ed}");
            }
        }
    }
}

#[test]
fn energy_never_increases_along_asynchronous_trajectories() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for sep in ALL {
        for &(n, k) in &[(50usize, 20usize), (200, 60), (784, 40)] {
            let mem = DenseMemory::new(&random_patterns(&mut rng, k, n), n, sep).unwrap();
            for _ in 0..3 {
                let mut s = random_patterns(&mut rng, 1, n);
                let dynamics = Dynamics { rule: UpdateRule::Asynchronous, max_sweeps: 300, record_every: 1 };
                let t = mem.run(&mut s, &dynamics, &mut rng).unwrap();
                assert!(t.energy.len() > n, "{sep}: recorded every update");
                for w in t.energy.windows(2) {
                    let tol = 1e-12 * w[0].1.abs().max(1e-300);
                    assert!(w[1].1 <= w[0].1 + tol, "{sep} N={n} K={k}: energy rose {} -> {}", w[0].1, w[1].1);
                }
                // The final energy recorded is the energy of the final state.
                let e = mem.energy(&s).unwrap();
                assert!((t.energy.last().unwrap().1 - e).abs() <= 1e-12 * e.abs().max(1e-300));
                assert!(t.converged, "{sep} N={n} K={k}: did not converge in 300 sweeps");
            }
        }
    }
}

#[test]
fn stored_patterns_are_fixed_points_below_capacity() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let cases = [
        (Separation::Classical, 500, 10),
        (Separation::Polynomial { n: 3 }, 100, 150),
        (Separation::RectifiedPolynomial { n: 4 }, 100, 400),
        (Separation::Exponential, 784, 2000),
    ];
    for (sep, n, k) in cases {
        let pats = random_patterns(&mut rng, k, n);
        let mem = DenseMemory::new(&pats, n, sep).unwrap();
        for mu in (0..k).step_by((k / 10).max(1)) {
            let mut s = pats[mu * n..(mu + 1) * n].to_vec();
            let t = mem.run(&mut s, &Dynamics::default(), &mut rng).unwrap();
            assert_eq!(t.flips, 0, "{sep} N={n} K={k}: pattern {mu} is not a fixed point");
            assert!(t.converged && t.sweeps == 1);
        }
    }
}

#[test]
fn retrieval_from_20_percent_flips_where_theory_says_it_succeeds() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    // Classical at K/N = 0.02, far below 0.138; dense nets far above the classical capacity.
    let cases = [
        (Separation::Classical, 500, 10),
        (Separation::Polynomial { n: 3 }, 100, 100),
        (Separation::RectifiedPolynomial { n: 4 }, 100, 300),
        (Separation::Exponential, 100, 1000),
    ];
    for (sep, n, k) in cases {
        let pats = random_patterns(&mut rng, k, n);
        let mem = DenseMemory::new(&pats, n, sep).unwrap();
        let mut exact = 0;
        let trials = 20;
        for t in 0..trials {
            let mu = (t * 7919) % k;
            let p = &pats[mu * n..(mu + 1) * n];
            let mut s = flip(&mut rng, p, 0.2);
            mem.run(&mut s, &Dynamics::default(), &mut rng).unwrap();
            exact += (s == p) as usize;
        }
        assert_eq!(exact, trials, "{sep} N={n} K={k}: {exact}/{trials} retrieved exactly");
    }
}

#[test]
fn classical_net_fails_above_its_capacity_while_a_dense_one_succeeds() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let (n, k) = (400, 120); // K/N = 0.3, more than twice the classical capacity 0.138 N
    let pats = random_patterns(&mut rng, k, n);
    let classical = DenseMemory::new(&pats, n, Separation::Classical).unwrap();
    let dense = DenseMemory::new(&pats, n, Separation::Polynomial { n: 3 }).unwrap();
    let (mut oc, mut exact) = (0.0, 0);
    let trials = 10;
    for t in 0..trials {
        let p = &pats[t * n..(t + 1) * n];
        let cue = flip(&mut rng, p, 0.2);
        let (mut a, mut b) = (cue.clone(), cue);
        classical.run(&mut a, &Dynamics::default(), &mut rng).unwrap();
        dense.run(&mut b, &Dynamics::default(), &mut rng).unwrap();
        oc += overlap(&a, p) / trials as f64;
        exact += (b == p) as usize;
    }
    // Above capacity the classical retrieval state is gone: the net ends far from the pattern.
    assert!(oc < 0.6, "classical mean overlap {oc} at K/N = 0.3");
    assert_eq!(exact, trials, "polynomial n = 3 retrieved {exact}/{trials} exactly");
}

#[test]
fn synchronous_rule_retrieves_and_records_per_sweep() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (n, k) = (300, 10);
    let pats = random_patterns(&mut rng, k, n);
    let mem = DenseMemory::new(&pats, n, Separation::Classical).unwrap();
    let mut s = flip(&mut rng, &pats[..n], 0.15);
    let d = Dynamics { rule: UpdateRule::Synchronous, max_sweeps: 20, record_every: 1 };
    let t = mem.run(&mut s, &d, &mut rng).unwrap();
    assert_eq!(&s[..], &pats[..n]);
    assert!(t.converged);
    assert_eq!(t.energy.len(), t.sweeps + 1);
}

#[test]
fn runs_are_repeatable_with_the_same_seed() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let (n, k) = (200, 40);
    let pats = random_patterns(&mut rng, k, n);
    let mem = DenseMemory::new(&pats, n, Separation::Classical).unwrap();
    let cue = random_patterns(&mut rng, 1, n);
    let run = |seed| {
        let mut s = cue.clone();
        let t = mem.run(&mut s, &Dynamics::default(), &mut ChaCha8Rng::seed_from_u64(seed)).unwrap();
        (s, t)
    };
    assert_eq!(run(11), run(11));
}

#[test]
fn invalid_inputs_are_errors_naming_the_value() {
    let p = vec![1i8, -1, 1, 1];
    let e = DenseMemory::new(&p, 4, Separation::Polynomial { n: 1 }).unwrap_err();
    assert!(e.to_string().contains("n = 1"), "{e}");
    let e = DenseMemory::new(&p, 4, Separation::RectifiedPolynomial { n: 0 }).unwrap_err();
    assert!(matches!(e, Error::InvalidParameter { name: "n", .. }));
    assert!(DenseMemory::new(&[], 4, Separation::Classical).unwrap_err().to_string().contains("at least one pattern"));
    assert!(DenseMemory::new(&p, 3, Separation::Classical).unwrap_err().to_string().contains("multiple of N = 3"));
    assert!(DenseMemory::new(&p, 0, Separation::Classical).is_err());
    let e = DenseMemory::new(&[1, 0, 1, 1], 4, Separation::Classical).unwrap_err();
    assert!(e.to_string().contains("0 at index 1"), "{e}");
    let mem = DenseMemory::new(&p, 4, Separation::Classical).unwrap();
    assert!(mem.energy(&[1, 1, 1]).unwrap_err().to_string().contains("expected 4, got 3"));
    let mut s = vec![1i8, 1, 1, 1];
    let d = Dynamics { max_sweeps: 0, ..Dynamics::default() };
    assert!(mem.run(&mut s, &d, &mut ChaCha8Rng::seed_from_u64(0)).is_err());
}

/// The case that tells the two update rules apart: one pattern ξ = (1, 1) and the state (1, −1).
/// Updated together, both neurons flip every sweep — (1, −1) ↔ (−1, 1), a two-state cycle that
/// never converges; updated one at a time, the first flip lands on ξ or −ξ, a fixed point.
#[test]
fn synchronous_updates_oscillate_where_asynchronous_ones_converge() {
    let memory = DenseMemory::new(&[1, 1], 2, Separation::Classical).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let sync = Dynamics { rule: UpdateRule::Synchronous, max_sweeps: 7, record_every: 0 };
    let mut state = vec![1i8, -1];
    let t = memory.run(&mut state, &sync, &mut rng).unwrap();
    assert!(!t.converged && t.sweeps == 7 && t.flips == 14, "{t:?}");
    assert_eq!(state, [-1, 1], "after an odd number of synchronous sweeps");
    for seed in 0..8 {
        let mut state = vec![1i8, -1];
        let t = memory.run(&mut state, &Dynamics::default(), &mut ChaCha8Rng::seed_from_u64(seed)).unwrap();
        assert!(t.converged && t.flips == 1, "seed {seed}: {t:?}");
        assert!(state == [1, 1] || state == [-1, -1], "seed {seed}: {state:?}");
    }
}

/// log Σ exp(x) of integers, stably.
fn lse(x: &[i32]) -> f64 {
    let max = *x.iter().max().unwrap() as f64;
    max + x.iter().map(|&v| (v as f64 - max).exp()).sum::<f64>().ln()
}

/// The exponential memory's update where every term underflows (all local fields far below
/// −600, N = 784): the direct path against an independent log-space reference — the sign of
/// Σ_μ ξ^μ_i e^{s_μ} from the log-sum-exp of its positive and of its negative terms.
#[test]
fn exponential_updates_far_from_every_pattern_match_a_log_space_reference() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let n = 784;
    let base = random_patterns(&mut rng, 1, n);
    // Forty patterns equal to `base` but for 20–40 bits flipped among its first 80 neurons, and the
    // state −base: every overlap lies between −744 and −704, so every term e^{s} is below e^-600,
    // and on those 80 neurons the patterns split about evenly, so the weights e^{s} — not a
    // majority — decide the sign.
    let k = 40;
    let patterns: Vec<i8> = (0..k)
        .flat_map(|_| {
            let mut p = base.clone();
            let flips = rng.random_range(20..=40);
            for i in rand::seq::index::sample(&mut rng, 80, flips) {
                p[i] = -p[i];
            }
            p
        })
        .collect();
    let mem = DenseMemory::new(&patterns, n, Separation::Exponential).unwrap();
    let mut state: Vec<i8> = base.iter().map(|&b| -b).collect();
    // A few neurons set to +base so that the neurons disagree.
    for i in (0..n).step_by(97) {
        state[i] = base[i];
    }
    let m = mem.overlaps(&state).unwrap();
    assert!(m.iter().all(|&v| v < -600), "{m:?}");
    let (mut ups, mut downs) = (0, 0);
    for i in 0..n {
        let xi: Vec<i8> = (0..k).map(|mu| patterns[mu * n + i]).collect();
        // s_μ = m_μ − ξ^μ_i σ_i; the term is ξ^μ_i (e − 1/e) e^{s_μ}.
        let (pos, neg): (Vec<i32>, Vec<i32>) = {
            let s: Vec<(i8, i32)> = xi.iter().zip(&m).map(|(&x, &mu)| (x, mu - x as i32 * state[i] as i32)).collect();
            (
                s.iter().filter(|(x, _)| *x > 0).map(|&(_, v)| v).collect(),
                s.iter().filter(|(x, _)| *x < 0).map(|&(_, v)| v).collect(),
            )
        };
        let want = match (pos.is_empty(), neg.is_empty()) {
            (false, true) => 1,
            (true, false) => -1,
            _ if (lse(&pos) - lse(&neg)).abs() < 1e-9 => state[i],
            _ if lse(&pos) > lse(&neg) => 1,
            _ => -1,
        };
        let got = mem.neuron_update(i, &state, &m);
        assert_eq!(got, want, "neuron {i}: positive terms {pos:?}, negative {neg:?}");
        if got == 1 {
            ups += 1
        } else {
            downs += 1
        }
    }
    assert!(ups > 0 && downs > 0, "both signs occur: {ups} up, {downs} down");
}

/// At N = 784 the exponential energy −Σ_μ e^{m_μ − N} underflows to 0 for most states, so "it
/// never rises" says nothing there; its logarithm does not: log Σ_μ e^{m_μ} (from the integer
/// overlaps) must never fall, sweep after sweep, from random starts.
#[test]
fn the_exponential_energy_falls_in_log_space_at_mnist_size() {
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    let n = 784;
    let mem = DenseMemory::new(&random_patterns(&mut rng, 40, n), n, Separation::Exponential).unwrap();
    for start in 0..3 {
        let mut s = random_patterns(&mut rng, 1, n);
        let mut last = lse(&mem.overlaps(&s).unwrap());
        let one = Dynamics { rule: UpdateRule::Asynchronous, max_sweeps: 1, record_every: 0 };
        let mut rose = false;
        for sweep in 0..30 {
            let t = mem.run(&mut s, &one, &mut rng).unwrap();
            let now = lse(&mem.overlaps(&s).unwrap());
            assert!(now >= last - 1e-9, "start {start}, sweep {sweep}: log Σ e^m fell {last} -> {now}");
            rose |= now > last + 1.0;
            last = now;
            if t.converged {
                break;
            }
        }
        assert!(rose, "start {start}: the descent moved the state");
        assert!(last > 700.0, "start {start}: it ends at a pattern (log Σ e^m = {last})");
    }
}
