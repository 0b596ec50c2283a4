//! The Dense Associative Memory classifier (Krotov & Hopfield 2016): trained through the library's
//! protocol (metrics.csv, a checkpoint after every epoch, its pictures), then predicting.

use std::path::PathBuf;

use hopfield::dam::DamClassifier;
use hopfield_train::experiments::{dam as protocol, RunFiles};
use hopfield_train::tasks::dam_classifier::{load_dam, save_dam, DamMeta, DamTrainConfig};
use numpy::PyArrayDyn;
use pyo3::prelude::*;

use crate::arrays::out;
use crate::config::{json, merged};
use crate::errors::{math, train, value};
use crate::watch::{py_value, Watch};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<DamModel>()?;
    m.add_function(wrap_pyfunction!(dam_defaults, m)?)?;
    Ok(())
}

/// The classifier's default settings as JSON (those of `hopfield dam train`).
#[pyfunction]
fn dam_defaults() -> PyResult<String> {
    json(&DamTrainConfig::default())
}

/// A trained or loaded DAM classifier (native part; see `hopfield.DamClassifier`).
#[pyclass(module = "hopfield._native", frozen)]
pub struct DamModel {
    dam: DamClassifier<f32>,
    meta: DamMeta,
}

impl DamModel {
    /// Visible states 2·x − 1 from images [B, …] in [0, 1] of the model's N pixels.
    fn states(&self, x: &Bound<'_, PyAny>) -> PyResult<(usize, Vec<f32>)> {
        let a = crate::arrays::pixels("x", x)?;
        let n = self.dam.visible;
        let per: usize = a.shape.iter().skip(1).product();
        if a.shape.len() < 2 || per != n {
            return Err(value(
                "x",
                format!(
                    "expected shape (B, {n}) or (B, C, H, W) with C·H·W = {n}, got {}",
                    crate::arrays::show(&a.shape)
                ),
            ));
        }
        Ok((a.shape[0], a.data.iter().map(|p| 2.0 * p - 1.0).collect()))
    }
}

#[pymethods]
impl DamModel {
    /// Trains on `arrays` (x, y, x_test, y_test) or the data set `data` (a name or path), tested
    /// after every epoch, writing into `out`.
    #[staticmethod]
    #[pyo3(signature = (config, out_dir, arrays=None, data=None, data_dir=None, callback=None))]
    #[allow(clippy::type_complexity)]
    fn fit(
        py: Python<'_>,
        config: &str,
        out_dir: PathBuf,
        arrays: Option<(Bound<'_, PyAny>, Bound<'_, PyAny>, Bound<'_, PyAny>, Bound<'_, PyAny>)>,
        data: Option<String>,
        data_dir: Option<PathBuf>,
        callback: Option<Py<PyAny>>,
    ) -> PyResult<(DamModel, Py<PyAny>)> {
        let cfg: DamTrainConfig = merged(&DamTrainConfig::default(), config, "DAM settings")?;
        let data = crate::data::image_data(py, arrays, data, data_dir)?;
        let (train_set, test_set) = (&data.train, &data.test);
        if (train_set.channels(), train_set.height(), train_set.width())
            != (test_set.channels(), test_set.height(), test_set.width())
        {
            return Err(value("x_test", "its images have another shape than x's"));
        }
        let files = RunFiles { dir: out_dir.clone(), checkpoint: out_dir.join("checkpoint") };
        let watch = Watch::new(callback);
        let report = watch.run(py, |w| protocol::run(&cfg, &data, &files, None, w))?;
        let (dam, meta) = load_dam(&files.checkpoint).map_err(train)?;
        if dam.memories != report.dam.memories {
            return Err(value("checkpoint", "the checkpoint written differs from the trained memories"));
        }
        let history = py_value(py, &report.history)?.unbind();
        Ok((DamModel { dam, meta }, history))
    }

    /// Reads a checkpoint folder written by `hopfield dam train`, `fit` or `save`.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<DamModel> {
        let (dam, meta) = py.detach(|| load_dam(&path)).map_err(train)?;
        Ok(DamModel { dam, meta })
    }

    /// Writes memories.npy and config.json into the folder `path` (replacing a checkpoint there).
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| save_dam(&path, &self.dam, &self.meta, None)).map_err(train)
    }

    fn predict<'py>(&self, py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArrayDyn<i64>>> {
        let (b, v) = self.states(x)?;
        let p = py.detach(|| self.dam.predict(&v)).map_err(math)?;
        out(py, &[b], p.into_iter().map(|c| c as i64).collect())
    }

    /// The class neurons' outputs c_α after one update, [B, C].
    fn outputs<'py>(&self, py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
        let (b, v) = self.states(x)?;
        let o = py.detach(|| self.dam.outputs(&v)).map_err(math)?;
        out(py, &[b, self.dam.classes], o)
    }

    /// ξ: [K, N + C], the visible part then the class part of each memory.
    fn memories<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
        out(py, &[self.dam.count(), self.dam.visible + self.dam.classes], self.dam.memories.clone())
    }

    #[getter]
    fn visible(&self) -> usize {
        self.dam.visible
    }
    #[getter]
    fn classes(&self) -> usize {
        self.dam.classes
    }
    #[getter]
    fn image(&self) -> (usize, usize, usize) {
        self.meta.image
    }
    #[getter]
    fn epoch(&self) -> usize {
        self.meta.epoch
    }
    #[getter]
    fn config(&self) -> PyResult<String> {
        json(&self.meta.train)
    }
}
