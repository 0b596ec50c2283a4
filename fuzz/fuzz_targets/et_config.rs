//! An Energy Transformer checkpoint whose config.json is the input (no weights file: every
//! accepted configuration then fails on the missing weights, after its sizes are checked).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), data).unwrap();
    let _ = hopfield_train::tasks::masked_image::checkpoint::load(dir.path(), &burn::tensor::Device::flex());
});
