//! Where data comes from: a built-in name (bundled subsets, or full sets in a data directory) or a
//! path to a file or folder, and the train/test split.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::bytes::{maybe_gunzip, read_file};
use crate::dataset::Dataset;
use crate::error::{format_err, DataError, Result};
use crate::image::{cifar, digits, folder, idx};

/// Environment variable naming the data directory.
pub const DATA_DIR_ENV: &str = "HOPFIELD_DATA_DIR";

/// Train or test part of a data set. Sources without their own division (the sklearn digits, the
/// bundled CIFAR-10 sample, a single file) are split 80/20 in file order: the first 80% is
/// `Train`, the rest `Test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// The training part.
    Train,
    /// The test part.
    Test,
}

impl std::fmt::Display for Split {
    /// The name [`Split::from_str`] reads: "train" or "test".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Split::Train => "train",
            Split::Test => "test",
        })
    }
}

impl FromStr for Split {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "train" => Ok(Split::Train),
            "test" => Ok(Split::Test),
            _ => Err(format!("unknown split '{s}': expected 'train' or 'test'")),
        }
    }
}

/// The data sets known by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// scikit-learn's 1,797 8×8 digits, bundled in the binary.
    Digits,
    /// The first 2,000 MNIST training and 1,000 test images, bundled in the binary.
    MnistSample,
    /// 500 CIFAR-10 test images (class-balanced), bundled in the binary.
    Cifar10Sample,
    /// Full MNIST, read from the data directory.
    Mnist,
    /// Full Fashion-MNIST, read from the data directory.
    FashionMnist,
    /// Full CIFAR-10 (binary version), read from the data directory.
    Cifar10,
}

impl Builtin {
    /// Every built-in, in the order help texts list them.
    pub const ALL: [Builtin; 6] = [
        Builtin::Digits,
        Builtin::MnistSample,
        Builtin::Cifar10Sample,
        Builtin::Mnist,
        Builtin::FashionMnist,
        Builtin::Cifar10,
    ];

    /// The name users type.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Digits => "digits",
            Builtin::MnistSample => "mnist-sample",
            Builtin::Cifar10Sample => "cifar10-sample",
            Builtin::Mnist => "mnist",
            Builtin::FashionMnist => "fashion-mnist",
            Builtin::Cifar10 => "cifar10",
        }
    }

    /// The sub-folder of the data directory that holds it (full sets only).
    pub fn folder(self) -> &'static str {
        self.name()
    }
}

/// A `--data` argument: a built-in name or a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSource {
    /// A data set known by name.
    Builtin(Builtin),
    /// A file or folder.
    Path(PathBuf),
}

impl FromStr for DataSource {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s.is_empty() {
            return Err("empty data source: give a built-in name or a path".into());
        }
        Ok(Builtin::ALL
            .iter()
            .find(|b| b.name() == s)
            .map(|&b| DataSource::Builtin(b))
            .unwrap_or_else(|| DataSource::Path(PathBuf::from(s))))
    }
}

impl std::fmt::Display for DataSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DataSource::Builtin(b) => f.write_str(b.name()),
            DataSource::Path(p) => write!(f, "{}", p.display()),
        }
    }
}

/// The default data directory: `$HOPFIELD_DATA_DIR`, else `$XDG_CACHE_HOME/hopfield`, else
/// `$HOME/.cache/hopfield`, else `./hopfield-data`. (The CLI lets a flag override it.)
pub fn default_data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("hopfield");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(h).join(".cache").join("hopfield");
    }
    PathBuf::from("hopfield-data")
}

mod bundled {
    pub const DIGITS: &[u8] = include_bytes!("../../../data/digits/digits.csv.gz");
    pub const MNIST_TRAIN_IMAGES: &[u8] = include_bytes!("../../../data/mnist-sample/train-images-idx3-ubyte.gz");
    pub const MNIST_TRAIN_LABELS: &[u8] = include_bytes!("../../../data/mnist-sample/train-labels-idx1-ubyte.gz");
    pub const MNIST_TEST_IMAGES: &[u8] = include_bytes!("../../../data/mnist-sample/t10k-images-idx3-ubyte.gz");
    pub const MNIST_TEST_LABELS: &[u8] = include_bytes!("../../../data/mnist-sample/t10k-labels-idx1-ubyte.gz");
    pub const CIFAR10_TEST: &[u8] = include_bytes!("../../../data/cifar10-sample/test_batch.bin.gz");
}

/// Splits a set without its own train/test division 80/20 in file order.
pub fn split_80_20(all: Dataset, split: Split) -> Dataset {
    let cut = all.len() * 4 / 5;
    match split {
        Split::Train => all.slice(0..cut, " [train: first 80%]"),
        Split::Test => all.slice(cut..all.len(), " [test: last 20%]"),
    }
}

fn gz(bytes: &[u8], name: &str) -> Result<Vec<u8>> {
    maybe_gunzip(bytes.to_vec(), name)
}

