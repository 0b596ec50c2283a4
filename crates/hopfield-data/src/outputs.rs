//! A user's files are never replaced by an output. Every folder the program writes outputs into
//! holds a list of the names it wrote there, [`MANIFEST`]; an output whose name exists in the
//! folder but is not on that list — a user's `metrics.csv`, say — is refused, naming it, and
//! nothing is written over it. Front ends claim a run's documented outputs before it starts
//! ([`claim_all`]), so a refusal comes before any work; every writer claims its file again
//! ([`claim`]) right before writing it.

use std::path::{Path, PathBuf};

use crate::error::{format_err, io_err, Result};

/// The list of the outputs written in a folder, one name a line.
pub const MANIFEST: &str = ".hopfield-outputs";

fn listed(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join(MANIFEST)).map(|t| t.lines().map(str::to_string).collect()).unwrap_or_default()
}

/// Claims the outputs `names` in `dir` (created if missing): each must be absent or on the
/// folder's list; all are then on it.
///
/// # Errors
/// An output name that exists in `dir` and was not written there by this program (named, with
/// what to do); the folder or its list cannot be written.
pub fn claim_all(dir: &Path, names: &[&str]) -> Result<()> {
    let mut list = listed(dir);
    for &name in names {
        let path = dir.join(name);
        if (path.exists() || path.is_symlink()) && !list.iter().any(|l| l == name) {
            return Err(format_err(
                path.display(),
                format!(
                    "exists, and this program did not write it (it is not listed in {MANIFEST}), so it is not \
                     replaced and nothing was written. Give another output folder, or move the file away (if an \
                     earlier hopfield run wrote it, delete it)"
                ),
            ));
        }
    }
    let missing: Vec<&str> = names.iter().copied().filter(|n| !list.iter().any(|l| l == n)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    list.extend(missing.into_iter().map(str::to_string));
    let manifest = dir.join(MANIFEST);
    let tmp = dir.join(format!("{MANIFEST}.tmp"));
    std::fs::write(&tmp, list.join("\n") + "\n").map_err(|e| io_err(&tmp, e))?;
    std::fs::rename(&tmp, &manifest).map_err(|e| io_err(&manifest, e))
}

/// Claims the output file `path` (see [`claim_all`]); returns it.
///
/// # Errors
/// As [`claim_all`].
pub fn claim(path: &Path) -> Result<PathBuf> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    claim_all(dir, &[&name])?;
    Ok(path.to_path_buf())
}
