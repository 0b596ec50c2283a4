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
