//! The Hopfield–Fenchel–Young family (Santos et al., ICML 2024, "Sparse and Structured Hopfield
//! Networks"; Hu et al., NeurIPS 2023, "On Sparse Modern Hopfield Model"): the softmax of the
//! modern Hopfield update replaced by a regularised argmax over the probability simplex,
//!
//!   ŷ_Ω(z) = argmax_{p ∈ Δ} p·z − Ω(p),    Ω*(z) = max_{p ∈ Δ} p·z − Ω(p),
//!
//! with ∇Ω* = ŷ_Ω (Danskin). Ω* is the hidden layer's Lagrangian; ŷ_Ω its activation.
//!
//! | transform | Ω(p) | ŷ_Ω(z) | one-step exact retrieval when the score margin exceeds |
//! |---|---|---|---|
//! | [`Transform::Softmax`] | Σ p log p | softmax(z) | never (the residual falls like e^(−margin)) |
//! | [`Transform::Entmax`] α ∈ (1, 2] | (Σ pᵅ − 1) / (α(α − 1)) (Tsallis) | [(α − 1)z − τ]₊^(1/(α−1)) | 1 / (α − 1) |
//! | [`Transform::Normmax`] | ‖p‖₂ − 1 | (z − τ)₊ / Σ (z − τ)₊ with ‖(z − τ)₊‖₂ = 1 | 1 |
//!
//! α = 1 is softmax; α = 2 is sparsemax (the Euclidean projection onto the simplex, computed by
//! sorting, exactly). The other α and normmax find their threshold τ by bisection to machine
//! precision and renormalise, so a one-entry support gives exactly one 1.0 and zeros.

use crate::error::{invalid, Result};

/// The map from scores to weights over the stored patterns, and its convex conjugate.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Transform {
    /// softmax: Ω = Shannon negentropy, Ω* = log-sum-exp.
    Softmax,
    /// α-entmax, α ∈ [1, 2]: Ω = Tsallis α-negentropy (α = 1 softmax, α = 2 sparsemax).
    Entmax {
        /// α.
        alpha: f64,
    },
    /// 2-normmax: Ω(p) = ‖p‖₂ − 1.
    Normmax,
}

impl std::fmt::Display for Transform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Transform::Softmax => write!(f, "softmax"),
            Transform::Entmax { alpha: 2.0 } => write!(f, "sparsemax"),
            Transform::Entmax { alpha } => write!(f, "{alpha}-entmax"),
            Transform::Normmax => write!(f, "normmax"),
        }
    }
}

/// Bisection steps: the bracket is at most 1 wide, so 200 halvings reach the spacing of f64 anywhere.
const BISECTIONS: usize = 200;

impl Transform {
    /// Sparsemax, α = 2.
    pub const SPARSEMAX: Transform = Transform::Entmax { alpha: 2.0 };

    /// Checks α ∈ [1, 2].
    ///
    /// # Errors
    /// α outside [1, 2] or not finite, naming the value.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Transform::Entmax { alpha } if !(1.0..=2.0).contains(&alpha) => {
                Err(invalid("alpha", alpha, "α-entmax needs α in [1, 2] (1 = softmax, 2 = sparsemax)"))
            }
            _ => Ok(()),
        }
    }

    /// The score margin (in units of z = β·x_μᵀξ) above which the weights put all their mass on the
    /// top entry: 1/(α − 1) for α-entmax, 1 for normmax; `None` for softmax (never exactly).
    pub fn exact_margin(&self) -> Option<f64> {
        match *self {
            Transform::Softmax => None,
            Transform::Entmax { alpha } if alpha <= 1.0 => None,
            Transform::Entmax { alpha } => Some(1.0 / (alpha - 1.0)),
            Transform::Normmax => Some(1.0),
        }
    }

    /// Writes ŷ_Ω(z) into `out` and returns Ω*(z). `z` must be finite and non-empty.
    pub fn apply(&self, z: &[f64], out: &mut [f64]) -> f64 {
        debug_assert_eq!(z.len(), out.len());
        match *self {
            Transform::Softmax => softmax(z, out),
            Transform::Entmax { alpha } if alpha <= 1.0 => softmax(z, out),
            Transform::Entmax { alpha: 2.0 } => {
                sparsemax(z, out);
                conjugate(z, out, tsallis(out, 2.0))
            }
            Transform::Entmax { alpha } => {
                entmax_bisect(z, alpha, out);
                conjugate(z, out, tsallis(out, alpha))
            }
            Transform::Normmax => {
                normmax(z, out);
                conjugate(z, out, out.iter().map(|p| p * p).sum::<f64>().sqrt() - 1.0)
            }
        }
    }

    /// Ω(p) of a point of the simplex.
    pub fn regulariser(&self, p: &[f64]) -> f64 {
        match *self {
            Transform::Softmax => p.iter().filter(|&&v| v > 0.0).map(|v| v * v.ln()).sum(),
            Transform::Entmax { alpha } if alpha <= 1.0 => Transform::Softmax.regulariser(p),
            Transform::Entmax { alpha } => tsallis(p, alpha),
            Transform::Normmax => p.iter().map(|v| v * v).sum::<f64>().sqrt() - 1.0,
        }
    }
}

