//! The log-sum-ReLU (Epanechnikov) energy (Hoover, Shi, Balasubramanian, Krotov, Ram; NeurIPS 2025,
//! "Dense Associative Memory with Epanechnikov Energy"):
//!
//!   E(x) = −β⁻¹ log(ε + Σ_μ ReLU(1 − (β/2) ‖x − ξ_μ‖²)),
//!
//! a kernel density estimate with the Epanechnikov kernel of radius r = √(2/β) in the place of the
//! log-sum-exp's Gaussian. Where the active set S(x) = {μ : ‖x − ξ_μ‖ < r} is fixed, the sum is a
//! concave quadratic whose maximum is the centroid c_S of S, so
//!
//! - the natural update x ← c_{S(x)} (mean shift with the Epanechnikov kernel; gradient descent with
//!   step (ε + f)/|S|) never raises E and stops *exactly*, after finitely many updates;
//! - every local minimum is a centroid c_S whose active set is S itself: the stored patterns
//!   (|S| = 1: exact retrieval whenever no other pattern lies within r) and *emergent* minima
//!   (|S| ≥ 2) where kernels overlap — [`LogSumRelu::local_minima`] enumerates them all.
//!
//! Outside every kernel (f = 0) the energy is −β⁻¹ log ε (+∞ for ε = 0) and flat.

use super::modern::{check_patterns, check_state};
use crate::error::{invalid, positive, Result};

/// A dense associative memory with the log-sum-ReLU energy over K patterns of N reals.
#[derive(Debug, Clone)]
pub struct LogSumRelu {
    neurons: usize,
    memories: usize,
    patterns: Vec<f64>,
    beta: f64,
    eps: f64,
}

/// One local minimum of the energy: a centroid of the patterns whose kernels are active there.
#[derive(Debug, Clone, PartialEq)]
pub struct Minimum {
    /// The point, N entries.
    pub point: Vec<f64>,
    /// The patterns whose kernel is active at it (one: a stored pattern; more: emergent).
    pub members: Vec<usize>,
    /// E at the point.
    pub energy: f64,
}

impl Minimum {
    /// Whether the minimum is a stored pattern (one member) rather than an emergent one.
    pub fn is_stored(&self) -> bool {
        self.members.len() == 1
    }
}

/// Where [`LogSumRelu::retrieve`] stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    /// The final state.
    pub state: Vec<f64>,
    /// The active patterns there (empty: the query saw no kernel and stayed where it was).
    pub members: Vec<usize>,
    /// Updates until the state stopped moving.
    pub steps: usize,
    /// E before the first update and after each.
    pub energy: Vec<f64>,
}

/// The most cliques [`LogSumRelu::local_minima`] visits before it gives up.
pub const MAX_CANDIDATES: usize = 20_000_000;

fn sq_dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

impl LogSumRelu {
    /// Stores `patterns` (K×N row-major) with inverse width β (kernel radius √(2/β)) and floor ε ≥ 0.
    ///
    /// # Errors
    /// N = 0, no patterns, a ragged length, NaN/Inf entries, β ≤ 0 or not finite, ε < 0 or not finite.
    pub fn new(patterns: Vec<f64>, neurons: usize, beta: f64, eps: f64) -> Result<Self> {
        positive("beta", beta)?;
        if !(eps >= 0.0 && eps.is_finite()) {
            return Err(invalid("eps", eps, "the energy's floor ε must be zero or positive and finite"));
        }
        let memories = check_patterns(&patterns, neurons)?;
        Ok(LogSumRelu { neurons, memories, patterns, beta, eps })
    }

    /// The memory whose kernels have radius `width`: β = 2 / width².
    ///
    /// # Errors
    /// Those of [`LogSumRelu::new`]; a width that is not positive and finite.
    pub fn with_width(patterns: Vec<f64>, neurons: usize, width: f64, eps: f64) -> Result<Self> {
        positive("width", width)?;
        Self::new(patterns, neurons, 2.0 / (width * width), eps)
    }

    /// N.
    pub fn neurons(&self) -> usize {
        self.neurons
    }
    /// K.
    pub fn memories(&self) -> usize {
        self.memories
    }
    /// β.
    pub fn beta(&self) -> f64 {
        self.beta
    }
    /// The kernels' radius √(2/β).
    pub fn width(&self) -> f64 {
        (2.0 / self.beta).sqrt()
    }
    /// Pattern μ.
    pub fn pattern(&self, mu: usize) -> &[f64] {
        &self.patterns[mu * self.neurons..(mu + 1) * self.neurons]
    }

    fn check(&self, x: &[f64]) -> Result<()> {
        check_state(x, self.neurons)
    }

    /// The patterns whose kernel is active at `x` (‖x − ξ_μ‖² < 2/β) and the kernel sum f(x).
    fn active(&self, x: &[f64]) -> (Vec<usize>, f64) {
        let r2 = 2.0 / self.beta;
        let mut members = Vec::new();
        let mut f = 0.0;
        for mu in 0..self.memories {
            let d2 = sq_dist(x, self.pattern(mu));
            if d2 < r2 {
                members.push(mu);
                f += 1.0 - 0.5 * self.beta * d2;
            }
        }
        (members, f)
    }

