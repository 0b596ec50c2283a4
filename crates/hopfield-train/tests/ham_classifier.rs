//! The two-layer HAM classifier: it learns MNIST digits through its dynamics, its energy falls along
//! the steps of the trained model, its forward pass is the HAM's dynamics written out by hand, and bad
//! settings are refused by value.

use std::path::Path;

use burn::tensor::activation::{relu, softmax};
use burn::tensor::{Device, Tensor, TensorData};
use hopfield_data::{Builtin, DataSource, Split};
use hopfield_train::tasks::ham_classifier::{test_error, train_ham, HamClassifier, HamConfig};
use hopfield_train::trainer::Trainer;

fn mnist(split: Split) -> hopfield_data::Dataset {
    hopfield_data::load(&DataSource::Builtin(Builtin::MnistSample), split, Path::new("/none")).unwrap()
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap()
}

#[test]
fn the_ham_learns_digits_and_its_energy_falls_along_the_steps() {
    let (train, test) = (mnist(Split::Train), mnist(Split::Test));
    let cfg = HamConfig { hidden: 100, epochs: 3, ..HamConfig::default() };
    let dev = Device::flex();
    let untrained = HamClassifier::new(784, 10, &cfg, &dev);
    let before = test_error(&untrained, &test, &dev).unwrap();
    let (model, history) = train_ham(&train, &test, &cfg, &dev, &Trainer::default(), |_| {}).unwrap();
    assert_eq!(history.len(), 3);
    let after = history[2].test_error;
    assert!(before > 0.7 && after < 0.2, "test error {before} before training, {after} after");
    assert_eq!(test_error(&model, &test, &dev).unwrap(), after);
    let images: Vec<f32> = (0..16).flat_map(|i| test.image(i)).collect();
    let (_, energies) = model.forward(Tensor::from_data(TensorData::new(images, [16, 784]), &dev)).unwrap();
    let traces: Vec<Vec<f32>> = energies.into_iter().map(to_vec).collect();
    for w in traces.windows(2) {
        for (a, b) in w[0].iter().zip(&w[1]) {
            assert!(b <= &(a + 1e-4 * a.abs().max(1.0)), "the energy rose: {a} → {b}");
        }
    }
}

#[test]
fn the_forward_pass_is_the_dynamics_written_out_by_hand() {
    let dev = Device::flex();
    let cfg = HamConfig { hidden: 7, steps: 4, step_size: 0.3, ..HamConfig::default() };
    let model = HamClassifier::new(12, 3, &cfg, &dev);
    let v = Tensor::<2>::from_data(
        TensorData::new((0..24).map(|i| (i % 5) as f32 / 5.0).collect::<Vec<_>>(), [2, 12]),
        &dev,
    );
    let (logits, _) = model.forward(v.clone()).unwrap();
    // x_h ← x_h − α(x_h − W₁ v − W₂ᵀ softmax(x_l)); x_l ← x_l − α(x_l − W₂ relu(x_h)), from the
    // states before the step, v fixed.
    let (w1, w2) = (model.w1.val(), model.w2.val());
    let (mut xh, mut xl) = (Tensor::<2>::zeros([2, 7], &dev), Tensor::<2>::zeros([2, 3], &dev));
    for _ in 0..4 {
        let gh = relu(xh.clone());
        let gl = softmax(xl.clone(), 1);
        let dh = xh.clone() - v.clone().matmul(w1.clone().transpose()) - gl.matmul(w2.clone());
        let dl = xl.clone() - gh.matmul(w2.clone().transpose());
        xh = xh - dh * 0.3;
        xl = xl - dl * 0.3;
    }
    for (a, b) in to_vec(logits).iter().zip(to_vec(xl)) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
}

#[test]
fn bad_settings_are_refused_by_value() {
    for (cfg, named) in [
        (HamConfig { hidden: 0, ..HamConfig::default() }, "hidden = 0"),
        (HamConfig { steps: 0, ..HamConfig::default() }, "steps = 0"),
        (HamConfig { step_size: 1.5, ..HamConfig::default() }, "step size = 1.5"),
        (HamConfig { step_size: 0.0, ..HamConfig::default() }, "step size = 0"),
        (HamConfig { lr: f64::NAN, ..HamConfig::default() }, "lr = NaN"),
        (HamConfig { hidden_softmax: Some(-1.0), ..HamConfig::default() }, "beta = -1"),
    ] {
        let e = cfg.validate().unwrap_err().to_string();
        assert!(e.contains(named), "{named}: {e}");
    }
}
