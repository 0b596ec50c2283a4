//! IDX images (the input) with 3 valid labels, and IDX labels (the input) with 3 valid images.
#![no_main]
use hopfield_data::image::idx;
use libfuzzer_sys::fuzz_target;

const LABELS: [u8; 11] = [0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3];

fuzz_target!(|data: &[u8]| {
    let mut images = vec![0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2];
    images.extend([7u8; 12]);
    let _ = idx::from_bytes(data, "images", &LABELS, "labels");
    let _ = idx::from_bytes(&images, "images", data, "labels");
});
