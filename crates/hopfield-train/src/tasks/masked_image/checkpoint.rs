//! Checkpoints of the image Energy Transformer: a folder holding `model.safetensors` (the
//! weights), `config.json` (the model and training configuration, the normalisation, the epoch
//! and the data set) and, when written by training, `optimizer.bpk` (AdamW's state, burnpack), so
//! that evaluation, reconstruction and resuming need only the folder. Written through
//! [`crate::checkpoint::save_folder`], so a kill at any instant leaves a loadable one.

use std::path::{Path, PathBuf};

use burn::optim::{ModuleOptimizer, OptimizerRecord};
use burn::store::{ModuleSnapshot, SafetensorsStore};
use burn::tensor::Device;
use hopfield::et::ImageEnergyTransformer;
use hopfield_data::batch::Normalization;
use serde::{Deserialize, Serialize};

use super::EtTrainConfig;
use crate::checkpoint::{
    checkpoint_error, parameter_tensors, read_config, resolve, save_folder, with_stable_ids, write_json,
};
use crate::error::{Result, TrainError};

/// The format tag written into every `config.json`.
pub const FORMAT: &str = "hopfield-et-image/1";

/// The optimiser state's file name inside a checkpoint folder.
pub const OPTIMIZER: &str = "optimizer.bpk";

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

/// A run to continue: the model and optimiser state after `epochs_done` epochs of the same
/// configuration (see [`load_for_resume`]).
pub struct Resume {
    /// The model, on the autodiff device.
    pub model: ImageEnergyTransformer,
    /// AdamW's moments and step counts.
    pub optimizer: OptimizerRecord,
    /// Epochs already trained.
    pub epochs_done: usize,
}

fn bad(path: &Path, problem: impl std::fmt::Display, source: Option<crate::error::Cause>) -> TrainError {
    checkpoint_error(path, format!("{problem} (a hopfield Energy Transformer checkpoint folder is expected)"), source)
}

/// Writes `model`, `meta` and, when given, the optimiser's state into the folder `dir`; a kill at
/// any instant leaves the old or the new checkpoint.
pub fn save(
    dir: &Path,
    model: &ImageEnergyTransformer,
    meta: &CheckpointMeta,
    optimizer: Option<&ModuleOptimizer>,
) -> Result<()> {
    save_folder(dir, |tmp| {
        let weights = tmp.join("model.safetensors");
        let mut store = SafetensorsStore::from_file(weights.clone()).overwrite(true);
        model.save_into(&mut store).map_err(|e| TrainError::write(&weights, e.to_string()))?;
        let cfg = tmp.join("config.json");
        write_json(&cfg, meta)?;
        let mut files = vec![weights, cfg];
        if let Some(optim) = optimizer {
            let path = tmp.join(OPTIMIZER);
            optim.to_record().save(&path).map_err(|e| TrainError::write(&path, e.to_string()))?;
            files.push(path);
        }
        Ok(files)
    })
}

/// Reads a checkpoint folder to continue its run: the model on `device`'s autodiff twin, the
/// optimiser state and the configuration.
pub fn load_for_resume(dir: &Path, device: &Device) -> Result<(Resume, CheckpointMeta)> {
    let (model, meta) = load(dir, &device.clone().autodiff())?;
    let path = resolve(dir).join(OPTIMIZER);
    if !path.is_file() {
        return Err(bad(
            &path,
            "no optimiser state here (only training writes it), so the run cannot be resumed",
            None,
        ));
    }
    let optimizer =
        OptimizerRecord::load(&path).map_err(|e| bad(&path, format!("cannot read the optimiser state: {e}"), None))?;
    // AdamW keeps two moments per parameter; a record short of that is not this model's.
    let params = parameter_tensors(&model);
    if optimizer.len() < 2 * params {
        return Err(bad(
            &path,
            format!("the optimiser state holds {} tensors, the model's AdamW needs {}", optimizer.len(), 2 * params),
            None,
        ));
    }
    Ok((Resume { model, optimizer, epochs_done: meta.epoch }, meta))
}