fn load_bundled(b: Builtin, split: Split) -> Result<Dataset> {
    match b {
        Builtin::Digits => {
            let name = "digits (bundled sklearn digits)";
            Ok(split_80_20(digits::from_bytes(&gz(bundled::DIGITS, name)?, name)?, split))
        }
        Builtin::MnistSample => {
            let (i, l, name) = match split {
                Split::Train => (bundled::MNIST_TRAIN_IMAGES, bundled::MNIST_TRAIN_LABELS, "mnist-sample [train]"),
                Split::Test => (bundled::MNIST_TEST_IMAGES, bundled::MNIST_TEST_LABELS, "mnist-sample [test]"),
            };
            idx::from_bytes(&gz(i, name)?, name, &gz(l, name)?, name)
        }
        Builtin::Cifar10Sample => {
            let name = "cifar10-sample";
            Ok(split_80_20(cifar::from_bytes(&gz(bundled::CIFAR10_TEST, name)?, name)?, split))
        }
        _ => unreachable!("only bundled sets are loaded here"),
    }
}

/// Finds the first existing file among `dirs × names` (each name also tried with `.gz`; a file
/// and its gzipped twin side by side are an error).
fn find(dirs: &[PathBuf], names: &[&str]) -> Result<Option<PathBuf>> {
    for d in dirs {
        for n in names {
            if let Some(p) = crate::bytes::plain_or_gz(d, n)? {
                return Ok(Some(p));
            }
        }
    }
    Ok(None)
}

fn not_found(b: Builtin, dirs: &[PathBuf], missing: &str) -> DataError {
    let looked = dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ");
    DataError::NotFound {
        name: b.name().into(),
        looked: format!("{looked} (missing {missing})"),
        hint: format!(
            "Get it with `hopfield data fetch {}` (writes to the data directory), or point the data directory \
             ({DATA_DIR_ENV}) at a folder with a '{}' sub-folder holding the original files, or load it from its path.",
            b.name(),
            b.folder()
        ),
    }
}

fn load_idx_dir(b: Builtin, dirs: &[PathBuf], split: Split) -> Result<Dataset> {
    let prefix = match split {
        Split::Train => "train",
        Split::Test => "t10k",
    };
    let images = [format!("{prefix}-images-idx3-ubyte"), format!("{prefix}-images.idx3-ubyte")];
    let labels = [format!("{prefix}-labels-idx1-ubyte"), format!("{prefix}-labels.idx1-ubyte")];
    let i = find(dirs, &[&images[0], &images[1]])?.ok_or_else(|| not_found(b, dirs, &images[0]))?;
    let l = find(dirs, &[&labels[0], &labels[1]])?.ok_or_else(|| not_found(b, dirs, &labels[0]))?;
    idx::load(&i, &l)
}

/// The batch files of `split` (Err: the first missing name); a file and its gzipped twin side by
/// side are an error.
fn cifar_files(dirs: &[PathBuf], split: Split) -> Result<std::result::Result<Vec<PathBuf>, String>> {
    let names: Vec<String> = match split {
        Split::Train => (1..=5).map(|i| format!("data_batch_{i}.bin")).collect(),
        Split::Test => vec!["test_batch.bin".into()],
    };
    let mut files = Vec::new();
    for n in &names {
        match find(dirs, &[n])? {
            Some(f) => files.push(f),
            None => return Ok(Err(n.clone())),
        }
    }
    Ok(Ok(files))
}

/// Loads `source`'s `split`; named full sets are looked for under `data_dir`.
pub fn load(source: &DataSource, split: Split, data_dir: &Path) -> Result<Dataset> {
    match source {
        DataSource::Builtin(b @ (Builtin::Digits | Builtin::MnistSample | Builtin::Cifar10Sample)) => {
            load_bundled(*b, split)
        }
        DataSource::Builtin(b @ (Builtin::Mnist | Builtin::FashionMnist)) => {
            let dirs = [data_dir.join(b.folder()), data_dir.to_path_buf()];
            load_idx_dir(*b, &dirs, split)
        }
        DataSource::Builtin(b @ Builtin::Cifar10) => {
            let base = data_dir.join(b.folder());
            let dirs = [base.join("cifar-10-batches-bin"), base, data_dir.join("cifar-10-batches-bin")];
            let files = cifar_files(&dirs, split)?.map_err(|m| not_found(*b, &dirs, &m))?;
            cifar::load(&files)
        }
        DataSource::Path(p) => load_path(p, split),
    }
}

/// The first 80% of each class as train, the rest as test (in file order), for sets sorted by
/// class such as image folders: both splits hold every class with two or more images, and no image
/// is in both.
pub fn split_80_20_per_class(all: Dataset, split: Split) -> Dataset {
    let classes = all.class_names().len().max(1);
    let mut idx = Vec::new();
    for c in 0..classes {
        let of_class: Vec<usize> = (0..all.len()).filter(|&i| all.labels()[i] as usize == c).collect();
        let cut = of_class.len() * 4 / 5;
        idx.extend_from_slice(match split {
            Split::Train => &of_class[..cut],
            Split::Test => &of_class[cut..],
        });
    }
    let suffix = match split {
        Split::Train => " [train: first 80% of each class]",
        Split::Test => " [test: last 20% of each class]",
    };
    all.select(&idx, suffix)
}

