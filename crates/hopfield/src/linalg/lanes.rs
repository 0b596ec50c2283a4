//! Row reductions (sum, max, dot product) with [`LANES`] independent accumulators. A plain
//! `iter().sum()` over floats is one chain of dependent additions — the compiler may not reorder
//! them — so a row of 128 values costs 128 × the add latency; with independent lanes the
//! additions vectorise and overlap. The order of the additions differs from a left-to-right sum
//! (rounding within a few ulp of it); it is fixed, so results do not depend on the thread count:
//! lane l gathers elements l, l + 16, … of the whole chunks of 16, the 16 lanes are halved as a
//! tree (l + 8 into l, then l + 4, l + 2, l + 1), and the tail is added one by one — the order an
//! AVX-512 register reduction takes (the attention kernels in `head` rely on it).

use super::Real;

/// Accumulators per reduction: two AVX-512 vectors, four AVX2 or eight SSE vectors of f32.
const LANES: usize = 16;

/// Σ f(vᵢ) over a row.
#[inline(always)]
fn reduce<T: Real>(v: &[T], f: impl Fn(T) -> T, join: impl Fn(T, T) -> T, init: T) -> T {
    let mut acc = [init; LANES];
    let chunks = v.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a = join(*a, f(x));
        }
    }
    tail.iter().fold(tree(acc, &join), |a, &x| join(a, f(x)))
}

/// The 16 lanes joined as a tree: l + 8 into l, then l + 4, l + 2, l + 1.
#[inline(always)]
fn tree<T: Copy>(mut acc: [T; LANES], join: impl Fn(T, T) -> T) -> T {
    let mut half = LANES / 2;
    while half > 0 {
        for l in 0..half {
            acc[l] = join(acc[l], acc[l + half]);
        }
        half /= 2;
    }
    acc[0]
}

/// Σ vᵢ.
#[inline]
pub(crate) fn sum<T: Real>(v: &[T]) -> T {
    reduce(v, |x| x, |a, b| a + b, T::ZERO)
}

/// Σ (vᵢ − c)².
#[inline]
pub(crate) fn sum_sq_dev<T: Real>(v: &[T], c: T) -> T {
    reduce(v, |x| (x - c) * (x - c), |a, b| a + b, T::ZERO)
}

/// max vᵢ (−∞ for an empty row; a NaN is skipped, as `f32::max` does).
#[inline]
pub(crate) fn max<T: Real>(v: &[T]) -> T {
    reduce(v, |x| x, |a, b| if b > a { b } else { a }, T::NEG_INFINITY)
}

/// Σ aᵢ bᵢ.
#[inline]
pub(crate) fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [T::ZERO; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ta, tb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for ((s, &p), &q) in acc.iter_mut().zip(x).zip(y) {
            *s += p * q;
        }
    }
    ta.iter().zip(tb).fold(tree(acc, |a, b| a + b), |s, (&p, &q)| s + p * q)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each reduction against the plain left-to-right one, on lengths around the lane count.
    #[test]
    fn lane_reductions_agree_with_plain_ones() {
        for len in [0, 1, 7, 15, 16, 17, 31, 64, 65, 129] {
            let v: Vec<f64> = (0..len).map(|i| ((i * 37 % 11) as f64 - 5.0) * 0.37).collect();
            let w: Vec<f64> = (0..len).map(|i| ((i * 13 % 7) as f64 - 3.0) * 1.1).collect();
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * (1.0 + b.abs());
            assert!(close(sum(&v), v.iter().sum::<f64>()), "sum, len {len}");
            let c = 0.3;
            assert!(close(sum_sq_dev(&v, c), v.iter().map(|x| (x - c) * (x - c)).sum::<f64>()), "sq dev, len {len}");
            assert_eq!(max(&v), v.iter().copied().fold(f64::NEG_INFINITY, f64::max), "max, len {len}");
            assert!(close(dot(&v, &w), v.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>()), "dot, len {len}");
        }
        assert_eq!(max(&[1.0f32, f32::NAN, 3.0]), 3.0);
    }
}
