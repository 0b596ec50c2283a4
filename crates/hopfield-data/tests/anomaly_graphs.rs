//! The node-anomaly reader (dense and sparse features, plain and gzipped files, inj_cora's 0–3
//! labels as binary), its cross-checks (each error names the file and the line), and ego-graphs
//! checked against an independent breadth-first search.

use std::collections::{HashSet, VecDeque};
use std::io::Write;
use std::path::Path;

use hopfield_data::graph::anomaly::load;
use hopfield_data::graph::ego::ego_graph;
use hopfield_data::graph::tu::bundled_mutag;
use rand::SeedableRng;

/// A 6-node graph: a path 0-1-2-3-4 and node 5 hanging off 2; node 3 and 5 anomalous.
fn write_set(dir: &Path, edges: &str, labels: &str, features: &str) {
    std::fs::write(dir.join("edges.txt"), edges).unwrap();
    std::fs::write(dir.join("labels.txt"), labels).unwrap();
    std::fs::write(dir.join("features.csv"), features).unwrap();
}

const EDGES: &str = "0 1\n1 2\n2 3\n3 4\n2 5\n";
const LABELS: &str = "0\n0\n0\n1\n0\n1\n";
const FEATURES: &str = "1,0\n0,1\n1,1\n2,0\n0,2\n3,3\n";

fn error_of(edges: &str, labels: &str, features: &str) -> String {
    let d = tempfile::tempdir().unwrap();
    write_set(d.path(), edges, labels, features);
    load(d.path()).expect_err("a malformed set must be an error").to_string()
}

#[test]
fn a_small_set_loads_dense_plain_or_gzipped() {
    let d = tempfile::tempdir().unwrap();
    write_set(d.path(), EDGES, LABELS, FEATURES);
    let g = load(d.path()).unwrap();
    assert_eq!((g.nodes, g.edges.len(), g.dim, g.anomalies()), (6, 5, 2, 2));
    assert_eq!(&g.features[4..8], &[1.0, 1.0, 2.0, 0.0]);
    assert_eq!(g.neighbours()[2], vec![1, 3, 5]);
    // The same files gzipped.
    let z = tempfile::tempdir().unwrap();
    for (name, text) in [("edges.txt", EDGES), ("labels.txt", LABELS), ("features.csv", FEATURES)] {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(text.as_bytes()).unwrap();
        std::fs::write(z.path().join(format!("{name}.gz")), enc.finish().unwrap()).unwrap();
    }
    let gz = load(z.path()).unwrap();
    assert_eq!((gz.features, gz.edges, gz.raw_labels), (g.features, g.edges, g.raw_labels));
}

#[test]
fn sparse_features_and_injected_kinds_of_anomaly() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("edges.txt"), "0 1\n1 2\n2 3\n").unwrap();
    // inj_cora's labels: 0 inlier, 1 contextual, 2 structural, 3 both → anomalous when not 0.
    std::fs::write(d.path().join("labels.txt"), "0\n1\n2\n3\n").unwrap();
    std::fs::write(d.path().join("features_coo.txt"), "4 5 3\n0 4 0.5\n2 0 -1\n3 3 2.25\n").unwrap();
    let g = load(d.path()).unwrap();
    assert_eq!(g.anomalous(), vec![false, true, true, true]);
    assert_eq!(g.dim, 5);
    let mut dense = vec![0f32; 20];
    (dense[4], dense[10], dense[18]) = (0.5, -1.0, 2.25);
    assert_eq!(g.features, dense);
    let bad = |coo: &str| {
        std::fs::write(d.path().join("features_coo.txt"), coo).unwrap();
        load(d.path()).expect_err("malformed").to_string()
    };
    let e = bad("4 5 3\n0 4 0.5\n2 7 1\n3 3 2\n");
    assert!(e.contains("features_coo.txt, line 3") && e.contains("(2, 7) outside the 4 × 5"), "{e}");
    let e = bad("4 5 3\n0 4 0.5\n");
    assert!(e.contains("line 1") && e.contains("nnz 3, but 1 entries follow"), "{e}");
    let e = bad("3 5 1\n0 4 0.5\n");
    assert!(e.contains("line 1") && e.contains("3 rows, but the labels give 4 nodes"), "{e}");
    let e = bad("4 5 1\n0 4 nan\n");
    assert!(e.contains("line 2") && e.contains("not finite"), "{e}");
}

#[test]
fn malformed_files_are_errors_naming_the_file_and_line() {
    let cases: [(&str, &str, &str, &[&str]); 7] = [
        // An edge to a node that does not exist (ids are 0-based, 6 nodes).
        ("0 1\n1 6\n", LABELS, FEATURES, &["edges.txt, line 2", "node 6", "below the 6 nodes"]),
        ("0 1\n1 -1\n", LABELS, FEATURES, &["edges.txt, line 2", "node -1"]),
        ("0 1\n1 2 3\n", LABELS, FEATURES, &["edges.txt, line 2", "expected two node ids"]),
        // A label line missing: the features have a row more than the labels have nodes.
        ("0 1\n1 2\n", "0\n0\n0\n1\n0\n", FEATURES, &["features.csv", "6 rows, but the labels give 5 nodes"]),
        (EDGES, "0\n0\nx\n1\n0\n1\n", FEATURES, &["labels.txt, line 3", "'x' is not an integer"]),
        // A feature row of the wrong width; a non-finite value.
        (
            EDGES,
            LABELS,
            "1,0\n0,1\n1,1,1\n2,0\n0,2\n3,3\n",
            &["features.csv, line 3", "3 values, but the first row has 2"],
        ),
        (EDGES, LABELS, "1,0\n0,1\n1,1\n2,inf\n0,2\n3,3\n", &["features.csv, line 4", "not finite"]),
    ];
    for (edges, labels, features, want) in cases {
        let e = error_of(edges, labels, features);
        for w in want {
            assert!(e.contains(w), "expected '{w}' in: {e}");
        }
    }
    let e = error_of(EDGES, "0\n0\n-1\n1\n0\n1\n", FEATURES);
    assert!(e.contains("labels.txt, line 3") && e.contains("label -1"), "{e}");
    // No features at all.
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("edges.txt"), EDGES).unwrap();
    std::fs::write(d.path().join("labels.txt"), LABELS).unwrap();
    let e = load(d.path()).unwrap_err().to_string();
    assert!(e.contains("no features.csv(.gz) or features_coo.txt(.gz)"), "{e}");
}

