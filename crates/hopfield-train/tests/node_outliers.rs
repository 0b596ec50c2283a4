//! Unsupervised node anomaly detection (the BOND protocol): labels cannot reach any fit, planted
//! anomalies are found, the local outlier factor agrees with its definition, a graph without
//! anomalies is scored with its figures undefined, and bad settings are refused by name.

mod common;

use burn::tensor::Device;
use hopfield::et::Descent;
use hopfield_train::experiments::node_outliers::{run, Detector, NodeOutlierConfig};
use hopfield_train::experiments::Silent;
use hopfield_train::tasks::graph::anomaly::EgoSettings;
use hopfield_train::tasks::graph::baselines::{local_outlier_factor, nearest_neighbours, AutoencoderSettings};
use hopfield_train::tasks::graph::outlier::Reconstruction;
use hopfield_train::tasks::graph::GraphSettings;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

fn small(samples: usize) -> NodeOutlierConfig {
    NodeOutlierConfig {
        seeds: 1,
        samples,
        reconstruction: Reconstruction { ego: EgoSettings { hops: 2, budget: 16 }, mask_fraction: 0.6 },
        settings: GraphSettings {
            dim: 32,
            heads: 2,
            head_dim: 8,
            memories: 32,
            descent: Descent::new(3, 0.1),
            encodings: 4,
            batch_size: 32,
            ..GraphSettings::default()
        },
        autoencoder: AutoencoderSettings { epochs: 30, batch_size: 64, ..AutoencoderSettings::default() },
        ..NodeOutlierConfig::default()
    }
}

#[test]
fn planted_anomalies_are_found_without_labels() {
    let graph = common::bond_planted(320, 20, 7);
    let config = NodeOutlierConfig { seeds: 3, ..small(320 * 40) };
    let report = run(&config, &graph, &Device::default(), Silent).unwrap();
    let summary = report.summary();
    let mean = |score: &str| summary.iter().find(|s| s.score == score).unwrap().auc.unwrap().0;
    for s in &summary {
        eprintln!("{}: ROC-AUC {:?}, AUPRC {:?}", s.score, s.auc, s.auprc);
    }
    // Each kind against the normal nodes (seed 0).
    let kind = |k: i64| {
        let (s, l): (Vec<f64>, Vec<bool>) = graph
            .raw_labels
            .iter()
            .zip(&report.scores[0].1)
            .filter(|(&r, _)| r == 0 || r == k)
            .map(|(&r, &s)| (s, r == k))
            .unzip();
        hopfield_train::metrics::auc(&s, &l)
    };
    let (contextual, structural) = (kind(1), kind(2));
    eprintln!("ET seed 0: contextual {contextual:.4}, structural {structural:.4}");
    let et = mean("ET");
    assert!(et > 0.9, "the ET finds the contextual and structural anomalies together: mean ROC-AUC {et}");
    let each: Vec<f64> =
        report.runs.iter().filter(|r| r.detector == Detector::Et).map(|r| r.figures[0].auc.unwrap()).collect();
    assert!(each.iter().all(|&a| a > 0.85), "every seed: {each:?}");
    assert!(contextual > 0.95 && structural > 0.75, "each kind: {contextual}, {structural}");
    // Features that were swapped with another community's look normal on their own: the
    // feature-only detectors cannot see them, the graph is what carries the signal.
    for s in ["MLPAE", "LOF"] {
        let a = mean(s);
        assert!(a < et - 0.2, "{s} ({a}) sees the features only, far below the ET ({et})");
    }
    // The structure-aware autoencoder sees them too.
    assert!(mean("GAE") > 0.8, "GAE: {}", mean("GAE"));
}

/// Each score's name and every node's score.
type Scores = Vec<(String, Vec<f64>)>;

/// The scores of every node under `config`, and the report's figures.
fn scores_and_figures(
    graph: &hopfield_data::graph::anomaly::AnomalyGraph,
    config: &NodeOutlierConfig,
) -> (Scores, Vec<Option<f64>>) {
    let report = run(config, graph, &Device::default(), Silent).unwrap();
    let figures = report.runs.iter().flat_map(|r| r.figures.iter().map(|f| f.auc)).collect();
    (report.scores, figures)
}

