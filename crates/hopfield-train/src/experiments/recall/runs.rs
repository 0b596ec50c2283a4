//! The recall experiment's dynamics: each memory kind's cues run to where its dynamics end, with
//! the energy along the way, on host arrays (the modern network also on a device).

use hopfield::memory::{
    descend, DenseMemory, Dynamics, LogSumRelu, ModernHopfield, RandomFeatureDam, Retrieve, Separation, Transform,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::RecallConfig;
use crate::error::Result;

/// Where one query's dynamics ended.
pub(super) struct Run {
    pub(super) state: Vec<f32>,
    pub(super) steps: usize,
    pub(super) energy: Vec<(f64, f64)>,
}

pub(super) fn rng_for(seed: u64, query: usize) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(query as u64 + 1);
    r
}

/// The energy plot's axes for the binary memories and for the modern network.
pub(super) const DENSE_AXES: (&str, &str) = ("time (sweeps of N neuron updates)", "energy E / F(N)");
pub(super) const MODERN_AXES: (&str, &str) = ("update step", "energy E(ξ)");

/// Each cue run to a fixed point of the binary memory of `patterns` (±1) with `sep`, in parallel.
pub(super) fn dense_runs(
    patterns: &[f32],
    cues: &[Vec<f32>],
    n: usize,
    sep: Separation,
    cfg: &RecallConfig,
) -> Result<Vec<Run>> {
    let spins: Vec<i8> = patterns.iter().map(|&v| v as i8).collect();
    let mem = DenseMemory::new(&spins, n, sep)?;
    let dynamics = Dynamics { rule: cfg.rule, max_sweeps: cfg.max_steps, record_every: (n / 16).max(1) };
    cues.par_iter()
        .enumerate()
        .map(|(q, cue)| {
            let mut s: Vec<i8> = cue.iter().map(|&v| v as i8).collect();
            let t = mem.run(&mut s, &dynamics, &mut rng_for(cfg.seed ^ 0x5eed, q))?;
            Ok(Run { state: s.iter().map(|&v| v as f32).collect(), steps: t.sweeps, energy: t.energy })
        })
        .collect()
}

/// The cues retrieved by the modern network of `patterns` at `beta` with `transform`, on host
/// arrays or `device` (softmax only).
pub(super) fn modern_runs(
    patterns: &[f32],
    cues: &[Vec<f32>],
    n: usize,
    (beta, transform): (f64, Transform),
    cfg: &RecallConfig,
    device: Option<&burn::tensor::Device>,
) -> Result<Vec<Run>> {
    let net = ModernHopfield::new(patterns.to_vec(), n, beta)?.with_transform(transform)?;
    let opts = Retrieve { tolerance: 1e-4, max_steps: cfg.max_steps, record_energy: true };
    let r = match device {
        None => net.retrieve(&cues.concat(), &opts)?,
        Some(device) => net.retrieve_on(&cues.concat(), &opts, device)?,
    };
    Ok(r.states
        .chunks_exact(n)
        .zip(&r.iterations)
        .zip(&r.energy)
        .map(|((s, &steps), e)| Run {
            state: s.to_vec(),
            steps,
            energy: e.iter().enumerate().map(|(t, &v)| (t as f64, v)).collect(),
        })
        .collect())
}

/// Each cue run to its fixed point of the log-sum-ReLU memory (the energy recorded as the kernel sum
/// falls to zero is +∞: those steps are drawn at the plot's edge, and a cue no kernel reaches stays).
pub(super) fn lse_relu_runs(
    patterns: &[f32],
    cues: &[Vec<f32>],
    n: usize,
    width: f64,
    cfg: &RecallConfig,
) -> Result<Vec<Run>> {
    let mem = LogSumRelu::with_width(patterns.iter().map(|&v| v as f64).collect(), n, width, 0.0)?;
    cues.par_iter()
        .map(|cue| {
            let x: Vec<f64> = cue.iter().map(|&v| v as f64).collect();
            let s = mem.retrieve(&x, cfg.max_steps)?;
            Ok(Run {
                state: s.state.iter().map(|&v| v as f32).collect(),
                steps: s.steps,
                energy: s.energy.iter().enumerate().map(|(t, &e)| (t as f64, e)).collect(),
            })
        })
        .collect()
}

/// Each cue descended for `max_steps` steps on the random-feature energy (features from the seed).
pub(super) fn drdam_runs(
    patterns: &[f32],
    cues: &[Vec<f32>],
    n: usize,
    (beta, features, step_size): (f64, usize, f64),
    cfg: &RecallConfig,
) -> Result<Vec<Run>> {
    let mut mem = RandomFeatureDam::new(n, features, beta, cfg.seed)?;
    mem.store(&patterns.iter().map(|&v| v as f64).collect::<Vec<_>>())?;
    cues.par_iter()
        .map(|cue| {
            let x: Vec<f64> = cue.iter().map(|&v| v as f64).collect();
            let d = descend(&mem, &x, cfg.max_steps, step_size)?;
            Ok(Run {
                state: d.state.iter().map(|&v| v as f32).collect(),
                steps: cfg.max_steps,
                energy: d.energy.iter().enumerate().map(|(t, &e)| (t as f64, e)).collect(),
            })
        })
        .collect()
}
