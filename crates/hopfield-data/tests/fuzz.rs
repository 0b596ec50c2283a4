//! Deterministic mutation tests of every reader: real files (the bundled samples, arrays written
//! here) truncated, bit-flipped, overwritten, extended and given absurd header fields, from a fixed
//! seed. Each input must give a clear error or a valid result — never a panic — and the whole run
//! must stay within a memory bound (huge header counts are refused, not allocated).

use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use hopfield_data::image::{cifar, digits, folder, idx};
use hopfield_data::npy::{npy_from_bytes, npz_from_bytes, write_npy, write_npz};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Mutations per format.
const CASES: usize = 2000;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data").join(rel)
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_end(&mut out).unwrap();
    out
}

/// One seeded mutation of `bytes`, and what it did.
fn mutate(rng: &mut ChaCha8Rng, bytes: &[u8]) -> (Vec<u8>, String) {
    let mut v = bytes.to_vec();
    let len = v.len().max(1);
    let what = match rng.random_range(0..7) {
        0 => {
            let at = rng.random_range(0..len);
            v.truncate(at);
            format!("truncated to {at}")
        }
        1 => {
            let flips = rng.random_range(1..9);
            for _ in 0..flips {
                let i = rng.random_range(0..len).min(v.len().saturating_sub(1));
                if !v.is_empty() {
                    v[i] ^= 1 << rng.random_range(0..8);
                }
            }
            format!("{flips} bits flipped")
        }
        2 => {
            let at = rng.random_range(0..len).min(v.len().saturating_sub(1));
            let n = rng.random_range(1..17).min(v.len() - at);
            for b in &mut v[at..at + n] {
                *b = rng.random();
            }
            format!("{n} bytes at {at} overwritten")
        }
        3 => {
            // A header field (big- or little-endian u32 at a small offset) set to an extreme.
            let at = 4 * rng.random_range(0..8usize);
            let value: u32 = [u32::MAX, 0, 0x7fff_ffff, 1 << 24, rng.random()][rng.random_range(0..5)];
            let bytes = if rng.random() { value.to_be_bytes() } else { value.to_le_bytes() };
            if at + 4 <= v.len() {
                v[at..at + 4].copy_from_slice(&bytes);
            }
            format!("u32 {value} at {at}")
        }
        4 => {
            let at = rng.random_range(0..=v.len());
            let junk: Vec<u8> = (0..rng.random_range(1..64)).map(|_| rng.random()).collect();
            v.splice(at..at, junk.iter().copied());
            format!("{} bytes inserted at {at}", junk.len())
        }
        5 => {
            v.extend((0..rng.random_range(1..4096)).map(|_| rng.random::<u8>()));
            "garbage appended".into()
        }
        _ => {
            let n = rng.random_range(0..64);
            v = (0..n).map(|_| rng.random()).collect();
            format!("{n} random bytes")
        }
    };
    (v, what)
}

/// Runs `read` on `CASES` mutations of `valid` (and on `valid` itself, which must be read):
/// returns (results, errors); a panic fails the test naming the mutation.
fn fuzz<T>(format: &str, valid: &[u8], seed: u64, read: impl Fn(&[u8]) -> hopfield_data::Result<T>) -> (usize, usize) {
    assert!(read(valid).is_ok(), "{format}: the unmutated input must be read");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut ok, mut err) = (0, 0);
    for case in 0..CASES {
        let (bytes, what) = mutate(&mut rng, valid);
        match catch_unwind(AssertUnwindSafe(|| read(&bytes).map(|_| ()))) {
            Ok(Ok(())) => ok += 1,
            Ok(Err(e)) => {
                assert!(!e.to_string().is_empty());
                err += 1
            }
            Err(_) => panic!("{format}: case {case} ({what}) panicked"),
        }
    }
    eprintln!("{format}: {CASES} mutations, {ok} read, {err} errors, 0 panics");
    (ok, err)
}

/// Peak memory of this process so far (VmHWM), in MB; 0 where /proc is not there.
fn peak_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

