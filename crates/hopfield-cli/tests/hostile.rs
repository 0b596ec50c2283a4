//! Hostile input as a class: every size from a flag, a configuration or a file header goes
//! through the memory budget — what this process may use, `ulimit -v` included — before anything
//! is allocated; decompression is bounded and checked; a file beside its gzipped twin is an
//! error; each error names the file and the value. Every case must fail cleanly (exit 1, an
//! "error: " line, no panic, no abort).

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Command;

use common::{fails, ok};

fn repo(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel)
}

/// `hopfield args` under `ulimit -v kb` (through bash): its stderr, which must be a clean error.
fn fails_under_ulimit(kb: u64, args: &[&str], data_dir: &Path) -> String {
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!("ulimit -v {kb} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_hopfield"))
        .args(args)
        .env("HOPFIELD_DATA_DIR", data_dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(1), "hopfield {args:?} under ulimit -v {kb}:\n{err}");
    assert!(err.starts_with("error: ") && !err.contains("panicked"), "{err}");
    err
}

/// A copy of the bundled MUTAG's files in `dir`.
fn mutag(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for p in ["A", "graph_indicator", "graph_labels", "node_labels", "edge_labels"] {
        let name = format!("MUTAG_{p}.txt.gz");
        std::fs::copy(repo("data/graphs/MUTAG").join(&name), dir.join(&name)).unwrap();
    }
}

/// A node-anomaly folder: a ring of `n` nodes, one anomaly in ten, `features` as given.
fn anomaly(dir: &Path, n: usize, features: (&str, &str)) {
    std::fs::create_dir_all(dir).unwrap();
    let edges: String = (0..n).map(|i| format!("{i} {}\n", (i + 1) % n)).collect();
    let labels: String = (0..n).map(|i| format!("{}\n", (i % 10 == 3) as u8)).collect();
    std::fs::write(dir.join("edges.txt"), edges).unwrap();
    std::fs::write(dir.join("labels.txt"), labels).unwrap();
    std::fs::write(dir.join(features.0), features.1).unwrap();
}

#[test]
fn sizes_from_flags_and_configurations_are_refused_before_anything_is_allocated() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("out");
    let o = out.to_str().unwrap();
    // A degree cap of 10⁹: 3,371 nodes × 10⁹ one-hot columns.
    let e = fails(&["graph", "classify", "--features", "degree", "--degree-cap", "1000000000", "--out", o], d);
    assert!(
        e.contains("Degree { max: 1000000000 }") && e.contains("needs 40 TB") && e.contains("this process may use"),
        "{e}"
    );
    // 30,000 Laplacian encodings of graphs of at most 28 nodes.
    let e = fails(&["graph", "classify", "--encodings", "30000", "--out", o], d);
    assert!(e.contains("invalid encodings = 30000: at most 28"), "{e}");
    let e = fails(&["graph", "anomaly", "--data", "x", "--encodings", "40", "--budget", "32", "--out", o], d);
    assert!(e.contains("not found") || e.contains("encodings"), "{e}");
    // Descent steps from a flag, and from a checkpoint's config.json.
    let e = fails(&["et", "train", "--steps", "20000", "--out", o], d);
    assert!(e.contains("invalid steps = 20000: at most 10000"), "{e}");
    let ck = d.join("et");
    ok(
        &[
            "et",
            "train",
            "--epochs",
            "1",
            "--dim",
            "16",
            "--heads",
            "2",
            "--head-dim",
            "8",
            "--memories",
            "16",
            "--steps",
            "1",
            "--out",
            ck.to_str().unwrap(),
        ],
        d,
    );
    let cfg = ck.join("checkpoint/config.json");
    let text = std::fs::read_to_string(&cfg).unwrap().replace("\"steps\": 1,", "\"steps\": 1000000000,");
    assert!(text.contains("1000000000"), "{text}");
    std::fs::write(&cfg, text).unwrap();
    let e = fails(&["et", "eval", "--checkpoint", ck.join("checkpoint").to_str().unwrap()], d);
    assert!(e.contains("config.json") && e.contains("invalid steps = 1000000000"), "{e}");
    assert!(!out.exists(), "nothing was written for refused runs");
}

/// What this process may use is what the budget compares with: under `ulimit -v 2 GB` a sparse
/// feature header of 100,000 columns, or a degree cap of 10⁷, is an error naming the limit, not
/// an abort at the failed allocation.
#[test]
fn the_budget_is_what_ulimit_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let g = d.join("wide");
    anomaly(&g, 3000, ("features_coo.txt", "3000 100000 1\n0 99999 1.5\n"));
    let out = d.join("out");
    let args = ["graph", "anomaly", "--data", g.to_str().unwrap(), "--out", out.to_str().unwrap()];
    let e = fails_under_ulimit(2_000_000, &args, d);
    assert!(
        e.contains("features_coo.txt, line 1") && e.contains("3000 × 100000 features held densely needs 3.6 GB"),
        "{e}"
    );
    assert!(e.contains("this process may use"), "{e}");
    let args =
        ["graph", "classify", "--features", "degree", "--degree-cap", "10000000", "--out", out.to_str().unwrap()];
    let e = fails_under_ulimit(2_000_000, &args, d);
    assert!(e.contains("needs 405 GB") && e.contains("this process may use"), "{e}");
}

