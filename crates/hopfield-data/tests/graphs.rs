//! The TU graph reader on the bundled MUTAG (counts against the published statistics), its
//! cross-checks on malformed files (each error names the file and the line), and folds.

use std::path::{Path, PathBuf};

use hopfield_data::graph::tu::{load, read_folds, stratified_folds, write_folds};
use rand::SeedableRng;

fn mutag() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/graphs/MUTAG")
}

fn gunzip(path: &Path) -> String {
    use std::io::Read;
    let mut s = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_string(&mut s).unwrap();
    s
}

#[test]
fn mutag_loads_with_the_published_counts() {
    let set = load(&mutag(), None).unwrap();
    // TUDataset MUTAG: 188 graphs, 3,371 nodes, 7,442 edge entries; labels −1: 63, 1: 125.
    assert_eq!((set.graphs.len(), set.node_count(), set.edge_count()), (188, 3371, 7442));
    assert_eq!(set.class_values, [-1, 1]);
    assert_eq!(set.class_counts(), [63, 125]);
    assert_eq!(set.attribute_dim, 0);
    let g0 = &set.graphs[0];
    // The file's first graph: 17 nodes; its first edge line "2, 1" is local (1, 0).
    assert_eq!(g0.nodes, 17);
    assert_eq!(g0.edges[0], (1, 0));
    let node_labels: Vec<i64> = set.graphs.iter().flat_map(|g| g.node_labels.clone().unwrap()).collect();
    assert_eq!((node_labels.iter().min(), node_labels.iter().max()), (Some(&0), Some(&6)));
    let edge_labels: Vec<i64> = set.graphs.iter().flat_map(|g| g.edge_labels.clone().unwrap()).collect();
    assert_eq!((edge_labels.len(), edge_labels.iter().min(), edge_labels.iter().max()), (7442, Some(&0), Some(&3)));
    // Every edge stays inside its graph, and the adjacency is symmetric.
    for (i, g) in set.graphs.iter().enumerate() {
        assert!(g.edges.iter().all(|&(u, v)| (u as usize) < g.nodes && (v as usize) < g.nodes), "graph {i}");
        assert!(g.edges.iter().all(|&(u, v)| g.edges.contains(&(v, u))), "graph {i} is not symmetric");
    }
}

/// Writes MUTAG into `dir` with `file`'s text replaced by `edit` of it.
fn variant(dir: &Path, file: &str, edit: impl Fn(String) -> String) {
    std::fs::create_dir_all(dir).unwrap();
    for f in ["A", "graph_indicator", "graph_labels", "node_labels", "edge_labels"] {
        let text = gunzip(&mutag().join(format!("MUTAG_{f}.txt.gz")));
        let text = if f == file { edit(text) } else { text };
        std::fs::write(dir.join(format!("MUTAG_{f}.txt")), text).unwrap();
    }
}

fn error(file: &str, edit: impl Fn(String) -> String) -> String {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("MUTAG");
    variant(&d, file, edit);
    load(&d, None).map(|_| ()).unwrap_err().to_string()
}

fn replace_line(text: String, line: usize, with: &str) -> String {
    text.lines().enumerate().map(|(i, l)| if i + 1 == line { with.to_string() } else { l.to_string() } + "\n").collect()
}

#[test]
fn malformed_files_are_errors_naming_the_file_and_line() {
    // Plain (not gzipped) files read the same.
    let dir = tempfile::tempdir().unwrap();
    variant(&dir.path().join("MUTAG"), "", |t| t);
    assert_eq!(load(&dir.path().join("MUTAG"), None).unwrap(), load(&mutag(), None).unwrap());
    // The copy compiled into the program is the same set.
    assert_eq!(hopfield_data::graph::tu::bundled_mutag().unwrap(), load(&mutag(), None).unwrap());
    // An edge to node 0 in the 1-based file.
    let e = error("A", |t| replace_line(t, 3, "0, 2"));
    assert!(e.contains("MUTAG_A.txt, line 3") && e.contains("node 0") && e.contains("1-based"), "{e}");
    // A node beyond the graph indicator: a node in no graph.
    let e = error("A", |t| replace_line(t, 5, "3372, 1"));
    assert!(e.contains("line 5") && e.contains("node 3372") && e.contains("3371 nodes"), "{e}");
    // An edge between two graphs (node 1 is in graph 1, node 3371 in graph 188).
    let e = error("A", |t| replace_line(t, 7, "1, 3371"));
    assert!(e.contains("line 7") && e.contains("graph 1") && e.contains("graph 188"), "{e}");
    // A graph label line missing.
    let e = error("graph_labels", |t| t.lines().skip(1).map(|l| format!("{l}\n")).collect());
    assert!(e.contains("MUTAG_graph_labels.txt") && e.contains("187 lines") && e.contains("188 graphs"), "{e}");
    // Graph ids that skip, and a node label that is not a number.
    let e = error("graph_indicator", |t| replace_line(t, 10, "3"));
    assert!(e.contains("MUTAG_graph_indicator.txt, line 10") && e.contains("graph id 3 after 1"), "{e}");
    let e = error("node_labels", |t| replace_line(t, 9, "carbon"));
    assert!(e.contains("MUTAG_node_labels.txt, line 9") && e.contains("'carbon'"), "{e}");
    // An edge label missing; a malformed edge line.
    let e = error("edge_labels", |t| t.lines().skip(1).map(|l| format!("{l}\n")).collect());
    assert!(e.contains("MUTAG_edge_labels.txt") && e.contains("7441 lines"), "{e}");
    let e = error("A", |t| replace_line(t, 2, "1 2 3"));
    assert!(e.contains("line 2") && e.contains("two node ids"), "{e}");
    // A required file missing.
    let e = load(Path::new(env!("CARGO_MANIFEST_DIR")), Some("MUTAG")).unwrap_err().to_string();
    assert!(e.contains("MUTAG_graph_indicator.txt"), "{e}");
}

