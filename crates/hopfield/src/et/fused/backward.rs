//! The reverse of one descent step, x' = x + step(LN(x)), written out by hand from the explicit
//! formulas (see [`super`]): given G = ∂ℓ/∂x', the gradients of ℓ with respect to x and every
//! weight. It reads what [`super::Work::step`] kept — g, the layer norm's mean and 1/σ, Q', K,
//! the softmax weights S, S K, Sᵀ Q' and the Hopfield activations — so nothing of the forward
//! pass is recomputed; the input x is read again to rebuild x̂ = (x − mean)/σ token by token.
//!
//! With step = α act(h) ξ + α (S K) W^Q + (α/β) (Sᵀ Q') W^K, h = g ξᵀ, Q' = β g W^Qᵀ, K = g W^Kᵀ,
//! logits L_h = Q'_h K_hᵀ and S_h their masked softmax:
//!
//! - Hopfield: d act = α G ξᵀ, ∂ξ = α actᵀ G + d hᵀ g, d h = act'(h) ⊙ d act, dg = d h ξ;
//! - back-projections: ∂W^Q = α (SK)ᵀ G, ∂W^K = (α/β) (SᵀQ')ᵀ G, d(SK) = α G W^Qᵀ,
//!   d(SᵀQ') = (α/β) G W^Kᵀ;
//! - per head: dS = d(SK) Kᵀ + Q' d(SᵀQ')ᵀ, dK = Sᵀ d(SK) + dLᵀ Q', dQ' = S d(SᵀQ') + dL K,
//!   dL = S ⊙ (dS − rowsum(S ⊙ dS)) (masked entries have S = 0 and get nothing);
//! - projections: dg += β dQ' W^Q + dK W^K, ∂W^Q += β dQ'ᵀ g, ∂W^K += dKᵀ g;
//! - pair weights w (when learned): S = w̃ e^L / Z with w̃ = w · real · real · (C ≠ B), so
//!   ∂w = dL / w where w̃ ≠ 0 and 0 where w̃ = 0 (a blocked pair gets no gradient, as on the
//!   tensor path), summed over the heads when one set serves all of them;
//! - layer norm g = γ x̂ + δ: ∂γ = Σ dg ⊙ x̂, ∂δ = Σ dg, and
//!   ∂x = G + (1/σ) (γ dg − mean(γ dg) − x̂ mean(γ dg ⊙ x̂)) per token.

use rayon::prelude::*;

use super::{lanes, matmul, pool, FusedBlock, FusedMask, Kernels, View, Work};

/// The gradients of one step.
#[derive(Debug, Clone)]
pub(crate) struct StepGrads<T> {
    /// [B·N, D].
    pub x: Vec<T>,
    /// [H·Y, D] each.
    pub wq: Vec<T>,
    pub wk: Vec<T>,
    /// [M, D].
    pub xi: Vec<T>,
    pub gamma: T,
    /// [D].
    pub delta: Vec<T>,
    /// [B, Hp, N, N], when asked for.
    pub pairs: Option<Vec<T>>,
}

/// The gradients of ℓ through the step that `saved` recorded from the input `x` [B·N, D], given
/// `grad` = ∂ℓ/∂x' [B·N, D]; with `pairs_grad`, also the gradient of the mask's pair weights.
pub(crate) fn backward<T: Kernels>(
    w: &FusedBlock<T>,
    x: &[T],
    saved: &Work<T>,
    mask: &FusedMask<'_, T>,
    grad: &[T],
    pairs_grad: bool,
) -> StepGrads<T> {
    let (d, y, h, alpha) = (w.d, w.y, w.h, w.alpha);
    let hy = h * y;
    let tokens = x.len() / d;
    // Every buffer from the pool is written in full before it is read, but ∂w (accumulated).
    let z = pool::take::<T>;
    let gv = View::rows(grad, d);
    let gx = View::rows(&saved.g, d);

    let (mut dg, dxi) = hopfield_backward(w, saved, grad, tokens);
    // The back-projections: ∂W^Q = α (SK)ᵀ G, ∂W^K = (α/β)(SᵀQ')ᵀ G; d(SK), d(SᵀQ').
    let ab = alpha / w.beta;
    let (mut dwq, mut dwk) = (z(hy * d), z(hy * d));
    matmul(&mut dwq, d, (hy, d, tokens), false, View::rows(&saved.sk, hy).t(), gv, alpha, true);
    matmul(&mut dwk, d, (hy, d, tokens), false, View::rows(&saved.sq, hy).t(), gv, ab, true);
    let (mut dsk, mut dsq) = (z(tokens * hy), z(tokens * hy));
    matmul(&mut dsk, hy, (tokens, hy, d), false, gv, View::rows(&w.wq, d).t(), alpha, true);
    matmul(&mut dsq, hy, (tokens, hy, d), false, gv, View::rows(&w.wk, d).t(), ab, true);

    let (dq, dk, dpairs) = attention_backward(w, saved, mask, (&dsk, &dsq), pairs_grad);
    let pairs_grad = pairs_grad && mask.pairs.is_some();
    pool::give(dsk);
    pool::give(dsq);

    // Q' = β g W^Qᵀ, K = g W^Kᵀ: dg += β dQ' W^Q + dK W^K; ∂W^Q += β dQ'ᵀ g; ∂W^K += dKᵀ g.
    let (dqv, dkv) = (View::rows(&dq, hy), View::rows(&dk, hy));
    matmul(&mut dg, d, (tokens, d, hy), true, dqv, View::rows(&w.wq, d), w.beta, true);
    matmul(&mut dg, d, (tokens, d, hy), true, dkv, View::rows(&w.wk, d), T::ONE, true);
    matmul(&mut dwq, d, (hy, d, tokens), true, dqv.t(), gx, w.beta, true);
    matmul(&mut dwk, d, (hy, d, tokens), true, dkv.t(), gx, T::ONE, true);
    pool::give(dq);
    pool::give(dk);

    let (dx, dgamma, ddelta) = layer_norm_backward(w, saved, x, grad, &dg);
    pool::give(dg);
    StepGrads { x: dx, wq: dwq, wk: dwk, xi: dxi, gamma: dgamma, delta: ddelta, pairs: pairs_grad.then_some(dpairs) }
}

