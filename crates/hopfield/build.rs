//! Tells the tests whether the machine that builds them has AVX-512F: the AVX-512 attention
//! kernels' exactness test (et/fused/head.rs) runs where they can, and is reported as ignored,
//! with the reason, where they cannot — never as passed without having run. (The kernels
//! themselves are chosen at run time, `is_x86_feature_detected!`; this only labels the test.)

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-check-cfg=cfg(build_host_avx512f)");
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    if std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|a| a == "x86_64") && std::is_x86_feature_detected!("avx512f") {
        println!("cargo:rustc-cfg=build_host_avx512f");
    }
}
