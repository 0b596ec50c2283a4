//! Capacity sweeps on random ±1 patterns, against the theory (DESIGN.md §1).
//!
//! For each separation function and load K: draw `trials` sets of K random patterns of N bits;
//! in each set probe `probes` stored patterns. A probe measures (a) the fraction of the N neurons
//! that one update would flip when the state *is* the stored pattern — the single-flip error
//! probability, whose theory is ½ erfc(√(N^(n−1) / (2 (2n−3)!! K))) for F = xⁿ — and (b) where the
//! asynchronous dynamics started at the pattern ends: retrieved exactly (no bit wrong), and
//! retrieved with at most 1.5% of the bits wrong (final overlap ≥ 0.97, the criterion behind the
//! classical capacity 0.138 N).

use std::path::{Path, PathBuf};

use hopfield::memory::{DenseMemory, Dynamics, Separation};
use hopfield::theory;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::error::{invalid, Result, TrainError};
use crate::pictures::{Corner, LinePlot, Mark, Series};

/// Final overlap counted as retrieval with few errors (≤ 1.5% of the bits wrong).
pub const APPROX_OVERLAP: f64 = 0.97;

/// Settings of a capacity sweep, with the command line's defaults in [`CapacityConfig::default`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct CapacityConfig {
    /// One curve per separation function.
    pub separations: Vec<Separation>,
    /// N.
    pub neurons: usize,
    /// Loads K to measure; `None` picks 12 log-spaced loads around each curve's capacity.
    pub loads: Option<Vec<usize>>,
    /// Independent pattern sets per load.
    pub trials: usize,
    /// Stored patterns probed per set.
    pub probes: usize,
    /// Seed of everything random.
    pub seed: u64,
}

impl Default for CapacityConfig {
    /// `hopfield capacity`'s sweep: the classical network, N = 200, 12 loads around its capacity,
    /// 4 pattern sets of which 25 are probed each, seed 0.
    fn default() -> Self {
        CapacityConfig {
            separations: vec![Separation::Classical],
            neurons: 200,
            loads: None,
            trials: 4,
            probes: 25,
            seed: 0,
        }
    }
}

/// One measured load.
#[derive(Debug, Clone, PartialEq)]
pub struct CapacityPoint {
    /// The memory.
    pub separation: Separation,
    /// N.
    pub neurons: usize,
    /// K.
    pub memories: usize,
    /// Measured probability that one update flips a neuron of a stored pattern.
    pub flip_probability: f64,
    /// Its standard error (spread over probes).
    pub flip_stderr: f64,
    /// The theory's value (polynomial and classical memories only).
    pub flip_theory: Option<f64>,
    /// Fraction of probes whose dynamics ended exactly on the pattern.
    pub retrieved_exact: f64,
    /// Fraction of probes that ended with final overlap ≥ [`APPROX_OVERLAP`].
    pub retrieved_approx: f64,
    /// Mean final overlap.
    pub mean_overlap: f64,
}

/// The degree n of a polynomial-type memory (2 for the classical one).
fn degree(s: Separation) -> Option<u32> {
    match s {
        Separation::Classical => Some(2),
        Separation::Polynomial { n } | Separation::RectifiedPolynomial { n } => Some(n),
        Separation::Exponential => None,
    }
}

/// The theory's flip probability, where it has one (F = xⁿ, including the classical x²/2).
pub fn theory_flip(s: Separation, neurons: usize, k: f64) -> Option<f64> {
    match s {
        Separation::Classical => Some(theory::flip_probability_classical(neurons, k)),
        Separation::Polynomial { n } => Some(theory::flip_probability_polynomial(neurons, n, k)),
        _ => None,
    }
    // A theory that does not give a number (overflowing factorials) is shown as none.
    .filter(|p| p.is_finite())
}

/// The load scale: N^(n−1)/(2n−3)!! for F = xⁿ, where the flip probability is ½ erfc(√½) ≈ 0.16.
fn load_scale(s: Separation, neurons: usize) -> f64 {
    match degree(s) {
        Some(n) => (neurons as f64).powi(n as i32 - 1) / theory::double_factorial_odd(2 * n as i64 - 3),
        // Exponential: a stored pattern stays a fixed point while K·e^(N/2) ≪ e^N, so the scale is
        // e^(N/2); capped so that a default sweep stays quick.
        None => (neurons as f64 / 2.0).exp().min(1e5),
    }
}

