//! A graph set prepared for the models: features, Laplacian encodings and edge labels computed
//! once; standardisation on a training part; the stratified validation part of a training part.

use hopfield_data::graph::encodings::{laplacian_encodings, random_walk_encodings, MAX_RANDOM_WALK};
use hopfield_data::graph::tu::{stratified_folds, GraphSet, NodeFeatures};

use super::super::{PreparedGraph, Standardizer};
use crate::error::{invalid, Result};

/// A graph set ready for the models: raw features and encodings (computed once) and labels.
#[derive(Debug, Clone)]
pub struct GraphData {
    /// The set's name.
    pub name: String,
    /// The graphs, features not yet standardised.
    pub graphs: Vec<PreparedGraph>,
    /// Class of each graph.
    pub labels: Vec<usize>,
    /// Node features per node.
    pub width: usize,
    /// Classes.
    pub classes: usize,
    /// Encodings per node.
    pub k: usize,
    /// Edge labels the batches carry one-hot (0: none, the model has no edge weights).
    pub edge_labels: usize,
}

impl GraphData {
    /// The graphs of `set` with `features` and `k` Laplacian encodings each, `random_walk`
    /// random-walk return probabilities appended to each node's features (steps 1..=`random_walk`,
    /// every model reads them); with `edge_weights`, their edge labels for the model's per-head edge
    /// weights (one label when the set has none).
    ///
    /// # Errors
    /// Features the set lacks; a set of fewer than two classes; more random-walk steps than
    /// [`MAX_RANDOM_WALK`].
    pub fn new(
        set: &GraphSet,
        features: NodeFeatures,
        k: usize,
        random_walk: usize,
        edge_weights: bool,
    ) -> Result<GraphData> {
        check_encodings(set, k)?;
        check_random_walk(random_walk)?;
        let encodings_bytes = crate::budget::product(&[set.node_count() as u128, k as u128, 8]);
        crate::budget::check(
            &format!("{k} Laplacian encodings for each of {} nodes", set.node_count()),
            encodings_bytes,
        )?;
        let (mut x, width) = set.node_features(features)?;
        if random_walk > 0 {
            crate::budget::check(
                &format!("{random_walk} random-walk encodings for each of {} nodes", set.node_count()),
                crate::budget::product(&[set.node_count() as u128, (width + random_walk) as u128, 4, 3]),
            )?;
            for (g, x) in set.graphs.iter().zip(x.iter_mut()) {
                let walk = random_walk_encodings(g.nodes, &g.edges, random_walk);
                *x = x
                    .chunks(width.max(1))
                    .zip(walk.chunks(random_walk))
                    .flat_map(|(own, returns)| own.iter().chain(returns).copied())
                    .collect();
            }
        }
        let width = width + random_walk;
        if set.class_values.len() < 2 {
            return Err(invalid("graph labels", format!("{:?}", set.class_values), "at least two classes"));
        }
        let mut values: Vec<i64> = set.graphs.iter().flat_map(|g| g.edge_labels.clone().unwrap_or_default()).collect();
        values.sort_unstable();
        values.dedup();
        let graphs = set
            .graphs
            .iter()
            .zip(x)
            .map(|(g, features)| PreparedGraph {
                nodes: g.nodes,
                edges: g.edges.clone(),
                features,
                encodings: if k > 0 { laplacian_encodings(g.nodes, &g.edges, k).0 } else { Vec::new() },
                edge_labels: g
                    .edge_labels
                    .as_ref()
                    .map(|l| l.iter().map(|v| values.binary_search(v).unwrap_or(0) as u32).collect())
                    .unwrap_or_default(),
            })
            .collect();
        Ok(GraphData {
            name: set.name.clone(),
            graphs,
            labels: set.labels.clone(),
            width,
            classes: set.class_values.len(),
            k,
            edge_labels: if edge_weights { values.len().max(1) } else { 0 },
        })
    }

    /// A copy whose features are standardised with statistics of the nodes of the graphs `fit_on`.
    ///
    /// # Errors
    /// A standardised feature too large for the models ([`super::MAX_FEATURE`]), naming the graph
    /// (0-based), the node and the column.
    pub fn standardised(&self, fit_on: &[usize]) -> Result<GraphData> {
        let w = self.width;
        let std = Standardizer::fit(fit_on.iter().flat_map(|&g| self.graphs[g].features.chunks(w.max(1))), w);
        let mut out = self.clone();
        for (i, g) in out.graphs.iter_mut().enumerate() {
            std.apply_checked(&mut g.features, |node| format!("graph {i} (0-based), node {node}"))?;
        }
        Ok(out)
    }
}

/// Ok when `k` Laplacian encodings are at most the largest graph's nodes (a graph of n nodes has
/// n eigenvectors; more would be columns of zeros).
///
/// # Errors
/// More encodings than that.
pub fn check_encodings(set: &GraphSet, k: usize) -> Result<()> {
    let largest = set.graphs.iter().map(|g| g.nodes).max().unwrap_or(0);
    if k > largest {
        return Err(invalid(
            "encodings",
            k,
            format!(
                "at most {largest}, the nodes of the largest graph of {} (a graph of n nodes has n Laplacian \
                 eigenvectors; more would be columns of zeros)",
                set.name
            ),
        ));
    }
    Ok(())
}

/// Ok when `steps` random-walk steps are at most [`MAX_RANDOM_WALK`].
///
/// # Errors
/// More steps, naming the value.
pub fn check_random_walk(steps: usize) -> Result<()> {
    if steps > MAX_RANDOM_WALK {
        return Err(invalid(
            "random walk",
            steps,
            format!("at most {MAX_RANDOM_WALK} steps (0: none): each step is a product of a graph's n × n matrices"),
        ));
    }
    Ok(())
}

/// The stratified validation part of a training part (≈ `fraction` of each class, from `seed`) and
/// what is left to train on; the two are disjoint and together are `train`.
pub fn validation_split(train: &[usize], labels: &[usize], fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let parts = (1.0 / fraction.clamp(1e-3, 0.5)).round() as usize;
    let sub: Vec<usize> = train.iter().map(|&g| labels[g]).collect();
    let folds = stratified_folds(&sub, parts, seed);
    let mut is_val = vec![false; train.len()];
    folds.test[0].iter().for_each(|&i| is_val[i] = true);
    let (mut fit, mut val) = (Vec::new(), Vec::new());
    for (i, &g) in train.iter().enumerate() {
        if is_val[i] {
            val.push(g)
        } else {
            fit.push(g)
        }
    }
    (fit, val)
}
