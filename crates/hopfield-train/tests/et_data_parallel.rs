//! Data-parallel training of the image Energy Transformer through burn-train's multi-device step:
//! several workers on the CPU, each with a share of every batch, end an epoch on the weights of one
//! device with the whole batch.

use std::path::Path;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};
use hopfield::et::{EtConfig, ImageEnergyTransformer, ImageEtConfig};
use hopfield_data::{Builtin, DataSource, Dataset, Split};
use hopfield_train::parallel::{DataParallel, Shard};
use hopfield_train::tasks::masked_image::{EpochMetrics, EtTrainConfig, MaskedImage};
use hopfield_train::trainer::Trainer;

fn mnist(split: Split, n: usize) -> Dataset {
    hopfield_data::load(&DataSource::Builtin(Builtin::MnistSample), split, Path::new("/none"))
        .unwrap()
        .first(n)
        .unwrap()
}

fn config() -> EtTrainConfig {
    let model = ImageEtConfig::new((1, 28, 28), 7, EtConfig::new(32, 2, 16, 64));
    let mut c = EtTrainConfig::new(model);
    c.epochs = 1;
    c.batch_size = 32; // 200 images: 6 full steps and one of 8
    c.lr = 4e-3;
    c.warmup = 2;
    c.model.descent.steps = 4;
    c
}

/// Every parameter's values, in module order.
fn values(model: &ImageEnergyTransformer) -> Vec<Vec<f32>> {
    struct Collect(Vec<Vec<f32>>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
            self.0.push(p.val().into_data().try_into_vec_as::<f32>().unwrap());
        }
    }
    let mut c = Collect(Vec::new());
    model.visit(&mut c);
    c.0
}

/// Per parameter, the largest difference between two models' values relative to the parameter's
/// largest magnitude in `a`.
fn distances(a: &[Vec<f32>], b: &[Vec<f32>]) -> Vec<f64> {
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            let scale = x.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-12) as f64;
            x.iter().zip(y).fold(0f64, |m, (p, q)| m.max((p - q).abs() as f64)) / scale
        })
        .collect()
}

fn train(tr: &Dataset, te: &Dataset, cfg: &EtTrainConfig, workers: usize) -> (Vec<Vec<f32>>, EpochMetrics) {
    let dev = Device::flex();
    let task = MaskedImage::new(tr, te, cfg, "mnist-sample", &dev).unwrap().with_devices(&vec![dev; workers]).unwrap();
    let (model, m) = task.train(None, &Trainer::default(), |_| {}).unwrap();
    (values(&model), m[0])
}

#[test]
fn split_batches_on_several_devices_end_the_epoch_on_the_one_device_weights() {
    let (tr, te) = (mnist(Split::Train, 200), mnist(Split::Test, 16));
    let cfg = config();
    let initial = values(&cfg.model.init(cfg.seed, &Device::flex()).unwrap());
    let (one, m1) = train(&tr, &te, &cfg, 1);
    // How far training moved the least-moved parameter.
    let moved = distances(&one, &initial).into_iter().fold(f64::INFINITY, f64::min);
    // Two workers (16 + 16 images a step, 4 + 4 at the end) and three (11 + 11 + 10, 3 + 3 + 2:
    // unequal shares, so a wrong weighting of the shards' losses shows).
    for workers in [2, 3] {
        let (many, m) = train(&tr, &te, &cfg, workers);
        let d = distances(&one, &many).into_iter().fold(0.0, f64::max);
        eprintln!(
            "{workers} workers: weights differ by {d:.2e} of each parameter's scale (training moved each by at least {moved:.2e}); \
             train loss {} vs {}, test MSE {} vs {}",
            m.train_loss, m1.train_loss, m.eval.mse, m1.eval.mse
        );
        // The only difference is the order of f32 sums (each shard's sums, then the shards' sum),
        // ~1e-7 relative per gradient; AdamW divides by √v, so a gradient entry near zero can turn
        // that into a larger relative change of its update, but an update is at most ~lr = 4e-3.
        // 7 steps: measured ≤ 2e-6; 1e-4 leaves margin and is still 1/100 of what training moved.
        assert!(d < 1e-4, "{workers} workers: weights differ by {d:.3e}");
        assert!(moved > 100.0 * 1e-4, "training moved the weights by only {moved:.3e}");
        assert!((m.train_loss - m1.train_loss).abs() < 1e-5 * m1.train_loss, "{m:?} vs {m1:?}");
        assert!((m.eval.mse - m1.eval.mse).abs() < 1e-4 * m1.eval.mse, "{m:?} vs {m1:?}");
        // The shards are summed in device order, whichever worker finishes first: the same bits
        // every run (which exact resume needs).
        if workers == 3 {
            let (again, _) = train(&tr, &te, &cfg, workers);
            assert!(again == many, "two runs on {workers} workers differ");
        }
    }
}

