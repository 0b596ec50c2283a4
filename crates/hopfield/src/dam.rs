//! The Dense Associative Memory classifier of Krotov & Hopfield (2016), "Dense Associative Memory
//! for Pattern Recognition": visible neurons v ∈ [−1, 1]^N (the pixels), C class neurons, K
//! memories ξ^μ over all N + C of them, F(x) = max(x, 0)^n.
//!
//! The class neuron α is read out with every class neuron off (at −1):
//!
//! c_α = tanh(β Σ_μ [F(ξ^μ_α − Σ_{γ≠α} ξ^μ_γ + Σ_i ξ^μ_i v_i) − F(−ξ^μ_α − Σ_{γ≠α} ξ^μ_γ + Σ_i ξ^μ_i v_i)]),
//!
//! β = 1/T^n, and the loss is Σ_α (c_α − t_α)^(2m) with targets t = ±1.
//!
//! With h_μ = Σ_i ξ^μ_i v_i and s_μ = Σ_γ ξ^μ_γ the two arguments are h_μ − s_μ + 2ξ^μ_α and
//! h_μ − s_μ, so β F(x) = max(x/T, 0)^n: dividing by T before the power keeps every number near
//! 1 at n = 20, m = 30 (x itself reaches N + C ≈ 800, and 800^20 overflows f32). The powers and
//! sums run in f64; the product h = V Ξᵀ and the gradient's Gᵀ V run through GEMM in `T`.

use crate::error::{invalid, positive, shape, Result};
use crate::linalg::{argmax, matmul, Op, Real};

/// The classifier's settings and memories.
#[derive(Debug, Clone, PartialEq)]
pub struct DamClassifier<T: Real> {
    /// N, visible neurons.
    pub visible: usize,
    /// C, class neurons.
    pub classes: usize,
    /// K memories, row-major [K, N + C]: the visible part first, then the C class entries.
    pub memories: Vec<T>,
    /// n, the degree of F.
    pub n: u32,
    /// T, the temperature (β = 1/T^n).
    pub temperature: f64,
}

/// The loss and its gradient with respect to every memory entry.
#[derive(Debug, Clone, PartialEq)]
pub struct LossAndGrad {
    /// Σ_b Σ_α (c_bα − t_bα)^(2m) over the batch.
    pub loss: f64,
    /// ∂loss/∂ξ, laid out as [`DamClassifier::memories`].
    pub grad: Vec<f64>,
    /// The outputs c, [B, C].
    pub outputs: Vec<f64>,
}

impl<T: Real> DamClassifier<T> {
    /// Builds a classifier from its memories, checking every setting.
    pub fn new(visible: usize, classes: usize, memories: Vec<T>, n: u32, temperature: f64) -> Result<Self> {
        if visible == 0 || classes < 2 {
            return Err(invalid("visible/classes", format!("{visible}/{classes}"), "at least 1 and 2"));
        }
        if n < 1 {
            return Err(invalid("n", n, "the degree of F must be at least 1"));
        }
        positive("temperature", temperature)?;
        let width = visible + classes;
        if memories.is_empty() || !memories.len().is_multiple_of(width) {
            return Err(shape("memories", format!("K × {width} values with K ≥ 1"), memories.len()));
        }
        if let Some(i) = memories.iter().position(|x| !x.to_f64().is_finite()) {
            return Err(invalid("memories", format!("value {:?} at {i}", memories[i]), "finite values"));
        }
        Ok(DamClassifier { visible, classes, memories, n, temperature })
    }

    /// K.
    pub fn count(&self) -> usize {
        self.memories.len() / (self.visible + self.classes)
    }

    fn check_batch(&self, v: &[T]) -> Result<usize> {
        if v.is_empty() || !v.len().is_multiple_of(self.visible) {
            return Err(shape("inputs", format!("B × {} values with B ≥ 1", self.visible), v.len()));
        }
        Ok(v.len() / self.visible)
    }

    /// The visible part of the memories, [K, N], and the class sums s_μ.
    fn split(&self) -> (Vec<T>, Vec<f64>) {
        let (n, c) = (self.visible, self.classes);
        let mut vis = Vec::with_capacity(self.count() * n);
        let mut sums = Vec::with_capacity(self.count());
        for row in self.memories.chunks(n + c) {
            vis.extend_from_slice(&row[..n]);
            sums.push(row[n..].iter().map(|x| x.to_f64()).sum());
        }
        (vis, sums)
    }

    /// h = V Ξ_visibleᵀ: [B, K].
    fn overlaps(&self, v: &[T], b: usize, vis: &[T]) -> Vec<T> {
        let k = self.count();
        let mut h = vec![T::ZERO; b * k];
        matmul(b, k, self.visible, v, Op::N, vis, Op::T, &mut h, T::ONE);
        h
    }

