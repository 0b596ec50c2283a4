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
//! A `.DIR.tmp` or `.DIR.old` is removed entry by entry, its marker and `config.json` last, so
//! that a kill in the middle leaves a folder still recognised as ours (or an empty one), which
//! the next save clears instead of refusing.
//!
//! A kill after step 2 and before step 3 leaves no `DIR` but a complete `.DIR.old`: every
//! reader goes through [`resolve`], which finds it, and the next save puts the new checkpoint in
//! place and removes it. At every other instant `DIR` is a complete checkpoint, old or new.
//!
//! A user's files are never replaced: every checkpoint holds the marker file [`MARKER`], and a
//! save refuses a `DIR` (or a `.DIR.tmp` / `.DIR.old`) that is not a checkpoint — a folder
//! without the marker (checkpoints written before the marker are recognised by their
//! `config.json` format tag), or a file. [`RunLock`] keeps two runs from writing one checkpoint.

use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::Tensor;
use serde::Serialize;

use crate::error::{Result, TrainError};

/// The file that marks a folder as a hopfield checkpoint (empty; its presence is the mark).
pub const MARKER: &str = ".hopfield-checkpoint";

/// Whether `dir` is a checkpoint folder written by this program: it holds [`MARKER`], or (written
/// before the marker) a `config.json` whose `format` starts with `hopfield-`.
pub fn is_checkpoint(dir: &Path) -> bool {
    if !dir.is_dir() {
        return false;
    }
    if dir.join(MARKER).is_file() {
        return true;
    }
    let format = std::fs::read_to_string(dir.join("config.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("format").and_then(|f| f.as_str()).map(str::to_string));
    format.is_some_and(|f| f.starts_with("hopfield-"))
}

/// Ok when a checkpoint may be written to `dir`: nothing is there, an empty folder, or a checkpoint
/// of ours (and the same for its `.tmp` / `.old` siblings). Called before any training starts.
///
/// # Errors
/// `dir` (or a sibling) is a file, or a folder that is not a hopfield checkpoint.
pub fn check_writable(dir: &Path) -> Result<()> {
    for p in [dir.to_path_buf(), sibling(dir, "tmp"), sibling(dir, "old")] {
        // An empty folder holds nothing to lose.
        if p.exists() && !is_checkpoint(&p) && !is_empty_dir(&p) {
            let what = if p.is_dir() { "a folder that is not a hopfield checkpoint" } else { "a file" };
            return Err(checkpoint_error(
                &p,
                format!(
                    "is {what} (no {MARKER} marker, no hopfield config.json); nothing was written. \
                     Choose another checkpoint folder, or move this one away yourself"
                ),
                None,
            ));
        }
    }
    Ok(())
}

fn is_empty_dir(p: &Path) -> bool {
    std::fs::read_dir(p).map(|mut d| d.next().is_none()).unwrap_or(false)
}

/// An exclusive lock on a checkpoint folder for one run, held as an OS file lock on `.DIR.lock`
/// beside it (released by the OS even when the process is killed) and removed when dropped.
#[derive(Debug)]
pub struct RunLock {
    file: std::fs::File,
    path: PathBuf,
}

impl RunLock {
    /// Takes the lock of the checkpoint folder `dir`.
    ///
    /// # Errors
    /// Another running process holds it (naming the process when the lock file says it), or the
    /// lock file cannot be created.
    pub fn acquire(dir: &Path) -> Result<RunLock> {
        let parent = parent(dir);
        std::fs::create_dir_all(parent).map_err(|e| TrainError::write(parent, e))?;
        let path = sibling(dir, "lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| TrainError::write(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                return Err(checkpoint_error(
                    dir,
                    format!(
                        "another run is writing this checkpoint ({}); wait for it, or give this run another folder",
                        if holder.trim().is_empty() { "lock held".to_string() } else { holder.trim().to_string() }
                    ),
                    None,
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(TrainError::write(&path, e)),
        }
        let mut f = &file;
        let _ = f.set_len(0);
        let _ = std::io::Write::write_all(&mut f, format!("process {}", std::process::id()).as_bytes());
        Ok(RunLock { file, path })
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// The steps of [`save_folder`], for [`save_folder_until`] (which stops after one, as a kill would).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveStep {
    /// The new files are written and synced in `.DIR.tmp`.
    Written,
    /// The old `DIR` is now `.DIR.old`.
    OldMoved,
    /// The new checkpoint is `DIR`; `.DIR.old` still exists.
    NewInPlace,
    /// A `.DIR.tmp` left by a killed save is being removed: this many of its entries are gone.
    StaleTmpRemoving(usize),
    /// `.DIR.old` is being removed (a stale one before step 2, or the old checkpoint in step 4):
    /// this many of its entries are gone.
    OldRemoving(usize),
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
    check_writable(dir)?;
    let parent = parent(dir);
    std::fs::create_dir_all(parent).map_err(|e| TrainError::write(parent, e))?;
    let (tmp, old) = (sibling(dir, "tmp"), sibling(dir, "old"));
    let removing = |path: &Path, stop: Option<usize>| remove_ours(path, stop).map_err(|e| TrainError::write(path, e));
    let old_stop = match stop {
        Some(SaveStep::OldRemoving(k)) => Some(k),
        _ => None,
    };
    // A temporary folder of a killed save is ours and incomplete.
    if tmp.exists() {
        let stop = match stop {
            Some(SaveStep::StaleTmpRemoving(k)) => Some(k),
            _ => None,
        };
        if removing(&tmp, stop)? {
            return Ok(());
        }
    }
    std::fs::create_dir_all(&tmp).map_err(|e| TrainError::write(&tmp, e))?;
    let marker = tmp.join(MARKER);
    std::fs::write(&marker, b"").map_err(|e| TrainError::write(&marker, e))?;
    for f in write(&tmp)?.into_iter().chain([marker]) {
        std::fs::File::open(&f).and_then(|f| f.sync_all()).map_err(|e| TrainError::write(&f, e))?;
    }
    sync_dir(&tmp);
    if stop == Some(SaveStep::Written) {
        return Ok(());
    }
    if dir.exists() {
        // An `.old` left by a save killed after step 3 is older than `dir`.
        if old.exists() && removing(&old, old_stop)? {
            return Ok(());
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
        removing(&old, old_stop)?;
    }
    Ok(())
}

/// Removes a checkpoint folder of ours (a `.DIR.tmp` or `.DIR.old`) so that a kill at any instant
/// leaves a folder still recognised as ours, or an empty one, which the next save clears: every
/// other entry first, then `config.json`, then the marker, then the folder. With `stop`, stops
/// (returning true) once that many entries are gone, as a kill would.
fn remove_ours(dir: &Path, stop: Option<usize>) -> std::io::Result<bool> {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<std::io::Result<_>>()?;
    let rank = |p: &PathBuf| match p.file_name().and_then(|n| n.to_str()) {
        Some(MARKER) => 2,
        Some("config.json") => 1,
        _ => 0,
    };
    entries.sort_by_key(|p| (rank(p), p.clone()));
    for (i, p) in entries.iter().enumerate() {
        if stop == Some(i) {
            return Ok(true);
        }
        if std::fs::symlink_metadata(p)?.is_dir() {
            std::fs::remove_dir_all(p)?;
        } else {
            std::fs::remove_file(p)?;
        }
    }
    if stop == Some(entries.len()) {
        return Ok(true);
    }
    std::fs::remove_dir(dir)?;
    Ok(false)
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

/// Calls `f` with each float parameter's path in the module ("et.hopfield.xi") and its values, in
/// module order.
pub fn scan_parameters<M: Module>(model: &M, f: impl FnMut(&str, &[f32])) {
    struct Paths<F> {
        stack: Vec<String>,
        f: F,
    }
    impl<F: FnMut(&str, &[f32])> ModuleVisitor for Paths<F> {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.stack.push(name.to_string());
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.stack.pop();
        }
        fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
            let values = p.val().into_data().try_into_vec_as::<f32>().unwrap_or_default();
            (self.f)(&self.stack.join("."), &values);
        }
    }
    model.visit(&mut Paths { stack: Vec::new(), f });
}

/// The first parameter (by path) holding a NaN or an infinity, and that value.
pub fn first_non_finite<M: Module>(model: &M) -> Option<(String, f32)> {
    let mut found = None;
    scan_parameters(model, |path, values| {
        if found.is_none() {
            found = values.iter().find(|v| !v.is_finite()).map(|&v| (path.to_string(), v));
        }
    });
    found
}

/// The parameter (by path) holding the value of largest size, and that value.
pub fn largest_parameter<M: Module>(model: &M) -> Option<(String, f32)> {
    let mut best: Option<(String, f32)> = None;
    scan_parameters(model, |path, values| {
        if let Some(&v) = values.iter().max_by(|a, b| a.abs().total_cmp(&b.abs())) {
            if best.as_ref().is_none_or(|(_, b)| v.abs() > b.abs()) {
                best = Some((path.to_string(), v));
            }
        }
    });
    best
}
