//! Reading the graph sets' text files: non-empty lines with their numbers, and errors that name
//! the file and the line.

use std::path::Path;

use crate::bytes::{maybe_gunzip, read_file};
use crate::error::{format_err, DataError, Result};

/// The non-empty lines of a (possibly gzipped) text file with their 1-based line numbers.
pub(crate) fn lines(path: &Path) -> Result<(String, Vec<(usize, String)>)> {
    let name = path.display().to_string();
    let bytes = read_file(path)?;
    lines_of(name, bytes)
}

/// [`lines`] of a file's bytes, `name` naming it in errors.
pub(crate) fn lines_of(name: String, bytes: Vec<u8>) -> Result<(String, Vec<(usize, String)>)> {
    let bytes = maybe_gunzip(bytes, &name)?;
    let text = String::from_utf8(bytes).map_err(|e| format_err(&name, format!("not UTF-8 text: {e}")))?;
    let v =
        text.lines().enumerate().map(|(i, l)| (i + 1, l.trim().to_string())).filter(|(_, l)| !l.is_empty()).collect();
    Ok((name, v))
}

pub(crate) fn at(file: &str, line: usize, problem: impl std::fmt::Display) -> DataError {
    format_err(format!("{file}, line {line}"), problem)
}

pub(crate) fn integer(file: &str, line: usize, field: &str) -> Result<i64> {
    field.trim().parse::<i64>().map_err(|_| at(file, line, format!("'{}' is not an integer", field.trim())))
}

/// A finite decimal number, or an error naming the file and the line.
pub(crate) fn number(file: &str, line: usize, field: &str) -> Result<f32> {
    let v: f32 = field.trim().parse().map_err(|_| at(file, line, format!("'{}' is not a number", field.trim())))?;
    if !v.is_finite() {
        return Err(at(file, line, format!("{v} is not finite")));
    }
    Ok(v)
}

/// Rows of comma-separated finite numbers, every row as long as the first: the values row after
/// row, and that length; an error names the file, the line and the problem.
pub(crate) fn number_rows(file: &str, rows: &[(usize, String)]) -> Result<(Vec<f32>, usize)> {
    let (mut all, mut dim) = (Vec::new(), 0);
    for (i, l) in rows {
        let row: Vec<f32> = l.split(',').map(|x| number(file, *i, x)).collect::<Result<_>>()?;
        if dim == 0 {
            dim = row.len();
        } else if row.len() != dim {
            return Err(at(file, *i, format!("{} values, but the first row has {dim}", row.len())));
        }
        all.extend(row);
    }
    Ok((all, dim))
}
