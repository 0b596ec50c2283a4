//! Image data sets as numpy arrays: the bundled ones (mnist-sample, digits, cifar10-sample), the
//! full ones from the data folder, or a file or folder of images.

use std::path::PathBuf;

use hopfield_data::{DataSource, Dataset, Split};
use numpy::PyArrayDyn;
use pyo3::prelude::*;

use crate::arrays::{expect_shape, ints, out, pixels};
use crate::errors::{data as data_err, value};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(load_images, m)?)?;
    Ok(())
}

fn split(name: &str) -> PyResult<Split> {
    name.parse().map_err(|e: String| value("split", e))
}

/// A split of a data source as the library reads it.
pub fn dataset(py: Python<'_>, source: &str, split_name: &str, data_dir: Option<PathBuf>) -> PyResult<Dataset> {
    let source: DataSource = source.parse().map_err(|e: String| value("data", e))?;
    let s = split(split_name)?;
    let dir = data_dir.unwrap_or_else(hopfield_data::source::default_data_dir);
    py.detach(|| hopfield_data::source::load(&source, s, &dir)).map_err(data_err)
}

/// Images from arrays: `x` [B, C, H, W] or [B, H, W] pixel intensities (uint8, or floats in [0, 1]
/// kept exactly when they are multiples of 1/M for some M ≤ 255, else rounded to 8 bits), `y` [B]
/// class indices.
pub fn from_arrays(name: &str, x: &Bound<'_, PyAny>, y: &Bound<'_, PyAny>) -> PyResult<Dataset> {
    let px = pixels("x", x)?;
    let (c, h, w) = match px.shape[..] {
        [_, h, w] => (1, h, w),
        [_, c, h, w] => (c, h, w),
        _ => {
            return Err(value(
                "x",
                format!("expected shape (B, C, H, W) or (B, H, W), got {}", crate::arrays::show(&px.shape)),
            ))
        }
    };
    let b = px.shape[0];
    let labels = ints("y", y)?;
    expect_shape("y", &labels, &[Some(b)], "B")?;
    if let Some(i) = labels.data.iter().position(|&l| !(0..=255).contains(&l)) {
        return Err(value("y", format!("label {} of image {i}: labels are class indices 0..255", labels.data[i])));
    }
    let classes = labels.data.iter().max().map_or(1, |&m| m as usize + 1);
    let max = levels(&px.data);
    let bytes = px.data.iter().map(|&v| (v * max as f32).round() as u8).collect();
    let names = (0..classes).map(|k| k.to_string()).collect();
    Dataset::new(name, (c, h, w), bytes, max, labels.data.iter().map(|&l| l as u8).collect(), names).map_err(data_err)
}

/// The full intensity M at which every pixel is a whole number of 1/M (255 for 8-bit images, 16
/// for the digits' 0..16), so that the data set holds the values given; 255 (the nearest 8-bit
/// value) when no M ≤ 255 fits.
fn levels(values: &[f32]) -> u8 {
    let fits = |m: u8| values.iter().all(|&v| (v * m as f32 - (v * m as f32).round()).abs() < 1e-4);
    std::iter::once(255).chain(1..255).find(|&m| fits(m)).unwrap_or(255)
}

/// (images [B, C, H, W] float32 in [0, 1], labels [B] int64, class names).
#[pyfunction]
#[pyo3(signature = (source, split="train", data_dir=None))]
#[allow(clippy::type_complexity)]
fn load_images<'py>(
    py: Python<'py>,
    source: &str,
    split: &str,
    data_dir: Option<PathBuf>,
) -> PyResult<(Bound<'py, PyArrayDyn<f32>>, Bound<'py, PyArrayDyn<i64>>, Vec<String>)> {
    let ds = dataset(py, source, split, data_dir)?;
    let values: Vec<f32> = (0..ds.len()).flat_map(|i| ds.image(i)).collect();
    Ok((
        out(py, &[ds.len(), ds.channels(), ds.height(), ds.width()], values)?,
        out(py, &[ds.len()], ds.labels().iter().map(|&l| l as i64).collect())?,
        ds.class_names().to_vec(),
    ))
}

/// A run's images: the arrays (x, y, x_test, y_test), or the train and test splits of the data set
/// `data` (a name or a path), one of them.
#[allow(clippy::type_complexity)]
pub fn image_data(
    py: Python<'_>,
    arrays: Option<(Bound<'_, PyAny>, Bound<'_, PyAny>, Bound<'_, PyAny>, Bound<'_, PyAny>)>,
    data: Option<String>,
    data_dir: Option<PathBuf>,
) -> PyResult<hopfield_train::experiments::ImageData> {
    use hopfield_train::experiments::ImageData;
    match (arrays, data) {
        (Some((x, y, x_test, y_test)), None) => Ok(ImageData {
            name: "arrays".into(),
            train: from_arrays("arrays", &x, &y)?,
            test: from_arrays("arrays (test)", &x_test, &y_test)?,
        }),
        (None, Some(name)) => Ok(ImageData {
            train: dataset(py, &name, "train", data_dir.clone())?,
            test: dataset(py, &name, "test", data_dir)?,
            name,
        }),
        _ => Err(value("data", "give a data set's name or the arrays (x, y, x_test, y_test), one of them")),
    }
}
