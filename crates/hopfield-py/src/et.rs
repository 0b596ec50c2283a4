//! The image Energy Transformer: checkpoints (load, save, import of the official .npz), masked
//! reconstruction with the energy of every step, the descent on any tokens, evaluation with both
//! baselines, and training on a named data set or on arrays.

use std::path::PathBuf;

use burn::tensor::{Device, Tensor, TensorData};
use hopfield::et::{Descent, ImageEnergyTransformer, Observe, TokenMask};
use hopfield_data::batch::Normalization;
use hopfield_train::experiments::{et_image, ImageData, RunFiles};
use hopfield_train::import::npz::{import_npz, ImportOptions};
use hopfield_train::pictures::et::descent_arrays;
use hopfield_train::tasks::masked_image::checkpoint::{self, load_for_resume, CheckpointMeta};
use hopfield_train::tasks::masked_image::{default_patch, evaluate, mean_patches, EtTrainConfig};
use numpy::PyArrayDyn;
use pyo3::prelude::*;

use crate::arrays::{expect_shape, f32s, out, pixels, show, Array};
use crate::config::{json, merged};
use crate::errors::{math, train, value};
use crate::watch::{py_value, Watch};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ImageEt>()?;
    m.add_function(wrap_pyfunction!(et_defaults, m)?)?;
    m.add_function(wrap_pyfunction!(train_et, m)?)?;
    Ok(())
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap_or_default()
}

/// `hopfield et train`'s settings for images of `image` = (C, H, W), as JSON.
#[pyfunction]
#[pyo3(signature = (image=(1, 28, 28)))]
fn et_defaults(image: (usize, usize, usize)) -> PyResult<String> {
    json(&defaults(image))
}

fn defaults(image: (usize, usize, usize)) -> EtTrainConfig {
    let mut c = EtTrainConfig::default();
    c.model.image = image;
    c.model.patch = default_patch(image.1, image.2);
    c
}

/// An image Energy Transformer and its checkpoint's metadata (native part; see
/// `hopfield.EnergyTransformer`).
#[pyclass(module = "hopfield._native", unsendable)]
pub struct ImageEt {
    model: ImageEnergyTransformer,
    meta: CheckpointMeta,
}

impl ImageEt {
    /// Images [B, C, H, W] (or one [C, H, W]) in [0, 1], checked against the model and normalised.
    fn images(&self, images: &Bound<'_, PyAny>) -> PyResult<(usize, Tensor<4>)> {
        let mut a = pixels("images", images)?;
        let (c, h, w) = self.meta.train.model.image;
        if a.shape.len() == 3 {
            a.shape.insert(0, 1);
        }
        expect_shape("images", &a, &[None, Some(c), Some(h), Some(w)], "B, C, H, W")?;
        let Normalization { mean, std } = &self.meta.normalization;
        let hw = h * w;
        let values: Vec<f32> =
            a.data.iter().enumerate().map(|(j, p)| (p - mean[(j / hw) % c]) / std[(j / hw) % c]).collect();
        let b = a.shape[0];
        Ok((b, Tensor::<4>::from_data(TensorData::new(values, [b, c, h, w]), &Device::flex())))
    }

    /// The images, checked and normalised, and their masks ([B, N]): the given one, or drawn from
    /// `seed` as in training.
    fn masked(
        &self,
        images: &Bound<'_, PyAny>,
        mask: Option<&Bound<'_, PyAny>>,
        seed: u64,
    ) -> PyResult<(usize, Tensor<4>, Vec<f32>)> {
        let (b, x) = self.images(images)?;
        let n = self.model.patches();
        let replaced = match mask {
            Some(m) => patch_mask(&f32s("mask", m)?, b, n)?,
            None => self.meta.train.validate().map_err(train)?.from_seed(seed, b, n).1,
        };
        Ok((b, x, replaced))
    }

    fn descent(&self, steps: Option<usize>, step_size: Option<f64>) -> Descent {
        let d = self.meta.train.model.descent;
        Descent::new(steps.unwrap_or(d.steps), step_size.unwrap_or(d.step_size))
    }
}

