//! The graph commands as a user calls them: `graph classify` on the bundled MUTAG and on TU
//! folders, `graph anomaly` on a node-anomaly folder; their outputs and their errors.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};

use common::{csv, fails, ok, png};

fn mutag_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/graphs/MUTAG")
}

/// A copy of the bundled MUTAG, unzipped, with `edit` applied to one file's text.
fn broken_mutag(dir: &Path, file: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let to = dir.join("MUTAG");
    std::fs::create_dir_all(&to).unwrap();
    for e in std::fs::read_dir(mutag_dir()).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if let Some(plain) = name.strip_suffix(".gz") {
            let mut s = String::new();
            flate2::read::GzDecoder::new(std::fs::File::open(&p).unwrap()).read_to_string(&mut s).unwrap();
            let s = if plain == file { edit(s) } else { s };
            std::fs::write(to.join(plain), s).unwrap();
        }
    }
    to
}

#[test]
fn classify_runs_folds_and_writes_csvs_and_the_attention_picture() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gc");
    let o = ok(&["graph", "classify", "--max-folds", "2", "--epochs", "3", "--out", out.to_str().unwrap()], dir.path());
    assert!(o.contains("MUTAG: 188 graphs, 3371 nodes") && o.contains("majority 66.5%"), "{o}");
    assert!(o.contains("10 stratified folds from seed 0") && o.contains("running 2 of 10"), "{o}");
    assert!(o.contains("2-fold test accuracy") && o.contains("ET ") && o.contains("MLP "), "{o}");
    let folds = csv(&out.join("folds.csv"));
    assert_eq!(folds.len(), 5, "header + 2 folds × 2 models: {folds:?}");
    for row in &folds[1..] {
        let (train, val, test): (usize, usize, usize) =
            (row[2].parse().unwrap(), row[3].parse().unwrap(), row[4].parse().unwrap());
        assert_eq!(train + val + test, 188, "{row:?}");
        let acc: f64 = row[7].parse().unwrap();
        assert!((0.0..=1.0).contains(&acc));
    }
    // The folds were drawn, so they are written out, and a second run on them repeats the first.
    let drawn = std::fs::read_to_string(out.join("folds.txt")).unwrap();
    assert_eq!(drawn.lines().count(), 10);
    assert_eq!(csv(&out.join("metrics.csv")).len(), 1 + 2 * 2 * 3);
    png(&out.join("attention.png"), (1000, 300));
    let again = dir.path().join("again");
    let folds_path = out.join("folds.txt");
    ok(
        &[
            "graph",
            "classify",
            "--max-folds",
            "2",
            "--epochs",
            "3",
            "--folds",
            folds_path.to_str().unwrap(),
            "--out",
            again.to_str().unwrap(),
        ],
        dir.path(),
    );
    let without_seconds = |rows: Vec<Vec<String>>| rows.into_iter().map(|r| r[..8].to_vec()).collect::<Vec<_>>();
    assert_eq!(
        without_seconds(csv(&again.join("folds.csv"))),
        without_seconds(folds),
        "the same folds and seed give the same figures"
    );
    assert!(!again.join("folds.txt").exists(), "given folds are not written again");
}

