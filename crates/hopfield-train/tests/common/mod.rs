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

/// An attributed graph with anomalies injected as BOND (PyGOD's `gen_contextual_outlier` and
/// `gen_structural_outlier`) injects them: four communities of `n / 4` nodes, each node's 8
/// features its community's centre plus noise, each node joined to 4 random members of its
/// community (both directions) and every 25th pair of nodes across communities; then `m` nodes get
/// the features of the farthest of 50 random nodes (contextual, label 1) and two cliques of `m / 2`
/// random nodes are wired in (structural, label 2).
pub fn bond_planted(n: usize, m: usize, seed: u64) -> AnomalyGraph {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let (dim, groups) = (8, 4);
    let centres: Vec<f32> = (0..groups * dim).map(|_| rng.random_range(-2.0f32..2.0)).collect();
    let group = |i: usize| i * groups / n;
    let mut features: Vec<f32> =
        (0..n * dim).map(|j| centres[group(j / dim) * dim + j % dim] + rng.random_range(-0.4f32..0.4)).collect();
    let mut edges = Vec::new();
    for i in 0..n {
        let (lo, hi) = (group(i) * n / groups, (group(i) + 1) * n / groups);
        for _ in 0..2 {
            let j = rng.random_range(lo..hi);
            if j != i {
                edges.push((i as u32, j as u32));
                edges.push((j as u32, i as u32));
            }
        }
        if i % 25 == 0 {
            let j = rng.random_range(0..n);
            edges.push((i as u32, j as u32));
            edges.push((j as u32, i as u32));
        }
    }
    let mut raw_labels = vec![0i64; n];
    let pick = |rng: &mut rand_chacha::ChaCha8Rng, labels: &[i64]| loop {
        let i = rng.random_range(0..n);
        if labels[i] == 0 {
            break i;
        }
    };
    for _ in 0..m {
        let i = pick(&mut rng, &raw_labels);
        let row = |f: &[f32], j: usize| f[j * dim..(j + 1) * dim].to_vec();
        let mine = row(&features, i);
        let far = (0..50)
            .map(|_| rng.random_range(0..n))
            .max_by(|&a, &b| {
                let d = |j: usize| row(&features, j).iter().zip(&mine).map(|(x, y)| (x - y) * (x - y)).sum::<f32>();
                d(a).total_cmp(&d(b))
            })
            .unwrap();
        let new = row(&features, far);
        features[i * dim..(i + 1) * dim].copy_from_slice(&new);
        raw_labels[i] = 1;
    }
    for _ in 0..2 {
        let mut clique = Vec::new();
        for _ in 0..m / 2 {
            let i = pick(&mut rng, &raw_labels);
            raw_labels[i] = 2;
            clique.push(i);
        }
        for &i in &clique {
            for &j in &clique {
                if i != j {
                    edges.push((i as u32, j as u32));
                }
            }
        }
    }
    AnomalyGraph { name: "bond-planted".into(), nodes: n, edges, features, dim, raw_labels }
}
