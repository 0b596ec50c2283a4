//! What the CLI tests share: running the `hopfield` binary as a user would. Each test binary
//! uses some of it.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

pub fn hopfield(args: &[&str], data_dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hopfield"))
        .args(args)
        .env("HOPFIELD_DATA_DIR", data_dir)
        .output()
        .expect("run hopfield")
}

pub fn ok(args: &[&str], data_dir: &Path) -> String {
    let o = hopfield(args, data_dir);
    let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "hopfield {args:?} failed:\n{out}\n{err}");
    out.into_owned()
}

/// Runs a command that must fail; returns its stderr, which must not be a panic.
pub fn fails(args: &[&str], data_dir: &Path) -> String {
    let o = hopfield(args, data_dir);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!o.status.success(), "hopfield {args:?} should fail");
    assert!(!err.contains("panicked"), "hopfield {args:?} panicked:\n{err}");
    // Exit code 2 for a command line clap cannot parse (it points to --help), 1 for every error
    // of ours, which starts with "error: ".
    let expected = if err.contains("For more information, try '--help'") { 2 } else { 1 };
    assert_eq!(o.status.code(), Some(expected), "hopfield {args:?}:\n{err}");
    assert!(err.starts_with("error: "), "hopfield {args:?}:\n{err}");
    err
}

/// Decodes the PNG at `path` and checks that it is at least `min` = (width, height) pixels;
/// returns its size.
pub fn png(path: &Path, min: (u32, u32)) -> (u32, u32) {
    let img = image::open(path).unwrap_or_else(|e| panic!("{} does not decode as an image: {e}", path.display()));
    let size = (img.width(), img.height());
    assert!(size.0 >= min.0 && size.1 >= min.1, "{}: {size:?}, expected at least {min:?}", path.display());
    size
}

/// The rows of the CSV at `path` (header first), each split at commas.
pub fn csv(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// The tensors of a safetensors file's bytes by name (its layout: an 8-byte header length, the
/// JSON header, the data): dtype, shape, and the byte range of the values in the file.
pub fn safetensors_layout(
    bytes: &[u8],
) -> std::collections::BTreeMap<String, (String, String, std::ops::Range<usize>)> {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    header
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k != "__metadata__")
        .map(|(k, v)| {
            let at = |i: usize| v["data_offsets"][i].as_u64().unwrap() as usize + 8 + n;
            (k.clone(), (v["dtype"].to_string(), v["shape"].to_string(), at(0)..at(1)))
        })
        .collect()
}
