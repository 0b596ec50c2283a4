//! The image model: the official configuration's size, patch order, shapes, masks and the loss.

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use hopfield::et::{masked_patch_mse, Descent, EtConfig, ImageEtConfig, MaskSpec, Observe};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap()
}

fn small() -> ImageEtConfig {
    ImageEtConfig::new((2, 8, 12), 4, EtConfig::new(16, 2, 4, 24))
}

#[test]
fn the_official_configuration_has_4_873_729_parameters() {
    let cfg = ImageEtConfig::official();
    assert_eq!((cfg.patches(), cfg.patch_elements()), (196, 768));
    let model = cfg.init(0, &Device::flex()).unwrap();
    assert_eq!(model.num_params(), 4_873_729);
}

#[test]
fn patches_are_flattened_in_c_h_w_order_and_unpatchify_inverts() {
    let dev = Device::flex();
    let model = small().init(1, &dev).unwrap();
    let (c, h, w, p) = (2usize, 8usize, 12usize, 4usize);
    let v: Vec<f32> = (0..c * h * w).map(|i| i as f32).collect();
    let img = Tensor::<4>::from_data(TensorData::new(v.clone(), [1, c, h, w]), &dev);
    let patches = model.patchify(img.clone());
    assert_eq!(patches.dims(), [1, 6, 32]);
    let pv = to_vec(patches.clone());
    // Patch k = (row kh, column kw), element (ch, y, x) ↔ pixel (ch, kh·p + y, kw·p + x).
    for k in 0..6 {
        let (kh, kw) = (k / 3, k % 3);
        for ch in 0..c {
            for y in 0..p {
                for x in 0..p {
                    let want = v[ch * h * w + (kh * p + y) * w + kw * p + x];
                    assert_eq!(pv[k * 32 + ch * 16 + y * 4 + x], want, "patch {k} ({ch},{y},{x})");
                }
            }
        }
    }
    assert_eq!(to_vec(model.unpatchify(patches)), v);
}

#[test]
fn forward_shapes_steps_and_errors() {
    let dev = Device::flex();
    let model = small().init(2, &dev).unwrap();
    let img = Tensor::<4>::ones([3, 2, 8, 12], &dev);
    let spec = MaskSpec { masked: 3, replaced_share: 2.0 / 3.0 };
    let (scored, replaced) = spec.sample(&mut ChaCha8Rng::seed_from_u64(0), 3, 6);
    assert_eq!(scored.iter().sum::<f32>(), 9.0);
    assert_eq!(replaced.iter().sum::<f32>(), 6.0);
    assert!(scored.iter().zip(&replaced).all(|(s, r)| *s >= *r), "replaced patches are a subset of the scored ones");
    let replaced = Tensor::<2>::from_data(TensorData::new(replaced, [3, 6]), &dev);
    let r = model.forward(img.clone(), replaced.clone(), &Descent::new(4, 0.1), Observe::Energy).unwrap();
    assert_eq!(r.patches.dims(), [3, 6, 32]);
    assert_eq!(r.energy.len(), 5);
    let r0 = model.forward(img.clone(), replaced.clone(), &Descent::new(0, 0.1), Observe::Energy).unwrap();
    assert_eq!(r0.patches.dims(), [3, 6, 32]);
    assert!(r0.energy.is_empty());
    let e = model
        .forward(Tensor::<4>::ones([3, 1, 8, 12], &dev), replaced.clone(), &Descent::new(1, 0.1), Observe::Nothing)
        .unwrap_err();
    assert!(e.to_string().contains("[3, 1, 8, 12]"), "{e}");
    let e = model
        .forward(img.clone(), Tensor::<2>::ones([3, 5], &dev), &Descent::new(1, 0.1), Observe::Nothing)
        .unwrap_err();
    assert!(e.to_string().contains("[3, 6]"), "{e}");
    let e = model.forward(img, replaced, &Descent::new(2, 0.0), Observe::Nothing).unwrap_err();
    assert!(e.to_string().contains("alpha = 0"), "{e}");
}

#[test]
fn bad_configurations_and_masks_are_errors() {
    let e = ImageEtConfig::new((1, 28, 28), 5, EtConfig::new(16, 2, 4, 24)).validate().unwrap_err().to_string();
    assert!(e.contains("height 28 and width 28") && e.contains("got 5"), "{e}");
    for f in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
        let e = MaskSpec::from_fraction(f, 16, 0.9).unwrap_err().to_string();
        assert!(e.contains("mask-fraction"), "{e}");
    }
    assert_eq!(MaskSpec::from_fraction(0.5, 16, 0.9).unwrap().masked, 8);
    assert!(MaskSpec::from_fraction(0.5, 16, 1.5).is_err());
}

#[test]
fn masked_patch_mse_counts_only_scored_patches() {
    let dev = Device::flex();
    let pred =
        Tensor::<3>::from_data(TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], [1, 4, 2]), &dev);
    let target = Tensor::<3>::zeros([1, 4, 2], &dev);
    let scored = Tensor::<2>::from_data(TensorData::new(vec![0.0f32, 1.0, 0.0, 1.0], [1, 4]), &dev);
    // Patches 1 and 4: (9 + 16 + 49 + 64) / 4 = 34.5.
    assert_eq!(to_vec(masked_patch_mse(pred, target, scored)), vec![34.5]);
}

#[test]
fn the_trajectory_ends_where_forward_ends_and_its_energy_falls() {
    let dev = Device::flex();
    let model = small().init(3, &dev).unwrap();
    let img = Tensor::<4>::from_data(
        TensorData::new(
            (0..2 * 2 * 8 * 12).map(|i| ((i * 37 % 23) as f32) / 11.0 - 1.0).collect::<Vec<_>>(),
            [2, 2, 8, 12],
        ),
        &dev,
    );
    let replaced =
        Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 0., 0., 1., 0., 0., 0., 1., 0., 0., 0., 0.], [2, 6]), &dev);
    let (decoded, energy) = model.trajectory(img.clone(), replaced.clone(), &Descent::new(5, 0.1)).unwrap();
    assert_eq!((decoded.len(), energy.len()), (6, 6));
    let fwd = model.forward(img, replaced, &Descent::new(5, 0.1), Observe::Energy).unwrap();
    let (a, b) = (to_vec(decoded[5].clone()), to_vec(fwd.patches));
    assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-5));
    let e: Vec<Vec<f32>> = energy.into_iter().map(to_vec).collect();
    for t in 0..5 {
        for ex in 0..2 {
            assert!(e[t + 1][ex] <= e[t][ex] + 1e-5 * e[t][ex].abs().max(1.0), "step {t}: {:?}", e);
            assert!((e[t][ex] - to_vec(fwd.energy[t].clone())[ex]).abs() < 1e-4 * e[t][ex].abs().max(1.0));
        }
    }
}
