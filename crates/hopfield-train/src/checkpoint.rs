//! Checkpoint folders that survive a kill at any instant, and the pieces every checkpoint shares:
//! its `config.json`, burn modules' weights as safetensors and optimiser state, and stable
//! parameter ids.
//!
//! [`save_folder`] writes a checkpoint `DIR` in four steps:
//! 1. the files go into `.DIR.tmp` beside it, each synced to disk ([`SaveStep::Written`]);
//! 2. an existing `DIR` is renamed to `.DIR.old` ([`SaveStep::OldMoved`]);
//! 3. `.DIR.tmp` is renamed to `DIR` ([`SaveStep::NewInPlace`]);
//! 4. `.DIR.old` is removed.
//!
//! A kill after step 2 and before step 3 leaves no `DIR` but a complete `.DIR.old`: every
//! reader goes through [`resolve`], which finds it, and the next save puts the new checkpoint in
//! place and removes it. At every other instant `DIR` is a complete checkpoint, old or new.

use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::Tensor;
use serde::Serialize;

use crate::error::{Result, TrainError};

/// The steps of [`save_folder`], for [`save_folder_until`] (which stops after one, as a kill would).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveStep {
    /// The new files are written and synced in `.DIR.tmp`.
    Written,
    /// The old `DIR` is now `.DIR.old`.
    OldMoved,
    /// The new checkpoint is `DIR`; `.DIR.old` still exists.
    NewInPlace,
}

fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "checkpoint".into());
    parent(dir).join(format!(".{name}.{suffix}"))
}

fn parent(dir: &Path) -> &Path {
    dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// The folder a checkpoint `dir` is read from: `dir` itself, or — when a save was killed between
/// moving the old checkpoint aside and putting the new one in place — the old one, `.DIR.old`.
pub fn resolve(dir: &Path) -> PathBuf {
    let old = sibling(dir, "old");
    if !dir.exists() && old.is_dir() {
        old
    } else {
        dir.to_path_buf()
    }
}

/// Writes a checkpoint folder so that a kill at any instant leaves a loadable one (see the module
/// docs): `write` fills a temporary folder and returns the files it wrote.
pub fn save_folder(dir: &Path, write: impl FnOnce(&Path) -> Result<Vec<PathBuf>>) -> Result<()> {
    save_folder_until(dir, write, None)
}

/// [`save_folder`] stopped after `stop` as a kill at that instant would leave it (for tests).
#[doc(hidden)]
pub fn save_folder_until(
    dir: &Path,
    write: impl FnOnce(&Path) -> Result<Vec<PathBuf>>,
    stop: Option<SaveStep>,
) -> Result<()> {
    let parent = parent(dir);
    std::fs::create_dir_all(parent).map_err(|e| TrainError::write(parent, e))?;
    let (tmp, old) = (sibling(dir, "tmp"), sibling(dir, "old"));
    // A temporary folder of a killed save is ours and incomplete.
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| TrainError::write(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| TrainError::write(&tmp, e))?;
    for f in write(&tmp)? {
        std::fs::File::open(&f).and_then(|f| f.sync_all()).map_err(|e| TrainError::write(&f, e))?;
    }
    sync_dir(&tmp);
    if stop == Some(SaveStep::Written) {
        return Ok(());
    }
    if dir.exists() {
        // An `.old` left by a save killed after step 3 is older than `dir`.
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(|e| TrainError::write(&old, e))?;
        }
        std::fs::rename(dir, &old).map_err(|e| TrainError::write(dir, e))?;
        sync_dir(parent);
    }
    if stop == Some(SaveStep::OldMoved) {
        return Ok(());
    }
    std::fs::rename(&tmp, dir).map_err(|e| TrainError::write(dir, e))?;
    sync_dir(parent);
    if stop == Some(SaveStep::NewInPlace) {
        return Ok(());
    }
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(|e| TrainError::write(&old, e))?;
    }
    Ok(())
}

/// Makes a folder's entries (renames) durable where the platform allows it.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Writes `value` as pretty JSON to `path`.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let json = serde_json::to_string_pretty(value).map_err(|e| TrainError::write(path, e))?;
    std::fs::write(path, json).map_err(|e| TrainError::write(path, e))
}

/// Reads the `config.json` of the checkpoint folder `dir` (through [`resolve`]) as `T`, a `what`
/// ("DAM configuration", …) in errors. Returns the folder actually read and the value.
pub fn read_config<T: serde::de::DeserializeOwned>(dir: &Path, what: &str) -> Result<(PathBuf, T)> {
    let folder = resolve(dir);
    let path = folder.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        checkpoint_error(
            &path,
            "cannot read it (a checkpoint folder holds its configuration in config.json)",
            Some(e.into()),
        )
    })?;
    let value =
        serde_json::from_str(&text).map_err(|e| checkpoint_error(&path, format!("not a {what}"), Some(e.into())))?;
    Ok((folder, value))
}

/// The error for a checkpoint file or folder `path` with a `problem`, caused by `source`.
pub fn checkpoint_error(path: &Path, problem: impl ToString, source: Option<crate::error::Cause>) -> TrainError {
    TrainError::Checkpoint { path: path.to_path_buf(), problem: problem.to_string(), source }
}

struct Renumber(u64);

impl ModuleMapper for Renumber {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        self.0 += 1;
        let (_, value, mapper) = param.consume();
        Param::from_mapped_value(ParamId::from(self.0), value, mapper)
    }
}

/// Gives a module's parameters the ids 1, 2, … in the order the module visits them. The optimiser
/// keys its state by parameter id and safetensors keeps no ids, so this is what lets optimiser state
/// saved with one instance of a model apply to another loaded from the same checkpoint.
pub fn with_stable_ids<M: Module>(model: M) -> M {
    model.map(&mut Renumber(0))
}

/// How many float tensors a module holds.
pub fn parameter_tensors<M: Module>(model: &M) -> usize {
    struct Count(usize);
    impl ModuleVisitor for Count {
        fn visit_float<const D: usize>(&mut self, _: &Param<Tensor<D>>) {
            self.0 += 1;
        }
    }
    let mut c = Count(0);
    model.visit(&mut c);
    c.0
}