#[test]
fn classify_rejects_bad_data_folds_and_settings() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("o");
    let o = out.to_str().unwrap();
    // A set that is not there.
    let e = fails(&["graph", "classify", "--data", "NOPE", "--out", o], d);
    assert!(e.contains("graph set 'NOPE' not found"), "{e}");
    // An edge to node 0 in a 1-based file.
    let bad = broken_mutag(&d.join("a"), "MUTAG_A.txt", |s| s.replacen("2, 1", "2, 0", 1));
    let e = fails(&["graph", "classify", "--data", bad.to_str().unwrap(), "--out", o], d);
    assert!(e.contains("MUTAG_A.txt, line") && e.contains("node 0: node ids are 1-based"), "{e}");
    // A graph label line missing.
    let bad =
        broken_mutag(&d.join("b"), "MUTAG_graph_labels.txt", |s| s.lines().skip(1).map(|l| format!("{l}\n")).collect());
    let e = fails(&["graph", "classify", "--data", bad.to_str().unwrap(), "--out", o], d);
    assert!(e.contains("MUTAG_graph_labels.txt") && e.contains("187 lines, but there are 188 graphs"), "{e}");
    // A fold file with a graph in two folds, or beyond the set.
    let folds = d.join("folds.txt");
    std::fs::write(&folds, "0 1 2\n3 4 1\n").unwrap();
    let e = fails(&["graph", "classify", "--folds", folds.to_str().unwrap(), "--out", o], d);
    assert!(e.contains("folds.txt, line 2") && e.contains("graph 1 is already in the test part of fold 1"), "{e}");
    std::fs::write(&folds, "0 1 2\n3 4 188\n").unwrap();
    let e = fails(&["graph", "classify", "--folds", folds.to_str().unwrap(), "--out", o], d);
    assert!(e.contains("folds.txt, line 2") && e.contains("graph 188"), "{e}");
    // Settings.
    for (flag, value, words) in [
        ("--validation", "0", "invalid --validation 0"),
        ("--epochs", "0", "epochs"),
        ("--step-size", "-1", "step"),
        ("--dim", "0", "dim"),
        ("--lr", "nan", "lr"),
        ("--features", "attributes", "MUTAG has no node attributes"),
        ("--max-folds", "0", "invalid --max-folds 0"),
        ("--degree-cap", "0", "invalid --degree-cap 0"),
        // Sizes that cannot fit are refused before anything is allocated, with the figure.
        ("--dim", "100000000000", "more than"),
        ("--memories", "1000000000000", "more than"),
        ("--batch-size", "1000000000", "more than"),
        ("--encodings", "100000000000", "invalid encodings = 100000000000: at most 28"),
    ] {
        let e = fails(&["graph", "classify", flag, value, "--out", o], d);
        assert!(e.contains(words), "{flag} {value}: {e}");
    }
}

/// A node-anomaly folder: a ring of `n` nodes with chords, every 6th node anomalous, its first
/// feature shifted up by 3 (the rest noise).
fn anomaly_set(dir: &Path, n: usize) -> PathBuf {
    let to = dir.join("toy");
    std::fs::create_dir_all(&to).unwrap();
    let mut edges = String::new();
    for i in 0..n {
        edges += &format!("{i} {}\n{i} {}\n", (i + 1) % n, (i + 7) % n);
    }
    let labels: String = (0..n).map(|i| format!("{}\n", (i % 6 == 0) as u8)).collect();
    let features: String = (0..n)
        .map(|i| {
            let noise = |k: usize| (((i * 31 + k * 17) % 23) as f64 / 23.0) - 0.5;
            let shift = if i % 6 == 0 { 3.0 } else { 0.0 };
            format!("{},{},{}\n", shift + noise(0), noise(1), noise(2))
        })
        .collect();
    std::fs::write(to.join("edges.txt"), edges).unwrap();
    std::fs::write(to.join("labels.txt"), labels).unwrap();
    std::fs::write(to.join("features.csv"), features).unwrap();
    to
}

