//! The memories of 2023–2025 (the log-sum-ReLU memory, the random-feature DAM and its exact Gaussian
//! DAM; the sparse transforms live on `ModernHopfield`), the sweeps of their claims, and the HAM
//! classifier.

use std::path::PathBuf;

use burn::tensor::{Device, Tensor, TensorData};
use hopfield::memory::{self as mem, Energy};
use hopfield_train::experiments::families::epanechnikov::{self, EpanechnikovConfig};
use hopfield_train::experiments::families::random_features::{self, DrdamConfig};
use hopfield_train::experiments::families::sparse::{self, SparseConfig};
use hopfield_train::experiments::ham;
use hopfield_train::tasks::ham_classifier::{HamClassifier, HamConfig};
use numpy::PyArrayDyn;
use pyo3::prelude::*;

use crate::arrays::{expect_shape, f64s, out};
use crate::config::merged;
use crate::errors::{math, train, value};
use crate::watch::{py_value, Watch};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<LogSumRelu>()?;
    m.add_class::<KernelDam>()?;
    m.add_class::<HamModel>()?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add_function(wrap_pyfunction!(ham_train, m)?)?;
    Ok(())
}

/// Two float64 arrays (a state and an energy trace, or logits and energies).
type Pair<'py> = (Bound<'py, PyArrayDyn<f64>>, Bound<'py, PyArrayDyn<f64>>);

/// One state [N] as f64s.
fn state(name: &str, obj: &Bound<'_, PyAny>, n: usize) -> PyResult<Vec<f64>> {
    let a = f64s(name, obj)?;
    expect_shape(name, &a, &[Some(n)], "N")?;
    Ok(a.data)
}

/// Patterns [K, N] as f64s and N.
fn patterns(obj: &Bound<'_, PyAny>) -> PyResult<(Vec<f64>, usize)> {
    let p = f64s("patterns", obj)?;
    expect_shape("patterns", &p, &[None, None], "K, N")?;
    let n = p.shape[1];
    Ok((p.data, n))
}

/// The log-sum-ReLU (Epanechnikov) memory (native part; see `hopfield.LogSumRelu`).
#[pyclass(module = "hopfield._native", frozen)]
pub struct LogSumRelu {
    inner: mem::LogSumRelu,
}

#[pymethods]
impl LogSumRelu {
    #[new]
    fn new(patterns_: &Bound<'_, PyAny>, width: f64, eps: f64) -> PyResult<Self> {
        let (p, n) = patterns(patterns_)?;
        Ok(LogSumRelu { inner: mem::LogSumRelu::with_width(p, n, width, eps).map_err(math)? })
    }

    #[getter]
    fn neurons(&self) -> usize {
        self.inner.neurons()
    }
    #[getter]
    fn memories(&self) -> usize {
        self.inner.memories()
    }
    #[getter]
    fn width(&self) -> f64 {
        self.inner.width()
    }
    #[getter]
    fn beta(&self) -> f64 {
        self.inner.beta()
    }

    fn energy(&self, x: &Bound<'_, PyAny>) -> PyResult<f64> {
        self.inner.energy(&state("x", x, self.inner.neurons())?).map_err(math)
    }

    fn gradient<'py>(&self, py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
        let g = self.inner.gradient(&state("x", x, self.inner.neurons())?).map_err(math)?;
        out(py, &[g.len()], g)
    }

    /// (state [N], active members, steps, energy trace).
    #[allow(clippy::type_complexity)]
    fn retrieve<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        max_steps: usize,
    ) -> PyResult<(Bound<'py, PyArrayDyn<f64>>, Vec<usize>, usize, Bound<'py, PyArrayDyn<f64>>)> {
        let s = self.inner.retrieve(&state("x", x, self.inner.neurons())?, max_steps).map_err(math)?;
        Ok((out(py, &[s.state.len()], s.state)?, s.members, s.steps, out(py, &[s.energy.len()], s.energy)?))
    }

    /// Every local minimum: (points [M, N], members per minimum, energies [M]).
    #[allow(clippy::type_complexity)]
    fn local_minima<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyArrayDyn<f64>>, Vec<Vec<usize>>, Bound<'py, PyArrayDyn<f64>>)> {
        let minima = py.detach(|| self.inner.local_minima()).map_err(math)?;
        let n = self.inner.neurons();
        let points = minima.iter().flat_map(|m| m.point.iter().copied()).collect();
        let energies = minima.iter().map(|m| m.energy).collect();
        Ok((
            out(py, &[minima.len(), n], points)?,
            minima.iter().map(|m| m.members.clone()).collect(),
            out(py, &[minima.len()], energies)?,
        ))
    }
}

