//! The scikit-learn digits CSV reader.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = hopfield_data::image::digits::from_bytes(data, "digits.csv");
});
