//! Graphs into padded batches: [`make_batch`] pads prepared graphs into one [`GraphBatch`], and
//! [`balanced_batches`] cuts size-sorted graphs into batches whose padding costs little.

use burn::tensor::{Device, Tensor, TensorData};
use hopfield::et::{pad_graphs, pad_node_values, GraphBatch, GraphInput};
use hopfield_data::graph::encodings::flip_signs;
use rand_chacha::ChaCha8Rng;

use super::PreparedGraph;

/// Pads `graphs` into one batch; with `flip`, every encoding column of every graph gets a random
/// sign (training only: an eigenvector's sign is arbitrary). With `edge_labels` = L > 0 the batch
/// carries each edge's label one-hot ([B, N, N, L]; label 0 for a graph that lists none).
///
/// # Errors
/// A graph whose features, encodings or edges do not fit its node count.
pub fn make_batch(
    graphs: &[&PreparedGraph],
    width: usize,
    k: usize,
    edge_labels: usize,
    flip: Option<&mut ChaCha8Rng>,
    device: &Device,
) -> crate::Result<GraphBatch> {
    let inputs: Vec<GraphInput> = graphs.iter().map(|g| (g.nodes, g.edges.as_slice(), g.features.as_slice())).collect();
    let (features, adjacency, nodes) = pad_graphs(&inputs, width, device)?;
    let n = features.dims()[1];
    let encodings = (k > 0)
        .then(|| match flip {
            // Training: a sign-flipped copy of each graph's encodings.
            Some(rng) => {
                let enc: Vec<Vec<f32>> = graphs
                    .iter()
                    .map(|g| {
                        let mut e = g.encodings.clone();
                        flip_signs(&mut e, k, rng);
                        e
                    })
                    .collect();
                let rows: Vec<(usize, &[f32])> =
                    graphs.iter().zip(&enc).map(|(g, e)| (g.nodes, e.as_slice())).collect();
                pad_node_values(&rows, k, n, device)
            }
            None => {
                let rows: Vec<(usize, &[f32])> = graphs.iter().map(|g| (g.nodes, g.encodings.as_slice())).collect();
                pad_node_values(&rows, k, n, device)
            }
        })
        .transpose()?;
    let edge_labels = (edge_labels > 0).then(|| {
        let l = edge_labels;
        let mut onehot = vec![0f32; graphs.len() * n * n * l];
        for (i, g) in graphs.iter().enumerate() {
            for (e, &(u, v)) in g.edges.iter().enumerate() {
                let label = g.edge_labels.get(e).map_or(0, |&x| x as usize).min(l - 1);
                onehot[((i * n + u as usize) * n + v as usize) * l + label] = 1.0;
            }
        }
        Tensor::<4>::from_data(TensorData::new(onehot, [graphs.len(), n, n, l]), device)
    });
    Ok(GraphBatch { features, encodings, adjacency, edge_labels, nodes })
}

/// The padded cost of a batch of `len` graphs whose largest has `max` nodes: its attention pairs
/// and, weighted by 64, its tokens.
fn padded_cost(len: usize, max: usize) -> u64 {
    (len * max * (max + 64)) as u64
}

/// Cuts `sizes` (node counts, in the order to keep) into exactly `k` consecutive batches of at most
/// `max_len` graphs each, making the dearest batch's padded cost as small as possible (greedy
/// cuts under a bisected cost cap; then, while short of `k`, the dearest batch is halved).
/// Returns the batches' index ranges. Needs 1 ≤ k ≤ sizes.len() ≤ k · max_len.
pub fn balanced_batches(sizes: &[usize], k: usize, max_len: usize) -> Vec<std::ops::Range<usize>> {
    let n = sizes.len();
    let max_len = max_len.max(1);
    let greedy = |cap: u64| {
        let mut cuts = Vec::new();
        let mut start = 0;
        while start < n {
            let mut end = start + 1;
            let mut top = sizes[start];
            while end < n && end - start < max_len {
                let t = top.max(sizes[end]);
                if padded_cost(end + 1 - start, t) > cap {
                    break;
                }
                top = t;
                end += 1;
            }
            cuts.push(start..end);
            start = end;
        }
        cuts
    };
    let cost = |r: &std::ops::Range<usize>| padded_cost(r.len(), sizes[r.clone()].iter().copied().max().unwrap_or(0));
    let (mut lo, mut hi) = (
        sizes.iter().map(|&s| padded_cost(1, s)).max().unwrap_or(0),
        padded_cost(n, sizes.iter().copied().max().unwrap_or(0)),
    );
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if greedy(mid).len() <= k {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let mut cuts = greedy(lo);
    while cuts.len() < k && cuts.len() < n {
        let (i, _) = cuts
            .iter()
            .enumerate()
            .filter(|(_, r)| r.len() > 1)
            .max_by_key(|(_, r)| cost(r))
            .expect("a batch of two or more");
        let r = cuts.remove(i);
        let mid = r.start + r.len() / 2;
        cuts.insert(i, mid..r.end);
        cuts.insert(i, r.start..mid);
    }
    cuts
}
