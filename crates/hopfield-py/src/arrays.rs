//! numpy in, numpy out. Inputs: any numpy array of an accepted dtype, contiguous or not (read
//! once into the library's buffer, the one copy); its shape checked against the expected one and
//! its values against NaN/∞, each error naming the argument. Outputs: fresh arrays that take over
//! the library's buffers (no copy).

use numpy::ndarray::{ArrayD, IxDyn};
use numpy::prelude::*;
use numpy::{Element, PyArrayDyn, PyUntypedArray};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

/// An input array read into a buffer: its shape and its values, row-major.
#[derive(Debug, Clone)]
pub struct Array<T> {
    pub shape: Vec<usize>,
    pub data: Vec<T>,
}

fn read_as<T: Element + Copy, U>(obj: &Bound<'_, PyAny>, f: impl Fn(T) -> U) -> Option<PyResult<Array<U>>> {
    let a = obj.cast::<PyArrayDyn<T>>().ok()?;
    Some(match a.try_readonly() {
        Ok(r) => {
            let v = r.as_array();
            Ok(Array { shape: v.shape().to_vec(), data: v.iter().map(|&x| f(x)).collect() })
        }
        Err(e) => Err(PyValueError::new_err(format!("cannot read the array: {e}"))),
    })
}

fn dtype_name(obj: &Bound<'_, PyAny>) -> String {
    match obj.cast::<PyUntypedArray>() {
        Ok(a) => format!("an array of dtype {}", a.dtype()),
        Err(_) => format!("a {}", obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())),
    }
}

fn not_array(name: &str, obj: &Bound<'_, PyAny>, wanted: &str) -> PyErr {
    PyTypeError::new_err(format!("{name}: expected a numpy array of {wanted}, got {}", dtype_name(obj)))
}

