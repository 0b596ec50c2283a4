//! Settings from Python: a JSON object of the settings a user changed, merged into the library's
//! defaults (nested objects key by key). A key the configuration lacks is a ValueError naming it
//! and the known ones, never silently ignored.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::errors::value;
use pyo3::PyResult;

/// `base` with the settings of the JSON object `changes` replaced.
pub fn merged<T: Serialize + DeserializeOwned>(base: &T, changes: &str, what: &str) -> PyResult<T> {
    let mut v = serde_json::to_value(base).map_err(|e| value(what, e))?;
    let changes: Value = serde_json::from_str(changes).map_err(|e| value(what, format!("not a JSON object: {e}")))?;
    merge(&mut v, changes, what)?;
    serde_json::from_value(v).map_err(|e| value(what, e))
}

/// An enum's value (one capitalised key, e.g. {"Polynomial": {"n": 3}}) is replaced whole.
fn is_enum(v: &serde_json::Map<String, Value>) -> bool {
    v.len() == 1 && v.keys().all(|k| k.starts_with(|c: char| c.is_ascii_uppercase()))
}

fn merge(base: &mut Value, changes: Value, path: &str) -> PyResult<()> {
    match (base, changes) {
        (Value::Object(b), Value::Object(c)) if !is_enum(b) => {
            for (k, v) in c {
                if !b.contains_key(&k) {
                    let known = b.keys().cloned().collect::<Vec<_>>().join(", ");
                    return Err(value(path, format!("unknown setting '{k}'; the settings are {known}")));
                }
                if let Some(slot) = b.get_mut(&k) {
                    merge(slot, v, &format!("{path}.{k}"))?;
                }
            }
            Ok(())
        }
        (b, c) => {
            *b = c;
            Ok(())
        }
    }
}

/// The configuration as JSON text (for Python to show and to read its defaults).
pub fn json(v: &impl Serialize) -> PyResult<String> {
    serde_json::to_string(v).map_err(|e| value("configuration", e))
}
