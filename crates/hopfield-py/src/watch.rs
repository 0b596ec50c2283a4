//! A protocol's events for Python: each event a dict passed to the user's callback, Ctrl-C
//! (or an exception in the callback) setting the run's cancel flag so that it stops before its
//! next batch, and the interpreter lock released while the run computes.

use std::sync::{Arc, Mutex};

use hopfield_train::experiments::{Cancel, Observer, Progress};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde::Serialize;
use serde_json::{json, Value};

/// A run's observer: the callback, the cancel flag and the first Python error met.
#[derive(Clone)]
pub struct Watch {
    callback: Option<Arc<Py<PyAny>>>,
    cancel: Cancel,
    failure: Arc<Mutex<Option<PyErr>>>,
}

impl Watch {
    pub fn new(callback: Option<Py<PyAny>>) -> Self {
        Watch { callback: callback.map(Arc::new), cancel: Cancel::default(), failure: Arc::default() }
    }

    /// Runs `f` without the interpreter lock; a Python error met while it ran (KeyboardInterrupt,
    /// or the callback's own) comes first, then the library's error.
    pub fn run<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(Watch) -> hopfield_train::Result<T> + Send,
    ) -> PyResult<T> {
        let me = self.clone();
        let result = py.detach(move || f(me));
        if let Some(e) = self.failure.lock().unwrap_or_else(|p| p.into_inner()).take() {
            return Err(e);
        }
        result.map_err(crate::errors::train)
    }

    fn fail(&self, e: PyErr) {
        let mut slot = self.failure.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(e);
        }
        self.cancel.cancel();
    }
}

/// The event as JSON: {"event": "started" | "step" | "epoch" | "finished", "run": {...}, ...}.
pub fn event_json<E: Serialize, R: Serialize>(event: &Progress<'_, E, R>) -> Value {
    match event {
        Progress::Started(run) => json!({"event": "started", "run": run}),
        Progress::Step { run, epoch, done, loss, per_second } => {
            json!({"event": "step", "run": run, "epoch": epoch, "done": done, "loss": loss, "per_second": per_second})
        }
        Progress::Epoch(run, figures) => json!({"event": "epoch", "run": run, "figures": figures}),
        Progress::Finished(run, result) => json!({"event": "finished", "run": run, "result": result}),
    }
}

/// A JSON value as the Python object json.loads would give.
pub fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, item) in map {
                dict.set_item(k, to_py(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// Serialisable library values as Python objects (dicts, lists, numbers).
pub fn py_value<'py>(py: Python<'py>, v: &impl Serialize) -> PyResult<Bound<'py, PyAny>> {
    let value = serde_json::to_value(v).map_err(|e| crate::errors::value("result", e))?;
    to_py(py, &value)
}

impl<E: Serialize, R: Serialize> Observer<E, R> for Watch {
    fn on(&mut self, event: Progress<'_, E, R>) {
        if self.cancel.is_cancelled() {
            return;
        }
        let value = event_json(&event);
        let result = Python::attach(|py| -> PyResult<()> {
            py.check_signals()?;
            if let Some(cb) = &self.callback {
                cb.call1(py, (to_py(py, &value)?,))?;
            }
            Ok(())
        });
        if let Err(e) = result {
            self.fail(e);
        }
    }

    fn cancel(&self) -> Cancel {
        self.cancel.clone()
    }
}