    fn energy_of_sum(&self, f: f64) -> f64 {
        let total = self.eps + f;
        if total > 0.0 {
            -total.ln() / self.beta
        } else {
            f64::INFINITY
        }
    }

    /// E(x).
    ///
    /// # Errors
    /// A state of the wrong length or with NaN/Inf.
    pub fn energy(&self, x: &[f64]) -> Result<f64> {
        self.check(x)?;
        Ok(self.energy_of_sum(self.active(x).1))
    }

    /// ∇E(x) = Σ_{μ ∈ S(x)} (x − ξ_μ) / (ε + f(x)); zero where no kernel is active.
    ///
    /// # Errors
    /// As [`LogSumRelu::energy`].
    pub fn gradient(&self, x: &[f64]) -> Result<Vec<f64>> {
        self.check(x)?;
        let (members, f) = self.active(x);
        let mut g = vec![0.0; self.neurons];
        if members.is_empty() {
            return Ok(g);
        }
        let scale = 1.0 / (self.eps + f);
        for &mu in &members {
            for (gi, (xi, pi)) in g.iter_mut().zip(x.iter().zip(self.pattern(mu))) {
                *gi += scale * (xi - pi);
            }
        }
        Ok(g)
    }

    fn centroid(&self, members: &[usize]) -> Vec<f64> {
        let mut c = vec![0.0; self.neurons];
        for &mu in members {
            c.iter_mut().zip(self.pattern(mu)).for_each(|(a, b)| *a += b);
        }
        c.iter_mut().for_each(|v| *v /= members.len() as f64);
        c
    }

    /// One update: the centroid of the patterns active at `x`, or `x` itself where none is.
    ///
    /// # Errors
    /// As [`LogSumRelu::energy`].
    pub fn update(&self, x: &[f64]) -> Result<Vec<f64>> {
        self.check(x)?;
        let (members, _) = self.active(x);
        Ok(if members.is_empty() { x.to_vec() } else { self.centroid(&members) })
    }

    /// Updates from `x` until the active set repeats (the state is then a fixed point, exactly) or
    /// `max_steps` updates were made.
    ///
    /// # Errors
    /// As [`LogSumRelu::energy`]; `max_steps` = 0.
    pub fn retrieve(&self, x: &[f64], max_steps: usize) -> Result<Settled> {
        self.check(x)?;
        if max_steps == 0 {
            return Err(invalid("max_steps", 0, "must be at least 1"));
        }
        let (mut members, f) = self.active(x);
        let mut state = x.to_vec();
        let mut energy = vec![self.energy_of_sum(f)];
        let mut steps = 0;
        while steps < max_steps && !members.is_empty() {
            let next = self.centroid(&members);
            steps += 1;
            let (next_members, f) = self.active(&next);
            energy.push(self.energy_of_sum(f));
            let moved = next != state;
            state = next;
            let same = next_members == members;
            members = next_members;
            if !moved || same {
                break;
            }
        }
        Ok(Settled { state, members, steps, energy })
    }

    /// Every local minimum of E, found exactly: the centroids c_S of the sets S of patterns whose
    /// kernels all overlap (pairwise distance < 2r, a clique) and whose active set at c_S is S
    /// itself. Sorted by size of S, then members.
    ///
    /// # Errors
    /// More than [`MAX_CANDIDATES`] candidate sets (the kernels overlap too much to enumerate).
    pub fn local_minima(&self) -> Result<Vec<Minimum>> {
        let k = self.memories;
        let r2 = 2.0 / self.beta;
        // Two kernels overlap when their centres are closer than 2r: (2r)² = 4 r².
        let near: Vec<Vec<bool>> = (0..k)
            .map(|a| (0..k).map(|b| a != b && sq_dist(self.pattern(a), self.pattern(b)) < 4.0 * r2).collect())
            .collect();
        let mut found = Vec::new();
        let mut visited = 0usize;
        let mut stack: Vec<(Vec<usize>, Vec<f64>)> =
            (0..k).rev().map(|mu| (vec![mu], self.pattern(mu).to_vec())).collect();
        while let Some((set, sum)) = stack.pop() {
            visited += 1;
            if visited > MAX_CANDIDATES {
                return Err(invalid(
                    "width",
                    self.width(),
                    "too wide to enumerate the minima: the kernels overlap in more than 20 million sets",
                ));
            }
            let c: Vec<f64> = sum.iter().map(|v| v / set.len() as f64).collect();
            let (members, f) = self.active(&c);
            if members == set {
                found.push(Minimum { point: c, members, energy: self.energy_of_sum(f) });
            }
            let last = *set.last().expect("non-empty set");
            for next in (last + 1..k).rev() {
                if set.iter().all(|&m| near[m][next]) {
                    let mut s = set.clone();
                    s.push(next);
                    let sum2: Vec<f64> = sum.iter().zip(self.pattern(next)).map(|(a, b)| a + b).collect();
                    stack.push((s, sum2));
                }
            }
        }
        found.sort_by(|a, b| a.members.len().cmp(&b.members.len()).then_with(|| a.members.cmp(&b.members)));
        Ok(found)
    }
}