#[test]
fn labels_cannot_reach_any_fit() {
    let graph = common::bond_planted(160, 12, 3);
    let config = NodeOutlierConfig { samples: 160 * 6, ..small(0) };
    let (scores, figures) = scores_and_figures(&graph, &config);
    // The same labels permuted among the nodes, and labels with no anomaly at all.
    let mut shuffled = graph.clone();
    shuffled.raw_labels.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(11));
    assert_ne!(shuffled.raw_labels, graph.raw_labels);
    let none = hopfield_data::graph::anomaly::AnomalyGraph { raw_labels: vec![0; graph.nodes], ..graph.clone() };
    for (what, g) in [("shuffled labels", &shuffled), ("no anomalies", &none)] {
        let (other, other_figures) = scores_and_figures(g, &config);
        assert_eq!(other.len(), 6, "ET (3 scores), MLPAE, LOF, GAE");
        for ((name, a), (_, b)) in scores.iter().zip(&other) {
            let same = a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
            assert!(same, "{what}: every {name} score bit for bit as with the true labels");
        }
        // The figures do depend on the labels: the scores were computed, the labels only judge them.
        assert_ne!(figures, other_figures, "{what}");
    }
}

#[test]
fn a_graph_without_anomalies_is_scored_and_its_figures_are_undefined() {
    let mut graph = common::bond_planted(120, 0, 5);
    graph.raw_labels = vec![0; graph.nodes];
    let config = NodeOutlierConfig { seeds: 2, samples: 240, ..small(0) };
    let report = run(&config, &graph, &Device::default(), Silent).unwrap();
    assert!(report.runs.iter().flat_map(|r| &r.figures).all(|f| f.auc.is_none() && f.auprc.is_none()));
    let table = report.table();
    assert!(table.contains("undefined") && !table.contains("NaN"), "{table}");
    assert!(table.contains("0 of the 120 nodes are labelled anomalous"), "{table}");
    let runs = report.runs_csv();
    assert!(!runs.contains("NaN") && runs.lines().nth(1).unwrap().contains(",,"), "{runs}");
    let scores = report.scores_csv();
    assert_eq!(scores.lines().count(), 121, "a line per node after the header");
    assert!(scores.lines().skip(1).all(|l| l.split(',').skip(2).all(|v| v.parse::<f64>().is_ok_and(f64::is_finite))));
    let dir = tempfile::tempdir().unwrap();
    let written = report.write(dir.path(), &Device::default()).unwrap();
    assert_eq!(written.len(), 4, "runs.csv, metrics.csv, scores.csv, scores.png");
    assert!(report.scores.iter().all(|(_, s)| s.len() == 120 && s.iter().all(|v| v.is_finite())));
}

/// LOF straight from its definition (Breunig et al. 2000, as scikit-learn computes it), in f64
/// with a full sort per point.
fn slow_lof(x: &[Vec<f64>], k: usize) -> Vec<f64> {
    let n = x.len();
    let d = |a: usize, b: usize| x[a].iter().zip(&x[b]).map(|(p, q)| (p - q) * (p - q)).sum::<f64>().sqrt();
    let knn: Vec<Vec<usize>> = (0..n)
        .map(|a| {
            let mut o: Vec<usize> = (0..n).filter(|&b| b != a).collect();
            o.sort_by(|&p, &q| d(a, p).partial_cmp(&d(a, q)).unwrap());
            o.truncate(k);
            o
        })
        .collect();
    let kdist: Vec<f64> = (0..n).map(|a| d(a, knn[a][k - 1])).collect();
    let lrd: Vec<f64> =
        (0..n).map(|a| 1.0 / (knn[a].iter().map(|&b| kdist[b].max(d(a, b))).sum::<f64>() / k as f64 + 1e-10)).collect();
    (0..n).map(|a| knn[a].iter().map(|&b| lrd[b]).sum::<f64>() / (k as f64 * lrd[a])).collect()
}

