//! Separation functions F of the binary Dense Associative Memory, E(σ) = −Σ_μ F(ξ^μ·σ).

use crate::error::{invalid, Result};

/// The largest polynomial degree n the memories take.
pub const MAX_DEGREE: u32 = 1000;

/// The separation function F of a [`DenseMemory`](super::DenseMemory).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Separation {
    /// F(x) = x²/2: the classical Hopfield network with Hebbian weights W = Σ_μ ξ^μ ξ^μᵀ.
    Classical,
    /// F(x) = xⁿ, n ≥ 2 (Krotov & Hopfield 2016).
    Polynomial {
        /// Degree n.
        n: u32,
    },
    /// F(x) = max(x, 0)ⁿ, n ≥ 2: the form used on MNIST in the 2016 paper.
    RectifiedPolynomial {
        /// Degree n.
        n: u32,
    },
    /// F(x) = eˣ (Demircigil et al. 2017); evaluated in log space.
    Exponential,
}

impl Separation {
    /// Checks the parameters: polynomial degrees must be at least 2.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Separation::Polynomial { n } | Separation::RectifiedPolynomial { n } if n < 2 => {
                Err(invalid("n", n, "the polynomial degree must be at least 2"))
            }
            Separation::Polynomial { n } | Separation::RectifiedPolynomial { n } if n > MAX_DEGREE => Err(invalid(
                "n",
                n,
                "the polynomial degree must be at most 1000: beyond it xⁿ leaves only exact matches within f64 \
                 and the theory's (2n−3)!! overflows",
            )),
            _ => Ok(()),
        }
    }

    /// F(x), unscaled. Overflows for large arguments of the exponential or high degrees: the
    /// memory itself never calls this, it is the obviously-correct reference for tests.
    pub fn f(&self, x: f64) -> f64 {
        match *self {
            Separation::Classical => 0.5 * x * x,
            Separation::Polynomial { n } => x.powi(n as i32),
            Separation::RectifiedPolynomial { n } => x.max(0.0).powi(n as i32),
            Separation::Exponential => x.exp(),
        }
    }

    /// F(x)/F(N) computed without overflow (x = an overlap, |x| ≤ N): the energy's units.
    pub fn f_normalised(&self, x: f64, neurons: usize) -> f64 {
        let nn = neurons as f64;
        match *self {
            Separation::Classical => (x / nn) * (x / nn),
            Separation::Polynomial { n } => (x / nn).powi(n as i32),
            Separation::RectifiedPolynomial { n } => (x / nn).max(0.0).powi(n as i32),
            Separation::Exponential => (x - nn).exp(),
        }
    }

    /// Sign of Σ_μ [F(s_μ + ξ_μ) − F(s_μ − ξ_μ)] for neuron i, where `xi` holds ξ^μ_i,
    /// `overlaps` the m_μ = ξ^μ·σ, `sigma_i` = σ_i, and s_μ = m_μ − ξ^μ_i σ_i is the local field.
    ///
    /// Since ξ = ±1, each term is ξ_μ [F(s_μ + 1) − F(s_μ − 1)]. It is computed so that it neither
    /// overflows nor underflows: terms are scaled by the largest one.
    ///
    /// `table`, when given, is [`Separation::power_table`]'s: the terms are looked up.
    pub(crate) fn update_sign(&self, overlaps: &[i32], xi: &[i8], sigma_i: i8, table: Option<&[f64]>) -> i8 {
        let si = sigma_i as i32;
        let local = |m: i32, x: i8| m - x as i32 * si;
        let delta: (f64, f64) = match (*self, table) {
            (Separation::Polynomial { .. } | Separation::RectifiedPolynomial { .. }, Some(t)) => {
                let off = (t.len() / 2) as i32;
                sum_with_magnitude(overlaps.iter().zip(xi).map(|(&m, &x)| x as f64 * t[(local(m, x) + off) as usize]))
            }
            (Separation::Exponential, Some(t)) => {
                let off = (t.len() / 2) as i32;
                let max = overlaps.iter().zip(xi).map(|(&m, &x)| local(m, x)).max().unwrap_or(0);
                if max - off + 1 >= -600 {
                    // The largest term is ≥ e^-600, so entries that underflow to 0 are negligible.
                    sum_with_magnitude(
                        overlaps.iter().zip(xi).map(|(&m, &x)| x as f64 * t[(local(m, x) + off) as usize]),
                    )
                } else {
                    self.update_delta_direct(overlaps, xi, si)
                }
            }
            (sep, _) => sep.update_delta_direct(overlaps, xi, si),
        };
        // A difference within the rounding error of a K-term sum is a tie: the neuron keeps its value.
        let (sum, magnitude) = delta;
        let n = match *self {
            Separation::Polynomial { n } | Separation::RectifiedPolynomial { n } => n as f64,
            _ => 1.0,
        };
        let tol = 4.0 * f64::EPSILON * (xi.len() as f64 + n) * magnitude;
        if sum > tol {
            1
        } else if sum < -tol {
            -1
        } else {
            0
        }
    }

    /// The term an update needs for every local field s = −(N+1)..=N+1 (index s + N + 1), up to
    /// a positive factor, so that an update looks terms up instead of computing powers.
    ///
    /// Polynomial kinds: [F(s+1) − F(s−1)] / (N+1)ⁿ, summed as 2 Σ_{k odd} C(n,k) sⁿ⁻ᵏ so that the
    /// difference keeps full relative precision (no cancellation); only when no entry that matters
    /// can underflow (n·log10(N+1) ≤ 280), else `None` (the update then scales per neuron).
    /// Exponential: e^(s − N − 1), since e^(s+ξ) − e^(s−ξ) = ξ (e − 1/e) eˢ; used when the largest
    /// term of an update is above e^-600. Classical: `None` (the update is exact in integers).
    pub(crate) fn power_table(&self, neurons: usize) -> Option<Vec<f64>> {
        let half = neurons as i64 + 1;
        let (n, rectified) = match *self {
            Separation::Polynomial { n } => (n, false),
            Separation::RectifiedPolynomial { n } => (n, true),
            Separation::Exponential => return Some((-half..=half).map(|v| ((v - half) as f64).exp()).collect()),
            Separation::Classical => return None,
        };
        let top = half as f64;
        if n as f64 * top.log10() > 280.0 {
            return None;
        }
        // C(n, k) for k = 0..=n.
        let mut binom = vec![1.0f64; n as usize + 1];
        for k in 1..=n as usize {
            binom[k] = binom[k - 1] * (n as usize + 1 - k) as f64 / k as f64;
        }
        let diff = |s: i64| -> f64 {
            match (rectified, s) {
                (true, s) if s <= -1 => 0.0,
                (true, 0) => top.powi(-(n as i32)),
                _ => {
                    let x = s as f64 / top;
                    (1..=n as usize)
                        .step_by(2)
                        .map(|k| 2.0 * binom[k] * x.powi((n as usize - k) as i32) * top.powi(-(k as i32)))
                        .sum()
                }
            }
        };
        Some((-half..=half).map(diff).collect())
    }

    /// Σ_μ ξ_μ [F(s_μ + 1) − F(s_μ − 1)] (up to a positive factor) and the sum of the terms'
    /// magnitudes, without the table.
    fn update_delta_direct(&self, overlaps: &[i32], xi: &[i8], si: i32) -> (f64, f64) {
        let local = |m: i32, x: i8| m - x as i32 * si;
        match *self {
            Separation::Classical => {
                // F(s+ξ) − F(s−ξ) = 2 s ξ, and Σ_μ s_μ ξ_μ = Σ_μ m_μ ξ_μ − K σ_i: exact in integers.
                let d: i64 = overlaps.iter().zip(xi).map(|(&m, &x)| (m * x as i32) as i64).sum();
                ((d - xi.len() as i64 * si as i64) as f64, 0.0)
            }
            Separation::Polynomial { n } | Separation::RectifiedPolynomial { n } => {
                let rectified = matches!(self, Separation::RectifiedPolynomial { .. });
                let max = overlaps.iter().zip(xi).map(|(&m, &x)| local(m, x).unsigned_abs()).max().unwrap_or(0);
                let inv = 1.0 / (max as f64 + 1.0);
                let pow = |v: f64| {
                    let v = if rectified { v.max(0.0) } else { v };
                    (v * inv).powi(n as i32)
                };
                sum_with_magnitude(overlaps.iter().zip(xi).map(|(&m, &x)| {
                    let s = local(m, x) as f64;
                    x as f64 * (pow(s + 1.0) - pow(s - 1.0))
                }))
            }
            Separation::Exponential => {
                // e^(s+ξ) − e^(s−ξ) = ξ (e − 1/e) e^s: one exponential per memory, shifted by the max.
                let max = overlaps.iter().zip(xi).map(|(&m, &x)| local(m, x)).max().unwrap_or(0);
                sum_with_magnitude(
                    overlaps.iter().zip(xi).map(|(&m, &x)| x as f64 * ((local(m, x) - max) as f64).exp()),
                )
            }
        }
    }
}

