//! Training the DAM classifier on the bundled digits with the paper's update rule.

use std::path::Path;

use hopfield_data::{Builtin, DataSource, Split};
use hopfield_train::dam_train::{train_dam, DamTrainConfig};

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
    let (_, h) = train_dam(&tr, &te, &cfg, |e, _| eprintln!("{e:?}")).unwrap();
    eprintln!("{:.1} s", t.elapsed().as_secs_f64());
    // Measured (40 epochs, ≈ 1 s): test error 0.464 after epoch 4, 0.117 after epoch 40.
    let last = h.last().unwrap();
    assert!(last.test_error < 0.16, "{last:?}");
    assert!(h[3].test_error > 2.0 * last.test_error, "{h:?}");
}

#[test]
fn bad_settings_are_errors() {
    let (tr, te) = (digits(Split::Train), digits(Split::Test));
    let err = |f: &dyn Fn(&mut DamTrainConfig)| {
        let mut c = DamTrainConfig { epochs: 1, ..DamTrainConfig::default() };
        f(&mut c);
        train_dam(&tr, &te, &c, |_, _| {}).map(|_| ()).unwrap_err().to_string()
    };
    assert!(err(&|c| c.n = 0).contains("n = 0"));
    assert!(err(&|c| c.m = 0).contains("m = 0"));
    assert!(err(&|c| c.temperature = 0.0).contains("temperature = 0"));
    assert!(err(&|c| c.temperature = -1.0).contains("temperature = -1"));
    assert!(err(&|c| c.memories = 0).contains("memories = 0"));
    assert!(err(&|c| c.momentum = 1.0).contains("momentum = 1"));
    let mnist =
        hopfield_data::load(&DataSource::Builtin(Builtin::MnistSample), Split::Test, Path::new("/none")).unwrap();
    let e = train_dam(&tr, &mnist, &DamTrainConfig { epochs: 1, ..DamTrainConfig::default() }, |_, _| {})
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(e.contains("64 values"), "{e}");
}
