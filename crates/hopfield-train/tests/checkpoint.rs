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
