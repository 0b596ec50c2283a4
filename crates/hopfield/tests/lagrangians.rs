//! Every Lagrangian's activation is its gradient: autodiff of L against the hand-written g, over
//! a grid of parameters (β; random γ and δ for the layer norm), and the Legendre energy
//! Σ x·g − L against a direct f64 evaluation.

use burn::tensor::{Device, Tensor, TensorData};
use hopfield::lagrangian::{EnergyLayerNorm, Lagrangian};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap()
}

fn close(a: &[f32], b: &[f32], tol: f32, what: &str) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= tol * y.abs().max(1.0), "{what}: entry {i}: {x} vs {y}");
    }
}

#[test]
fn each_activation_is_the_gradient_of_its_lagrangian() {
    let dev = Device::flex().autodiff();
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let values: Vec<f32> = (0..3 * 5 * 7).map(|_| rng.random::<f32>() * 6.0 - 3.0).collect();
    let kinds = [
        Lagrangian::Identity,
        Lagrangian::Relu2,
        Lagrangian::LogSumExp { beta: 0.5 },
        Lagrangian::LogSumExp { beta: 2.0 },
        Lagrangian::LogSumExp { beta: 10.0 },
        Lagrangian::RectifiedPower { n: 3 },
        Lagrangian::RectifiedPower { n: 5 },
        Lagrangian::Sigmoid { beta: 0.5 },
        Lagrangian::Sigmoid { beta: 3.0 },
        Lagrangian::Tanh { beta: 0.7 },
        Lagrangian::Tanh { beta: 4.0 },
        Lagrangian::Spherical,
    ];
    for kind in kinds {
        let x = Tensor::<3>::from_data(TensorData::new(values.clone(), [3, 5, 7]), &dev).require_grad();
        let grads = kind.lagrangian(x.clone()).sum().backward();
        let auto = to_vec(x.grad(&grads).unwrap());
        let explicit = to_vec(kind.activation(x.clone().detach()));
        close(&auto, &explicit, 1e-5, &format!("{kind:?}"));
        // L and g from one pass are the same as from two.
        let (l, g) = kind.lagrangian_and_activation(x.clone().detach());
        close(&to_vec(l), &to_vec(kind.lagrangian(x.clone().detach())), 1e-6, &format!("{kind:?} L"));
        close(&to_vec(g), &explicit, 1e-6, &format!("{kind:?} g"));
        // The Legendre energy against f64 sums over each row of 7.
        let e = to_vec(kind.energy(x.detach()));
        for (row, chunk) in values.chunks(7).enumerate() {
            let xs: Vec<f64> = chunk.iter().map(|&v| v as f64).collect();
            let (l, g): (f64, Vec<f64>) = match kind {
                Lagrangian::Identity => (xs.iter().map(|v| v * v / 2.0).sum(), xs.clone()),
                Lagrangian::Relu2 => {
                    (xs.iter().map(|v| v.max(0.0).powi(2) / 2.0).sum(), xs.iter().map(|v| v.max(0.0)).collect())
                }
                Lagrangian::LogSumExp { beta } => {
                    let z: f64 = xs.iter().map(|v| (beta * v).exp()).sum();
                    (z.ln() / beta, xs.iter().map(|v| (beta * v).exp() / z).collect())
                }
                Lagrangian::RectifiedPower { n } => (
                    xs.iter().map(|v| v.max(0.0).powi(n as i32) / n as f64).sum(),
                    xs.iter().map(|v| v.max(0.0).powi(n as i32 - 1)).collect(),
                ),
                Lagrangian::Sigmoid { beta } => (
                    xs.iter().map(|v| (1.0 + (beta * v).exp()).ln() / beta).sum(),
                    xs.iter().map(|v| 1.0 / (1.0 + (-beta * v).exp())).collect(),
                ),
                Lagrangian::Tanh { beta } => (
                    xs.iter().map(|v| (beta * v).cosh().ln() / beta).sum(),
                    xs.iter().map(|v| (beta * v).tanh()).collect(),
                ),
                Lagrangian::Spherical => {
                    let norm = xs.iter().map(|v| v * v).sum::<f64>().sqrt();
                    (norm, xs.iter().map(|v| v / norm).collect())
                }
            };
            let direct = xs.iter().zip(&g).map(|(a, b)| a * b).sum::<f64>() - l;
            assert!(
                (e[row] as f64 - direct).abs() < 1e-4 * direct.abs().max(1.0),
                "{kind:?} row {row}: {} vs {direct}",
                e[row]
            );
        }
    }
}

#[test]
fn a_lagrangian_that_is_not_convex_is_refused_with_its_value() {
    for kind in [
        Lagrangian::LogSumExp { beta: -1.0 },
        Lagrangian::Sigmoid { beta: 0.0 },
        Lagrangian::Tanh { beta: f64::NAN },
        Lagrangian::RectifiedPower { n: 1 },
    ] {
        let e = kind.validate().unwrap_err().to_string();
        assert!(e.contains("beta") || e.contains("n = 1"), "{kind:?}: {e}");
    }
    assert!(Lagrangian::Spherical.validate().is_ok() && Lagrangian::Tanh { beta: 2.0 }.validate().is_ok());
}

#[test]
fn the_layer_norm_activation_is_the_gradient_of_its_lagrangian_for_random_gain_and_bias() {
    let dev = Device::flex().autodiff();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for trial in 0..4 {
        let d = 6 + trial;
        let mut ln = EnergyLayerNorm::new(d, 1e-5, &dev);
        let gamma = 0.3 + 2.0 * rng.random::<f32>();
        let delta: Vec<f32> = (0..d).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect();
        ln.gamma = burn::module::Param::from_tensor(Tensor::from_data(TensorData::new(vec![gamma], [1]), &dev));
        ln.delta = burn::module::Param::from_tensor(Tensor::from_data(TensorData::new(delta, [d]), &dev));
        let values: Vec<f32> = (0..2 * 3 * d).map(|_| rng.random::<f32>() * 4.0 - 2.0).collect();
        let x = Tensor::<3>::from_data(TensorData::new(values, [2, 3, d]), &dev).require_grad();
        let grads = ln.lagrangian(x.clone()).sum().backward();
        let auto = to_vec(x.grad(&grads).unwrap());
        let explicit = to_vec(ln.activation(x.detach()));
        close(&auto, &explicit, 1e-4, &format!("layer norm γ = {gamma}, D = {d}"));
    }
}