/// Loads a path: a folder of MNIST-style IDX files, of CIFAR-10 batches, with `train`/`test`
/// image sub-folders, or of class sub-folders (split 80/20 within each class); or one file (IDX
/// images with their label file beside them, a digits CSV, CIFAR-10 records; split 80/20 in file
/// order), recognised by content. The train and test splits never share an image.
pub fn load_path(p: &Path, split: Split) -> Result<Dataset> {
    if !p.exists() {
        let names = Builtin::ALL.iter().map(|b| b.name()).collect::<Vec<_>>().join(", ");
        return Err(DataError::Io {
            path: p.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("no such file or folder (a data source is one of {names}, or a path)"),
            ),
        });
    }
    if p.is_dir() {
        load_dir(p, split)
    } else {
        load_file(p, split)
    }
}

/// A folder: MNIST-style IDX files, CIFAR-10 batches, `train`/`test` image sub-folders, or class
/// sub-folders (80/20 within each class).
fn load_dir(p: &Path, split: Split) -> Result<Dataset> {
    let dirs = [p.to_path_buf()];
    let prefix = if split == Split::Train { "train" } else { "t10k" };
    if find(&dirs, &[&format!("{prefix}-images-idx3-ubyte"), &format!("{prefix}-images.idx3-ubyte")])?.is_some() {
        return load_idx_dir(Builtin::Mnist, &dirs, split);
    }
    let cifar_dirs = [p.to_path_buf(), p.join("cifar-10-batches-bin")];
    if let Ok(files) = cifar_files(&cifar_dirs, split)? {
        return cifar::load(&files);
    }
    let other = if split == Split::Train { "t10k" } else { "train" };
    if let Some(f) = find(&dirs, &[&format!("{other}-images-idx3-ubyte"), &format!("{other}-images.idx3-ubyte")])? {
        return Err(format_err(
            p.display(),
            format!(
                "holds {} but no {prefix}-images-idx3-ubyte (with its labels) for the {split} split",
                f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
            ),
        ));
    }
    let (train, test) = (p.join("train"), p.join("test"));
    if train.is_dir() || test.is_dir() {
        let sub = if split == Split::Train { train } else { test };
        if !sub.is_dir() {
            return Err(format_err(
                p.display(),
                format!("has a train/ or test/ sub-folder but no {} for the {split} split", sub.display()),
            ));
        }
        return folder::load(&sub);
    }
    // Class sub-folders with no split of their own: 80/20 within each class, never overlapping.
    Ok(split_80_20_per_class(folder::load(p)?, split))
}

/// One file, recognised by content: IDX images (labels beside them), a digits CSV, CIFAR-10
/// records; 80/20 in file order.
fn load_file(p: &Path, split: Split) -> Result<Dataset> {
    let name = p.display().to_string();
    let bytes = read_file(p)?;
    let lower = name.to_ascii_lowercase();
    let all = match idx::sniff_magic(&bytes) {
        Some(idx::IMAGES_MAGIC) => {
            let file = p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
            let label_file = file.replace("images-idx3", "labels-idx1").replace("images.idx3", "labels.idx1");
            let stem = label_file.strip_suffix(".gz").unwrap_or(&label_file).to_string();
            let beside = p.parent().unwrap_or(Path::new("."));
            let labels = crate::bytes::plain_or_gz(beside, &stem)?.unwrap_or_else(|| p.with_file_name(&stem));
            if label_file == file || !labels.is_file() {
                return Err(format_err(
                    &name,
                    format!("IDX image file without its label file: expected {} beside it", labels.display()),
                ));
            }
            // One file has no split of its own: 80/20 in file order, like the other single files.
            idx::from_bytes(&bytes, &name, &read_file(&labels)?, &labels.display().to_string())?
        }
        Some(idx::LABELS_MAGIC) => {
            return Err(format_err(&name, "this is an IDX label file; pass the images file (its labels are found beside it)"))
        }
        _ if lower.ends_with(".csv") || lower.ends_with(".csv.gz") => digits::from_bytes(&bytes, &name)?,
        _ if !bytes.is_empty() && bytes.len().is_multiple_of(cifar::RECORD) => cifar::from_bytes(&bytes, &name)?,
        _ => {
            return Err(format_err(
                &name,
                format!(
                    "unrecognised data file ({} bytes): expected IDX images (magic 0x00000803), a digits CSV (.csv/.csv.gz), \
                     CIFAR-10 binary records (a multiple of {} bytes) or a folder",
                    bytes.len(),
                    cifar::RECORD
                ),
            ))
        }
    };
    Ok(split_80_20(all, split))
}