/// The Gaussian DAM: exact (one slot per memory) or through random features.
enum Kernel {
    Exact(mem::GaussianDam),
    Features(mem::RandomFeatureDam),
}

/// The Gaussian DAM, exact or DrDAM (native part; see `hopfield.GaussianDam` and
/// `hopfield.RandomFeatureDam`).
#[pyclass(module = "hopfield._native")]
pub struct KernelDam {
    inner: Kernel,
}

impl KernelDam {
    fn energy(&self) -> &(dyn Energy + Sync) {
        match &self.inner {
            Kernel::Exact(m) => m,
            Kernel::Features(m) => m,
        }
    }
}

#[pymethods]
impl KernelDam {
    /// The exact DAM of `patterns` [K, N] at β.
    #[staticmethod]
    fn exact(patterns_: &Bound<'_, PyAny>, beta: f64) -> PyResult<Self> {
        let (p, n) = patterns(patterns_)?;
        Ok(KernelDam { inner: Kernel::Exact(mem::GaussianDam::new(p, n, beta).map_err(math)?) })
    }

    /// An empty DrDAM of N neurons with Y features at β.
    #[staticmethod]
    fn features(neurons: usize, features: usize, beta: f64, seed: u64) -> PyResult<Self> {
        let m = mem::RandomFeatureDam::new(neurons, features, beta, seed).map_err(math)?;
        Ok(KernelDam { inner: Kernel::Features(m) })
    }

    /// Adds memories to a DrDAM's T.
    fn store(&mut self, patterns_: &Bound<'_, PyAny>) -> PyResult<()> {
        let (p, n) = patterns(patterns_)?;
        let Kernel::Features(m) = &mut self.inner else {
            return Err(value("store", "the exact DAM holds the patterns it was made with"));
        };
        if n != m.neurons() {
            return Err(value("patterns", format!("{n} entries a pattern; the memory has N = {}", m.neurons())));
        }
        m.store(&p).map_err(math)
    }

    #[getter]
    fn neurons(&self) -> usize {
        self.energy().neurons()
    }
    #[getter]
    fn stored(&self) -> usize {
        match &self.inner {
            Kernel::Exact(m) => m.memories(),
            Kernel::Features(m) => m.stored(),
        }
    }
    #[getter]
    fn parameters(&self) -> usize {
        match &self.inner {
            Kernel::Exact(m) => m.parameters(),
            Kernel::Features(m) => m.parameters(),
        }
    }

    /// (E, ∇E) at x.
    fn energy_and_gradient<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<(f64, Bound<'py, PyArrayDyn<f64>>)> {
        let (e, g) = self.energy().energy_and_gradient(&state("x", x, self.neurons())?);
        Ok((e, out(py, &[g.len()], g)?))
    }

    /// `steps` steps of x ← x − α ∇E: (state, energy trace).
    fn descend<'py>(&self, py: Python<'py>, x: &Bound<'py, PyAny>, steps: usize, alpha: f64) -> PyResult<Pair<'py>> {
        let x = state("x", x, self.neurons())?;
        let e = self.energy();
        let d = py.detach(|| mem::descend(e, &x, steps, alpha)).map_err(math)?;
        Ok((out(py, &[d.state.len()], d.state)?, out(py, &[d.energy.len()], d.energy)?))
    }
}

