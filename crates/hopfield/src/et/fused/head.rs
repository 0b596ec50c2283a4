//! One example's attention in one head on AVX-512 (f32): the logits Q'_h K_hᵀ with their softmax
//! taken while a tile of rows is still in registers, then S K_h and Sᵀ Q'_h. These products are
//! small (N × N × Y, e.g. 65 × 65 × 32) and there are B·H of them per step; through `gemm`, each
//! call packs both operands and pays a fixed cost, and the softmax was a separate pass over S —
//! together over three times the time of their FLOPs at the GEMM rate. Here K_h is transposed once
//! into a zero-padded scratch (16 × 16 blocks in registers), and every product is a register tile
//! of broadcast-FMAs over whole rows.
//!
//! The results are the portable path's (`gemm` + [`super::softmax_in_place`]) exactly where
//! `gemm` runs its microkernels (beyond 16 tokens; tested): each entry is summed over k in order
//! from 0 with one FMA per term, as those do; the exponential repeats [`crate::linalg::exp`]'s operations
//! one by one; the softmax's max and sum follow [`crate::linalg::lanes`]' order (16 lanes, halved as a
//! tree, then the tail). So on a given CPU the kernels change the step's speed, not its values.
//!
//! Used where [`applies`]: a CPU with AVX-512F (checked at run time; the binary stays baseline
//! x86-64) and a head width Y that is a multiple of 16 up to 64. Elsewhere the portable path runs.

use std::arch::x86_64::*;

use super::Head;

/// f32 lanes of a vector.
const L: usize = 16;
/// Rows of a logits tile, and the most key vectors a tile holds: 4 × 5 accumulators, so rows of
/// up to 80 keys are softmaxed in registers.
const LOGIT_ROWS: usize = 4;
const MAX_KEY_VECTORS: usize = 5;

/// Whether the kernels run for heads of width `y` on this CPU.
pub(crate) fn applies(y: usize) -> bool {
    y.is_multiple_of(L) && (L..=4 * L).contains(&y) && std::is_x86_feature_detected!("avx512f")
}

/// S = softmax(Q'_h K_hᵀ) row by row when `softmax`; else S = the logits, which `mask` turns
/// into the masked softmax; then S K_h and Sᵀ Q'_h. `kt` is scratch. False, with nothing done,
/// where the kernels do not [`applies`].
///
/// # Panics
/// A buffer shorter than the shapes say (a programming error: the step derives the shapes from
/// the buffers).
pub(crate) fn attention(h: Head<'_, f32>, kt: &mut Vec<f32>, softmax: bool, mask: &mut dyn FnMut(&mut [f32])) -> bool {
    let Head { q, k, s, sk, sq, n, y, stride } = h;
    if !applies(y) {
        return false;
    }
    if n == 0 {
        return true;
    }
    let rows_fit = |len: usize| (n - 1) * stride + y <= len && stride >= y;
    assert!(rows_fit(q.len()) && rows_fit(k.len()) && rows_fit(sk.len()) && rows_fit(sq.len()) && s.len() >= n * n);
    let np = n.div_ceil(L) * L;
    kt.resize(y * np, 0.0);
    // Rows of up to 80 keys are softmaxed in registers; longer ones after the logits are stored.
    let in_registers = softmax && np / L <= MAX_KEY_VECTORS;
    // SAFETY: the CPU has AVX-512F (`applies`); every pointer the kernels form stays inside the
    // buffers asserted above: rows < n of `y` values `stride` apart, S's n × n, K_hᵀ's y × np.
    unsafe {
        transpose(kt.as_mut_ptr(), np, k.as_ptr(), stride, n, y);
        logits(s.as_mut_ptr(), n, q.as_ptr(), stride, kt.as_ptr(), np, y, in_registers);
        if !softmax {
            mask(&mut s[..n * n]);
        } else if !in_registers {
            s[..n * n].chunks_mut(n).for_each(|row| super::softmax_in_place(row, 1.0, 1.0, super::Exp::Fast));
        }
        // S K_h: row i = Σ_j S_ij K_j; Sᵀ Q'_h: row j = Σ_i S_ij Q'_i.
        products(sk.as_mut_ptr(), stride, n, s.as_ptr(), n, 1, k.as_ptr(), y);
        products(sq.as_mut_ptr(), stride, n, s.as_ptr(), 1, n, q.as_ptr(), y);
    }
    true
}

