//! The Energy Transformer on real graphs (the bundled MUTAG): the energy falls at every step with
//! the adjacency mask and padding; a node gets exactly zero weight from a non-neighbour; permuting a
//! graph's nodes leaves its logits and energy unchanged; padding a batch with other graphs leaves
//! each graph's logits unchanged, and the batch's gradients are the sum of each graph's own.

use std::path::Path;

use burn::tensor::{Device, Tensor};
use hopfield::et::{
    pad_graphs, Descent, EtConfig, GraphBatch, GraphEnergyTransformer, GraphEtConfig, Observe, TokenMask,
};
use hopfield_data::graph::tu::{load, Graph};

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap()
}

fn mutag() -> Vec<Graph> {
    load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/graphs/MUTAG"), None).unwrap().graphs
}

/// One-hot atom types (7) per node.
fn one_hot(g: &Graph) -> Vec<f32> {
    g.node_labels
        .as_ref()
        .unwrap()
        .iter()
        .flat_map(|&l| (0..7).map(move |t| if t == l as usize { 1.0 } else { 0.0 }))
        .collect()
}

fn model(dev: &Device) -> GraphEnergyTransformer {
    let mut et = EtConfig::new(16, 2, 8, 32);
    et.init_std = Some(0.3);
    let mut c = GraphEtConfig::new(7, 0, 2, et);
    c.init_std = 0.5;
    c.init(3, dev).unwrap()
}

/// A graph owned by the test: nodes, edges, node features (row-major).
type OwnedGraph = (usize, Vec<(u32, u32)>, Vec<f32>);

fn run(m: &GraphEnergyTransformer, graphs: &[OwnedGraph], dev: &Device) -> (Vec<f32>, Vec<Vec<f32>>) {
    let refs: Vec<hopfield::et::GraphInput> = graphs.iter().map(|(n, e, x)| (*n, e.as_slice(), x.as_slice())).collect();
    let (x, adj, nodes) = pad_graphs(&refs, 7, dev).unwrap();
    let out = m.forward(GraphBatch::new(x, adj, nodes), &Descent::new(6, 0.1), Observe::Energy).unwrap();
    (to_vec(out.logits), out.energy.into_iter().map(to_vec).collect())
}

fn own(g: &Graph) -> OwnedGraph {
    (g.nodes, g.edges.clone(), one_hot(g))
}

#[test]
fn the_energy_falls_on_real_graphs_with_the_adjacency_and_padding() {
    let dev = Device::flex();
    let m = model(&dev);
    let graphs: Vec<_> = mutag().iter().take(8).map(own).collect();
    let (logits, energy) = run(&m, &graphs, &dev);
    assert_eq!(logits.len(), 16);
    for b in 0..8 {
        for (t, w) in energy.windows(2).enumerate() {
            assert!(
                w[1][b] <= w[0][b] + 1e-5 * w[0][b].abs().max(1.0),
                "graph {b} step {t}: {} -> {}",
                w[0][b],
                w[1][b]
            );
        }
        assert!(energy[6][b] < energy[0][b], "graph {b}: the energy did not fall");
    }
}

#[test]
fn a_node_gets_exactly_zero_weight_from_a_non_neighbour() {
    let dev = Device::flex();
    let m = model(&dev);
    let g = &mutag()[0];
    let (x, adj, nodes) = pad_graphs(&[(g.nodes, &g.edges, &one_hot(g))], 7, &dev).unwrap();
    let mask: TokenMask = m.mask(&GraphBatch::new(x.clone(), adj.clone(), nodes.clone())).unwrap();
    let out = m.forward(GraphBatch::new(x, adj, nodes), &Descent::new(2, 0.1), Observe::Nothing).unwrap();
    let gact = m.et.norm.activation(out.tokens);
    let w = to_vec(m.et.attention.weights(gact, &mask)); // [1, H, N+1 (query), N+1 (key)]
    let n1 = g.nodes + 1;
    for h in 0..2 {
        for q in 1..n1 {
            for k in 1..n1 {
                let edge = g.edges.contains(&((q - 1) as u32, (k - 1) as u32));
                let v = w[(h * n1 + q) * n1 + k];
                if edge {
                    assert!(v > 0.0, "head {h}: node {q} gives its neighbour {k} weight 0");
                } else {
                    assert_eq!(v, 0.0, "head {h}: node {q} gives non-neighbour {k} weight {v}");
                }
            }
            assert!(w[(h * n1 + q) * n1] > 0.0, "every node attends to CLS");
        }
    }
}

