//! The MIL picture: test bags with the weight the pooling gives each instance.

use burn::tensor::Device;
use hopfield_data::Dataset;

use super::{write_grid, Picture};
use crate::error::Result;
use crate::tasks::mil::{batch, values, Bags, MilModel};

/// Draws `rows` test bags (half positive, half negative, in order of appearance), one row each: every
/// instance with a bar under it as long as the weight the pooling gives it (red; a full cell is 1).
pub fn write_instance_weights(
    model: &MilModel,
    ds: &Dataset,
    bags: &Bags,
    rows: usize,
    path: &std::path::Path,
    device: &Device,
) -> Result<()> {
    let pick: Vec<usize> = [true, false]
        .iter()
        .flat_map(|&want| (0..bags.len()).filter(move |&i| bags.labels[i] == want).take(rows.div_ceil(2)))
        .collect();
    let (x, lengths) = batch(ds, bags, &pick, device);
    let m = x.dims()[1];
    let w = values(model.instance_weights(x, &lengths)?, "instance weights")?;
    let shape = (ds.channels(), ds.height(), ds.width());
    let grid: Vec<Vec<Picture>> = pick
        .iter()
        .enumerate()
        .map(|(slot, &bag)| {
            let weights = &w[slot * m..];
            bags.instances[bag]
                .iter()
                .zip(weights)
                .map(|(&j, &a)| with_weight_bar(&ds.image(j), shape, a as f32))
                .collect()
        })
        .collect();
    write_grid(path, &grid, &[], 56)
}

/// An image (channels-first, 1 or 3 channels) as RGB with a band below it: a red bar as long as
/// `weight` of the width (clamped to [0, 1]) on light grey.
fn with_weight_bar(img: &[f32], (c, h, w): (usize, usize, usize), weight: f32) -> Picture {
    let (band, plane) = ((h / 5).max(2), h * w);
    let hh = h + band;
    let bar = (weight.clamp(0.0, 1.0) * w as f32).round() as usize;
    let mut v = vec![0.9f32; 3 * hh * w];
    for (ch, colour) in [0.85f32, 0.1, 0.1].into_iter().enumerate() {
        let out = &mut v[ch * hh * w..(ch + 1) * hh * w];
        let src = if c == 1 { 0 } else { ch };
        out[..plane].copy_from_slice(&img[src * plane..(src + 1) * plane]);
        // one grey row between the image and the bar
        for row in out[plane + w..].chunks_mut(w) {
            row[..bar].fill(colour);
        }
    }
    Picture { channels: 3, height: hh, width: w, values: v }
}
