//! The training loop's pieces as units: the learning-rate schedule, and the DAM classifier's
//! update rule (momentum, each memory's largest entry moving by exactly lr, clipping to [−1, 1]).

use hopfield_data::Dataset;
use hopfield_train::tasks::dam_classifier::{visible_states, DamClassifierTask, DamTrainConfig};
use hopfield_train::trainer::{Iteration, Schedule, Task};
use rand::SeedableRng;

#[test]
fn the_schedule_warms_up_linearly_then_follows_a_cosine_to_a_thousandth() {
    let s = Schedule::WarmupCosine { peak: 2.0, warmup: 4 };
    let floor = 2e-3;
    // Warm-up: floor + (peak − floor)·(it + 1)/warmup, reaching the peak at its last step.
    for it in 0..4 {
        let expected = floor + (2.0 - floor) * (it + 1) as f64 / 4.0;
        assert!((s.at(it, 24) - expected).abs() < 1e-12, "it {it}");
    }
    assert!((s.at(4, 24) - 2.0).abs() < 1e-12, "the cosine starts at the peak");
    // Half-way through the cosine part (10 of 20 steps): the mean of peak and floor.
    assert!((s.at(14, 24) - (2.0 + floor) / 2.0).abs() < 1e-12);
    assert!((s.at(24, 24) - floor).abs() < 1e-12 && (s.at(99, 24) - floor).abs() < 1e-12, "then the floor");
    assert_eq!(Schedule::Constant(0.3).at(7, 10), 0.3);
}

/// Two 2×2 images of two classes; one update of K = 3 memories from a known state.
#[test]
fn one_dam_update_moves_each_memorys_largest_entry_by_exactly_lr_with_momentum() {
    let ds = Dataset::new(
        "two",
        (1, 2, 2),
        vec![255, 0, 255, 0, 0, 255, 0, 255],
        255,
        vec![0, 1],
        vec!["a".into(), "b".into()],
    )
    .unwrap();
    let cfg = DamTrainConfig {
        memories: 3,
        n: 3,
        m: 2,
        temperature: 2.0,
        lr: 0.05,
        momentum: 0.6,
        batch_size: 2,
        ..DamTrainConfig::default()
    };
    let task = DamClassifierTask::new(&ds, &ds, &cfg, "two").unwrap();
    let mut state = task.initial_state().unwrap();
    // One memory near the clipping edge, to see the clip.
    state.dam.memories[0] = 0.99;
    let before = state.dam.memories.clone();
    let g1 = state.dam.loss_and_grad(&visible_states(&ds, &[0, 1]), &[0, 1], cfg.m).unwrap().grad;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let at = Iteration { epoch: 1, index: 0, total: 2 };
    let (state, _) = task.step(state, &[0, 1], &mut rng, at).unwrap();
    let w = 4 + 2;
    for mu in 0..3 {
        let v: Vec<f64> = g1[mu * w..(mu + 1) * w].iter().map(|g| -g).collect(); // velocity = −g
        let peak = v.iter().fold(0f64, |a, x| a.max(x.abs()));
        for j in 0..w {
            let expected = (before[mu * w + j] as f64 + 0.05 * v[j] / peak).clamp(-1.0, 1.0) as f32;
            assert_eq!(state.dam.memories[mu * w + j], expected, "memory {mu} entry {j}");
        }
        // The largest entry of the step is exactly lr (where not clipped).
        let moved: Vec<f64> = (0..w).map(|j| (state.dam.memories[mu * w + j] - before[mu * w + j]) as f64).collect();
        let largest = moved.iter().fold(0f64, |a, x| a.max(x.abs()));
        if mu > 0 {
            assert!((largest - 0.05).abs() < 1e-6, "memory {mu}: largest move {largest}");
        }
    }
    assert!(state.dam.memories[0] <= 1.0, "clipped to [−1, 1]");
    // The second step's velocity is μ·v₁ − g₂.
    let g2 = state.dam.loss_and_grad(&visible_states(&ds, &[0, 1]), &[0, 1], cfg.m).unwrap().grad;
    let v1 = state.velocity.clone();
    let (after, _) = task.step(state.clone(), &[0, 1], &mut rng, Iteration { index: 1, ..at }).unwrap();
    for (i, v) in after.velocity.iter().enumerate() {
        assert!((v - (0.6 * v1[i] - g2[i])).abs() < 1e-12, "velocity entry {i}");
    }
}