/// p·z − Ω(p).
fn conjugate(z: &[f64], p: &[f64], omega: f64) -> f64 {
    z.iter().zip(p).map(|(a, b)| a * b).sum::<f64>() - omega
}

/// Tsallis α-negentropy (Σ pᵅ − 1) / (α(α − 1)).
fn tsallis(p: &[f64], alpha: f64) -> f64 {
    (p.iter().filter(|&&v| v > 0.0).map(|v| v.powf(alpha)).sum::<f64>() - 1.0) / (alpha * (alpha - 1.0))
}

/// softmax into `out`; returns log Σ exp z.
fn softmax(z: &[f64], out: &mut [f64]) -> f64 {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for (o, v) in out.iter_mut().zip(z) {
        *o = (v - max).exp();
        sum += *o;
    }
    out.iter_mut().for_each(|o| *o /= sum);
    max + sum.ln()
}

/// Sparsemax by sorting (Martins & Astudillo 2016): the support is the largest k with
/// 1 + k z_(k) > Σ_{j ≤ k} z_(j), τ = (Σ_{j ≤ k} z_(j) − 1) / k.
fn sparsemax(z: &[f64], out: &mut [f64]) {
    let mut sorted = z.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let (mut cumulative, mut tau) = (0.0, sorted[0] - 1.0);
    for (k, v) in sorted.iter().enumerate() {
        cumulative += v;
        let candidate = (cumulative - 1.0) / (k + 1) as f64;
        if *v > candidate {
            tau = candidate;
        } else {
            break;
        }
    }
    for (o, v) in out.iter_mut().zip(z) {
        *o = (v - tau).max(0.0);
    }
    // z_1 − (z_1 − 1) can miss 1 by a rounding: a one-entry support becomes exactly 1.0.
    normalise(out);
}

/// Bisection for the τ at which `mass(τ)` (decreasing in τ) is 1, in [lo, hi]; returns the τ whose
/// mass is still ≥ 1 (so the support is never empty).
fn bisect(mut lo: f64, mut hi: f64, mass: impl Fn(f64) -> f64) -> f64 {
    for _ in 0..BISECTIONS {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if mass(mid) >= 1.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// α-entmax, 1 < α < 2, by bisection on τ (Blondel et al. 2019): p_i = [(α − 1)z_i − τ]₊^(1/(α−1)),
/// τ ∈ [(α − 1)max z − 1, (α − 1)max z − K^(1−α)], then renormalised.
fn entmax_bisect(z: &[f64], alpha: f64, out: &mut [f64]) {
    let a = alpha - 1.0;
    let power = 1.0 / a;
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max) * a;
    let mass = |tau: f64| z.iter().map(|v| (a * v - tau).max(0.0).powf(power)).sum::<f64>();
    let tau = bisect(max - 1.0, max - (z.len() as f64).powf(-a), mass);
    for (o, v) in out.iter_mut().zip(z) {
        *o = (a * v - tau).max(0.0).powf(power);
    }
    normalise(out);
}

/// 2-normmax: τ with ‖(z − τ)₊‖₂ = 1, τ ∈ [max z − 1, max z − K^(−1/2)]; p = (z − τ)₊ / Σ (z − τ)₊.
fn normmax(z: &[f64], out: &mut [f64]) {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let norm = |tau: f64| z.iter().map(|v| (v - tau).max(0.0).powi(2)).sum::<f64>().sqrt();
    let tau = bisect(max - 1.0, max - (z.len() as f64).powf(-0.5), norm);
    for (o, v) in out.iter_mut().zip(z) {
        *o = (v - tau).max(0.0);
    }
    normalise(out);
}

fn normalise(p: &mut [f64]) {
    let sum: f64 = p.iter().sum();
    p.iter_mut().for_each(|v| *v /= sum);
}

impl std::str::FromStr for Transform {
    type Err = crate::Error;

    /// `softmax`, `sparsemax`, `normmax`, `entmax` (α = 1.5), `<α>-entmax` or `entmax:<α>`; α is
    /// checked to lie in [1, 2].
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim().to_ascii_lowercase();
        let parsed = match t.as_str() {
            "softmax" => Transform::Softmax,
            "sparsemax" => Transform::SPARSEMAX,
            "normmax" => Transform::Normmax,
            "entmax" => Transform::Entmax { alpha: 1.5 },
            other => {
                let alpha = other.strip_suffix("-entmax").or_else(|| other.strip_prefix("entmax:"));
                match alpha.and_then(|a| a.parse::<f64>().ok()) {
                    Some(alpha) => Transform::Entmax { alpha },
                    None => {
                        return Err(invalid(
                            "transform",
                            s,
                            "softmax, sparsemax, normmax, entmax (α = 1.5), <α>-entmax or entmax:<α>",
                        ))
                    }
                }
            }
        };
        parsed.validate()?;
        Ok(parsed)
    }
}
