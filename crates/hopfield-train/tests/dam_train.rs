//! Training the DAM classifier on the bundled digits with the paper's update rule.

use std::path::Path;

use hopfield_data::{Builtin, DataSource, Split};
use hopfield_train::tasks::dam_classifier::{
    load_dam, load_dam_for_resume, save_dam, train_dam, DamMeta, DamTrainConfig, DAM_FORMAT,
};
use hopfield_train::trainer::Trainer;

fn digits(split: Split) -> hopfield_data::Dataset {
    hopfield_data::load(&DataSource::Builtin(Builtin::Digits), split, Path::new("/none")).unwrap()
}

#[test]
fn a_short_run_on_digits_learns() {
    let (tr, te) = (digits(Split::Train), digits(Split::Test));
    let cfg = DamTrainConfig {
        memories: 50,
        temperature: 44.0, // ≈ 0.69 N as the paper's 540 for N = 784
        batch_size: 100,
        epochs: 40,
        ..DamTrainConfig::default()
    };
    let t = std::time::Instant::now();
    let (_, h) = train_dam(&tr, &te, &cfg, "digits", None, &Trainer::default(), |e| eprintln!("{e:?}")).unwrap();
    eprintln!("{:.1} s", t.elapsed().as_secs_f64());
    // Measured (40 epochs, ≈ 1 s): test error 0.464 after epoch 4, 0.117 after epoch 40.
    let last = h.last().unwrap();
    assert!(last.test_error < 0.16, "{last:?}");
    assert!(h[3].test_error > 2.0 * last.test_error, "{h:?}");
    // The running train error (outputs of the pass that made each gradient) falls with the test
    // error; measured 0.897 after epoch 1 and 0.091 after epoch 40.
    assert!(h[0].train_error > 0.5 && last.train_error < 0.12, "{:?} {:?}", h[0], last);
    assert!(h.iter().all(|e| e.temperature == 44.0 && (0.0..=1.0).contains(&e.train_error)));
}