/// The shape as numpy prints it: (3, 784).
pub fn show(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => format!("({})", shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

/// The position of flat index `i` in `shape`, as numpy would index it.
pub fn position(shape: &[usize], mut i: usize) -> String {
    let mut at = vec![0; shape.len()];
    for (k, &d) in shape.iter().enumerate().rev() {
        if d > 0 {
            at[k] = i % d;
            i /= d;
        }
    }
    show(&at).replace(",)", ")")
}

fn finite<T: Into<f64> + Copy>(name: &str, a: &Array<T>) -> PyResult<()> {
    match a.data.iter().position(|&v| !v.into().is_finite()) {
        Some(i) => Err(PyValueError::new_err(format!(
            "{name}: {} at index {} (shape {}); every value must be finite",
            a.data[i].into(),
            position(&a.shape, i),
            show(&a.shape)
        ))),
        None => Ok(()),
    }
}

/// Integer or boolean arrays as floats (masks, labels written as 0/1).
fn whole<U>(obj: &Bound<'_, PyAny>, f: impl Fn(i64) -> U + Copy) -> Option<PyResult<Array<U>>> {
    read_as::<i64, U>(obj, f)
        .or_else(|| read_as::<i32, U>(obj, move |x| f(x as i64)))
        .or_else(|| read_as::<u8, U>(obj, move |x| f(x as i64)))
        .or_else(|| read_as::<i8, U>(obj, move |x| f(x as i64)))
        .or_else(|| read_as::<bool, U>(obj, move |x| f(x as i64)))
}

/// Floating-point values (float32 or float64; float64 rounded to float32; integer and boolean
/// arrays converted), all finite.
pub fn f32s(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<Array<f32>> {
    let a = read_as::<f32, f32>(obj, |x| x)
        .or_else(|| read_as::<f64, f32>(obj, |x| x as f32))
        .or_else(|| whole(obj, |x| x as f32))
        .ok_or_else(|| not_array(name, obj, "float32 or float64"))??;
    finite(name, &a)?;
    Ok(a)
}

/// Floating-point values as float64 (float32 widened), all finite.
pub fn f64s(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<Array<f64>> {
    let a = read_as::<f64, f64>(obj, |x| x)
        .or_else(|| read_as::<f32, f64>(obj, |x| x as f64))
        .or_else(|| whole(obj, |x| x as f64))
        .ok_or_else(|| not_array(name, obj, "float32 or float64"))??;
    finite(name, &a)?;
    Ok(a)
}

/// Integers of any width (or floats holding whole numbers) as i64; a Python or numpy integer
/// scalar is an array of shape ().
pub fn ints(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<Array<i64>> {
    if obj.cast::<PyUntypedArray>().is_err() {
        if let Ok(v) = obj.extract::<i64>() {
            return Ok(Array { shape: vec![], data: vec![v] });
        }
    }
    let read = read_as::<i64, i64>(obj, |x| x)
        .or_else(|| read_as::<i32, i64>(obj, |x| x as i64))
        .or_else(|| read_as::<i16, i64>(obj, |x| x as i64))
        .or_else(|| read_as::<i8, i64>(obj, |x| x as i64))
        .or_else(|| read_as::<u8, i64>(obj, |x| x as i64))
        .or_else(|| read_as::<u16, i64>(obj, |x| x as i64))
        .or_else(|| read_as::<u32, i64>(obj, |x| x as i64))
        .or_else(|| read_as::<bool, i64>(obj, |x| x as i64));
    if let Some(a) = read {
        return a;
    }
    let a = f64s(name, obj).map_err(|_| not_array(name, obj, "integers"))?;
    match a.data.iter().position(|v| v.fract() != 0.0 || v.abs() > 9.0e15) {
        Some(i) => Err(PyValueError::new_err(format!(
            "{name}: {} at index {} is not a whole number",
            a.data[i],
            position(&a.shape, i)
        ))),
        None => Ok(Array { shape: a.shape, data: a.data.iter().map(|&v| v as i64).collect() }),
    }
}

/// Pixel intensities in [0, 1]: uint8 arrays are divided by 255, float arrays taken as they are
/// (and checked to lie in [0, 1]).
pub fn pixels(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<Array<f32>> {
    if let Some(a) = read_as::<u8, f32>(obj, |x| x as f32 / 255.0) {
        return a;
    }
    let a = f32s(name, obj).map_err(|e| match e.is_instance_of::<PyTypeError>(obj.py()) {
        true => not_array(name, obj, "uint8 or floats in [0, 1]"),
        false => e,
    })?;
    match a.data.iter().position(|v| !(0.0..=1.0).contains(v)) {
        Some(i) => Err(PyValueError::new_err(format!(
            "{name}: {} at index {} is outside [0, 1]; pass pixel intensities in [0, 1] (or uint8 0..255)",
            a.data[i],
            position(&a.shape, i)
        ))),
        None => Ok(a),
    }
}

/// Checks the shape against `expected`, where None is any size; the error shows both.
pub fn expect_shape<T>(name: &str, a: &Array<T>, expected: &[Option<usize>], meaning: &str) -> PyResult<()> {
    let fits = a.shape.len() == expected.len() && a.shape.iter().zip(expected).all(|(&d, e)| e.is_none_or(|e| e == d));
    if fits {
        return Ok(());
    }
    let want: Vec<String> = expected
        .iter()
        .zip(meaning.split(", "))
        .map(|(e, m)| e.map_or_else(|| m.to_string(), |e| e.to_string()))
        .collect();
    Err(PyValueError::new_err(format!("{name}: expected shape ({}), got {}", want.join(", "), show(&a.shape))))
}

/// A fresh numpy array of `shape` owning `data`.
pub fn out<'py, T: Element>(py: Python<'py>, shape: &[usize], data: Vec<T>) -> PyResult<Bound<'py, PyArrayDyn<T>>> {
    let a = ArrayD::from_shape_vec(IxDyn(shape), data)
        .map_err(|e| PyValueError::new_err(format!("internal shape error {shape:?}: {e}")))?;
    Ok(a.into_pyarray(py))
}
