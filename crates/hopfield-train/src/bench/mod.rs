//! Throughput measurements (used by `hopfield bench`): batched modern-Hopfield retrieval next to a
//! plain matrix product of the same shape, and asynchronous sweeps of the binary memory.

pub mod et;

use std::time::Instant;

use burn::tensor::{Device, Tensor, TensorData};
use hopfield::layers::Keys;
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

/// The benchmarks' K×N stored patterns and B×N queries, uniform in [−1, 1).
fn modern_inputs(n: usize, k: usize, b: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = (0..n * k).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect();
    let q = (0..n * b).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect();
    (x, q)
}

/// Times `reps` updates and `reps` plain GEMMs (after one warm-up each) on random data.
pub fn bench_modern(n: usize, k: usize, b: usize, reps: usize, seed: u64) -> Result<ModernBench> {
    let (x, q) = modern_inputs(n, k, b, seed);
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

/// [`bench_modern`] as burn tensors on `device` (what a GPU runs): the update through
/// [`hopfield::layers::Keys`] next to the device's own product of the same shape, each waited for by
/// reading one value back. Before timing, the device's update is checked against the host arrays'.
///
/// # Errors
/// Invalid sizes; values the device cannot give back; an update that differs from the host's by
/// more than 1e-4 of its largest entry (naming the difference).
pub fn bench_modern_on(n: usize, k: usize, b: usize, reps: usize, seed: u64, device: &Device) -> Result<ModernBench> {
    let (x, q) = modern_inputs(n, k, b, seed);
    let net = ModernHopfield::new(x.clone(), n, 0.1)?;
    let keys = Keys::new(Tensor::<3>::from_data(TensorData::new(x, [1, k, n]), device), 0.1, None)?;
    let (queries, xt) =
        (Tensor::<3>::from_data(TensorData::new(q.clone(), [1, b, n]), device), keys.x.clone().swap_dims(1, 2));
    let host = net.update(&q)?;
    let on_device = crate::trainer::values(keys.update(queries.clone()), "the device's update")?;
    let scale = host.iter().fold(0f32, |m, v| m.max(v.abs())) as f64;
    let worst = host.iter().zip(&on_device).map(|(a, b)| (*a as f64 - b).abs()).fold(0.0, f64::max);
    if worst > 1e-4 * scale.max(1e-30) {
        return Err(crate::error::invalid(
            "device update",
            format!("{worst:.3e} from the host's (largest entry {scale:.3e})"),
            "the host arrays' update to 1e-4",
        ));
    }
    let wait = |t: Tensor<3>| std::hint::black_box(t.slice([0..1, 0..1, 0..1]).into_data());
    let (mut gemm, mut update) = (Vec::new(), Vec::new());
    for r in 0..=reps {
        let t = Instant::now();
        wait(queries.clone().matmul(xt.clone()));
        let g = t.elapsed().as_secs_f64();
        let t = Instant::now();
        wait(keys.update(queries.clone()));
        if r > 0 {
            gemm.push(g);
            update.push(t.elapsed().as_secs_f64());
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The device bench on the CPU backend: its update passes the check against the host arrays
    /// (which errors on a difference), and its rates count the products' flops: 4·N·K·B for the
    /// update's two products, 2·N·K·B for the plain GEMM.
    #[test]
    fn the_device_bench_checks_its_update_and_counts_the_flops_of_both_products() {
        let m = bench_modern_on(64, 500, 16, 2, 0, &Device::flex()).unwrap();
        assert_eq!(m.shape, (64, 500, 16));
        let flops = (64 * 500 * 16) as f64;
        let update = m.update_gflops() * 1e9 * m.update_s;
        let gemm = m.gemm_gflops() * 1e9 * m.gemm_s;
        assert!((update / (4.0 * flops) - 1.0).abs() < 1e-12, "{m:?}: {update} flops");
        assert!((gemm / (2.0 * flops) - 1.0).abs() < 1e-12, "{m:?}: {gemm} flops");
    }
}