#[test]
fn every_reader_gives_an_error_or_a_result_never_a_panic() {
    // IDX: the first 30 MNIST test images and their labels, and the gzipped file as read from disk.
    let images = gunzip(&repo("mnist-sample/t10k-images-idx3-ubyte.gz"));
    let labels = gunzip(&repo("mnist-sample/t10k-labels-idx1-ubyte.gz"));
    let mut small_images = images[..16 + 30 * 784].to_vec();
    small_images[4..8].copy_from_slice(&30u32.to_be_bytes());
    let mut small_labels = labels[..8 + 30].to_vec();
    small_labels[4..8].copy_from_slice(&30u32.to_be_bytes());
    fuzz("IDX images", &small_images, 1, |b| idx::from_bytes(b, "images", &small_labels, "labels"));
    fuzz("IDX labels", &small_labels, 2, |b| idx::from_bytes(&small_images, "images", b, "labels"));
    let gz = std::fs::read(repo("mnist-sample/t10k-labels-idx1-ubyte.gz")).unwrap();
    fuzz("gzip", &gz, 3, |b| hopfield_data::bytes::maybe_gunzip(b.to_vec(), "labels.gz"));
    // The digits CSV: its first 40 rows.
    let csv = gunzip(&repo("digits/digits.csv.gz"));
    let rows: Vec<&[u8]> = csv.split(|&c| c == b'\n').take(40).collect();
    let small_csv = rows.join(&b'\n');
    fuzz("digits CSV", &small_csv, 4, |b| digits::from_bytes(b, "digits.csv"));
    // CIFAR-10 binary: 6 records.
    let cifar_bytes = gunzip(&repo("cifar10-sample/test_batch.bin.gz"));
    fuzz("CIFAR-10", &cifar_bytes[..6 * cifar::RECORD], 5, |b| cifar::from_bytes(b, "test_batch.bin"));
    // .npy and .npz as written here.
    let dir = tempfile::tempdir().unwrap();
    let npy = dir.path().join("a.npy");
    let values: Vec<f32> = (0..60).map(|i| i as f32 / 7.0).collect();
    write_npy(&npy, &[3, 4, 5], &values).unwrap();
    fuzz(".npy", &std::fs::read(&npy).unwrap(), 6, |b| npy_from_bytes(b, "a.npy"));
    let npz = dir.path().join("a.npz");
    write_npz(&npz, &[("Wq", &[2, 3], &values[..6]), ("Xi", &[4], &values[..4])]).unwrap();
    fuzz(".npz", &std::fs::read(&npz).unwrap(), 7, |b| npz_from_bytes(b, "a.npz"));
    // Image files: a JPEG of the bundled folder and a PNG written here, read as an image file.
    let jpeg = std::fs::read(repo("image-folder-sample/cat/0000.jpg")).unwrap();
    let png_path = dir.path().join("p.png");
    image::RgbImage::from_fn(8, 6, |x, y| image::Rgb([x as u8 * 30, y as u8 * 40, 7])).save(&png_path).unwrap();
    let png = std::fs::read(&png_path).unwrap();
    for (format, valid, seed, ext, shape) in
        [("JPEG", &jpeg, 8u64, "jpg", (3, 32, 32)), ("PNG", &png, 9, "png", (3, 6, 8))]
    {
        let file = dir.path().join(format!("case.{ext}"));
        fuzz(format, valid, seed, |b| {
            std::fs::write(&file, b).unwrap();
            folder::load_image_file(&file, shape, false)
        });
    }
    // An image folder whose files are mutated JPEGs: every error names a file.
    let classes = dir.path().join("folder");
    for c in ["a", "b"] {
        std::fs::create_dir_all(classes.join(c)).unwrap();
    }
    fuzz("image folder", &jpeg, 10, |b| {
        std::fs::write(classes.join("a/x.jpg"), &jpeg).unwrap();
        std::fs::write(classes.join("b/y.jpg"), b).unwrap();
        folder::load(&classes)
    });
    // The TU graph format: each of MUTAG's files mutated in turn, the others intact.
    let mutag = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/graphs/MUTAG");
    let tu = dir.path().join("MUTAG");
    std::fs::create_dir(&tu).unwrap();
    let parts = ["A", "graph_indicator", "graph_labels", "node_labels", "edge_labels"];
    for p in parts {
        std::fs::copy(mutag.join(format!("MUTAG_{p}.txt.gz")), tu.join(format!("MUTAG_{p}.txt.gz"))).unwrap();
    }
    for (i, p) in parts.into_iter().enumerate() {
        let file = tu.join(format!("MUTAG_{p}.txt.gz"));
        let valid = std::fs::read(&file).unwrap();
        let plain = tu.join(format!("MUTAG_{p}.txt"));
        std::fs::remove_file(&file).unwrap();
        let text = gunzip(&mutag.join(format!("MUTAG_{p}.txt.gz")));
        fuzz(&format!("TU {p}"), &text, 20 + i as u64, |b| {
            std::fs::write(&plain, b).unwrap();
            hopfield_data::graph::tu::load(&tu, None)
        });
        std::fs::remove_file(&plain).unwrap();
        std::fs::write(&file, valid).unwrap();
    }
    // The node-anomaly format: a ring of 40 nodes with chords, dense and sparse features.
    let an = dir.path().join("anomaly");
    let edges: String = (0..40).map(|i| format!("{i} {}\n{i} {}\n", (i + 1) % 40, (i + 7) % 40)).collect();
    let labels: String = (0..40).map(|i| format!("{}\n", [0, 0, 0, 1, 0, 2, 3, 0][i % 8])).collect();
    let dense: String = (0..40).map(|i| format!("{},{}.5,-{}\n", i % 3, i, i % 7)).collect();
    let coo: String = std::iter::once("40 6 40\n".to_string())
        .chain((0..40).map(|i| format!("{i} {} 0.{}\n", i % 6, i + 1)))
        .collect();
    // Each file mutated in turn, the others of its variant (dense or sparse features) intact.
    let cases = [
        ("edges.txt", "features.csv"),
        ("labels.txt", "features.csv"),
        ("features.csv", "features.csv"),
        ("features_coo.txt", "features_coo.txt"),
    ];
    let text_of = |name: &str| match name {
        "edges.txt" => &edges,
        "labels.txt" => &labels,
        "features.csv" => &dense,
        _ => &coo,
    };
    for (i, (name, features)) in cases.into_iter().enumerate() {
        let _ = std::fs::remove_dir_all(&an);
        std::fs::create_dir(&an).unwrap();
        for f in ["edges.txt", "labels.txt", features] {
            std::fs::write(an.join(f), text_of(f)).unwrap();
        }
        fuzz(&format!("anomaly {name}"), text_of(name).as_bytes(), 40 + i as u64, |b| {
            std::fs::write(an.join(name), b).unwrap();
            hopfield_data::graph::anomaly::load(&an)
        });
    }
    let peak = peak_mb();
    eprintln!("peak memory {peak} MB");
    assert!(peak < 1024, "the readers used {peak} MB at their peak");
}
