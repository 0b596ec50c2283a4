//! NumPy `.npy` arrays and `.npz` archives of them, as the JAX/NumPy world writes them: numeric
//! arrays (float, integer or bool, any byte order) in C order, read as `f32`; written as
//! little-endian `f32`. Archives may be stored or deflate-compressed (`np.savez` /
//! `np.savez_compressed`).

use std::collections::BTreeMap;
use std::io::{Read, Seek, Write};
use std::path::Path;

use npyz::{DType, NpyFile, Order, TypeChar, WriterBuilder};

use crate::error::{format_err, io_err, Result};

/// A numeric array: its shape and its values in C (row-major) order.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// Length along each axis; empty for a scalar.
    pub shape: Vec<usize>,
    /// The values, `shape.iter().product()` of them.
    pub data: Vec<f32>,
}

fn read_array<R: Read>(file: &str, npy: NpyFile<R>) -> Result<Array> {
    let shape: Vec<usize> = npy.shape().iter().map(|&s| s as usize).collect();
    if npy.order() == Order::Fortran && shape.iter().filter(|&&s| s > 1).count() > 1 {
        return Err(format_err(file, format!("array of shape {shape:?} is in Fortran order; save it in C order")));
    }
    let bad = |e: std::io::Error| format_err(file, format!("cannot read the array data: {e}"));
    let DType::Plain(ts) = npy.dtype() else {
        return Err(format_err(file, format!("dtype {} is not a plain numeric type", npy.dtype().descr())));
    };
    let size = ts.size_field();
    let data: Vec<f32> = match (ts.type_char(), size) {
        (TypeChar::Float, 4) => npy.into_vec::<f32>().map_err(bad)?,
        (TypeChar::Float, 8) => npy.into_vec::<f64>().map_err(bad)?.into_iter().map(|v| v as f32).collect(),
        (TypeChar::Int, 1) => npy.into_vec::<i8>().map_err(bad)?.into_iter().map(f32::from).collect(),
        (TypeChar::Int, 2) => npy.into_vec::<i16>().map_err(bad)?.into_iter().map(f32::from).collect(),
        (TypeChar::Int, 4) => npy.into_vec::<i32>().map_err(bad)?.into_iter().map(|v| v as f32).collect(),
        (TypeChar::Int, 8) => npy.into_vec::<i64>().map_err(bad)?.into_iter().map(|v| v as f32).collect(),
        (TypeChar::Uint, 1) => npy.into_vec::<u8>().map_err(bad)?.into_iter().map(f32::from).collect(),
        (TypeChar::Uint, 2) => npy.into_vec::<u16>().map_err(bad)?.into_iter().map(f32::from).collect(),
        (TypeChar::Uint, 4) => npy.into_vec::<u32>().map_err(bad)?.into_iter().map(|v| v as f32).collect(),
        (TypeChar::Uint, 8) => npy.into_vec::<u64>().map_err(bad)?.into_iter().map(|v| v as f32).collect(),
        (TypeChar::Bool, 1) => npy.into_vec::<bool>().map_err(bad)?.into_iter().map(|v| v as u8 as f32).collect(),
        _ => return Err(format_err(file, format!("dtype {} is not a numeric type this reads", ts))),
    };
    let expected: usize = shape.iter().product();
    if data.len() != expected {
        return Err(format_err(
            file,
            format!("shape {shape:?} needs {expected} values, the file holds {}", data.len()),
        ));
    }
    Ok(Array { shape, data })
}

/// Reads a `.npy` file.
pub fn read_npy(path: &Path) -> Result<Array> {
    let bytes = std::fs::read(path).map_err(|e| io_err(path, e))?;
    npy_from_bytes(&bytes, &path.display().to_string())
}

/// Parses the bytes of a `.npy` file called `name` (in errors).
pub fn npy_from_bytes(bytes: &[u8], name: &str) -> Result<Array> {
    let npy = NpyFile::new(bytes).map_err(|e| format_err(name, format!("not a .npy file: {e}")))?;
    read_array(name, npy)
}

/// Parses the bytes of a `.npz` archive called `name` (in errors).
pub fn npz_from_bytes(bytes: &[u8], name: &str) -> Result<BTreeMap<String, Array>> {
    Ok(read_npz_from(name, std::io::Cursor::new(bytes), &|_| true)?.0)
}

/// Reads every array of a `.npz` archive, by name (the member name without `.npy`).
pub fn read_npz(path: &Path) -> Result<BTreeMap<String, Array>> {
    Ok(read_npz_only(path, &|_| true)?.0)
}

/// Reads the arrays of a `.npz` archive whose names `keep` accepts; the others are not
/// decompressed, and their names are returned beside.
///
/// Every member read is bounded and checked: its declared size must fit in what this process
/// may use before it is inflated, it must inflate to exactly that size, and its CRC-32 must
/// match (a flipped bit is an error, not a silently different array).
pub fn read_npz_only(path: &Path, keep: &dyn Fn(&str) -> bool) -> Result<(BTreeMap<String, Array>, Vec<String>)> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| io_err(path, e))?;
    read_npz_from(&name, std::io::BufReader::new(file), keep)
}

