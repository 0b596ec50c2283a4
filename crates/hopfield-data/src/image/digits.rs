//! scikit-learn's `digits.csv.gz`: one line per image, 64 pixel values 0..16 (8×8, row-major),
//! then the class label 0..9; no header.

use std::path::Path;

use crate::bytes::read_file;
use crate::dataset::{digit_classes, Dataset};
use crate::error::{format_err, Result};

/// Parses the digits CSV (already decompressed).
pub fn from_bytes(bytes: &[u8], name: &str) -> Result<Dataset> {
    let text = std::str::from_utf8(bytes).map_err(|e| format_err(name, format!("not UTF-8 text: {e}")))?;
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for (ln, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != 65 {
            return Err(format_err(
                name,
                format!("line {}: {} fields, expected 65 (64 pixels and a label)", ln + 1, fields.len()),
            ));
        }
        for (col, f) in fields.iter().enumerate() {
            let v: f64 = f.trim().parse().map_err(|_| {
                format_err(name, format!("line {}, field {}: '{}' is not a number", ln + 1, col + 1, f.trim()))
            })?;
            let (max, what) = if col < 64 { (16.0, "pixel") } else { (9.0, "label") };
            if v.fract() != 0.0 || !(0.0..=max).contains(&v) {
                return Err(format_err(
                    name,
                    format!("line {}, field {}: {what} {v} is not an integer in 0..{max}", ln + 1, col + 1),
                ));
            }
            if col < 64 {
                pixels.push(v as u8);
            } else {
                labels.push(v as u8);
            }
        }
    }
    if labels.is_empty() {
        return Err(format_err(name, "no data lines"));
    }
    Dataset::new(name, (1, 8, 8), pixels, 16, labels, digit_classes())
}

/// Reads a digits CSV file (raw or gzipped).
pub fn load(path: &Path) -> Result<Dataset> {
    from_bytes(&read_file(path)?, &path.display().to_string())
}
