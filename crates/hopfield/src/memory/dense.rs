//! The binary Dense Associative Memory (Krotov & Hopfield 2016; Demircigil et al. 2017).
//!
//! State σ ∈ {−1, +1}^N, memories ξ^μ ∈ {−1, +1}^N (μ = 1..K), energy E(σ) = −Σ_μ F(ξ^μ·σ).
//! Neuron i is updated to the sign of Σ_μ [F(ξ^μ_i + s_μ) − F(−ξ^μ_i + s_μ)] with
//! s_μ = Σ_{j≠i} ξ^μ_j σ_j, which never raises the energy. The overlaps m_μ = ξ^μ·σ are kept
//! up to date incrementally, so one neuron update costs O(K), not O(NK).
//!
//! Energies are reported in units of F(N) (the contribution of one perfectly matched memory):
//! `energy = E / F(N)`. This is a positive rescaling (same minima, same monotonicity) that keeps
//! the exponential energy finite at N = 784.

use rand::seq::SliceRandom;
use rand::Rng;

use super::Separation;
use crate::error::{invalid, pattern_count, shape, Result};

/// Synchronous or asynchronous dynamics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum UpdateRule {
    /// One neuron at a time, in a fresh random order each sweep: the energy never increases.
    Asynchronous,
    /// All neurons from the same state at once (may oscillate; no energy guarantee).
    Synchronous,
}

/// How to run the dynamics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dynamics {
    /// Update rule.
    pub rule: UpdateRule,
    /// Upper bound on the number of sweeps (one sweep = N neuron updates).
    pub max_sweeps: usize,
    /// Record the energy every this many neuron updates (asynchronous rule); 0 records once per
    /// sweep. The synchronous rule always records once per sweep.
    pub record_every: usize,
}

impl Default for Dynamics {
    fn default() -> Self {
        Dynamics { rule: UpdateRule::Asynchronous, max_sweeps: 50, record_every: 0 }
    }
}

/// What a run of the dynamics did.
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    /// Sweeps performed (including the final one that changed nothing, when converged).
    pub sweeps: usize,
    /// Whether a full sweep changed no neuron (a fixed point was reached).
    pub converged: bool,
    /// Total number of neuron flips.
    pub flips: usize,
    /// (time in sweeps, energy / F(N)) pairs, starting with the initial state at time 0.
    pub energy: Vec<(f64, f64)>,
}

/// A binary Dense Associative Memory with a chosen separation function.
#[derive(Debug, Clone)]
pub struct DenseMemory {
    neurons: usize,
    memories: usize,
    /// ξ stored neuron-major: `xi[i * K + μ] = ξ^μ_i`, so one neuron's entries are contiguous.
    xi: Vec<i8>,
    separation: Separation,
    /// F(v)/F(N+1) for every integer argument an update can meet (polynomial kinds).
    table: Option<Vec<f64>>,
}

fn check_spins(what: &'static str, v: &[i8]) -> Result<()> {
    match v.iter().position(|&x| x != 1 && x != -1) {
        Some(i) => Err(invalid(what, format!("{} at index {i}", v[i]), "entries must be +1 or -1")),
        None => Ok(()),
    }
}

impl DenseMemory {
    /// Stores `patterns` (K×N, row-major, entries ±1).
    ///
    /// # Errors
    /// N = 0, no patterns, a length that is not a multiple of N, entries other than ±1, or an
    /// invalid separation function.
    pub fn new(patterns: &[i8], neurons: usize, separation: Separation) -> Result<Self> {
        separation.validate()?;
        let memories = pattern_count(patterns.len(), neurons)?;
        check_spins("pattern entry", patterns)?;
        let mut xi = vec![0i8; patterns.len()];
        for (mu, p) in patterns.chunks_exact(neurons).enumerate() {
            for (i, &v) in p.iter().enumerate() {
                xi[i * memories + mu] = v;
            }
        }
        let table = separation.power_table(neurons);
        Ok(DenseMemory { neurons, memories, xi, separation, table })
    }

    /// N, the number of neurons.
    pub fn neurons(&self) -> usize {
        self.neurons
    }

    /// K, the number of stored memories.
    pub fn memories(&self) -> usize {
        self.memories
    }

    /// The separation function.
    pub fn separation(&self) -> Separation {
        self.separation
    }

    /// Memory μ as a ±1 vector of length N.
    pub fn pattern(&self, mu: usize) -> Vec<i8> {
        (0..self.neurons).map(|i| self.xi[i * self.memories + mu]).collect()
    }

    fn check_state(&self, state: &[i8]) -> Result<()> {
        if state.len() != self.neurons {
            return Err(shape("state", self.neurons, state.len()));
        }
        check_spins("state entry", state)
    }

