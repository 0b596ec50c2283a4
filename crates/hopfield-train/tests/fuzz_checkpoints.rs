//! Deterministic mutation tests of the checkpoint readers: every file of an Energy Transformer
//! checkpoint (model.safetensors, config.json, optimizer.bpk) and of a DAM checkpoint
//! (memories.npy, velocity.npy, config.json), truncated, bit-flipped, overwritten and extended
//! from a fixed seed. Loading must give a clear error or a valid checkpoint, never a panic.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use burn::tensor::Device;
use hopfield::et::{EtConfig, ImageEtConfig};
use hopfield_train::tasks::dam_classifier::{load_dam, load_dam_for_resume, DamClassifierTask, DamTrainConfig};
use hopfield_train::tasks::masked_image::checkpoint::{load, load_for_resume, save, CheckpointMeta};
use hopfield_train::tasks::masked_image::EtTrainConfig;
use hopfield_train::trainer::Task;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CASES: usize = 1000;

fn mutate(rng: &mut ChaCha8Rng, bytes: &[u8]) -> Vec<u8> {
    let mut v = bytes.to_vec();
    let len = v.len().max(1);
    match rng.random_range(0..5) {
        0 => v.truncate(rng.random_range(0..len)),
        1 => {
            for _ in 0..rng.random_range(1..9) {
                let i = rng.random_range(0..len).min(v.len() - 1);
                v[i] ^= 1 << rng.random_range(0..8);
            }
        }
        2 => {
            // Early bytes hold the headers (safetensors' length, npy's dict, JSON's structure).
            let at = rng.random_range(0..len.min(128)).min(v.len() - 1);
            let n = rng.random_range(1..9).min(v.len() - at);
            for b in &mut v[at..at + n] {
                *b = rng.random();
            }
        }
        3 => v.extend((0..rng.random_range(1..256)).map(|_| rng.random::<u8>())),
        _ => {
            let at = rng.random_range(0..len.min(64)).min(v.len());
            v.splice(at..at, (0..rng.random_range(1..16)).map(|_| rng.random::<u8>()));
        }
    }
    v
}

/// Mutates `file` of the checkpoint `dir` CASES times, calling `load` each time; restores it.
fn fuzz_file(dir: &Path, file: &str, seed: u64, load: impl Fn() -> bool) {
    let path = dir.join(file);
    let valid = std::fs::read(&path).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut loaded = 0;
    for case in 0..CASES {
        std::fs::write(&path, mutate(&mut rng, &valid)).unwrap();
        match catch_unwind(AssertUnwindSafe(&load)) {
            Ok(true) => loaded += 1,
            Ok(false) => {}
            Err(_) => panic!("{file}: mutation {case} made the loader panic"),
        }
    }
    std::fs::write(&path, &valid).unwrap();
    eprintln!("{file}: {CASES} mutations, {loaded} loaded, {} errors, 0 panics", CASES - loaded);
}

#[test]
fn damaged_checkpoints_are_errors_never_panics() {
    let dev = Device::flex();
    let dir = tempfile::tempdir().unwrap();
    // A tiny Energy Transformer checkpoint with its optimiser state, written by a 1-epoch run.
    let digits = |split| {
        hopfield_data::load(
            &hopfield_data::DataSource::Builtin(hopfield_data::Builtin::Digits),
            split,
            Path::new("/none"),
        )
        .unwrap()
        .first(32)
        .unwrap()
    };
    let (tr, te) = (digits(hopfield_data::Split::Train), digits(hopfield_data::Split::Test));
    let mut cfg = EtTrainConfig::new(ImageEtConfig::new((1, 8, 8), 4, EtConfig::new(8, 2, 4, 8)));
    cfg.model.descent.steps = 1;
    cfg.batch_size = 16;
    let et = dir.path().join("et");
    let task = hopfield_train::tasks::masked_image::MaskedImage::new(&tr, &te, &cfg, "digits", &dev).unwrap();
    let trainer =
        hopfield_train::trainer::Trainer { checkpoint: Some(et.clone()), metrics: None, ..Default::default() };
    task.train(None, &trainer, |_| {}).unwrap();
    assert!(load_for_resume(&et, &dev).is_ok());
    for (i, file) in ["model.safetensors", "config.json", "optimizer.bpk"].into_iter().enumerate() {
        fuzz_file(&et, file, 10 + i as u64, || load_for_resume(&et, &dev).is_ok());
    }
    // The same weights saved without optimiser state, read by eval's loader.
    let (model, meta) = load(&et, &dev).unwrap();
    let plain = dir.path().join("plain");
    save(&plain, &model, &CheckpointMeta { epoch: 1, ..meta }, None).unwrap();
    fuzz_file(&plain, "config.json", 20, || load(&plain, &dev).is_ok());
    // A DAM checkpoint with its momentum, written by a 1-epoch run.
    let dam_cfg = DamTrainConfig { memories: 5, epochs: 1, batch_size: 16, ..DamTrainConfig::default() };
    let dam = dir.path().join("dam");
    let dam_task = DamClassifierTask::new(&tr, &te, &dam_cfg, "digits").unwrap();
    let trainer =
        hopfield_train::trainer::Trainer { checkpoint: Some(dam.clone()), metrics: None, ..Default::default() };
    trainer.run(&dam_task, dam_task.initial_state().unwrap(), 0, |_| {}).unwrap();
    assert!(load_dam_for_resume(&dam).is_ok());
    for (i, file) in ["memories.npy", "velocity.npy", "config.json"].into_iter().enumerate() {
        fuzz_file(&dam, file, 30 + i as u64, || {
            let _ = load_dam(&dam);
            load_dam_for_resume(&dam).is_ok()
        });
    }
    let _ = dam_task.plan();
}