    /// The two arguments over T for input b and memory μ: q = (h − s)/T and, through
    /// `p(α)`, (h − s + 2ξ^μ_α)/T.
    fn arguments(&self, h: &[T], sums: &[f64], bi: usize, mu: usize) -> (f64, impl Fn(usize) -> f64 + '_) {
        let (k, w, t) = (self.count(), self.visible + self.classes, self.temperature);
        let base = h[bi * k + mu].to_f64() - sums[mu];
        let class = &self.memories[mu * w + self.visible..(mu + 1) * w];
        (base / t, move |a| (base + 2.0 * class[a].to_f64()) / t)
    }

    /// u_bα = Σ_μ [max(p, 0)^n − max(q, 0)^n], [B, C].
    fn drive(&self, h: &[T], b: usize, sums: &[f64]) -> Vec<f64> {
        let (k, c, n) = (self.count(), self.classes, self.n as i32);
        let f = |x: f64| if x > 0.0 { x.powi(n) } else { 0.0 };
        let mut u = vec![0f64; b * c];
        for bi in 0..b {
            for mu in 0..k {
                let (q, p) = self.arguments(h, sums, bi, mu);
                let fq = f(q);
                for a in 0..c {
                    u[bi * c + a] += f(p(a)) - fq;
                }
            }
        }
        u
    }

    /// The class outputs c = tanh(u), [B, C], for inputs `v` ([B, N], values in [−1, 1]).
    pub fn outputs(&self, v: &[T]) -> Result<Vec<f64>> {
        let b = self.check_batch(v)?;
        let (vis, sums) = self.split();
        let h = self.overlaps(v, b, &vis);
        Ok(self.drive(&h, b, &sums).into_iter().map(f64::tanh).collect())
    }

    /// The predicted class of each input: the largest output.
    pub fn predict(&self, v: &[T]) -> Result<Vec<usize>> {
        Ok(self.outputs(v)?.chunks(self.classes).map(argmax).collect())
    }

    /// The loss Σ (c − t)^(2m) with t_α = +1 for the label and −1 otherwise, and its gradient.
    pub fn loss_and_grad(&self, v: &[T], labels: &[usize], m: u32) -> Result<LossAndGrad> {
        let b = self.check_batch(v)?;
        if labels.len() != b {
            return Err(shape("labels", format!("{b} (one per input)"), labels.len()));
        }
        if let Some(&l) = labels.iter().find(|&&l| l >= self.classes) {
            return Err(shape("label", format!("a class in 0..{}", self.classes), l));
        }
        if m < 1 {
            return Err(invalid("m", m, "the loss power 2m needs m ≥ 1"));
        }
        let (k, c, nv, w) = (self.count(), self.classes, self.visible, self.visible + self.classes);
        let (vis, sums) = self.split();
        let h = self.overlaps(v, b, &vis);
        let u = self.drive(&h, b, &sums);
        let t = self.temperature;
        let n = self.n as i32;
        // F'(y)/T for y = x/T, the derivative of max(x/T, 0)^n with respect to x.
        let df = |y: f64| if y > 0.0 { self.n as f64 * y.powi(n - 1) / t } else { 0.0 };
        let mut loss = 0.0;
        let mut outputs = vec![0f64; b * c];
        let mut delta = vec![0f64; b * c];
        for bi in 0..b {
            for a in 0..c {
                let cv = u[bi * c + a].tanh();
                outputs[bi * c + a] = cv;
                let target = if labels[bi] == a { 1.0 } else { -1.0 };
                let e = cv - target;
                loss += e.powi(2 * m as i32);
                delta[bi * c + a] = 2.0 * m as f64 * e.powi(2 * m as i32 - 1) * (1.0 - cv * cv);
            }
        }
        let mut grad = vec![0f64; k * w];
        // G_bμ = ∂loss/∂h_bμ; class entries get their direct term and −Σ_b G_bμ through s_μ.
        let mut g_h = vec![T::ZERO; b * k];
        for bi in 0..b {
            for mu in 0..k {
                let (q, p) = self.arguments(&h, &sums, bi, mu);
                let dq = df(q);
                let mut g = 0.0;
                for a in 0..c {
                    let d = delta[bi * c + a];
                    let dp = df(p(a));
                    g += d * (dp - dq);
                    grad[mu * w + nv + a] += d * dp * 2.0;
                }
                g_h[bi * k + mu] = T::from_f64(g);
                for a in 0..c {
                    grad[mu * w + nv + a] -= g;
                }
            }
        }
        // ∂loss/∂ξ^μ_i = Σ_b G_bμ v_bi: Gᵀ V, [K, N].
        let mut g_vis = vec![T::ZERO; k * nv];
        matmul(k, nv, b, &g_h, Op::T, v, Op::N, &mut g_vis, T::ONE);
        for mu in 0..k {
            for i in 0..nv {
                grad[mu * w + i] = g_vis[mu * nv + i].to_f64();
            }
        }
        Ok(LossAndGrad { loss, grad, outputs })
    }
}
