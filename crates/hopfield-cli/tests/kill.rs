//! Training runs killed (SIGKILL) at arbitrary moments — inside a checkpoint write included —
//! always leave a checkpoint that loads, and resuming it ends on the uninterrupted run's result
//! byte for byte: the DAM classifier's memories, the Energy Transformer's weights, a 10-fold
//! cross-validation's folds.csv and metrics.csv (less their wall times). Each test counts the
//! kills that landed inside a write — the write's `.checkpoint.tmp` or the replaced
//! `.checkpoint.old` still there after the kill — and asks for some.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{hopfield, ok};

/// The DAM classifier on the bundled digits: about 10 ms an epoch, so a checkpoint is written
/// every few milliseconds and the kills land inside writes as well as between them.
const RUN: [&str; 12] = [
    "dam",
    "train",
    "--data",
    "digits",
    "--memories",
    "20",
    "--temperature",
    "44",
    "--batch-size",
    "200",
    "--epochs",
    "80",
];

/// `args` with `--out out`, started in the background with its output discarded.
fn spawn_run(args: &[&str], out: &Path, data_dir: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_hopfield"))
        .args([args, &["--out", out.to_str().unwrap()]].concat())
        .env("HOPFIELD_DATA_DIR", data_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// `RUN` with `epochs` epochs into `out`, started in the background with its output discarded.
fn spawn(epochs: &str, out: &str, data_dir: &Path) -> std::process::Child {
    let mut args = RUN.to_vec();
    args[11] = epochs;
    spawn_run(&args, Path::new(out), data_dir)
}

fn memories(out: &Path) -> Vec<u8> {
    std::fs::read(out.join("checkpoint/memories.npy")).unwrap()
}

/// What the kills did: runs resumed after a kill, runs that had finished before it, kills that
/// landed inside a checkpoint write.
#[derive(Debug, Default)]
struct Kills {
    resumed: usize,
    finished: usize,
    inside_a_write: usize,
    /// Kills sent the moment a write began, until one landed inside it.
    aimed: usize,
}

/// Runs `args` into `dir/killed-i` and kills it after each delay (ms). After each kill:
/// `check(out)` must succeed on whatever the kill left (the checkpoint loads), then `resume(out)`
/// runs the rest — false when the run had already finished — and `same(out)` compares the result
/// with the uninterrupted run's. Nothing is left beside the outputs.
fn kill_and_resume(
    (args, dir): (&[&str], &Path),
    delays: &[u64],
    check: impl Fn(&Path),
    resume: impl Fn(&Path) -> bool,
    same: impl Fn(&Path, &str),
) -> Kills {
    let mut k = Kills::default();
    for (trial, &delay_ms) in delays.iter().enumerate() {
        let out: PathBuf = dir.join(format!("killed-{trial}"));
        let mut child = spawn_run(args, &out, dir);
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL; the run may already have finished
        child.wait().unwrap();
        let (tmp, old) = (out.join(".checkpoint.tmp"), out.join(".checkpoint.old"));
        if tmp.exists() || old.exists() {
            k.inside_a_write += 1;
        }
        if !out.join("checkpoint").exists() && !old.exists() {
            continue; // killed before the first epoch ended: nothing to resume, nothing lost
        }
        check(&out);
        if resume(&out) {
            k.resumed += 1;
        } else {
            k.finished += 1;
        }
        same(&out, &format!("trial {trial} (killed after {delay_ms} ms)"));
        let names: Vec<String> =
            std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert!(
            !names.iter().any(|n| n.starts_with('.') && n != ".hopfield-outputs"),
            "trial {trial}: left behind {names:?}"
        );
    }
    // Until a kill has landed inside a write (a few percent of instants at random): more kills,
    // each sent the moment the run's `.checkpoint.tmp` appears (after a short random wait, so
    // that different steps of the write are hit), each checked to leave a checkpoint that loads.
    let mut rng = 0x9e37_79b9u64;
    for extra in 0..20 {
        if k.inside_a_write > 0 {
            break;
        }
        let out: PathBuf = dir.join(format!("extra-{extra}"));
        k.aimed += 1;
        let mut child = spawn_run(args, &out, dir);
        let tmp = out.join(".checkpoint.tmp");
        let started = std::time::Instant::now();
        while !tmp.exists() && started.elapsed() < Duration::from_secs(20) && child.try_wait().unwrap().is_none() {
            std::hint::spin_loop();
        }
        rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        std::thread::sleep(Duration::from_micros((rng >> 33) % 1500));
        let _ = child.kill();
        child.wait().unwrap();
        if out.join(".checkpoint.tmp").exists() || out.join(".checkpoint.old").exists() {
            k.inside_a_write += 1;
        }
        if out.join("checkpoint").exists() || out.join(".checkpoint.old").exists() {
            check(&out);
        }
    }
    eprintln!("{k:?}");
    k
}

#[test]
fn a_killed_run_leaves_a_loadable_checkpoint_that_resumes_to_the_same_memories() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let straight = d.join("straight");
    ok(&[&RUN[..], &["--out", straight.to_str().unwrap()]].concat(), d);
    let expected = memories(&straight);
    // Many short delays: kills inside a write are a few percent of instants.
    let delays: Vec<u64> = (0..16).map(|i| 15 + 27 * i).collect();
    let k = kill_and_resume(
        (&RUN, d),
        &delays,
        |out| {
            let s = ok(&["dam", "eval", "--checkpoint", out.join("checkpoint").to_str().unwrap()], d);
            assert!(s.contains("test error"), "{s}");
        },
        |out| {
            let ck = out.join("checkpoint");
            let r = hopfield(&["dam", "train", "--resume", ck.to_str().unwrap(), "--out", out.to_str().unwrap()], d);
            let err = String::from_utf8_lossy(&r.stderr);
            assert!(r.status.success() || err.contains("already trained"), "{err}");
            r.status.success()
        },
        |out, trial| {
            assert!(memories(out) == expected, "{trial}: memories differ");
            let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
            assert_eq!(csv.lines().count(), 81, "{trial}: metrics.csv\n{csv}");
        },
    );
    assert!(k.resumed >= 3, "only {} kills landed mid-run", k.resumed);
    assert!(k.inside_a_write >= 1, "no kill landed inside a checkpoint write: {k:?}");
}

/// The Energy Transformer: a tiny model, ~80 ms an epoch, its checkpoint (weights, AdamW state)
/// written after each; the weights compared tensor by tensor.
#[test]
fn a_killed_energy_transformer_run_resumes_to_the_same_weights() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = [
        "et",
        "train",
        "--epochs",
        "30",
        "--dim",
        "16",
        "--heads",
        "2",
        "--head-dim",
        "8",
        "--memories",
        "32",
        "--steps",
        "2",
        "--batch-size",
        "256",
    ];
    let straight = d.join("straight");
    ok(&[&run[..], &["--out", straight.to_str().unwrap()]].concat(), d);
    let weights = |out: &Path| tensors(&out.join("checkpoint/model.safetensors"));
    let expected = weights(&straight);
    let delays: Vec<u64> = (0..8).map(|i| 250 + 170 * i).collect();
    let k = kill_and_resume(
        (&run, d),
        &delays,
        |out| {
            let s = ok(&["et", "eval", "--checkpoint", out.join("checkpoint").to_str().unwrap()], d);
            assert!(s.contains("MSE"), "{s}");
        },
        |out| {
            let ck = out.join("checkpoint");
            let r = hopfield(&["et", "train", "--resume", ck.to_str().unwrap(), "--out", out.to_str().unwrap()], d);
            let err = String::from_utf8_lossy(&r.stderr);
            assert!(r.status.success() || err.contains("already trained"), "{err}");
            r.status.success()
        },
        |out, trial| assert!(weights(out) == expected, "{trial}: weights differ"),
    );
    assert!(k.resumed >= 3, "only {} kills landed mid-run", k.resumed);
    assert!(k.inside_a_write >= 1, "no kill landed inside a checkpoint write: {k:?}");
}

