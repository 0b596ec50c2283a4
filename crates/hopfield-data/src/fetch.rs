//! Downloading the full data sets from their published locations, with MD5 verification against
//! the published checksums. A file is written under a temporary name and renamed only after its
//! checksum matched, so an interrupted or corrupt download never leaves a file that looks valid.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};

use crate::error::{io_err, DataError, Result};
use crate::source::Builtin;

/// One file of a remote data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFile {
    /// File name, appended to a mirror's base URL and used locally.
    pub name: String,
    /// Published MD5 (lower-case hex).
    pub md5: String,
}

/// A remote data set: mirrors to try in order, its files, and whether to unpack a tar.gz.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSet {
    /// Built-in name.
    pub name: String,
    /// Base URLs ending in '/', tried in order.
    pub mirrors: Vec<String>,
    /// The files.
    pub files: Vec<RemoteFile>,
    /// Unpack every downloaded file as a tar.gz into the set's folder.
    pub untar: bool,
}

fn rf(name: &str, md5: &str) -> RemoteFile {
    RemoteFile { name: name.into(), md5: md5.into() }
}

/// The published location and checksums of a full data set; `None` for the bundled ones.
pub fn remote_set(b: Builtin) -> Option<RemoteSet> {
    let (mirrors, files, untar): (&[&str], Vec<RemoteFile>, bool) = match b {
        Builtin::Mnist => (
            &["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"],
            vec![
                rf("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                rf("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
                rf("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
                rf("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
            ],
            false,
        ),
        Builtin::FashionMnist => (
            &["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
            vec![
                rf("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                rf("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
                rf("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                rf("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
            ],
            false,
        ),
        Builtin::Cifar10 => (
            &["https://www.cs.toronto.edu/~kriz/"],
            vec![rf("cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530")],
            true,
        ),
        Builtin::Digits | Builtin::MnistSample | Builtin::Cifar10Sample => return None,
    };
    Some(RemoteSet { name: b.name().into(), mirrors: mirrors.iter().map(|s| s.to_string()).collect(), files, untar })
}

/// Receives download progress (the CLI draws a bar; tests count bytes).
pub trait Progress {
    /// A file starts; `total` is its size when the server sent one.
    fn start(&mut self, file: &str, total: Option<u64>);
    /// `bytes` more arrived.
    fn advance(&mut self, bytes: u64);
    /// The file is complete.
    fn finish(&mut self);
}

/// A progress sink that ignores everything.
pub struct NoProgress;
impl Progress for NoProgress {
    fn start(&mut self, _: &str, _: Option<u64>) {}
    fn advance(&mut self, _: u64) {}
    fn finish(&mut self) {}
}

/// MD5 of a file, as lower-case hex.
pub fn md5_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(|e| io_err(path, e))?;
    let mut h = Md5::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| io_err(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Downloads `url` to `dest`, verifying the MD5; writes `dest` only on success.
fn download(url: &str, dest: &Path, file: &RemoteFile, progress: &mut dyn Progress) -> Result<()> {
    let dl = |problem: String| DataError::Download { url: url.into(), problem };
    let resp = ureq::get(url).timeout(std::time::Duration::from_secs(60)).call().map_err(|e| dl(e.to_string()))?;
    let total = resp.header("Content-Length").and_then(|v| v.parse::<u64>().ok());
    let part = dest.with_file_name(format!("{}.part", file.name));
    let mut out = std::fs::File::create(&part).map_err(|e| io_err(&part, e))?;
    let mut reader = resp.into_reader();
    let mut h = Md5::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut got = 0u64;
    progress.start(&file.name, total);
    let result = (|| {
        loop {
            let n = reader.read(&mut buf).map_err(|e| dl(format!("connection broke after {got} bytes: {e}")))?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(|e| io_err(&part, e))?;
            got += n as u64;
            progress.advance(n as u64);
        }
        if let Some(t) = total.filter(|&t| t != got) {
            return Err(dl(format!("server announced {t} bytes but sent {got}")));
        }
        out.sync_all().map_err(|e| io_err(&part, e))?;
        let actual = hex(&h.finalize());
        if actual != file.md5 {
            return Err(DataError::Checksum { file: file.name.clone(), expected: file.md5.clone(), actual });
        }
        std::fs::rename(&part, dest).map_err(|e| io_err(dest, e))
    })();
    progress.finish();
    if result.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    result
}

/// Fetches `set` into `data_dir/<name>/`, trying each mirror in turn (or only `mirror` when
/// given). Files already present with the right checksum are kept. Returns the folder.
pub fn fetch(set: &RemoteSet, data_dir: &Path, mirror: Option<&str>, progress: &mut dyn Progress) -> Result<PathBuf> {
    let dir = data_dir.join(&set.name);
    std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
    let mirrors: Vec<String> = match mirror {
        Some(m) if m.ends_with('/') => vec![m.to_string()],
        Some(m) => vec![format!("{m}/")],
        None => set.mirrors.clone(),
    };
    for file in &set.files {
        let dest = dir.join(&file.name);
        if dest.is_file() && md5_file(&dest)? == file.md5 {
            continue;
        }
        let mut last = None;
        for m in &mirrors {
            match download(&format!("{m}{}", file.name), &dest, file, progress) {
                Ok(()) => {
                    last = None;
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        if let Some(e) = last {
            return Err(e);
        }
        if set.untar {
            untar(&dest, &dir)?;
        }
    }
    Ok(dir)
}

/// Unpacks a tar.gz into `dir`, refusing entries that would land outside it.
fn untar(archive: &Path, dir: &Path) -> Result<()> {
    let f = std::fs::File::open(archive).map_err(|e| io_err(archive, e))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let bad = |e: std::io::Error| DataError::Format {
        file: archive.display().to_string(),
        problem: format!("cannot unpack: {e}"),
    };
    for entry in tar.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        if !entry.unpack_in(dir).map_err(bad)? {
            let p = entry.path().map(|p| p.display().to_string()).unwrap_or_default();
            return Err(DataError::Format {
                file: archive.display().to_string(),
                problem: format!("entry '{p}' points outside the folder"),
            });
        }
    }
    Ok(())
}