#[test]
fn a_failing_shard_or_too_few_devices_is_an_error_naming_it() {
    let dev = Device::flex().autodiff();
    let e =
        DataParallel::<ImageEnergyTransformer>::new(std::slice::from_ref(&dev)).map(|_| ()).unwrap_err().to_string();
    assert!(e.contains("devices = 1") && e.contains("at least two"), "{e}");

    let cfg = config();
    let model = cfg.model.init(0, &dev).unwrap();
    let parallel = DataParallel::<ImageEnergyTransformer>::new(&[dev.clone(), dev.clone()]).unwrap();
    let good = Shard::<ImageEnergyTransformer> { index: 0, loss: Box::new(|m| Ok(values_sum(m))) };
    let bad = Shard::<ImageEnergyTransformer> {
        index: 1,
        loss: Box::new(|_| Err("images of 3×32×32, the model expects 1×28×28".into())),
    };
    let e = parallel.gradients(&model, vec![good, bad]).map(|_| ()).unwrap_err().to_string();
    assert!(e.contains("shard 1") && e.contains("3×32×32"), "{e}");

    // A worker that panics is caught by burn-train and reported, not propagated.
    let good = Shard::<ImageEnergyTransformer> { index: 0, loss: Box::new(|m| Ok(values_sum(m))) };
    let panics = Shard::<ImageEnergyTransformer> { index: 1, loss: Box::new(|_| panic!("out of device memory")) };
    let e = parallel.gradients(&model, vec![good, panics]).map(|_| ()).unwrap_err().to_string();
    assert!(e.contains("out of device memory") && e.contains("device 1"), "{e}");

    // More shards than devices.
    let shards = (0..3).map(|index| Shard::<ImageEnergyTransformer> { index, loss: Box::new(|m| Ok(values_sum(m))) });
    let e = parallel.gradients(&model, shards.collect()).map(|_| ()).unwrap_err().to_string();
    assert!(e.contains("shards = 3"), "{e}");

    // And the gradient of a loss summed over shards is the sum of the shards' gradients.
    let all = |index| Shard::<ImageEnergyTransformer> { index, loss: Box::new(|m| Ok(values_sum(m))) };
    let (grads, loss) = parallel.gradients(&model, vec![all(0), all(1)]).unwrap();
    let (_, one) = DataParallel::<ImageEnergyTransformer>::new(&[dev.clone(), dev.clone()])
        .unwrap()
        .gradients(&model, vec![all(0)])
        .unwrap();
    assert!((loss - 2.0 * one).abs() < 1e-4 * one.abs(), "{loss} vs 2 × {one}");
    let ones = grads.get::<2>(model.encoder_weight.id).expect("a gradient of the encoder weights");
    let g = ones.into_data().try_into_vec_as::<f32>().unwrap();
    assert!(g.iter().all(|v| (v - 2.0).abs() < 1e-6), "∂(Σ of two shards' Σw)/∂w = 2: {:?}", &g[..4]);
}

/// The sum of the encoder weights: a loss whose gradient is 1 in every entry of them.
fn values_sum(m: &ImageEnergyTransformer) -> Tensor<1> {
    m.encoder_weight.val().sum()
}
