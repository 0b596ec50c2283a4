//! The `hopfield` binary as a user calls it: outputs, summaries and clear errors.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

fn hopfield(args: &[&str], data_dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hopfield"))
        .args(args)
        .env("HOPFIELD_DATA_DIR", data_dir)
        .output()
        .expect("run hopfield")
}

fn ok(args: &[&str], data_dir: &Path) -> String {
    let o = hopfield(args, data_dir);
    let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "hopfield {args:?} failed:\n{out}\n{err}");
    out.into_owned()
}

/// Runs a command that must fail; returns its stderr, which must not be a panic.
fn fails(args: &[&str], data_dir: &Path) -> String {
    let o = hopfield(args, data_dir);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!o.status.success(), "hopfield {args:?} should fail");
    assert!(!err.contains("panicked"), "hopfield {args:?} panicked:\n{err}");
    err
}

#[test]
fn recall_writes_pictures_and_prints_the_figures() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("new/sub");
    let o = ok(
        &[
            "recall",
            "--data",
            "digits",
            "--memory",
            "exp",
            "--patterns",
            "30",
            "--flip",
            "0.1",
            "--out",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(o.contains("N = 64, K = 30, 30 queries: retrieved exactly"), "{o}");
    assert!(o.contains("mean overlap"), "{o}");
    for f in ["recall.png", "energy.png", "recall.csv"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let o = ok(
        &["recall", "--memory", "modern", "--occlude", "--patterns", "10", "--out", out.to_str().unwrap()],
        dir.path(),
    );
    assert!(o.contains("modern Hopfield (β = 0.2): N = 784, K = 10"), "{o}");
}

#[test]
fn recall_on_an_image_folder_and_cifar() {
    let dir = tempfile::tempdir().unwrap();
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/image-folder-sample");
    let o = ok(
        &[
            "recall",
            "--data",
            folder.to_str().unwrap(),
            "--memory",
            "modern",
            "--patterns",
            "8",
            "--out",
            dir.path().to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(o.contains("N = 3072, K = 8"), "{o}");
    let o = ok(
        &[
            "recall",
            "--data",
            "cifar10-sample",
            "--memory",
            "exp",
            "--patterns",
            "40",
            "--out",
            dir.path().to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(o.contains("N = 3072, K = 40"), "{o}");
}

#[test]
fn invalid_hyper_parameters_and_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = d.join("o");
    let o = o.to_str().unwrap();
    let e = fails(&["recall", "--data", "digits", "--patterns", "5000", "--out", o], d);
    assert!(e.contains("patterns = 5000") && e.contains("holds 360 images"), "{e}");
    let e = fails(&["recall", "--flip", "1.5", "--out", o], d);
    assert!(e.contains("flip = 1.5") && e.contains("[0, 1]"), "{e}");
    let e = fails(&["recall", "--memory", "poly", "--n", "1", "--out", o], d);
    assert!(e.contains("n = 1"), "{e}");
    let e = fails(&["recall", "--memory", "modern", "--beta", "0", "--out", o], d);
    assert!(e.contains("beta = 0"), "{e}");
    let e = fails(&["recall", "--memory", "modern", "--beta", "-1", "--out", o], d);
    assert!(e.contains("beta = -1"), "{e}");
    let e = fails(&["recall", "--data", "mnist", "--out", o], d);
    assert!(e.contains(&d.join("mnist").display().to_string()) && e.contains("hopfield data fetch mnist"), "{e}");
    let e = fails(&["recall", "--data", "/no/such/file.idx", "--out", o], d);
    assert!(e.contains("/no/such/file.idx") && e.contains("no such file"), "{e}");
    let empty = d.join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let e = fails(&["recall", "--data", empty.to_str().unwrap(), "--out", o], d);
    assert!(e.contains("empty.csv") && e.contains("no data lines"), "{e}");
    let trunc = d.join("t10k-images-idx3-ubyte");
    let mut bytes = vec![0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 28, 0, 0, 0, 28];
    bytes.extend(vec![0u8; 100]);
    std::fs::write(&trunc, bytes).unwrap();
    std::fs::write(d.join("t10k-labels-idx1-ubyte"), [0, 0, 8, 1, 0, 0, 0, 10, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).unwrap();
    let e = fails(&["recall", "--data", trunc.to_str().unwrap(), "--out", o], d);
    assert!(e.contains("t10k-images-idx3-ubyte") && e.contains("truncated"), "{e}");
    let e = fails(&["recall", "--split", "validation", "--out", o], d);
    assert!(e.contains("validation"), "{e}");
    let e = fails(&["capacity", "--memory", "poly", "--n", "1", "--out", o], d);
    assert!(e.contains("n = 1"), "{e}");
    let e = fails(&["capacity", "--memory", "modern", "--out", o], d);
    assert!(e.contains("binary memories"), "{e}");
    let e = fails(&["capacity", "--neurons", "1", "--out", o], d);
    assert!(e.contains("neurons = 1"), "{e}");
}

#[test]
fn capacity_prints_the_table_and_writes_csv_and_plots() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cap");
    let o = ok(
        &[
            "capacity",
            "--memory",
            "poly",
            "--n",
            "2,3",
            "--neurons",
            "40",
            "--trials",
            "1",
            "--probes",
            "5",
            "--out",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(o.contains("poly n=2") && o.contains("poly n=3"), "{o}");
    assert!(o.contains("half the patterns stay within 97% overlap"), "{o}");
    let csv = std::fs::read_to_string(out.join("capacity.csv")).unwrap();
    assert!(csv.lines().count() > 10);
    assert!(out.join("capacity.png").is_file() && out.join("retrieval.png").is_file());
}

#[test]
fn data_info_and_fetch() {
    let dir = tempfile::tempdir().unwrap();
    let o = ok(&["data", "info", "--data", "digits", "--split", "train"], dir.path());
    assert!(o.contains("1437 images of 1×8×8"), "{o}");
    let e = fails(&["data", "fetch", "digits"], dir.path());
    assert!(e.contains("bundled"), "{e}");
    let e = fails(&["data", "fetch", "imagenet"], dir.path());
    assert!(e.contains("unknown data set 'imagenet'"), "{e}");
    // A mirror on loopback that serves the wrong bytes: checksum error, nothing kept.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let files: HashMap<&str, &[u8]> = HashMap::from([("/train-images-idx3-ubyte.gz", &b"not mnist"[..])]);
        for s in listener.incoming().take(4) {
            let Ok(mut s) = s else { continue };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            let _ = r.read_line(&mut line);
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).map(|n| n == 0).unwrap_or(true) || h == "\r\n" {
                    break;
                }
            }
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            let body = files.get(path.as_str()).copied().unwrap_or(b"");
            let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = s.write_all(body);
        }
    });
    let e = fails(&["data", "fetch", "mnist", "--mirror", &format!("http://{addr}/")], dir.path());
    assert!(
        e.contains("checksum mismatch for train-images-idx3-ubyte.gz")
            && e.contains("f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        "{e}"
    );
    assert_eq!(std::fs::read_dir(dir.path().join("mnist")).unwrap().count(), 0);
}

#[test]
fn bench_reports_gflops_and_sweeps() {
    let dir = tempfile::tempdir().unwrap();
    let o = ok(
        &[
            "bench",
            "--neurons",
            "64",
            "--modern-k",
            "2000",
            "--queries",
            "16",
            "--reps",
            "1",
            "--dense-k",
            "50",
            "--sweeps",
            "2",
        ],
        dir.path(),
    );
    assert!(o.contains("GFLOP/s (2 GEMMs + softmax)") && o.contains("plain GEMM"), "{o}");
    assert_eq!(o.matches("asynchronous sweeps/s").count(), 3, "{o}");
}

#[test]
fn demo_runs_on_bundled_data_and_writes_its_pictures() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let o = ok(&["demo", "--out", out.to_str().unwrap()], dir.path());
    assert!(o.contains("classical (F = x²/2): N = 784, K = 50, 50 queries: retrieved exactly 0/50"), "{o}");
    assert!(
        o.contains("rectified polynomial (F = max(x,0)^30): N = 784, K = 50, 50 queries: retrieved exactly 50/50"),
        "{o}"
    );
    for f in [
        "classical-recall.png",
        "dense-recall.png",
        "modern-recall.png",
        "dense-energy.png",
        "recall-vs-degree.png",
        "capacity-classical/capacity.png",
        "capacity-classical/retrieval.png",
        "capacity-polynomial/capacity.png",
        "et/et-reconstruction.png",
        "et/et-steps.png",
        "et/et-energy.png",
        "et/metrics.csv",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
}

#[test]
fn et_train_writes_metrics_and_pictures_and_rejects_bad_settings() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("et");
    let o = ok(&["et", "train", "--epochs", "1", "--steps", "2", "--out", out.to_str().unwrap()], dir.path());
    assert!(o.contains("epoch   1: train loss") && o.contains("mean-patch baseline"), "{o}");
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    for f in [
        "et-reconstruction.png",
        "et-steps.png",
        "et-energy.png",
        "checkpoint/model.safetensors",
        "checkpoint/config.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let d = dir.path();
    let ck = out.join("checkpoint");
    let ck = ck.to_str().unwrap();
    let o = ok(&["et", "eval", "--checkpoint", ck], d);
    assert!(o.contains("mnist-sample (1000 test images), T = 2") && o.contains("mean-patch baseline"), "{o}");
    let pics = d.join("pics");
    ok(&["et", "reconstruct", "--checkpoint", ck, "--count", "3", "--out", pics.to_str().unwrap()], d);
    assert!(pics.join("et-reconstruction.png").is_file());
    // --resume continues the checkpoint's run with its configuration; metrics.csv keeps epoch 1.
    let o = ok(&["et", "train", "--resume", ck, "--epochs", "2", "--out", out.to_str().unwrap()], d);
    assert!(o.contains("resuming after epoch 1 of 2") && o.contains("epoch   2: train loss"), "{o}");
    assert!(!o.contains("epoch   1: train loss"), "{o}");
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert!(csv.lines().count() == 3 && csv.contains("\n1,") && csv.contains("\n2,"), "{csv}");
    let meta = std::fs::read_to_string(out.join("checkpoint/config.json")).unwrap();
    assert!(meta.contains("\"epoch\": 2"), "{meta}");
    let e = fails(&["et", "train", "--resume", ck, "--epochs", "2", "--out", out.to_str().unwrap()], d);
    assert!(e.contains("epochs = 2") && e.contains("already trained"), "{e}");
    let e = fails(&["et", "train", "--resume", ck, "--steps", "3"], d);
    assert!(e.contains("--steps") && e.contains("cannot be used with"), "{e}");
    let e = fails(&["et", "train", "--resume", d.join("nothing").to_str().unwrap()], d);
    assert!(e.contains("nothing") && e.contains("config.json"), "{e}");
    // --config takes a checkpoint's config.json (or its "train" object).
    let cfg = d.join("cfg.json");
    std::fs::copy(out.join("checkpoint/config.json"), &cfg).unwrap();
    let o2 = d.join("from-config");
    let o = ok(&["et", "train", "--config", cfg.to_str().unwrap(), "--epochs", "1", "--out", o2.to_str().unwrap()], d);
    assert!(o.contains("T = 2") && o.contains("epoch   1: train loss"), "{o}");
    std::fs::write(&cfg, "{\"steps\": 3}").unwrap();
    let e = fails(&["et", "train", "--config", cfg.to_str().unwrap()], d);
    assert!(e.contains("cfg.json") && e.contains("not a training configuration") && e.contains("missing field"), "{e}");
    let e = fails(&["et", "eval", "--checkpoint", ck, "--data", "cifar10-sample"], d);
    assert!(e.contains("3×32×32") && e.contains("1×28×28"), "{e}");
    let e = fails(&["et", "eval", "--checkpoint", d.join("missing").to_str().unwrap()], d);
    assert!(e.contains("missing") && e.contains("checkpoint"), "{e}");
    let o = out.to_str().unwrap();
    let e = fails(&["et", "train", "--patch", "5", "--out", o], d);
    assert!(e.contains("height 28 and width 28") && e.contains("got 5"), "{e}");
    let e = fails(&["et", "train", "--mask-fraction", "1.5", "--out", o], d);
    assert!(e.contains("mask-fraction = 1.5"), "{e}");
    let e = fails(&["et", "train", "--steps", "0", "--out", o], d);
    assert!(e.contains("steps = 0"), "{e}");
    let e = fails(&["et", "train", "--alpha", "-0.1", "--out", o], d);
    assert!(e.contains("alpha = -0.1"), "{e}");
    let e = fails(&["et", "train", "--data", "digits", "--patch", "3", "--out", o], d);
    assert!(e.contains("height 8 and width 8"), "{e}");
}

/// `et import-npz` of a tiny official-layout .npz made here, then `et reconstruct` of an image
/// file with an explicit mask, saving .npy outputs; and the errors a user meets on the way.
#[test]
fn et_import_npz_and_reconstruct_an_image_file() {
    use hopfield_data::npy::{read_npy, write_npy, write_npz};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (h, y, dm, m, p, n) = (2, 4, 8, 16, 48, 4);
    let mut k = 0u32;
    let mut vals = |len: usize| {
        (0..len.max(1))
            .map(|_| {
                k += 1;
                ((k * 2654435761u32) as f32 / u32::MAX as f32 - 0.5) * 0.5
            })
            .collect::<Vec<f32>>()
    };
    let arrays: Vec<(&str, Vec<usize>, Vec<f32>)> = vec![
        ("Wk", vec![h, y, dm], vals(h * y * dm)),
        ("Wq", vec![h, y, dm], vals(h * y * dm)),
        ("Xi", vec![dm, m], vals(dm * m)),
        ("Wenc", vec![p, dm], vals(p * dm)),
        ("Benc", vec![dm], vals(dm)),
        ("Wdec", vec![dm, p], vals(dm * p)),
        ("Bdec", vec![p], vals(p)),
        ("POS_embed", vec![n + 1, dm], vals((n + 1) * dm)),
        ("CLS_token", vec![dm], vals(dm)),
        ("MASK_token", vec![dm], vals(dm)),
        ("LNORM_gamma", vec![], vec![1.0]),
        ("LNORM_bias", vec![dm], vals(dm)),
    ];
    let npz = d.join("tiny.npz");
    let refs: Vec<(&str, &[usize], &[f32])> = arrays.iter().map(|(a, s, v)| (*a, s.as_slice(), v.as_slice())).collect();
    write_npz(&npz, &refs).unwrap();
    let ck = d.join("ck");
    let (npz_s, ck_s) = (npz.to_str().unwrap(), ck.to_str().unwrap());
    let o = ok(
        &["et", "import-npz", "--npz", npz_s, "--out", ck_s, "--image", "3x8x8", "--patch", "4", "--masked", "2"],
        d,
    );
    assert!(o.contains("D = 8, 2 heads × 4, M = 16") && o.contains("1145 parameters"), "{o}");
    // The official shape is the default: these weights do not fit it.
    let e = fails(&["et", "import-npz", "--npz", npz_s, "--out", ck_s], d);
    assert!(e.contains("[Wenc]") && e.contains("768"), "{e}");
    let img = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/image-folder-sample/cat/0000.jpg");
    let img = img.to_str().unwrap();
    let out = d.join("pics");
    let out_s = out.to_str().unwrap();
    let e = fails(&["et", "reconstruct", "--checkpoint", ck_s, "--image", img, "--out", out_s], d);
    assert!(e.contains("32×32") && e.contains("8×8") && e.contains("--resize"), "{e}");
    let mask = d.join("mask.npy");
    write_npy(&mask, &[2, 2], &[1.0, 0.0, 0.0, 1.0]).unwrap();
    let args = ["et", "reconstruct", "--checkpoint", ck_s, "--image", img, "--resize", "--out", out_s];
    let mask_s = mask.to_str().unwrap();
    let o = ok(&[&args[..], &["--mask", mask_s, "--save-npy"]].concat(), d);
    assert!(o.contains("2 of 4 patches masked (2 replaced by the MASK token), T = 12"), "{o}");
    let r = read_npy(&out.join("reconstruction.npy")).unwrap();
    assert_eq!(r.shape, vec![3, 8, 8]);
    assert!(r.data.iter().all(|v| v.is_finite()));
    let e = read_npy(&out.join("energies.npy")).unwrap();
    assert_eq!(e.shape, vec![13]);
    assert!(e.data.iter().all(|v| v.is_finite()));
    assert_eq!(read_npy(&out.join("mask.npy")).unwrap().data, vec![1.0, 0.0, 0.0, 1.0]);
    assert_eq!(read_npy(&out.join("input.npy")).unwrap().shape, vec![3, 8, 8]);
    for f in ["et-reconstruction.png", "et-steps.png", "et-energy.png", "et-memories.png"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    // Bad masks: a 2, a wrong shape, not a .npy.
    write_npy(&mask, &[4], &[1.0, 2.0, 0.0, 0.0]).unwrap();
    let e = fails(&[&args[..], &["--mask", mask_s]].concat(), d);
    assert!(e.contains("value 2 at patch 1"), "{e}");
    write_npy(&mask, &[5], &[1.0, 0.0, 0.0, 0.0, 1.0]).unwrap();
    let e = fails(&[&args[..], &["--mask", mask_s]].concat(), d);
    assert!(e.contains("[5]") && e.contains("4 patches"), "{e}");
    std::fs::write(&mask, b"no").unwrap();
    let e = fails(&[&args[..], &["--mask", mask_s]].concat(), d);
    assert!(e.contains("mask.npy") && e.contains("not a .npy"), "{e}");
    // An imported checkpoint names no data set.
    let e = fails(&["et", "eval", "--checkpoint", ck_s], d);
    assert!(e.contains("names no data set") && e.contains("3×8×8"), "{e}");
    // It cannot be resumed (no optimiser state).
    let e = fails(&["et", "train", "--resume", ck_s], d);
    assert!(e.contains("optimizer.bpk") && e.contains("cannot be resumed"), "{e}");
}

/// `et bench` on a tiny random model: figures printed, JSON line parsable, same seed same loss;
/// inputs of the wrong shape are an error.
#[test]
fn et_bench_times_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let args = [
        "et",
        "bench",
        "--image",
        "1x8x8",
        "--patch",
        "4",
        "--dim",
        "8",
        "--heads",
        "2",
        "--head-dim",
        "4",
        "--memories",
        "16",
        "--batch",
        "3",
        "--masked",
        "2",
        "--steps",
        "3",
        "--reps",
        "2",
        "--warmup",
        "0",
        "--json",
    ];
    let o = ok(&args, d);
    assert!(o.contains("5 tokens, D = 8, 2 heads × 4, M = 16, T = 3, batch 3"), "{o}");
    let j: serde_json::Value = serde_json::from_str(o.lines().last().unwrap()).unwrap();
    assert_eq!(j["energies"].as_array().unwrap().len(), 4);
    assert_eq!(j["train_all"].as_array().unwrap().len(), 2);
    assert!(j["forward_ms"].as_f64().unwrap() > 0.0 && j["loss"].as_f64().unwrap() > 0.0);
    let again: serde_json::Value = serde_json::from_str(ok(&args, d).lines().last().unwrap()).unwrap();
    assert_eq!(j["loss"], again["loss"]);
    let x = d.join("x.npy");
    hopfield_data::npy::write_npy(&x, &[2, 1, 8, 9], &vec![0.0; 144]).unwrap();
    let e = fails(&[&args[..], &["--inputs", x.to_str().unwrap()]].concat(), d);
    assert!(e.contains("[2, 1, 8, 9]") && e.contains("(B, 1, 8, 8)"), "{e}");
}

/// `dam train` / `dam eval` / `dam memories` on the bundled digits, and the errors a user meets.
#[test]
fn dam_train_eval_memories_and_bad_settings() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("dam");
    let o = out.to_str().unwrap();
    let args = ["dam", "train", "--data", "digits", "--memories", "50", "--temperature", "44", "--batch-size", "100"];
    let s = ok(&[&args[..], &["--epochs", "40", "--out", o]].concat(), d);
    assert!(s.contains("K = 50, n = 20, m = 30, T = 44") && s.contains("epoch  40: train loss"), "{s}");
    assert!(s.contains("test error 11.67% (42 of 360 wrong)"), "{s}");
    for f in ["checkpoint/memories.npy", "checkpoint/config.json", "metrics.csv", "memories.png", "errors.png"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let png = std::fs::read(out.join("errors.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "errors.png: {} bytes", png.len());
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert!(csv.starts_with("epoch,train_loss,train_error,test_error,lr,temperature,seconds\n"), "{csv}");
    assert_eq!(csv.lines().count(), 41);
    let ck = out.join("checkpoint");
    let ck = ck.to_str().unwrap();
    let s = ok(&["dam", "eval", "--checkpoint", ck], d);
    assert!(s.contains("digits (360 test images): test error 11.67% (42 wrong)"), "{s}");
    let s = ok(&["dam", "eval", "--checkpoint", ck, "--split", "train"], d);
    assert!(s.contains("digits (1437 train images): train error 2.85% (41 wrong)"), "{s}");
    let e = fails(&["dam", "eval", "--checkpoint", ck, "--split", "validation"], d);
    assert!(e.contains("unknown split 'validation'"), "{e}");
    // The public code's temperature ramp: 44 → 30 over 5 epochs, then 30; eval uses the last T.
    let ramp = d.join("ramp");
    let r = ramp.to_str().unwrap();
    let flags = ["--temperature-final", "30", "--temperature-ramp", "5", "--epochs", "8", "--out", r];
    let s = ok(&[&args[..], &flags[..]].concat(), d);
    assert!(s.contains("T = 44 → 30 over 5 epochs") && s.contains("| T 30.0 |"), "{s}");
    let t: Vec<String> = std::fs::read_to_string(ramp.join("metrics.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(5).unwrap().to_string())
        .collect();
    assert_eq!(t, ["44.0000", "41.2000", "38.4000", "35.6000", "32.8000", "30.0000", "30.0000", "30.0000"]);
    let s = ok(&["dam", "eval", "--checkpoint", ramp.join("checkpoint").to_str().unwrap()], d);
    assert!(s.contains("T = 30, epoch 8"), "{s}");
    let e = fails(&["dam", "train", "--data", "digits", "--temperature-final", "30", "--temperature-ramp", "0"], d);
    assert!(e.contains("temperature-ramp = 0"), "{e}");
    let e = fails(&["dam", "train", "--data", "digits", "--temperature-ramp", "50", "--out", r], d);
    assert!(e.contains("--temperature-final"), "a ramp without its final temperature: {e}");
    let png = d.join("m.png");
    ok(&["dam", "memories", "--checkpoint", ck, "--count", "20", "--out", png.to_str().unwrap()], d);
    assert!(png.is_file());
    let e = fails(&["dam", "eval", "--checkpoint", ck, "--data", "mnist-sample"], d);
    assert!(e.contains("1×28×28") && e.contains("1×8×8"), "{e}");
    for (flag, value, needle) in [
        ("--n", "0", "n = 0"),
        ("--m", "0", "m = 0"),
        ("--temperature", "0", "temperature = 0"),
        ("--temperature", "-3", "temperature = -3"),
        ("--memories", "0", "memories = 0"),
        ("--temperature-final", "0", "temperature-final = 0"),
        ("--temperature-final", "-5", "temperature-final = -5"),
    ] {
        let e = fails(&["dam", "train", "--data", "digits", flag, value, "--out", o], d);
        assert!(e.contains(needle), "{flag} {value}: {e}");
    }
    std::fs::write(out.join("checkpoint/memories.npy"), b"junk").unwrap();
    let e = fails(&["dam", "eval", "--checkpoint", ck], d);
    assert!(e.contains("memories.npy"), "{e}");
}

/// `mil train` on the bundled digits: both poolings on the same bags, the table and metrics.csv,
/// and the errors a user meets.
#[test]
fn mil_train_compares_poolings_and_rejects_bad_bags() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("mil");
    let o = out.to_str().unwrap();
    let common = ["mil", "train", "--data", "digits", "--train-bags", "400", "--test-bags", "200", "--epochs", "10"];
    let s = ok(&[&common[..], &["--out", o]].concat(), d);
    assert!(s.contains("400 training bags (65.2% positive) from 1437 images"), "{s}");
    assert!(s.contains("200 test bags (65.0% positive) from 360"), "{s}");
    // Measured: Hopfield pooling 93.00% / AUC 0.9660, mean pooling 75.00% / 0.7747 after 10 epochs.
    let row = |name: &str| -> (f64, f64) {
        let line = s.lines().find(|l| l.trim_start().starts_with(name) && l.contains('%') && !l.contains("epoch"));
        let f: Vec<f64> = line
            .unwrap_or_else(|| panic!("no {name} row in\n{s}"))
            .split_whitespace()
            .skip(1)
            .map(|w| w.trim_end_matches('%').parse().unwrap())
            .collect();
        (f[0], f[1])
    };
    let (hopfield, mean) = (row("hopfield"), row("mean"));
    assert!(hopfield.0 > 88.0 && hopfield.1 > 0.93, "{hopfield:?}\n{s}");
    assert!(mean.0 >= 65.0 && mean.1 > 0.6, "{mean:?}\n{s}");
    assert!(hopfield.1 > mean.1, "{s}");
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "pooling,epoch,train_loss,test_accuracy,test_auc,seconds");
    assert_eq!(lines.len(), 21);
    assert!(lines[10].starts_with("hopfield,10,") && lines[20].starts_with("mean,10,"), "{csv}");
    for png in ["attention.png", "auc.png"] {
        // A PNG: the signature, then the IHDR chunk with width and height (big-endian u32).
        let bytes = std::fs::read(out.join(png)).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{png}");
        let (w, h) = (
            u32::from_be_bytes(bytes[16..20].try_into().unwrap()),
            u32::from_be_bytes(bytes[20..24].try_into().unwrap()),
        );
        assert!(w > 200 && h > 100, "{png}: {w}×{h}");
        assert!(s.contains(&format!("wrote {}", out.join(png).display())), "{s}");
    }
    let s = ok(&[&common[..8], &["--epochs", "2", "--out", o, "--pooling", "mean"]].concat(), d);
    assert!(!s.contains("hopfield ") && s.contains("after 2 epochs"), "{s}");

    for (flag, value, expect) in [
        ("--min-bag-size", "0", "min bag size = 0: a bag with no instances"),
        ("--max-bag-size", "3", "max bag size = 3"),
        ("--max-bag-size", "5000", "at most the 1437 images"),
        ("--target", "12", "target = 12"),
        ("--test-bags", "0", "bags = 0"),
        ("--lr", "0", "lr = 0"),
        ("--beta", "-1", "beta = -1"),
        ("--embed", "0", "embed = 0"),
        ("--epochs", "0", "epochs = 0"),
    ] {
        let e = fails(&["mil", "train", "--data", "digits", flag, value, "--out", o], d);
        assert!(e.contains(expect), "{flag} {value}: {e}");
    }
}

/// `hopfield … | head -1`: the reader goes away and the program ends quietly, without a panic.
#[test]
fn a_closed_output_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hopfield"))
        .args(["dam", "train", "--data", "digits", "--memories", "10", "--batch-size", "100", "--epochs", "30"])
        .arg("--out")
        .arg(dir.path().join("dam"))
        .env("HOPFIELD_DATA_DIR", dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.starts_with("DAM classifier on digits"), "{first}");
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "{err}");
    assert_ne!(out.status.code(), Some(101), "a panic's exit code");
}