/// A 0/1 mask of `n` per image for `b` images: given as [N] (every image) or [B, N].
fn patch_mask(mask: &Array<f32>, b: usize, n: usize) -> PyResult<Vec<f32>> {
    if let Some(i) = mask.data.iter().position(|&v| v != 0.0 && v != 1.0) {
        return Err(value(
            "mask",
            format!("{} at index {}; a mask holds only 0 and 1", mask.data[i], crate::arrays::position(&mask.shape, i)),
        ));
    }
    match mask.shape[..] {
        [k] if k == n => Ok((0..b).flat_map(|_| mask.data.iter().copied()).collect()),
        [bb, k] if bb == b && k == n => Ok(mask.data.clone()),
        _ => Err(value(
            "mask",
            format!("expected shape ({n},) or ({b}, {n}) (0/1 per patch), got {}", show(&mask.shape)),
        )),
    }
}

#[pymethods]
impl ImageEt {
    /// Reads a checkpoint folder written by `hopfield et train`, `et import` or `save`.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<ImageEt> {
        let (model, meta) = py.detach(|| checkpoint::load(&path, &Device::flex())).map_err(train)?;
        Ok(ImageEt { model, meta })
    }

    /// Imports the official JAX model's weights from a .npz: (model, the keys not used).
    #[staticmethod]
    #[pyo3(signature = (path, image, patch, steps, step_size, masked, mean, std))]
    #[allow(clippy::too_many_arguments)]
    fn import_npz(
        py: Python<'_>,
        path: PathBuf,
        image: (usize, usize, usize),
        patch: usize,
        steps: usize,
        step_size: f64,
        masked: usize,
        mean: Vec<f32>,
        std: Vec<f32>,
    ) -> PyResult<(ImageEt, Vec<String>)> {
        let opts = ImportOptions {
            image,
            patch,
            descent: Descent::new(steps, step_size),
            masked,
            normalization: Normalization { mean, std },
        };
        let imported = py.detach(|| import_npz(&path, &opts, &Device::flex())).map_err(train)?;
        Ok((ImageEt { model: imported.model, meta: imported.meta }, imported.ignored))
    }

    /// Writes the checkpoint folder `path` (model.safetensors, config.json).
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| checkpoint::save(&path, &self.model, &self.meta, None)).map_err(train)
    }

    /// The training settings as JSON (model sizes, T, α, masking, optimiser).
    #[getter]
    fn config(&self) -> PyResult<String> {
        json(&self.meta.train)
    }
    #[getter]
    fn data(&self) -> String {
        self.meta.data.clone()
    }
    #[getter]
    fn epoch(&self) -> usize {
        self.meta.epoch
    }
    #[getter]
    fn normalization(&self) -> (Vec<f32>, Vec<f32>) {
        (self.meta.normalization.mean.clone(), self.meta.normalization.std.clone())
    }
    #[getter]
    fn patches(&self) -> usize {
        self.model.patches()
    }
    #[getter]
    fn dim(&self) -> usize {
        self.meta.train.model.et.dim
    }

    /// (reconstruction [B, C, H, W], energies [B, T + 1], input [B, C, H, W], mask [B, N]); the
    /// images and the reconstruction in the model's normalised space.
    #[pyo3(signature = (images, mask=None, seed=0, steps=None, step_size=None))]
    #[allow(clippy::type_complexity)]
    fn reconstruct<'py>(
        &self,
        py: Python<'py>,
        images: &Bound<'py, PyAny>,
        mask: Option<&Bound<'py, PyAny>>,
        seed: u64,
        steps: Option<usize>,
        step_size: Option<f64>,
    ) -> PyResult<(
        Bound<'py, PyArrayDyn<f32>>,
        Bound<'py, PyArrayDyn<f32>>,
        Bound<'py, PyArrayDyn<f32>>,
        Bound<'py, PyArrayDyn<f32>>,
    )> {
        let (b, x, replaced) = self.masked(images, mask, seed)?;
        let n = self.model.patches();
        let descent = self.descent(steps, step_size);
        descent.validate().map_err(math)?;
        let r = py.detach(|| descent_arrays(&self.model, x, &replaced, &descent, &Device::flex())).map_err(train)?;
        let (c, h, w) = self.meta.train.model.image;
        Ok((
            out(py, &[b, c, h, w], r.reconstruction)?,
            out(py, &[b, descent.steps + 1], r.energies)?,
            out(py, &[b, c, h, w], r.input)?,
            out(py, &[b, n], replaced)?,
        ))
    }

    /// The model's inference, as training and `hopfield et bench` run it (the fast path, no
    /// energies recorded): the decoder's output after T steps, [B, C, H, W], normalised space.
    #[pyo3(signature = (images, mask=None, seed=0, steps=None, step_size=None))]
    fn forward<'py>(
        &self,
        py: Python<'py>,
        images: &Bound<'py, PyAny>,
        mask: Option<&Bound<'py, PyAny>>,
        seed: u64,
        steps: Option<usize>,
        step_size: Option<f64>,
    ) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
        let (b, x, replaced) = self.masked(images, mask, seed)?;
        let n = self.model.patches();
        let descent = self.descent(steps, step_size);
        let model = &self.model;
        let out_images = py
            .detach(|| {
                let replaced = Tensor::<2>::from_data(TensorData::new(replaced, [b, n]), &Device::flex());
                let r = model.forward(x, replaced, &descent, Observe::Nothing)?;
                Ok::<_, hopfield::Error>(to_vec(model.unpatchify(r.patches)))
            })
            .map_err(math)?;
        let (c, h, w) = self.meta.train.model.image;
        out(py, &[b, c, h, w], out_images)
    }

    /// The descent x ← x − α ∂E/∂g on tokens [B, N, D] (any N): (tokens after T steps, E(g(x_t))
    /// for t = 0..=T as [B, T + 1]). `real` [B, N] marks real tokens (1) and padding (0).
    #[pyo3(signature = (tokens, real=None, steps=None, step_size=None))]
    #[allow(clippy::type_complexity)]
    fn descend<'py>(
        &self,
        py: Python<'py>,
        tokens: &Bound<'py, PyAny>,
        real: Option<&Bound<'py, PyAny>>,
        steps: Option<usize>,
        step_size: Option<f64>,
    ) -> PyResult<(Bound<'py, PyArrayDyn<f32>>, Bound<'py, PyArrayDyn<f32>>)> {
        let t = f32s("tokens", tokens)?;
        let d = self.meta.train.model.et.dim;
        expect_shape("tokens", &t, &[None, None, Some(d)], "B, N, D")?;
        let (b, n) = (t.shape[0], t.shape[1]);
        let device = Device::flex();
        let mask = match real {
            Some(r) => {
                let r = f32s("real", r)?;
                expect_shape("real", &r, &[Some(b), Some(n)], "B, N")?;
                if let Some(i) = r.data.iter().position(|&v| v != 0.0 && v != 1.0) {
                    return Err(value("real", format!("{} at index {i}; 1 marks a real token, 0 padding", r.data[i])));
                }
                TokenMask { real: Some(Tensor::<2>::from_data(TensorData::new(r.data, [b, n]), &device)), pairs: None }
            }
            None => TokenMask::all(),
        };
        let descent = self.descent(steps, step_size);
        let x = Tensor::<3>::from_data(TensorData::new(t.data, [b, n, d]), &device);
        let et = &self.model.et;
        let r = py.detach(|| et.descend(x, &mask, &descent, Observe::Energy)).map_err(math)?;
        let e: Vec<Vec<f32>> = r.energy.into_iter().map(to_vec).collect();
        let energies = (0..b).flat_map(|i| e.iter().map(move |et| et[i])).collect();
        Ok((out(py, &[b, n, d], to_vec(r.x))?, out(py, &[b, descent.steps + 1], energies)?))
    }

    /// The test masked-patch MSE next to both baselines on the masks of `hopfield et eval`:
    /// {"mse", "mse_no_dynamics", "mse_mean_patch"}.
    #[pyo3(signature = (data=None, data_dir=None))]
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        data: Option<String>,
        data_dir: Option<PathBuf>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let source = match data {
            Some(d) => d,
            None if self.meta.data.is_empty() => {
                return Err(value("data", "this model names no data set (it was imported): pass data="))
            }
            None => self.meta.data.clone(),
        };
        let tr = crate::data::dataset(py, &source, "train", data_dir.clone())?;
        let te = crate::data::dataset(py, &source, "test", data_dir)?;
        let cfg = self.meta.train.clone();
        let (c, h, w) = cfg.model.image;
        if (te.channels(), te.height(), te.width()) != (c, h, w) {
            return Err(value(
                "data",
                format!(
                    "{source} holds {}×{}×{} images but the model takes {c}×{h}×{w}",
                    te.channels(),
                    te.height(),
                    te.width()
                ),
            ));
        }
        let spec = cfg.validate().map_err(train)?;
        let (model, norm) = (&self.model, &self.meta.normalization);
        let report = py
            .detach(|| {
                let device = Device::flex();
                let mean = mean_patches(model.patch, &tr, norm, &device);
                evaluate(model, &te, norm, &mean, &cfg, (spec, cfg.eval_seed()), &device)
            })
            .map_err(train)?;
        py_value(py, &report)
    }
}

