//! What several `hopfield et` subcommands share: reading a checkpoint and the data it needs,
//! checking masks and image shapes.

use std::path::Path;

use anyhow::Result;
use hopfield_train::tasks::masked_image::checkpoint::{load, CheckpointMeta};

/// A checkpoint's model on `device` and its metadata.
pub fn load_checkpoint(
    path: &Path,
    device: &burn::tensor::Device,
) -> Result<(hopfield::et::ImageEnergyTransformer, CheckpointMeta)> {
    Ok(load(path, device)?)
}

/// The data set to use: the one given, else the checkpoint's.
pub fn data_for(meta: &CheckpointMeta, data: &Option<hopfield_data::DataSource>) -> Result<hopfield_data::DataSource> {
    match data {
        Some(d) => Ok(d.clone()),
        None if meta.data.is_empty() => {
            let (c, h, w) = meta.train.model.image;
            anyhow::bail!(
                "this checkpoint names no data set (it was imported from a .npz): pass --data with {c}×{h}×{w} \
                 images, or --image FILE"
            )
        }
        None => meta.data.parse().map_err(anyhow::Error::msg),
    }
}

/// A split of `source`, checked against the checkpoint's image shape.
pub fn load_checked(
    source: &hopfield_data::DataSource,
    split: hopfield_data::Split,
    data_dir: &Path,
    meta: &CheckpointMeta,
) -> Result<hopfield_data::Dataset> {
    let ds = crate::common::load_split(source, split, data_dir)?;
    let shape = [ds.channels(), ds.height(), ds.width()];
    anyhow::ensure!(
        shape == [meta.train.model.image.0, meta.train.model.image.1, meta.train.model.image.2],
        "{source} holds {}×{}×{} images but the checkpoint's model takes {}×{}×{}",
        shape[0],
        shape[1],
        shape[2],
        meta.train.model.image.0,
        meta.train.model.image.1,
        meta.train.model.image.2
    );
    Ok(ds)
}

/// A `--mask` holds only 0 and 1; the error names the first other value and where it is.
pub fn ensure_zero_one(path: &Path, mask: &[f32]) -> Result<()> {
    if let Some((i, v)) = mask.iter().enumerate().find(|(_, v)| **v != 0.0 && **v != 1.0) {
        anyhow::bail!("--mask {}: value {v} at patch {i}; a mask holds only 0 and 1", path.display());
    }
    Ok(())
}

/// C×H×W from a flag's text.
pub fn parse_image_shape(s: &str) -> Result<(usize, usize, usize)> {
    let parts: Vec<&str> = s.split(['x', '×', 'X']).collect();
    let nums: Vec<usize> = parts.iter().filter_map(|p| p.trim().parse().ok()).collect();
    anyhow::ensure!(parts.len() == 3 && nums.len() == 3, "--image {s}: expected channels×height×width, e.g. 3x224x224");
    Ok((nums[0], nums[1], nums[2]))
}
