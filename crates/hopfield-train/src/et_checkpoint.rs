//! Checkpoints of the image Energy Transformer: a folder holding `model.safetensors` (the
//! weights), `config.json` (the model and training configuration, the normalisation and the
//! seed) and, when written by training, `optimizer.bpk` (AdamW's state, burnpack), so that
//! evaluation, reconstruction and `--resume` need only the folder. A checkpoint is written to
//! a temporary folder and renamed into place, so a killed run never leaves a broken one.

use std::path::{Path, PathBuf};

use burn::optim::{ModuleOptimizer, OptimizerRecord};
use burn::store::{ModuleSnapshot, SafetensorsStore};
use burn::tensor::Device;
use hopfield::et::ImageEnergyTransformer;
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};
use crate::et_train::{train_device, with_stable_ids, EtTrainConfig, Normalization, Resume};

/// The format tag written into every `config.json`.
pub const FORMAT: &str = "hopfield-et-image/1";

/// Everything besides the weights: the training configuration (which holds the model's), the
/// normalisation, the epochs trained and the data source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointMeta {
    /// Always [`FORMAT`].
    pub format: String,
    /// The run's configuration; `train.model` is the model's.
    pub train: EtTrainConfig,
    /// The normalisation the model was trained with.
    pub normalization: Normalization,
    /// Epochs trained.
    pub epoch: usize,
    /// The data source trained on.
    pub data: String,
}

impl CheckpointMeta {
    /// The record of a run.
    pub fn new(cfg: &EtTrainConfig, norm: &Normalization, epoch: usize, data: &str) -> Self {
        CheckpointMeta {
            format: FORMAT.into(),
            train: cfg.clone(),
            normalization: norm.clone(),
            epoch,
            data: data.into(),
        }
    }
}

fn werr(path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::Write { path: path.to_path_buf(), problem: e.to_string() }
}

fn bad(path: &Path, problem: impl std::fmt::Display) -> TrainError {
    TrainError::Invalid {
        name: "checkpoint",
        value: path.display().to_string(),
        expected: format!("a hopfield Energy Transformer checkpoint folder: {problem}"),
    }
}

/// Writes `model`, `meta` and, when given, the optimiser's state into the folder `dir`,
/// atomically (temporary folder + rename).
pub fn save(
    dir: &Path,
    model: &ImageEnergyTransformer,
    meta: &CheckpointMeta,
    optimizer: Option<&ModuleOptimizer>,
) -> Result<()> {
    save_folder(dir, |tmp| {
        let weights = tmp.join("model.safetensors");
        let mut store = SafetensorsStore::from_file(weights.clone()).overwrite(true);
        model.save_into(&mut store).map_err(|e| werr(&weights, e))?;
        let cfg = tmp.join("config.json");
        write_json(&cfg, meta)?;
        let mut files = vec![weights, cfg];
        if let Some(optim) = optimizer {
            let path = tmp.join(OPTIMIZER);
            optim.to_record().save(&path).map_err(|e| werr(&path, e))?;
            files.push(path);
        }
        Ok(files)
    })
}

/// Reads a checkpoint folder's `config.json` as `T` (a `what`); `bad` turns a problem into the
/// error naming the file. Returns the file's path with the value.
pub fn read_meta<T: serde::de::DeserializeOwned>(
    dir: &Path,
    what: &str,
    bad: impl Fn(&Path, String) -> TrainError,
) -> Result<(PathBuf, T)> {
    let path = dir.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|e| bad(&path, format!("cannot read it: {e}")))?;
    let value = serde_json::from_str(&text).map_err(|e| bad(&path, format!("not a {what}: {e}")))?;
    Ok((path, value))
}

/// Writes `value` as pretty JSON to `path`.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let json = serde_json::to_string_pretty(value).map_err(|e| werr(path, e))?;
    std::fs::write(path, json).map_err(|e| werr(path, e))
}

/// Writes a checkpoint folder atomically: `write` fills a temporary folder beside `dir` and
/// returns the files it wrote; they are synced, and the folder is renamed into place (an
/// existing `dir` is replaced). A killed run leaves either the old folder or the new one.
pub fn save_folder(dir: &Path, write: impl FnOnce(&Path) -> Result<Vec<PathBuf>>) -> Result<()> {
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| werr(parent, e))?;
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "checkpoint".into());
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| werr(&tmp, e))?;
    let files = write(&tmp)?;
    for f in &files {
        std::fs::File::open(f).and_then(|f| f.sync_all()).map_err(|e| werr(f, e))?;
    }
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    if dir.exists() {
        std::fs::rename(dir, &old).map_err(|e| werr(dir, e))?;
    }
    std::fs::rename(&tmp, dir).map_err(|e| werr(dir, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// The optimiser state's file name inside a checkpoint folder.
pub const OPTIMIZER: &str = "optimizer.bpk";

/// Reads a checkpoint folder to continue its run: the model on [`train_device`], the optimiser
/// state and the configuration.
pub fn load_for_resume(dir: &Path) -> Result<(Resume, CheckpointMeta)> {
    let (model, meta) = load(dir, &train_device())?;
    let path = dir.join(OPTIMIZER);
    if !path.is_file() {
        return Err(bad(
            &path,
            "no optimiser state here (only `hopfield et train` writes it), so the run cannot be resumed",
        ));
    }
    let optimizer =
        OptimizerRecord::load(&path).map_err(|e| bad(&path, format!("cannot read the optimiser state: {e}")))?;
    // AdamW keeps two moments per parameter; a record short of that is not this model's.
    let params = {
        struct Count(usize);
        impl burn::module::ModuleVisitor for Count {
            fn visit_float<const D: usize>(&mut self, _: &burn::module::Param<burn::tensor::Tensor<D>>) {
                self.0 += 1;
            }
        }
        let mut c = Count(0);
        burn::module::Module::visit(&model, &mut c);
        c.0
    };
    if optimizer.len() < 2 * params {
        return Err(bad(
            &path,
            format!("the optimiser state holds {} tensors, the model's AdamW needs {}", optimizer.len(), 2 * params),
        ));
    }
    Ok((Resume { model, optimizer, epochs_done: meta.epoch }, meta))
}

/// Reads a checkpoint folder; every problem is an error naming the file.
pub fn load(dir: &Path, device: &Device) -> Result<(ImageEnergyTransformer, CheckpointMeta)> {
    let (cfg_path, meta): (_, CheckpointMeta) = read_meta(dir, "checkpoint configuration", bad)?;
    if meta.format != FORMAT {
        return Err(bad(&cfg_path, format!("format '{}', expected '{FORMAT}'", meta.format)));
    }
    let mut model = with_stable_ids(meta.train.model.init(meta.train.seed, device)?);
    let weights: PathBuf = dir.join("model.safetensors");
    if !weights.is_file() {
        return Err(bad(&weights, "the weights file is missing"));
    }
    let mut store = SafetensorsStore::from_file(weights.clone());
    let applied = model.load_from(&mut store).map_err(|e| bad(&weights, format!("cannot read the weights: {e}")))?;
    if !applied.missing.is_empty() || !applied.errors.is_empty() {
        let missing: Vec<&str> = applied.missing.iter().map(|m| m.0.as_str()).collect();
        return Err(bad(
            &weights,
            format!("tensors missing {missing:?}, errors {:?} (does it match config.json?)", applied.errors),
        ));
    }
    Ok((model, meta))
}
