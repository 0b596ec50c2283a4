//! The command line as a user calls it: the training commands (`et`, `dam`, `mil`), their
//! checkpoints, outputs and errors.

mod common;

use std::path::Path;

use common::{fails, ok, png};

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
    // The pictures decode: 6 rows of original | masked | reconstructed, 6 rows of T + 1 = 3 steps.
    png(&out.join("et-reconstruction.png"), (3 * 28, 6 * 28));
    png(&out.join("et-steps.png"), (3 * 28, 6 * 28));
    png(&out.join("et-energy.png"), (300, 200));
    png(&out.join("et-memories.png"), (28, 28));
    // metrics.csv: the epoch, a finite loss, MSEs that are positive.
    let rows = common::csv(&out.join("metrics.csv"));
    assert_eq!(rows[1][0], "1");
    assert!(rows[1][1..].iter().all(|v| v.parse::<f64>().is_ok_and(|x| x.is_finite() && x > 0.0)), "{:?}", rows[1]);
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
    // --step-size is the name on every command; --alpha stays as another name for it.
    let e = fails(&["et", "train", "--step-size", "-0.2", "--out", o], d);
    assert!(e.contains("alpha = -0.2"), "{e}");
    let e = fails(&["graph", "classify", "--alpha", "-0.3", "--out", o], d);
    assert!(e.contains("-0.3"), "{e}");
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

/// `dam train` / `dam eval` / `dam memories` on the bundled digits, and the errors a user meets.
#[test]
fn dam_train_eval_memories_and_bad_settings() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("dam");
    let o = out.to_str().unwrap();
    // At lr 0.01 the run is stable: 29 of 360 test digits wrong after 40 epochs with AVX-512 and
    // with SSE kernels (tools/cpu-baseline-check.sh's emulated Nehalem) alike; at the default 0.04
    // a late spike ends the same run at 42 (AVX-512, AVX2) or 109 (SSE), so that was no figure to
    // test. The bar: within 3 digits of the measurement.
    let args = ["dam", "train", "--data", "digits", "--memories", "50", "--temperature", "44", "--batch-size", "100"];
    let s = ok(&[&args[..], &["--lr", "0.01", "--epochs", "40", "--out", o]].concat(), d);
    assert!(s.contains("K = 50, n = 20, m = 30, T = 44") && s.contains("epoch  40: train loss"), "{s}");
    let after = &s[s.find("trained in").expect("the summary line")..];
    let wrong: usize =
        after.split('(').nth(1).and_then(|t| t.split(' ').next()).and_then(|n| n.parse().ok()).expect(after);
    assert!((26..=32).contains(&wrong) && after.contains(" of 360 wrong)"), "{s}");
    let percent = format!("{:.2}%", 100.0 * wrong as f64 / 360.0);
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
    // The checkpoint's error is the one training reported.
    assert!(s.contains(&format!("digits (360 test images): test error {percent} ({wrong} wrong)")), "{s}");
    let s = ok(&["dam", "eval", "--checkpoint", ck, "--split", "train"], d);
    // Measured 0 wrong (AVX-512); the training set is learnt.
    let train_wrong: usize = s
        .split("train error ")
        .nth(1)
        .and_then(|t| t.split('(').nth(1))
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect(&s);
    assert!(s.contains("digits (1437 train images)") && train_wrong <= 14, "{s}");
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
    // --resume continues the run to 10 epochs: the memories of 10 epochs straight, byte for byte;
    // metrics.csv keeps epochs 1–8 and gets 9 and 10; the flags of the run are not allowed with it.
    let s =
        ok(&["dam", "train", "--resume", ramp.join("checkpoint").to_str().unwrap(), "--epochs", "10", "--out", r], d);
    assert!(s.contains("resuming after epoch 8 of 10") && s.contains("epoch  10: train loss"), "{s}");
    assert_eq!(std::fs::read_to_string(ramp.join("metrics.csv")).unwrap().lines().count(), 11);
    let straight = d.join("straight");
    let flags10 = ["--temperature-final", "30", "--temperature-ramp", "5", "--epochs", "10", "--out"];
    ok(&[&args[..], &flags10[..], &[straight.to_str().unwrap()]].concat(), d);
    let memories = |dir: &Path| std::fs::read(dir.join("checkpoint/memories.npy")).unwrap();
    assert!(memories(&ramp) == memories(&straight), "resumed memories differ from the uninterrupted run's");
    let e = fails(&["dam", "train", "--resume", ramp.join("checkpoint").to_str().unwrap(), "--lr", "0.1"], d);
    assert!(e.contains("--lr") && e.contains("cannot be used with"), "{e}");
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