/// kt[f·np + j] = k[j·ks + f] for j < n, 0 for n ≤ j < np; by 16 × 16 blocks in registers.
#[target_feature(enable = "avx512f")]
unsafe fn transpose(kt: *mut f32, np: usize, k: *const f32, ks: usize, n: usize, y: usize) {
    for c in (0..np).step_by(L) {
        for f0 in (0..y).step_by(L) {
            let mut rows = [_mm512_setzero_ps(); L];
            for (r, row) in rows.iter_mut().enumerate().take(n.saturating_sub(c)) {
                *row = _mm512_loadu_ps(k.add((c + r) * ks + f0));
            }
            for (f, col) in transpose16(rows).into_iter().enumerate() {
                _mm512_storeu_ps(kt.add((f0 + f) * np + c), col);
            }
        }
    }
}

/// The transpose of a 16 × 16 block held as 16 row vectors.
#[target_feature(enable = "avx512f")]
#[inline]
fn transpose16(r: [__m512; L]) -> [__m512; L] {
    // Pairs of rows interleaved, then pairs of pairs: u[4g + c] holds, in 128-bit lane l,
    // column 4l + c of rows 4g..4g + 4.
    let mut t = [_mm512_setzero_ps(); L];
    for i in (0..L).step_by(2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    let mut u = [_mm512_setzero_ps(); L];
    for g in (0..L).step_by(4) {
        for half in 0..2 {
            let (a, b) = (_mm512_castps_pd(t[g + half]), _mm512_castps_pd(t[g + 2 + half]));
            u[g + 2 * half] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
            u[g + 2 * half + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
        }
    }
    // Then, per c, the 4 × 4 transpose of 128-bit lanes across u[c], u[4 + c], u[8 + c], u[12 + c]:
    // 0x88 takes lanes 0 and 2 of each operand, 0xdd lanes 1 and 3.
    let mut out = [_mm512_setzero_ps(); L];
    for c in 0..4 {
        let x0 = _mm512_shuffle_f32x4::<0x88>(u[c], u[4 + c]);
        let x1 = _mm512_shuffle_f32x4::<0xdd>(u[c], u[4 + c]);
        let x2 = _mm512_shuffle_f32x4::<0x88>(u[8 + c], u[12 + c]);
        let x3 = _mm512_shuffle_f32x4::<0xdd>(u[8 + c], u[12 + c]);
        out[c] = _mm512_shuffle_f32x4::<0x88>(x0, x2);
        out[8 + c] = _mm512_shuffle_f32x4::<0xdd>(x0, x2);
        out[4 + c] = _mm512_shuffle_f32x4::<0x88>(x1, x3);
        out[12 + c] = _mm512_shuffle_f32x4::<0xdd>(x1, x3);
    }
    out
}

/// s = Q'_h K_hᵀ (n × n) from K_hᵀ zero-padded to `np` columns, by tiles of [`LOGIT_ROWS`] rows
/// × up to [`MAX_KEY_VECTORS`] vectors of keys; with `softmax` (only for rows that fit one tile),
/// each row is softmaxed before it is stored.
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn logits(s: *mut f32, n: usize, q: *const f32, qs: usize, kt: *const f32, np: usize, y: usize, softmax: bool) {
    let nv = np / L;
    for i0 in (0..n).step_by(LOGIT_ROWS) {
        for v0 in (0..nv).step_by(MAX_KEY_VECTORS) {
            let t = Tile { s, n, i0, c0: v0 * L, q, qs, kt, np, y, softmax };
            match (nv - v0).min(MAX_KEY_VECTORS) {
                1 => logits_tile::<1>(t),
                2 => logits_tile::<2>(t),
                3 => logits_tile::<3>(t),
                4 => logits_tile::<4>(t),
                _ => logits_tile::<5>(t),
            }
        }
    }
}

#[derive(Clone, Copy)]
struct Tile {
    s: *mut f32,
    n: usize,
    i0: usize,
    c0: usize,
    q: *const f32,
    qs: usize,
    kt: *const f32,
    np: usize,
    y: usize,
    softmax: bool,
}

#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn logits_tile<const V: usize>(t: Tile) {
    let Tile { s, n, i0, c0, q, qs, kt, np, y, softmax } = t;
    let mut acc = fma_tile::<V, LOGIT_ROWS>(tile_rows(q, qs, i0, n), 1, kt.add(c0), np, y);
    // Keys in the tile's last vector: 1..=16.
    let last = (n - c0 - (V - 1) * L).min(L);
    let last_mask = first_lanes(last);
    for (r, acc) in acc.iter_mut().enumerate().take(n - i0) {
        if softmax {
            softmax_row(acc, last);
        }
        let dst = s.add((i0 + r) * n + c0);
        for (v, &a) in acc.iter().enumerate() {
            if v + 1 < V {
                _mm512_storeu_ps(dst.add(v * L), a);
            } else {
                _mm512_mask_storeu_ps(dst.add(v * L), last_mask, a);
            }
        }
    }
}

/// softmax of a row of (V − 1)·16 + `last` logits in place, as [`super::softmax_in_place`]
/// computes it (β = 1): the max, e^(l − max) by [`exp`], the sum in [`crate::linalg::lanes`]' order, and
/// the product with 1/sum.
#[target_feature(enable = "avx512f")]
#[inline]
fn softmax_row<const V: usize>(row: &mut [__m512; V], last: usize) {
    let mut m = _mm512_mask_mov_ps(_mm512_set1_ps(f32::NEG_INFINITY), first_lanes(last), row[V - 1]);
    for &v in &row[..V - 1] {
        m = _mm512_max_ps(m, v);
    }
    let max = _mm512_set1_ps(_mm512_reduce_max_ps(m));
    for v in row.iter_mut() {
        *v = exp(_mm512_sub_ps(*v, max));
    }
    // lanes::sum: the full vectors added lane by lane, the 16 lanes halved as a tree, then the
    // tail's values one by one.
    let full = if last == L { V } else { V - 1 };
    let mut lanes = _mm512_setzero_ps();
    for &v in &row[..full] {
        lanes = _mm512_add_ps(lanes, v);
    }
    lanes = _mm512_add_ps(lanes, _mm512_shuffle_f32x4::<0b01_00_11_10>(lanes, lanes));
    lanes = _mm512_add_ps(lanes, _mm512_shuffle_f32x4::<0b00_00_00_01>(lanes, lanes));
    lanes = _mm512_add_ps(lanes, _mm512_permute_ps::<0b00_00_11_10>(lanes));
    lanes = _mm512_add_ps(lanes, _mm512_permute_ps::<0b00_00_00_01>(lanes));
    let mut sum = _mm512_cvtss_f32(lanes);
    if full < V {
        let mut tail = [0f32; L];
        // SAFETY: `tail` holds the 16 values stored.
        unsafe { _mm512_storeu_ps(tail.as_mut_ptr(), row[V - 1]) };
        sum = tail[..last].iter().fold(sum, |a, &b| a + b);
    }
    let inv = _mm512_set1_ps(1.0 / sum);
    for v in row.iter_mut() {
        *v = _mm512_mul_ps(*v, inv);
    }
}

/// e^x lane by lane: [`crate::linalg::exp`]'s operations one for one (no FMA contraction), so the same
/// bits.
#[target_feature(enable = "avx512f")]
#[inline]
fn exp(x: __m512) -> __m512 {
    use std::arch::x86_64::{_mm512_add_ps as add, _mm512_mul_ps as mul, _mm512_set1_ps as c, _mm512_sub_ps as sub};
    let t = _mm512_min_ps(_mm512_max_ps(x, c(-87.3)), c(88.7));
    let round = c(12_582_912.0);
    let n = sub(add(mul(t, c(std::f32::consts::LOG2_E)), round), round);
    let r = sub(sub(t, mul(n, c(0.693_359_4))), mul(n, c(-2.121_944_4e-4)));
    let mut p = c(1.987_569_1e-4);
    for k in [1.398_199_9e-3, 8.333_452e-3, 4.166_579_6e-2, 1.666_666_5e-1, 0.5] {
        p = add(mul(p, r), c(k));
    }
    let y = add(add(mul(mul(p, r), r), r), c(1.0));
    let exponent = _mm512_add_epi32(_mm512_cvttps_epi32(n), _mm512_set1_epi32(127));
    mul(y, _mm512_castsi512_ps(_mm512_slli_epi32::<23>(exponent)))
}

/// out (n rows of y values, `os` apart) = A B with A(i, j) = a[i·ars + j·acs] (n × n) and B's
/// rows y values `bs` apart: each output tile summed over j in order.
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn products(out: *mut f32, os: usize, n: usize, a: *const f32, ars: usize, acs: usize, b: *const f32, y: usize) {
    let p = Product { out, os, n, a, ars, acs, b, bs: os };
    for i0 in (0..n).step_by(8) {
        match y / L {
            1 => product_tile::<1, 8>(p, i0),
            2 => product_tile::<2, 8>(p, i0),
            3 => {
                product_tile::<3, 4>(p, i0);
                product_tile::<3, 4>(p, i0 + 4);
            }
            _ => {
                product_tile::<4, 4>(p, i0);
                product_tile::<4, 4>(p, i0 + 4);
            }
        }
    }
}

#[derive(Clone, Copy)]
struct Product {
    out: *mut f32,
    os: usize,
    n: usize,
    a: *const f32,
    ars: usize,
    acs: usize,
    b: *const f32,
    bs: usize,
}

#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn product_tile<const V: usize, const R: usize>(p: Product, i0: usize) {
    let Product { out, os, n, a, ars, acs, b, bs } = p;
    if i0 >= n {
        return;
    }
    let acc = fma_tile::<V, R>(tile_rows(a, ars, i0, n), acs, b, bs, n);
    for (r, acc) in acc.iter().enumerate().take(n - i0) {
        for (v, &x) in acc.iter().enumerate() {
            _mm512_storeu_ps(out.add((i0 + r) * os + v * L), x);
        }
    }
}

