//! The descent as plain-buffer routines over `gemm` and rayon (issue 12): the weights are read
//! once, the work buffers allocated once per call, every product is one `gemm` call on strided
//! views — no transpose or per-head copy is materialised — the token-wise products run over all
//! B·N tokens at once (multi-threaded GEMMs) and the per-head attention over examples in
//! parallel. Per step, with g = LN(x):
//!
//! Q' = β g W^Qᵀ, K = g W^Kᵀ (two GEMMs over all heads); per head, the logits Q'_h K_hᵀ, the
//! masked softmax S_h in place, and Σ_B S_hAB K_hB, Σ_C S_hCA Q'_hC written into their head's
//! columns; then x += α (S K) W^Q + (α/β) (Sᵀ Q') W^K + α act(g ξᵀ) ξ — the same step as
//! [`super::Implementation::Folded`], without the tensor library's per-op buffers. On an AVX-512
//! CPU the per-head attention (f32) runs on the kernels of [`head`] instead of three `gemm` calls
//! and a softmax pass: the same values, in ≈ 70% of the time (≈ 60% with the attention placed
//! before the Hopfield module, as [`Work::step`] does).
//!
//! - [`Work::step`]: one step on the block's buffers; inference runs the T steps on one `Work`;
//! - [`backward::backward`]: the step's hand-written reverse pass over the buffers a training
//!   step kept; [`op`] makes the steps a burn operation (T steps in one call for inference, one
//!   recorded operation a step under autodiff), which training records instead of the dozens of
//!   tensor ops of the folded step.
//!
//! Generic over f32 and f64 (the f64 form is what the finite-difference test checks).
//! Padded tokens are no key and no query and move by exactly 0.

pub(crate) mod backward;
#[cfg(target_arch = "x86_64")]
mod head;
pub(crate) mod op;
pub(crate) mod pool;

use rayon::prelude::*;

pub(crate) use crate::linalg::{gemm_into as matmul, lanes, softmax_in_place, Exp, Real, View};

/// What the fused routines need of a float type beyond [`Real`]: its buffer pool and its
/// attention kernels.
pub(crate) trait Kernels: Real {
    /// The buffers kept for reuse ([`pool`]).
    fn pool() -> &'static std::sync::Mutex<pool::Pool<Self>>;

    /// One head's attention on kernels written for this type and CPU: S = softmax(Q'_h K_hᵀ)
    /// (when `softmax`; else the logits, then `mask` on them), S K_h and Sᵀ Q'_h; `kt` is
    /// scratch. False where there are none: the caller computes it.
    fn attention_head(
        _: Head<'_, Self>,
        _kt: &mut Vec<Self>,
        _softmax: bool,
        _mask: &mut dyn FnMut(&mut [Self]),
    ) -> bool {
        false
    }
}
impl Kernels for f32 {
    fn attention_head(h: Head<'_, f32>, kt: &mut Vec<f32>, softmax: bool, mask: &mut dyn FnMut(&mut [f32])) -> bool {
        #[cfg(target_arch = "x86_64")]
        return head::attention(h, kt, softmax, mask);
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (h, kt, softmax, mask);
            false
        }
    }
    fn pool() -> &'static std::sync::Mutex<pool::Pool<f32>> {
        static POOL: std::sync::Mutex<pool::Pool<f32>> = std::sync::Mutex::new(pool::Pool::new());
        &POOL
    }
}
impl Kernels for f64 {
    fn pool() -> &'static std::sync::Mutex<pool::Pool<f64>> {
        static POOL: std::sync::Mutex<pool::Pool<f64>> = std::sync::Mutex::new(pool::Pool::new());
        &POOL
    }
}

/// What the routines read of a block, as plain buffers.
#[derive(Debug, Clone)]
pub(crate) struct FusedBlock<T> {
    pub h: usize,
    pub y: usize,
    pub d: usize,
    pub m: usize,
    /// W^Q, W^K: [H·Y, D].
    pub wq: Vec<T>,
    pub wk: Vec<T>,
    /// ξ: [M, D].
    pub xi: Vec<T>,
    pub gamma: T,
    /// δ: [D].
    pub delta: Vec<T>,
    pub eps: T,
    pub beta: T,
    /// `None`: ReLU² memories; `Some(β)`: softmax memories.
    pub hopfield_beta: Option<T>,
    pub exclude_self: bool,
    /// α, the step size: the step is x += α (…), and its backward scales by it.
    pub alpha: T,
}