/// The tensors of a safetensors file by name: (dtype, shape, bytes). The header's order of
/// entries is not fixed from run to run, so files are compared this way, not byte for byte.
fn tensors(path: &Path) -> std::collections::BTreeMap<String, (String, String, Vec<u8>)> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    common::safetensors_layout(&bytes)
        .into_iter()
        .map(|(k, (dtype, shape, at))| (k, (dtype, shape, bytes[at].to_vec())))
        .collect()
}

/// A CSV without the columns whose header names a wall time.
fn timeless(path: &Path) -> String {
    let csv = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<&str> = csv.lines().next().unwrap_or("").split(',').collect();
    let keep: Vec<bool> = header.iter().map(|h| !(h.contains("seconds") || h.ends_with("_per_second"))).collect();
    csv.lines()
        .map(|l| l.split(',').zip(&keep).filter(|(_, k)| **k).map(|(v, _)| v).collect::<Vec<_>>().join(","))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A 10-fold cross-validation (ET and MLP, 10 epochs each: 200 checkpoint writes in ~2 s) killed
/// anywhere resumes at the fold and epoch it reached and ends with the uninterrupted run's folds.csv
/// and metrics.csv, less their wall times.
#[test]
fn a_killed_cross_validation_resumes_to_the_uninterrupted_folds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run =
        ["graph", "classify", "--epochs", "10", "--dim", "16", "--heads", "2", "--head-dim", "8", "--memories", "16"];
    let straight = d.join("straight");
    ok(&[&run[..], &["--out", straight.to_str().unwrap()]].concat(), d);
    let delays: Vec<u64> = (0..10).map(|i| 150 + 190 * i).collect();
    let k = kill_and_resume(
        (&run, d),
        &delays,
        |_| {},
        |out| {
            let o = ok(&[&run[..], &["--out", out.to_str().unwrap(), "--resume"]].concat(), d);
            assert!(o.contains("10-fold test accuracy"), "{o}");
            true
        },
        |out, trial| {
            for f in ["folds.csv", "metrics.csv"] {
                assert_eq!(timeless(&out.join(f)), timeless(&straight.join(f)), "{trial}: {f}");
            }
            assert!(
                std::fs::read(out.join("attention.png")).unwrap()
                    == std::fs::read(straight.join("attention.png")).unwrap()
            );
        },
    );
    assert!(k.resumed >= 3, "only {} kills landed mid-run", k.resumed);
    assert!(k.inside_a_write >= 1, "no kill landed inside a checkpoint write: {k:?}");
}

/// Two runs on one folder: while the first holds the checkpoint, the second stops at once naming
/// the first's process, and the first finishes untouched.
#[test]
fn a_second_run_on_the_same_folder_is_refused_while_the_first_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("shared");
    let o = out.to_str().unwrap();
    let mut first = spawn("400", o, d);
    // Wait until the first run holds its lock.
    let lock = out.join(".checkpoint.lock");
    for _ in 0..500 {
        if std::fs::read_to_string(&lock).is_ok_and(|t| t.starts_with("process")) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let second = hopfield(&[&RUN[..], &["--out", o]].concat(), d);
    let err = String::from_utf8_lossy(&second.stderr);
    let still_running = first.try_wait().unwrap().is_none();
    assert!(!second.status.success(), "the second run was allowed:\n{err}");
    assert!(
        err.contains("another run is writing this checkpoint") && err.contains(&format!("process {}", first.id())),
        "{err}"
    );
    assert!(still_running, "the first run ended before the second was tried; the test proves nothing");
    assert!(first.wait().unwrap().success());
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert_eq!(csv.lines().count(), 401, "the first run's metrics are whole");
    assert!(!lock.exists(), "the lock went with its run");
}
