//! Recall on real images: the bundled MNIST sample.

use std::path::Path;

use hopfield::memory::{DenseMemory, Dynamics, ModernHopfield, Separation, UpdateRule};
use hopfield_data::{Builtin, DataSource, Dataset, Split};
use hopfield_train::experiments::recall::{self, Corruption, MemoryKind, RecallConfig};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn mnist() -> Dataset {
    hopfield_data::load(&DataSource::Builtin(Builtin::MnistSample), Split::Test, Path::new("/none")).unwrap()
}

fn cfg(memory: MemoryKind, k: usize) -> RecallConfig {
    RecallConfig {
        memory,
        patterns: k,
        corruption: Corruption::Flip(0.2),
        queries: None,
        show: 4,
        seed: 7,
        ..RecallConfig::default()
    }
}

#[test]
fn energy_never_increases_on_real_digits_for_every_f() {
    let ds = mnist();
    let n = ds.image_len();
    let k = 60;
    let spins: Vec<i8> = (0..k).flat_map(|i| ds.image(i)).map(|v| if v >= 0.5 { 1 } else { -1 }).collect();
    for sep in [
        Separation::Classical,
        Separation::Polynomial { n: 3 },
        Separation::RectifiedPolynomial { n: 20 },
        Separation::Exponential,
    ] {
        let mem = DenseMemory::new(&spins, n, sep).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for q in 0..5 {
            // Start from a different real digit (not stored) so the dynamics has work to do.
            let mut s: Vec<i8> = ds.image(500 + q).iter().map(|&v| if v >= 0.5 { 1 } else { -1 }).collect();
            let d = Dynamics { rule: UpdateRule::Asynchronous, max_sweeps: 50, record_every: 1 };
            let t = mem.run(&mut s, &d, &mut rng).unwrap();
            for w in t.energy.windows(2) {
                assert!(w[1].1 <= w[0].1 + 1e-12 * w[0].1.abs().max(1e-300), "{sep}: {} -> {}", w[0].1, w[1].1);
            }
            assert!(t.converged, "{sep}: query {q} did not converge");
        }
    }
}

#[test]
fn classical_fails_and_dense_succeeds_on_50_digits() {
    let ds = mnist();
    let classical = recall::recall(&ds, &cfg(MemoryKind::Dense(Separation::Classical), 50)).unwrap();
    let dense = recall::recall(&ds, &cfg(MemoryKind::Dense(Separation::RectifiedPolynomial { n: 30 }), 50)).unwrap();
    let exp = recall::recall(&ds, &cfg(MemoryKind::Dense(Separation::Exponential), 50)).unwrap();
    let modern = recall::recall(&ds, &cfg(MemoryKind::Modern { beta: 0.2 }, 50)).unwrap();
    // Measured: classical 0/50 exact (mean overlap ≈ 0.77), the others 50/50.
    assert_eq!(classical.exact_fraction(), 0.0);
    assert!(classical.mean_overlap() < 0.85, "classical overlap {}", classical.mean_overlap());
    for r in [&dense, &exp, &modern] {
        assert_eq!(r.exact_fraction(), 1.0, "{}", r.memory);
        assert!(r.mean_overlap() > 0.9999, "{}", r.memory);
    }
    // The cues really were 20% flipped: cosine 1 − 2·0.2 = 0.6.
    assert!((dense.mean_cue_overlap() - 0.6).abs() < 0.01);
}

#[test]
fn occluded_cues_are_completed_by_a_dense_memory() {
    let ds = mnist();
    let mut c = cfg(MemoryKind::Dense(Separation::Exponential), 20);
    c.corruption = Corruption::Occlude;
    let r = recall::recall(&ds, &c).unwrap();
    // Measured: 20/20 completed from the top half alone.
    assert!(r.exact_fraction() >= 0.95, "{}", r.exact_fraction());
    // The bottom half of every cue is black (−1 → 0 in the picture).
    let cue = &r.examples[0][1];
    assert!(cue.values[14 * 28..].iter().all(|&v| v == 0.0));
}

#[test]
fn modern_hopfield_is_stable_at_beta_1000_on_unnormalised_mnist() {
    let ds = mnist();
    let n = ds.image_len();
    let k = 200;
    // Raw pixel values 0..255: β ‖x‖² reaches ~10¹⁰.
    let x: Vec<f32> = (0..k).flat_map(|i| ds.raw(i).to_vec()).map(|p| p as f32).collect();
    let net = ModernHopfield::new(x.clone(), n, 1000.0).unwrap();
    let q: Vec<f32> = (300..308).flat_map(|i| ds.raw(i).to_vec()).map(|p| p as f32).collect();
    let out = net.update(&q).unwrap();
    assert!(out.iter().all(|v| v.is_finite()));
    for (qi, o) in out.chunks(n).enumerate() {
        // The update picks the stored pattern with the largest x·ξ, exactly.
        let qv = &q[qi * n..(qi + 1) * n];
        let best = (0..k)
            .max_by(|&a, &b| {
                let d = |m: usize| {
                    x[m * n..(m + 1) * n].iter().zip(qv).map(|(p, q)| (*p as f64) * (*q as f64)).sum::<f64>()
                };
                d(a).total_cmp(&d(b))
            })
            .unwrap();
        assert_eq!(o, &x[best * n..(best + 1) * n], "query {qi}");
        let e = net.energy(o).unwrap();
        assert!(e.is_finite(), "energy {e}");
    }
}