/// A 0.5 MB gzip file that inflates to 512 MB of blank lines: under `ulimit -v 1.5 GB` an error
/// naming the file and the bound; a flipped bit in a stored .npz member: an error naming the
/// member and the CRC.
#[test]
fn compressed_inputs_are_bounded_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let set = d.join("MUTAG");
    mutag(&set);
    let bomb = set.join("MUTAG_graph_labels.txt.gz");
    let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&bomb).unwrap(), flate2::Compression::fast());
    let blank = vec![b'\n'; 1 << 20];
    for _ in 0..512 {
        gz.write_all(&blank).unwrap();
    }
    gz.finish().unwrap();
    assert!(std::fs::metadata(&bomb).unwrap().len() < 4 << 20);
    let out = d.join("out");
    let args = ["graph", "classify", "--data", set.to_str().unwrap(), "--out", out.to_str().unwrap()];
    let e = fails_under_ulimit(1_500_000, &args, d);
    assert!(e.contains("MUTAG_graph_labels.txt.gz") && e.contains("inflates to more than"), "{e}");

    // Xi's data spans bytes 8,744–16,936 of the fixture (stored, not deflated).
    let npz = d.join("w.npz");
    let mut bytes = std::fs::read(repo("crates/hopfield-train/tests/fixtures/et-jax-weights.npz")).unwrap();
    bytes[12_000] ^= 0x01;
    std::fs::write(&npz, &bytes).unwrap();
    let args =
        ["et", "import-npz", "--npz", npz.to_str().unwrap(), "--image", "3x16x16", "--patch", "4", "--masked", "8"];
    let e = fails(&[&args[..], &["--out", d.join("imported").to_str().unwrap()]].concat(), d);
    assert!(e.contains("w.npz[Xi]") && e.contains("CRC"), "{e}");
    assert!(!d.join("imported").exists());
}

/// A file beside its gzipped twin, or both feature formats: an error naming both, never one of
/// them read silently.
#[test]
fn a_file_beside_its_gzipped_twin_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("out");
    let o = out.to_str().unwrap();
    let set = d.join("MUTAG");
    mutag(&set);
    std::fs::write(set.join("MUTAG_A.txt"), "1, 2\n2, 1\n").unwrap();
    let e = fails(&["graph", "classify", "--data", set.to_str().unwrap(), "--out", o], d);
    assert!(e.contains("both MUTAG_A.txt and MUTAG_A.txt.gz"), "{e}");
    let g = d.join("g");
    anomaly(&g, 50, ("features.csv", &"1,2\n".repeat(50)));
    std::fs::write(g.join("features_coo.txt"), "50 2 1\n0 0 1\n").unwrap();
    let e = fails(&["graph", "anomaly", "--data", g.to_str().unwrap(), "--out", o], d);
    assert!(e.contains("both features.csv and features_coo.txt"), "{e}");
    std::fs::remove_file(g.join("features_coo.txt")).unwrap();
    std::fs::write(g.join("labels.txt.gz"), b"").unwrap();
    let e = fails(&["graph", "anomaly", "--data", g.to_str().unwrap(), "--out", o], d);
    assert!(e.contains("both labels.txt and labels.txt.gz"), "{e}");
    let m = d.join("mnist");
    std::fs::create_dir_all(&m).unwrap();
    for f in [
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
    ] {
        std::fs::copy(repo("data/mnist-sample").join(f), m.join(f)).unwrap();
    }
    std::fs::write(m.join("t10k-labels-idx1-ubyte"), b"stale").unwrap();
    let e = fails(&["dam", "train", "--data", m.to_str().unwrap(), "--epochs", "1", "--out", o], d);
    assert!(e.contains("both t10k-labels-idx1-ubyte and t10k-labels-idx1-ubyte.gz"), "{e}");
}