/// (Σ terms, Σ |terms|).
fn sum_with_magnitude(terms: impl Iterator<Item = f64>) -> (f64, f64) {
    terms.fold((0.0, 0.0), |(s, a), t| (s + t, a + t.abs()))
}

impl std::fmt::Display for Separation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Separation::Classical => write!(f, "classical (F = x²/2)"),
            Separation::Polynomial { n } => write!(f, "polynomial (F = x^{n})"),
            Separation::RectifiedPolynomial { n } => write!(f, "rectified polynomial (F = max(x,0)^{n})"),
            Separation::Exponential => write!(f, "exponential (F = e^x)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The table look-up (fast path) and the per-neuron scaled computation (its slow twin) agree.
    #[test]
    fn table_and_direct_updates_agree() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let seps = [
            Separation::Polynomial { n: 2 },
            Separation::Polynomial { n: 3 },
            Separation::Polynomial { n: 7 },
            Separation::RectifiedPolynomial { n: 4 },
            Separation::RectifiedPolynomial { n: 30 },
            Separation::Exponential,
        ];
        let mut checked = 0;
        for sep in seps {
            for &(n, k) in &[(16usize, 5usize), (100, 40), (784, 60)] {
                let table = sep.power_table(n).expect("table exists at these sizes");
                for _ in 0..200 {
                    let xi: Vec<i8> = (0..k).map(|_| if rng.random::<bool>() { 1 } else { -1 }).collect();
                    let si: i8 = if rng.random::<bool>() { 1 } else { -1 };
                    // Local fields s = Σ_{j≠i} ξ_j σ_j: |s| ≤ N − 1 with the parity of N − 1; drawn
                    // around a random centre so that near-ties between terms occur; m = s + ξ σ_i.
                    let lim = n as i32 - 1;
                    let centre = rng.random_range(-lim..=lim);
                    let overlaps: Vec<i32> = xi
                        .iter()
                        .map(|&x| {
                            let mut s = (centre + rng.random_range(-8..=8)).clamp(-lim, lim);
                            if (s - lim) % 2 != 0 {
                                s -= s.signum().max(1) * if s == -lim { -1 } else { 1 };
                            }
                            s + x as i32 * si as i32
                        })
                        .collect();
                    let fast = sep.update_sign(&overlaps, &xi, si, Some(&table));
                    let slow = sep.update_sign(&overlaps, &xi, si, None);
                    assert_eq!(fast, slow, "{sep} N={n}: overlaps {overlaps:?}, xi {xi:?}, sigma {si}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 6 * 3 * 200);
    }
}
