//! An in-memory image data set: raw 8-bit pixels (channels first) and class labels.

use crate::error::{format_err, DataError, Result};

/// A labelled image data set. Pixels stay in their stored 8-bit form (one copy of the data);
/// [`Dataset::image`] converts one image to f32 in [0, 1].
///
/// # Shapes
/// `pixels` holds `len() × channels × height × width` bytes, image after image, each image
/// channel-major (all of channel 0 row by row, then channel 1, …).
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    name: String,
    channels: usize,
    height: usize,
    width: usize,
    pixels: Vec<u8>,
    max_value: u8,
    labels: Vec<u8>,
    class_names: Vec<String>,
}

impl Dataset {
    /// Builds a data set, checking that the sizes agree and every label names a class.
    ///
    /// `max_value` is the stored value of full intensity (255 for 8-bit images, 16 for the
    /// sklearn digits).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: impl Into<String>,
        (channels, height, width): (usize, usize, usize),
        pixels: Vec<u8>,
        max_value: u8,
        labels: Vec<u8>,
        class_names: Vec<String>,
    ) -> Result<Self> {
        let name = name.into();
        let image_len = channels * height * width;
        if image_len == 0 {
            return Err(format_err(&name, format!("image shape {channels}×{height}×{width} has no pixels")));
        }
        if pixels.len() != labels.len() * image_len {
            return Err(format_err(
                &name,
                format!(
                    "{} labels need {} pixel bytes of {channels}×{height}×{width} images, found {}",
                    labels.len(),
                    labels.len() * image_len,
                    pixels.len()
                ),
            ));
        }
        if max_value == 0 {
            return Err(format_err(&name, "max_value must be positive"));
        }
        if let Some(i) = pixels.iter().position(|&p| p > max_value) {
            return Err(format_err(
                &name,
                format!("pixel value {} at byte {i} exceeds the maximum {max_value}", pixels[i]),
            ));
        }
        if let Some(i) = labels.iter().position(|&l| l as usize >= class_names.len()) {
            return Err(format_err(
                &name,
                format!("label {} of image {i} is outside 0..{}", labels[i], class_names.len().saturating_sub(1)),
            ));
        }
        Ok(Dataset { name, channels, height, width, pixels, max_value, labels, class_names })
    }

    /// Where the data came from (a path or a built-in name).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    /// Channels per image (1 grey, 3 RGB).
    pub fn channels(&self) -> usize {
        self.channels
    }
    /// Image height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }
    /// Image width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }
    /// channels × height × width.
    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }
    /// The stored value of full intensity.
    pub fn max_value(&self) -> u8 {
        self.max_value
    }
    /// Class names, indexed by label.
    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }
    /// All labels.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }
    /// The stored pixels of image `i`.
    pub fn raw(&self, i: usize) -> &[u8] {
        let l = self.image_len();
        &self.pixels[i * l..(i + 1) * l]
    }
    /// Image `i` as f32 in [0, 1].
    pub fn image(&self, i: usize) -> Vec<f32> {
        let s = 1.0 / self.max_value as f32;
        self.raw(i).iter().map(|&p| p as f32 * s).collect()
    }

    /// The images at `range`, as a new data set (used for 80/20 splits).
    pub fn slice(&self, range: std::ops::Range<usize>, suffix: &str) -> Dataset {
        self.select(&range.collect::<Vec<_>>(), suffix)
    }

    /// The images `idx` (in that order), named with `suffix` appended.
    pub fn select(&self, idx: &[usize], suffix: &str) -> Dataset {
        let l = self.image_len();
        Dataset {
            name: format!("{}{suffix}", self.name),
            channels: self.channels,
            height: self.height,
            width: self.width,
            pixels: idx.iter().flat_map(|&i| self.pixels[i * l..(i + 1) * l].iter().copied()).collect(),
            max_value: self.max_value,
            labels: idx.iter().map(|&i| self.labels[i]).collect(),
            class_names: self.class_names.clone(),
        }
    }

    /// The first `k` images, or an error naming both numbers when the set has fewer.
    pub fn first(&self, k: usize) -> Result<Dataset> {
        if k > self.len() {
            return Err(DataError::Invalid {
                what: "number of images",
                problem: format!("asked for {k} but {} holds only {}", self.name, self.len()),
            });
        }
        Ok(self.slice(0..k, ""))
    }
}

/// Class names "0".."9" for the digit sets.
pub(crate) fn digit_classes() -> Vec<String> {
    (0..10).map(|d| d.to_string()).collect()
}