/// Reads a checkpoint folder; every problem is an error naming the file.
pub fn load(dir: &Path, device: &Device) -> Result<(ImageEnergyTransformer, CheckpointMeta)> {
    let (folder, meta): (_, CheckpointMeta) = read_config(dir, "checkpoint configuration")?;
    let cfg_path = folder.join("config.json");
    if meta.format != FORMAT {
        return Err(bad(&cfg_path, format!("format '{}', expected '{FORMAT}'", meta.format), None));
    }
    // The configuration's values before any weight is allocated for it.
    meta.train.validate().map_err(|e| bad(&cfg_path, format!("an invalid configuration: {e}"), None))?;
    meta.normalization
        .check(meta.train.model.image.0)
        .map_err(|p| bad(&cfg_path, format!("an invalid normalisation: {p}"), None))?;
    crate::budget::check(
        &format!(
            "the model of {} (D = {}, M = {})",
            cfg_path.display(),
            meta.train.model.et.dim,
            meta.train.model.et.memories
        ),
        super::memory_needed(&meta.train.model, 1, false),
    )?;
    let weights: PathBuf = folder.join("model.safetensors");
    if !weights.is_file() {
        return Err(bad(&weights, "the weights file is missing", None));
    }
    // The weights' shapes, from the file's header, against the configuration's, before the
    // model is built.
    let stored = safetensors_shapes(&weights)?;
    for hopfield::et::ImageParam { name, shape, .. } in meta.train.model.parameters() {
        match stored.get(name) {
            Some(s) if *s == shape => {}
            Some(s) => {
                return Err(bad(
                    &weights,
                    format!("{name} is {s:?} but config.json's model needs {shape:?} (do they belong together?)"),
                    None,
                ))
            }
            None => return Err(bad(&weights, format!("it holds no tensor {name}"), None)),
        }
    }
    let mut model = with_stable_ids(meta.train.model.init(meta.train.seed, device)?);
    let mut store = SafetensorsStore::from_file(weights.clone());
    let applied =
        model.load_from(&mut store).map_err(|e| bad(&weights, format!("cannot read the weights: {e}"), None))?;
    if !applied.missing.is_empty() || !applied.errors.is_empty() {
        let missing: Vec<&str> = applied.missing.iter().map(|m| m.0.as_str()).collect();
        return Err(bad(
            &weights,
            format!("tensors missing {missing:?}, errors {:?} (does it match config.json?)", applied.errors),
            None,
        ));
    }
    if let Some((path, v)) = crate::checkpoint::first_non_finite(&model) {
        return Err(bad(&weights, format!("the parameter {path} holds {v}; the weights must be finite"), None));
    }
    Ok((model, meta))
}

/// The tensor shapes a safetensors file declares in its header (an 8-byte little-endian length,
/// then that much JSON), read without loading the tensors; a header longer than the file or than
/// 100 MB is refused.
fn safetensors_shapes(path: &Path) -> Result<std::collections::BTreeMap<String, Vec<usize>>> {
    use std::io::Read;
    let not = |problem: String| bad(path, format!("not a safetensors file: {problem}"), None);
    let mut f = std::fs::File::open(path).map_err(|e| bad(path, "cannot open it", Some(e.into())))?;
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut len = [0u8; 8];
    f.read_exact(&mut len).map_err(|e| not(format!("no header ({e})")))?;
    let n = u64::from_le_bytes(len);
    if n > size.saturating_sub(8) || n > 100 << 20 {
        return Err(not(format!("a header of {n} bytes in a file of {size}")));
    }
    let mut header = vec![0u8; n as usize];
    f.read_exact(&mut header).map_err(|e| not(format!("a truncated header ({e})")))?;
    let json: serde_json::Value =
        serde_json::from_slice(&header).map_err(|e| not(format!("its header is not JSON ({e})")))?;
    let entries = json.as_object().ok_or_else(|| not("its header is not a JSON object".into()))?;
    let mut shapes = std::collections::BTreeMap::new();
    for (name, v) in entries.iter().filter(|(k, _)| *k != "__metadata__") {
        let shape = v
            .get("shape")
            .and_then(|s| s.as_array())
            .and_then(|a| a.iter().map(|x| x.as_u64().map(|x| x as usize)).collect::<Option<Vec<_>>>())
            .ok_or_else(|| not(format!("tensor {name} has no shape")))?;
        shapes.insert(name.clone(), shape);
    }
    Ok(shapes)
}