#[test]
fn permuting_nodes_keeps_logits_and_energy_and_padding_changes_nothing() {
    let dev = Device::flex();
    let m = model(&dev);
    let graphs = mutag();
    let g = &graphs[5];
    let (a, ea) = run(&m, &[own(g)], &dev);
    // Reverse the node order.
    let n = g.nodes as u32;
    let perm = |v: u32| n - 1 - v;
    let x = one_hot(g);
    let xp: Vec<f32> = (0..g.nodes).rev().flat_map(|i| x[i * 7..(i + 1) * 7].to_vec()).collect();
    let ep: Vec<(u32, u32)> = g.edges.iter().map(|&(u, v)| (perm(u), perm(v))).collect();
    let (b, eb) = run(&m, &[(g.nodes, ep, xp)], &dev);
    for (p, q) in a.iter().zip(&b) {
        assert!((p - q).abs() < 1e-4, "logits {a:?} vs permuted {b:?}");
    }
    assert!((ea[6][0] - eb[6][0]).abs() <= 1e-4 * ea[6][0].abs(), "energy {} vs {}", ea[6][0], eb[6][0]);
    // The same graph alone and padded between two larger ones.
    let batch = vec![own(&graphs[0]), own(g), own(&graphs[1])];
    let (c, ec) = run(&m, &batch, &dev);
    for (p, q) in a.iter().zip(&c[2..4]) {
        assert!((p - q).abs() < 1e-4, "alone {a:?} vs in a batch {:?}", &c[2..4]);
    }
    assert!((ea[6][0] - ec[6][1]).abs() <= 1e-4 * ea[6][0].abs());
}

#[test]
fn permuting_nodes_permutes_the_node_predictions() {
    let dev = Device::flex();
    let m = model(&dev);
    let g = &mutag()[7];
    let node_logits = |x: &[f32], edges: &[(u32, u32)]| {
        let (x, adj, nodes) = pad_graphs(&[(g.nodes, edges, x)], 7, &dev).unwrap();
        let out = m.forward(GraphBatch::new(x, adj, nodes), &Descent::new(5, 0.1), Observe::Nothing).unwrap();
        to_vec(m.node_logits(&out)) // [1, nodes, 2]
    };
    let x = one_hot(g);
    let a = node_logits(&x, &g.edges);
    // A fixed scramble of the nodes: new position p holds old node order[p].
    let n = g.nodes;
    let order: Vec<usize> = (1..n).step_by(2).chain((0..n).step_by(2)).collect();
    assert_eq!(order.iter().copied().collect::<std::collections::HashSet<_>>().len(), n, "a permutation");
    let mut new_of = vec![0u32; n];
    order.iter().enumerate().for_each(|(p, &old)| new_of[old] = p as u32);
    let xp: Vec<f32> = order.iter().flat_map(|&old| x[old * 7..(old + 1) * 7].to_vec()).collect();
    let ep: Vec<(u32, u32)> = g.edges.iter().map(|&(u, v)| (new_of[u as usize], new_of[v as usize])).collect();
    let b = node_logits(&xp, &ep);
    for (p, &old) in order.iter().enumerate() {
        for c in 0..2 {
            let (u, v) = (a[old * 2 + c], b[p * 2 + c]);
            assert!((u - v).abs() < 1e-4, "node {old} (now {p}), class {c}: {u} vs {v}");
        }
    }
    // And the node logits are not all the same (the test would pass trivially otherwise).
    assert!(a.chunks(2).any(|r| (r[0] - a[0]).abs() > 1e-3));
}

/// ∂(Σ logits)/∂(W^Q, W^K, feature weight, CLS token) of `graphs` padded into one batch.
fn batch_gradients(m: &GraphEnergyTransformer, graphs: &[OwnedGraph], dev: &Device) -> Vec<Vec<f32>> {
    let refs: Vec<hopfield::et::GraphInput> = graphs.iter().map(|(n, e, x)| (*n, e.as_slice(), x.as_slice())).collect();
    let (x, adj, nodes) = pad_graphs(&refs, 7, dev).unwrap();
    let out = m.forward(GraphBatch::new(x, adj, nodes), &Descent::new(3, 0.1), Observe::Nothing).unwrap();
    let grads = out.logits.sum().backward();
    [
        m.et.attention.wq.val().grad(&grads).map(to_vec),
        m.et.attention.wk.val().grad(&grads).map(to_vec),
        m.feature_weight.val().grad(&grads).map(to_vec),
        m.cls_token.val().grad(&grads).map(to_vec),
    ]
    .into_iter()
    .map(|g| g.expect("a gradient"))
    .collect()
}