/// The Hopfield module's share: d act = α G ξᵀ; ∂ξ = α actᵀ G; d h = act'(h) ⊙ d act;
/// dg = d h ξ; ∂ξ += d hᵀ g. Returns (dg, ∂ξ).
fn hopfield_backward<T: Kernels>(w: &FusedBlock<T>, saved: &Work<T>, grad: &[T], tokens: usize) -> (Vec<T>, Vec<T>) {
    let (d, m, alpha) = (w.d, w.m, w.alpha);
    let z = pool::take::<T>;
    let (gv, gx) = (View::rows(grad, d), View::rows(&saved.g, d));
    let mut dh = z(tokens * m);
    matmul(&mut dh, m, (tokens, m, d), false, gv, View::rows(&w.xi, d).t(), alpha, true);
    let mut dxi = z(m * d);
    matmul(&mut dxi, d, (m, d, tokens), false, View::rows(&saved.act, m).t(), gv, alpha, true);
    dh.par_chunks_mut(m).zip(saved.act.par_chunks(m)).for_each(|(dr, ar)| match w.hopfield_beta {
        // act = real · ReLU(h): act > 0 exactly where h > 0 at a real token.
        None => dr.iter_mut().zip(ar).for_each(|(dv, &a)| *dv = if a > T::ZERO { *dv } else { T::ZERO }),
        // act = real · p, p = softmax(β h): d h = β act ⊙ (d act − Σ act d act) (0 at padding).
        Some(beta) => {
            let dot = lanes::dot(dr, ar);
            dr.iter_mut().zip(ar).for_each(|(dv, &a)| *dv = beta * a * (*dv - dot));
        }
    });
    let mut dg = z(tokens * d);
    matmul(&mut dg, d, (tokens, d, m), false, View::rows(&dh, m), View::rows(&w.xi, d), T::ONE, true);
    matmul(&mut dxi, d, (m, d, tokens), true, View::rows(&dh, m).t(), gx, T::ONE, true);
    pool::give(dh);

    (dg, dxi)
}

