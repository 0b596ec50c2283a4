//! Throughput measurements (used by `hopfield bench`): batched modern-Hopfield retrieval next to a
//! plain matrix product of the same shape, and asynchronous sweeps of the binary memory.

pub mod et;

use std::time::Instant;

use hopfield::linalg::{matmul, Op};
use hopfield::memory::{DenseMemory, ModernHopfield, Separation};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::Result;

/// Median of timings in seconds.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Modern-Hopfield retrieval throughput.
#[derive(Debug, Clone, PartialEq)]
pub struct ModernBench {
    /// N, K, B.
    pub shape: (usize, usize, usize),
    /// Median seconds of one update ξ ← X softmax(β Xᵀ ξ) for all B queries.
    pub update_s: f64,
    /// Median seconds of one plain GEMM (B×N)·(N×K).
    pub gemm_s: f64,
}

impl ModernBench {
    /// GFLOP/s of the update, counting its two matrix products (4·B·K·N flops).
    pub fn update_gflops(&self) -> f64 {
        let (n, k, b) = self.shape;
        4.0 * (n * k * b) as f64 / self.update_s / 1e9
    }
    /// GFLOP/s of the plain GEMM (2·B·K·N flops).
    pub fn gemm_gflops(&self) -> f64 {
        let (n, k, b) = self.shape;
        2.0 * (n * k * b) as f64 / self.gemm_s / 1e9
    }
}

/// Times `reps` updates and `reps` plain GEMMs (after one warm-up each) on random data.
pub fn bench_modern(n: usize, k: usize, b: usize, reps: usize, seed: u64) -> Result<ModernBench> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x: Vec<f32> = (0..n * k).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect();
    let q: Vec<f32> = (0..n * b).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect();
    let net = ModernHopfield::new(x, n, 0.1)?;
    let mut out = vec![0f32; b * k];
    let mut gemm = Vec::new();
    let mut update = Vec::new();
    for r in 0..=reps {
        let t = Instant::now();
        matmul(b, k, n, &q, Op::N, net.patterns(), Op::T, &mut out, 1.0);
        let g = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let u = net.update(&q)?;
        let us = t.elapsed().as_secs_f64();
        std::hint::black_box((&out, &u));
        if r > 0 {
            gemm.push(g);
            update.push(us);
        }
    }
    Ok(ModernBench { shape: (n, k, b), update_s: median(update), gemm_s: median(gemm) })
}

/// Binary-memory sweep throughput.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseBench {
    /// The memory.
    pub separation: Separation,
    /// N, K.
    pub shape: (usize, usize),
    /// Sweeps timed.
    pub sweeps: usize,
    /// Seconds they took.
    pub seconds: f64,
}

impl DenseBench {
    /// Asynchronous sweeps (N neuron updates each) per second.
    pub fn sweeps_per_second(&self) -> f64 {
        self.sweeps as f64 / self.seconds
    }
}

/// Times `sweeps` asynchronous sweeps from a random state (no early stop at convergence).
pub fn bench_dense(separation: Separation, n: usize, k: usize, sweeps: usize, seed: u64) -> Result<DenseBench> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pats: Vec<i8> = (0..n * k).map(|_| if rng.random::<bool>() { 1 } else { -1 }).collect();
    let mem = DenseMemory::new(&pats, n, separation)?;
    let mut state: Vec<i8> = (0..n).map(|_| if rng.random::<bool>() { 1 } else { -1 }).collect();
    let mut overlaps = mem.overlaps(&state)?;
    let mut order: Vec<usize> = (0..n).collect();
    let t = Instant::now();
    for _ in 0..sweeps {
        order.shuffle(&mut rng);
        std::hint::black_box(mem.sweep(&mut state, &mut overlaps, &order));
    }
    Ok(DenseBench { separation, shape: (n, k), sweeps, seconds: t.elapsed().as_secs_f64() })
}