impl<T: Kernels> FusedBlock<T> {
    /// A block of H, Y, D, M from its weights W^Q, W^K ([H·Y, D]), ξ ([M, D]), δ ([D]), γ and the
    /// step's constants (α among them: the one way the step size reaches the fused routines).
    pub fn new(
        [h, y, d, m]: [usize; 4],
        [wq, wk, xi, delta]: [Vec<T>; 4],
        gamma: T,
        settings: &op::StepSettings,
    ) -> Self {
        FusedBlock {
            h,
            y,
            d,
            m,
            wq,
            wk,
            xi,
            gamma,
            delta,
            eps: T::from_f64(settings.eps),
            beta: T::from_f64(settings.beta),
            hopfield_beta: settings.hopfield_beta.map(T::from_f64),
            exclude_self: settings.exclude_self,
            alpha: T::from_f64(settings.alpha),
        }
    }
}

/// The mask as plain buffers: real tokens [B, N] and pair weights [B, Hp, N, N] (Hp = 1 or H).
#[derive(Debug, Clone, Copy)]
pub(crate) struct FusedMask<'a, T> {
    pub real: Option<&'a [T]>,
    pub pairs: Option<(&'a [T], usize)>,
}

impl<T: Kernels> FusedMask<'_, T> {
    fn real_of(&self, token: usize) -> T {
        self.real.map_or(T::ONE, |r| r[token])
    }

    /// Example b's real tokens and its pair weights of head h ([N, N]).
    fn of_example(&self, b: usize, h: usize, n: usize) -> (Option<&[T]>, Option<&[T]>) {
        let real = self.real.map(|r| &r[b * n..(b + 1) * n]);
        let pairs = self.pairs.map(|(p, hp)| &p[(b * hp + if hp == 1 { 0 } else { h }) * n * n..][..n * n]);
        (real, pairs)
    }
}

/// One example in one head: Q'_h and K_h are `n` rows of `y` values, `stride` apart, from the
/// start of `q` and `k`; `s` is [n, n]; `sk` and `sq` get `n` rows of `y` values, `stride` apart.
pub(crate) struct Head<'a, T> {
    pub q: &'a [T],
    pub k: &'a [T],
    pub s: &'a mut [T],
    pub sk: &'a mut [T],
    pub sq: &'a mut [T],
    pub n: usize,
    pub y: usize,
    pub stride: usize,
}

/// The buffers of a step over all B·N tokens: reused by every step of an inference call, and
/// kept by a training step for its reverse pass.
#[derive(Debug, Clone)]
pub(crate) struct Work<T: Kernels> {
    /// N, tokens per example.
    pub n: usize,
    /// The layer norm's mean and 1/√(var + ε) per token: [B·N].
    pub mean: Vec<T>,
    pub rstd: Vec<T>,
    /// g: [B·N, D].
    pub g: Vec<T>,
    /// Q' = β g W^Qᵀ and K = g W^Kᵀ: [B·N, H·Y].
    pub q: Vec<T>,
    pub k: Vec<T>,
    /// The softmax weights: [B, H, N(query), N(key)].
    pub s: Vec<T>,
    /// S K and Sᵀ Q' per head: [B·N, H·Y].
    pub sk: Vec<T>,
    pub sq: Vec<T>,
    /// The Hopfield activations act(g ξᵀ), 0 at padded tokens: [B·N, M].
    pub act: Vec<T>,
}

impl<T: Kernels> Work<T> {
    /// Buffers for `tokens` tokens in examples of `n`, from the pool: every one is written in full
    /// by [`Work::step`] before it is read.
    pub fn new(w: &FusedBlock<T>, tokens: usize, n: usize) -> Self {
        let hy = w.h * w.y;
        let z = pool::take::<T>;
        Work {
            n,
            mean: z(tokens),
            rstd: z(tokens),
            g: z(tokens * w.d),
            q: z(tokens * hy),
            k: z(tokens * hy),
            s: z(tokens * w.h * n),
            sk: z(tokens * hy),
            sq: z(tokens * hy),
            act: z(tokens * w.m),
        }
    }