/// The register tile every product here is made of: acc[r][v] = Σ_j a_r[j·acs] · b[j·bs + 16v ..
/// + 16] over j = 0..inner, one FMA per term in order from j = 0 (as `gemm`'s microkernels sum).
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn fma_tile<const V: usize, const R: usize>(
    rows: [*const f32; R],
    acs: usize,
    b: *const f32,
    bs: usize,
    inner: usize,
) -> [[__m512; V]; R] {
    let mut acc = [[_mm512_setzero_ps(); V]; R];
    for j in 0..inner {
        let mut bv = [_mm512_setzero_ps(); V];
        for (v, x) in bv.iter_mut().enumerate() {
            *x = _mm512_loadu_ps(b.add(j * bs + v * L));
        }
        for (acc, row) in acc.iter_mut().zip(rows) {
            let x = _mm512_set1_ps(*row.add(j * acs));
            for (acc, &bv) in acc.iter_mut().zip(&bv) {
                *acc = _mm512_fmadd_ps(x, bv, *acc);
            }
        }
    }
    acc
}

/// The mask of a vector's first `count` (1..=16) lanes.
fn first_lanes(count: usize) -> u16 {
    ((1u32 << count) - 1) as u16
}

/// Pointers to rows i0..i0 + R of a matrix with rows `stride` apart; rows past n repeat the last
/// one (the tiles compute them and do not store them).
unsafe fn tile_rows<const R: usize>(a: *const f32, stride: usize, i0: usize, n: usize) -> [*const f32; R] {
    std::array::from_fn(|r| a.add((i0 + r).min(n - 1) * stride))
}