/// The attention per example (in parallel) and head, from d(SK) and d(SᵀQ'): dQ' and dK in the
/// head's columns, and with `pairs_grad` ∂w of the example's pair weights (zeros otherwise).
fn attention_backward<T: Kernels>(
    w: &FusedBlock<T>,
    saved: &Work<T>,
    mask: &FusedMask<'_, T>,
    (dsk, dsq): (&[T], &[T]),
    pairs_grad: bool,
) -> (Vec<T>, Vec<T>, Vec<T>) {
    let (y, n, h) = (w.y, saved.n, w.h);
    let hy = h * y;
    let tokens = dsk.len() / hy.max(1);
    let z = pool::take::<T>;
    let (mut dq, mut dk) = (z(tokens * hy), z(tokens * hy));
    let hp = mask.pairs.map_or(1, |(_, hp)| hp);
    let pairs_grad = pairs_grad && mask.pairs.is_some();
    let per_example = if pairs_grad { hp * n * n } else { 1 };
    let mut dpairs = pool::zeros((tokens / n.max(1)) * per_example);
    let (q, k, s) = (&saved.q, &saved.k, &saved.s);
    (dq.par_chunks_mut(n * hy), dk.par_chunks_mut(n * hy), dpairs.par_chunks_mut(per_example))
        .into_par_iter()
        .enumerate()
        .for_each_init(
            || vec![T::ZERO; n * n],
            |ds, (b, (dqb, dkb, dpb))| {
                let span = b * n * hy..(b + 1) * n * hy;
                let (qb, kb, dskb, dsqb) = (&q[span.clone()], &k[span.clone()], &dsk[span.clone()], &dsq[span]);
                for hh in 0..h {
                    let col = hh * y;
                    let sv = View::rows(&s[(b * h + hh) * n * n..][..n * n], n);
                    let (qh, kh) = (View::rows(&qb[col..], hy), View::rows(&kb[col..], hy));
                    let (dskh, dsqh) = (View::rows(&dskb[col..], hy), View::rows(&dsqb[col..], hy));
                    // dS = d(SK) Kᵀ + Q' d(SᵀQ')ᵀ.
                    matmul(ds, n, (n, n, y), false, dskh, kh.t(), T::ONE, false);
                    matmul(ds, n, (n, n, y), true, qh, dsqh.t(), T::ONE, false);
                    // dK = Sᵀ d(SK), dQ' = S d(SᵀQ').
                    matmul(&mut dkb[col..], hy, (n, y, n), false, sv.t(), dskh, T::ONE, false);
                    matmul(&mut dqb[col..], hy, (n, y, n), false, sv, dsqh, T::ONE, false);
                    // dL = S ⊙ (dS − rowsum(S ⊙ dS)), in place of dS.
                    for (dr, sr) in ds.chunks_mut(n).zip(sv.data.chunks(n)) {
                        let dot = lanes::dot(dr, sr);
                        dr.iter_mut().zip(sr).for_each(|(dv, &sv)| *dv = sv * (*dv - dot));
                    }
                    if pairs_grad {
                        let (real, pairs) = mask.of_example(b, hh, n);
                        let (pairs, dst) =
                            (pairs.unwrap_or(&[]), &mut dpb[if hp == 1 { 0 } else { hh * n * n }..][..n * n]);
                        for (i, ((dv, &dl), &wv)) in dst.iter_mut().zip(ds.iter()).zip(pairs).enumerate() {
                            let (c, key) = (i / n, i % n);
                            let open = real.is_none_or(|r| r[c] != T::ZERO && r[key] != T::ZERO)
                                && !(w.exclude_self && c == key);
                            if open && wv != T::ZERO {
                                *dv += dl / wv;
                            }
                        }
                    }
                    let dl = View::rows(&ds[..], n);
                    // dQ' += dL K, dK += dLᵀ Q'.
                    matmul(&mut dqb[col..], hy, (n, y, n), true, dl, kh, T::ONE, false);
                    matmul(&mut dkb[col..], hy, (n, y, n), true, dl.t(), qh, T::ONE, false);
                }
            },
        );
    (dq, dk, dpairs)
}

/// The layer norm, token by token: ∂x = G + (1/σ)(γ dg − mean(γ dg) − x̂ mean(γ dg ⊙ x̂)); ∂γ
/// and ∂δ summed over fixed chunks of tokens, then over the chunks in order (the same sums on
/// any number of threads). Returns (∂x, ∂γ, ∂δ).
fn layer_norm_backward<T: Kernels>(
    w: &FusedBlock<T>,
    saved: &Work<T>,
    x: &[T],
    grad: &[T],
    dg: &[T],
) -> (Vec<T>, T, Vec<T>) {
    let (d, tokens) = (w.d, x.len() / w.d);
    let z = pool::take::<T>;
    const CHUNK: usize = 64;
    let dn = T::from_f64(d as f64);
    let mut dx = z(tokens * d);
    let chunk = CHUNK * d;
    let partials: Vec<(T, Vec<T>)> =
        (dx.par_chunks_mut(chunk), dg.par_chunks(chunk), x.par_chunks(chunk), grad.par_chunks(chunk))
            .into_par_iter()
            .enumerate()
            .map(|(c, (dxc, dgc, xc, gc))| {
                let (mut dgamma, mut ddelta, mut xh) = (T::ZERO, vec![T::ZERO; d], vec![T::ZERO; d]);
                for (j, (((dxr, dgr), xr), gr)) in
                    dxc.chunks_mut(d).zip(dgc.chunks(d)).zip(xc.chunks(d)).zip(gc.chunks(d)).enumerate()
                {
                    let t = c * CHUNK + j;
                    let (mu, r) = (saved.mean[t], saved.rstd[t]);
                    xh.iter_mut().zip(xr).for_each(|(h, &xv)| *h = (xv - mu) * r);
                    let (sum_dg, sum_dg_xh) = (lanes::sum(dgr), lanes::dot(dgr, &xh));
                    dgamma += sum_dg_xh;
                    ddelta.iter_mut().zip(dgr).for_each(|(dd, &dgv)| *dd += dgv);
                    let (mean_dxh, mean_dxh_xh) = (w.gamma * sum_dg / dn, w.gamma * sum_dg_xh / dn);
                    for (((dv, &dgv), &h), &gv) in dxr.iter_mut().zip(dgr).zip(&xh).zip(gr) {
                        *dv = gv + r * (w.gamma * dgv - mean_dxh - h * mean_dxh_xh);
                    }
                }
                (dgamma, ddelta)
            })
            .collect();
    let mut dgamma = T::ZERO;
    let mut ddelta = vec![T::ZERO; d];
    for (gp, dp) in partials {
        dgamma += gp;
        ddelta.iter_mut().zip(&dp).for_each(|(a, &b)| *a += b);
    }
    (dx, dgamma, ddelta)
}
