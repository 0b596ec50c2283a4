//! Dense row-major matrix products through the `gemm` crate (multi-threaded, SIMD) — one call
//! site, [`gemm_into`] — the float types computed in ([`Real`]), row reductions with independent
//! lanes ([`lanes`]), a vectorised exp for f32 ([`exp`]) and the one numerically stable row
//! softmax the memories and the fused descent share.

pub(crate) mod exp;
pub(crate) mod lanes;

/// The float types the crate computes in on plain buffers: `f32` (fast) and `f64` (reference
/// precision) — the memories, the DAM classifier and the Energy Transformer's fused descent.
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
    + std::ops::Neg<Output = Self>
    + std::ops::AddAssign
    + std::ops::SubAssign
    + std::ops::MulAssign
    + std::iter::Sum
    + 'static
{
    /// Zero.
    const ZERO: Self;
    /// One.
    const ONE: Self;
    /// −∞.
    const NEG_INFINITY: Self;
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
    /// √x.
    fn sqrt(self) -> Self;
    /// v ← e^v, element by element (f32: the vectorised [`exp`]).
    fn exp_in_place(v: &mut [Self]) {
        v.iter_mut().for_each(|x| *x = x.exp());
    }
}

macro_rules! impl_real {
    ($t:ty { $($extra:item)* }) => {
        impl Real for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const NEG_INFINITY: Self = <$t>::NEG_INFINITY;
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
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            $($extra)*
        }
    };
}
impl_real!(f32 {
    fn exp_in_place(v: &mut [f32]) {
        exp::exp_in_place(v);
    }
});
impl_real!(f64 {});

/// A strided matrix view: element (i, j) at `data[i·rs + j·cs]`.
#[derive(Clone, Copy)]
pub(crate) struct View<'a, T> {
    pub data: &'a [T],
    pub rs: usize,
    pub cs: usize,
}

impl<'a, T> View<'a, T> {
    /// A row-major matrix with `cols` columns (or the columns from `data`'s start of a wider one).
    pub fn rows(data: &'a [T], cols: usize) -> Self {
        View { data, rs: cols, cs: 1 }
    }

    /// The transpose.
    pub fn t(self) -> Self {
        View { data: self.data, rs: self.cs, cs: self.rs }
    }
}

/// `dst = (accumulate ? dst : 0) + scale · lhs · rhs` with lhs m×k, rhs k×n and dst a row-major
/// m×n block whose rows are `dst_rs` apart; `parallel` lets gemm use the rayon threads.
///
/// # Panics
/// A view that reaches outside its buffer, or a destination that overlaps an operand (both
/// programming errors: every caller derives its views from the buffers' own sizes).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_into<T: Real>(
    dst: &mut [T],
    dst_rs: usize,
    (m, n, k): (usize, usize, usize),
    accumulate: bool,
    lhs: View<'_, T>,
    rhs: View<'_, T>,
    scale: T,
    parallel: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    let last = |v: &View<'_, T>, r: usize, c: usize| (r - 1) * v.rs + (c - 1) * v.cs;
    assert!(k == 0 || (last(&lhs, m, k) < lhs.data.len() && last(&rhs, k, n) < rhs.data.len()));
    assert!((m - 1) * dst_rs + n <= dst.len() && dst_rs >= n);
    let parallelism = if parallel { gemm::Parallelism::Rayon(0) } else { gemm::Parallelism::None };
    // SAFETY: the asserts above keep every element the strides reach inside its buffer; dst is
    // borrowed mutably, so it cannot alias lhs or rhs.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_rs as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.cs as isize,
            lhs.rs as isize,
            rhs.data.as_ptr(),
            rhs.cs as isize,
            rhs.rs as isize,
            T::ONE,
            scale,
            false,
            false,
            false,
            parallelism,
        );
    }
}

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
    let view = |data, op, rows, cols| match op {
        Op::N => View::rows(data, cols),
        Op::T => View::rows(data, rows).t(),
    };
    gemm_into(c, n, (m, n, k), false, view(a, op_a, m, k), view(b, op_b, k, n), alpha, true);
}

/// The index of the largest value, the first of equal ones: the predicted class of a row of outputs.
pub fn argmax(row: &[f64]) -> usize {
    (0..row.len()).fold(0, |best, a| if row[a] > row[best] { a } else { best })
}

/// How [`softmax_in_place`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exp {
    /// The standard library's e^x (exact to the last ulp, 0 where it underflows: the modern
    /// network's one-hot limit at large β exactly) and a left-to-right sum, the order the tensor
    /// backends' softmax follows closely enough that host and device retrieval take the same steps.
    Exact,
    /// [`Real::exp_in_place`] (vectorised for f32, within 2 ulp; e^−87.3 below −87.3) and sums in
    /// lanes ([`lanes`]): the fused descent, where every blocked entry is multiplied by 0 anyway.
    Fast,
}

/// `scale` · softmax(β v) of one row in place, its maximum subtracted first so it never overflows:
/// e^{β(vᵢ − max)} · scale / Σⱼ e^{β(vⱼ − max)}, computed as `exp` says.
pub fn softmax_in_place<T: Real>(row: &mut [T], beta: T, scale: T, exp: Exp) {
    let max = lanes::max(row);
    row.iter_mut().for_each(|v| *v = beta * (*v - max));
    let sum = match exp {
        Exp::Exact => row.iter_mut().fold(T::ZERO, |sum, v| {
            *v = v.exp();
            sum + *v
        }),
        Exp::Fast => {
            T::exp_in_place(row);
            lanes::sum(row)
        }
    };
    let scale = scale / sum;
    row.iter_mut().for_each(|v| *v *= scale);
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
        softmax_in_place(&mut row, 1.0, 1.0, Exp::Exact);
        assert!(row.iter().all(|v| v.is_finite()));
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!((crate::lagrangian::log_sum_exp(&[1000.0, 1000.0]) - (1000.0 + 2f64.ln())).abs() < 1e-12);
        assert_eq!(crate::lagrangian::log_sum_exp(&[]), f64::NEG_INFINITY);
    }
}