#[test]
fn node_attributes_are_checked_for_width_and_finiteness() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("MUTAG");
    variant(&d, "", |t| t);
    let n = 3371;
    let rows = |bad: Option<(usize, &str)>| -> String {
        (1..=n)
            .map(|i| match bad {
                Some((at, row)) if at == i => format!("{row}\n"),
                _ => format!("{}.5, {}\n", i, -(i as f64)),
            })
            .collect()
    };
    std::fs::write(d.join("MUTAG_node_attributes.txt"), rows(None)).unwrap();
    let set = load(&d, None).unwrap();
    assert_eq!(set.attribute_dim, 2);
    assert_eq!(&set.graphs[0].node_attributes.as_ref().unwrap()[..4], &[1.5, -1.0, 2.5, -2.0]);
    std::fs::write(d.join("MUTAG_node_attributes.txt"), rows(Some((40, "1.0, 2.0, 3.0")))).unwrap();
    let e = load(&d, None).unwrap_err().to_string();
    assert!(e.contains("MUTAG_node_attributes.txt, line 40") && e.contains("3 values") && e.contains("2"), "{e}");
    std::fs::write(d.join("MUTAG_node_attributes.txt"), rows(Some((41, "1.0, inf")))).unwrap();
    let e = load(&d, None).unwrap_err().to_string();
    assert!(e.contains("line 41") && e.contains("not finite"), "{e}");
}

#[test]
fn folds_never_put_a_graph_in_two_test_parts() {
    let set = load(&mutag(), None).unwrap();
    let folds = stratified_folds(&set.labels, 10, 7);
    let mut all: Vec<usize> = folds.test.iter().flatten().copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..188).collect::<Vec<_>>(), "every graph in exactly one test part");
    for (k, f) in folds.test.iter().enumerate() {
        // 63 / 125 over 10 folds: 6–7 and 12–13 per fold.
        let neg = f.iter().filter(|&&g| set.labels[g] == 0).count();
        assert!((6..=7).contains(&neg) && (18..=20).contains(&f.len()), "fold {k}: {neg} of {}", f.len());
        let train = folds.train(k, 188);
        assert!(train.iter().all(|g| !f.contains(g)) && train.len() + f.len() == 188);
    }
    assert_eq!(stratified_folds(&set.labels, 10, 7), folds, "same seed, same folds");
    assert_ne!(stratified_folds(&set.labels, 10, 8), folds);
    // Written and read back; a fold file with a graph twice, or out of range, is an error.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("folds.txt");
    write_folds(&p, &folds).unwrap();
    assert_eq!(read_folds(&p, 188).unwrap(), folds);
    std::fs::write(&p, "0 1 2\n3 4 1\n").unwrap();
    let e = read_folds(&p, 188).unwrap_err().to_string();
    assert!(e.contains("line 2") && e.contains("graph 1 is already in the test part of fold 1"), "{e}");
    std::fs::write(&p, "0 1 188\n").unwrap();
    let e = read_folds(&p, 188).unwrap_err().to_string();
    assert!(e.contains("line 1") && e.contains("graph 188"), "{e}");
}