/// A user's file under one of a command's documented output names is never replaced: the run
/// stops before it starts, naming the file, which keeps its bytes; the program's own outputs
/// (listed in `.hopfield-outputs`) are replaced by a second run as before. A picture's name stops
/// the run before it trains too, not after.
#[test]
fn a_users_file_under_an_output_name_is_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let g = d.join("g");
    anomaly(
        &g,
        60,
        ("features.csv", &(0..60).map(|i| format!("{},{}\n", (i % 10 == 3) as u8 * 3, i % 7)).collect::<String>()),
    );
    let small = ["--epochs", "1", "--dim", "16", "--heads", "2", "--head-dim", "8", "--memories", "16"];
    let cases: [(&[&str], &str); 8] = [
        (&["graph", "classify", "--max-folds", "1"], "metrics.csv"),
        (&["graph", "classify", "--max-folds", "1"], "folds.txt"),
        (&["graph", "anomaly", "--data", g.to_str().unwrap(), "--seeds", "1", "--budget", "8"], "runs.csv"),
        (&["mil", "train", "--data", "digits", "--train-bags", "20", "--test-bags", "10"], "auc.png"),
        (&["et", "train", "--steps", "1"], "metrics.csv"),
        (&["et", "train", "--steps", "1"], "et-energy.png"),
        (&["dam", "train", "--data", "digits", "--memories", "10"], "metrics.csv"),
        (&["dam", "train", "--data", "digits", "--memories", "10"], "errors.png"),
    ];
    for (i, (cmd, name)) in cases.into_iter().enumerate() {
        let out = d.join(format!("out-{i}"));
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join(name), "the user's own file").unwrap();
        let extra: &[&str] = if cmd[0] == "graph" || cmd[0] == "et" { &small } else { &["--epochs", "1"] };
        let args = [cmd, extra, &["--out", out.to_str().unwrap()]].concat();
        let e = fails(&args, d);
        assert!(e.contains(name) && e.contains("this program did not write it"), "{args:?}: {e}");
        assert_eq!(std::fs::read_to_string(out.join(name)).unwrap(), "the user's own file", "{args:?}");
        assert!(!out.join("checkpoint").exists(), "{args:?}: the run started");
        // Moved away, the run goes; run again, it replaces its own outputs.
        std::fs::rename(out.join(name), d.join(format!("kept-{i}"))).unwrap();
        ok(&args, d);
        ok(&args, d);
        assert!(out.join(name).exists(), "{args:?}");
    }
}

/// Sets every value of the tensor `name` of a safetensors file to `value`.
fn set_tensor(path: &Path, name: &str, value: f32) {
    let mut bytes = std::fs::read(path).unwrap();
    let (_, _, at) = common::safetensors_layout(&bytes).remove(name).unwrap();
    for chunk in bytes[at].chunks_mut(4) {
        chunk.copy_from_slice(&value.to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

/// Weights that are finite but huge evaluate to NaN: an error naming the figure, the images, the
/// descent step where the energy stopped being finite and the largest weight, not a table of NaN
/// with exit 0; an infinite weight is refused on load naming the parameter.
#[test]
fn non_finite_results_at_evaluation_are_errors_naming_where_they_arose() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("et");
    let small = ["--epochs", "1", "--dim", "16", "--heads", "2", "--head-dim", "8", "--memories", "32", "--steps", "2"];
    ok(&[&["et", "train", "--out", out.to_str().unwrap()][..], &small].concat(), d);
    let ck = out.join("checkpoint");
    let weights = ck.join("model.safetensors");
    set_tensor(&weights, "et.hopfield.xi", 1e30);
    let e = fails(&["et", "eval", "--checkpoint", ck.to_str().unwrap()], d);
    assert!(e.contains("the masked-patch MSE (T = 2) of images 0–"), "{e}");
    assert!(e.contains("the largest weight is 1e30, in et.hopfield.xi"), "{e}");
    assert!(e.contains("first not finite after step") || e.contains("already not finite"), "{e}");
    set_tensor(&weights, "et.norm.delta", f32::INFINITY);
    let e = fails(&["et", "eval", "--checkpoint", ck.to_str().unwrap()], d);
    assert!(e.contains("model.safetensors") && e.contains("the parameter et.norm.delta holds inf"), "{e}");
}

/// A feature value that standardisation turns into something float32 cannot carry is an error
/// naming the node and the column — not a run whose loss turns NaN and is blamed on the learning
/// rate, nor figures of NaN.
#[test]
fn a_feature_too_large_for_the_models_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let g = d.join("g");
    let features: String = (0..60).map(|i| format!("{},{}\n", if i == 7 { "3e38" } else { "1" }, i % 7)).collect();
    anomaly(&g, 60, ("features.csv", &features));
    let args = ["graph", "anomaly", "--data", g.to_str().unwrap(), "--seeds", "2", "--budget", "8", "--epochs", "1"];
    let e = fails(&[&args[..], &["--out", d.join("out").to_str().unwrap()]].concat(), d);
    assert!(e.contains("invalid node features = 3e38 at node 7 of g, column 0") && e.contains("rescale"), "{e}");
    assert!(!e.contains("--lr"), "{e}");
}

/// Errors name the file and the fold they come from.
#[test]
fn errors_name_the_file_and_the_fold() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = d.join("out");
    let set = d.join("one-class").join("MUTAG");
    mutag(&set);
    let labels = set.join("MUTAG_graph_labels.txt.gz");
    let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&labels).unwrap(), flate2::Compression::fast());
    gz.write_all("1\n".repeat(188).as_bytes()).unwrap();
    gz.finish().unwrap();
    let e = fails(&["graph", "classify", "--data", set.to_str().unwrap(), "--out", o.to_str().unwrap()], d);
    assert!(e.contains("MUTAG_graph_labels.txt.gz: all 188 graphs have the label [1]"), "{e}");
    let folds = d.join("folds.txt");
    std::fs::write(&folds, (0..188).map(|g| g.to_string()).collect::<Vec<_>>().join(" ") + "\n").unwrap();
    let e = fails(&["graph", "classify", "--folds", folds.to_str().unwrap(), "--out", o.to_str().unwrap()], d);
    assert!(e.contains("folds.txt, line 1: fold 1 tests 188 of the 188 graphs, leaving 0"), "{e}");
}
