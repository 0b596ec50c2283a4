//! Work buffers kept between descent steps: a training step keeps its buffers for the reverse
//! pass and allocates new ones for the next step, and freshly allocated memory has to be zeroed
//! (or faulted in) — measured at ≈ 40% of a training step's forward time on the small benchmark.
//! Buffers given back here (by [`super::Work`] when dropped, by the backward for its temporaries)
//! are handed out again, best fit first, up to [`MAX_BYTES`] kept in all.

use super::Kernels;

/// The most memory the pool keeps for reuse (per float type).
pub(crate) const MAX_BYTES: usize = 2 << 30;

/// A free list of buffers and the bytes it holds.
#[derive(Debug, Default)]
pub(crate) struct Pool<T> {
    free: Vec<Vec<T>>,
    bytes: usize,
}

impl<T> Pool<T> {
    pub(crate) const fn new() -> Self {
        Pool { free: Vec::new(), bytes: 0 }
    }
}

/// A buffer of `len` values whose contents are unspecified (left over from an earlier use): every
/// caller writes each value before reading it.
pub(crate) fn take<T: Kernels>(len: usize) -> Vec<T> {
    let found = {
        let mut pool = T::pool().lock().unwrap_or_else(|e| e.into_inner());
        let best = (pool.free.iter().enumerate())
            .filter(|(_, v)| v.capacity() >= len && v.capacity() <= 2 * len.max(1))
            .min_by_key(|(_, v)| v.capacity())
            .map(|(i, _)| i);
        best.map(|i| {
            let v = pool.free.swap_remove(i);
            pool.bytes -= v.capacity() * std::mem::size_of::<T>();
            v
        })
    };
    match found {
        Some(mut v) => {
            v.truncate(len);
            v.resize(len, T::ZERO);
            v
        }
        None => vec![T::ZERO; len],
    }
}

/// A buffer of `len` zeros.
pub(crate) fn zeros<T: Kernels>(len: usize) -> Vec<T> {
    let mut v = take(len);
    v.fill(T::ZERO);
    v
}

/// Gives a buffer back for reuse (or frees it when the pool is full).
pub(crate) fn give<T: Kernels>(v: Vec<T>) {
    let bytes = v.capacity() * std::mem::size_of::<T>();
    if bytes == 0 {
        return;
    }
    let mut pool = T::pool().lock().unwrap_or_else(|e| e.into_inner());
    if pool.bytes + bytes <= MAX_BYTES {
        pool.bytes += bytes;
        pool.free.push(v);
    }
}
