//! Dense row-major matrix products through the `gemm` crate (multi-threaded, SIMD), and the
//! numerically stable softmax / log-sum-exp the memories are built from.

/// Scalar types the continuous memories run in: `f32` (fast) and `f64` (reference precision).
pub trait Real:
    Copy
    + Default
    + PartialOrd
    + Send
    + Sync
    + std::fmt::Debug
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::AddAssign
    + 'static
{
    /// Zero.
    const ZERO: Self;
    /// One.
    const ONE: Self;
    /// Conversion from `f64` (rounding for `f32`).
    fn from_f64(x: f64) -> Self;
    /// Conversion to `f64` (exact).
    fn to_f64(self) -> f64;
    /// e^x.
    fn exp(self) -> Self;
    /// |x|.
    fn abs(self) -> Self;
    /// Whether the value is neither NaN nor infinite.
    fn is_finite(self) -> bool;
}

macro_rules! impl_real {
    ($t:ty) => {
        impl Real for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
        }
    };
}
impl_real!(f32);
impl_real!(f64);

/// How an operand of [`matmul`] is read: as stored, or transposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Use the row-major matrix as stored.
    N,
    /// Use its transpose (no copy: the strides are swapped).
    T,
}

/// `c ← alpha · op(a) · op(b)` for row-major matrices: `op(a)` is m×k, `op(b)` is k×n, `c` is m×n.
///
/// `a` is stored as m×k (`Op::N`) or k×m (`Op::T`); likewise `b` as k×n or n×k.
///
/// # Panics
/// If a slice length does not match its shape (a programming error inside this crate; every public
/// entry point checks user shapes first and returns [`crate::Error::Shape`]).
#[allow(clippy::too_many_arguments)]
pub fn matmul<T: Real>(m: usize, n: usize, k: usize, a: &[T], op_a: Op, b: &[T], op_b: Op, c: &mut [T], alpha: T) {
    assert_eq!(a.len(), m * k, "matmul: lhs length");
    assert_eq!(b.len(), k * n, "matmul: rhs length");
    assert_eq!(c.len(), m * n, "matmul: dst length");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        c.iter_mut().for_each(|x| *x = T::ZERO);
        return;
    }
    // Strides in elements: (column stride, row stride) of op(a), op(b).
    let (a_cs, a_rs) = match op_a {
        Op::N => (1, k as isize),
        Op::T => (m as isize, 1),
    };
    let (b_cs, b_rs) = match op_b {
        Op::N => (1, n as isize),
        Op::T => (k as isize, 1),
    };
    // SAFETY: the asserts above guarantee that every index the strides reach lies inside the
    // slices; `c` is borrowed mutably and does not alias `a` or `b`. T is f32 or f64 (sealed by
    // the `Real` impls), both supported by gemm.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            T::ZERO,
            alpha,
            false,
            false,
            false,
            gemm::Parallelism::Rayon(0),
        );
    }
}

/// The index of the largest value, the first of equal ones: the predicted class of a row of outputs.
pub fn argmax(row: &[f64]) -> usize {
    (0..row.len()).fold(0, |best, a| if row[a] > row[best] { a } else { best })
}

/// In-place softmax of one row, shifted by its maximum so it never overflows.
pub fn softmax_in_place<T: Real>(row: &mut [T]) {
    let mut max = row.first().copied().unwrap_or(T::ZERO);
    for &v in row.iter() {
        if v > max {
            max = v;
        }
    }
    let mut sum = T::ZERO;
    for v in row.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    let inv = T::ONE / sum;
    for v in row.iter_mut() {
        *v = *v * inv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slow(m: usize, n: usize, k: usize, a: &[f64], ta: Op, b: &[f64], tb: Op) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                let mut s = 0.0;
                for l in 0..k {
                    let av = if ta == Op::N { a[i * k + l] } else { a[l * m + i] };
                    let bv = if tb == Op::N { b[l * n + j] } else { b[j * k + l] };
                    s += av * bv;
                }
                c[i * n + j] = s;
            }
        }
        c
    }

    #[test]
    fn matmul_matches_slow_loop_for_every_transpose() {
        let (m, n, k) = (7, 5, 11);
        let a: Vec<f64> = (0..m * k).map(|i| ((i * 37 % 17) as f64) - 8.0).collect();
        let b: Vec<f64> = (0..k * n).map(|i| ((i * 13 % 11) as f64) * 0.5 - 2.0).collect();
        for ta in [Op::N, Op::T] {
            for tb in [Op::N, Op::T] {
                let mut c = vec![0.0; m * n];
                matmul(m, n, k, &a, ta, &b, tb, &mut c, 1.0);
                let r = slow(m, n, k, &a, ta, &b, tb);
                for (x, y) in c.iter().zip(&r) {
                    assert!((x - y).abs() < 1e-9, "{ta:?}{tb:?}: {x} vs {y}");
                }
            }
        }
    }

    #[test]
    fn softmax_is_stable_at_huge_logits() {
        let mut row = [1e30f32, 1e30 - 1e24, -1e30];
        softmax_in_place(&mut row);
        assert!(row.iter().all(|v| v.is_finite()));
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!((crate::lagrangian::log_sum_exp(&[1000.0, 1000.0]) - (1000.0 + 2f64.ln())).abs() < 1e-12);
        assert_eq!(crate::lagrangian::log_sum_exp(&[]), f64::NEG_INFINITY);
    }
}
