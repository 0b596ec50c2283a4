//! The library's errors as Python exceptions: bad values → ValueError, a missing file or data
//! set → FileNotFoundError, a corrupt checkpoint → CheckpointError (a ValueError), a diverged
//! loss → DivergenceError (an ArithmeticError), too large → MemoryError, unwritable → OSError.

use hopfield_data::DataError;
use hopfield_train::TrainError;
use pyo3::exceptions::{
    PyArithmeticError, PyFileNotFoundError, PyKeyboardInterrupt, PyMemoryError, PyOSError, PyRuntimeError, PyValueError,
};
use pyo3::prelude::*;

pyo3::create_exception!(
    hopfield,
    DivergenceError,
    PyArithmeticError,
    "Training stopped because the loss became NaN or infinite; the message says where."
);
pyo3::create_exception!(
    hopfield,
    CheckpointError,
    PyValueError,
    "A checkpoint folder or weights file that cannot be read as one: the message names the file and the problem."
);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("DivergenceError", m.py().get_type::<DivergenceError>())?;
    m.add("CheckpointError", m.py().get_type::<CheckpointError>())?;
    Ok(())
}

/// The error's message followed by those of its causes that it does not already contain.
pub fn message(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let c = cause.to_string();
        if !text.contains(&c) {
            text = format!("{text}: {c}");
        }
        source = cause.source();
    }
    text
}

fn io_kind(e: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        source = s.source();
    }
    None
}

pub fn math(e: hopfield::Error) -> PyErr {
    PyValueError::new_err(message(&e))
}

pub fn data(e: DataError) -> PyErr {
    let text = message(&e);
    match &e {
        DataError::NotFound { .. } => PyFileNotFoundError::new_err(text),
        DataError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            PyFileNotFoundError::new_err(text)
        }
        DataError::Io { .. } | DataError::Download { .. } => PyOSError::new_err(text),
        _ => PyValueError::new_err(text),
    }
}

pub fn train(e: TrainError) -> PyErr {
    let text = message(&e);
    match e {
        TrainError::Math(m) => math(m),
        TrainError::Data(d) => data(d),
        TrainError::NotFound { .. } => PyFileNotFoundError::new_err(text),
        TrainError::Invalid { .. } | TrainError::Parallel(_) => PyValueError::new_err(text),
        TrainError::Diverged { .. } => DivergenceError::new_err(text),
        TrainError::Cancelled { .. } => PyKeyboardInterrupt::new_err(text),
        TrainError::TooLarge { .. } => PyMemoryError::new_err(text),
        TrainError::Write { .. } => PyOSError::new_err(text),
        TrainError::Checkpoint { ref path, ref source, .. } => {
            let missing =
                !path.exists() || source.as_deref().and_then(|s| io_kind(s)) == Some(std::io::ErrorKind::NotFound);
            if missing {
                PyFileNotFoundError::new_err(text)
            } else {
                CheckpointError::new_err(text)
            }
        }
        _ => PyRuntimeError::new_err(text),
    }
}

/// A ValueError naming the argument.
pub fn value(what: &str, problem: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(format!("{what}: {problem}"))
}
