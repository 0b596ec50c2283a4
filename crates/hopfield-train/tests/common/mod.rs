//! What the hopfield-train tests share. Each test binary uses some of it.
#![allow(dead_code)]

use hopfield_data::graph::anomaly::AnomalyGraph;
use rand::{Rng, SeedableRng};

/// A ring of `n` nodes with chords; every tenth node (from the fourth) anomalous, its features
/// lying far from the rest (drawn from `seed`).
pub fn planted(n: usize, seed: u64) -> AnomalyGraph {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let dim = 6;
    let raw_labels: Vec<i64> = (0..n).map(|i| (i % 10 == 3) as i64).collect();
    let features = (0..n * dim)
        .map(|j| rng.random_range(-1.0f32..1.0) + if raw_labels[j / dim] == 1 { 2.5 } else { 0.0 })
        .collect();
    let edges = (0..n as u32)
        .flat_map(|i| [(i, (i + 1) % n as u32), ((i + 1) % n as u32, i), (i, (i + 7) % n as u32)])
        .collect();
    AnomalyGraph { name: "planted".into(), nodes: n, edges, features, dim, raw_labels }
}
