//! What the graph protocols may and may not see. Test labels cannot reach any choice: with the
//! test graphs' (or test nodes') labels flipped, the chosen epoch, the decision threshold, every
//! validation figure, every training loss and every test score stay bit for bit the same — only
//! the test figures move. Node features are standardised on the training nodes alone; evaluation
//! ego-graphs (with Laplacian encodings) are the same at every call; training batches flip each
//! encoding's sign at random, evaluation batches never.

mod common;

use burn::tensor::Device;
use hopfield_data::graph::tu::{bundled_mutag, stratified_folds};
use hopfield_train::tasks::graph::anomaly::{run_anomaly, split_nodes, AnomalyData, AnomalyRun, EgoSettings};
use hopfield_train::tasks::graph::classify::{run_fold, validation_split, FoldParts, GraphData};
use hopfield_train::tasks::graph::{GraphSettings, ModelKind};
use hopfield_train::trainer::Trainer;
use rand::SeedableRng;

fn small(epochs: usize, encodings: usize) -> GraphSettings {
    GraphSettings { dim: 16, heads: 2, head_dim: 8, memories: 16, encodings, epochs, ..GraphSettings::default() }
}

#[test]
fn flipping_the_test_graphs_labels_changes_no_choice_of_the_cross_validation() {
    let set = bundled_mutag().unwrap();
    let folds = stratified_folds(&set.labels, 10, 0);
    let train = folds.train(0, set.graphs.len());
    let (fit, val) = validation_split(&train, &set.labels, 0.1, 0);
    let test = &folds.test[0];
    let mut flipped = set.clone();
    for &i in test {
        flipped.labels[i] = 1 - flipped.labels[i];
    }
    let s = small(4, 2);
    for kind in [ModelKind::Et, ModelKind::Mlp] {
        let run = |set| {
            let data = GraphData::new(set, set.default_features(), s.encodings, 0, false).unwrap();
            let parts = FoldParts { fit: &fit, val: &val, test };
            run_fold(&data, &parts, kind, &s, &Device::flex(), &Trainer::default(), |_| {}).unwrap()
        };
        let (a, b) = (run(&set), run(&flipped));
        assert_eq!(a.best_epoch, b.best_epoch, "{kind}");
        assert_eq!(a.val_accuracy, b.val_accuracy, "{kind}");
        let figures = |o: &hopfield_train::tasks::graph::classify::FoldOutcome| {
            o.history.iter().map(|e| (e.train_loss, e.train_accuracy, e.val_loss, e.val_accuracy)).collect::<Vec<_>>()
        };
        assert_eq!(figures(&a), figures(&b), "{kind}: a training or validation figure moved");
        // Every test graph's label is flipped: the test accuracy becomes its complement.
        assert!(
            (a.test_accuracy + b.test_accuracy - 1.0).abs() < 1e-12,
            "{kind}: {} {}",
            a.test_accuracy,
            b.test_accuracy
        );
    }
}

#[test]
fn flipping_the_test_nodes_labels_changes_no_choice_of_anomaly_detection() {
    let graph = common::planted(300, 1);
    let split = split_nodes(&graph.anomalous(), 0.4, 0).unwrap();
    let mut flipped = graph.clone();
    for &i in &split.test {
        flipped.raw_labels[i as usize] = 1 - flipped.raw_labels[i as usize];
    }
    let ego = EgoSettings { hops: 2, budget: 12 };
    let s = small(3, 2);
    for kind in [ModelKind::Et, ModelKind::Mlp] {
        let run = |graph| {
            let run = AnomalyRun { graph, split: &split, ego };
            run_anomaly(&run, kind, &s, &Device::flex(), &Trainer::default(), |_| {}).unwrap().0
        };
        let (a, b) = (run(&graph), run(&flipped));
        assert_eq!((a.best_epoch, a.threshold), (b.best_epoch, b.threshold), "{kind}");
        let figures = |o: &hopfield_train::tasks::graph::anomaly::AnomalyOutcome| {
            o.history.iter().map(|e| (e.train_loss, e.val_auc, e.val_auprc)).collect::<Vec<_>>()
        };
        assert_eq!(figures(&a), figures(&b), "{kind}: a training or validation figure moved");
        assert_eq!(a.test_scores, b.test_scores, "{kind}: a test score moved");
        // The test labels are the complement: ROC-AUC becomes 1 − AUC.
        assert!((a.test_auc + b.test_auc - 1.0).abs() < 1e-9, "{kind}: {} {}", a.test_auc, b.test_auc);
        assert!(a.test_auc > 0.9, "{kind}: the planted anomalies are found ({})", a.test_auc);
    }
}