#[test]
fn anomaly_detects_a_planted_feature_and_writes_runs_and_the_histogram() {
    let dir = tempfile::tempdir().unwrap();
    let data = anomaly_set(dir.path(), 240);
    let out = dir.path().join("ga");
    let o = ok(
        &[
            "graph",
            "anomaly",
            "--data",
            data.to_str().unwrap(),
            "--seeds",
            "2",
            "--epochs",
            "8",
            "--budget",
            "12",
            "--out",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(o.contains("toy: 240 nodes, 480 edge lines, 3 features, 40 anomalies"), "{o}");
    assert!(o.contains("over 2 seeds"), "{o}");
    let runs = csv(&out.join("runs.csv"));
    assert_eq!(runs.len(), 1 + 2 * 2, "{runs:?}");
    for row in &runs[1..] {
        let (train, val, test): (usize, usize, usize) =
            (row[2].parse().unwrap(), row[3].parse().unwrap(), row[4].parse().unwrap());
        assert_eq!((train, train + val + test), (96, 240), "{row:?}");
        // The planted feature separates the classes: both models must rank by it.
        let auc: f64 = row[7].parse().unwrap();
        assert!(auc > 0.95, "{} seed {}: test ROC-AUC {auc}", row[1], row[0]);
    }
    png(&out.join("scores.png"), (900, 350));
}

#[test]
fn anomaly_rejects_bad_data_and_settings() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = anomaly_set(d, 60);
    let s = data.to_str().unwrap();
    let o = d.join("o");
    let o = o.to_str().unwrap();
    let e = fails(&["graph", "anomaly", "--data", "nowhere", "--out", o], d);
    assert!(e.contains("anomaly graph 'nowhere' not found"), "{e}");
    for (flag, value, words) in [
        ("--train-fraction", "1.5", "training fraction"),
        ("--train-fraction", "0", "training fraction"),
        ("--seeds", "0", "--seeds 0"),
        ("--budget", "0", "--budget 0"),
        ("--steps", "0", "steps"),
        ("--budget", "100000000000", "more than"),
    ] {
        let e = fails(&["graph", "anomaly", "--data", s, flag, value, "--out", o], d);
        assert!(e.contains(words), "{flag} {value}: {e}");
    }
    // An edge to a node that is not there.
    std::fs::write(data.join("edges.txt"), "0 1\n1 60\n").unwrap();
    let e = fails(&["graph", "anomaly", "--data", s, "--out", o], d);
    assert!(e.contains("edges.txt, line 2") && e.contains("node 60"), "{e}");
}

#[test]
fn unsupervised_anomaly_scores_every_node_without_labels_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = anomaly_set(d, 120);
    let s = data.to_str().unwrap();
    let out = d.join("gu");
    let o = out.to_str().unwrap();
    let small = ["--seeds", "2", "--samples", "480", "--budget", "12", "--dim", "16", "--memories", "16"];
    let run = |extra: &[&str]| {
        let mut args = vec!["graph", "anomaly", "--unsupervised", "--data", s, "--out", o];
        args.extend_from_slice(&small);
        args.extend_from_slice(extra);
        ok(&args, d)
    };
    let printed = run(&[]);
    assert!(printed.contains("toy: 120 nodes, 240 edge lines, 3 features (global scaling), 20 anomalies"), "{printed}");
    for name in ["ET ", "ET energy ", "ET energy drop ", "MLPAE ", "LOF ", "GAE "] {
        assert!(printed.lines().any(|l| l.trim_start().starts_with(name)), "{name}: {printed}");
    }
    let runs = csv(&out.join("runs.csv"));
    assert_eq!(runs[0], ["seed", "detector", "score", "auc", "auprc", "seconds"]);
    assert_eq!(runs.len(), 1 + 2 * 6, "two seeds of six scores: {runs:?}");
    let scores = csv(&out.join("scores.csv"));
    assert_eq!(scores.len(), 121);
    assert_eq!(scores[0], ["node", "anomalous", "ET", "ET_energy", "ET_energy_drop", "MLPAE", "LOF", "GAE"]);
    png(&out.join("scores.png"), (900, 350));
    // The planted feature (every sixth node shifted by 3) is found by the features' detectors.
    let lof = runs.iter().find(|r| r[2] == "LOF").unwrap();
    assert!(lof[3].parse::<f64>().unwrap() > 0.95, "{lof:?}");

    // No anomalies in the labels: every node scored, the figures undefined, no NaN.
    std::fs::write(data.join("labels.txt"), "0\n".repeat(120)).unwrap();
    let blind = d.join("blind");
    let mut args = vec!["graph", "anomaly", "--unsupervised", "--data", s, "--out", blind.to_str().unwrap()];
    args.extend_from_slice(&small);
    let printed = ok(&args, d);
    assert!(printed.contains("undefined") && !printed.contains("NaN"), "{printed}");
    assert!(printed.contains("0 of the 120 nodes are labelled anomalous"), "{printed}");
    let blind_scores = csv(&blind.join("scores.csv"));
    for (a, b) in scores[1..].iter().zip(&blind_scores[1..]) {
        assert_eq!(a[2..], b[2..], "the scores do not depend on the labels");
    }

    // No labels file at all: the same scores; the supervised command still needs it.
    std::fs::remove_file(data.join("labels.txt")).unwrap();
    let bare = d.join("bare");
    let mut args = vec!["graph", "anomaly", "--unsupervised", "--data", s, "--out", bare.to_str().unwrap()];
    args.extend_from_slice(&small);
    let printed = ok(&args, d);
    assert!(printed.contains("toy: 120 nodes, 240 edge lines") && printed.contains("undefined"), "{printed}");
    assert_eq!(csv(&bare.join("scores.csv"))[1..], blind_scores[1..], "labels never reach the scores");
    let e = fails(&["graph", "anomaly", "--data", s, "--out", o], d);
    assert!(e.contains("no labels.txt or labels.txt.gz"), "{e}");

    for (flags, words) in [
        (vec!["--train-fraction", "0.4"], "--train-fraction 0.4: the unsupervised protocol"),
        (vec!["--models", "et"], "--detectors"),
        (vec!["--resume"], "keeps no checkpoint"),
        (vec!["--mask-fraction", "1"], "invalid --mask-fraction 1"),
        (vec!["--mask-fraction", "nan"], "invalid --mask-fraction NaN"),
        (vec!["--samples", "0"], "invalid --samples 0"),
        (vec!["--epochs", "0"], "invalid --epochs 0"),
        (vec!["--lof-neighbours", "120"], "--lof-neighbours 120"),
        (vec!["--budget", "0"], "--budget 0"),
        (vec!["--detectors", "gcn"], "invalid value 'gcn'"),
        (vec!["--scale", "log"], "invalid value 'log'"),
    ] {
        let mut args = vec!["graph", "anomaly", "--unsupervised", "--data", s, "--out", o];
        args.extend_from_slice(&flags);
        let e = fails(&args, d);
        assert!(e.contains(words), "{flags:?}: {e}");
    }
    // A user's own scores.csv in the folder stops the run before it trains.
    let mine = d.join("mine");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("scores.csv"), "my notes").unwrap();
    let e = fails(&["graph", "anomaly", "--unsupervised", "--data", s, "--out", mine.to_str().unwrap()], d);
    assert!(e.contains("scores.csv"), "{e}");
    assert_eq!(std::fs::read_to_string(mine.join("scores.csv")).unwrap(), "my notes");
}

