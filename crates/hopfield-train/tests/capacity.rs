//! Capacity measurements against the theory (DESIGN.md §1).

use hopfield::memory::Separation;
use hopfield_train::experiments::capacity::{self, measure, CapacityConfig};

/// |measured − theory| in units of the measurement's standard error.
fn z(p: &capacity::CapacityPoint) -> f64 {
    (p.flip_probability - p.flip_theory.unwrap()).abs() / p.flip_stderr
}

#[test]
fn classical_single_flip_probability_matches_erfc_at_two_loads() {
    // N = 1000: theory ½ erfc(√(N/2K)) = 0.0127 at K = 200 and 0.0339 at K = 300.
    for k in [200, 300] {
        let p = measure(Separation::Classical, 1000, k, 6, 40, 1).unwrap();
        let t = p.flip_theory.unwrap();
        assert!(z(&p) < 3.5, "K = {k}: measured {} ± {}, theory {t}", p.flip_probability, p.flip_stderr);
        assert!(p.flip_stderr < 0.1 * t, "K = {k}: too few samples (stderr {})", p.flip_stderr);
    }
}

#[test]
fn cubic_single_flip_probability_matches_erfc_at_two_loads() {
    // n = 3, N = 100: theory ½ erfc(√(N²/(6K))) = 0.017 at K = 741 and 0.045 at K = 1157.
    for k in [741, 1157] {
        let p = measure(Separation::Polynomial { n: 3 }, 100, k, 6, 40, 2).unwrap();
        let t = p.flip_theory.unwrap();
        assert!(z(&p) < 3.5, "K = {k}: measured {} ± {}, theory {t}", p.flip_probability, p.flip_stderr);
        assert!(p.flip_stderr < 0.15 * t, "K = {k}: too few samples (stderr {})", p.flip_stderr);
    }
}

#[test]
fn classical_retrieval_collapses_near_0_14_n() {
    let n = 1000;
    let below = measure(Separation::Classical, n, 100, 2, 20, 3).unwrap(); // K/N = 0.10
    let above = measure(Separation::Classical, n, 200, 2, 20, 3).unwrap(); // K/N = 0.20
    assert!(below.retrieved_approx >= 0.95, "K/N = 0.10: {}", below.retrieved_approx);
    assert!(below.mean_overlap > 0.99, "K/N = 0.10: mean overlap {}", below.mean_overlap);
    assert!(above.retrieved_approx <= 0.05, "K/N = 0.20: {}", above.retrieved_approx);
    assert!(above.mean_overlap < 0.6, "K/N = 0.20: mean overlap {}", above.mean_overlap);
    let cfg = CapacityConfig {
        separations: vec![Separation::Classical],
        neurons: n,
        loads: Some(vec![100, 120, 130, 140, 150, 160, 170, 180, 200]),
        trials: 2,
        probes: 20,
        seed: 4,
    };
    let pts = capacity::sweep(&cfg, |_, _| {}).unwrap();
    let k = capacity::estimated_capacity(&pts).unwrap() / n as f64;
    // Measured 0.154 N at N = 1000 (finite-size shift above the N → ∞ value 0.138).
    assert!((0.13..0.17).contains(&k), "estimated capacity {k} N");
}

#[test]
fn polynomial_capacity_grows_with_the_degree() {
    let n = 60;
    let cfg = CapacityConfig {
        separations: vec![
            Separation::Polynomial { n: 2 },
            Separation::Polynomial { n: 3 },
            Separation::Polynomial { n: 4 },
        ],
        neurons: n,
        loads: None,
        trials: 2,
        probes: 10,
        seed: 5,
    };
    let pts = capacity::sweep(&cfg, |_, _| {}).unwrap();
    let cap = |d: u32| {
        let p: Vec<_> = pts.iter().filter(|p| p.separation == Separation::Polynomial { n: d }).cloned().collect();
        capacity::estimated_capacity(&p).unwrap()
    };
    let (c2, c3, c4) = (cap(2), cap(3), cap(4));
    // Theory: capacity ∝ N^(n−1)/(2n−3)!!, a factor N/(2n−1) per degree (60/3 = 20, 60/5 = 12).
    assert!(c3 / c2 > 8.0, "n=2: {c2}, n=3: {c3}");
    assert!(c4 / c3 > 5.0, "n=3: {c3}, n=4: {c4}");
}

#[test]
fn capacity_outputs_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = CapacityConfig {
        separations: vec![Separation::Classical, Separation::Exponential],
        neurons: 40,
        loads: Some(vec![2, 6, 12]),
        trials: 1,
        probes: 3,
        seed: 0,
    };
    let pts = capacity::sweep(&cfg, |_, _| {}).unwrap();
    assert_eq!(pts.len(), 6);
    assert!(pts.iter().filter(|p| p.separation == Separation::Exponential).all(|p| p.flip_theory.is_none()));
    let files = capacity::write_outputs(&pts, &cfg, dir.path()).unwrap();
    let csv = std::fs::read_to_string(&files[0]).unwrap();
    assert_eq!(csv.lines().count(), 7);
    assert!(csv.starts_with("memory,neurons,memories"));
    for png in &files[1..] {
        let img = image::open(png).unwrap();
        assert_eq!((img.width(), img.height()), (900, 620));
    }
}

#[test]
fn invalid_sweeps_are_errors() {
    let base = CapacityConfig {
        separations: vec![Separation::Classical],
        neurons: 50,
        loads: None,
        trials: 1,
        probes: 1,
        seed: 0,
    };
    let bad = [
        CapacityConfig { neurons: 1, ..base.clone() },
        CapacityConfig { trials: 0, ..base.clone() },
        CapacityConfig { separations: vec![], ..base.clone() },
        CapacityConfig { separations: vec![Separation::Polynomial { n: 1 }], ..base.clone() },
        CapacityConfig { loads: Some(vec![0, 5]), ..base.clone() },
    ];
    for c in bad {
        let e = capacity::validate(&c).unwrap_err().to_string();
        assert!(e.starts_with("invalid"), "{e}");
    }
}
