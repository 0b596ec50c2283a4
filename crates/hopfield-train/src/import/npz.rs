//! Weights of the official image Energy Transformer (bhoov/energy-transformer-jax, a `.npz` with
//! the keys of its `load_checkpoint`) into this project's model and checkpoint format.
//!
//! Keys and shapes: `Wk`, `Wq` (H, Y, D); `Xi` (D, M), stored here transposed as ξ [M, D];
//! `Wenc` (C·p·p, D); `Benc` (D); `Wdec` (D, C·p·p); `Bdec` (C·p·p); `POS_embed` (N + 1, D);
//! `CLS_token` (D); `MASK_token` (D); `LNORM_gamma` (a scalar); `LNORM_bias` (D). Every key is
//! checked for presence, shape and finite values; a problem is an error naming the key.
//!
//! The official pipeline, which the imported checkpoint reproduces: per-channel normalisation
//! with the ImageNet mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225) (of pixels in
//! [0, 1]; the official code writes both ×255 on 0–255 pixels, the same map), β = 1/√Y,
//! self-attention allowed, T = 12 steps of α = 0.1, 100 of the 196 patches masked, all of them
//! replaced by the MASK token, CLS at position 0, LN twice before decoding.

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};
use hopfield::et::{Descent, EtConfig, ImageEnergyTransformer, ImageEtConfig, ImageParam};
use hopfield_data::npy::{read_npz_only, Array};

use crate::error::{invalid, Result};
use hopfield_data::batch::Normalization;

use crate::checkpoint::with_stable_ids;
use crate::tasks::masked_image::checkpoint::CheckpointMeta;
use crate::tasks::masked_image::EtTrainConfig;

/// How to run the imported weights; [`ImportOptions::official`] is the official image pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOptions {
    /// C, H, W of the images the weights were trained on.
    pub image: (usize, usize, usize),
    /// Patch side.
    pub patch: usize,
    /// T and α used by evaluation and reconstruction.
    pub descent: Descent,
    /// Patches masked per image at evaluation.
    pub masked: usize,
    /// Per-channel normalisation of pixels in [0, 1].
    pub normalization: Normalization,
}

impl ImportOptions {
    /// 3×224×224, patch 16, T = 12, α = 0.1, 100 masked patches, ImageNet normalisation.
    pub fn official() -> Self {
        ImportOptions {
            image: (3, 224, 224),
            patch: 16,
            descent: Descent::new(12, 0.1),
            masked: 100,
            normalization: Normalization { mean: vec![0.485, 0.456, 0.406], std: vec![0.229, 0.224, 0.225] },
        }
    }
}

/// What [`import_npz`] read.
pub struct Imported {
    /// The model, on the plain device.
    pub model: ImageEnergyTransformer,
    /// Its checkpoint record (epoch 0, no data set).
    pub meta: CheckpointMeta,
    /// Arrays in the file that the model does not use.
    pub ignored: Vec<String>,
}

fn bad(path: &Path, key: &str, problem: impl std::fmt::Display) -> crate::error::TrainError {
    invalid("npz", format!("{}[{key}]", path.display()), problem)
}

/// The model configuration an official file's arrays give with `opts`' image and patch: every
/// key present, every value finite, every shape the one [`ImageEtConfig::parameters`] declares.
fn checked_config(path: &Path, arrays: &BTreeMap<String, Array>, opts: &ImportOptions) -> Result<ImageEtConfig> {
    // The keys from the model's parameter table (its sizes do not matter for the names).
    let keys: Vec<&str> = ImageEtConfig::official().parameters().iter().map(|p| p.official).collect();
    for key in keys {
        if !arrays.contains_key(key) {
            let found: Vec<&str> = arrays.keys().map(String::as_str).collect();
            return Err(bad(path, key, format!("the key is missing (the file holds {found:?})")));
        }
    }
    for (key, a) in arrays {
        if let Some(v) = a.data.iter().find(|v| !v.is_finite()) {
            return Err(bad(path, key, format!("holds a non-finite value ({v})")));
        }
    }
    let dims = |key: &str| arrays[key].shape.clone();
    let wk = dims("Wk");
    let [h, y, d] = wk[..] else {
        return Err(bad(path, "Wk", format!("shape {wk:?}, expected (H, Y, D)")));
    };
    let xi = dims("Xi");
    let [_, m] = xi[..] else {
        return Err(bad(path, "Xi", format!("shape {xi:?}, expected (D = {d}, M)")));
    };
    let (c, ih, iw) = opts.image;
    let model_cfg = ImageEtConfig::new(opts.image, opts.patch, EtConfig::new(d, h, y, m));
    model_cfg.validate()?;
    let n = model_cfg.patches();
    for ImageParam { official: key, official_shape: want, symbols: what, .. } in model_cfg.parameters() {
        let got = dims(key);
        let scalar_ok = want.is_empty() && got.iter().product::<usize>() == 1;
        if got != want && !scalar_ok {
            return Err(bad(
                path,
                key,
                format!(
                    "shape {got:?}, expected {want:?} = {what} for H = {h}, Y = {y}, D = {d}, M = {m} and \
                     {c}×{ih}×{iw} images in {n} patches of {}×{}",
                    opts.patch, opts.patch
                ),
            ));
        }
    }
    Ok(model_cfg)
}

