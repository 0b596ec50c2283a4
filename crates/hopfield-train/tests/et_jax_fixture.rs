//! The Rust Energy Transformer against the JAX reference on committed numbers: a small model in the
//! official .npz layout and its outputs from `bench/et_jax.py` (the official code's structure:
//! `jax.value_and_grad` of the energy inside the forward pass), made once by
//! `bench/make_et_fixture.py` (tests/fixtures/et-jax-*.npz, 48 KB). The weights go through the
//! user's import (`import_npz`); the image model's forward pass must give JAX's decoded patches,
//! per-step energies and masked-patch loss — by the reference descent (energies recorded) and by
//! the fused path that inference and training take (head width 16: the AVX-512 kernels where the
//! CPU has them).

use std::path::Path;

use burn::tensor::{Device, Tensor, TensorData};
use hopfield::et::{masked_patch_mse, Descent, Observe};
use hopfield_data::batch::Normalization;
use hopfield_data::npy::read_npz;
use hopfield_train::import::npz::{import_npz, ImportOptions};

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap()
}

/// max |a − b| / max |b|.
fn relative(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0f64, |m, v| m.max(v.abs() as f64));
    a.iter().zip(b).fold(0f64, |m, (p, q)| m.max((*p as f64 - *q as f64).abs())) / scale
}

#[test]
fn the_image_model_gives_the_jax_reference_numbers() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let io = read_npz(&fixtures.join("et-jax-io.npz")).unwrap();
    let (images, masks, pred, energies, loss) =
        (&io["images"], &io["masks"], &io["pred"], &io["energies"], &io["loss"]);
    assert_eq!((images.shape.as_slice(), masks.shape.as_slice()), ([2, 3, 16, 16].as_slice(), [2, 16].as_slice()));
    assert_eq!((pred.shape.as_slice(), energies.shape.as_slice()), ([2, 16, 48].as_slice(), [2, 5].as_slice()));
    let dev = Device::flex();
    let descent = Descent::new(4, 0.1);
    // The inputs are already normalised: mean 0, std 1 leaves them as they are.
    let opts = ImportOptions {
        image: (3, 16, 16),
        patch: 4,
        descent,
        masked: 8,
        normalization: Normalization { mean: vec![0.0; 3], std: vec![1.0; 3] },
    };
    let imported = import_npz(&fixtures.join("et-jax-weights.npz"), &opts, &dev).unwrap();
    assert!(imported.ignored.is_empty(), "{:?}", imported.ignored);
    let model = imported.model;
    let x = Tensor::<4>::from_data(TensorData::new(images.data.clone(), [2, 3, 16, 16]), &dev);
    let replaced = Tensor::<2>::from_data(TensorData::new(masks.data.clone(), [2, 16]), &dev);
    let target = model.patchify(x.clone());

    // The reference descent, energies recorded.
    let r = model.forward(x.clone(), replaced.clone(), &descent, Observe::Energy).unwrap();
    let e: Vec<Vec<f32>> = r.energy.into_iter().map(to_vec).collect(); // [t][b]
    let ours: Vec<f32> = (0..2).flat_map(|b| e.iter().map(move |et| et[b])).collect();
    let (e_err, p_err) = (relative(&ours, &energies.data), relative(&to_vec(r.patches.clone()), &pred.data));
    let l = to_vec(masked_patch_mse(r.patches, target.clone(), replaced.clone()))[0];
    let l_err = ((l - loss.data[0]) / loss.data[0]).abs() as f64;
    println!("reference descent vs JAX: energies {e_err:.2e}, decoded patches {p_err:.2e}, loss {l_err:.2e}");
    assert!(e_err < 1e-6, "energies: {e_err:e} (ours {ours:?}, JAX {:?})", energies.data);
    assert!(p_err < 1e-6, "decoded patches: {p_err:e}");
    assert!(l_err < 1e-6, "loss {l} vs JAX {}: {l_err:e}", loss.data[0]);

    // The fused path (inference and training): no energies, the same patches and loss.
    let f = model.forward(x, replaced.clone(), &descent, Observe::Nothing).unwrap();
    let p_err = relative(&to_vec(f.patches.clone()), &pred.data);
    let l = to_vec(masked_patch_mse(f.patches, target, replaced))[0];
    let l_err = ((l - loss.data[0]) / loss.data[0]).abs() as f64;
    println!("fused descent vs JAX: decoded patches {p_err:.2e}, loss {l_err:.2e}");
    assert!(p_err < 1e-6, "fused decoded patches: {p_err:e}");
    assert!(l_err < 1e-6, "fused loss {l} vs JAX {}: {l_err:e}", loss.data[0]);
}