/// Hop distances from `centre` by a plain breadth-first search.
fn hops_from(adj: &[Vec<u32>], centre: u32) -> Vec<usize> {
    let mut d = vec![usize::MAX; adj.len()];
    d[centre as usize] = 0;
    let mut q = VecDeque::from([centre]);
    while let Some(u) = q.pop_front() {
        for &v in &adj[u as usize] {
            if d[v as usize] == usize::MAX {
                d[v as usize] = d[u as usize] + 1;
                q.push_back(v);
            }
        }
    }
    d
}

#[test]
fn ego_graphs_hold_the_centre_its_near_nodes_and_their_edges_within_the_budget() {
    // MUTAG's 188 molecules as one big graph of 3,371 nodes.
    let set = bundled_mutag().unwrap();
    let mut adj: Vec<Vec<u32>> = Vec::new();
    for g in &set.graphs {
        let base = adj.len() as u32;
        adj.extend((0..g.nodes).map(|_| Vec::new()));
        for &(u, v) in &g.edges {
            adj[(base + u) as usize].push(base + v);
        }
    }
    adj.iter_mut().for_each(|a| {
        a.sort_unstable();
        a.dedup()
    });
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    for centre in (0..adj.len() as u32).step_by(97) {
        for (hops, budget) in [(1, 64), (2, 64), (3, 8), (2, 1)] {
            let e = ego_graph(&adj, centre, hops, budget, &mut rng);
            let dist = hops_from(&adj, centre);
            assert_eq!(e.nodes[0], centre);
            assert!(e.nodes.len() <= budget);
            let set: HashSet<u32> = e.nodes.iter().copied().collect();
            assert_eq!(set.len(), e.nodes.len(), "a node twice");
            assert!(e.nodes.iter().all(|&n| dist[n as usize] <= hops), "a node beyond {hops} hops");
            // Breadth first: hop distances never decrease along the list.
            assert!(e.nodes.windows(2).all(|w| dist[w[0] as usize] <= dist[w[1] as usize]));
            let within = (0..adj.len()).filter(|&n| dist[n] <= hops).count();
            if within <= budget {
                assert_eq!(e.nodes.len(), within, "the whole neighbourhood fits, so all of it is taken");
            } else {
                assert_eq!(e.nodes.len(), budget);
            }
            // Edges: exactly the big graph's edges among the chosen nodes.
            let mut want = Vec::new();
            for (i, &u) in e.nodes.iter().enumerate() {
                for (j, &v) in e.nodes.iter().enumerate() {
                    if adj[u as usize].contains(&v) {
                        want.push((i as u32, j as u32));
                    }
                }
            }
            let mut got = e.edges.clone();
            got.sort_unstable();
            want.sort_unstable();
            assert_eq!(got, want);
        }
    }
}

#[test]
fn without_labels_the_node_count_comes_from_the_features() {
    use hopfield_data::graph::anomaly::load_unlabelled;
    let d = tempfile::tempdir().unwrap();
    write_set(d.path(), EDGES, LABELS, FEATURES);
    let labelled = load_unlabelled(d.path()).unwrap();
    assert_eq!(labelled, load(d.path()).unwrap(), "with labels both readers agree");
    std::fs::remove_file(d.path().join("labels.txt")).unwrap();
    let e = load(d.path()).unwrap_err().to_string();
    assert!(e.contains("no labels.txt or labels.txt.gz"), "{e}");
    let g = load_unlabelled(d.path()).unwrap();
    assert_eq!((g.nodes, g.edges.len(), g.dim, g.anomalies()), (6, 5, 2, 0));
    assert_eq!((g.features, g.edges), (labelled.features, labelled.edges));
    // An edge beyond the features' rows names the features file that counted the nodes.
    std::fs::write(d.path().join("edges.txt"), "0 1\n1 6\n").unwrap();
    let e = load_unlabelled(d.path()).unwrap_err().to_string();
    assert!(e.contains("edges.txt, line 2") && e.contains("below the 6 nodes of") && e.contains("features.csv"), "{e}");
    // Sparse features: the header's n.
    std::fs::write(d.path().join("edges.txt"), "0 1\n1 2\n").unwrap();
    std::fs::remove_file(d.path().join("features.csv")).unwrap();
    std::fs::write(d.path().join("features_coo.txt"), "3 2 1\n2 1 4.5\n").unwrap();
    let g = load_unlabelled(d.path()).unwrap();
    assert_eq!((g.nodes, g.features), (3, vec![0.0, 0.0, 0.0, 0.0, 0.0, 4.5]));
    for (coo, words) in [("0 2 0\n", "0 rows: expected 1 to"), ("-4 2 0\n", "-4 rows")] {
        std::fs::write(d.path().join("features_coo.txt"), coo).unwrap();
        let e = load_unlabelled(d.path()).unwrap_err().to_string();
        assert!(e.contains(words), "{e}");
    }
    std::fs::write(d.path().join("features_coo.txt"), "").unwrap();
    assert!(load_unlabelled(d.path()).is_err());
}