/// The model of `cfg` holding the (checked) official arrays, each taken out of `arrays`.
fn model_from(
    cfg: &ImageEtConfig,
    arrays: &mut BTreeMap<String, Array>,
    device: &Device,
) -> Result<ImageEnergyTransformer> {
    let (h, y, d, m) = (cfg.et.heads, cfg.et.head_dim, cfg.et.dim, cfg.et.memories);
    let (p, n) = (cfg.patch_elements(), cfg.patches());
    let mut take = |key: &str| arrays.remove(key).expect("checked above").data;
    let t1 = |v: Vec<f32>| {
        let len = v.len();
        Param::from_tensor(Tensor::<1>::from_data(TensorData::new(v, [len]), device))
    };
    let t2 = |v: Vec<f32>, s: [usize; 2]| Param::from_tensor(Tensor::<2>::from_data(TensorData::new(v, s), device));
    let t3 = |v: Vec<f32>, s: [usize; 3]| Param::from_tensor(Tensor::<3>::from_data(TensorData::new(v, s), device));
    let mut model = cfg.init(0, device)?;
    model.et.attention.wk = t3(take("Wk"), [h, y, d]);
    model.et.attention.wq = t3(take("Wq"), [h, y, d]);
    // Official Xi is (D, M); here ξ is [M, D].
    let xi_dm = take("Xi");
    let mut xi_md = vec![0f32; m * d];
    for (i, row) in xi_dm.chunks(m).enumerate() {
        for (j, v) in row.iter().enumerate() {
            xi_md[j * d + i] = *v;
        }
    }
    model.et.hopfield.xi = t2(xi_md, [m, d]);
    model.encoder_weight = t2(take("Wenc"), [p, d]);
    model.encoder_bias = t1(take("Benc"));
    model.decoder_weight = t2(take("Wdec"), [d, p]);
    model.decoder_bias = t1(take("Bdec"));
    model.pos_embed = t2(take("POS_embed"), [n + 1, d]);
    model.cls_token = t1(take("CLS_token"));
    model.mask_token = t1(take("MASK_token"));
    model.et.norm.gamma = t1(take("LNORM_gamma"));
    model.et.norm.delta = t1(take("LNORM_bias"));
    Ok(model)
}

/// Reads an official `.npz` and builds the model and its checkpoint record.
pub fn import_npz(path: &Path, opts: &ImportOptions, device: &Device) -> Result<Imported> {
    // Only the model's arrays are inflated; the others are named as ignored.
    let keys: Vec<&str> = ImageEtConfig::official().parameters().iter().map(|p| p.official).collect();
    let (mut arrays, ignored) = read_npz_only(path, &|name| keys.contains(&name))?;
    let model_cfg = checked_config(path, &arrays, opts)?;
    let model = model_from(&model_cfg, &mut arrays, device)?;
    let (c, n) = (opts.image.0, model_cfg.patches());

    // The same check a checkpoint's normalisation gets on load.
    opts.normalization.check(c).map_err(|problem| {
        invalid(
            "normalization",
            format!("mean {:?}, std {:?}", opts.normalization.mean, opts.normalization.std),
            problem,
        )
    })?;
    if opts.masked == 0 || opts.masked >= n {
        return Err(invalid("masked", opts.masked, format!("between 1 and {} (the image has {n} patches)", n - 1)));
    }
    let mut train = EtTrainConfig::new(ImageEtConfig { descent: opts.descent, ..model_cfg });
    train.mask_fraction = opts.masked as f64 / n as f64;
    train.replaced_share = 1.0;
    let spec = train.validate()?;
    if spec.masked != opts.masked {
        return Err(invalid("masked", opts.masked, format!("between 1 and {} (the patches per image)", n - 1)));
    }
    let meta = CheckpointMeta::new(&train, &opts.normalization, 0, "");
    Ok(Imported { model: with_stable_ids(model), meta, ignored })
}