/// 12 log-spaced loads from 2% to 200% of the load scale (at least 2 patterns).
pub fn auto_loads(s: Separation, neurons: usize) -> Vec<usize> {
    let scale = load_scale(s, neurons);
    let mut v: Vec<usize> =
        (0..12).map(|i| (scale * 0.02 * 100f64.powf(i as f64 / 11.0)).round().max(2.0) as usize).collect();
    v.dedup();
    v
}

/// Checks the settings.
pub fn validate(cfg: &CapacityConfig) -> Result<()> {
    if cfg.neurons < 2 {
        return Err(invalid("neurons", cfg.neurons, "at least 2 neurons"));
    }
    if cfg.trials == 0 || cfg.probes == 0 {
        return Err(invalid("trials/probes", format!("{}/{}", cfg.trials, cfg.probes), "both at least 1"));
    }
    if cfg.separations.is_empty() {
        return Err(invalid("memory", "none", "at least one memory to sweep"));
    }
    for s in &cfg.separations {
        s.validate()?;
    }
    if let Some(l) = &cfg.loads {
        if l.is_empty() || l.contains(&0) {
            return Err(invalid("loads", format!("{l:?}"), "a non-empty list of loads K ≥ 1"));
        }
    }
    for &s in &cfg.separations {
        let most =
            cfg.loads.as_ref().map_or_else(|| auto_loads(s, cfg.neurons), |l| l.clone()).into_iter().max().unwrap_or(1);
        // The patterns twice (as drawn and neuron-major), the separation table, the probes' states.
        let n = cfg.neurons as u128;
        let need = crate::budget::product(&[most as u128, n, 2])
            .and_then(|a| a.checked_add(crate::budget::product(&[n, 8, 4])?));
        crate::budget::check(
            &format!("a capacity sweep of N = {} neurons up to K = {most} patterns", cfg.neurons),
            need,
        )?;
    }
    Ok(())
}

fn random_patterns(rng: &mut ChaCha8Rng, k: usize, n: usize) -> Vec<i8> {
    let mut v = Vec::with_capacity(k * n);
    while v.len() < k * n {
        let bits: u64 = rng.random();
        for b in 0..64.min(k * n - v.len()) {
            v.push(if bits >> b & 1 == 1 { 1 } else { -1 });
        }
    }
    v
}

/// Measures one load.
pub fn measure(
    s: Separation,
    neurons: usize,
    k: usize,
    trials: usize,
    probes: usize,
    seed: u64,
) -> Result<CapacityPoint> {
    let n = neurons;
    // (flip fraction, exact, final overlap) per probe.
    let mut units: Vec<(f64, bool, f64)> = Vec::new();
    for t in 0..trials {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(((k as u64) << 20) + t as u64);
        let pats = random_patterns(&mut rng, k, n);
        let mem = DenseMemory::new(&pats, n, s)?;
        let probe_units: Vec<(f64, bool, f64)> = (0..probes.min(k))
            .into_par_iter()
            .map(|mu| {
                let p = &pats[mu * n..(mu + 1) * n];
                let m = mem.overlaps(p)?;
                let flips = (0..n).filter(|&i| mem.neuron_update(i, p, &m) != p[i]).count();
                let mut state = p.to_vec();
                let mut r = ChaCha8Rng::seed_from_u64(seed ^ 0xd1ce);
                r.set_stream(((k as u64) << 32) + ((t as u64) << 16) + mu as u64);
                mem.run(&mut state, &Dynamics::default(), &mut r)?;
                let ov = state.iter().zip(p).map(|(&a, &b)| (a * b) as f64).sum::<f64>() / n as f64;
                Ok((flips as f64 / n as f64, state == p, ov))
            })
            .collect::<Result<_>>()?;
        units.extend(probe_units);
    }
    let u = units.len() as f64;
    let mean = units.iter().map(|x| x.0).sum::<f64>() / u;
    if let Some(bad) = units.iter().find(|x| !(x.0.is_finite() && x.2.is_finite())) {
        return Err(invalid(
            "load",
            format!("K = {k} with {}", label(s)),
            format!("finite measurements; a probe gave flip fraction {} and overlap {}", bad.0, bad.2),
        ));
    }
    let var = units.iter().map(|x| (x.0 - mean).powi(2)).sum::<f64>() / (u - 1.0).max(1.0);
    Ok(CapacityPoint {
        separation: s,
        neurons,
        memories: k,
        flip_probability: mean,
        flip_stderr: (var / u).sqrt(),
        flip_theory: theory_flip(s, neurons, k as f64),
        retrieved_exact: units.iter().filter(|x| x.1).count() as f64 / u,
        retrieved_approx: units.iter().filter(|x| x.2 >= APPROX_OVERLAP).count() as f64 / u,
        mean_overlap: units.iter().map(|x| x.2).sum::<f64>() / u,
    })
}

