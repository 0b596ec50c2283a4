//! GIN-0 against a hand-computed sum aggregation and MLP on small graphs (loops over the edge
//! list, in f64), padding that changes nothing, and a read-out that does not depend on the order of
//! the nodes.

use burn::tensor::{Device, Tensor};
use hopfield::et::{pad_graphs, GraphBatch};
use hopfield_train::tasks::graph::gin::GinLayer;
use hopfield_train::tasks::graph::Gin;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().iter::<f32>().map(|v| v as f64).collect()
}

/// A graph: nodes, directed edges, features row-major.
type Graph = (usize, Vec<(u32, u32)>, Vec<f32>);

fn batch(graphs: &[Graph], f: usize, dev: &Device) -> GraphBatch {
    let inputs: Vec<_> = graphs.iter().map(|(n, e, x)| (*n, e.as_slice(), x.as_slice())).collect();
    let (features, adjacency, nodes) = pad_graphs(&inputs, f, dev).unwrap();
    GraphBatch::new(features, adjacency, nodes)
}

/// Both directions of each undirected edge.
fn undirected(edges: &[(u32, u32)]) -> Vec<(u32, u32)> {
    edges.iter().flat_map(|&(u, v)| [(u, v), (v, u)]).collect()
}

/// One GIN-0 layer by hand: s_v = h_v + Σ_{(v, u) an edge} h_u, then two linear maps, each followed
/// by the row normalisation (centre, divide by √(var + 1e-5)) and ReLU.
fn layer_by_hand(layer: &GinLayer, nodes: usize, edges: &[(u32, u32)], h: &[f64], f: usize) -> Vec<f64> {
    let w1 = to_vec(layer.w1.val());
    let b1 = to_vec(layer.b1.val());
    let w2 = to_vec(layer.w2.val());
    let b2 = to_vec(layer.b2.val());
    let hidden = b1.len();
    let mut s = h.to_vec();
    for &(v, u) in edges {
        for j in 0..f {
            s[v as usize * f + j] += h[u as usize * f + j];
        }
    }
    let dense = |x: &[f64], w: &[f64], b: &[f64], fin: usize| -> Vec<f64> {
        let mut y: Vec<f64> =
            (0..hidden).map(|k| b[k] + (0..fin).map(|i| x[i] * w[i * hidden + k]).sum::<f64>()).collect();
        let mean = y.iter().sum::<f64>() / hidden as f64;
        let var = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / hidden as f64;
        y.iter_mut().for_each(|v| *v = ((*v - mean) / (var + 1e-5).sqrt()).max(0.0));
        y
    };
    (0..nodes)
        .flat_map(|v| {
            let a = dense(&s[v * f..(v + 1) * f], &w1, &b1, f);
            dense(&a, &w2, &b2, hidden)
        })
        .collect()
}

#[test]
fn a_gin_layer_is_the_sum_over_neighbours_then_its_mlp_and_padding_stays_zero() {
    let dev = Device::flex();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let f = 3;
    // A path 0–1–2–3 and a triangle with a tail, padded together to 5 nodes.
    let path = undirected(&[(0, 1), (1, 2), (2, 3)]);
    let tri = undirected(&[(0, 1), (1, 2), (2, 0), (2, 3), (3, 4)]);
    let x1: Vec<f32> = (0..4 * f).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect();
    let x2: Vec<f32> = (0..5 * f).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect();
    let b = batch(&[(4, path.clone(), x1.clone()), (5, tri.clone(), x2.clone())], f, &dev);
    let gin = Gin::new(f, 6, 2, 7, &dev);
    let reps = gin.representations(&b);
    let first = to_vec(reps[1].clone()); // [2, 5, 6]
    for (g, (n, edges, x)) in [(0, (4, &path, &x1)), (1, (5, &tri, &x2))] {
        let h: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        let want = layer_by_hand(&gin.layers[0], n, edges, &h, f);
        for v in 0..5 {
            for j in 0..6 {
                let got = first[(g * 5 + v) * 6 + j];
                let expected = if v < n { want[v * 6 + j] } else { 0.0 };
                assert!((got - expected).abs() < 1e-4, "graph {g} node {v} unit {j}: {got} vs {expected}");
            }
        }
    }
}

#[test]
fn the_sum_read_out_does_not_depend_on_the_order_of_the_nodes() {
    let dev = Device::flex();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let (n, f) = (6, 4);
    let edges = undirected(&[(0, 1), (1, 2), (2, 3), (3, 0), (3, 4), (4, 5)]);
    let x: Vec<f32> = (0..n * f).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect();
    let gin = Gin::new(f, 8, 3, 3, &dev);
    let perm = [4usize, 2, 5, 0, 3, 1]; // node v becomes perm[v]
    let mut px = vec![0f32; n * f];
    for v in 0..n {
        px[perm[v] * f..(perm[v] + 1) * f].copy_from_slice(&x[v * f..(v + 1) * f]);
    }
    let pe: Vec<(u32, u32)> = edges.iter().map(|&(u, v)| (perm[u as usize] as u32, perm[v as usize] as u32)).collect();
    let a = to_vec(gin.graph_logits(&batch(&[(n, edges.clone(), x.clone())], f, &dev)));
    let b = to_vec(gin.graph_logits(&batch(&[(n, pe, px)], f, &dev)));
    for (p, q) in a.iter().zip(&b) {
        assert!((p - q).abs() < 1e-4 * p.abs().max(1.0), "{a:?} vs {b:?}");
    }
    // A different graph on the same features gives other logits (the read-out sees structure).
    let c = to_vec(gin.graph_logits(&batch(&[(n, undirected(&[(0, 5)]), x)], f, &dev)));
    assert!(a.iter().zip(&c).any(|(p, q)| (p - q).abs() > 1e-3), "{a:?} vs {c:?}");
}
