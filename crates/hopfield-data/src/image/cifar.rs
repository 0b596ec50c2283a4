//! The CIFAR-10 binary format: records of 3,073 bytes, a label byte then 1,024 red, 1,024 green
//! and 1,024 blue pixels (each plane row-major 32×32).

use std::path::Path;

use crate::bytes::read_file;
use crate::dataset::Dataset;
use crate::error::{format_err, Result};

/// Bytes per record.
pub const RECORD: usize = 1 + 3 * 32 * 32;

/// The ten class names, in label order.
pub const CLASSES: [&str; 10] =
    ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

/// Appends the records in `bytes` to `pixels` and `labels`.
fn parse_into(bytes: &[u8], name: &str, pixels: &mut Vec<u8>, labels: &mut Vec<u8>) -> Result<()> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(RECORD) {
        return Err(format_err(
            name,
            format!(
                "{} bytes is not a whole number of {RECORD}-byte CIFAR-10 records ({} records and {} bytes over)",
                bytes.len(),
                bytes.len() / RECORD,
                bytes.len() % RECORD
            ),
        ));
    }
    for (r, rec) in bytes.chunks_exact(RECORD).enumerate() {
        if rec[0] > 9 {
            return Err(format_err(name, format!("record {r}: label {} is outside 0..9", rec[0])));
        }
        labels.push(rec[0]);
        pixels.extend_from_slice(&rec[1..]);
    }
    Ok(())
}

/// Parses CIFAR-10 binary bytes (already decompressed).
pub fn from_bytes(bytes: &[u8], name: &str) -> Result<Dataset> {
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    parse_into(bytes, name, &mut pixels, &mut labels)?;
    Dataset::new(name, (3, 32, 32), pixels, 255, labels, CLASSES.iter().map(|s| s.to_string()).collect())
}

/// Reads and concatenates CIFAR-10 batch files (each raw or gzipped).
pub fn load(paths: &[impl AsRef<Path>]) -> Result<Dataset> {
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    for p in paths {
        let p = p.as_ref();
        parse_into(&read_file(p)?, &p.display().to_string(), &mut pixels, &mut labels)?;
    }
    let name = paths.first().map(|p| p.as_ref().display().to_string()).unwrap_or_default();
    Dataset::new(name, (3, 32, 32), pixels, 255, labels, CLASSES.iter().map(|s| s.to_string()).collect())
}
