//! The command line as a user calls it: recall, capacity, data, bench and et bench, the demo,
//! output piped into a reader that stops early, and the --device flag's errors.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

use common::{csv, fails, ok, png};

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
    png(&out.join("recall.png"), (3 * 8, 8));
    png(&out.join("energy.png"), (300, 200));
    // One row per query: pattern, label, exact 0/1, overlaps in [−1, 1], steps, final energy.
    let rows = csv(&out.join("recall.csv"));
    assert_eq!(rows[0].join(","), "pattern,label,exact,cue_overlap,overlap,steps,final_energy");
    assert_eq!(rows.len(), 31);
    for (i, r) in rows[1..].iter().enumerate() {
        let x = |j: usize| r[j].parse::<f64>().unwrap_or_else(|e| panic!("row {i} column {j} '{}': {e}", r[j]));
        assert_eq!(x(0), i as f64);
        assert!(x(2) == 0.0 || x(2) == 1.0, "{r:?}");
        assert!((-1.0..=1.0).contains(&x(3)) && (-1.0..=1.0).contains(&x(4)), "{r:?}");
        assert!((x(2) == 1.0) == (x(4) == 1.0), "exact iff overlap 1: {r:?}");
        assert!(x(6).is_finite(), "{r:?}");
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
            "3",
            "--out",
            dir.path().to_str().unwrap(),
        ],
        dir.path(),
    );
    // 8 images in 3 classes, no train/ or test/: the test split is the last 20% of each class.
    assert!(o.contains("N = 3072, K = 3"), "{o}");
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
    let text = std::fs::read_to_string(out.join("capacity.csv")).unwrap();
    assert!(text.lines().count() > 10);
    assert!(out.join("capacity.png").is_file() && out.join("retrieval.png").is_file());
    png(&out.join("capacity.png"), (400, 300));
    png(&out.join("retrieval.png"), (400, 300));
    // Every row: N = 40, load K/N = K/40, probabilities in [0, 1], the theory a probability.
    let rows = csv(&out.join("capacity.csv"));
    let col = |name: &str| rows[0].iter().position(|c| c == name).unwrap();
    for r in &rows[1..] {
        let x = |name: &str| r[col(name)].parse::<f64>().unwrap();
        assert_eq!(x("neurons"), 40.0, "{r:?}");
        assert!((x("load_k_over_n") - x("memories") / 40.0).abs() < 1e-5, "{r:?}");
        for p in ["flip_probability", "retrieved_exact", "retrieved_approx", "flip_theory"] {
            assert!((0.0..=1.0).contains(&x(p)), "{p}: {r:?}");
        }
    }
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
    // The descent's flops by hand, per step (B·N = 15 tokens): Q and K 2·2·15·8·8 = 3,840; logits,
    // S K, Sᵀ Q 3·2·3·2·5·5·4 = 3,600; back-projections 3,840; ξ g and act ξ 2·2·15·8·16 = 7,680.
    let flops = 3.0 * (3840.0 + 3600.0 + 3840.0 + 7680.0);
    assert!((j["descent_gflop"].as_f64().unwrap() * 1e9 - flops).abs() < 1e-3, "{j}");
    assert!(j["gemm_gflops"].as_f64().unwrap() > 0.0 && j["forward_gflops"].as_f64().unwrap() > 0.0);
    assert!(o.contains("% of a plain GEMM [15×8]·[8×16] on this device") && o.contains("peak host memory"), "{o}");
    assert_eq!(j["device"], "Device<Flex(Cpu)>");
    // One reference GEMM after each of the 2 timed forward passes.
    let gemm_all = j["gemm_all"].as_array().unwrap();
    assert!(gemm_all.len() == 2 && gemm_all.iter().all(|t| t.as_f64().unwrap() > 0.0), "{j}");
    let fastest = gemm_all.iter().map(|t| t.as_f64().unwrap()).fold(f64::INFINITY, f64::min);
    let best = j["gemm_best_gflops"].as_f64().unwrap();
    assert!((best - 2.0 * 15.0 * 8.0 * 16.0 / (fastest / 1e3) / 1e9).abs() <= 1e-9 * best, "{j}");
    assert!(best >= j["gemm_gflops"].as_f64().unwrap(), "{j}");
    let again: serde_json::Value = serde_json::from_str(ok(&args, d).lines().last().unwrap()).unwrap();
    assert_eq!(j["loss"], again["loss"]);
    let x = d.join("x.npy");
    hopfield_data::npy::write_npy(&x, &[2, 1, 8, 9], &vec![0.0; 144]).unwrap();
    let e = fails(&[&args[..], &["--inputs", x.to_str().unwrap()]].concat(), d);
    assert!(e.contains("[2, 1, 8, 9]") && e.contains("(B, 1, 8, 8)"), "{e}");
}

