//! The descent for inference as one routine over plain f32 buffers (issue 12, part 1): the
//! weights are read once, the work buffers are allocated once per call and reused by every step,
//! every product is one `gemm` call on strided views — no transpose or per-head copy is
//! materialised — the token-wise products run over all B·N tokens at once (multi-threaded GEMMs)
//! and the per-head attention over examples in parallel. Per step, with g = LN(x):
//!
//! Q' = β g W^Qᵀ, K = g W^Kᵀ (two GEMMs over all heads); per head, the logits Q'_h K_hᵀ, the
//! masked softmax S_h in place, and Σ_B S_hAB K_hB, Σ_C S_hCA Q'_hC written into their head's
//! columns; then x += α (S K) W^Q + (α/β) (Sᵀ Q') W^K + α act(g ξᵀ) ξ — the same step as
//! [`super::Implementation::Folded`], without autodiff, energies or the tensor library's per-op
//! buffers. Padded tokens are no key and no query and move by exactly 0.

use rayon::prelude::*;

/// What the routine reads of a block, as plain buffers.
pub(crate) struct FusedBlock {
    pub h: usize,
    pub y: usize,
    pub d: usize,
    pub m: usize,
    /// W^Q, W^K: [H·Y, D].
    pub wq: Vec<f32>,
    pub wk: Vec<f32>,
    /// ξ: [M, D].
    pub xi: Vec<f32>,
    pub gamma: f32,
    /// δ: [D].
    pub delta: Vec<f32>,
    pub eps: f32,
    pub beta: f32,
    /// `None`: ReLU² memories; `Some(β)`: softmax memories.
    pub hopfield_beta: Option<f32>,
    pub exclude_self: bool,
}

/// The mask as plain buffers: real tokens [B, N] and pair weights [B, Hp, N, N] (Hp = 1 or H).
pub(crate) struct FusedMask<'a> {
    pub real: Option<&'a [f32]>,
    pub pairs: Option<(&'a [f32], usize)>,
}

