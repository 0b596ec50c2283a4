//! Pictures of a trained image Energy Transformer: original | masked input | reconstruction,
//! the decoded image after every descent step, and the energy against the step.

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};
use hopfield::et::{Descent, ImageEnergyTransformer, MaskSpec};
use hopfield_data::Dataset;

use crate::error::Result;
use hopfield_data::batch::Normalization;

use super::{write_grid, Corner, LinePlot, Mark, Picture, Series};
use crate::tasks::masked_image::image_batch;

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap_or_default()
}

/// What turns images into reconstructions: the model, the normalisation of its inputs and its
/// descent.
#[derive(Debug, Clone, Copy)]
pub struct Reconstructor<'a> {
    /// The model (plain device).
    pub model: &'a ImageEnergyTransformer,
    /// How its input images are normalised.
    pub norm: &'a Normalization,
    /// T and α.
    pub descent: &'a Descent,
}

/// Writes `et-reconstruction.png`, `et-steps.png`, `et-energy.png` and `et-memories.png` for the
/// first `count` images of `ds` into `out`, with masks drawn by `spec` from `seed`.
pub fn write_et_pictures(
    r: &Reconstructor<'_>,
    ds: &Dataset,
    (spec, seed): (MaskSpec, u64),
    count: usize,
    out: &Path,
    device: &Device,
) -> Result<Vec<PathBuf>> {
    let count = count.min(ds.len()).max(1);
    let masks = spec.from_seed(seed, count, r.model.patches());
    Ok(reconstruct(r, ds, (&masks.0, &masks.1), out, device)?.files)
}

/// What [`reconstruct`] computed, for comparison with other implementations.
#[derive(Debug, Clone)]
pub struct ReconstructionData {
    /// The pictures written.
    pub files: Vec<PathBuf>,
    /// The normalised input images, [B, C, H, W].
    pub input: Vec<f32>,
    /// The decoder's output after T steps at every patch (not composited with the visible
    /// patches), in the normalised space, [B, C, H, W].
    pub reconstruction: Vec<f32>,
    /// E(g(x_t)) for t = 0..=T, [B, T + 1].
    pub energies: Vec<f32>,
}

/// A descent of normalised images through the model, as arrays.
#[derive(Debug, Clone)]
pub struct DescentArrays {
    /// The normalised input images, [B, C, H, W].
    pub input: Vec<f32>,
    /// Their patches, [B, N, P].
    pub original: Vec<f32>,
    /// The decoder's output at every patch after each step t = 0..=T, each [B, N, P].
    pub decoded: Vec<Vec<f32>>,
    /// E(g(x_t)) for t = 0..=T, each [B].
    pub energy: Vec<Vec<f32>>,
    /// The decoder's output after T steps as images, [B, C, H, W].
    pub reconstruction: Vec<f32>,
    /// E(g(x_t)) per image, [B, T + 1].
    pub energies: Vec<f32>,
}

/// Runs the descent on normalised `images` [B, C, H, W] whose `replaced` patches ([B, N], 1 =
/// replaced by the MASK token) are masked.
///
/// # Errors
/// Images of another shape than the model's; a mask of another size.
pub fn descent_arrays(
    model: &ImageEnergyTransformer,
    images: Tensor<4>,
    replaced: &[f32],
    descent: &Descent,
    device: &Device,
) -> Result<DescentArrays> {
    let count = images.dims()[0];
    let n = model.patches();
    if replaced.len() != count * n {
        return Err(crate::error::invalid(
            "mask",
            format!("{} values", replaced.len()),
            format!("{count} × {n} (B images of N patches)"),
        ));
    }
    let input = to_vec(images.clone());
    let original = to_vec(model.patchify(images.clone())); // [B, N, P]
    let replaced_t = Tensor::<2>::from_data(TensorData::new(replaced.to_vec(), [count, n]), device);
    let (decoded, energy) = model.trajectory(images, replaced_t, descent)?;
    let p = original.len() / (count * n).max(1);
    let decoded: Vec<Vec<f32>> = decoded.into_iter().map(to_vec).collect();
    let energy: Vec<Vec<f32>> = energy.into_iter().map(to_vec).collect();
    let last = decoded.last().cloned().unwrap_or_default();
    let reconstruction = to_vec(model.unpatchify(Tensor::<3>::from_data(TensorData::new(last, [count, n, p]), device)));
    let energies: Vec<f32> = (0..count).flat_map(|i| energy.iter().map(move |et| et[i])).collect();
    Ok(DescentArrays { input, original, decoded, energy, reconstruction, energies })
}