#[test]
fn gradients_through_a_padded_batch_are_the_sum_of_each_graphs_own() {
    // A padded token has no key to attend to; its row of the attention is all blocked. The
    // backward pass through such rows once gave NaN (an overflowing exponential times a zero).
    // Each graph's logits depend on it alone, so the batch's gradient must be the sum of the
    // gradients of each graph run by itself, without padding.
    let dev = Device::flex().autodiff();
    let m = model(&dev);
    let graphs: Vec<_> = mutag().iter().take(4).map(own).collect();
    assert!(graphs.iter().any(|g| g.0 < graphs.iter().map(|g| g.0).max().unwrap()), "the batch has padding");
    let batch = batch_gradients(&m, &graphs, &dev);
    let mut alone = vec![Vec::new(); 4];
    for g in &graphs {
        for (sum, one) in alone.iter_mut().zip(batch_gradients(&m, std::slice::from_ref(g), &dev)) {
            if sum.is_empty() {
                *sum = one;
            } else {
                sum.iter_mut().zip(one).for_each(|(s, v)| *s += v);
            }
        }
    }
    for (name, (b, a)) in ["W^Q", "W^K", "feature weight", "CLS token"].iter().zip(batch.iter().zip(&alone)) {
        let diff: f32 = b.iter().zip(a).map(|(p, q)| (p - q) * (p - q)).sum::<f32>().sqrt();
        let norm: f32 = a.iter().map(|q| q * q).sum::<f32>().sqrt();
        assert!(b.iter().all(|v| v.is_finite()) && norm > 0.0, "{name}: gradient {b:?}");
        assert!(diff <= 1e-4 * norm, "{name}: padded batch vs graph by graph, relative {:e}", diff / norm);
    }
}

#[test]
fn edge_labels_weigh_each_edge_per_head_and_the_energy_still_falls() {
    use burn::module::Param;
    use burn::tensor::TensorData;
    let dev = Device::flex();
    let mut et = EtConfig::new(16, 2, 8, 32);
    et.init_std = Some(0.3);
    let mut c = GraphEtConfig::new(7, 0, 2, et);
    c.init_std = 0.5;
    c.edge_labels = 4; // MUTAG's bond types 0..3
    let mut m = c.init(3, &dev).unwrap();
    let w: Vec<f32> = (0..8).map(|i| 0.4 * i as f32 - 1.3).collect(); // W [4 labels, 2 heads]
    m.edge_weight = Some(Param::from_tensor(Tensor::from_data(TensorData::new(w.clone(), [4, 2]), &dev)));
    let graphs: Vec<Graph> = mutag().into_iter().take(6).collect();
    let refs: Vec<OwnedGraph> = graphs.iter().map(own).collect();
    let inputs: Vec<hopfield::et::GraphInput> = refs.iter().map(|(n, e, x)| (*n, e.as_slice(), x.as_slice())).collect();
    let (x, adj, nodes) = pad_graphs(&inputs, 7, &dev).unwrap();
    let n = adj.dims()[1];
    let mut onehot = vec![0f32; 6 * n * n * 4];
    for (b, g) in graphs.iter().enumerate() {
        for (e, &(u, v)) in g.edges.iter().enumerate() {
            let l = g.edge_labels.as_ref().unwrap()[e] as usize;
            onehot[((b * n + u as usize) * n + v as usize) * 4 + l] = 1.0;
        }
    }
    let batch = GraphBatch {
        features: x,
        encodings: None,
        adjacency: adj,
        edge_labels: Some(Tensor::from_data(TensorData::new(onehot, [6, n, n, 4]), &dev)),
        nodes,
    };
    // The pair weights against exp(W) read off the files' labels.
    let mask = m.mask(&batch).unwrap();
    let pairs = to_vec(mask.pairs.clone().unwrap()); // [B, H, N+1, N+1]
    let n1 = n + 1;
    for (b, g) in graphs.iter().enumerate() {
        for h in 0..2 {
            let at = |q: usize, k: usize| pairs[((b * 2 + h) * n1 + q) * n1 + k];
            for u in 0..g.nodes {
                assert_eq!((at(0, u + 1), at(u + 1, 0)), (1.0, 1.0), "CLS pairs weigh 1");
                for v in 0..g.nodes {
                    let want = match g.edges.iter().position(|&e| e == (u as u32, v as u32)) {
                        Some(e) => (w[g.edge_labels.as_ref().unwrap()[e] as usize * 2 + h]).exp(),
                        None => 0.0,
                    };
                    let got = at(u + 1, v + 1);
                    assert!(
                        (got - want).abs() <= 1e-6 * want.max(1.0),
                        "graph {b} head {h} ({u}, {v}): {got} vs {want}"
                    );
                }
            }
        }
    }
    // The energy falls at every step with these weights.
    let out = m.forward(batch, &Descent::new(6, 0.1), Observe::Energy).unwrap();
    let e: Vec<Vec<f32>> = out.energy.into_iter().map(to_vec).collect();
    for b in 0..6 {
        for (t, s) in e.windows(2).enumerate() {
            assert!(
                s[1][b] <= s[0][b] + 1e-5 * s[0][b].abs().max(1.0),
                "graph {b} step {t}: {} -> {}",
                s[0][b],
                s[1][b]
            );
        }
    }
    // A model with edge weights needs the labels; one without refuses them.
    let (x, adj, nodes) = pad_graphs(&inputs, 7, &dev).unwrap();
    let e = m.mask(&GraphBatch::new(x, adj, nodes)).unwrap_err().to_string();
    assert!(e.contains("edge labels"), "{e}");
}

