//! Dense Associative Memory through random features (DrDAM; Hoover, Chau, Strobelt, Ram, Krotov;
//! NeurIPS 2024, "Dense Associative Memory through the Lens of Random Features").
//!
//! The exponential DAM with the Gaussian (L2) similarity keeps one slot per memory (MrDAM):
//!
//!   E(x) = −β⁻¹ log Σ_μ exp(−(β/2) ‖x − ξ_μ‖²)           ([`GaussianDam`]).
//!
//! Random Fourier features φ(x) = Y^(−1/2) [cos(√β ω_j·x), sin(√β ω_j·x)]_{j=1..Y}, ω_j ~ N(0, I),
//! satisfy E_ω[φ(x)·φ(ξ)] = exp(−(β/2) ‖x − ξ‖²), so the sum over memories becomes one dot product
//! with T = Σ_μ φ(ξ_μ) ∈ R^(2Y):
//!
//!   Ẽ(x) = −β⁻¹ log(φ(x)·T)                                 ([`RandomFeatureDam`]).
//!
//! Storing a memory adds φ(ξ) to T: the parameters (Y·N frequencies and 2Y entries of T) do not grow
//! with K. The kernel's error falls like Y^(−1/2), and so do the energy's and its gradient's.
//! Both memories descend by x ← x − α ∇E ([`descend`]).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::modern::{check_patterns, check_state};
use crate::error::{invalid, positive, Result};
use crate::init::standard_normal;

/// An energy over states of N reals with its gradient.
pub trait Energy {
    /// N.
    fn neurons(&self) -> usize;
    /// E(x) and ∇E(x); `x` has N finite entries.
    fn energy_and_gradient(&self, x: &[f64]) -> (f64, Vec<f64>);
}

/// Where [`descend`] ended, with the energy before the first step and after each.
#[derive(Debug, Clone, PartialEq)]
pub struct Descent {
    /// The final state.
    pub state: Vec<f64>,
    /// E(x_t), t = 0..=steps.
    pub energy: Vec<f64>,
}

/// `steps` steps of x ← x − α ∇E(x) from `x`.
///
/// # Errors
/// A state of the wrong length or with NaN/Inf; α ≤ 0 or not finite.
pub fn descend<E: Energy + ?Sized>(e: &E, x: &[f64], steps: usize, alpha: f64) -> Result<Descent> {
    check_state(x, e.neurons())?;
    positive("alpha", alpha)?;
    let mut state = x.to_vec();
    let mut energy = Vec::with_capacity(steps + 1);
    for _ in 0..steps {
        let (value, grad) = e.energy_and_gradient(&state);
        energy.push(value);
        state.iter_mut().zip(&grad).for_each(|(s, g)| *s -= alpha * g);
    }
    energy.push(e.energy_and_gradient(&state).0);
    Ok(Descent { state, energy })
}

/// The exponential DAM with Gaussian similarity, one slot per memory (the paper's MrDAM).
#[derive(Debug, Clone)]
pub struct GaussianDam {
    neurons: usize,
    memories: usize,
    patterns: Vec<f64>,
    beta: f64,
}

impl GaussianDam {
    /// Stores `patterns` (K×N row-major) at inverse temperature β.
    ///
    /// # Errors
    /// N = 0, no or ragged patterns, NaN/Inf, β ≤ 0 or not finite.
    pub fn new(patterns: Vec<f64>, neurons: usize, beta: f64) -> Result<Self> {
        positive("beta", beta)?;
        let memories = check_patterns(&patterns, neurons)?;
        Ok(GaussianDam { neurons, memories, patterns, beta })
    }

    /// K.
    pub fn memories(&self) -> usize {
        self.memories
    }

    /// Parameters held: K·N.
    pub fn parameters(&self) -> usize {
        self.patterns.len()
    }
}

impl Energy for GaussianDam {
    fn neurons(&self) -> usize {
        self.neurons
    }

    /// E and ∇E = Σ_μ s_μ (x − ξ_μ), s = softmax(−(β/2) ‖x − ξ_μ‖²).
    fn energy_and_gradient(&self, x: &[f64]) -> (f64, Vec<f64>) {
        let n = self.neurons;
        let logits: Vec<f64> = self
            .patterns
            .chunks_exact(n)
            .map(|p| -0.5 * self.beta * p.iter().zip(x).map(|(a, b)| (a - b) * (a - b)).sum::<f64>())
            .collect();
        let lse = crate::lagrangian::log_sum_exp(&logits);
        let mut grad = x.to_vec();
        for (p, l) in self.patterns.chunks_exact(n).zip(&logits) {
            let s = (l - lse).exp();
            grad.iter_mut().zip(p).for_each(|(g, v)| *g -= s * v);
        }
        (-lse / self.beta, grad)
    }
}

/// The smallest φ·T the random-feature energy takes the log of (the paper's code clips at 10⁻⁵).
pub const SIMILARITY_FLOOR: f64 = 1e-5;

