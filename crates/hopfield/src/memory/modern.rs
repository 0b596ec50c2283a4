//! The continuous modern Hopfield network (Ramsauer et al. 2020, "Hopfield Networks is All You Need").
//!
//! Stored patterns x_μ ∈ R^N (μ = 1..K) are the rows of X (K×N here; the paper's X is N×K).
//! Energy: E(ξ) = −β⁻¹ log Σ_μ exp(β x_μᵀ ξ) + ½ ξᵀξ + β⁻¹ log K + ½ M², M = max_μ ‖x_μ‖.
//! Update: ξ ← Xᵀ softmax(β X ξ): attention with the states as queries and the stored patterns as
//! keys and values. It never raises E (a concave–convex procedure).
//!
//! The softmax can be replaced by another member of the Hopfield–Fenchel–Young family
//! ([`Transform`]: α-entmax, sparsemax, normmax; Santos et al. 2024, Hu et al. 2023) with
//! [`ModernHopfield::with_transform`]: the update becomes ξ ← Xᵀ ŷ_Ω(β X ξ) and the energy
//! E(ξ) = −β⁻¹ (Ω*(β X ξ) − Ω*(0)) + ½ ξᵀξ + ½ M², which for softmax is the energy above and
//! which the update still never raises.
//!
//! Batches of B queries are B×N row-major matrices; an update is two matrix products through
//! [`crate::linalg::matmul`] and a max-shifted softmax, so it is stable for β‖x‖² ≫ 100.

use crate::error::{invalid, pattern_count, shape, Error, Result};
use rayon::prelude::*;

use crate::lagrangian::{log_sum_exp, Transform};
use crate::linalg::{matmul, softmax_in_place, Exp, Op, Real};

/// Stopping rule for [`ModernHopfield::retrieve`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retrieve {
    /// A query has converged when no entry moves by more than this in one update.
    pub tolerance: f64,
    /// Upper bound on updates.
    pub max_steps: usize,
    /// Record every query's energy after every update (costs O(KN) per query and step).
    pub record_energy: bool,
}

impl Retrieve {
    /// Checks the tolerance (≥ 0) and the step bound (≥ 1).
    pub(super) fn check(&self) -> Result<()> {
        if self.tolerance.is_nan() || self.tolerance < 0.0 {
            return Err(invalid("tolerance", self.tolerance, "must be zero or positive"));
        }
        if self.max_steps == 0 {
            return Err(invalid("max_steps", 0, "must be at least 1"));
        }
        Ok(())
    }
}

impl Default for Retrieve {
    fn default() -> Self {
        Retrieve { tolerance: 1e-6, max_steps: 100, record_energy: false }
    }
}

/// Result of [`ModernHopfield::retrieve`].
#[derive(Debug, Clone, PartialEq)]
pub struct Retrieval<T> {
    /// Final states, B×N row-major.
    pub states: Vec<T>,
    /// Updates each query took to converge (`max_steps` if it did not).
    pub iterations: Vec<usize>,
    /// Whether every query converged.
    pub converged: bool,
    /// Per query, the energy before the first update and after each update (empty unless recorded).
    pub energy: Vec<Vec<f64>>,
}

/// A continuous modern Hopfield network over patterns of scalar type `T` (f32 or f64).
#[derive(Debug, Clone)]
pub struct ModernHopfield<T: Real> {
    neurons: usize,
    memories: usize,
    patterns: Vec<T>,
    beta: f64,
    max_norm_sq: f64,
    transform: Transform,
}

/// Ok when every entry of `v` is finite; else the error naming `what`, the index and the value.
pub(super) fn check_finite<T: Real>(what: &'static str, v: &[T]) -> Result<()> {
    match v.iter().position(|x| !x.is_finite()) {
        Some(index) => Err(Error::NonFinite { what, index, value: v[index].to_f64() }),
        None => Ok(()),
    }
}

/// One state of N finite entries.
pub(super) fn check_state(x: &[f64], n: usize) -> Result<()> {
    if x.len() != n {
        return Err(shape("state", n, x.len()));
    }
    check_finite("state", x)
}

/// K×N finite patterns: K.
pub(super) fn check_patterns(patterns: &[f64], neurons: usize) -> Result<usize> {
    let k = pattern_count(patterns.len(), neurons)?;
    check_finite("patterns", patterns)?;
    Ok(k)
}

