//! The memories: the binary Dense Associative Memory (classical, polynomial, rectified
//! polynomial, exponential F), the continuous modern Hopfield network, and the capacity sweep.

use hopfield::memory::{self as mem, Dynamics, Retrieve, Separation, UpdateRule};
use hopfield_train::experiments::capacity::{self, CapacityConfig};
use numpy::PyArrayDyn;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rand::SeedableRng;

use crate::arrays::{expect_shape, f64s, ints, out, Array};
use crate::config::{json, merged};
use crate::errors::{math, train, value};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<DenseMemory>()?;
    m.add_class::<ModernHopfield>()?;
    m.add_function(wrap_pyfunction!(capacity_sweep, m)?)?;
    m.add_function(wrap_pyfunction!(capacity_defaults, m)?)?;
    Ok(())
}

/// A batch of states [B, N] (or one state [N], taken as B = 1): its rows and its count.
fn rows<T>(name: &str, a: &Array<T>, n: usize) -> PyResult<usize> {
    match a.shape.len() {
        1 => expect_shape(name, a, &[Some(n)], "N").map(|_| 1),
        _ => expect_shape(name, a, &[None, Some(n)], "B, N").map(|_| a.shape[0]),
    }
}

fn spins(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<Array<i8>> {
    let a = ints(name, obj)?;
    match a.data.iter().position(|&v| v != 1 && v != -1) {
        Some(i) => Err(value(
            name,
            format!(
                "{} at index {} is not ±1; binary states hold +1 and -1",
                a.data[i],
                crate::arrays::position(&a.shape, i)
            ),
        )),
        None => Ok(Array { shape: a.shape, data: a.data.iter().map(|&v| v as i8).collect() }),
    }
}

/// The binary Dense Associative Memory (native part; see `hopfield.DenseMemory`).
#[pyclass(module = "hopfield._native", frozen)]
pub struct DenseMemory {
    inner: mem::DenseMemory,
}

#[pymethods]
impl DenseMemory {
    #[new]
    fn new(patterns: &Bound<'_, PyAny>, separation: &str) -> PyResult<Self> {
        let p = spins("patterns", patterns)?;
        expect_shape("patterns", &p, &[None, None], "K, N")?;
        let sep: Separation = merged(&Separation::Classical, separation, "separation")?;
        Ok(DenseMemory { inner: mem::DenseMemory::new(&p.data, p.shape[1], sep).map_err(math)? })
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
    fn separation(&self) -> PyResult<String> {
        json(&self.inner.separation())
    }

    fn patterns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArrayDyn<i8>>> {
        let (k, n) = (self.inner.memories(), self.inner.neurons());
        out(py, &[k, n], (0..k).flat_map(|mu| self.inner.pattern(mu)).collect())
    }

    fn energy<'py>(&self, py: Python<'py>, states: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
        let s = spins("states", states)?;
        let (b, n) = (rows("states", &s, self.inner.neurons())?, self.inner.neurons());
        let e = (0..b).map(|i| self.inner.energy(&s.data[i * n..(i + 1) * n])).collect::<Result<Vec<_>, _>>();
        out(py, &[b], e.map_err(math)?)
    }

    /// (states [B, N], sweeps [B], converged [B], flips [B], energy traces: per cue [S, 2] of
    /// (time in sweeps, E / F(N))).
    #[allow(clippy::type_complexity)]
    fn retrieve<'py>(
        &self,
        py: Python<'py>,
        cues: &Bound<'py, PyAny>,
        synchronous: bool,
        max_sweeps: usize,
        record_every: usize,
        seed: u64,
    ) -> PyResult<(
        Bound<'py, PyArrayDyn<i8>>,
        Bound<'py, PyArrayDyn<u64>>,
        Bound<'py, PyArrayDyn<bool>>,
        Bound<'py, PyArrayDyn<u64>>,
        Vec<Bound<'py, PyArrayDyn<f64>>>,
    )> {
        let s = spins("cues", cues)?;
        let (b, n) = (rows("cues", &s, self.inner.neurons())?, self.inner.neurons());
        if max_sweeps == 0 {
            return Err(value("max_sweeps", "0: at least one sweep"));
        }
        let rule = if synchronous { UpdateRule::Synchronous } else { UpdateRule::Asynchronous };
        let dynamics = Dynamics { rule, max_sweeps, record_every };
        let mut states = s.data;
        let memory = &self.inner;
        let trajectories = py
            .detach(|| {
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
                states.chunks_mut(n).map(|state| memory.run(state, &dynamics, &mut rng)).collect::<Result<Vec<_>, _>>()
            })
            .map_err(math)?;
        let traces = trajectories
            .iter()
            .map(|t| out(py, &[t.energy.len(), 2], t.energy.iter().flat_map(|&(a, e)| [a, e]).collect()))
            .collect::<PyResult<Vec<_>>>()?;
        Ok((
            out(py, &[b, n], states)?,
            out(py, &[b], trajectories.iter().map(|t| t.sweeps as u64).collect())?,
            out(py, &[b], trajectories.iter().map(|t| t.converged).collect())?,
            out(py, &[b], trajectories.iter().map(|t| t.flips as u64).collect())?,
            traces,
        ))
    }
}

/// The continuous modern Hopfield network (native part; see `hopfield.ModernHopfield`).
#[pyclass(module = "hopfield._native", frozen)]
pub struct ModernHopfield {
    inner: mem::ModernHopfield<f64>,
}