#[test]
fn local_outlier_factor_agrees_with_its_definition() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
    // Two clusters of different density, and three points far from both; n not a multiple of the
    // 512-row blocks' size, so that a last short block is used.
    let (n, dim) = (700, 5);
    let x: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            let (c, s) = match i {
                0..=2 => (6.0, 0.1),
                3..=400 => (0.0, 0.5),
                _ => (3.0, 0.2),
            };
            (0..dim).map(|_| c + s * rng.random_range(-1.0..1.0)).collect()
        })
        .collect();
    let flat: Vec<f32> = x.iter().flatten().map(|&v| v as f32).collect();
    // The reference on the float32 values the fast one sees.
    let x32: Vec<Vec<f64>> = flat.chunks(dim).map(|r| r.iter().map(|&v| v as f64).collect()).collect();
    for k in [1, 5, 20] {
        let fast = local_outlier_factor(&flat, dim, k, &Device::default()).unwrap();
        let slow = slow_lof(&x32, k);
        let worst = fast.iter().zip(&slow).map(|(a, b)| (a - b).abs() / b.abs().max(1.0)).fold(0.0, f64::max);
        assert!(worst < 1e-4, "k = {k}: largest relative difference {worst}");
        if k == 20 {
            // The far points stand out; points inside a cluster sit near 1.
            assert!(fast[..3].iter().all(|&v| v > 3.0), "{:?}", &fast[..3]);
            let median = {
                let mut s = fast[3..].to_vec();
                s.sort_by(f64::total_cmp);
                s[s.len() / 2]
            };
            assert!((median - 1.0).abs() < 0.1, "median LOF {median}");
        }
    }
    let (idx, dist) = nearest_neighbours(&flat, dim, 3, &Device::default()).unwrap();
    assert!(idx.iter().enumerate().all(|(i, nb)| !nb.contains(&(i as u32))), "a point is not its own neighbour");
    assert!(dist.iter().all(|d| d.windows(2).all(|w| w[0] <= w[1])), "nearest first");
    for k in [0, n] {
        let e = local_outlier_factor(&flat, dim, k, &Device::default()).unwrap_err().to_string();
        assert!(e.contains(&format!("neighbours = {k}")), "{e}");
    }
}

#[test]
fn bad_settings_are_refused_by_name() {
    let graph = common::bond_planted(40, 4, 1);
    let base = small(200);
    let cases: Vec<(NodeOutlierConfig, &str)> = vec![
        (NodeOutlierConfig { detectors: vec![], ..base.clone() }, "detectors"),
        (NodeOutlierConfig { seeds: 0, ..base.clone() }, "seeds = 0"),
        (NodeOutlierConfig { epochs: Some(0), ..base.clone() }, "epochs = 0"),
        (NodeOutlierConfig { samples: 0, ..base.clone() }, "samples = 0"),
        (NodeOutlierConfig { lof_neighbours: 40, ..base.clone() }, "LOF neighbours = 40"),
        (NodeOutlierConfig { lof_neighbours: 0, ..base.clone() }, "LOF neighbours = 0"),
        (
            NodeOutlierConfig {
                reconstruction: Reconstruction { mask_fraction: 1.0, ..base.reconstruction },
                ..base.clone()
            },
            "mask fraction = 1",
        ),
        (
            NodeOutlierConfig {
                reconstruction: Reconstruction { mask_fraction: f64::NAN, ..base.reconstruction },
                ..base.clone()
            },
            "mask fraction = NaN",
        ),
        (
            NodeOutlierConfig {
                reconstruction: Reconstruction { mask_fraction: -0.1, ..base.reconstruction },
                ..base.clone()
            },
            "mask fraction = -0.1",
        ),
        (
            NodeOutlierConfig {
                reconstruction: Reconstruction { ego: EgoSettings { hops: 2, budget: 0 }, ..base.reconstruction },
                ..base.clone()
            },
            "budget = 0",
        ),
        (
            NodeOutlierConfig { settings: GraphSettings { encodings: 17, ..base.settings.clone() }, ..base.clone() },
            "encodings = 17",
        ),
        (
            NodeOutlierConfig {
                autoencoder: AutoencoderSettings { lr: -1.0, ..base.autoencoder.clone() },
                ..base.clone()
            },
            "autoencoder lr = -1",
        ),
        (
            NodeOutlierConfig {
                autoencoder: AutoencoderSettings { epochs: 0, ..base.autoencoder.clone() },
                ..base.clone()
            },
            "autoencoder epochs = 0",
        ),
    ];
    for (config, named) in cases {
        let e = run(&config, &graph, &Device::default(), Silent)
            .err()
            .unwrap_or_else(|| panic!("{named} accepted"))
            .to_string();
        assert!(e.contains(named), "{named}: {e}");
    }
    // Cancelled before its first step: a clean error, not a panic.
    let cancel = hopfield_train::experiments::Cancel::new();
    cancel.cancel();
    let observer = hopfield_train::experiments::Cancellable {
        on: |_: hopfield_train::experiments::node_outliers::Event<'_>| {},
        cancel,
    };
    for d in [Detector::Et, Detector::MlpAe, Detector::Lof] {
        let c = NodeOutlierConfig { detectors: vec![d], ..base.clone() };
        let e = run(
            &c,
            &graph,
            &Device::default(),
            hopfield_train::experiments::Cancellable {
                on: |_: hopfield_train::experiments::node_outliers::Event<'_>| {},
                cancel: observer.cancel.clone(),
            },
        )
        .err()
        .unwrap();
        assert!(matches!(e, hopfield_train::TrainError::Cancelled { .. }), "{d}: {e}");
    }
}