/// A user's folder or file where a checkpoint would go is refused before any training, and left
/// as it was; `et import-npz --out` the same; a picture path that is a folder leaves no temporary
/// file behind.
#[test]
fn user_files_are_never_replaced_by_a_checkpoint_or_a_picture() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let users = d.join("results");
    std::fs::create_dir(&users).unwrap();
    std::fs::write(users.join("table.csv"), "a,b\n").unwrap();
    let out = d.join("et");
    let e = fails(
        &[
            "et",
            "train",
            "--epochs",
            "1",
            "--steps",
            "1",
            "--checkpoint",
            users.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        d,
    );
    assert!(e.contains("results") && e.contains("not a hopfield checkpoint"), "{e}");
    assert!(!e.contains("epoch   1"), "the refusal comes before training: {e}");
    let file = d.join("paper.pdf");
    std::fs::write(&file, "%PDF").unwrap();
    let e = fails(&["et", "import-npz", "--npz", file.to_str().unwrap(), "--out", users.to_str().unwrap()], d);
    assert!(e.contains("paper.pdf"), "{e}");
    let names: Vec<String> =
        std::fs::read_dir(&users).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["table.csv"]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "%PDF");
    // A DAM checkpoint to a regular file: refused, the file kept.
    let dam_out = d.join("dam");
    std::fs::create_dir(&dam_out).unwrap();
    std::fs::write(dam_out.join("checkpoint"), "mine").unwrap();
    let e = fails(&["dam", "train", "--data", "digits", "--epochs", "1", "--out", dam_out.to_str().unwrap()], d);
    assert!(e.contains("checkpoint") && e.contains("a file"), "{e}");
    assert_eq!(std::fs::read_to_string(dam_out.join("checkpoint")).unwrap(), "mine");
    // dam memories --out naming a folder: an error, and no NAME.png.tmp left.
    ok(
        &[
            "dam",
            "train",
            "--data",
            "digits",
            "--epochs",
            "2",
            "--memories",
            "10",
            "--out",
            d.join("ok").to_str().unwrap(),
        ],
        d,
    );
    let ck = d.join("ok/checkpoint");
    let pics = d.join("pics.png");
    std::fs::create_dir(&pics).unwrap();
    let e = fails(&["dam", "memories", "--checkpoint", ck.to_str().unwrap(), "--out", pics.to_str().unwrap()], d);
    assert!(e.contains("pics.png") && e.contains("folder"), "{e}");
    assert!(!d.join("pics.png.tmp").exists() && !d.join("pics.tmp").exists());
}