#[test]
fn node_features_are_one_hot_labels_attributes_or_capped_degrees() {
    use hopfield_data::graph::tu::NodeFeatures;
    let set = load(&mutag(), None).unwrap();
    assert_eq!(set.default_features(), NodeFeatures::Labels);
    let (x, width) = set.node_features(NodeFeatures::Labels).unwrap();
    assert_eq!(width, 7);
    let g0 = &set.graphs[0];
    for (i, &l) in g0.node_labels.as_ref().unwrap().iter().enumerate() {
        let row = &x[0][i * 7..(i + 1) * 7];
        assert_eq!(row.iter().sum::<f32>(), 1.0);
        assert_eq!(row[l as usize], 1.0, "node {i} of label {l}: {row:?}");
    }
    // Degrees capped at 3: one-hot over 0, 1, 2, "3 or more"; a node's degree = its edges out.
    let (d, width) = set.node_features(NodeFeatures::Degree { max: 3 }).unwrap();
    assert_eq!(width, 4);
    for i in 0..g0.nodes {
        let deg = g0.edges.iter().filter(|&&(u, _)| u as usize == i).count().min(3);
        assert_eq!(
            &d[0][i * 4..(i + 1) * 4],
            &(0..4).map(|j| if j == deg { 1.0 } else { 0.0 }).collect::<Vec<f32>>()[..]
        );
    }
    let e = set.node_features(NodeFeatures::Attributes).unwrap_err().to_string();
    assert!(e.contains("MUTAG has no node attributes"), "{e}");
    let e = set.node_features(NodeFeatures::Degree { max: 0 }).unwrap_err().to_string();
    assert!(e.contains("degree cap"), "{e}");
}

/// Laplacian encodings: on a path of 3 nodes the normalised Laplacian's spectrum is {0, 1, 2};
/// every column is an eigenvector of L (checked by an independent product) of unit length; a graph
/// smaller than k gets zero columns; on MUTAG, reversing the node order permutes the rows and at
/// most flips each column's sign (columns of simple eigenvalues); random signs keep |values|.
#[test]
fn laplacian_encodings_are_eigenvectors_and_follow_the_nodes_up_to_sign() {
    use hopfield_data::graph::encodings::{flip_signs, laplacian_encodings};
    let path = [(0u32, 1u32), (1, 0), (1, 2), (2, 1)];
    let (enc, lambda) = laplacian_encodings(3, &path, 4);
    assert_eq!(lambda.len(), 2);
    assert!((lambda[0] - 1.0).abs() < 1e-12 && (lambda[1] - 2.0).abs() < 1e-12, "{lambda:?}");
    assert!(enc.iter().skip(2).step_by(4).all(|&v| v == 0.0) && enc.iter().skip(3).step_by(4).all(|&v| v == 0.0));
    // L v = λ v with L written out for the path: degrees 1, 2, 1.
    let l =
        [[1.0, -1.0 / 2f64.sqrt(), 0.0], [-1.0 / 2f64.sqrt(), 1.0, -1.0 / 2f64.sqrt()], [0.0, -1.0 / 2f64.sqrt(), 1.0]];
    for (c, lam) in lambda.iter().enumerate() {
        let v: Vec<f64> = (0..3).map(|i| enc[i * 4 + c] as f64).collect();
        assert!((v.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() < 1e-6);
        for i in 0..3 {
            let lv: f64 = (0..3).map(|j| l[i][j] * v[j]).sum();
            assert!((lv - lam * v[i]).abs() < 1e-6, "column {c} row {i}");
        }
    }
    let set = load(&mutag(), None).unwrap();
    let g = &set.graphs[3];
    let k = 6;
    let (a, la) = laplacian_encodings(g.nodes, &g.edges, k);
    let n = g.nodes as u32;
    let rev: Vec<(u32, u32)> = g.edges.iter().map(|&(u, v)| (n - 1 - u, n - 1 - v)).collect();
    let (b, lb) = laplacian_encodings(g.nodes, &rev, k);
    let mut checked = 0;
    for c in 0..k {
        assert!((la[c] - lb[c]).abs() < 1e-9, "eigenvalue {c}: {} vs {}", la[c], lb[c]);
        let simple = la.iter().enumerate().all(|(j, &x)| j == c || (x - la[c]).abs() > 1e-6);
        if !simple {
            continue;
        }
        let col = |e: &[f32], i: usize| e[i * k + c];
        let same = (0..g.nodes).all(|i| (col(&a, i) - col(&b, g.nodes - 1 - i)).abs() < 1e-4);
        let flipped = (0..g.nodes).all(|i| (col(&a, i) + col(&b, g.nodes - 1 - i)).abs() < 1e-4);
        assert!(same || flipped, "column {c} does not follow the nodes up to sign");
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} columns with a simple eigenvalue");
    let mut f = a.clone();
    flip_signs(&mut f, k, &mut rand_chacha::ChaCha8Rng::seed_from_u64(1));
    assert!(f.iter().zip(&a).all(|(x, y)| x.abs() == y.abs()) && f != a);
}
