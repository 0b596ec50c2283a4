//! A checkpoint write interrupted between any two of its steps (as a kill would leave it) still
//! leaves a complete checkpoint, the old or the new one, and the next save recovers.

use hopfield::dam::DamClassifier;
use hopfield_train::checkpoint::{resolve, save_folder_until, SaveStep};
use hopfield_train::tasks::dam_classifier::{load_dam, save_dam, write_dam_files, DamMeta, DamTrainConfig, DAM_FORMAT};

fn checkpoint(epoch: usize) -> (DamClassifier<f32>, DamMeta) {
    let cfg = DamTrainConfig { memories: 2, ..DamTrainConfig::default() };
    let dam = DamClassifier::new(64, 10, vec![epoch as f32 / 10.0; 2 * 74], 20, 540.0).unwrap();
    let meta = DamMeta {
        format: DAM_FORMAT.into(),
        train: cfg,
        image: (1, 8, 8),
        classes: 10,
        epoch,
        test_error: 0.5,
        data: "digits".into(),
        resume: None,
    };
    (dam, meta)
}

fn names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn a_save_stopped_after_any_step_leaves_a_loadable_checkpoint() {
    let steps = [None, Some(SaveStep::Written), Some(SaveStep::OldMoved), Some(SaveStep::NewInPlace)];
    for (stop, expected) in steps.into_iter().zip([2, 1, 1, 2]) {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("ck");
        let (old, old_meta) = checkpoint(1);
        save_dam(&dir, &old, &old_meta, None).unwrap();
        let (new, new_meta) = checkpoint(2);
        save_folder_until(&dir, |tmp| write_dam_files(tmp, &new, &new_meta, None), stop).unwrap();
        // What a reader finds after the kill: a complete checkpoint, the old or the new one.
        let (dam, meta) = load_dam(&dir).unwrap_or_else(|e| panic!("after {stop:?}: {e}"));
        assert_eq!(meta.epoch, expected, "after {stop:?}");
        assert_eq!(dam.memories[0], expected as f32 / 10.0, "after {stop:?}");
        if stop == Some(SaveStep::OldMoved) {
            assert!(!dir.exists() && resolve(&dir) == parent.path().join(".ck.old"), "{:?}", names(parent.path()));
        }
        // The next save puts a complete checkpoint in place and leaves nothing else behind.
        let (next, next_meta) = checkpoint(3);
        save_dam(&dir, &next, &next_meta, None).unwrap();
        assert_eq!(load_dam(&dir).unwrap().1.epoch, 3, "after {stop:?}");
        assert_eq!(names(parent.path()), ["ck"], "after {stop:?}");
    }
}

/// The clean-up steps too: a kill while a stale `.ck.tmp` (left by a save killed while writing)
/// or `.ck.old` (the replaced checkpoint) is being removed — after any number of its entries —
/// leaves the checkpoint loadable and a folder that the next save clears instead of refusing.
#[test]
fn a_save_killed_while_removing_a_stale_or_old_folder_leaves_a_checkpoint_and_a_folder_the_next_save_clears() {
    for what in ["stale .tmp", "stale .old", ".old of step 4"] {
        // A DAM checkpoint holds memories.npy, config.json and the marker: every k from none
        // removed to all removed but the folder itself.
        for k in 0..=3 {
            let parent = tempfile::tempdir().unwrap();
            let dir = parent.path().join("ck");
            let (one, one_meta) = checkpoint(1);
            save_dam(&dir, &one, &one_meta, None).unwrap();
            let (two, two_meta) = checkpoint(2);
            // What the killed save leaves for this one to remove.
            let (stop, expected) = match what {
                "stale .tmp" => {
                    save_folder_until(&dir, |tmp| write_dam_files(tmp, &two, &two_meta, None), Some(SaveStep::Written))
                        .unwrap();
                    (SaveStep::StaleTmpRemoving(k), 1)
                }
                "stale .old" => {
                    save_folder_until(
                        &dir,
                        |tmp| write_dam_files(tmp, &two, &two_meta, None),
                        Some(SaveStep::NewInPlace),
                    )
                    .unwrap();
                    (SaveStep::OldRemoving(k), 2)
                }
                _ => (SaveStep::OldRemoving(k), 3),
            };
            let left = if what == "stale .tmp" { parent.path().join(".ck.tmp") } else { dir.clone() };
            assert_eq!(names(&left).len(), 3, "{what}: {:?}", names(&left));
            let (three, three_meta) = checkpoint(3);
            save_folder_until(&dir, |tmp| write_dam_files(tmp, &three, &three_meta, None), Some(stop)).unwrap();
            let (_, meta) = load_dam(&dir).unwrap_or_else(|e| panic!("{what}, {k} entries removed: {e}"));
            assert_eq!(meta.epoch, expected, "{what}, {k} entries removed");
            // The next save clears what is left and leaves nothing else behind.
            let (four, four_meta) = checkpoint(4);
            save_dam(&dir, &four, &four_meta, None).unwrap_or_else(|e| panic!("{what}, {k} entries removed: {e}"));
            assert_eq!(load_dam(&dir).unwrap().1.epoch, 4, "{what}, {k}");
            assert_eq!(names(parent.path()), ["ck"], "{what}, {k} entries removed");
        }
    }
}

