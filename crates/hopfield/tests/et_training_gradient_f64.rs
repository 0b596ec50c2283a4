//! The training gradient — backpropagation through the T unrolled descent steps, the encoder,
//! the decoder and the masked-patch loss — against central finite differences of the loss, in
//! f64, for entries of every kind of parameter. (Its own test binary: the Flex device is
//! configured for f64 before any tensor exists.)

mod common;

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};
use common::{device, to_vec};
use hopfield::et::{masked_patch_mse, Descent, EtConfig, ImageEnergyTransformer, ImageEtConfig, Observe};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The loss of `model` on fixed images and masks.
fn loss(
    model: &ImageEnergyTransformer,
    images: &[f64],
    masks: (&[f64], &[f64]),
    descent: &Descent,
    dev: &Device,
) -> Tensor<1> {
    let x = Tensor::<4>::from_data(TensorData::new(images.to_vec(), [2, 1, 4, 4]), dev);
    let scored = Tensor::<2>::from_data(TensorData::new(masks.0.to_vec(), [2, 4]), dev);
    let replaced = Tensor::<2>::from_data(TensorData::new(masks.1.to_vec(), [2, 4]), dev);
    let target = model.patchify(x.clone());
    let pred = model.forward(x, replaced, descent, Observe::Nothing).unwrap().patches;
    masked_patch_mse(pred, target, scored)
}

/// Sets entry `i` of a parameter to `v`.
fn set<const D: usize>(p: &mut Param<Tensor<D>>, i: usize, v: f64, dev: &Device) {
    let shape = p.dims();
    let mut values = to_vec(p.val());
    values[i] = v;
    *p = Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), dev));
}

#[test]
fn backpropagation_through_the_steps_matches_finite_differences() {
    let dev = device();
    let ad = dev.clone().autodiff();
    let mut c = ImageEtConfig::new((1, 4, 4), 2, EtConfig::new(6, 2, 3, 5));
    c.embed_std = 0.3;
    c.linear_std = 0.5;
    let descent = Descent::new(3, 0.2);
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let images: Vec<f64> = (0..32).map(|_| rng.random::<f64>() * 2.0 - 1.0).collect();
    let scored = [1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0];
    let replaced = [1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0];
    // Autodiff on the autodiff twin of the same f64 device; the same seed gives the same weights.
    let model_ad = c.init(4, &ad).unwrap();
    let grads = loss(&model_ad, &images, (&scored, &replaced), &descent, &ad).backward();
    let g = |p: Tensor<2>| to_vec(p.grad(&grads).unwrap());
    let g3 = |p: Tensor<3>| to_vec(p.grad(&grads).unwrap());
    let g1 = |p: Tensor<1>| to_vec(p.grad(&grads).unwrap());
    let autodiff: Vec<(&str, Vec<f64>)> = vec![
        ("wq", g3(model_ad.et.attention.wq.val())),
        ("wk", g3(model_ad.et.attention.wk.val())),
        ("xi", g(model_ad.et.hopfield.xi.val())),
        ("gamma", g1(model_ad.et.norm.gamma.val())),
        ("delta", g1(model_ad.et.norm.delta.val())),
        ("encoder_weight", g(model_ad.encoder_weight.val())),
        ("decoder_weight", g(model_ad.decoder_weight.val())),
        ("pos_embed", g(model_ad.pos_embed.val())),
        ("mask_token", g1(model_ad.mask_token.val())),
    ];
    let base = c.init(4, &dev).unwrap();
    let h = 1e-6;
    for (name, grad) in &autodiff {
        let scale = grad.iter().fold(1e-3f64, |a, v| a.max(v.abs()));
        let picks: Vec<usize> = (0..4).map(|_| rng.random_range(0..grad.len())).collect();
        for &i in &picks {
            let eval = |delta: f64| {
                let mut m = c.init(4, &dev).unwrap();
                match *name {
                    "wq" => set(&mut m.et.attention.wq, i, to_vec(base.et.attention.wq.val())[i] + delta, &dev),
                    "wk" => set(&mut m.et.attention.wk, i, to_vec(base.et.attention.wk.val())[i] + delta, &dev),
                    "xi" => set(&mut m.et.hopfield.xi, i, to_vec(base.et.hopfield.xi.val())[i] + delta, &dev),
                    "gamma" => set(&mut m.et.norm.gamma, i, to_vec(base.et.norm.gamma.val())[i] + delta, &dev),
                    "delta" => set(&mut m.et.norm.delta, i, to_vec(base.et.norm.delta.val())[i] + delta, &dev),
                    "encoder_weight" => {
                        set(&mut m.encoder_weight, i, to_vec(base.encoder_weight.val())[i] + delta, &dev)
                    }
                    "decoder_weight" => {
                        set(&mut m.decoder_weight, i, to_vec(base.decoder_weight.val())[i] + delta, &dev)
                    }
                    "pos_embed" => set(&mut m.pos_embed, i, to_vec(base.pos_embed.val())[i] + delta, &dev),
                    _ => set(&mut m.mask_token, i, to_vec(base.mask_token.val())[i] + delta, &dev),
                }
                to_vec(loss(&m, &images, (&scored, &replaced), &descent, &dev))[0]
            };
            let fd = (eval(h) - eval(-h)) / (2.0 * h);
            let err = (fd - grad[i]).abs() / scale;
            assert!(err < 1e-6, "{name}[{i}]: autodiff {} vs finite difference {fd} (relative {err:e})", grad[i]);
        }
    }
}
