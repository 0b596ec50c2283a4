//! CIFAR-10 binary records, raw and gzipped.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = hopfield_data::image::cifar::from_bytes(data, "data_batch.bin");
    let _ = hopfield_data::bytes::maybe_gunzip(data.to_vec(), "data_batch.bin.gz");
});