/// Trains the image ET: on `data` (a data set's name or path) or on `arrays` (x, y, x_test,
/// y_test); writes metrics.csv, the pictures and the checkpoint (after every epoch) under `out_dir`.
/// Returns (the model read back from its checkpoint, the epochs' figures, the files written).
#[pyfunction]
#[pyo3(signature = (config, out_dir, data=None, arrays=None, checkpoint=None, resume=None, data_dir=None, callback=None))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn train_et(
    py: Python<'_>,
    config: &str,
    out_dir: PathBuf,
    data: Option<String>,
    arrays: Option<(Bound<'_, PyAny>, Bound<'_, PyAny>, Bound<'_, PyAny>, Bound<'_, PyAny>)>,
    checkpoint: Option<PathBuf>,
    resume: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    callback: Option<Py<PyAny>>,
) -> PyResult<(ImageEt, Py<PyAny>, Vec<PathBuf>)> {
    let device = Device::flex();
    let (resume, resumed_meta) = match &resume {
        Some(dir) => {
            let (r, m) = py.detach(|| load_for_resume(dir, &device)).map_err(train)?;
            (Some(r), Some(m))
        }
        None => (None, None),
    };
    let images = match (&arrays, &data) {
        (Some((x, y, xt, yt)), None) => ImageData {
            name: String::new(),
            train: crate::data::from_arrays("arrays", x, y)?,
            test: crate::data::from_arrays("arrays (test)", xt, yt)?,
        },
        (None, _) => {
            let name = data
                .clone()
                .or_else(|| resumed_meta.as_ref().map(|m| m.data.clone()).filter(|d| !d.is_empty()))
                .unwrap_or_else(|| "mnist-sample".into());
            ImageData {
                train: crate::data::dataset(py, &name, "train", data_dir.clone())?,
                test: crate::data::dataset(py, &name, "test", data_dir)?,
                name,
            }
        }
        (Some(_), Some(_)) => return Err(value("data", "give a data set or arrays, not both")),
    };
    let shape = (images.train.channels(), images.train.height(), images.train.width());
    let base = match &resumed_meta {
        Some(m) => m.train.clone(),
        None => defaults(shape),
    };
    let cfg: EtTrainConfig = merged(&base, config, "Energy Transformer settings")?;
    let files = RunFiles {
        checkpoint: checkpoint.or_else(|| resume.as_ref().and(None)).unwrap_or_else(|| out_dir.join("checkpoint")),
        dir: out_dir,
    };
    let watch = Watch::new(callback);
    let devices = [device.clone()];
    let report = watch.run(py, |w| et_image::run(&cfg, &images, &devices, &files, resume, w))?;
    let (model, meta) = py.detach(|| checkpoint::load(&files.checkpoint, &device)).map_err(train)?;
    let history = py_value(py, &report.metrics)?.unbind();
    Ok((ImageEt { model, meta }, history, report.files))
}