    /// One step on `x` [B·N, D] in place, keeping every intermediate in `self`. The examples are
    /// split into blocks, two per thread, and every phase of the step runs inside a block (in
    /// parallel over blocks) while the block's buffers are in cache: the layer norm, Q' = β g W^Qᵀ
    /// and K = g W^Kᵀ, per example and head the attention (while Q' and K are still in cache:
    /// the Hopfield module's [rows, M] activations would push them out), the back-projections and
    /// then the Hopfield module, both accumulated straight into x.
    pub fn step(&mut self, w: &FusedBlock<T>, x: &mut [T], mask: &FusedMask<'_, T>) {
        let (d, m, y, n, h, alpha) = (w.d, w.m, w.y, self.n, w.h, w.alpha);
        let hy = h * y;
        let examples = x.len() / d / n;
        let per = examples.div_ceil(2 * rayon::current_num_threads()).max(1);
        let bt = per * n;
        let dn = T::from_f64(d as f64);
        let chunks = (
            x.par_chunks_mut(bt * d),
            self.g.par_chunks_mut(bt * d),
            self.mean.par_chunks_mut(bt),
            self.rstd.par_chunks_mut(bt),
            self.q.par_chunks_mut(bt * hy),
            self.k.par_chunks_mut(bt * hy),
            self.s.par_chunks_mut(per * h * n * n),
            self.sk.par_chunks_mut(bt * hy),
            self.sq.par_chunks_mut(bt * hy),
            self.act.par_chunks_mut(bt * m),
        );
        chunks.into_par_iter().enumerate().for_each_init(
            || (vec![T::ZERO; n], Vec::new()),
            |(weights, kt), (blk, (xb, gb, meanb, rstdb, qb, kb, sb, skb, sqb, actb))| {
                let rows = xb.len() / d;
                // g = γ (x − mean) / √(var + ε) + δ, per token.
                for (((gr, xr), mean), rstd) in gb.chunks_mut(d).zip(xb.chunks(d)).zip(meanb.iter_mut()).zip(rstdb) {
                    let mu = lanes::sum(xr) / dn;
                    let var = lanes::sum_sq_dev(xr, mu) / dn;
                    let r = T::ONE / (var + w.eps).sqrt();
                    (*mean, *rstd) = (mu, r);
                    for ((gv, &xv), &dv) in gr.iter_mut().zip(xr).zip(&w.delta) {
                        *gv = w.gamma * (xv - mu) * r + dv;
                    }
                }
                let g = View::rows(gb, d);
                matmul(qb, hy, (rows, hy, d), false, g, View::rows(&w.wq, d).t(), w.beta, false);
                matmul(kb, hy, (rows, hy, d), false, g, View::rows(&w.wk, d).t(), T::ONE, false);
                // Per example and head: the logits Q'_h K_hᵀ, the masked softmax, Σ_B S_CB K_B and
                // Σ_C S_CB Q'_C into the head's columns of sk and sq.
                let examples = qb.chunks(n * hy).zip(kb.chunks(n * hy)).zip(skb.chunks_mut(n * hy));
                for (e, (((qe, ke), ske), (sqe, se))) in
                    examples.zip(sqb.chunks_mut(n * hy).zip(sb.chunks_mut(h * n * n))).enumerate()
                {
                    let b = blk * per + e;
                    for (hh, s) in se.chunks_mut(n * n).enumerate() {
                        let col = hh * y;
                        let (real, pairs) = mask.of_example(b, hh, n);
                        let mut softmax = |s: &mut [T]| masked_softmax(s, n, real, pairs, w.exclude_self, weights);
                        let unmasked = real.is_none() && pairs.is_none() && !w.exclude_self;
                        let (sk, sq) = (&mut ske[col..], &mut sqe[col..]);
                        let head = Head { q: &qe[col..], k: &ke[col..], s: &mut *s, sk, sq, n, y, stride: hy };
                        if T::attention_head(head, kt, unmasked, &mut softmax) {
                            continue;
                        }
                        let (qh, kh) = (View::rows(&qe[col..], hy), View::rows(&ke[col..], hy));
                        matmul(s, n, (n, n, y), false, qh, kh.t(), T::ONE, false);
                        softmax(s);
                        let sv = View::rows(&*s, n);
                        matmul(&mut ske[col..], hy, (n, y, n), false, sv, kh, T::ONE, false);
                        matmul(&mut sqe[col..], hy, (n, y, n), false, sv.t(), qh, T::ONE, false);
                    }
                }
                // x += α (S K) W^Q + (α/β) (Sᵀ Q') W^K.
                let dims = (rows, d, hy);
                matmul(xb, d, dims, true, View::rows(skb, hy), View::rows(&w.wq, d), alpha, false);
                matmul(xb, d, dims, true, View::rows(sqb, hy), View::rows(&w.wk, d), alpha / w.beta, false);
                // The Hopfield module: hidden units g ξᵀ, their activation (0 at padded tokens),
                // x += α act ξ.
                matmul(actb, m, (rows, m, d), false, g, View::rows(&w.xi, d).t(), T::ONE, false);
                for (j, row) in actb.chunks_mut(m).enumerate() {
                    activate(row, mask.real_of(blk * bt + j), w.hopfield_beta);
                }
                matmul(xb, d, (rows, d, m), true, View::rows(actb, m), View::rows(&w.xi, d), alpha, false);
            },
        );
    }
}