fn read_npz_from<R: Read + Seek>(
    name: &str,
    reader: R,
    keep: &dyn Fn(&str) -> bool,
) -> Result<(BTreeMap<String, Array>, Vec<String>)> {
    let mut zip =
        zip::ZipArchive::new(reader).map_err(|e| format_err(name, format!("not a .npz (zip) archive: {e}")))?;
    let (mut out, mut skipped) = (BTreeMap::new(), Vec::new());
    for i in 0..zip.len() {
        let mut member = zip.by_index(i).map_err(|e| format_err(name, format!("cannot read member {i}: {e}")))?;
        let member_name = member.name().to_string();
        let Some(array) = member_name.strip_suffix(".npy").map(str::to_string) else {
            continue;
        };
        if !keep(&array) {
            skipped.push(array);
            continue;
        }
        let at = format!("{name}[{array}]");
        let size = member.size();
        // The array is held twice while it is parsed.
        crate::budget::fits(crate::budget::product(&[size as u128, 2]))
            .map_err(|e| format_err(&at, format!("declares {size} bytes inflated, which {e}")))?;
        let mut bytes = Vec::with_capacity(size as usize);
        (&mut member)
            .take(size.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| format_err(&at, format!("a damaged member (its data or CRC-32 do not check): {e}")))?;
        if bytes.len() as u64 != size {
            return Err(format_err(&at, format!("inflates to {} bytes, but the archive declares {size}", bytes.len())));
        }
        let npy = NpyFile::new(&bytes[..]).map_err(|e| format_err(&at, format!("not a .npy array: {e}")))?;
        out.insert(array, read_array(&at, npy)?);
    }
    Ok((out, skipped))
}

fn write_array<W: Write, T: npyz::AutoSerialize + Copy>(w: W, shape: &[usize], data: &[T]) -> std::io::Result<()> {
    let shape: Vec<u64> = shape.iter().map(|&s| s as u64).collect();
    let mut writer = npyz::WriteOptions::new().default_dtype().shape(&shape).writer(w).begin_nd()?;
    writer.extend(data.iter().copied())?;
    writer.finish()
}

fn check<T>(path: &Path, shape: &[usize], data: &[T]) -> Result<()> {
    let n: usize = shape.iter().product();
    if n != data.len() {
        return Err(format_err(path.display(), format!("shape {shape:?} needs {n} values, got {}", data.len())));
    }
    Ok(())
}

/// Writes a little-endian `f32` `.npy` file (temporary file + rename).
pub fn write_npy(path: &Path, shape: &[usize], data: &[f32]) -> Result<()> {
    write_npy_of(path, shape, data)
}

/// Writes a little-endian `f64` `.npy` file (temporary file + rename), for state that must
/// survive a round trip bit for bit (optimiser momentum).
pub fn write_npy_f64(path: &Path, shape: &[usize], data: &[f64]) -> Result<()> {
    write_npy_of(path, shape, data)
}

/// Reads a `.npy` file of `f64` values exactly (no conversion): its shape and values.
pub fn read_npy_f64(path: &Path) -> Result<(Vec<usize>, Vec<f64>)> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| io_err(path, e))?;
    let npy = NpyFile::new(&bytes[..]).map_err(|e| format_err(&name, format!("not a .npy file: {e}")))?;
    let shape: Vec<usize> = npy.shape().iter().map(|&s| s as usize).collect();
    let float64 = matches!(npy.dtype(), DType::Plain(ts) if ts.type_char() == TypeChar::Float && ts.size_field() == 8);
    if !float64 || (npy.order() == Order::Fortran && shape.iter().filter(|&&s| s > 1).count() > 1) {
        return Err(format_err(
            &name,
            format!("dtype {} in {:?} order, expected float64 in C order", npy.dtype().descr(), npy.order()),
        ));
    }
    let data = npy.into_vec::<f64>().map_err(|e| format_err(&name, format!("cannot read the array data: {e}")))?;
    let expected: usize = shape.iter().product();
    if data.len() != expected {
        return Err(format_err(
            &name,
            format!("shape {shape:?} needs {expected} values, the file holds {}", data.len()),
        ));
    }
    Ok((shape, data))
}

fn write_npy_of<T: npyz::AutoSerialize + Copy>(path: &Path, shape: &[usize], data: &[T]) -> Result<()> {
    check(path, shape, data)?;
    let tmp = path.with_extension("npy.part");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(|e| io_err(&tmp, e))?);
    write_array(&mut f, shape, data).and_then(|_| f.flush()).map_err(|e| io_err(&tmp, e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| io_err(path, e))
}

/// Writes a stored (uncompressed) `.npz` archive of `f32` arrays, like `np.savez`.
pub fn write_npz(path: &Path, arrays: &[(&str, &[usize], &[f32])]) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| io_err(path, e))?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let opts = zip::write::FileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, shape, data) in arrays {
        check(path, shape, data)?;
        zip.start_file(format!("{name}.npy"), opts).map_err(|e| io_err(path, e.into()))?;
        write_array(&mut zip, shape, data).map_err(|e| io_err(path, e))?;
    }
    zip.finish().map_err(|e| io_err(path, e.into()))?;
    Ok(())
}