#[test]
fn node_features_are_standardised_on_the_training_nodes_alone() {
    let graph = common::planted(200, 2);
    let split = split_nodes(&graph.anomalous(), 0.4, 0).unwrap();
    let data = AnomalyData::new(&graph, &split.train).unwrap();
    let d = graph.dim;
    for c in 0..d {
        let col: Vec<f64> = split.train.iter().map(|&i| data.features[i as usize * d + c] as f64).collect();
        let mean = col.iter().sum::<f64>() / col.len() as f64;
        let var = col.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / col.len() as f64;
        assert!(mean.abs() < 1e-5 && (var.sqrt() - 1.0).abs() < 1e-3, "column {c}: mean {mean}, std {}", var.sqrt());
    }
    // Any change to the other nodes' features leaves the training nodes' standardised values alone.
    let mut other = graph.clone();
    for &i in split.val.iter().chain(&split.test) {
        other.features[i as usize * d..(i as usize + 1) * d].iter_mut().for_each(|v| *v = *v * 100.0 + 7.0);
    }
    let moved = AnomalyData::new(&other, &split.train).unwrap();
    for &i in &split.train {
        let r = i as usize * d..(i as usize + 1) * d;
        assert_eq!(data.features[r.clone()], moved.features[r], "training node {i}");
    }
}

#[test]
fn evaluation_ego_graphs_and_their_encodings_are_the_same_at_every_call() {
    let graph = common::planted(200, 3);
    let split = split_nodes(&graph.anomalous(), 0.4, 0).unwrap();
    let data = AnomalyData::new(&graph, &split.train).unwrap();
    let ego = EgoSettings { hops: 2, budget: 12 };
    for &c in split.val.iter().take(20) {
        let first = data.fixed(c, ego, 4, 0);
        assert_eq!(first, data.fixed(c, ego, 4, 0), "node {c}");
        assert!(first.nodes > 1 && !first.encodings.is_empty(), "node {c}: a real ego-graph with encodings");
    }
}

#[test]
fn training_batches_flip_each_encodings_sign_and_evaluation_batches_never_do() {
    use hopfield_train::tasks::graph::make_batch;
    let graph = common::planted(200, 4);
    let split = split_nodes(&graph.anomalous(), 0.4, 0).unwrap();
    let data = AnomalyData::new(&graph, &split.train).unwrap();
    let g = data.fixed(split.val[0], EgoSettings { hops: 2, budget: 12 }, 4, 0);
    let dev = Device::flex();
    let encodings = |flip: Option<&mut rand_chacha::ChaCha8Rng>| -> Vec<f32> {
        let b = make_batch(&[&g], graph.dim, 4, 0, flip, &dev).unwrap();
        b.encodings.expect("encodings").into_data().try_into_vec_as::<f32>().unwrap()
    };
    let plain = encodings(None);
    assert_eq!(plain, encodings(None), "evaluation batches are the same every time");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let (n, k) = (g.nodes, 4);
    let mut flipped_columns = 0;
    for _ in 0..8 {
        let f = encodings(Some(&mut rng));
        for c in 0..k {
            let col = |v: &[f32]| (0..n).map(|i| v[i * k + c]).collect::<Vec<_>>();
            let (a, b) = (col(&plain), col(&f));
            let negated: Vec<f32> = a.iter().map(|v| -v).collect();
            assert!(b == a || b == negated, "column {c}: not ± the evaluation encoding");
            flipped_columns += (b == negated && a.iter().any(|v| *v != 0.0)) as usize;
        }
    }
    // 32 columns drawn with a fair sign: all kept would have probability 2⁻³².
    assert!(flipped_columns > 0 && flipped_columns < 32, "{flipped_columns} of 32 columns flipped");
}

#[test]
fn early_stopping_picks_the_epoch_the_validation_figures_say_and_stops_patience_epochs_later() {
    let set = bundled_mutag().unwrap();
    let folds = stratified_folds(&set.labels, 10, 0);
    let s = GraphSettings { patience: Some(3), ..small(40, 2) };
    let mut stopped_early = 0;
    for fold in 0..2 {
        let train = folds.train(fold, set.graphs.len());
        let (fit, val) = validation_split(&train, &set.labels, 0.1, 0);
        let parts = FoldParts { fit: &fit, val: &val, test: &folds.test[fold] };
        for kind in [ModelKind::Et, ModelKind::Gin, ModelKind::Mlp] {
            let data = GraphData::new(&set, set.default_features(), s.encodings, 0, false).unwrap();
            let o = run_fold(&data, &parts, kind, &s, &Device::flex(), &Trainer::default(), |_| {}).unwrap();
            // The validation figures alone say which epoch: the highest accuracy, then the lowest
            // loss, the earliest on a tie.
            let mut want = 0;
            for (i, e) in o.history.iter().enumerate() {
                let b = &o.history[want];
                if (e.val_accuracy, -e.val_loss) > (b.val_accuracy, -b.val_loss) {
                    want = i;
                }
            }
            assert_eq!(o.best_epoch, o.history[want].epoch, "fold {fold} {kind}");
            assert_eq!(o.val_accuracy, o.history[want].val_accuracy, "fold {fold} {kind}");
            // The run ends 3 epochs after its best one, or at the budget.
            let last = o.history.last().unwrap().epoch;
            assert_eq!(last, (o.best_epoch + 3).min(40), "fold {fold} {kind}: best {} last {last}", o.best_epoch);
            stopped_early += usize::from(last < 40);
        }
    }
    assert!(stopped_early > 0, "no run stopped before its budget: the test would not see the rule");
    let bad = GraphSettings { patience: Some(0), ..small(4, 2) };
    assert!(bad.validate().unwrap_err().to_string().contains("patience = 0"));
}
