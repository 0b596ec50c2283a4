//! Tells the tests whether the project's shared data folder (full data sets, beside the checkout
//! on developer machines) is present: the full-MNIST golden test runs where it is and is reported
//! as ignored, with the reason, where it is not — never as passed without having run.

fn main() {
    let mnist =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist/t10k-images-idx3-ubyte.gz");
    println!("cargo:rerun-if-changed={}", mnist.display());
    println!("cargo:rustc-check-cfg=cfg(shared_full_mnist)");
    if mnist.is_file() {
        println!("cargo:rustc-cfg=shared_full_mnist");
    }
}