/// The Hopfield activation of one token's hidden units in place: ReLU, or softmax_β when
/// `softmax_beta` is given; scaled by `keep` (0 at a padded token).
fn activate<T: Kernels>(row: &mut [T], keep: T, softmax_beta: Option<T>) {
    match softmax_beta {
        None => row.iter_mut().for_each(|v| *v = if *v > T::ZERO { *v * keep } else { T::ZERO }),
        Some(beta) => softmax_in_place(row, beta, keep, Exp::Fast),
    }
}

impl<T: Kernels> Drop for Work<T> {
    fn drop(&mut self) {
        for v in [
            &mut self.mean,
            &mut self.rstd,
            &mut self.g,
            &mut self.q,
            &mut self.k,
            &mut self.s,
            &mut self.sk,
            &mut self.sq,
            &mut self.act,
        ] {
            pool::give(std::mem::take(v));
        }
    }
}

/// Row-wise softmax of the logits `s` [N, N] over the allowed keys, weighted: S_CB = w_CB e^{l_CB}
/// / Σ_B' w_CB' e^{l_CB'} with w = pair weight × real(C) × real(B) × (C ≠ B when `exclude_self`); a
/// row with no allowed key is all zero. `weights` is scratch of N values.
fn masked_softmax<T: Kernels>(
    s: &mut [T],
    n: usize,
    real: Option<&[T]>,
    pairs: Option<&[T]>,
    exclude_self: bool,
    weights: &mut [T],
) {
    let masked = real.is_some() || pairs.is_some() || exclude_self;
    for (c, row) in s.chunks_mut(n).enumerate() {
        if !masked {
            softmax_in_place(row, T::ONE, T::ONE, Exp::Fast);
            continue;
        }
        let rc = real.map_or(T::ONE, |r| r[c]);
        for (b, wv) in weights.iter_mut().enumerate() {
            *wv = rc * real.map_or(T::ONE, |r| r[b]) * pairs.map_or(T::ONE, |p| p[c * n + b]);
        }
        if exclude_self {
            weights[c] = T::ZERO;
        }
        let max = row
            .iter()
            .zip(weights.iter())
            .fold(T::NEG_INFINITY, |m, (&l, &wv)| if wv != T::ZERO && l > m { l } else { m });
        if max == T::NEG_INFINITY {
            row.fill(T::ZERO);
            continue;
        }
        // Blocked logits are replaced before the exponential (they could exceed the max).
        row.iter_mut()
            .zip(weights.iter())
            .for_each(|(l, &wv)| *l = if wv != T::ZERO { *l - max } else { T::NEG_INFINITY });
        T::exp_in_place(row);
        row.iter_mut().zip(weights.iter()).for_each(|(l, &wv)| *l *= wv);
        let sum = lanes::sum(row);
        let inv = if sum > T::ZERO { T::ONE / sum } else { T::ZERO };
        row.iter_mut().for_each(|v| *v *= inv);
    }
}