/// Reconstructs the first B images of `ds` with the given 0/1 masks ([B, N] each: `scored`
/// patches are shown reconstructed, `replaced` ones get the MASK token) and writes the pictures
/// of [`write_et_pictures`] into `out`.
pub fn reconstruct(
    r: &Reconstructor<'_>,
    ds: &Dataset,
    (scored, replaced): (&[f32], &[f32]),
    out: &Path,
    device: &Device,
) -> Result<ReconstructionData> {
    let Reconstructor { model, norm, descent } = *r;
    std::fs::create_dir_all(out).map_err(|e| crate::TrainError::write(out, e))?;
    let n = model.patches();
    let count = scored.len() / n;
    if count == 0 || count > ds.len() || scored.len() != count * n || replaced.len() != scored.len() {
        return Err(crate::error::invalid(
            "masks",
            format!("{} and {} values", scored.len(), replaced.len()),
            format!("B × {n} values each (B images of {n} patches, B ≤ {})", ds.len()),
        ));
    }
    let (scored, replaced) = (scored.to_vec(), replaced.to_vec());
    let idx: Vec<usize> = (0..count).collect();
    let arrays = descent_arrays(model, image_batch(norm, ds, &idx, device), &replaced, descent, device)?;
    let DescentArrays { input, original, decoded: decoded_v, energy: e, reconstruction, energies } = arrays;
    let steps = descent.steps;
    let p = original.len() / (count * n);
    let [c, h, w] = model.image;
    // Patches → picture in [0, 1]: composite of `pick(i, patch)` over the patches of image i.
    let picture = |pick: &dyn Fn(usize) -> Vec<f32>| -> Picture {
        let mut flat = Vec::with_capacity(n * p);
        for k in 0..n {
            flat.extend(pick(k));
        }
        let img = to_vec(model.unpatchify(Tensor::<3>::from_data(TensorData::new(flat, [1, n, p]), device)));
        let hw = h * w;
        let values =
            img.iter().enumerate().map(|(j, v)| (v * norm.std[j / hw] + norm.mean[j / hw]).clamp(0.0, 1.0)).collect();
        Picture { channels: c, height: h, width: w, values }
    };
    let orig_patch = |i: usize, k: usize| original[(i * n + k) * p..(i * n + k + 1) * p].to_vec();
    // Grey (0.5 in pixel space) in normalised units, per patch element's channel.
    let grey: Vec<f32> = (0..p).map(|e| (0.5 - norm.mean[e / (p / c)]) / norm.std[e / (p / c)]).collect();
    let composite = |i: usize, t: usize, k: usize| {
        if scored[i * n + k] == 1.0 {
            decoded_v[t][(i * n + k) * p..(i * n + k + 1) * p].to_vec()
        } else {
            orig_patch(i, k)
        }
    };
    let mut rows = Vec::new();
    let mut strip = Vec::new();
    for i in 0..count {
        let masked_input = picture(&|k| if replaced[i * n + k] == 1.0 { grey.clone() } else { orig_patch(i, k) });
        rows.push(vec![picture(&|k| orig_patch(i, k)), masked_input, picture(&|k| composite(i, steps, k))]);
        strip.push((0..=steps).map(|t| picture(&|k| composite(i, t, k))).collect::<Vec<_>>());
    }
    let grid = out.join("et-reconstruction.png");
    write_grid(&grid, &rows, &["original", "masked", "reconstructed"], 96)?;
    let steps_png = out.join("et-steps.png");
    let titles: Vec<String> = (0..=steps).map(|t| format!("t={t}")).collect();
    let titles: Vec<&str> = titles.iter().map(|s| s.as_str()).collect();
    write_grid(&steps_png, &strip, &titles, 64)?;
    let energy_png = out.join("et-energy.png");
    write_energy_plot(&e, ds, descent.step_size, &energy_png)?;
    let memories_png = out.join("et-memories.png");
    write_memories(model, norm, 64, &memories_png)?;
    Ok(ReconstructionData { files: vec![grid, steps_png, energy_png, memories_png], input, reconstruction, energies })
}

/// The energy E(g(x_t)) of each image against the step t: `e[t][i]` for image i of `ds`.
fn write_energy_plot(e: &[Vec<f32>], ds: &Dataset, step_size: f64, path: &Path) -> Result<()> {
    let count = e.first().map_or(0, Vec::len);
    let series = (0..count)
        .map(|i| Series {
            name: format!("image {i} ({})", ds.class_names()[ds.labels()[i] as usize]),
            points: e.iter().enumerate().map(|(t, et)| (t as f64, et[i] as f64)).collect(),
            color: i,
            mark: Mark::LinePoints,
        })
        .collect();
    LinePlot {
        title: format!("Energy Transformer descent, α = {step_size}"),
        x_label: "step t".into(),
        y_label: "energy E(g(x_t))".into(),
        log_x: false,
        log_y: false,
        series,
        vlines: vec![],
        legend: Corner::UpperRight,
    }
    .write(path, (900, 600))
}

/// The first `count` Hopfield memories ξ_μ decoded as patches (each memory is a token: the
/// decoder's two layer norms and linear map turn it into a C×p×p patch), 8 to a row.
pub fn write_memories(model: &ImageEnergyTransformer, norm: &Normalization, count: usize, path: &Path) -> Result<()> {
    let xi = model.et.hopfield.xi.val(); // [M, D]
    let [m, d] = xi.dims();
    let count = count.min(m).max(1);
    let tokens = xi.slice([0..count, 0..d]).unsqueeze_dim::<3>(0); // [1, count, D]
    let patches = to_vec(model.decode(tokens)); // [1, count, C·p·p]
    let [c, _, _] = model.image;
    let p = model.patch;
    let pp = p * p;
    let pics: Vec<Picture> = patches
        .chunks(c * pp)
        .map(|patch| Picture {
            channels: c,
            height: p,
            width: p,
            values: patch
                .iter()
                .enumerate()
                .map(|(j, v)| (v * norm.std[j / pp] + norm.mean[j / pp]).clamp(0.0, 1.0))
                .collect(),
        })
        .collect();
    let rows: Vec<Vec<Picture>> = pics.chunks(8).map(|r| r.to_vec()).collect();
    write_grid(path, &rows, &[], 40)
}