/// Every (memory, load K) the sweep measures, in order: the given loads, or [`auto_loads`].
pub fn jobs(cfg: &CapacityConfig) -> Vec<(Separation, usize)> {
    cfg.separations
        .iter()
        .flat_map(|&s| cfg.loads.clone().unwrap_or_else(|| auto_loads(s, cfg.neurons)).into_iter().map(move |k| (s, k)))
        .collect()
}

/// Runs the sweep; `progress(done, total)` is called after each load.
pub fn sweep(cfg: &CapacityConfig, mut progress: impl FnMut(usize, usize)) -> Result<Vec<CapacityPoint>> {
    validate(cfg)?;
    let jobs = jobs(cfg);
    let mut out = Vec::with_capacity(jobs.len());
    for (i, &(s, k)) in jobs.iter().enumerate() {
        out.push(measure(s, cfg.neurons, k, cfg.trials, cfg.probes, cfg.seed)?);
        progress(i + 1, jobs.len());
    }
    Ok(out)
}

/// The load K at which the fraction retrieved with few errors first falls below ½ (linear
/// interpolation between measured loads); `None` if it never does.
pub fn estimated_capacity(points: &[CapacityPoint]) -> Option<f64> {
    let mut pts: Vec<&CapacityPoint> = points.iter().collect();
    pts.sort_by_key(|p| p.memories);
    let idx = pts.iter().position(|p| p.retrieved_approx < 0.5)?;
    if idx == 0 {
        return Some(pts[0].memories as f64);
    }
    let (a, b) = (pts[idx - 1], pts[idx]);
    let t = (a.retrieved_approx - 0.5) / (a.retrieved_approx - b.retrieved_approx);
    Some(a.memories as f64 + t * (b.memories as f64 - a.memories as f64))
}

/// A short name for tables and legends: classical, poly n=3, rect-poly n=20, exp.
pub fn label(s: Separation) -> String {
    match s {
        Separation::Classical => "classical".into(),
        Separation::Polynomial { n } => format!("poly n={n}"),
        Separation::RectifiedPolynomial { n } => format!("rect-poly n={n}"),
        Separation::Exponential => "exp".into(),
    }
}

/// The sweep's table (a line per point: K, K/N, the flip probability measured and in theory, the
/// shares retrieved exactly and within 97% overlap) and, per memory, the load up to which half
/// the patterns stay retrieved.
pub fn table(points: &[CapacityPoint], cfg: &CapacityConfig) -> String {
    let mut t = format!(
        "{:<16} {:>7} {:>7} {:>11} {:>11} {:>9} {:>9}\n",
        "memory", "K", "K/N", "P(flip)", "theory", "exact", "≥97%"
    );
    for p in points {
        t += &format!(
            "{:<16} {:>7} {:>7.3} {:>11.3e} {:>11} {:>9.3} {:>9.3}\n",
            label(p.separation),
            p.memories,
            p.memories as f64 / p.neurons as f64,
            p.flip_probability,
            p.flip_theory.map(|t| format!("{t:.3e}")).unwrap_or_else(|| "-".into()),
            p.retrieved_exact,
            p.retrieved_approx
        );
    }
    for &s in &cfg.separations {
        let pts: Vec<_> = points.iter().filter(|p| p.separation == s).cloned().collect();
        t += &match estimated_capacity(&pts) {
            Some(k) => format!(
                "{}: half the patterns stay within 97% overlap up to K ≈ {k:.1} = {:.3} N\n",
                label(s),
                k / cfg.neurons as f64
            ),
            None => format!("{}: every measured load was retrieved (raise the loads to find the capacity)\n", label(s)),
        };
    }
    t
}

