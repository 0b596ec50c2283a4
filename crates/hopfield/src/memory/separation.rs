//! Separation functions F of the binary Dense Associative Memory, E(σ) = −Σ_μ F(ξ^μ·σ).

use crate::error::{invalid, Result};

/// The separation function F of a [`DenseMemory`](super::DenseMemory).
#[derive(Debug, Clone, Copy, PartialEq)]
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

    /// Sign of Σ_μ [F(a_μ) − F(b_μ)] with a_μ = s_μ + ξ_μ, b_μ = s_μ − ξ_μ, computed so that it
    /// neither overflows nor underflows: each term is scaled by the largest one. `s` holds the
    /// local fields s_μ = Σ_{j≠i} ξ^μ_j σ_j and `xi` the entries ξ^μ_i.
    pub(crate) fn update_sign(&self, s: &[i32], xi: &[i8]) -> i8 {
        let delta: f64 = match *self {
            Separation::Classical => {
                // F(s+ξ) − F(s−ξ) = 2 s ξ: exact in integers.
                let d: i64 = s.iter().zip(xi).map(|(&s, &x)| s as i64 * x as i64).sum();
                d as f64
            }
            Separation::Polynomial { n } | Separation::RectifiedPolynomial { n } => {
                let rectified = matches!(self, Separation::RectifiedPolynomial { .. });
                let scale = s.iter().map(|v| v.unsigned_abs()).max().unwrap_or(0) as f64 + 1.0;
                let inv = 1.0 / scale;
                let pow = |v: f64| {
                    let v = if rectified { v.max(0.0) } else { v };
                    (v * inv).powi(n as i32)
                };
                s.iter()
                    .zip(xi)
                    .map(|(&s, &x)| {
                        let (s, x) = (s as f64, x as f64);
                        pow(s + x) - pow(s - x)
                    })
                    .sum()
            }
            Separation::Exponential => {
                let max = s.iter().copied().max().unwrap_or(0) as f64 + 1.0;
                s.iter()
                    .zip(xi)
                    .map(|(&s, &x)| {
                        let (s, x) = (s as f64 - max, x as f64);
                        (s + x).exp() - (s - x).exp()
                    })
                    .sum()
            }
        };
        if delta > 0.0 {
            1
        } else if delta < 0.0 {
            -1
        } else {
            0
        }
    }
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
