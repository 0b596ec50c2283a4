//! Per-channel normalisation of images, x ← (pixel − mean) / std, with pixels in [0, 1].

use crate::dataset::Dataset;

/// Per-channel normalisation x ← (pixel − mean) / std, pixels in [0, 1].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Normalization {
    /// Mean per channel.
    pub mean: Vec<f32>,
    /// Standard deviation per channel.
    pub std: Vec<f32>,
}

impl Normalization {
    /// The data set's own per-channel mean and standard deviation (of the training split, so
    /// nothing of the test split leaks into the model's input).
    pub fn of(ds: &Dataset) -> Self {
        let (c, hw) = (ds.channels(), ds.height() * ds.width());
        let (mut s, mut s2) = (vec![0f64; c], vec![0f64; c]);
        for i in 0..ds.len() {
            let img = ds.image(i);
            for ch in 0..c {
                for &v in &img[ch * hw..(ch + 1) * hw] {
                    s[ch] += v as f64;
                    s2[ch] += (v as f64) * (v as f64);
                }
            }
        }
        let n = (ds.len() * hw) as f64;
        let mean: Vec<f64> = s.iter().map(|v| v / n).collect();
        let std = s2.iter().zip(&mean).map(|(v, m)| ((v / n - m * m).max(1e-12)).sqrt() as f32).collect();
        Normalization { mean: mean.into_iter().map(|m| m as f32).collect(), std }
    }

    /// Checks the values for images of `channels` channels: one finite mean and one positive,
    /// finite standard deviation per channel. The error says what is wrong, with the values.
    pub fn check(&self, channels: usize) -> Result<(), String> {
        if self.mean.len() != channels || self.std.len() != channels {
            return Err(format!(
                "{} means and {} standard deviations for images of {channels} channels (one each per channel)",
                self.mean.len(),
                self.std.len()
            ));
        }
        if let Some(m) = self.mean.iter().find(|m| !m.is_finite()) {
            return Err(format!("mean {m} is not finite"));
        }
        if let Some(s) = self.std.iter().find(|s| !(**s > 0.0 && s.is_finite())) {
            return Err(format!("standard deviation {s} is not positive and finite"));
        }
        Ok(())
    }

    /// Images `idx` of `ds`, normalised, row-major [B, C, H, W].
    pub fn values(&self, ds: &Dataset, idx: &[usize]) -> Vec<f32> {
        let (c, h, w) = (ds.channels(), ds.height(), ds.width());
        let hw = h * w;
        let mut v = Vec::with_capacity(idx.len() * c * hw);
        for &i in idx {
            let img = ds.image(i);
            for ch in 0..c {
                v.extend(img[ch * hw..(ch + 1) * hw].iter().map(|p| (p - self.mean[ch]) / self.std[ch]));
            }
        }
        v
    }
}