/// The DrDAM: Y random Fourier features of the Gaussian kernel, memories summed into T.
#[derive(Debug, Clone)]
pub struct RandomFeatureDam {
    neurons: usize,
    features: usize,
    beta: f64,
    /// ω, Y×N row-major, entries N(0, 1).
    omegas: Vec<f64>,
    /// T = Σ_μ φ(ξ_μ): the Y cosines, then the Y sines.
    memory: Vec<f64>,
    stored: usize,
}

impl RandomFeatureDam {
    /// An empty memory of N neurons with Y features at inverse temperature β; frequencies from `seed`.
    ///
    /// # Errors
    /// N = 0, Y = 0, β ≤ 0 or not finite.
    pub fn new(neurons: usize, features: usize, beta: f64, seed: u64) -> Result<Self> {
        positive("beta", beta)?;
        if neurons == 0 {
            return Err(invalid("neurons", 0, "a pattern needs at least one entry"));
        }
        if features == 0 {
            return Err(invalid("features", 0, "Y, the number of random features, must be at least 1"));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let omegas = (0..features * neurons).map(|_| standard_normal(&mut rng)).collect();
        Ok(RandomFeatureDam { neurons, features, beta, omegas, memory: vec![0.0; 2 * features], stored: 0 })
    }

    /// Y.
    pub fn features(&self) -> usize {
        self.features
    }

    /// Memories stored so far.
    pub fn stored(&self) -> usize {
        self.stored
    }

    /// Parameters held: Y·N frequencies and 2Y entries of T, whatever K is.
    pub fn parameters(&self) -> usize {
        self.omegas.len() + self.memory.len()
    }

    /// √β ω_j·x for every j.
    fn phases(&self, x: &[f64]) -> Vec<f64> {
        let s = self.beta.sqrt();
        self.omegas.chunks_exact(self.neurons).map(|w| s * w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>()).collect()
    }

    /// φ(x): Y^(−1/2) [cos h, sin h], 2Y entries.
    ///
    /// # Errors
    /// A state of the wrong length or with NaN/Inf.
    pub fn feature_map(&self, x: &[f64]) -> Result<Vec<f64>> {
        check_state(x, self.neurons)?;
        let h = self.phases(x);
        let scale = (self.features as f64).powf(-0.5);
        Ok(h.iter().map(|v| scale * v.cos()).chain(h.iter().map(|v| scale * v.sin())).collect())
    }

    /// Adds the memories `patterns` (K×N row-major) to T; the parameter count does not change.
    ///
    /// # Errors
    /// Ragged or non-finite patterns.
    pub fn store(&mut self, patterns: &[f64]) -> Result<()> {
        check_patterns(patterns, self.neurons)?;
        for p in patterns.chunks_exact(self.neurons) {
            let phi = self.feature_map(p)?;
            self.memory.iter_mut().zip(&phi).for_each(|(t, v)| *t += v);
            self.stored += 1;
        }
        Ok(())
    }

    /// φ(x)·T, the approximate Σ_μ exp(−(β/2) ‖x − ξ_μ‖²).
    ///
    /// # Errors
    /// A state of the wrong length or with NaN/Inf.
    pub fn similarity(&self, x: &[f64]) -> Result<f64> {
        let phi = self.feature_map(x)?;
        Ok(phi.iter().zip(&self.memory).map(|(a, b)| a * b).sum())
    }
}

impl Energy for RandomFeatureDam {
    fn neurons(&self) -> usize {
        self.neurons
    }

    /// Ẽ = −β⁻¹ log(φ·T) and ∇Ẽ = −β⁻¹ ∇(φ·T) / (φ·T), with
    /// ∇(φ·T) = √(β/Y) Σ_j ω_j (−sin h_j T^cos_j + cos h_j T^sin_j). Where the approximation falls
    /// below [`SIMILARITY_FLOOR`] (too few features for the query; it can be negative) it is clipped
    /// there, as in the paper's code: the energy is −β⁻¹ log of the floor and the gradient zero.
    fn energy_and_gradient(&self, x: &[f64]) -> (f64, Vec<f64>) {
        let y = self.features;
        let h = self.phases(x);
        let scale = (y as f64).powf(-0.5);
        let (tc, ts) = self.memory.split_at(y);
        let sim: f64 = h.iter().zip(tc.iter().zip(ts)).map(|(v, (c, s))| scale * (v.cos() * c + v.sin() * s)).sum();
        let mut grad = vec![0.0; self.neurons];
        if sim <= SIMILARITY_FLOOR {
            return (-SIMILARITY_FLOOR.ln() / self.beta, grad);
        }
        let k = -scale * self.beta.sqrt() / (self.beta * sim);
        for ((w, v), (c, s)) in self.omegas.chunks_exact(self.neurons).zip(&h).zip(tc.iter().zip(ts)) {
            let coef = k * (-v.sin() * c + v.cos() * s);
            grad.iter_mut().zip(w).for_each(|(g, wi)| *g += coef * wi);
        }
        (-sim.ln() / self.beta, grad)
    }
}
