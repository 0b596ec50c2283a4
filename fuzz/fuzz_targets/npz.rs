//! A .npz archive.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = hopfield_data::npy::npz_from_bytes(data, "a.npz");
});