/// `capacity.csv`: a line per point.
pub fn capacity_csv(points: &[CapacityPoint]) -> String {
    let mut text = String::from(
        "memory,neurons,memories,load_k_over_n,flip_probability,flip_stderr,flip_theory,retrieved_exact,retrieved_approx,mean_overlap\n",
    );
    for p in points {
        text += &format!(
            "{},{},{},{:.6},{:.6e},{:.3e},{},{:.4},{:.4},{:.5}\n",
            label(p.separation),
            p.neurons,
            p.memories,
            p.memories as f64 / p.neurons as f64,
            p.flip_probability,
            p.flip_stderr,
            p.flip_theory.map(|t| format!("{t:.6e}")).unwrap_or_default(),
            p.retrieved_exact,
            p.retrieved_approx,
            p.mean_overlap
        );
    }
    text
}

/// Writes `capacity.csv`, `capacity.png` (flip probability against K, with theory) and
/// `retrieval.png` (fraction retrieved against K/N) into `out`.
pub fn write_outputs(points: &[CapacityPoint], cfg: &CapacityConfig, out: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).map_err(|e| TrainError::write(out, e))?;
    let csv = out.join("capacity.csv");
    hopfield_data::outputs::claim(&csv)?;
    std::fs::write(&csv, capacity_csv(points)).map_err(|e| TrainError::write(&csv, e))?;
    let mut flip = Vec::new();
    let mut retr = Vec::new();
    for (c, &s) in cfg.separations.iter().enumerate() {
        let pts: Vec<&CapacityPoint> = points.iter().filter(|p| p.separation == s).collect();
        flip.push(Series {
            name: format!("{} measured", label(s)),
            points: pts.iter().map(|p| (p.memories as f64, p.flip_probability)).collect(),
            color: c,
            mark: Mark::Points,
        });
        if theory_flip(s, cfg.neurons, 1.0).is_some() {
            let (lo, hi) = pts
                .iter()
                .fold((f64::INFINITY, 0f64), |(l, h), p| (l.min(p.memories as f64), h.max(p.memories as f64)));
            let line = (0..=60)
                .map(|i| lo * (hi / lo).powf(i as f64 / 60.0))
                .map(|k| (k, theory_flip(s, cfg.neurons, k).unwrap_or(f64::NAN)))
                // Below 1e-5 the curve only stretches the axis: Monte Carlo sees no flips there.
                .filter(|p| p.1 >= 1e-5)
                .collect();
            flip.push(Series { name: format!("{} theory", label(s)), points: line, color: c, mark: Mark::Thin });
        }
        let n = cfg.neurons as f64;
        retr.push(Series {
            name: format!("{} (≥97% overlap)", label(s)),
            points: pts.iter().map(|p| (p.memories as f64 / n, p.retrieved_approx)).collect(),
            color: c,
            mark: Mark::LinePoints,
        });
        retr.push(Series {
            name: format!("{} (exact)", label(s)),
            points: pts.iter().map(|p| (p.memories as f64 / n, p.retrieved_exact)).collect(),
            color: c,
            mark: Mark::Thin,
        });
    }
    let png = out.join("capacity.png");
    LinePlot {
        title: format!("single-flip error probability, N = {}", cfg.neurons),
        x_label: "stored patterns K".into(),
        y_label: "P(one update flips a stored bit)".into(),
        log_x: true,
        log_y: true,
        series: flip,
        vlines: vec![],
        legend: Corner::LowerRight,
    }
    .write(&png, (900, 620))?;
    let png2 = out.join("retrieval.png");
    let vlines = if cfg.separations.contains(&Separation::Classical) {
        vec![(theory::CLASSICAL_CAPACITY_RATIO, "0.138 N (classical theory)".to_string())]
    } else {
        vec![]
    };
    LinePlot {
        title: format!("patterns that stay stored under the dynamics, N = {}", cfg.neurons),
        x_label: "load K / N".into(),
        y_label: "fraction retrieved".into(),
        log_x: false,
        log_y: false,
        series: retr,
        vlines,
        legend: Corner::UpperRight,
    }
    .write(&png2, (900, 620))?;
    Ok(vec![csv, png, png2])
}
