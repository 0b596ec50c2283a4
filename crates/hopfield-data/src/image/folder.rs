//! A folder of images, one sub-folder per class (class = sub-folder name, labels in sorted order).
//! PNG and JPEG files are read; every image must have the same size. The set is grey (1 channel)
//! when every image is grey, else RGB (3 channels).

use std::path::{Path, PathBuf};

use crate::dataset::Dataset;
use crate::error::{format_err, io_err, Result};

fn is_image(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()).as_deref(),
        Some("png" | "jpg" | "jpeg")
    )
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io_err(dir, e))?
        .map(|e| e.map(|e| e.path()).map_err(|e| io_err(dir, e)))
        .collect::<Result<_>>()?;
    v.retain(|p| !p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.')));
    v.sort();
    Ok(v)
}

/// Loads the image folder at `dir`.
pub fn load(dir: &Path) -> Result<Dataset> {
    let name = dir.display().to_string();
    let classes: Vec<PathBuf> = sorted_entries(dir)?.into_iter().filter(|p| p.is_dir()).collect();
    if classes.is_empty() {
        return Err(format_err(&name, "an image folder needs one sub-folder per class, and this one has none"));
    }
    let mut decoded = Vec::new();
    for (label, class_dir) in classes.iter().enumerate() {
        let files: Vec<PathBuf> =
            sorted_entries(class_dir)?.into_iter().filter(|p| p.is_file() && is_image(p)).collect();
        if files.is_empty() {
            return Err(format_err(class_dir.display(), "class folder holds no PNG or JPEG images"));
        }
        if label > u8::MAX as usize {
            return Err(format_err(&name, format!("{} class folders; at most 256 are supported", classes.len())));
        }
        for f in files {
            let img = open(&f)?;
            decoded.push((f, label as u8, img));
        }
    }
    let (w, h) = (decoded[0].2.width() as usize, decoded[0].2.height() as usize);
    if let Some((f, _, img)) = decoded.iter().find(|(_, _, i)| i.width() as usize != w || i.height() as usize != h) {
        return Err(format_err(
            f.display(),
            format!(
                "image is {}×{} but {} is {w}×{h}; every image must have the same size",
                img.width(),
                img.height(),
                decoded[0].0.display()
            ),
        ));
    }
    let grey = decoded.iter().all(|(_, _, i)| !i.color().has_color());
    let channels = if grey { 1 } else { 3 };
    let mut pixels = Vec::with_capacity(decoded.len() * channels * w * h);
    let mut labels = Vec::with_capacity(decoded.len());
    for (_, label, img) in decoded {
        labels.push(label);
        push_planes(&img, channels, &mut pixels);
    }
    let class_names =
        classes.iter().map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()).collect();
    Dataset::new(name, (channels, h, w), pixels, 255, labels, class_names)
}

/// One PNG or JPEG file as a one-image data set of `channels` × `height` × `width` (class
/// "image"): colour is converted to grey (luma) for one channel, grey is repeated for three.
/// A file of another size is scaled (bilinear, ignoring the aspect ratio) when `resize` is set,
/// and is an error naming both sizes otherwise.
pub fn load_image_file(path: &Path, (channels, height, width): (usize, usize, usize), resize: bool) -> Result<Dataset> {
    let name = path.display().to_string();
    let img = open(path)?;
    if channels != 1 && channels != 3 {
        return Err(format_err(&name, format!("images of {channels} channels are not supported (1 or 3)")));
    }
    let (w, h) = (img.width() as usize, img.height() as usize);
    let img = if (w, h) != (width, height) {
        if !resize {
            return Err(format_err(
                &name,
                format!(
                    "the image is {w}×{h} (width×height) but the model takes {width}×{height}; resize it to \
                     that size"
                ),
            ));
        }
        img.resize_exact(width as u32, height as u32, image::imageops::FilterType::Triangle)
    } else {
        img
    };
    let mut pixels = Vec::with_capacity(channels * height * width);
    push_planes(&img, channels, &mut pixels);
    Dataset::new(name, (channels, height, width), pixels, 255, vec![0], vec!["image".into()])
}

/// Decodes an image file; an undecodable one is an error naming it.
fn open(path: &Path) -> Result<image::DynamicImage> {
    image::open(path).map_err(|e| match e {
        image::ImageError::IoError(source) => io_err(path, source),
        other => format_err(path.display(), format!("cannot decode image: {other}")),
    })
}

/// Appends the image's pixels as `channels` (1: luma, 3: RGB) channel-major planes.
fn push_planes(img: &image::DynamicImage, channels: usize, pixels: &mut Vec<u8>) {
    if channels == 1 {
        pixels.extend_from_slice(img.to_luma8().as_raw());
    } else {
        // Interleaved RGB → channel-major planes.
        let rgb = img.to_rgb8();
        let raw = rgb.as_raw();
        for c in 0..3 {
            pixels.extend(raw.iter().skip(c).step_by(3));
        }
    }
}