#[test]
fn the_device_flag_names_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    // --version says which build this is.
    let v = ok(&["--version"], dir.path());
    assert!(v.contains(if cfg!(feature = "cuda") { "(CUDA: yes" } else { "(CUDA: no, CPU only)" }), "{v}");
    // A GPU from a build without CUDA (the default build), or a GPU this machine lacks.
    let e = fails(&["--device", "cuda", "et", "bench", "--reps", "1"], dir.path());
    if cfg!(feature = "cuda") {
        // On a machine without a GPU (CI): what is missing is named, before cudarc or cubecl
        // could panic on it (`fails` also checks that nothing panicked).
        assert!(e.contains("no CUDA device") || e.contains("NVRTC") || e.contains("CUDA toolkit"), "{e}");
    } else {
        assert!(e.contains("built without CUDA support: rebuild with --features cuda"), "{e}");
    }
    let e = fails(&["--device", "cuda:x", "et", "bench"], dir.path());
    assert!(e.contains("the GPU number after `cuda:` must be a whole number"), "{e}");
    let e = fails(&["--device", "gpu", "graph", "classify"], dir.path());
    assert!(e.contains("expected cpu, cuda or cuda:N"), "{e}");
    // Commands that compute on plain arrays say so instead of ignoring the flag.
    for cmd in [&["recall"][..], &["capacity"], &["dam", "train"]] {
        let e = fails(&[&["--device", "cuda:1"][..], cmd].concat(), dir.path());
        assert!(e.contains(&format!("`hopfield {}` computes on the CPU only", cmd[0])), "{e}");
    }
    // recall with the modern network and bench's modern update compute on burn tensors, so
    // --device applies to them.
    for cmd in [&["recall", "--memory", "modern"][..], &["bench", "--reps", "1"]] {
        let e = fails(&[&["--device", "cuda"][..], cmd].concat(), dir.path());
        if !cfg!(feature = "cuda") {
            assert!(e.contains("built without CUDA support"), "{e}");
        }
        assert!(!e.contains("computes on the CPU only"), "{e}");
    }
    // cpu is the default and may be given.
    let o = ok(&["--device", "cpu", "et", "bench", "--reps", "1", "--warmup", "0", "--batch", "2"], dir.path());
    assert!(o.contains("train step"), "{o}");
}

#[test]
fn et_train_runs_data_parallel_on_several_devices() {
    let dir = tempfile::tempdir().unwrap();
    let small = ["--epochs", "1", "--dim", "16", "--heads", "2", "--head-dim", "8", "--memories", "32", "--steps", "2"];
    let run = |extra: &[&str], out: &str| {
        let out = dir.path().join(out);
        ok(&[&["et", "train", "--out", out.to_str().unwrap()][..], &small, extra].concat(), dir.path())
    };
    let one = run(&[], "one");
    let three = run(&["--devices", "cpu,cpu,cpu"], "three");
    assert!(three.contains("data-parallel on 3 devices: 32 images a step split 11 + 11 + 10"), "{three}");
    assert!(!one.contains("data-parallel"), "{one}");
    // The same epoch: training loss and test MSE agree to the 4 decimals printed (the weights to
    // ~1e-6, tests/et_data_parallel.rs in hopfield-train).
    let figures =
        |o: &str| o.lines().find(|l| l.starts_with("epoch   1:")).map(|l| l[..l.rfind('|').unwrap()].to_string());
    assert_eq!(figures(&one), figures(&three), "{one}\n{three}");
    assert!(dir.path().join("three/checkpoint/model.safetensors").exists());
    // Both flags, a bad device, a GPU in a build without CUDA.
    let e = fails(&["--device", "cpu", "et", "train", "--devices", "cpu,cpu"], dir.path());
    assert!(e.contains("--device cpu and --devices cpu,cpu both given"), "{e}");
    let e = fails(&["et", "train", "--devices", "cpu,gpu"], dir.path());
    assert!(e.contains("`gpu`: expected cpu, cuda or cuda:N"), "{e}");
    if !cfg!(feature = "cuda") {
        let e = fails(&["et", "train", "--devices", "cuda:0,cuda:1"], dir.path());
        assert!(e.contains("--devices cuda:0: this binary was built without CUDA support"), "{e}");
    }
}

#[test]
fn et_check_passes_on_the_cpu_and_refuses_a_bad_tolerance() {
    let dir = tempfile::tempdir().unwrap();
    let o = ok(&["et", "check"], dir.path());
    assert!(o.contains("∂E/∂g explicit vs autodiff"), "{o}");
    // On the CPU the device is the CPU: that comparison is exactly 0 for every block; the fused
    // routine against the step-by-step explicit gradient is a real one (f32 rounding, not 0).
    assert_eq!(o.matches("device vs CPU: energies 0.0e0, tokens 0.0e0").count(), 2, "{o}");
    let paths: Vec<f64> = o
        .split("fastest vs recording path: tokens ")
        .skip(1)
        .map(|t| t.split(';').next().unwrap().trim().parse().unwrap())
        .collect();
    assert!(paths.len() == 2 && paths.iter().all(|&e| e > 0.0 && e < 1e-4), "{o}");
    assert!(o.contains("all checks passed"), "{o}");
    let e = fails(&["et", "check", "--tolerance", "0"], dir.path());
    assert!(e.contains("--tolerance 0: must be positive"), "{e}");
    // f32 gradients differ from autodiff's by ~1e-7: a 1e-9 tolerance must fail, naming the figure.
    let e = fails(&["et", "check", "--tolerance", "1e-9"], dir.path());
    assert!(e.contains("a difference above the tolerance 1e-9 (gradient"), "{e}");
}