fn check_beta(beta: f64) -> Result<()> {
    if beta > 0.0 && beta.is_finite() {
        Ok(())
    } else {
        Err(invalid("beta", beta, "the inverse temperature must be positive and finite"))
    }
}

impl<T: Real> ModernHopfield<T> {
    /// Stores `patterns` (K×N row-major) with inverse temperature `beta`.
    ///
    /// # Errors
    /// N = 0, no patterns, a length that is not a multiple of N, NaN/Inf entries, β ≤ 0 or not finite.
    pub fn new(patterns: Vec<T>, neurons: usize, beta: f64) -> Result<Self> {
        check_beta(beta)?;
        let memories = pattern_count(patterns.len(), neurons)?;
        check_finite("patterns", &patterns)?;
        let max_norm_sq = patterns
            .chunks_exact(neurons)
            .map(|p| p.iter().map(|v| v.to_f64() * v.to_f64()).sum::<f64>())
            .fold(0.0, f64::max);
        Ok(ModernHopfield { neurons, memories, patterns, beta, max_norm_sq, transform: Transform::Softmax })
    }

    /// The same memory with ŷ_Ω = `transform` in place of the softmax.
    ///
    /// # Errors
    /// α outside [1, 2].
    pub fn with_transform(self, transform: Transform) -> Result<Self> {
        transform.validate()?;
        Ok(ModernHopfield { transform, ..self })
    }

    /// The map from scores to weights (softmax unless [`ModernHopfield::with_transform`] chose another).
    pub fn transform(&self) -> Transform {
        self.transform
    }

    /// Ω*(0) for K patterns: the energy's constant, so that E is the same for every transform's
    /// family member up to the choice of Ω.
    fn conjugate_at_zero(&self) -> f64 {
        let k = self.memories;
        let mut p = vec![0.0; k];
        self.transform.apply(&vec![0.0; k], &mut p)
    }

    /// Ω*(z) of one row of scores z = β X ξ.
    fn conjugate(&self, z: &[f64]) -> f64 {
        match self.transform {
            Transform::Softmax => log_sum_exp(z),
            t => t.apply(z, &mut vec![0.0; z.len()]),
        }
    }

    /// N, the dimension of a pattern.
    pub fn neurons(&self) -> usize {
        self.neurons
    }

    /// K, the number of stored patterns.
    pub fn memories(&self) -> usize {
        self.memories
    }

    /// β, the inverse temperature.
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// The stored patterns, K×N row-major.
    pub fn patterns(&self) -> &[T] {
        &self.patterns
    }

    pub(super) fn batch(&self, queries: &[T]) -> Result<usize> {
        if queries.is_empty() || !queries.len().is_multiple_of(self.neurons) {
            return Err(shape("queries", format!("B×N with N = {} and B ≥ 1", self.neurons), queries.len()));
        }
        check_finite("queries", queries)?;
        Ok(queries.len() / self.neurons)
    }

    /// E(ξ) for one state, accumulated in f64.
    pub fn energy(&self, state: &[T]) -> Result<f64> {
        if state.len() != self.neurons {
            return Err(shape("state", self.neurons, state.len()));
        }
        check_finite("state", state)?;
        Ok(self.energy_unchecked(state))
    }

    fn energy_unchecked(&self, state: &[T]) -> f64 {
        let b = self.beta;
        let scores: Vec<f64> = self
            .patterns
            .chunks_exact(self.neurons)
            .map(|p| b * p.iter().zip(state).map(|(x, s)| x.to_f64() * s.to_f64()).sum::<f64>())
            .collect();
        let half_sq = 0.5 * state.iter().map(|s| s.to_f64() * s.to_f64()).sum::<f64>();
        -(self.conjugate(&scores) - self.conjugate_at_zero()) / b + half_sq + 0.5 * self.max_norm_sq
    }

    /// softmax(β X ξ) for every query: the B×K attention weights over the stored patterns.
    pub fn attention(&self, queries: &[T]) -> Result<Vec<T>> {
        let b = self.batch(queries)?;
        Ok(self.attention_unchecked(queries, b))
    }

