//! Ego-graphs: a node's k-hop neighbourhood, capped at a node budget, as a small graph of its own
//! (the centre is node 0). A graph too big for dense N × N attention (reddit: 10,984 nodes) is
//! classified node by node from these.

use std::collections::{HashMap, HashSet};

use rand::seq::SliceRandom;
use rand::Rng;

/// One sampled neighbourhood.
#[derive(Debug, Clone, PartialEq)]
pub struct EgoGraph {
    /// The nodes of the big graph, the centre first, then hop by hop.
    pub nodes: Vec<u32>,
    /// The edges among them (both directions), 0-based in `nodes`.
    pub edges: Vec<(u32, u32)>,
}

/// The neighbourhood of `centre` up to `hops` hops in the undirected graph `neighbours`, breadth
/// first: all of a hop's new nodes while they fit in `budget` nodes (centre included), else a
/// uniformly random subset of them that fills it (drawn from `rng`). Edges: every edge of the big
/// graph between two chosen nodes.
pub fn ego_graph(neighbours: &[Vec<u32>], centre: u32, hops: usize, budget: usize, rng: &mut impl Rng) -> EgoGraph {
    let budget = budget.max(1);
    let mut local: HashMap<u32, u32> = HashMap::from([(centre, 0)]);
    let mut nodes = vec![centre];
    let mut frontier = vec![centre];
    for _ in 0..hops {
        if nodes.len() >= budget || frontier.is_empty() {
            break;
        }
        let mut next: Vec<u32> = Vec::new();
        let mut queued = HashSet::new();
        for &u in &frontier {
            for &v in &neighbours[u as usize] {
                if !local.contains_key(&v) && queued.insert(v) {
                    next.push(v);
                }
            }
        }
        let room = budget - nodes.len();
        if next.len() > room {
            next.partial_shuffle(rng, room);
            next.truncate(room);
        }
        for &v in &next {
            local.insert(v, nodes.len() as u32);
            nodes.push(v);
        }
        frontier = next;
    }
    let mut edges = Vec::new();
    for (i, &u) in nodes.iter().enumerate() {
        for v in &neighbours[u as usize] {
            if let Some(&j) = local.get(v) {
                edges.push((i as u32, j));
            }
        }
    }
    EgoGraph { nodes, edges }
}