/// `dst = (accumulate ? dst : 0) + scale · lhs · rhs` on strided views: lhs is m×k, rhs k×n, dst
/// m×n, each given by a pointer and its (column stride, row stride).
///
/// # Safety
/// Every element the strides reach must lie inside the buffers the pointers come from, and `dst`
/// must not overlap `lhs` or `rhs`.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm(
    m: usize,
    n: usize,
    k: usize,
    dst: (*mut f32, isize, isize),
    accumulate: bool,
    lhs: (*const f32, isize, isize),
    rhs: (*const f32, isize, isize),
    scale: f32,
) {
    // SAFETY: the caller's contract.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.0,
            dst.1,
            dst.2,
            accumulate,
            lhs.0,
            lhs.1,
            lhs.2,
            rhs.0,
            rhs.1,
            rhs.2,
            1.0,
            scale,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// Runs `steps` descent steps of size `alpha` on `x` ([B, N, D], changed in place).
pub(crate) fn descend(w: &FusedBlock, x: &mut [f32], n: usize, mask: &FusedMask<'_>, steps: usize, alpha: f32) {
    let d = w.d;
    if n == 0 || d == 0 || x.is_empty() {
        return;
    }
    let mut ws = Work::new(w, x.len() / d);
    for _ in 0..steps {
        ws.step(w, x, n, mask, alpha);
    }
}

/// The buffers of a call, over all B·N tokens, reused by every step.
struct Work {
    g: Vec<f32>,
    q: Vec<f32>,
    k: Vec<f32>,
    sk: Vec<f32>,
    sq: Vec<f32>,
    hid: Vec<f32>,
    step: Vec<f32>,
}

/// `dst = (accumulate ? dst : 0) + scale · lhs · op(rhs)` for row-major, contiguous `lhs` [rows, k]
/// and `dst` [rows, n], and `rhs` stored as [k, n] (`transposed` false) or [n, k] (true); the rows
/// are split between the threads.
#[allow(clippy::too_many_arguments)]
fn rows_gemm(
    dst: &mut [f32],
    n: usize,
    accumulate: bool,
    lhs: &[f32],
    k: usize,
    rhs: &[f32],
    transposed: bool,
    scale: f32,
) {
    let rows = lhs.len() / k.max(1);
    debug_assert_eq!(dst.len(), rows * n);
    debug_assert_eq!(rhs.len(), k * n);
    let (rcs, rrs) = if transposed { (k as isize, 1) } else { (1, n as isize) };
    // SAFETY: lhs is rows×k and dst rows×n, contiguous row-major (checked above in debug builds,
    // and by construction in `Work`); rhs holds k·n values read with in-range strides; dst is a
    // distinct buffer from lhs and rhs.
    unsafe {
        gemm::gemm(
            rows,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.as_ptr(),
            1,
            k as isize,
            rhs.as_ptr(),
            rcs,
            rrs,
            1.0,
            scale,
            false,
            false,
            false,
            gemm::Parallelism::Rayon(0),
        );
    }
}

impl Work {
    fn new(w: &FusedBlock, tokens: usize) -> Self {
        let hy = w.h * w.y;
        Work {
            g: vec![0.0; tokens * w.d],
            q: vec![0.0; tokens * hy],
            k: vec![0.0; tokens * hy],
            sk: vec![0.0; tokens * hy],
            sq: vec![0.0; tokens * hy],
            hid: vec![0.0; tokens * w.m],
            step: vec![0.0; tokens * w.d],
        }
    }

    fn step(&mut self, w: &FusedBlock, x: &mut [f32], n: usize, mask: &FusedMask<'_>, alpha: f32) {
        let (d, m, y) = (w.d, w.m, w.y);
        let hy = w.h * y;
        // g = γ (x − mean) / √(var + ε) + δ, per token.
        self.g.par_chunks_mut(d).zip(x.par_chunks(d)).for_each(|(gr, xr)| {
            let mean = xr.iter().sum::<f32>() / d as f32;
            let var = xr.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d as f32;
            let scale = w.gamma / (var + w.eps).sqrt();
            for ((gv, xv), dv) in gr.iter_mut().zip(xr).zip(&w.delta) {
                *gv = (xv - mean) * scale + dv;
            }
        });
        // Over all B·N tokens at once: Q' = β g W^Qᵀ, K = g W^Kᵀ, the Hopfield hidden units g ξᵀ.
        rows_gemm(&mut self.q, hy, false, &self.g, d, &w.wq, true, w.beta);
        rows_gemm(&mut self.k, hy, false, &self.g, d, &w.wk, true, 1.0);
        rows_gemm(&mut self.hid, m, false, &self.g, d, &w.xi, true, 1.0);
        // The Hopfield activations: ReLU(ξ g) or softmax_β(ξ g), 0 at padded tokens.
        self.hid.par_chunks_mut(m).enumerate().for_each(|(t, row)| {
            let keep = mask.real.map_or(1.0, |r| r[t]);
            match w.hopfield_beta {
                None => row.iter_mut().for_each(|v| *v = v.max(0.0) * keep),
                Some(beta) => {
                    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let mut sum = 0.0;
                    row.iter_mut().for_each(|v| {
                        *v = (beta * (*v - max)).exp();
                        sum += *v;
                    });
                    row.iter_mut().for_each(|v| *v *= keep / sum);
                }
            }
        });
        // Per example and head (examples in parallel): the logits Q'_h K_hᵀ, the masked softmax,
        // Σ_B S_CB K_B and Σ_C S_CB Q'_C into the head's columns of sk and sq.
        let (q, k) = (&self.q, &self.k);
        self.sk.par_chunks_mut(n * hy).zip(self.sq.par_chunks_mut(n * hy)).enumerate().for_each_init(
            || vec![0f32; n * n],
            |s, (b, (skb, sqb))| {
                let (qb, kb) = (&q[b * n * hy..(b + 1) * n * hy], &k[b * n * hy..(b + 1) * n * hy]);
                let real = mask.real.map(|r| &r[b * n..(b + 1) * n]);
                let pairs = mask.pairs.map(|(p, hp)| (&p[b * hp * n * n..(b + 1) * hp * n * n], hp));
                let (hyi, ni) = (hy as isize, n as isize);
                for h in 0..w.h {
                    let col = h * y;
                    // SAFETY: q/k/sk/sq rows of this example are [N, HY] (slices of exactly n·hy),
                    // head h's Y columns start at `col` + Y ≤ HY; s is [N, N]; the destinations
                    // are distinct from the operands.
                    unsafe {
                        let (qh, kh) = (qb.as_ptr().add(col), kb.as_ptr().add(col));
                        gemm(n, n, y, (s.as_mut_ptr(), 1, ni), false, (qh, 1, hyi), (kh, hyi, 1), 1.0);
                    }
                    let pair_rows = pairs.map(|(p, hp)| &p[if hp == 1 { 0 } else { h * n * n }..][..n * n]);
                    masked_softmax(s, n, real, pair_rows, w.exclude_self);
                    // SAFETY: as above; Sᵀ is read through swapped strides.
                    unsafe {
                        let (qh, kh) = (qb.as_ptr().add(col), kb.as_ptr().add(col));
                        let (skh, sqh) = (skb.as_mut_ptr().add(col), sqb.as_mut_ptr().add(col));
                        gemm(n, y, n, (skh, 1, hyi), false, (s.as_ptr(), 1, ni), (kh, 1, hyi), 1.0);
                        gemm(n, y, n, (sqh, 1, hyi), false, (s.as_ptr(), ni, 1), (qh, 1, hyi), 1.0);
                    }
                }
            },
        );
        // step = α act ξ + α (S K) W^Q + (α/β) (Sᵀ Q') W^K; x += step.
        rows_gemm(&mut self.step, d, false, &self.hid, m, &w.xi, false, alpha);
        rows_gemm(&mut self.step, d, true, &self.sk, hy, &w.wq, false, alpha);
        rows_gemm(&mut self.step, d, true, &self.sq, hy, &w.wk, false, alpha / w.beta);
        x.par_iter_mut().zip(self.step.par_iter()).for_each(|(xv, sv)| *xv += sv);
    }
}

/// Row-wise softmax of the logits `s` [N, N] over the allowed keys, weighted: S_CB = w_CB e^{l_CB}
/// / Σ_B' w_CB' e^{l_CB'} with w = pair weight × real(C) × real(B) × (C ≠ B when `exclude_self`); a
/// row with no allowed key is all zero.
fn masked_softmax(s: &mut [f32], n: usize, real: Option<&[f32]>, pairs: Option<&[f32]>, exclude_self: bool) {
    for (c, row) in s.chunks_mut(n).enumerate() {
        let rc = real.map_or(1.0, |r| r[c]);
        let weight = |b: usize| {
            let mut v = rc * real.map_or(1.0, |r| r[b]) * pairs.map_or(1.0, |p| p[c * n + b]);
            if exclude_self && b == c {
                v = 0.0;
            }
            v
        };
        let mut max = f32::NEG_INFINITY;
        for (b, &l) in row.iter().enumerate() {
            if weight(b) != 0.0 && l > max {
                max = l;
            }
        }
        if max == f32::NEG_INFINITY {
            row.fill(0.0);
            continue;
        }
        let mut sum = 0.0;
        for (b, l) in row.iter_mut().enumerate() {
            let wv = weight(b);
            *l = if wv != 0.0 { wv * (*l - max).exp() } else { 0.0 };
            sum += *l;
        }
        let inv = if sum > 0.0 { 1.0 / sum } else { 0.0 };
        row.iter_mut().for_each(|v| *v *= inv);
    }
}