    fn attention_unchecked(&self, queries: &[T], b: usize) -> Vec<T> {
        let (n, k) = (self.neurons, self.memories);
        let mut p = vec![T::ZERO; b * k];
        // (B×N)·(K×N)ᵀ = B×K scores, scaled by β inside the product.
        matmul(b, k, n, queries, Op::N, &self.patterns, Op::T, &mut p, T::from_f64(self.beta));
        // Rows are independent: one softmax (or sparse transform) per query, spread over the cores.
        match self.transform {
            Transform::Softmax => {
                p.par_chunks_exact_mut(k).for_each(|row| softmax_in_place(row, T::ONE, T::ONE, Exp::Exact))
            }
            t => p.par_chunks_exact_mut(k).for_each(|row| {
                let z: Vec<f64> = row.iter().map(|v| v.to_f64()).collect();
                let mut w = vec![0.0; k];
                t.apply(&z, &mut w);
                row.iter_mut().zip(&w).for_each(|(r, v)| *r = T::from_f64(*v));
            }),
        }
        p
    }

    /// One update ξ ← Xᵀ softmax(β X ξ) for a batch of queries (B×N row-major).
    pub fn update(&self, queries: &[T]) -> Result<Vec<T>> {
        let b = self.batch(queries)?;
        Ok(self.update_unchecked(queries, b))
    }

    fn update_unchecked(&self, queries: &[T], b: usize) -> Vec<T> {
        let p = self.attention_unchecked(queries, b);
        let mut out = vec![T::ZERO; b * self.neurons];
        // (B×K)·(K×N) = B×N.
        matmul(b, self.neurons, self.memories, &p, Op::N, &self.patterns, Op::N, &mut out, T::ONE);
        out
    }

    /// E(ξ) for every state of a batch (B×N row-major). The scores x_μᵀξ come from one matrix
    /// product in `T` (as in the update); the log-sum-exp and the rest are accumulated in f64.
    pub fn energies(&self, states: &[T]) -> Result<Vec<f64>> {
        let b = self.batch(states)?;
        Ok(self.energies_unchecked(states, b))
    }

    fn energies_unchecked(&self, states: &[T], b: usize) -> Vec<f64> {
        let (n, k) = (self.neurons, self.memories);
        let mut scores = vec![T::ZERO; b * k];
        matmul(b, k, n, states, Op::N, &self.patterns, Op::T, &mut scores, T::ONE);
        let beta = self.beta;
        let constant = self.conjugate_at_zero() / beta + 0.5 * self.max_norm_sq;
        scores
            .par_chunks_exact(k)
            .zip(states.par_chunks_exact(n))
            .map(|(row, s)| {
                let scaled: Vec<f64> = row.iter().map(|v| beta * v.to_f64()).collect();
                let half_sq = 0.5 * s.iter().map(|v| v.to_f64() * v.to_f64()).sum::<f64>();
                -self.conjugate(&scaled) / beta + half_sq + constant
            })
            .collect()
    }

    /// Iterates the update from `queries` until every query moves by less than the tolerance
    /// or `max_steps` updates were made. Converged queries are frozen and leave the batch, so
    /// later updates only cost what the remaining queries need.
    pub fn retrieve(&self, queries: &[T], opts: &Retrieve) -> Result<Retrieval<T>> {
        let b = self.batch(queries)?;
        opts.check()?;
        let n = self.neurons;
        let mut states = queries.to_vec();
        let mut iterations = vec![opts.max_steps; b];
        let mut energy: Vec<Vec<f64>> = if opts.record_energy {
            self.energies_unchecked(&states, b).into_iter().map(|e| vec![e]).collect()
        } else {
            Vec::new()
        };
        let mut active: Vec<usize> = (0..b).collect();
        for it in 1..=opts.max_steps {
            // Gather the queries still moving into one batch: (A×N).
            let batch: Vec<T> = active.iter().flat_map(|&q| states[q * n..(q + 1) * n].iter().copied()).collect();
            let next = self.update_unchecked(&batch, active.len());
            let next_energy =
                if opts.record_energy { self.energies_unchecked(&next, active.len()) } else { Vec::new() };
            let mut still = Vec::with_capacity(active.len());
            for (a, &q) in active.iter().enumerate() {
                let (old, new) = (&mut states[q * n..(q + 1) * n], &next[a * n..(a + 1) * n]);
                let moved = old.iter().zip(new).map(|(x, y)| (*x - *y).abs().to_f64()).fold(0.0, f64::max);
                old.copy_from_slice(new);
                if opts.record_energy {
                    energy[q].push(next_energy[a]);
                }
                if moved <= opts.tolerance {
                    iterations[q] = it;
                } else {
                    still.push(q);
                }
            }
            active = still;
            if active.is_empty() {
                break;
            }
        }
        let converged = active.is_empty();
        Ok(Retrieval { states, iterations, converged, energy })
    }
}
