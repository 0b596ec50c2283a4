//! The IDX format of MNIST and Fashion-MNIST (LeCun et al.): big-endian header, then u8 data.
//!
//! Images: magic 0x00000803, count, rows, cols, then count·rows·cols pixels (0 background, 255 ink).
//! Labels: magic 0x00000801, count, then count labels.

use std::path::Path;

use crate::bytes::read_file;
use crate::dataset::{digit_classes, Dataset};
use crate::error::{format_err, Result};

/// Magic number of an IDX file of unsigned-byte images (3 dimensions).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned-byte labels (1 dimension).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

fn be_u32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn magic_problem(found: u32, want: u32) -> String {
    let what = match found {
        IMAGES_MAGIC => " (an IDX image file)",
        LABELS_MAGIC => " (an IDX label file)",
        _ => "",
    };
    format!("magic number 0x{found:08x}{what}, expected 0x{want:08x}")
}

/// The magic number of IDX-looking bytes, if there are at least four.
pub fn sniff_magic(bytes: &[u8]) -> Option<u32> {
    (bytes.len() >= 4).then(|| be_u32(bytes, 0))
}

/// Parses IDX image bytes into (count, rows, cols, pixels).
pub fn parse_images(bytes: &[u8], name: &str) -> Result<(usize, usize, usize, Vec<u8>)> {
    if bytes.len() < 16 {
        return Err(format_err(name, format!("{} bytes is too short for the 16-byte IDX image header", bytes.len())));
    }
    let magic = be_u32(bytes, 0);
    if magic != IMAGES_MAGIC {
        return Err(format_err(name, magic_problem(magic, IMAGES_MAGIC)));
    }
    let (count, rows, cols) = (be_u32(bytes, 4) as usize, be_u32(bytes, 8) as usize, be_u32(bytes, 12) as usize);
    if rows == 0 || cols == 0 {
        return Err(format_err(name, format!("image size {rows}×{cols} has no pixels")));
    }
    let want = count.checked_mul(rows * cols).and_then(|n| n.checked_add(16));
    let have = bytes.len();
    match want {
        Some(w) if w == have => Ok((count, rows, cols, bytes[16..].to_vec())),
        Some(w) if w > have => Err(format_err(
            name,
            format!("truncated: the header promises {count} images of {rows}×{cols} ({w} bytes) but the file has {have} bytes"),
        )),
        Some(w) => Err(format_err(
            name,
            format!("{} trailing bytes after {count} images of {rows}×{cols} ({w} bytes expected, {have} found)", have - w),
        )),
        None => Err(format_err(name, format!("header sizes {count}×{rows}×{cols} overflow"))),
    }
}

/// Parses IDX label bytes.
pub fn parse_labels(bytes: &[u8], name: &str) -> Result<Vec<u8>> {
    if bytes.len() < 8 {
        return Err(format_err(name, format!("{} bytes is too short for the 8-byte IDX label header", bytes.len())));
    }
    let magic = be_u32(bytes, 0);
    if magic != LABELS_MAGIC {
        return Err(format_err(name, magic_problem(magic, LABELS_MAGIC)));
    }
    let count = be_u32(bytes, 4) as usize;
    let have = bytes.len() - 8;
    if have != count {
        return Err(format_err(
            name,
            if have < count {
                format!("truncated: the header promises {count} labels but the file has {have}")
            } else {
                format!("{} trailing bytes after {count} labels", have - count)
            },
        ));
    }
    Ok(bytes[8..].to_vec())
}

/// Builds a ten-class data set from IDX image and label bytes, checking that the counts agree.
pub fn from_bytes(images: &[u8], images_name: &str, labels: &[u8], labels_name: &str) -> Result<Dataset> {
    let (count, rows, cols, pixels) = parse_images(images, images_name)?;
    let labels = parse_labels(labels, labels_name)?;
    if labels.len() != count {
        return Err(format_err(
            labels_name,
            format!("has {} labels but {images_name} has {count} images", labels.len()),
        ));
    }
    if let Some(i) = labels.iter().position(|&l| l > 9) {
        return Err(format_err(labels_name, format!("label {} at index {i} is outside 0..9", labels[i])));
    }
    Dataset::new(images_name, (1, rows, cols), pixels, 255, labels, digit_classes())
}

/// Reads an IDX image file and its label file (each raw or gzipped).
pub fn load(images: &Path, labels: &Path) -> Result<Dataset> {
    let (ib, lb) = (read_file(images)?, read_file(labels)?);
    from_bytes(&ib, &images.display().to_string(), &lb, &labels.display().to_string())
}