#[test]
fn gin_runs_beside_the_et_and_the_mlp_on_the_same_folds_and_on_node_anomalies() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("all");
    let o = ok(
        &["graph", "classify", "--models", "all", "--max-folds", "2", "--epochs", "3", "--out", out.to_str().unwrap()],
        dir.path(),
    );
    assert!(o.contains("ET ") && o.contains("GIN ") && o.contains("MLP "), "{o}");
    let folds = csv(&out.join("folds.csv"));
    assert_eq!(folds.len(), 1 + 2 * 3, "header + 2 folds × 3 models: {folds:?}");
    // The three models of a fold share its training, validation and test parts.
    for fold in ["1", "2"] {
        let parts: Vec<&[String]> = folds[1..].iter().filter(|r| r[0] == fold).map(|r| &r[2..5]).collect();
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| *p == parts[0]), "fold {fold}: {parts:?}");
    }
    let data = anomaly_set(dir.path(), 240);
    let ga = dir.path().join("ga");
    ok(
        &[
            "graph",
            "anomaly",
            "--models",
            "gin",
            "--data",
            data.to_str().unwrap(),
            "--seeds",
            "1",
            "--epochs",
            "8",
            "--budget",
            "12",
            "--out",
            ga.to_str().unwrap(),
        ],
        dir.path(),
    );
    let runs = csv(&ga.join("runs.csv"));
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(runs[1][1], "GIN", "{runs:?}");
    let auc: f64 = runs[1][7].parse().unwrap();
    assert!(auc > 0.95, "GIN on the planted feature: test ROC-AUC {auc}");
    // Early stopping: refused at 0, and without labels (no validation part to watch).
    let e = fails(&["graph", "classify", "--patience", "0", "--out", out.to_str().unwrap()], dir.path());
    assert!(e.contains("patience = 0"), "{e}");
    let e = fails(
        &[
            "graph",
            "anomaly",
            "--unsupervised",
            "--patience",
            "5",
            "--data",
            data.to_str().unwrap(),
            "--out",
            ga.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(e.contains("patience = 5") && e.contains("no validation part"), "{e}");
}

#[test]
fn select_chooses_a_setting_per_fold_on_validation_and_refuses_bad_grids() {
    let dir = tempfile::tempdir().unwrap();
    let grid = dir.path().join("grid.json");
    std::fs::write(&grid, r#"{"readout": ["cls", "cls-mean"], "lr": [0.001, 0.01]}"#).unwrap();
    let out = dir.path().join("sel");
    let (g, o) = (grid.to_str().unwrap(), out.to_str().unwrap());
    let args = ["graph", "classify", "--max-folds", "2", "--epochs", "3", "--select", g, "--out", o];
    let stdout = ok(&args, dir.path());
    assert!(stdout.contains("4 for ET, 2 for MLP") && stdout.contains("12 training runs over 2 folds"), "{stdout}");
    assert!(stdout.contains("fold 1 took") && stdout.contains("ET chose on validation:"), "{stdout}");
    let selection = csv(&out.join("selection.csv"));
    assert_eq!(selection[0].join(","), "fold,model,setting,best_epoch,val_accuracy,val_loss,seconds,chosen");
    assert_eq!(selection.len(), 1 + 2 * (4 + 2), "{selection:?}");
    let folds = csv(&out.join("folds.csv"));
    assert_eq!(folds[0].last().unwrap(), "selected");
    for row in &folds[1..] {
        // The chosen setting of each fold and model is the one selection.csv marks.
        let marked: Vec<&Vec<String>> =
            selection[1..].iter().filter(|s| s[0] == row[0] && s[1] == row[1] && s[7] == "1").collect();
        assert_eq!(marked.len(), 1, "{row:?}");
        assert_eq!(marked[0][2], *row.last().unwrap(), "{row:?}");
        assert_eq!(marked[0][4], row[6], "the chosen setting's validation accuracy");
    }
    // Bad grids, by name; selection keeps no checkpoint; the node tasks refuse the pooled read-out.
    for (text, says) in [
        (r#"{"dimm": [8]}"#, "grid key = dimm"),
        (r#"{"encodings": [0, 4]}"#, "grid key = encodings"),
        (r#"{"lr": [0]}"#, "lr=0"),
        ("[1, 2]", "a list of objects"),
        ("{", "not JSON"),
    ] {
        std::fs::write(&grid, text).unwrap();
        let e = fails(&["graph", "classify", "--select", g, "--out", o], dir.path());
        assert!(e.contains(says) && e.contains("grid.json"), "{text}: {e}");
    }
    let missing = dir.path().join("none.json");
    let e = fails(&["graph", "classify", "--select", missing.to_str().unwrap(), "--out", o], dir.path());
    assert!(e.contains("none.json") && e.contains("No such file"), "{e}");
    std::fs::write(&grid, r#"{"lr": [0.001, 0.01]}"#).unwrap();
    let e = fails(&["graph", "classify", "--select", g, "--resume", "--out", o], dir.path());
    assert!(e.contains("--select keeps no checkpoint"), "{e}");
    let e = fails(&["graph", "classify", "--readout", "max", "--out", o], dir.path());
    assert!(e.contains("readout = max"), "{e}");
    let e = fails(&["graph", "classify", "--noise", "-1", "--out", o], dir.path());
    assert!(e.contains("noise = -1"), "{e}");
    let data = anomaly_set(dir.path(), 60);
    let e =
        fails(&["graph", "anomaly", "--readout", "cls-sum", "--data", data.to_str().unwrap(), "--out", o], dir.path());
    assert!(e.contains("readout = cls-sum") && e.contains("node's own token"), "{e}");
}

#[test]
fn random_walk_encodings_reach_every_model_and_bad_values_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rw");
    let o = out.to_str().unwrap();
    let args = ["graph", "classify", "--max-folds", "1", "--epochs", "2", "--models", "all", "--random-walk", "4"];
    let stdout = ok(&[&args[..], &["--out", o]].concat(), dir.path());
    assert!(stdout.contains("(7 per node + 4 random-walk returns)"), "{stdout}");
    assert_eq!(csv(&out.join("folds.csv")).len(), 1 + 3);
    let e = fails(&["graph", "classify", "--random-walk", "65", "--out", o], dir.path());
    assert!(e.contains("random walk = 65") && e.contains("at most 64"), "{e}");
    // A grid may choose them on each fold's validation part, for every model: the data are
    // prepared once per value, and each model's random_walk=4 setting is the run above (the same
    // chosen epoch and validation figure).
    let grid = dir.path().join("grid.json");
    std::fs::write(&grid, r#"{"random_walk": [0, 4]}"#).unwrap();
    let g = grid.to_str().unwrap();
    let sel = dir.path().join("sel");
    let args = ["graph", "classify", "--max-folds", "1", "--epochs", "2", "--models", "all", "--select", g, "--out"];
    let stdout = ok(&[&args[..], &[sel.to_str().unwrap()]].concat(), dir.path());
    assert!(
        stdout.contains("(7 per node + random-walk returns after 1..K steps, K chosen per fold among 0, 4)"),
        "{stdout}"
    );
    let selection = csv(&sel.join("selection.csv"));
    let settings: Vec<String> = selection[1..].iter().map(|r| format!("{} {}", r[1], r[2])).collect();
    assert_eq!(settings.len(), 6, "{settings:?}");
    let single = csv(&out.join("folds.csv"));
    for model in ["ET", "GIN", "MLP"] {
        let chosen = selection.iter().find(|r| r[1] == model && r[2] == "random_walk=4").unwrap();
        let alone = single.iter().find(|r| r[1] == model).unwrap();
        assert_eq!((&chosen[3], &chosen[4]), (&alone[5], &alone[6]), "{model}: {chosen:?} vs {alone:?}");
    }
    std::fs::write(&grid, r#"{"random_walk": [0, 65]}"#).unwrap();
    let e = fails(&["graph", "classify", "--select", g, "--out", o], dir.path());
    assert!(e.contains("random walk = 65") && e.contains("at most 64"), "{e}");
    let data = anomaly_set(dir.path(), 60);
    let e =
        fails(&["graph", "anomaly", "--random-walk", "4", "--data", data.to_str().unwrap(), "--out", o], dir.path());
    assert!(e.contains("random walk = 4"), "{e}");
}

#[test]
fn learned_head_parts_train_from_the_cli_and_a_grid_selects_them_for_the_et_alone() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("heads");
    let o = out.to_str().unwrap();
    let args = ["graph", "classify", "--max-folds", "1", "--epochs", "2", "--head-betas", "--head-mixing"];
    ok(&[&args[..], &["--out", o]].concat(), dir.path());
    let folds = csv(&out.join("folds.csv"));
    assert_eq!(folds.len(), 1 + 2, "{folds:?}");
    let accuracy: f64 = folds[1][7].parse().unwrap();
    assert!(folds[1][1] == "ET" && (0.0..=1.0).contains(&accuracy), "{folds:?}");
    // A grid over the mixing trains the ET twice, GIN and the MLP once each.
    let grid = dir.path().join("grid.json");
    std::fs::write(&grid, r#"{"head_mixing": [false, true]}"#).unwrap();
    let g = grid.to_str().unwrap();
    let sel = dir.path().join("sel");
    let args = ["graph", "classify", "--max-folds", "1", "--epochs", "2", "--models", "all", "--select", g];
    let stdout = ok(&[&args[..], &["--out", sel.to_str().unwrap()]].concat(), dir.path());
    assert!(stdout.contains("2 for ET, 1 for GIN, 1 for MLP"), "{stdout}");
    let settings: Vec<String> =
        csv(&sel.join("selection.csv"))[1..].iter().map(|r| format!("{} {}", r[1], r[2])).collect();
    assert_eq!(settings, ["ET head_mixing=false", "ET head_mixing=true", "GIN defaults", "MLP defaults"]);
    std::fs::write(&grid, r#"{"head_betas": ["yes"]}"#).unwrap();
    let e = fails(&["graph", "classify", "--select", g, "--out", o], dir.path());
    assert!(e.contains("head_betas") && e.contains("types"), "{e}");
    // The node task's ET takes them too.
    let data = anomaly_set(dir.path(), 60);
    let anomaly = dir.path().join("anomaly");
    let args = ["graph", "anomaly", "--seeds", "1", "--epochs", "2", "--head-betas", "--head-mixing", "--data"];
    ok(&[&args[..], &[data.to_str().unwrap(), "--out", anomaly.to_str().unwrap()]].concat(), dir.path());
    assert!(anomaly.join("runs.csv").exists());
}
