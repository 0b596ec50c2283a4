//! What the f64 test binaries share: each configures the Flex device for f64 before any tensor
//! exists (the first call configures it; later calls find it configured).
#![allow(dead_code)]

use burn::tensor::{Device, FloatDType, Tensor, TensorData};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// The Flex device, configured for f64.
pub fn device() -> Device {
    let mut d = Device::flex();
    let _ = d.configure(FloatDType::F64);
    d
}

/// A tensor's values as f64.
pub fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().try_into_vec_as::<f64>().unwrap()
}

/// A tensor of `shape` from `v`.
pub fn tensor<const D: usize>(v: Vec<f64>, shape: [usize; D], dev: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(v, shape), dev)
}

/// `len` values drawn uniformly from [−scale, scale).
pub fn random(rng: &mut ChaCha8Rng, len: usize, scale: f64) -> Vec<f64> {
    (0..len).map(|_| scale * (rng.random::<f64>() * 2.0 - 1.0)).collect()
}