#[cfg(test)]
mod tests {
    use super::super::{masked_softmax, matmul, softmax_in_place, Exp, View};
    use super::*;

    /// Pseudo-random values in [−2, 2) from a seed (a fixed LCG: no dependence on other code).
    fn values(seed: u64, len: usize) -> Vec<f32> {
        let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (0..len)
            .map(|_| {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0
            })
            .collect()
    }

    /// The kernels on head widths 16–64 and 1–97 tokens (within one vector, exactly one, one past,
    /// the 80 keys a row of registers holds and past it), with and without a mask, against
    /// (1) a plain f64 loop of the definitions and (2) the portable path (`gemm` and the same
    /// softmax code), which they match exactly beyond 16 tokens.
    /// Where the building CPU lacks AVX-512F the test is ignored, with the reason (build.rs); a
    /// binary built on an AVX-512 machine and run on one without (tools/cpu-baseline-check.sh
    /// skips it there) fails, naming why, rather than passing without having run.
    #[test]
    #[cfg_attr(
        not(build_host_avx512f),
        ignore = "this CPU has no AVX-512F: the kernels cannot run on it (the step takes the portable path, which \
                  et_fused_head_widths.rs tests at the same widths)"
    )]
    fn kernels_match_a_plain_loop_and_the_portable_path_exactly() {
        assert!(
            std::is_x86_feature_detected!("avx512f"),
            "built on a CPU with AVX-512F but running on one without: the kernels cannot be tested here"
        );
        assert!(applies(16) && applies(64) && !applies(8) && !applies(40) && !applies(80));
        for y in [16, 32, 48, 64] {
            for n in [1, 2, 15, 16, 17, 33, 64, 65, 80, 81, 97] {
                for masked in [false, true] {
                    // The head's columns start at 5 inside rows of stride 2y + 3, as inside Q' and K.
                    let (stride, col) = (2 * y + 3, 5);
                    let q = values((y * 1000 + n) as u64, n * stride);
                    let k = values((y * 1000 + n + 7) as u64, n * stride);
                    // Masked: self-pairs excluded and the keys of every third token blocked.
                    let real: Vec<f32> = (0..n).map(|j| if j % 3 == 2 { 0.0 } else { 1.0 }).collect();
                    let mask =
                        |s: &mut [f32], weights: &mut Vec<f32>| masked_softmax(s, n, Some(&real), None, true, weights);
                    let mut weights = vec![0.0; n];
                    let (mut s, mut sk, mut sq) = (vec![0.0; n * n], vec![0.0; n * stride], vec![0.0; n * stride]);
                    let head = Head {
                        q: &q[col..],
                        k: &k[col..],
                        s: &mut s,
                        sk: &mut sk[col..],
                        sq: &mut sq[col..],
                        n,
                        y,
                        stride,
                    };
                    assert!(attention(head, &mut Vec::new(), !masked, &mut |s| mask(s, &mut weights)));

                    // (1) f64: L = Q' Kᵀ, S = (masked) softmax by rows, S K, Sᵀ Q'.
                    let at = |v: &[f32], i: usize, f: usize| v[i * stride + col + f] as f64;
                    let open = |i: usize, j: usize| !masked || (i != j && real[i] != 0.0 && real[j] != 0.0);
                    let mut s64 = vec![0.0f64; n * n];
                    for i in 0..n {
                        let l: Vec<f64> = (0..n).map(|j| (0..y).map(|f| at(&q, i, f) * at(&k, j, f)).sum()).collect();
                        let max = (0..n).filter(|&j| open(i, j)).map(|j| l[j]).fold(f64::NEG_INFINITY, f64::max);
                        let e: Vec<f64> = (0..n).map(|j| if open(i, j) { (l[j] - max).exp() } else { 0.0 }).collect();
                        let z: f64 = e.iter().sum();
                        for j in 0..n {
                            s64[i * n + j] = if z > 0.0 { e[j] / z } else { 0.0 };
                        }
                    }
                    let what = format!("y {y}, n {n}, masked {masked}");
                    for (i, (&a, &b)) in s.iter().zip(&s64).enumerate() {
                        assert!((a as f64 - b).abs() <= 2e-5, "{what}: S[{i}] {a} vs {b}");
                    }
                    for i in 0..n {
                        for f in 0..y {
                            let skv: f64 = (0..n).map(|j| s64[i * n + j] * at(&k, j, f)).sum();
                            let sqv: f64 = (0..n).map(|j| s64[j * n + i] * at(&q, j, f)).sum();
                            assert!(
                                (at(&sk, i, f) - skv).abs() <= 1e-4,
                                "{what}: SK[{i}, {f}] {} vs {skv}",
                                at(&sk, i, f)
                            );
                            assert!(
                                (at(&sq, i, f) - sqv).abs() <= 1e-4,
                                "{what}: SᵀQ'[{i}, {f}] {} vs {sqv}",
                                at(&sq, i, f)
                            );
                        }
                    }

                    // (2) The portable path.
                    let (qh, kh) = (View::rows(&q[col..], stride), View::rows(&k[col..], stride));
                    let (mut s2, mut sk2, mut sq2) = (vec![0.0; n * n], vec![0.0; n * stride], vec![0.0; n * stride]);
                    matmul(&mut s2, n, (n, n, y), false, qh, kh.t(), 1.0, false);
                    if masked {
                        mask(&mut s2, &mut weights);
                    } else {
                        s2.chunks_mut(n).for_each(|row| softmax_in_place(row, 1.0, 1.0, Exp::Fast));
                    }
                    let sv = View::rows(&s2, n);
                    matmul(&mut sk2[col..], stride, (n, y, n), false, sv, kh, 1.0, false);
                    matmul(&mut sq2[col..], stride, (n, y, n), false, sv.t(), qh, 1.0, false);
                    // Equal values (a product 0 · −x may be +0 on one path and −0 on the other)
                    // where gemm runs its microkernels; for products of 16 rows or fewer it orders
                    // its sums differently, and the two agree to rounding.
                    if n > 16 {
                        assert_eq!(s, s2, "{what}: S");
                        assert_eq!(sk, sk2, "{what}: S K");
                        assert_eq!(sq, sq2, "{what}: Sᵀ Q'");
                    } else {
                        let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 2e-5);
                        assert!(close(&s, &s2) && close(&sk, &sk2) && close(&sq, &sq2), "{what}: S, S K or Sᵀ Q'");
                    }
                }
            }
        }
    }
}
