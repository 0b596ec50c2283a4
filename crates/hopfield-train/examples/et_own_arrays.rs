//! Train the image Energy Transformer on your own arrays, then reconstruct masked images with it
//! and read the energy of every descent step.
//!
//! `cargo run --release -p hopfield-train --example et_own_arrays` (the test suite runs it too).

use burn::tensor::{Device, Tensor, TensorData};
use hopfield::et::{EtConfig, ImageEtConfig, Observe};
use hopfield_data::batch::Normalization;
use hopfield_data::Dataset;
use hopfield_train::experiments::et_image::{self, ImageData, RunFiles};
use hopfield_train::experiments::Silent;
use hopfield_train::tasks::masked_image::EtTrainConfig;
use rand::{Rng, SeedableRng};

/// `count` 8×8 images of one bright row or column (value 8) on a speckled ground (values 0–3),
/// labelled row or column, drawn from `seed`: your own pixels and labels go in the same way.
fn bars(count: usize, seed: u64) -> Result<Dataset, hopfield_data::DataError> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    for _ in 0..count {
        let (vertical, at) = (rng.random_bool(0.5), rng.random_range(0..8));
        let bright = |p: usize| if vertical { p % 8 == at } else { p / 8 == at };
        pixels.extend((0..64).map(|p| if bright(p) { 8 } else { rng.random_range(0..4) }));
        labels.push(vertical as u8);
    }
    Dataset::new("bars", (1, 8, 8), pixels, 8, labels, vec!["row".into(), "column".into()])
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Training and test images from different seeds: no image is in both.
    let data = ImageData { name: "bars".into(), train: bars(256, 0)?, test: bars(32, 1)? };
    // 4×4 patches (4 per image), a small ET, T = 4 descent steps of α = 0.1.
    let mut config = EtTrainConfig::new(ImageEtConfig::new((1, 8, 8), 4, EtConfig::new(32, 2, 8, 32)));
    (config.epochs, config.lr, config.model.descent.steps) = (8, 4e-3, 4);
    let out = std::env::temp_dir().join(format!("hopfield-example-et-{}", std::process::id()));
    let files = RunFiles { dir: out.clone(), checkpoint: out.join("checkpoint") };
    let device = Device::flex();
    let report = et_image::run(&config, &data, std::slice::from_ref(&device), &files, None, Silent)?;
    let (first, last) = (&report.metrics[0], report.metrics.last().expect("8 epochs"));
    println!(
        "test masked-patch MSE: {:.4} after epoch 1, {:.4} after epoch {}",
        first.eval.mse, last.eval.mse, last.epoch
    );
    println!("  (mean-patch baseline {:.4}, T = 0 {:.4})", last.eval.mse_mean_patch, last.eval.mse_no_dynamics);

    // Reconstruct 4 test images with their second patch masked, recording the energy.
    let idx = [0, 1, 2, 3];
    let norm = Normalization::of(&data.train);
    let images = Tensor::<4>::from_data(TensorData::new(norm.values(&data.test, &idx), [4, 1, 8, 8]), &device);
    let replaced = Tensor::<2>::from_data(TensorData::new([0f32, 1., 0., 0.].repeat(4), [4, 4]), &device);
    let r = report.model.forward(images, replaced, &config.model.descent, Observe::Energy)?;
    let energy: Vec<f32> = r.energy.iter().map(|e| e.clone().into_data().try_to_vec::<f32>().unwrap()[0]).collect();
    println!("energy of the first image at t = 0..={}: {energy:?}", config.model.descent.steps);
    assert_eq!(r.patches.dims(), [4, 4, 16]);
    assert!(energy.windows(2).all(|w| w[1] <= w[0]), "the descent never raises the energy: {energy:?}");
    assert!(last.eval.mse < first.eval.mse, "training lowered the test error");
    assert!(last.eval.mse < last.eval.mse_no_dynamics, "the descent does part of the reconstruction");
    std::fs::remove_dir_all(&out)?;
    Ok(())
}