#[test]
fn same_seed_same_numbers_and_outputs_are_written() {
    let ds = mnist();
    let c = cfg(MemoryKind::Dense(Separation::Classical), 10);
    let a = recall::recall(&ds, &c).unwrap();
    let b = recall::recall(&ds, &c).unwrap();
    assert_eq!(a, b);
    let dir = tempfile::tempdir().unwrap();
    let files = recall::write_outputs(&a, dir.path(), "x-").unwrap();
    let grid = image::open(&files[0]).unwrap();
    // 3 columns of 28·3 = 84 px cells with 4 px padding; 4 rows under a 24 px header.
    assert_eq!((grid.width(), grid.height()), (3 * 88 + 4, 24 + 4 * 88 + 4));
    let csv = std::fs::read_to_string(&files[2]).unwrap();
    assert_eq!(csv.lines().count(), 11);
    assert!(files.iter().all(|f| f.file_name().unwrap().to_string_lossy().starts_with("x-")));
}

#[test]
fn invalid_settings_are_errors_naming_the_value() {
    let ds = mnist();
    let cases: Vec<(RecallConfig, &str)> = vec![
        (RecallConfig { patterns: 1001, ..cfg(MemoryKind::Dense(Separation::Classical), 1) }, "patterns = 1001"),
        (RecallConfig { patterns: 0, ..cfg(MemoryKind::Dense(Separation::Classical), 1) }, "patterns = 0"),
        (
            RecallConfig { corruption: Corruption::Flip(1.5), ..cfg(MemoryKind::Dense(Separation::Classical), 5) },
            "flip = 1.5",
        ),
        (
            RecallConfig { corruption: Corruption::Flip(-0.1), ..cfg(MemoryKind::Dense(Separation::Classical), 5) },
            "flip = -0.1",
        ),
        (
            RecallConfig { corruption: Corruption::Flip(f64::NAN), ..cfg(MemoryKind::Dense(Separation::Classical), 5) },
            "flip = NaN",
        ),
        (cfg(MemoryKind::Dense(Separation::Polynomial { n: 1 }), 5), "n = 1"),
        (cfg(MemoryKind::Modern { beta: 0.0 }, 5), "beta = 0"),
        (cfg(MemoryKind::Modern { beta: -2.0 }, 5), "beta = -2"),
        (RecallConfig { queries: Some(6), ..cfg(MemoryKind::Dense(Separation::Classical), 5) }, "queries = 6"),
        (RecallConfig { show: 0, ..cfg(MemoryKind::Dense(Separation::Classical), 5) }, "show = 0"),
        (RecallConfig { max_steps: 0, ..cfg(MemoryKind::Dense(Separation::Classical), 5) }, "max-steps = 0"),
    ];
    for (c, want) in cases {
        let e = recall::recall(&ds, &c).unwrap_err().to_string();
        assert!(e.contains(want), "expected '{want}' in: {e}");
    }
    let e = recall::recall(&ds, &RecallConfig { patterns: 1001, ..cfg(MemoryKind::Dense(Separation::Classical), 1) })
        .unwrap_err();
    assert!(e.to_string().contains("holds 1000 images"), "{e}");
    let empty = ds.first(0).unwrap();
    let e = recall::recall(&empty, &cfg(MemoryKind::Dense(Separation::Classical), 1)).unwrap_err().to_string();
    assert!(e.contains("no images"), "{e}");
}

#[test]
fn synchronous_rule_retrieves_with_a_dense_memory() {
    let ds = mnist();
    let c = RecallConfig { rule: UpdateRule::Synchronous, ..cfg(MemoryKind::Dense(Separation::Exponential), 30) };
    let r = recall::recall(&ds, &c).unwrap();
    // Measured: 30/30, each in two synchronous sweeps (one to land, one to confirm).
    assert_eq!(r.exact_fraction(), 1.0);
    assert!(r.results.iter().all(|q| q.steps == 2), "{:?}", r.results.iter().map(|q| q.steps).collect::<Vec<_>>());
    // Synchronous runs record the energy once per sweep.
    assert!(r.results.iter().all(|q| q.energy.len() == 3));
}

/// The modern network's recall as burn tensors (what `--device cuda` runs), here on the CPU
/// backend, against the host arrays: the same report, energies to f32 rounding. A device for a
/// binary memory is an error.
#[test]
fn modern_recall_on_a_device_gives_the_host_report() {
    let ds = mnist();
    let dev = burn::tensor::Device::flex();
    for beta in [0.05, 2.0] {
        let c = cfg(MemoryKind::Modern { beta }, 40);
        let (host, device) = (recall::recall(&ds, &c).unwrap(), recall::recall_on(&ds, &c, Some(&dev)).unwrap());
        assert_eq!(host.results.len(), device.results.len());
        for (h, d) in host.results.iter().zip(&device.results) {
            assert_eq!((h.pattern, h.exact, h.steps), (d.pattern, d.exact, d.steps), "β={beta}");
            assert!((h.overlap - d.overlap).abs() < 1e-5, "β={beta}: overlap {} vs {}", h.overlap, d.overlap);
            assert_eq!(h.energy.len(), d.energy.len());
            for ((_, a), (_, b)) in h.energy.iter().zip(&d.energy) {
                assert!((a - b).abs() <= 1e-4 * a.abs().max(1.0), "β={beta}: energy {a} vs {b}");
            }
        }
        assert_eq!(host.exact_fraction(), device.exact_fraction());
    }
    let e = recall::recall_on(&ds, &cfg(MemoryKind::Dense(Separation::Classical), 10), Some(&dev)).unwrap_err();
    assert!(e.to_string().contains("a device applies to the modern network"), "{e}");
}