/// A user's folder or file at the checkpoint's path is never replaced: the save is refused, the
/// files are untouched, and nothing is left beside them. A checkpoint written before the marker
/// existed (recognised by its config.json) is still replaced.
#[test]
fn a_folder_that_is_not_a_checkpoint_is_refused_and_left_alone() {
    let parent = tempfile::tempdir().unwrap();
    let (dam, meta) = checkpoint(1);
    let users = parent.path().join("thesis");
    std::fs::create_dir(&users).unwrap();
    std::fs::write(users.join("chapter1.tex"), "my work").unwrap();
    let e = save_dam(&users, &dam, &meta, None).unwrap_err().to_string();
    assert!(
        e.contains("thesis") && e.contains("not a hopfield checkpoint") && e.contains("nothing was written"),
        "{e}"
    );
    assert_eq!(names(&users), ["chapter1.tex"]);
    assert_eq!(std::fs::read_to_string(users.join("chapter1.tex")).unwrap(), "my work");
    let file = parent.path().join("notes.txt");
    std::fs::write(&file, "notes").unwrap();
    let e = save_dam(&file, &dam, &meta, None).unwrap_err().to_string();
    assert!(e.contains("notes.txt") && e.contains("a file"), "{e}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "notes");
    assert_eq!(names(parent.path()), ["notes.txt", "thesis"]);
    // A checkpoint without the marker (written before it existed) is ours by its config.json.
    let ck = parent.path().join("ck");
    save_dam(&ck, &dam, &meta, None).unwrap();
    std::fs::remove_file(ck.join(hopfield_train::checkpoint::MARKER)).unwrap();
    let (dam2, meta2) = checkpoint(2);
    save_dam(&ck, &dam2, &meta2, None).unwrap();
    assert_eq!(load_dam(&ck).unwrap().1.epoch, 2);
}

/// One run at a time per checkpoint folder: a second lock is refused naming the holder; the lock
/// goes with its holder and leaves no file behind.
#[test]
fn a_checkpoint_folder_takes_one_run_at_a_time() {
    use hopfield_train::checkpoint::RunLock;
    let parent = tempfile::tempdir().unwrap();
    let ck = parent.path().join("ck");
    let first = RunLock::acquire(&ck).unwrap();
    let e = RunLock::acquire(&ck).unwrap_err().to_string();
    assert!(e.contains("another run") && e.contains(&format!("process {}", std::process::id())), "{e}");
    drop(first);
    assert!(names(parent.path()).is_empty(), "{:?}", names(parent.path()));
    let again = RunLock::acquire(&ck).unwrap();
    drop(again);
}

/// Checkpoints whose values are not finite or out of range are refused on load, naming the file.
#[test]
fn non_finite_memories_and_invalid_configurations_are_refused_on_load() {
    let parent = tempfile::tempdir().unwrap();
    let ck = parent.path().join("ck");
    let (mut dam, meta) = checkpoint(1);
    dam.memories[5] = f32::NAN;
    save_dam(&ck, &dam, &meta, None).unwrap();
    let e = load_dam(&ck).map(|_| ()).unwrap_err().to_string();
    assert!(e.contains("memories.npy") && e.contains("entry 5 is NaN"), "{e}");
    let (dam, mut meta) = checkpoint(1);
    meta.train.temperature = -3.0;
    save_dam(&ck, &dam, &meta, None).unwrap();
    let e = load_dam(&ck).map(|_| ()).unwrap_err().to_string();
    assert!(e.contains("config.json") && e.contains("temperature = -3"), "{e}");
}
