//! The graph ET's read-outs beyond the CLS token: the logits are [g_CLS, pool(g_v)]·W + b with the
//! pool a mean or a sum of the final, layer-normalised node tokens over the real nodes (checked
//! against a loop over the output tokens); every read-out is invariant to the order of the nodes
//! and blind to padding.

use std::path::Path;

use burn::tensor::{Device, Tensor};
use hopfield::et::{
    pad_graphs, Descent, EtConfig, GraphBatch, GraphEnergyTransformer, GraphEtConfig, Observe, Readout,
};
use hopfield_data::graph::tu::{load, Graph};
use rand::seq::SliceRandom;
use rand::SeedableRng;

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap()
}

fn mutag() -> Vec<Graph> {
    load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/graphs/MUTAG"), None).unwrap().graphs
}

/// A graph owned by the test: nodes, edges, one-hot atom types (7 per node).
type Owned = (usize, Vec<(u32, u32)>, Vec<f32>);

fn own(g: &Graph) -> Owned {
    let x = g.node_labels.as_ref().unwrap().iter().flat_map(|&l| (0..7).map(move |t| (t == l as usize) as u8 as f32));
    (g.nodes, g.edges.clone(), x.collect())
}

fn model(readout: Readout, dev: &Device) -> GraphEnergyTransformer {
    let mut et = EtConfig::new(16, 2, 8, 32);
    et.init_std = Some(0.3);
    let mut c = GraphEtConfig::new(7, 0, 3, et);
    c.init_std = 0.5;
    c.readout = readout;
    let mut m = c.init(3, dev).unwrap();
    // A trained layer norm's bias δ ≠ 0, so that a padded token's activation is not zero and a pool
    // that counted padding would show.
    m.et.norm.delta = burn::module::Param::from_tensor(hopfield::init::normal(
        &mut rand_chacha::ChaCha8Rng::seed_from_u64(5),
        [16],
        0.5,
        dev,
    ));
    m
}

fn batch(graphs: &[Owned], dev: &Device) -> GraphBatch {
    let refs: Vec<hopfield::et::GraphInput> = graphs.iter().map(|(n, e, x)| (*n, e.as_slice(), x.as_slice())).collect();
    let (x, adj, nodes) = pad_graphs(&refs, 7, dev).unwrap();
    GraphBatch::new(x, adj, nodes)
}

fn logits(m: &GraphEnergyTransformer, graphs: &[Owned], dev: &Device) -> Vec<f32> {
    to_vec(m.forward(batch(graphs, dev), &Descent::new(4, 0.1), Observe::Nothing).unwrap().logits)
}

#[test]
fn pooled_readouts_are_the_linear_map_of_the_cls_token_beside_the_mean_or_sum_of_the_node_tokens() {
    let dev = Device::flex();
    let graphs: Vec<Owned> = mutag().iter().take(3).map(own).collect();
    for readout in [Readout::ClsMean, Readout::ClsSum] {
        let m = model(readout, &dev);
        let out = m.forward(batch(&graphs, &dev), &Descent::new(4, 0.1), Observe::Nothing).unwrap();
        let [b, n1, d] = out.tokens.dims();
        let g = to_vec(m.et.norm.activation(out.tokens.clone()));
        let (w, bias, z) = (to_vec(m.readout_weight.val()), to_vec(m.readout_bias.val()), to_vec(out.logits));
        assert_eq!(w.len(), 2 * d * 3, "{readout}: [2D, C] read-out weights");
        for (i, graph) in graphs.iter().enumerate() {
            // The features the read-out reads, by a loop over the real node tokens.
            let mut read = g[i * n1 * d..i * n1 * d + d].to_vec();
            let mut pool = vec![0f64; d];
            for v in 1..=graph.0 {
                (0..d).for_each(|j| pool[j] += g[(i * n1 + v) * d + j] as f64);
            }
            let scale = if readout == Readout::ClsMean { 1.0 / graph.0 as f64 } else { 1.0 };
            read.extend(pool.iter().map(|p| (p * scale) as f32));
            for c in 0..3 {
                let want: f64 = bias[c] as f64 + (0..2 * d).map(|j| read[j] as f64 * w[j * 3 + c] as f64).sum::<f64>();
                let got = z[i * 3 + c] as f64;
                assert!(
                    (got - want).abs() < 1e-4 * want.abs().max(1.0),
                    "{readout} graph {i} class {c}: {got} vs {want}"
                );
            }
        }
        assert_eq!(b, 3);
    }
}

#[test]
fn every_readout_is_invariant_to_the_node_order_and_blind_to_padding() {
    let dev = Device::flex();
    let graphs = mutag();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let largest = graphs.iter().max_by_key(|g| g.nodes).unwrap();
    let smallest = graphs.iter().min_by_key(|g| g.nodes).unwrap();
    let (small, big) = (own(smallest), own(largest));
    assert!(big.0 > small.0, "the padding test needs a larger neighbour");
    let mut sums = Vec::new();
    for readout in Readout::ALL {
        let m = model(readout, &dev);
        let a = logits(&m, std::slice::from_ref(&small), &dev);
        for _ in 0..3 {
            // A random relabelling of the nodes: node v becomes order[v].
            let (n, edges, x) = &small;
            let mut order: Vec<usize> = (0..*n).collect();
            order.shuffle(&mut rng);
            let mut xp = vec![0f32; x.len()];
            for v in 0..*n {
                xp[order[v] * 7..order[v] * 7 + 7].copy_from_slice(&x[v * 7..v * 7 + 7]);
            }
            let ep = edges.iter().map(|&(u, v)| (order[u as usize] as u32, order[v as usize] as u32)).collect();
            let b = logits(&m, &[(*n, ep, xp)], &dev);
            for (p, q) in a.iter().zip(&b) {
                assert!((p - q).abs() < 1e-4 * p.abs().max(1.0), "{readout}: {a:?} vs permuted {b:?}");
            }
        }
        // Alone, and padded beside a larger graph.
        let c = logits(&m, &[big.clone(), small.clone()], &dev);
        for (p, q) in a.iter().zip(&c[3..]) {
            assert!((p - q).abs() < 1e-4 * p.abs().max(1.0), "{readout}: alone {a:?} vs padded {:?}", &c[3..]);
        }
        sums.push(a);
    }
    // The three read-outs are different functions of the same tokens.
    assert!(sums[0] != sums[1] && sums[1] != sums[2], "{sums:?}");
}
