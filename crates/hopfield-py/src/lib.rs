//! `hopfield._native`: the Python bindings of the hopfield library (built by maturin; the Python
//! package `hopfield` in `python/` wraps it with docstrings, dataclasses and progress bars).
//!
//! Every long call releases the interpreter lock while it computes, reports through a Python
//! callback (each event a dict), stops between two batches on Ctrl-C (KeyboardInterrupt), and
//! turns the library's errors into Python exceptions carrying its message.

use pyo3::prelude::*;

mod arrays;
mod config;
mod dam;
mod data;
mod errors;
mod et;
mod families;
mod graph;
mod memory;
mod watch;

/// The allocator of the command line (see crates/hopfield-cli/src/main.rs): burn's CPU backend
/// frees and reallocates its buffers every step, and mimalloc keeps them; the forward pass is
/// about 30% faster than with the system allocator.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` and its defaults (v2, v3), as in the command line.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
const PURGE_DELAY_DEFAULTS: [std::os::raw::c_long; 2] = [10, 1000];

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // SAFETY: reading and setting a mimalloc option has no preconditions; only a default value is
    // replaced (a user's MIMALLOC_PURGE_DELAY is left alone).
    unsafe {
        if PURGE_DELAY_DEFAULTS.contains(&libmimalloc_sys::mi_option_get(PURGE_DELAY)) {
            libmimalloc_sys::mi_option_set(PURGE_DELAY, -1);
        }
    }
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    families::register(m)?;
    memory::register(m)?;
    dam::register(m)?;
    et::register(m)?;
    graph::register(m)?;
    data::register(m)?;
    Ok(())
}
