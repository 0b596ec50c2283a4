//! A training run killed (SIGKILL) at arbitrary moments — inside a checkpoint write included —
//! always leaves a checkpoint that loads, and resuming it ends on the uninterrupted run's
//! memories byte for byte.

mod common;

use std::path::Path;
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

/// `RUN` with `epochs` epochs into `out`, started in the background with its output discarded.
fn spawn(epochs: &str, out: &str, data_dir: &Path) -> std::process::Child {
    let mut args = RUN.to_vec();
    args[11] = epochs;
    Command::new(env!("CARGO_BIN_EXE_hopfield"))
        .args([&args[..], &["--out", out]].concat())
        .env("HOPFIELD_DATA_DIR", data_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn memories(out: &Path) -> Vec<u8> {
    std::fs::read(out.join("checkpoint/memories.npy")).unwrap()
}

#[test]
fn a_killed_run_leaves_a_loadable_checkpoint_that_resumes_to_the_same_memories() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let straight = d.join("straight");
    ok(&[&RUN[..], &["--out", straight.to_str().unwrap()]].concat(), d);
    let expected = memories(&straight);
    let (mut resumed, mut finished) = (0, 0);
    for (trial, delay_ms) in [15u64, 40, 70, 110, 160, 230, 320, 450].into_iter().enumerate() {
        let out = d.join(format!("killed-{trial}"));
        let o = out.to_str().unwrap();
        let mut child = spawn("80", o, d);
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL; the run may already have finished
        child.wait().unwrap();
        let ck = out.join("checkpoint");
        let old = out.join(".checkpoint.old");
        if !ck.exists() && !old.exists() {
            continue; // killed before the first epoch ended: nothing to resume, nothing lost
        }
        // Whatever instant the kill hit, a checkpoint loads …
        let s = ok(&["dam", "eval", "--checkpoint", ck.to_str().unwrap()], d);
        assert!(s.contains("test error"), "trial {trial}: {s}");
        // … and resuming it reaches the uninterrupted run's memories.
        let r = hopfield(&["dam", "train", "--resume", ck.to_str().unwrap(), "--out", o], d);
        let err = String::from_utf8_lossy(&r.stderr);
        if r.status.success() {
            resumed += 1;
        } else {
            assert!(err.contains("already trained"), "trial {trial}: {err}");
            finished += 1;
        }
        assert!(memories(&out) == expected, "trial {trial} (killed after {delay_ms} ms): memories differ");
        let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
        assert_eq!(csv.lines().count(), 81, "trial {trial}: metrics.csv\n{csv}");
        let names: Vec<String> =
            std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert!(!names.iter().any(|n| n.starts_with('.')), "trial {trial}: left behind {names:?}");
    }
    eprintln!("{resumed} runs resumed, {finished} had finished before the kill");
    assert!(resumed >= 3, "only {resumed} kills landed mid-run");
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
