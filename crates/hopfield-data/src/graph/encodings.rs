//! Laplacian positional encodings (Dwivedi & Bresson 2020; the Energy Transformer's graph
//! experiments): the eigenvectors of the symmetric normalised Laplacian L = I − D^{−1/2} A D^{−1/2}
//! with the smallest non-trivial eigenvalues, one column each, computed once per graph by
//! nalgebra's symmetric eigen-solver. An eigenvector's sign is arbitrary; [`flip_signs`] draws one
//! at random per column, as training should.

use nalgebra::{DMatrix, SymmetricEigen};
use rand::Rng;

/// Eigenvalues below this are trivial (one per connected component).
const TRIVIAL: f64 = 1e-8;

/// The encodings of one graph: row-major [nodes, k], the eigenvectors of the k smallest
/// eigenvalues of L above zero (columns left at 0 where the graph has fewer), and those
/// eigenvalues. Edges are taken as undirected; isolated nodes have D^{−1/2} = 0.
pub fn laplacian_encodings(nodes: usize, edges: &[(u32, u32)], k: usize) -> (Vec<f32>, Vec<f64>) {
    let mut a = DMatrix::<f64>::zeros(nodes, nodes);
    for &(u, v) in edges {
        let (u, v) = (u as usize, v as usize);
        if u != v && u < nodes && v < nodes {
            a[(u, v)] = 1.0;
            a[(v, u)] = 1.0;
        }
    }
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

/// Multiplies each of the k columns of `enc` ([nodes, k]) by a random sign.
pub fn flip_signs(enc: &mut [f32], k: usize, rng: &mut impl Rng) {
    for c in 0..k {
        if rng.random::<bool>() {
            enc.iter_mut().skip(c).step_by(k).for_each(|v| *v = -*v);
        }
    }
}
