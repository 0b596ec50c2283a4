//! A PNG or JPEG file read as a 3×8×8 image (decoded by the image crate, then checked).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    for ext in ["png", "jpg"] {
        let path = dir.path().join(format!("x.{ext}"));
        std::fs::write(&path, data).unwrap();
        let _ = hopfield_data::image::folder::load_image_file(&path, (3, 8, 8), true);
    }
});
