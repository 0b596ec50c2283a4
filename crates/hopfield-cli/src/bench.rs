//! `hopfield bench`: throughput figures, measured in one run.

use anyhow::Result;
use clap::Args;
use hopfield::memory::Separation;
use hopfield_train::bench::{bench_dense, bench_modern, bench_modern_on};

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// N for both benchmarks.
    #[arg(long, default_value_t = 784)]
    pub neurons: usize,
    /// K stored patterns of the modern-Hopfield benchmark.
    #[arg(long, default_value_t = 60_000)]
    pub modern_k: usize,
    /// Queries per batch of the modern-Hopfield benchmark.
    #[arg(long, default_value_t = 256)]
    pub queries: usize,
    /// Timed repetitions (median reported).
    #[arg(long, default_value_t = 5)]
    pub reps: usize,
    /// K stored patterns of the binary-memory benchmark.
    #[arg(long, default_value_t = 1000)]
    pub dense_k: usize,
    /// Asynchronous sweeps timed per binary memory.
    #[arg(long, default_value_t = 20)]
    pub sweeps: usize,
}

/// Runs `hopfield bench`; with `device` (a GPU) the modern update runs there as tensors and the
/// binary memories, host arrays, are not timed.
pub fn run(a: &BenchArgs, device: Option<&burn::tensor::Device>) -> Result<()> {
    anyhow::ensure!(a.neurons > 0 && a.modern_k > 0 && a.queries > 0 && a.dense_k > 0, "sizes must be positive");
    anyhow::ensure!(a.reps > 0 && a.sweeps > 0, "--reps and --sweeps must be positive");
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("machine: {threads} threads");
    let m = match device {
        None => bench_modern(a.neurons, a.modern_k, a.queries, a.reps, 0)?,
        Some(d) => {
            println!("device: {d:?} (the update as tensors, checked against the host arrays' to 1e-4)");
            bench_modern_on(a.neurons, a.modern_k, a.queries, a.reps, 0, d)?
        }
    };
    println!(
        "modern Hopfield update, N = {}, K = {}, {} queries: {:.1} ms = {:.1} GFLOP/s (2 GEMMs + softmax)",
        a.neurons,
        a.modern_k,
        a.queries,
        m.update_s * 1e3,
        m.update_gflops()
    );
    println!(
        "plain GEMM ({}×{})·({}×{}) of the same shape:   {:.1} ms = {:.1} GFLOP/s",
        a.queries,
        a.neurons,
        a.neurons,
        a.modern_k,
        m.gemm_s * 1e3,
        m.gemm_gflops()
    );
    println!("update / GEMM efficiency: {:.0}%", 100.0 * m.update_gflops() / m.gemm_gflops());
    if device.is_some() {
        println!("binary memories: not timed (host arrays on the CPU; run without --device for them)");
        return Ok(());
    }
    for s in [Separation::Classical, Separation::RectifiedPolynomial { n: 20 }, Separation::Exponential] {
        let d = bench_dense(s, a.neurons, a.dense_k, a.sweeps, 0)?;
        println!(
            "binary memory {s}, N = {}, K = {}: {:.1} asynchronous sweeps/s ({:.2} M neuron updates/s)",
            a.neurons,
            a.dense_k,
            d.sweeps_per_second(),
            d.sweeps_per_second() * a.neurons as f64 / 1e6
        );
    }
    Ok(())
}
