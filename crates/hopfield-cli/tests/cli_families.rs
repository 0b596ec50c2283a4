//! `hopfield sweep` and `hopfield ham`: each family's claim from the command line as a user calls
//! it, its CSV and pictures, and the bad settings refused with the value named.

mod common;

use common::{csv, fails, ok, png};

#[test]
fn the_sparse_sweep_retrieves_exactly_with_sparse_transforms_and_never_with_softmax() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let o = ok(
        &[
            "sweep",
            "sparse",
            "--betas",
            "0.01,0.1,1",
            "--load",
            "50",
            "--loads",
            "20,100",
            "--queries",
            "20",
            "--out",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(o.contains("mnist-sample [test]: N = 784, 20 queries"), "{o}");
    let rows = csv(&out.join("sparse.csv"));
    assert_eq!(rows[0].join(","), "sweep,transform,beta,load,error,error_std,exact");
    assert_eq!(rows.len(), 1 + 4 * (3 + 2));
    let exact = |transform: &str, beta: &str| -> f64 {
        let r = rows.iter().find(|r| r[0] == "beta" && r[1] == transform && r[2] == beta).unwrap();
        r[6].parse().unwrap()
    };
    // Sparse transforms land exactly once β passes the margin bound; softmax only where e^(−β·margin)
    // underflows in f64 (β = 1 here), never at β = 0.1.
    assert_eq!(exact("sparsemax", "1"), 1.0);
    assert!(exact("sparsemax", "0.1") >= 0.9 && exact("normmax", "0.1") >= 0.9, "{rows:?}");
    assert_eq!(exact("softmax", "0.1"), 0.0);
    assert_eq!(exact("softmax", "0.01"), 0.0);
    for f in ["sparse-beta-error.png", "sparse-beta-exact.png", "sparse-load-error.png", "sparse-load-exact.png"] {
        png(&out.join(f), (300, 200));
    }
    let e = fails(&["sweep", "sparse", "--transforms", "2.5-entmax", "--out", out.to_str().unwrap()], dir.path());
    assert!(e.contains("alpha = 2.5") && e.contains("[1, 2]"), "{e}");
    let e = fails(&["sweep", "sparse", "--transforms", "maxsoft", "--out", out.to_str().unwrap()], dir.path());
    assert!(e.contains("transform = maxsoft"), "{e}");
    let e = fails(&["sweep", "sparse", "--loads", "5000", "--out", out.to_str().unwrap()], dir.path());
    assert!(e.contains("load = 5000") && e.contains("1000 images"), "{e}");
    let e = fails(&["sweep", "sparse", "--betas", "0.1,-1", "--out", out.to_str().unwrap()], dir.path());
    assert!(e.contains("beta = -1"), "{e}");
}

#[test]
fn the_lse_relu_sweep_counts_minima_and_draws_the_landscape() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let o = ok(
        &[
            "sweep",
            "lse-relu",
            "--loads",
            "6,10",
            "--widths",
            "0.1,0.5",
            "--seeds",
            "2",
            "--out",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(o.contains("2-D landscape: 12 patterns, width 0.15"), "{o}");
    let rows = csv(&out.join("lse-relu.csv"));
    assert_eq!(rows[0].join(","), "load,width,seed,stored_minima,emergent_minima");
    assert_eq!(rows.len(), 1 + 2 * 2 * 2);
    for r in &rows[1..] {
        // Narrow kernels in d = 8: every pattern is its own minimum, nothing emerges.
        if r[1] == "0.1" {
            assert_eq!((r[3].as_str(), r[4].as_str()), (r[0].as_str(), "0"), "{r:?}");
        }
    }
    png(&out.join("lse-relu-landscape.png"), (700, 700));
    png(&out.join("lse-relu-emergent.png"), (300, 200));
    for (flag, value, named) in
        [("--widths", "0", "width = 0"), ("--loads", "30", "load = 30"), ("--landscape-width", "-1", "width = -1")]
    {
        let e = fails(&["sweep", "lse-relu", flag, value, "--out", out.to_str().unwrap()], dir.path());
        assert!(e.contains(named), "{flag} {value}: {e}");
    }
}

#[test]
fn the_drdam_sweep_reports_errors_falling_with_y_and_refuses_y_zero() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let o = ok(
        &[
            "sweep",
            "drdam",
            "--random",
            "32",
            "--load",
            "20",
            "--queries",
            "5",
            "--features",
            "256,4096",
            "--draws",
            "2",
            "--out",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(o.contains("random ±1, N = 32, K = 20, β = 4"), "{o}");
    let rows = csv(&out.join("drdam.csv"));
    assert_eq!(rows.len(), 3);
    let energy = |i: usize| rows[i][2].parse::<f64>().unwrap();
    assert!(energy(2) < energy(1), "16× the features lowers the energy error: {rows:?}");
    assert_eq!(rows[1][1], (256 * 32 + 2 * 256).to_string());
    png(&out.join("drdam-error.png"), (300, 200));
    png(&out.join("drdam-parameters.png"), (300, 200));
    let e = fails(&["sweep", "drdam", "--features", "0,64", "--out", out.to_str().unwrap()], dir.path());
    assert!(e.contains("features = 0"), "{e}");
    let e = fails(&["sweep", "drdam", "--beta", "0", "--out", out.to_str().unwrap()], dir.path());
    assert!(e.contains("beta = 0"), "{e}");
}

#[test]
fn the_ham_classifier_trains_from_the_command_line_and_refuses_bad_settings() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ham");
    let o = ok(&["ham", "train", "--epochs", "2", "--hidden", "64", "--out", out.to_str().unwrap()], dir.path());
    assert!(o.contains("HAM classifier: 2000 train / 1000 test images of 784, 64 hidden (ReLU)"), "{o}");
    let rows = csv(&out.join("metrics.csv"));
    assert_eq!(rows[0].join(","), "epoch,train_loss,train_error,test_error,seconds");
    assert_eq!(rows.len(), 3);
    let test_error: f64 = rows[2][3].parse().unwrap();
    assert!(test_error < 0.3, "{rows:?}");
    assert!(o.contains(&format!("test error {:.2}%", 100.0 * test_error)), "{o}");
    png(&out.join("ham-memories.png"), (200, 100));
    png(&out.join("ham-energy.png"), (300, 200));
    png(&out.join("ham-errors.png"), (300, 200));
    for (flag, value, named) in [
        ("--hidden", "0", "hidden = 0"),
        ("--step-size", "2", "step size = 2"),
        ("--hidden-softmax", "0", "beta = 0"),
        ("--steps", "0", "steps = 0"),
    ] {
        let e = fails(&["ham", "train", flag, value, "--out", out.to_str().unwrap()], dir.path());
        assert!(e.contains(named), "{flag} {value}: {e}");
    }
}

#[test]
fn recall_takes_every_new_memory_and_refuses_their_bad_settings() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("recall");
    let o = ok(
        &["recall", "--memory", "sparsemax", "--beta", "0.2", "--patterns", "50", "--out", out.to_str().unwrap()],
        dir.path(),
    );
    assert!(o.contains("sparsemax Hopfield (β = 0.2): N = 784, K = 50, 50 queries: retrieved exactly 50/50"), "{o}");
    let o = ok(
        &["recall", "--memory", "entmax", "--alpha", "1.25", "--patterns", "20", "--out", out.to_str().unwrap()],
        dir.path(),
    );
    assert!(o.contains("1.25-entmax Hopfield"), "{o}");
    let o = ok(
        &[
            "recall",
            "--memory",
            "lse-relu",
            "--width",
            "13",
            "--flip",
            "0.05",
            "--patterns",
            "30",
            "--out",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(o.contains("log-sum-ReLU (width 13): N = 784, K = 30"), "{o}");
    let o = ok(
        &[
            "recall",
            "--memory",
            "drdam",
            "--beta",
            "0.02",
            "--features",
            "256",
            "--patterns",
            "10",
            "--max-steps",
            "5",
            "--out",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(o.contains("DrDAM (β = 0.02, Y = 256): N = 784, K = 10"), "{o}");
    png(&out.join("energy.png"), (300, 200));
    for (args, named) in [
        (vec!["--memory", "entmax", "--alpha", "3"], "alpha = 3"),
        (vec!["--memory", "lse-relu", "--width", "0"], "width = 0"),
        (vec!["--memory", "drdam", "--features", "0"], "features = 0"),
        (vec!["--memory", "normmax", "--beta", "-1"], "beta = -1"),
    ] {
        let mut a = vec!["recall"];
        a.extend(args.iter().copied());
        a.extend(["--out", out.to_str().unwrap()]);
        let e = fails(&a, dir.path());
        assert!(e.contains(named), "{args:?}: {e}");
    }
    let e = fails(&["capacity", "--memory", "sparsemax"], dir.path());
    assert!(e.contains("capacity sweeps binary memories"), "{e}");
}