#[test]
fn the_energy_falls_on_ego_graphs_of_a_big_graph() {
    use hopfield_data::graph::ego::ego_graph;
    use rand::SeedableRng;
    // MUTAG's molecules as one graph of 3,371 nodes; 3-hop ego-graphs capped at 10 nodes, the way
    // `graph anomaly` classifies the nodes of a graph too big for dense attention.
    let graphs = mutag();
    let (mut adj, mut feats) = (Vec::<Vec<u32>>::new(), Vec::new());
    for g in &graphs {
        let base = adj.len() as u32;
        adj.extend((0..g.nodes).map(|_| Vec::new()));
        g.edges.iter().for_each(|&(u, v)| adj[(base + u) as usize].push(base + v));
        feats.extend(one_hot(g));
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let egos: Vec<OwnedGraph> = (0..adj.len() as u32)
        .step_by(211)
        .map(|c| {
            let e = ego_graph(&adj, c, 3, 10, &mut rng);
            let x = e.nodes.iter().flat_map(|&n| feats[n as usize * 7..(n as usize + 1) * 7].to_vec()).collect();
            (e.nodes.len(), e.edges, x)
        })
        .collect();
    assert!(egos.iter().any(|e| e.0 < 10) && egos.iter().any(|e| e.0 == 10), "padding and full ego-graphs");
    let dev = Device::flex();
    let (_, energy) = run(&model(&dev), &egos, &dev);
    for b in 0..egos.len() {
        for (t, w) in energy.windows(2).enumerate() {
            assert!(
                w[1][b] <= w[0][b] + 1e-5 * w[0][b].abs().max(1.0),
                "ego-graph {b} step {t}: {} -> {}",
                w[0][b],
                w[1][b]
            );
        }
    }
}

#[test]
fn an_edge_or_a_feature_row_outside_its_graph_is_an_error_naming_it() {
    let dev = Device::flex();
    let g = own(&mutag()[0]); // 17 nodes
    let mut edges = g.1.clone();
    // Node 17 exists only in the bigger second graph's padding: it would once have been written
    // into this graph's padding (or, past every graph, out of the buffer).
    edges.push((3, 17));
    let bigger = own(&mutag()[1]);
    let inputs = [(g.0, edges.as_slice(), g.2.as_slice()), (bigger.0, bigger.1.as_slice(), bigger.2.as_slice())];
    let e = pad_graphs(&inputs, 7, &dev).unwrap_err().to_string();
    assert!(e.contains("(3, 17) of graph 0") && e.contains("17 nodes"), "{e}");
    let short = &g.2[..g.2.len() - 7];
    let e = pad_graphs(&[(g.0, g.1.as_slice(), short)], 7, &dev).unwrap_err().to_string();
    assert!(e.contains("17 × 7 values for graph 0") && e.contains("112 values"), "{e}");
}