/// The public code's ramp: T_in + (T_f − T_in) · nep / thresh_pret for the 0-based epoch
/// nep ≤ thresh_pret, then T_f; the epochs report it and a checkpoint reloads at its last T.
#[test]
fn the_temperature_ramp_is_the_public_codes() {
    let cfg = DamTrainConfig {
        temperature: 540.0,
        temperature_final: Some(300.0),
        temperature_ramp: 200,
        ..DamTrainConfig::default()
    };
    for nep in [0usize, 1, 57, 199, 200, 201, 299] {
        let notebook = if nep <= 200 { 540.0 + (300.0 - 540.0) * nep as f64 / 200.0 } else { 300.0 };
        assert!((cfg.temperature_at(nep + 1) - notebook).abs() < 1e-9, "epoch {}", nep + 1);
    }
    assert_eq!(DamTrainConfig::default().temperature_at(250), 540.0);

    let (tr, te) = (digits(Split::Train), digits(Split::Test));
    let cfg = DamTrainConfig {
        memories: 20,
        temperature: 60.0,
        temperature_final: Some(40.0),
        temperature_ramp: 4,
        batch_size: 200,
        epochs: 6,
        ..DamTrainConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let (dam, h) = train_dam(&tr, &te, &cfg, "digits", None, &Trainer::default(), |_| {}).unwrap();
    let t: Vec<f64> = h.iter().map(|e| e.temperature).collect();
    assert_eq!(t, [60.0, 55.0, 50.0, 45.0, 40.0, 40.0]);
    assert_eq!(dam.temperature, 40.0);
    let meta = DamMeta {
        format: DAM_FORMAT.into(),
        train: cfg.clone(),
        image: (1, 8, 8),
        classes: 10,
        epoch: 3,
        test_error: h[2].test_error,
        data: "digits".into(),
        resume: None,
    };
    save_dam(dir.path(), &dam, &meta, None).unwrap();
    assert_eq!(load_dam(dir.path()).unwrap().0.temperature, 50.0, "a checkpoint of epoch 3 is at epoch 3's T");
    for (f, needle) in [
        (Some(0.0), "temperature-final = 0"),
        (Some(f64::NAN), "temperature-final = NaN"),
        (Some(-2.0), "temperature-final = -2"),
    ] {
        let c = DamTrainConfig { temperature_final: f, epochs: 1, ..DamTrainConfig::default() };
        assert!(c.validate().unwrap_err().to_string().contains(needle), "{f:?}");
    }
    let c = DamTrainConfig { temperature_ramp: 0, ..DamTrainConfig::default() };
    assert!(c.validate().unwrap_err().to_string().contains("temperature-ramp = 0"));
}

/// A checkpoint written before the ramp existed (no temperature_final / temperature_ramp in its
/// config.json) still loads, at its constant T.
#[test]
fn checkpoints_without_the_ramp_fields_load() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = DamTrainConfig { memories: 2, ..DamTrainConfig::default() };
    let dam = hopfield::dam::DamClassifier::new(64, 10, vec![0.1f32; 2 * 74], 20, 540.0).unwrap();
    let meta = DamMeta {
        format: DAM_FORMAT.into(),
        train: cfg,
        image: (1, 8, 8),
        classes: 10,
        epoch: 7,
        test_error: 0.5,
        data: "digits".into(),
        resume: None,
    };
    save_dam(dir.path(), &dam, &meta, None).unwrap();
    let path = dir.path().join("config.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let old: String = text
        .lines()
        .filter(|l| !l.contains("temperature_final") && !l.contains("temperature_ramp"))
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(old, text);
    std::fs::write(&path, old).unwrap();
    let (back, meta) = load_dam(dir.path()).unwrap();
    assert_eq!((back.temperature, meta.train.temperature_final, meta.train.temperature_ramp), (540.0, None, 200));
}

#[test]
fn bad_settings_are_errors() {
    let (tr, te) = (digits(Split::Train), digits(Split::Test));
    let err = |f: &dyn Fn(&mut DamTrainConfig)| {
        let mut c = DamTrainConfig { epochs: 1, ..DamTrainConfig::default() };
        f(&mut c);
        train_dam(&tr, &te, &c, "digits", None, &Trainer::default(), |_| {}).map(|_| ()).unwrap_err().to_string()
    };
    assert!(err(&|c| c.n = 0).contains("n = 0"));
    assert!(err(&|c| c.m = 0).contains("m = 0"));
    assert!(err(&|c| c.temperature = 0.0).contains("temperature = 0"));
    assert!(err(&|c| c.temperature = -1.0).contains("temperature = -1"));
    assert!(err(&|c| c.memories = 0).contains("memories = 0"));
    assert!(err(&|c| c.momentum = 1.0).contains("momentum = 1"));
    let mnist =
        hopfield_data::load(&DataSource::Builtin(Builtin::MnistSample), Split::Test, Path::new("/none")).unwrap();
    let e = train_dam(
        &tr,
        &mnist,
        &DamTrainConfig { epochs: 1, ..DamTrainConfig::default() },
        "digits",
        None,
        &Trainer::default(),
        |_| {},
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert!(e.contains("64 values"), "{e}");
}

/// Resume: 6 epochs straight against 3 epochs, a checkpoint, and 3 more from it give the same
/// memories bit for bit (the momentum, the learning rate and the shuffling stream are saved);
/// metrics.csv keeps the first run's lines and appends the resumed ones.
#[test]
fn a_resumed_dam_run_gives_the_same_memories_as_an_uninterrupted_one() {
    let (tr, te) = (digits(Split::Train), digits(Split::Test));
    let cfg =
        DamTrainConfig { memories: 20, temperature: 44.0, batch_size: 200, epochs: 6, ..DamTrainConfig::default() };
    let dir = tempfile::tempdir().unwrap();
    let (straight, _) = train_dam(&tr, &te, &cfg, "digits", None, &Trainer::default(), |_| {}).unwrap();
    let ck = dir.path().join("ck");
    let csv = dir.path().join("metrics.csv");
    let trainer = Trainer { checkpoint: Some(ck.clone()), metrics: Some(csv.clone()), ..Default::default() };
    let first = DamTrainConfig { epochs: 3, ..cfg.clone() };
    train_dam(&tr, &te, &first, "digits", None, &trainer, |_| {}).unwrap();
    assert_eq!(std::fs::read_to_string(&csv).unwrap().lines().count(), 4);
    let (state, meta) = load_dam_for_resume(&ck).unwrap();
    assert_eq!(meta.epoch, 3);
    let (resumed, h) = train_dam(&tr, &te, &cfg, "digits", Some((state, meta.epoch)), &trainer, |_| {}).unwrap();
    assert_eq!(h.iter().map(|e| e.epoch).collect::<Vec<_>>(), [4, 5, 6]);
    assert!(straight.memories == resumed.memories, "resumed memories differ from the uninterrupted run's");
    let text = std::fs::read_to_string(&csv).unwrap();
    let epochs: Vec<&str> = text.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(epochs, ["1", "2", "3", "4", "5", "6"], "{text}");
    // A checkpoint without the momentum cannot be resumed; one of another run's size is refused.
    std::fs::remove_file(ck.join("velocity.npy")).unwrap();
    let e = load_dam_for_resume(&ck).map(|_| ()).unwrap_err().to_string();
    assert!(e.contains("velocity.npy") && e.contains("cannot be resumed"), "{e}");
}

/// A learning rate above 2 moves a memory's largest entry across the whole range [−1, 1]; a
/// degree above 1000 under- or overflows every output: both refused, naming the value.
#[test]
fn learning_rates_and_degrees_that_compute_nonsense_are_errors() {
    let ok = DamTrainConfig { lr: 2.0, n: 1000, ..DamTrainConfig::default() };
    assert!(ok.validate().is_ok());
    let e = DamTrainConfig { lr: 1e30, ..DamTrainConfig::default() }.validate().unwrap_err().to_string();
    assert!(e.contains("lr = 1000000000000000000000000000000") && e.contains("at most 2"), "{e}");
    let e = DamTrainConfig { n: 100_000_000, ..DamTrainConfig::default() }.validate().unwrap_err().to_string();
    assert!(e.contains("n = 100000000") && e.contains("1000"), "{e}");
    // The capacity theory of a high degree overflows: it is reported as none, not NaN.
    let t = hopfield_train::experiments::capacity::theory_flip(
        hopfield::memory::Separation::Polynomial { n: 1000 },
        60,
        2.0,
    );
    assert!(t.is_none_or(f64::is_finite), "{t:?}");
}