/// Runs the sweep `kind` ("sparse", "lse-relu" or "drdam") with `config` (JSON changes to its
/// defaults) on the data set `data` (for image patterns), writing into `out_dir` when given:
/// (the report's points as a list of dicts, its table, the files written).
#[pyfunction]
#[pyo3(signature = (kind, config, data=None, data_dir=None, out_dir=None))]
#[allow(clippy::type_complexity)]
fn sweep<'py>(
    py: Python<'py>,
    kind: &str,
    config: &str,
    data: Option<String>,
    data_dir: Option<PathBuf>,
    out_dir: Option<PathBuf>,
) -> PyResult<(Bound<'py, PyAny>, String, Vec<PathBuf>)> {
    let ds = match &data {
        Some(name) => Some(crate::data::dataset(py, name, "test", data_dir)?),
        None => None,
    };
    // Writes the report's files into `out_dir` when given.
    let written = |write: &(dyn Fn(&std::path::Path) -> hopfield_train::Result<Vec<PathBuf>> + Sync)| match &out_dir {
        Some(d) => py.detach(|| write(d)).map_err(train),
        None => Ok(Vec::new()),
    };
    match kind {
        "sparse" => {
            let cfg: SparseConfig = merged(&SparseConfig::default(), config, "sparse sweep settings")?;
            let r = py.detach(|| sparse::run(&cfg, ds.as_ref())).map_err(train)?;
            Ok((py_value(py, &r.points)?, r.table(), written(&|d| r.write(d))?))
        }
        "lse-relu" => {
            let cfg: EpanechnikovConfig =
                merged(&EpanechnikovConfig::default(), config, "log-sum-ReLU sweep settings")?;
            let r = py.detach(|| epanechnikov::run(&cfg)).map_err(train)?;
            Ok((py_value(py, &r.counts)?, r.table(), written(&|d| r.write(d))?))
        }
        "drdam" => {
            let cfg: DrdamConfig = merged(&DrdamConfig::default(), config, "DrDAM sweep settings")?;
            let r = py.detach(|| random_features::run(&cfg, ds.as_ref())).map_err(train)?;
            Ok((py_value(py, &r.points)?, r.table(), written(&|d| r.write(d))?))
        }
        other => Err(value("kind", format!("{other:?}: expected \"sparse\", \"lse-relu\" or \"drdam\""))),
    }
}

/// A trained HAM classifier (native part; see `hopfield.HamClassifier`).
#[pyclass(module = "hopfield._native", frozen)]
pub struct HamModel {
    model: HamClassifier,
    pixels: usize,
}

impl HamModel {
    fn images(&self, x: &Bound<'_, PyAny>) -> PyResult<Tensor<2>> {
        let a = f64s("x", x)?;
        let b = a.shape.first().copied().unwrap_or(0);
        let per: usize = a.shape.iter().skip(1).product();
        if a.shape.len() < 2 || per != self.pixels || b == 0 {
            return Err(value(
                "x",
                format!("expected B ≥ 1 images of {} values, got shape {}", self.pixels, crate::arrays::show(&a.shape)),
            ));
        }
        let v: Vec<f32> = a.data.iter().map(|&v| v as f32).collect();
        Ok(Tensor::from_data(TensorData::new(v, [b, per]), &Device::flex()))
    }
}

#[pymethods]
impl HamModel {
    /// (logits [B, C], energies [T + 1, B]) for images in [0, 1].
    #[allow(clippy::type_complexity)]
    fn forward<'py>(&self, py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Pair<'py>> {
        let images = self.images(x)?;
        let b = images.dims()[0];
        let (logits, energies) = py.detach(|| self.model.forward(images)).map_err(train)?;
        let c = logits.dims()[1];
        let logits = hopfield_train::trainer::values(logits, "logits").map_err(train)?;
        let mut e = Vec::with_capacity(energies.len() * b);
        for t in &energies {
            e.extend(hopfield_train::trainer::values(t.clone(), "energy").map_err(train)?);
        }
        Ok((out(py, &[b, c], logits)?, out(py, &[energies.len(), b], e)?))
    }
}

/// Trains the HAM classifier of `config` (JSON changes to the defaults) on `arrays` (x, y, x_test,
/// y_test) or the data set `data`, writing metrics.csv and pictures into `out_dir` when given:
/// (the model, the epochs' figures, the result).
#[pyfunction]
#[pyo3(signature = (config, out_dir=None, arrays=None, data=None, data_dir=None, callback=None))]
#[allow(clippy::type_complexity)]
fn ham_train<'py>(
    py: Python<'py>,
    config: &str,
    out_dir: Option<PathBuf>,
    arrays: Option<(Bound<'py, PyAny>, Bound<'py, PyAny>, Bound<'py, PyAny>, Bound<'py, PyAny>)>,
    data: Option<String>,
    data_dir: Option<PathBuf>,
    callback: Option<Py<PyAny>>,
) -> PyResult<(HamModel, Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let cfg: HamConfig = merged(&HamConfig::default(), config, "HAM settings")?;
    let data = crate::data::image_data(py, arrays, data, data_dir)?;
    let watch = Watch::new(callback);
    let report = watch.run(py, |w| ham::run(&cfg, &data, out_dir.as_deref(), &Device::flex(), w))?;
    let history = py_value(py, &report.history)?;
    let result = py_value(py, &report.result)?;
    Ok((HamModel { model: report.model, pixels: data.train.image_len() }, history, result))
}