#[pymethods]
impl ModernHopfield {
    #[new]
    #[pyo3(signature = (patterns, beta, transform="softmax"))]
    fn new(patterns: &Bound<'_, PyAny>, beta: f64, transform: &str) -> PyResult<Self> {
        let p = f64s("patterns", patterns)?;
        expect_shape("patterns", &p, &[None, None], "K, N")?;
        let n = p.shape[1];
        let t: mem::Transform = transform.parse().map_err(math)?;
        Ok(ModernHopfield {
            inner: mem::ModernHopfield::new(p.data, n, beta).and_then(|m| m.with_transform(t)).map_err(math)?,
        })
    }

    #[getter]
    fn transform(&self) -> String {
        self.inner.transform().to_string()
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
    fn beta(&self) -> f64 {
        self.inner.beta()
    }

    fn patterns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
        out(py, &[self.inner.memories(), self.inner.neurons()], self.inner.patterns().to_vec())
    }

    fn energy<'py>(&self, py: Python<'py>, states: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
        let s = f64s("states", states)?;
        let b = rows("states", &s, self.inner.neurons())?;
        let e = py.detach(|| self.inner.energies(&s.data)).map_err(math)?;
        out(py, &[b], e)
    }

    fn update<'py>(&self, py: Python<'py>, states: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
        let s = f64s("states", states)?;
        let b = rows("states", &s, self.inner.neurons())?;
        let next = py.detach(|| self.inner.update(&s.data)).map_err(math)?;
        out(py, &[b, self.inner.neurons()], next)
    }

    fn attention<'py>(&self, py: Python<'py>, states: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
        let s = f64s("states", states)?;
        let b = rows("states", &s, self.inner.neurons())?;
        let a = py.detach(|| self.inner.attention(&s.data)).map_err(math)?;
        out(py, &[b, self.inner.memories()], a)
    }

    /// (states [B, N], updates [B], converged (all), energy traces: per cue [updates + 1]).
    #[allow(clippy::type_complexity)]
    fn retrieve<'py>(
        &self,
        py: Python<'py>,
        cues: &Bound<'py, PyAny>,
        tolerance: f64,
        max_steps: usize,
        record_energy: bool,
    ) -> PyResult<(Bound<'py, PyArrayDyn<f64>>, Bound<'py, PyArrayDyn<u64>>, bool, Vec<Bound<'py, PyArrayDyn<f64>>>)>
    {
        let s = f64s("cues", cues)?;
        let b = rows("cues", &s, self.inner.neurons())?;
        let opts = Retrieve { tolerance, max_steps, record_energy };
        let r = py.detach(|| self.inner.retrieve(&s.data, &opts)).map_err(math)?;
        let traces = r.energy.into_iter().map(|e| out(py, &[e.len()], e)).collect::<PyResult<Vec<_>>>()?;
        Ok((
            out(py, &[b, self.inner.neurons()], r.states)?,
            out(py, &[b], r.iterations.iter().map(|&i| i as u64).collect())?,
            r.converged,
            traces,
        ))
    }
}

/// The capacity sweep's default settings as JSON.
#[pyfunction]
fn capacity_defaults() -> PyResult<String> {
    json(&CapacityConfig::default())
}

/// Runs the capacity sweep of `config` (JSON changes to the defaults): (rows, table text). Each
/// load is measured without the interpreter lock; between two loads the callback (if any) gets
/// {"event": "step", "done", "total", "separation", "memories"} and Ctrl-C stops the sweep.
#[pyfunction]
#[pyo3(signature = (config, callback=None))]
fn capacity_sweep<'py>(
    py: Python<'py>,
    config: &str,
    callback: Option<Py<PyAny>>,
) -> PyResult<(Vec<Bound<'py, PyDict>>, String)> {
    let cfg: CapacityConfig = merged(&CapacityConfig::default(), config, "capacity settings")?;
    capacity::validate(&cfg).map_err(train)?;
    let jobs = capacity::jobs(&cfg);
    let mut points = Vec::with_capacity(jobs.len());
    for (i, &(s, k)) in jobs.iter().enumerate() {
        // One load is the sweep of one separation at one K: the same measurement, seeded alike.
        let one = CapacityConfig { separations: vec![s], loads: Some(vec![k]), ..cfg.clone() };
        points.extend(py.detach(|| capacity::sweep(&one, |_, _| {})).map_err(train)?);
        py.check_signals()?;
        if let Some(cb) = &callback {
            let event = PyDict::new(py);
            event.set_item("event", "step")?;
            event.set_item("done", i + 1)?;
            event.set_item("total", jobs.len())?;
            event.set_item("separation", capacity::label(s))?;
            event.set_item("memories", k)?;
            cb.call1(py, (event,))?;
        }
    }
    let rows = points
        .iter()
        .map(|p| {
            let d = PyDict::new(py);
            d.set_item("separation", capacity::label(p.separation))?;
            d.set_item("neurons", p.neurons)?;
            d.set_item("memories", p.memories)?;
            d.set_item("load", p.memories as f64 / p.neurons as f64)?;
            d.set_item("flip_probability", p.flip_probability)?;
            d.set_item("flip_stderr", p.flip_stderr)?;
            d.set_item("flip_theory", p.flip_theory)?;
            d.set_item("retrieved_exact", p.retrieved_exact)?;
            d.set_item("retrieved_approx", p.retrieved_approx)?;
            d.set_item("mean_overlap", p.mean_overlap)?;
            Ok(d)
        })
        .collect::<PyResult<Vec<_>>>()?;
    Ok((rows, capacity::table(&points, &cfg)))
}
