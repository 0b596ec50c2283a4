//! Golden values on the bundled real data, and one test per malformation of each format.

use std::io::Write;
use std::path::{Path, PathBuf};

use hopfield_data::image::{cifar, digits, folder, idx};
use hopfield_data::{load, Builtin, DataError, DataSource, Split};

fn repo_data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data").join(rel)
}

fn err_text<T: std::fmt::Debug>(r: hopfield_data::Result<T>) -> String {
    r.unwrap_err().to_string()
}

fn idx_images(count: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [idx::IMAGES_MAGIC, count, rows, cols] {
        v.extend_from_slice(&x.to_be_bytes());
    }
    v.extend_from_slice(pixels);
    v
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&idx::LABELS_MAGIC.to_be_bytes());
    v.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    v.extend_from_slice(labels);
    v
}

#[test]
fn mnist_golden_values() {
    let test = load(&DataSource::Builtin(Builtin::MnistSample), Split::Test, Path::new("/nonexistent")).unwrap();
    assert_eq!(test.len(), 1000);
    assert_eq!((test.channels(), test.height(), test.width()), (1, 28, 28));
    assert_eq!(&test.labels()[..10], &[7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    // The "7": ink in the middle rows, none in the corner.
    assert_eq!(test.raw(0)[0], 0);
    // Golden values computed with Python's gzip module from the same file.
    let sum: u32 = test.raw(0).iter().map(|&p| p as u32).sum();
    let ink: u32 = test.raw(0).iter().map(|&p| (p > 127) as u32).sum();
    assert_eq!((sum, ink), (18454, 71));
    assert_eq!(&test.raw(0)[7 * 28 + 6..7 * 28 + 12], &[84, 185, 159, 151, 60, 36]);
    let train = load(&DataSource::Builtin(Builtin::MnistSample), Split::Train, Path::new("/x")).unwrap();
    assert_eq!(train.len(), 2000);
    assert_eq!(&train.labels()[..10], &[5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    // The same bundled files read from disk through the path loader agree.
    let from_dir = load(&DataSource::Path(repo_data("mnist-sample")), Split::Test, Path::new("/x")).unwrap();
    assert_eq!(from_dir.labels(), test.labels());
    assert_eq!(from_dir.raw(999), test.raw(999));
}

#[test]
fn digits_golden_values() {
    let all = digits::load(&repo_data("digits/digits.csv.gz")).unwrap();
    assert_eq!(all.len(), 1797);
    assert_eq!(all.max_value(), 16);
    let mut counts = [0usize; 10];
    all.labels().iter().for_each(|&l| counts[l as usize] += 1);
    assert_eq!(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
    // First row of sklearn's digits: 0,0,5,13,9,1,0,0, …, label 0.
    assert_eq!(&all.raw(0)[..8], &[0, 0, 5, 13, 9, 1, 0, 0]);
    assert_eq!(all.labels()[0], 0);
    assert!((all.image(0)[3] - 13.0 / 16.0).abs() < 1e-7);
    let train = load(&DataSource::Builtin(Builtin::Digits), Split::Train, Path::new("/x")).unwrap();
    let test = load(&DataSource::Builtin(Builtin::Digits), Split::Test, Path::new("/x")).unwrap();
    assert_eq!((train.len(), test.len()), (1437, 360));
    assert_eq!(test.raw(0), all.raw(1437));
}

#[test]
fn cifar_golden_values() {
    let ds = cifar::load(&[repo_data("cifar10-sample/test_batch.bin.gz")]).unwrap();
    assert_eq!(ds.len(), 500);
    assert_eq!((ds.channels(), ds.height(), ds.width()), (3, 32, 32));
    for r in 0..500 {
        assert_eq!(ds.labels()[r] as usize, r % 10, "record {r} is class r % 10");
    }
    assert_eq!(ds.class_names()[3], "cat");
    let s = load(&DataSource::Builtin(Builtin::Cifar10Sample), Split::Test, Path::new("/x")).unwrap();
    assert_eq!(s.len(), 100);
}

#[test]
fn image_folder_reads_jpegs_with_classes_from_subfolders() {
    let ds = folder::load(&repo_data("image-folder-sample")).unwrap();
    assert_eq!(ds.len(), 8);
    assert_eq!(ds.class_names(), &["airplane", "cat", "ship"]);
    assert_eq!(ds.labels(), &[0, 0, 0, 1, 1, 1, 2, 2]);
    assert_eq!((ds.channels(), ds.height(), ds.width()), (3, 32, 32));
    // A colour image: the three planes differ.
    let r = ds.raw(0);
    assert_ne!(&r[..1024], &r[1024..2048]);
}

#[test]
fn image_folder_of_grey_pngs_is_one_channel() {
    let dir = tempfile::tempdir().unwrap();
    for (class, v) in [("a", 10u8), ("b", 200)] {
        std::fs::create_dir(dir.path().join(class)).unwrap();
        let img = image::GrayImage::from_fn(5, 4, |x, y| image::Luma([v.wrapping_add((x + y) as u8)]));
        img.save(dir.path().join(class).join("x.png")).unwrap();
    }
    let ds = folder::load(dir.path()).unwrap();
    assert_eq!((ds.len(), ds.channels(), ds.height(), ds.width()), (2, 1, 4, 5));
    assert_eq!(ds.raw(1)[0], 200);
    assert_eq!(ds.raw(1)[6], 202); // row 1, column 1
}

#[test]
fn image_folder_errors() {
    let dir = tempfile::tempdir().unwrap();
    assert!(err_text(folder::load(dir.path())).contains("one sub-folder per class"));
    std::fs::create_dir(dir.path().join("a")).unwrap();
    assert!(err_text(folder::load(dir.path())).contains("no PNG or JPEG"));
    image::GrayImage::new(4, 4).save(dir.path().join("a/one.png")).unwrap();
    image::GrayImage::new(5, 4).save(dir.path().join("a/two.png")).unwrap();
    let e = err_text(folder::load(dir.path()));
    assert!(e.contains("two.png") && e.contains("5×4") && e.contains("4×4"), "{e}");
    std::fs::remove_file(dir.path().join("a/two.png")).unwrap();
    std::fs::write(dir.path().join("a/three.jpg"), b"not a jpeg at all").unwrap();
    let e = err_text(folder::load(dir.path()));
    assert!(e.contains("three.jpg") && e.contains("cannot decode"), "{e}");
}

#[test]
fn idx_malformations() {
    let good = idx_images(2, 2, 2, &[0, 1, 2, 3, 4, 5, 6, 7]);
    let labels = idx_labels(&[3, 4]);
    let ds = idx::from_bytes(&good, "img", &labels, "lab").unwrap();
    assert_eq!(ds.raw(1), &[4, 5, 6, 7]);

    let e = err_text(idx::from_bytes(&good[..20], "img", &labels, "lab"));
    assert!(e.contains("img") && e.contains("truncated") && e.contains("promises 2 images"), "{e}");
    let e = err_text(idx::from_bytes(&good[..10], "img", &labels, "lab"));
    assert!(e.contains("too short"), "{e}");
    let mut trailing = good.clone();
    trailing.push(9);
    assert!(err_text(idx::from_bytes(&trailing, "img", &labels, "lab")).contains("1 trailing bytes"));
    let e = err_text(idx::from_bytes(&idx_labels(&[1; 8]), "img", &labels, "lab"));
    assert!(e.contains("0x00000801 (an IDX label file), expected 0x00000803"), "{e}");
    let e = err_text(idx::from_bytes(b"garbage garbage garbage", "img", &labels, "lab"));
    assert!(e.contains("magic number 0x67617262"), "{e}");
    let e = err_text(idx::from_bytes(&good, "img", &idx_labels(&[1, 2, 3]), "lab"));
    assert!(e.contains("lab: has 3 labels but img has 2 images"), "{e}");
    let e = err_text(idx::from_bytes(&good, "img", &idx_labels(&[1, 12]), "lab"));
    assert!(e.contains("label 12 at index 1"), "{e}");
    let mut short = idx_labels(&[1, 2]);
    short.pop();
    assert!(err_text(idx::parse_labels(&short, "lab")).contains("promises 2 labels but the file has 1"));
    assert!(err_text(idx::from_bytes(&idx_images(1, 0, 3, &[]), "img", &idx_labels(&[1]), "l")).contains("no pixels"));
}

#[test]
fn gzip_malformations_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let full = std::fs::read(repo_data("mnist-sample/t10k-labels-idx1-ubyte.gz")).unwrap();
    let p = dir.path().join("t10k-labels-idx1-ubyte.gz");
    std::fs::write(&p, &full[..full.len() / 2]).unwrap();
    let e = err_text(hopfield_data::bytes::read_file(&p));
    assert!(e.contains("t10k-labels-idx1-ubyte.gz") && e.contains("gzip"), "{e}");
    let e = err_text(hopfield_data::bytes::read_file(&dir.path().join("missing.gz")));
    assert!(e.contains("cannot read") && e.contains("missing.gz"), "{e}");
}

#[test]
fn digits_malformations() {
    let line = |v: &str| format!("{}{v}\n", "0,".repeat(64));
    assert_eq!(digits::from_bytes(line("3").as_bytes(), "d").unwrap().labels(), &[3]);
    let e = err_text(digits::from_bytes(b"1,2,3\n", "d.csv"));
    assert!(e.contains("d.csv: line 1: 3 fields, expected 65"), "{e}");
    let e = err_text(digits::from_bytes(format!("{}{}", line("1"), line("x")).as_bytes(), "d"));
    assert!(e.contains("line 2, field 65: 'x' is not a number"), "{e}");
    let e = err_text(digits::from_bytes(line("10").as_bytes(), "d"));
    assert!(e.contains("label 10 is not an integer in 0..9"), "{e}");
    let bad_pixel = format!("17,{}1\n", "0,".repeat(63));
    assert!(err_text(digits::from_bytes(bad_pixel.as_bytes(), "d")).contains("pixel 17"));
    assert!(err_text(digits::from_bytes(b"\n\n", "d")).contains("no data lines"));
    assert!(err_text(digits::from_bytes(&[0xff, 0xfe], "d")).contains("not UTF-8"));
}

#[test]
fn cifar_malformations() {
    let mut rec = vec![0u8; cifar::RECORD * 2];
    rec[cifar::RECORD] = 7;
    assert_eq!(cifar::from_bytes(&rec, "c").unwrap().labels(), &[0, 7]);
    let e = err_text(cifar::from_bytes(&rec[..cifar::RECORD + 100], "c.bin"));
    assert!(e.contains("c.bin") && e.contains("1 records and 100 bytes over"), "{e}");
    rec[cifar::RECORD] = 10;
    assert!(err_text(cifar::from_bytes(&rec, "c")).contains("record 1: label 10"));
    assert!(err_text(cifar::from_bytes(&[], "c")).contains("0 bytes"));
}

#[test]
fn sources_resolve_names_paths_and_report_missing_sets() {
    assert_eq!("digits".parse::<DataSource>().unwrap(), DataSource::Builtin(Builtin::Digits));
    assert_eq!("./x".parse::<DataSource>().unwrap(), DataSource::Path("./x".into()));
    assert!("".parse::<DataSource>().is_err());
    let dir = tempfile::tempdir().unwrap();
    let e = load(&DataSource::Builtin(Builtin::Mnist), Split::Train, dir.path()).unwrap_err();
    let t = e.to_string();
    assert!(matches!(e, DataError::NotFound { .. }));
    assert!(t.contains(&dir.path().join("mnist").display().to_string()), "{t}");
    assert!(t.contains("hopfield data fetch mnist") && t.contains("HOPFIELD_DATA_DIR"), "{t}");
    let t = load(&DataSource::Builtin(Builtin::Cifar10), Split::Train, dir.path()).unwrap_err().to_string();
    assert!(t.contains("data_batch_1.bin"), "{t}");
    let t = load(&DataSource::Path(dir.path().join("nope")), Split::Test, dir.path()).unwrap_err().to_string();
    assert!(t.contains("nope") && t.contains("no such file"), "{t}");
}

#[test]
fn full_sets_load_from_a_data_directory_and_files_by_content() {
    // A miniature MNIST in a data directory, as `hopfield data fetch` lays it out.
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("mnist");
    std::fs::create_dir(&m).unwrap();
    let pixels: Vec<u8> = (0..3 * 4).map(|i| i as u8).collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&idx_images(3, 2, 2, &pixels)).unwrap();
    std::fs::write(m.join("t10k-images-idx3-ubyte.gz"), gz.finish().unwrap()).unwrap();
    std::fs::write(m.join("t10k-labels-idx1-ubyte"), idx_labels(&[1, 2, 3])).unwrap();
    let ds = load(&DataSource::Builtin(Builtin::Mnist), Split::Test, dir.path()).unwrap();
    assert_eq!(ds.labels(), &[1, 2, 3]);
    // Fashion-MNIST uses the same IDX files in its own sub-folder.
    let f = dir.path().join("fashion-mnist");
    std::fs::create_dir(&f).unwrap();
    std::fs::write(f.join("train-images-idx3-ubyte"), idx_images(2, 2, 2, &[9; 8])).unwrap();
    std::fs::write(f.join("train-labels-idx1-ubyte"), idx_labels(&[0, 9])).unwrap();
    let ds = load(&DataSource::Builtin(Builtin::FashionMnist), Split::Train, dir.path()).unwrap();
    assert_eq!((ds.labels(), ds.raw(1)), (&[0u8, 9][..], &[9u8; 4][..]));
    let e = load(&DataSource::Builtin(Builtin::FashionMnist), Split::Test, dir.path()).unwrap_err().to_string();
    assert!(e.contains("fashion-mnist") && e.contains("t10k-images-idx3-ubyte"), "{e}");
    // A single IDX images file finds its labels beside it; having no split of its own, it is cut
    // 80/20 in file order (3 images: 2 train, 1 test), never giving an image to both splits.
    let ds = load(&DataSource::Path(m.join("t10k-images-idx3-ubyte.gz")), Split::Test, dir.path()).unwrap();
    assert_eq!(ds.labels(), &[3]);
    let ds = load(&DataSource::Path(m.join("t10k-images-idx3-ubyte.gz")), Split::Train, dir.path()).unwrap();
    assert_eq!(ds.labels(), &[1, 2]);
    let e = load(&DataSource::Path(m.join("t10k-labels-idx1-ubyte")), Split::Test, dir.path()).unwrap_err();
    assert!(e.to_string().contains("IDX label file"), "{e}");
    // CIFAR batches in data_dir/cifar10/cifar-10-batches-bin.
    let c = dir.path().join("cifar10/cifar-10-batches-bin");
    std::fs::create_dir_all(&c).unwrap();
    let mut rec = vec![0u8; cifar::RECORD];
    rec[0] = 4;
    std::fs::write(c.join("test_batch.bin"), &rec).unwrap();
    let ds = load(&DataSource::Builtin(Builtin::Cifar10), Split::Test, dir.path()).unwrap();
    assert_eq!(ds.labels(), &[4]);
    // An unknown file.
    std::fs::write(dir.path().join("x.dat"), b"hello").unwrap();
    let e = load(&DataSource::Path(dir.path().join("x.dat")), Split::Test, dir.path()).unwrap_err().to_string();
    assert!(e.contains("unrecognised data file (5 bytes)"), "{e}");
}

#[test]
fn asking_for_more_images_than_the_set_holds_is_an_error() {
    let ds = load(&DataSource::Builtin(Builtin::Digits), Split::Test, Path::new("/x")).unwrap();
    let e = ds.first(361).unwrap_err().to_string();
    assert!(e.contains("asked for 361") && e.contains("only 360"), "{e}");
    assert_eq!(ds.first(360).unwrap().len(), 360);
}

/// The full set is not part of the repository: this runs where the project's shared data folder
/// sits beside the checkout (developer machines; build.rs looks) and is ignored, saying why,
/// elsewhere.
#[test]
#[cfg_attr(
    not(shared_full_mnist),
    ignore = "the full MNIST is not in ../shared/data beside this checkout (developer machines only)"
)]
fn shared_full_mnist_when_present() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    let test = load(&DataSource::Builtin(Builtin::Mnist), Split::Test, &shared).unwrap();
    assert_eq!(test.len(), 10_000);
    assert_eq!(&test.labels()[..10], &[7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
}

/// A folder of class sub-folders without train/ and test/ is split 80/20 within each class: the
/// splits share no image, together hold every image, and both hold every class with ≥ 2 images.
/// Half a split layout (train/ without test/) and IDX files of the other split only are errors.
#[test]
fn paths_without_their_own_split_never_give_an_image_to_both_splits() {
    let p = repo_data("image-folder-sample");
    let (tr, te) = (
        load(&DataSource::Path(p.clone()), Split::Train, Path::new("/none")).unwrap(),
        load(&DataSource::Path(p.clone()), Split::Test, Path::new("/none")).unwrap(),
    );
    assert_eq!((tr.len(), te.len()), (5, 3), "{} / {}", tr.name(), te.name());
    let all = folder::load(&p).unwrap();
    let mut seen: Vec<Vec<u8>> = (0..tr.len()).map(|i| tr.raw(i).to_vec()).collect();
    for i in 0..te.len() {
        assert!(!seen.contains(&te.raw(i).to_vec()), "test image {i} is also a training image");
        seen.push(te.raw(i).to_vec());
    }
    seen.sort();
    let mut every: Vec<Vec<u8>> = (0..all.len()).map(|i| all.raw(i).to_vec()).collect();
    every.sort();
    assert_eq!(seen, every);
    let mut classes = te.labels().to_vec();
    classes.dedup();
    assert_eq!(classes, [0, 1, 2]);
    // train/ without test/: the test split is an error, not the train images again.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("train")).unwrap();
    let e = load(&DataSource::Path(dir.path().to_path_buf()), Split::Test, Path::new("/none")).unwrap_err().to_string();
    assert!(e.contains("no ") && e.contains("test") && e.contains("test split"), "{e}");
    // IDX training files only: asking for the test split names the missing file.
    let d2 = tempfile::tempdir().unwrap();
    std::fs::write(d2.path().join("train-images-idx3-ubyte"), idx_images(1, 2, 2, &[0; 4])).unwrap();
    std::fs::write(d2.path().join("train-labels-idx1-ubyte"), idx_labels(&[1])).unwrap();
    let e = load(&DataSource::Path(d2.path().to_path_buf()), Split::Test, Path::new("/none")).unwrap_err().to_string();
    assert!(e.contains("train-images-idx3-ubyte") && e.contains("t10k-images-idx3-ubyte"), "{e}");
}
