//! Link options of the CUDA build (`--features cuda`) on Linux; the CPU build links as before.
//!
//! burn's CUDA backend brings ~440 crates; linked as usual the binary is 115 MB, 93.5 MB
//! stripped. Two options take it (with the size-optimised GPU-only crates of the workspace's
//! Cargo.toml) under the 64 MiB a binary carried to the GPU machine may have:
//! - `-no-pie`: a position-dependent executable needs no dynamic relocations, 6 MB of them;
//! - `--strip-all`: no symbol table (34 MB); a panic's backtrace then shows addresses only.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let cuda = std::env::var_os("CARGO_FEATURE_CUDA").is_some();
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if cuda && linux {
        println!("cargo:rustc-link-arg-bins=-no-pie");
        println!("cargo:rustc-link-arg-bins=-Wl,--strip-all");
    }
}