    /// The overlaps m_μ = ξ^μ·σ, computed from scratch (O(NK)).
    pub fn overlaps(&self, state: &[i8]) -> Result<Vec<i32>> {
        self.check_state(state)?;
        let mut m = vec![0i32; self.memories];
        for (i, &s) in state.iter().enumerate() {
            let row = &self.xi[i * self.memories..(i + 1) * self.memories];
            for (m, &x) in m.iter_mut().zip(row) {
                *m += (x * s) as i32;
            }
        }
        Ok(m)
    }

    /// E(σ)/F(N) from known overlaps (O(K)).
    pub fn energy_from_overlaps(&self, overlaps: &[i32]) -> f64 {
        -overlaps.iter().map(|&m| self.separation.f_normalised(m as f64, self.neurons)).sum::<f64>()
    }

    /// E(σ)/F(N) for a state.
    pub fn energy(&self, state: &[i8]) -> Result<f64> {
        Ok(self.energy_from_overlaps(&self.overlaps(state)?))
    }

    /// The value neuron `i` takes under the update rule from `state` whose overlaps are
    /// `overlaps`; its current value when the two candidate energies tie. O(K).
    ///
    pub fn neuron_update(&self, i: usize, state: &[i8], overlaps: &[i32]) -> i8 {
        let k = self.memories;
        let row = &self.xi[i * k..(i + 1) * k];
        match self.separation.update_sign(overlaps, row, state[i], self.table.as_deref()) {
            0 => state[i],
            v => v,
        }
    }

    /// Runs the dynamics from `state` (changed in place) until a sweep changes nothing or
    /// `max_sweeps` is reached. The random order of asynchronous updates comes from `rng`.
    ///
    /// # Errors
    /// A state of the wrong length or with entries other than ±1; `max_sweeps` = 0.
    pub fn run<R: Rng + ?Sized>(&self, state: &mut [i8], dynamics: &Dynamics, rng: &mut R) -> Result<Trajectory> {
        if dynamics.max_sweeps == 0 {
            return Err(invalid("max_sweeps", 0, "must be at least 1"));
        }
        let mut overlaps = self.overlaps(state)?;
        let n = self.neurons;
        let mut traj = Trajectory {
            sweeps: 0,
            converged: false,
            flips: 0,
            energy: vec![(0.0, self.energy_from_overlaps(&overlaps))],
        };
        let mut order: Vec<usize> = (0..n).collect();
        let mut new_state = vec![0i8; n];
        for sweep in 0..dynamics.max_sweeps {
            let mut flips = 0;
            match dynamics.rule {
                UpdateRule::Asynchronous => {
                    order.shuffle(rng);
                    let every = dynamics.record_every;
                    flips = self.sweep_in_order(state, &mut overlaps, &order, |done, ov| {
                        if every > 0 && done % every == 0 && done < n {
                            let time = sweep as f64 + done as f64 / n as f64;
                            traj.energy.push((time, self.energy_from_overlaps(ov)));
                        }
                    });
                }
                UpdateRule::Synchronous => {
                    for (i, v) in new_state.iter_mut().enumerate() {
                        *v = self.neuron_update(i, state, &overlaps);
                    }
                    for i in 0..n {
                        if new_state[i] != state[i] {
                            state[i] = new_state[i];
                            self.apply_flip(i, new_state[i], &mut overlaps);
                            flips += 1;
                        }
                    }
                }
            }
            traj.sweeps = sweep + 1;
            traj.flips += flips;
            traj.energy.push(((sweep + 1) as f64, self.energy_from_overlaps(&overlaps)));
            if flips == 0 {
                traj.converged = true;
                break;
            }
        }
        Ok(traj)
    }

    /// One asynchronous sweep: updates every neuron once, in `order`, keeping `overlaps` (which
    /// must be the overlaps of `state`) up to date. Returns the number of flips. This is the inner loop of [`DenseMemory::run`], public for benchmarks and
    /// for callers that drive the dynamics themselves.
    pub fn sweep(&self, state: &mut [i8], overlaps: &mut [i32], order: &[usize]) -> usize {
        self.sweep_in_order(state, overlaps, order, |_, _| {})
    }

    fn sweep_in_order(
        &self,
        state: &mut [i8],
        overlaps: &mut [i32],
        order: &[usize],
        mut after_update: impl FnMut(usize, &[i32]),
    ) -> usize {
        let mut flips = 0;
        for (t, &i) in order.iter().enumerate() {
            let v = self.neuron_update(i, state, overlaps);
            if v != state[i] {
                state[i] = v;
                self.apply_flip(i, v, overlaps);
                flips += 1;
            }
            after_update(t + 1, overlaps);
        }
        flips
    }

    /// Neuron i was set to `v`: m_μ changes by 2 v ξ^μ_i.
    fn apply_flip(&self, i: usize, v: i8, overlaps: &mut [i32]) {
        let row = &self.xi[i * self.memories..(i + 1) * self.memories];
        let two_v = 2 * v as i32;
        for (m, &x) in overlaps.iter_mut().zip(row) {
            *m += two_v * x as i32;
        }
    }
}
