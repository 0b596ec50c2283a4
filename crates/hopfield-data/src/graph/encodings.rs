//! Laplacian positional encodings (Dwivedi & Bresson 2020; the Energy Transformer's graph
//! experiments): the eigenvectors of the symmetric normalised Laplacian L = I − D^{−1/2} A D^{−1/2}
//! with the smallest non-trivial eigenvalues, one column each, computed once per graph by
//! nalgebra's symmetric eigen-solver. An eigenvector's sign is arbitrary; [`flip_signs`] draws one
//! at random per column, as training should.
//!
//! Random-walk structural encodings (Dwivedi et al. 2022, "RWSE" of GraphGPS): node v's
//! probabilities of being back at v after t = 1..k steps of the simple random walk, the diagonal
//! of (D^{−1} A)^t. They are invariant to the order of the nodes (no sign to draw) and see the
//! rings a node lies on: on a 6-ring p_6 > 0 where a tree has only even returns from a path.

use nalgebra::{DMatrix, SymmetricEigen};
use rand::Rng;

/// Eigenvalues below this are trivial (one per connected component).
const TRIVIAL: f64 = 1e-8;

/// The encodings of one graph: row-major [nodes, k], the eigenvectors of the k smallest
/// eigenvalues of L above zero (columns left at 0 where the graph has fewer), and those
/// eigenvalues. Edges are taken as undirected; isolated nodes have D^{−1/2} = 0.
pub fn laplacian_encodings(nodes: usize, edges: &[(u32, u32)], k: usize) -> (Vec<f32>, Vec<f64>) {
    let a = adjacency(nodes, edges);
    let inv_sqrt: Vec<f64> =
        (0..nodes).map(|i| a.row(i).sum()).map(|d| if d > 0.0 { 1.0 / d.sqrt() } else { 0.0 }).collect();
    let mut l = DMatrix::<f64>::identity(nodes, nodes);
    for i in 0..nodes {
        for j in 0..nodes {
            l[(i, j)] -= inv_sqrt[i] * a[(i, j)] * inv_sqrt[j];
        }
    }
    let eig = SymmetricEigen::new(l);
    let mut order: Vec<usize> = (0..nodes).filter(|&i| eig.eigenvalues[i] > TRIVIAL).collect();
    order.sort_by(|&i, &j| eig.eigenvalues[i].total_cmp(&eig.eigenvalues[j]));
    order.truncate(k);
    let mut enc = vec![0f32; nodes * k];
    for (c, &e) in order.iter().enumerate() {
        for n in 0..nodes {
            enc[n * k + c] = eig.eigenvectors[(n, e)] as f32;
        }
    }
    (enc, order.iter().map(|&e| eig.eigenvalues[e]).collect())
}

/// The 0/1 adjacency of an undirected graph: an edge in either direction sets both entries;
/// duplicates, self-loops and nodes out of range are ignored.
fn adjacency(nodes: usize, edges: &[(u32, u32)]) -> DMatrix<f64> {
    let mut a = DMatrix::<f64>::zeros(nodes, nodes);
    for &(u, v) in edges {
        let (u, v) = (u as usize, v as usize);
        if u != v && u < nodes && v < nodes {
            a[(u, v)] = 1.0;
            a[(v, u)] = 1.0;
        }
    }
    a
}

/// The most random-walk steps [`random_walk_encodings`] takes.
pub const MAX_RANDOM_WALK: usize = 64;

/// The random-walk encodings of one graph: row-major [nodes, k], entry (v, t − 1) the probability
/// ((D^{−1} A)^t)_{vv} that the simple random walk from v is at v after t steps. Edges are taken as
/// undirected (duplicates and self-loops ignored); an isolated node's row is all 0.
pub fn random_walk_encodings(nodes: usize, edges: &[(u32, u32)], k: usize) -> Vec<f32> {
    let mut a = adjacency(nodes, edges);
    for i in 0..nodes {
        let d = a.row(i).sum();
        if d > 0.0 {
            a.row_mut(i).scale_mut(1.0 / d);
        }
    }
    let mut enc = vec![0f32; nodes * k];
    let mut power = a.clone();
    for t in 0..k {
        for v in 0..nodes {
            enc[v * k + t] = power[(v, v)] as f32;
        }
        if t + 1 < k {
            power = &power * &a;
        }
    }
    enc
}

/// Multiplies each of the k columns of `enc` ([nodes, k]) by a random sign.
pub fn flip_signs(enc: &mut [f32], k: usize, rng: &mut impl Rng) {
    for c in 0..k {
        if rng.random::<bool>() {
            enc.iter_mut().skip(c).step_by(k).for_each(|v| *v = -*v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both_ways(pairs: &[(u32, u32)]) -> Vec<(u32, u32)> {
        pairs.iter().flat_map(|&(u, v)| [(u, v), (v, u)]).collect()
    }

    #[test]
    fn random_walk_returns_match_hand_counts() {
        // A triangle: from any node, p_1 = 0, p_2 = 1/2 (out and back along one of 2 edges, 2·(1/2·1/2)),
        // p_3 = 1/4 (round the triangle either way, 2·(1/2)³).
        let tri = both_ways(&[(0, 1), (1, 2), (2, 0)]);
        let e = random_walk_encodings(3, &tri, 3);
        for v in 0..3 {
            assert_eq!(e[v * 3], 0.0);
            assert!((e[v * 3 + 1] - 0.5).abs() < 1e-7, "{e:?}");
            assert!((e[v * 3 + 2] - 0.25).abs() < 1e-7, "{e:?}");
        }
        // A path 0–1–2 and an isolated node 3: the end's p_2 = 1/2 (to 1, then back with 1/2),
        // the middle's p_2 = p_4 = 1, odd steps never return, the isolated node's row is 0.
        let path = both_ways(&[(0, 1), (1, 2)]);
        let e = random_walk_encodings(4, &path, 4);
        assert_eq!(&e[0..4], &[0.0, 0.5, 0.0, 0.5]);
        assert_eq!(&e[4..8], &[0.0, 1.0, 0.0, 1.0]);
        assert_eq!(&e[12..16], &[0.0; 4]);
    }

    #[test]
    fn random_walk_encodings_follow_the_nodes() {
        // A 6-ring with a pendant node, relabelled: each node's row moves with it.
        let edges = both_ways(&[(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 0), (2, 6)]);
        let perm = [3u32, 6, 0, 5, 1, 4, 2];
        let moved: Vec<(u32, u32)> = edges.iter().map(|&(u, v)| (perm[u as usize], perm[v as usize])).collect();
        let (a, b) = (random_walk_encodings(7, &edges, 8), random_walk_encodings(7, &moved, 8));
        for v in 0..7 {
            let w = perm[v] as usize;
            for t in 0..8 {
                assert!((a[v * 8 + t] - b[w * 8 + t]).abs() < 1e-6);
            }
        }
        // An even ring with a pendant is bipartite: no odd return. A 5-ring has p_5 = 2·(1/2)^5 (once
        // round either way) and nothing shorter that is odd.
        assert!((0..7).all(|v| a[v * 8] == 0.0 && a[v * 8 + 2] == 0.0 && a[v * 8 + 4] == 0.0 && a[v * 8 + 6] == 0.0));
        let five = random_walk_encodings(5, &both_ways(&[(0, 1), (1, 2), (2, 3), (3, 4), (4, 0)]), 5);
        assert_eq!(five[2], 0.0);
        assert!((five[4] - 2.0 / 32.0).abs() < 1e-7, "{five:?}");
    }
}
