//! Seeded random initial values: the same seed gives the same numbers on every machine.

use burn::tensor::{Device, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A tensor of the given shape with N(0, std²) entries from `rng` (Box–Muller). The weights of
/// the Energy Transformer, the Hopfield layers and the MIL model are drawn by it.
pub fn normal<const D: usize>(rng: &mut ChaCha8Rng, shape: [usize; D], std: f64, device: &Device) -> Tensor<D> {
    let len: usize = shape.iter().product();
    let v: Vec<f32> = (0..len)
        .map(|_| {
            let (u, w): (f64, f64) = (rng.random::<f64>().max(1e-300), rng.random());
            (std * (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * w).cos()) as f32
        })
        .collect();
    Tensor::from_data(TensorData::new(v, shape), device)
}

/// One N(0, 1) value in f64 from `rng` (Box–Muller with u drawn from [ε, 1)): the random
/// features' frequencies.
pub fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    let (u, v): (f64, f64) = (rng.random_range(f64::EPSILON..1.0), rng.random());
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// `len` N(0, 1) values from a ChaCha8 generator seeded with `seed` (Box–Muller with u drawn from
/// [ε, 1)): the DAM classifier's initial memories and the benchmark's random inputs.
pub fn normal_values(seed: u64, len: usize) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..len).map(|_| standard_normal(&mut rng) as f32).collect()
}