/// Sizes that cannot fit are refused before anything is allocated, naming the figure; none of
/// them panics ("capacity overflow") or aborts, and none takes the machine's memory.
#[test]
fn sizes_beyond_the_machine_are_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = d.join("o");
    let o = o.to_str().unwrap();
    let max = "18446744073709551615";
    for (args, needle) in [
        (vec!["et", "train", "--dim", max], "D = 18446744073709551615"),
        (vec!["et", "train", "--heads", max], "18446744073709551615 heads"),
        (vec!["et", "train", "--head-dim", max], "4 heads × 18446744073709551615"),
        (vec!["et", "train", "--memories", "100000000"], "M = 100000000"),
        (vec!["et", "bench", "--memories", "100000000"], "timing this model"),
        (vec!["dam", "train", "--data", "digits", "--memories", max], "K = 18446744073709551615"),
        (vec!["dam", "train", "--data", "digits", "--memories", "100000000"], "K = 100000000"),
        (vec!["mil", "train", "--data", "digits", "--hidden", max], "encoder"),
        (vec!["mil", "train", "--data", "digits", "--embed", max], "encoder"),
        (vec!["mil", "train", "--data", "digits", "--assoc", max], "encoder"),
        (vec!["mil", "train", "--data", "digits", "--train-bags", max], "bags"),
        (vec!["capacity", "--neurons", "100000000"], "N = 100000000"),
        (vec!["capacity", "--neurons", max], "N = 18446744073709551615"),
        (vec!["capacity", "--memory", "classical", "--neurons", "100", "--loads", max], "K = 18446744073709551615"),
    ] {
        let out: &[&str] = if args[1] == "bench" { &[] } else { &["--out", o] };
        let e = fails(&[&args[..], out].concat(), d);
        assert!(e.contains(needle) && e.contains("needs") && e.contains("this process may use"), "{args:?}: {e}");
    }
    let e = fails(&["mil", "train", "--data", "digits", "--epochs", max, "--out", o], d);
    assert!(e.contains("epochs = 18446744073709551615"), "{e}");
    // Descent steps have a ceiling on work before any on memory.
    let e = fails(&["et", "train", "--steps", "100000000", "--out", o], d);
    assert!(e.contains("invalid steps = 100000000: at most 10000 descent steps"), "{e}");
    // A config.json whose sizes cannot fit is refused before its weights are allocated.
    let ck = d.join("ck");
    ok(
        &[
            "et",
            "train",
            "--epochs",
            "1",
            "--steps",
            "1",
            "--out",
            d.join("et").to_str().unwrap(),
            "--checkpoint",
            ck.to_str().unwrap(),
        ],
        d,
    );
    let cfg = std::fs::read_to_string(ck.join("config.json")).unwrap();
    std::fs::write(ck.join("config.json"), cfg.replacen("\"dim\": 64", "\"dim\": 1000000000000", 1)).unwrap();
    let e = fails(&["et", "eval", "--checkpoint", ck.to_str().unwrap()], d);
    assert!(e.contains("D = 1000000000000") && e.contains("needs"), "{e}");
    // One that fits in memory but not the weights: refused from the weights file's header, before
    // the model is built.
    std::fs::write(ck.join("config.json"), cfg.replacen("\"memories\": 128", "\"memories\": 10000000", 1)).unwrap();
    let e = fails(&["et", "eval", "--checkpoint", ck.to_str().unwrap()], d);
    assert!(e.contains("et.hopfield.xi is [128, 64]") && e.contains("[10000000, 64]"), "{e}");
    // A benchmark on an array of no images.
    let zero = d.join("zero.npy");
    hopfield_data::npy::write_npy(&zero, &[0, 3, 32, 32], &[]).unwrap();
    let e = fails(&["et", "bench", "--inputs", zero.to_str().unwrap()], d);
    assert!(e.contains("batch = 0"), "{e}");
}

/// The settings issue 13 found computing nonsense with exit 0 now stop with the value named.
#[test]
fn settings_that_compute_nonsense_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = d.join("o");
    let o = o.to_str().unwrap();
    for (args, needle) in [
        (vec!["et", "train", "--alpha", "1e30", "--out", o], "alpha = 1000000000000000000000000000000"),
        (vec!["dam", "train", "--data", "digits", "--lr", "1e30", "--out", o], "at most 2"),
        (vec!["dam", "train", "--data", "digits", "--n", "100000000", "--out", o], "n = 100000000"),
        (vec!["capacity", "--memory", "poly", "--n", "100000000", "--out", o], "n = 100000000"),
        (vec!["recall", "--memory", "poly", "--n", "100000000", "--out", o], "n = 100000000"),
        // T = 0: no descent to time, no energies to print (it panicked before).
        (vec!["et", "bench", "--steps", "0", "--reps", "1", "--warmup", "0"], "steps = 0"),
    ] {
        let e = fails(&args, d);
        assert!(e.contains(needle), "{args:?}: {e}");
    }
}

/// `et train --data digits` works out of the box (the default patch follows the images: 4 for
/// 8×8), and a bad training flag is named even when the patch does not fit the images.
#[test]
fn et_train_fits_its_default_patch_to_the_data_and_names_bad_flags_first() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("digits");
    let s =
        ok(&["et", "train", "--data", "digits", "--epochs", "1", "--steps", "2", "--out", out.to_str().unwrap()], d);
    assert!(s.contains("1×8×8), 4 patches of 16") && s.contains("epoch   1: train loss"), "{s}");
    let e =
        fails(&["et", "train", "--data", "digits", "--patch", "7", "--lr", "-1", "--out", out.to_str().unwrap()], d);
    assert!(e.contains("lr = -1"), "{e}");
    let e = fails(&["et", "train", "--data", "digits", "--patch", "7", "--out", out.to_str().unwrap()], d);
    assert!(e.contains("height 8 and width 8") && e.contains("got 7"), "{e}");
}
