//! `hopfield et reconstruct`: pictures (and arrays) of a checkpoint's reconstructions.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use hopfield_train::pictures::et::{reconstruct, Reconstructor};
use hopfield_train::tasks::masked_image::checkpoint::CheckpointMeta;

use super::common::{data_for, ensure_zero_one, load_checked, load_checkpoint};

#[derive(Args, Debug)]
pub struct EtReconstructArgs {
    /// Checkpoint folder written by `hopfield et train`.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Data set whose first test images are shown; default: the one the checkpoint was trained on.
    #[arg(long)]
    pub data: Option<hopfield_data::DataSource>,
    /// How many test images to show.
    #[arg(long, default_value_t = 6)]
    pub count: usize,
    /// Seed of the masks.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Folder for the pictures (created if missing).
    #[arg(long, default_value = "out/et-reconstruct")]
    pub out: PathBuf,
    /// Reconstruct this PNG or JPEG file instead of test images (converted to the model's
    /// channels; another size is an error unless --resize).
    #[arg(long, conflicts_with_all = ["data", "count"])]
    pub image: Option<PathBuf>,
    /// Scale --image to the model's height and width.
    #[arg(long, requires = "image")]
    pub resize: bool,
    /// Which patches to mask: a .npy of 0/1 per patch (shape N, or rows × columns of patches),
    /// used for every image; 1 = masked (replaced by the MASK token and reconstructed).
    /// Default: random masks from --seed as in training.
    #[arg(long)]
    pub mask: Option<PathBuf>,
    /// Also write reconstruction.npy (the decoder's output after T steps, C×H×W per image, in the
    /// model's normalised space), energies.npy (E at steps 0..=T per image), input.npy (the
    /// normalised input) and mask.npy (the 0/1 mask per patch). With several images each array
    /// has a leading image axis.
    #[arg(long)]
    pub save_npy: bool,
}

/// Reads `--mask`: 0/1 per patch, shape (N,), (1, N) or (rows, columns) of patches.
fn read_mask(path: &Path, meta: &CheckpointMeta) -> Result<Vec<f32>> {
    let m = &meta.train.model;
    let (rows, cols) = (m.image.1 / m.patch, m.image.2 / m.patch);
    let n = rows * cols;
    let a = hopfield_data::npy::read_npy(path).with_context(|| format!("reading --mask {}", path.display()))?;
    anyhow::ensure!(
        a.data.len() == n && (a.shape == [n] || a.shape == [1, n] || a.shape == [rows, cols]),
        "--mask {}: shape {:?}, but the model cuts its images into {n} patches ({rows} rows × {cols} columns): \
         expected ({n},) or ({rows}, {cols})",
        path.display(),
        a.shape
    );
    ensure_zero_one(path, &a.data)?;
    Ok(a.data)
}

/// Runs `et reconstruct`.
pub fn run(a: &EtReconstructArgs, data_dir: &Path, device: &burn::tensor::Device) -> Result<()> {
    anyhow::ensure!(a.count > 0, "--count must be at least 1");
    let (model, meta) = load_checkpoint(&a.checkpoint, device)?;
    let ds = match &a.image {
        Some(file) => hopfield_data::image::folder::load_image_file(file, meta.train.model.image, a.resize)
            .with_context(|| {
                let hint = if a.resize { "" } else { " (--resize scales an image of another size)" };
                format!("--image {}{hint}", file.display())
            })?,
        None => {
            let source = data_for(&meta, &a.data)?;
            load_checked(&source, hopfield_data::Split::Test, data_dir, &meta)?
        }
    };
    let cfg = meta.train.clone();
    let spec = cfg.validate()?;
    let count = a.count.min(ds.len());
    let n = cfg.model.patches();
    let (scored, replaced) = match &a.mask {
        Some(path) => {
            let mask = read_mask(path, &meta)?;
            let all: Vec<f32> = (0..count).flat_map(|_| mask.iter().copied()).collect();
            (all.clone(), all)
        }
        None => spec.from_seed(a.seed, count, n),
    };
    let rec = Reconstructor { model: &model, norm: &meta.normalization, descent: &cfg.model.descent };
    let r = reconstruct(&rec, &ds, (&scored, &replaced), &a.out, device)?;
    let masked = scored.iter().filter(|v| **v == 1.0).count() / count;
    let mask_tokens = replaced.iter().filter(|v| **v == 1.0).count() / count;
    println!(
        "{} image(s) of {}×{}×{}, {masked} of {n} patches masked ({mask_tokens} replaced by the MASK token), T = {}, α = {}",
        count, cfg.model.image.0, cfg.model.image.1, cfg.model.image.2, cfg.model.descent.steps, cfg.model.descent.step_size
    );
    for i in 0..count {
        let e = &r.energies[i * (cfg.model.descent.steps + 1)..(i + 1) * (cfg.model.descent.steps + 1)];
        println!(
            "  image {i}: energy {:.4} at t = 0 → {:.4} at t = {}",
            e[0], e[cfg.model.descent.steps], cfg.model.descent.steps
        );
    }
    let mut files = r.files.clone();
    if a.save_npy {
        let (c, h, w) = cfg.model.image;
        let lead: Vec<usize> = if count == 1 { vec![] } else { vec![count] };
        let shape = |rest: &[usize]| [lead.as_slice(), rest].concat();
        for (name, shape, data) in [
            ("reconstruction.npy", shape(&[c, h, w]), &r.reconstruction),
            ("energies.npy", shape(&[cfg.model.descent.steps + 1]), &r.energies),
            ("input.npy", shape(&[c, h, w]), &r.input),
            ("mask.npy", shape(&[n]), &replaced),
        ] {
            let path = a.out.join(name);
            hopfield_data::outputs::claim(&path)?;
            hopfield_data::npy::write_npy(&path, &shape, data)?;
            files.push(path);
        }
    }
    for f in files {
        println!("  wrote {}", f.display());
    }
    Ok(())
}
