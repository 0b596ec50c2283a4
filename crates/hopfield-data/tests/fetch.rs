//! `fetch` against a small HTTP server on loopback: checksums, atomic writes, errors, unpacking.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use hopfield_data::fetch::{fetch, md5_file, NoProgress, Progress, RemoteFile, RemoteSet};
use hopfield_data::image::cifar;
use hopfield_data::{load, Builtin, DataError, DataSource, Split};

/// What the test server answers for a path: the body, and the Content-Length it announces.
#[derive(Clone)]
struct Reply {
    body: Vec<u8>,
    announce: usize,
}

/// Serves `files` on 127.0.0.1 until the test ends; returns the base URL and a request counter.
fn serve(files: HashMap<String, Reply>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(64) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").trim_start_matches('/').to_string();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).map(|n| n == 0).unwrap_or(true) || h == "\r\n" {
                    break;
                }
            }
            c.fetch_add(1, Ordering::SeqCst);
            let _ = match files.get(&path) {
                Some(r) => stream
                    .write_all(
                        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", r.announce)
                            .as_bytes(),
                    )
                    .and_then(|_| stream.write_all(&r.body)),
                None => stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            };
        }
    });
    (base, count)
}

fn md5_hex(b: &[u8]) -> String {
    use md5::Digest;
    md5::Md5::digest(b).iter().map(|x| format!("{x:02x}")).collect()
}

fn ok(body: &[u8]) -> Reply {
    Reply { body: body.to_vec(), announce: body.len() }
}

#[derive(Default)]
struct Counting {
    started: Vec<(String, Option<u64>)>,
    bytes: u64,
    finished: usize,
}
impl Progress for Counting {
    fn start(&mut self, file: &str, total: Option<u64>) {
        self.started.push((file.into(), total));
    }
    fn advance(&mut self, bytes: u64) {
        self.bytes += bytes;
    }
    fn finish(&mut self) {
        self.finished += 1;
    }
}

fn set(files: &[(&str, &[u8])]) -> RemoteSet {
    RemoteSet {
        name: "toy".into(),
        mirrors: vec![],
        files: files.iter().map(|(n, b)| RemoteFile { name: n.to_string(), md5: md5_hex(b) }).collect(),
        untar: false,
    }
}

#[test]
fn downloads_verify_and_skip_files_already_present() {
    let a = vec![7u8; 100_000];
    let b = b"labels".to_vec();
    let (base, count) = serve(HashMap::from([("a.bin".into(), ok(&a)), ("b.bin".into(), ok(&b))]));
    let dir = tempfile::tempdir().unwrap();
    let s = set(&[("a.bin", &a), ("b.bin", &b)]);
    let mut p = Counting::default();
    let out = fetch(&s, dir.path(), Some(&base), &mut p).unwrap();
    assert_eq!(out, dir.path().join("toy"));
    assert_eq!(std::fs::read(out.join("a.bin")).unwrap(), a);
    assert_eq!(md5_file(&out.join("b.bin")).unwrap(), md5_hex(&b));
    assert_eq!(p.bytes, 100_006);
    assert_eq!(p.started, vec![("a.bin".into(), Some(100_000)), ("b.bin".into(), Some(6))]);
    assert_eq!(p.finished, 2);
    assert_eq!(count.load(Ordering::SeqCst), 2);
    // Second run: both files verified locally, nothing requested.
    fetch(&s, dir.path(), Some(&base), &mut NoProgress).unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 2);
    assert!(std::fs::read_dir(&out).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().ends_with(".part")));
}

#[test]
fn checksum_mismatch_keeps_no_file() {
    let (base, _) = serve(HashMap::from([("a.bin".into(), ok(b"tampered"))]));
    let dir = tempfile::tempdir().unwrap();
    let e = fetch(&set(&[("a.bin", b"original")]), dir.path(), Some(&base), &mut NoProgress).unwrap_err();
    assert!(matches!(e, DataError::Checksum { .. }), "{e}");
    let t = e.to_string();
    assert!(t.contains("a.bin") && t.contains(&md5_hex(b"original")) && t.contains(&md5_hex(b"tampered")), "{t}");
    assert_eq!(std::fs::read_dir(dir.path().join("toy")).unwrap().count(), 0, "no file, no .part left");
}

#[test]
fn missing_file_and_short_body_are_download_errors() {
    let (base, _) = serve(HashMap::from([("short.bin".into(), Reply { body: b"abc".to_vec(), announce: 10 })]));
    let dir = tempfile::tempdir().unwrap();
    let e = fetch(&set(&[("gone.bin", b"x")]), dir.path(), Some(&base), &mut NoProgress).unwrap_err().to_string();
    assert!(e.contains("gone.bin") && e.contains("404"), "{e}");
    let e = fetch(&set(&[("short.bin", b"abc")]), dir.path(), Some(&base), &mut NoProgress).unwrap_err().to_string();
    assert!(e.contains("short.bin"), "{e}");
    assert!(!dir.path().join("toy/short.bin").exists());
    // Nothing listens on this port any more: a connection error, not a panic.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let e = fetch(&set(&[("a", b"x")]), dir.path(), Some(&format!("http://{closed}")), &mut NoProgress).unwrap_err();
    assert!(matches!(e, DataError::Download { .. }), "{e}");
}

#[test]
fn a_cifar_style_archive_is_unpacked_where_the_loader_finds_it() {
    let mut record = vec![0u8; cifar::RECORD];
    record[0] = 6;
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(record.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "cifar-10-batches-bin/test_batch.bin", &record[..]).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar.into_inner().unwrap()).unwrap();
    let archive = gz.finish().unwrap();
    let (base, _) = serve(HashMap::from([("cifar-10-binary.tar.gz".into(), ok(&archive))]));
    let dir = tempfile::tempdir().unwrap();
    let mut s = set(&[("cifar-10-binary.tar.gz", &archive)]);
    s.name = "cifar10".into();
    s.untar = true;
    fetch(&s, dir.path(), Some(&base), &mut NoProgress).unwrap();
    let ds = load(&DataSource::Builtin(Builtin::Cifar10), Split::Test, dir.path()).unwrap();
    assert_eq!(ds.labels(), &[6]);
}

#[test]
fn published_sets_have_checksums_for_every_file() {
    for b in [Builtin::Mnist, Builtin::FashionMnist, Builtin::Cifar10] {
        let s = hopfield_data::fetch::remote_set(b).unwrap();
        assert!(!s.mirrors.is_empty() && !s.files.is_empty());
        assert!(s.files.iter().all(|f| f.md5.len() == 32 && f.md5.chars().all(|c| c.is_ascii_hexdigit())));
    }
    assert!(hopfield_data::fetch::remote_set(Builtin::Digits).is_none());
}

/// The checksums are the published ones, file by file, as the data sets' own pages (and
/// torchvision's and Keras' download code) list them.
#[test]
fn the_checksums_are_the_published_ones() {
    let published: [(Builtin, &[(&str, &str)]); 3] = [
        (
            Builtin::Mnist,
            &[
                ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
                ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
                ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
            ],
        ),
        (
            Builtin::FashionMnist,
            &[
                ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
                ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
            ],
        ),
        (Builtin::Cifar10, &[("cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530")]),
    ];
    for (b, files) in published {
        let s = hopfield_data::fetch::remote_set(b).unwrap();
        let have: Vec<(&str, &str)> = s.files.iter().map(|f| (f.name.as_str(), f.md5.as_str())).collect();
        assert_eq!(have, files, "{b:?}");
    }
}

/// The mirrors are tried in turn: a file missing on the first mirror comes from the second; a
/// file already present but corrupt (wrong checksum) is downloaded again and replaced.
#[test]
fn mirrors_are_tried_in_turn_and_a_corrupt_file_is_fetched_again() {
    let a = b"from the second mirror".to_vec();
    let (first, first_count) = serve(HashMap::new()); // serves nothing: 404
    let (second, second_count) = serve(HashMap::from([("a.bin".into(), ok(&a))]));
    let dir = tempfile::tempdir().unwrap();
    let mut s = set(&[("a.bin", &a)]);
    s.mirrors = vec![first, second];
    let out = fetch(&s, dir.path(), None, &mut NoProgress).unwrap();
    assert_eq!(std::fs::read(out.join("a.bin")).unwrap(), a);
    assert_eq!((first_count.load(Ordering::SeqCst), second_count.load(Ordering::SeqCst)), (1, 1));
    // A damaged copy on disk: fetched again from the mirrors, and replaced by the verified file.
    std::fs::write(out.join("a.bin"), b"damaged").unwrap();
    fetch(&s, dir.path(), None, &mut NoProgress).unwrap();
    assert_eq!(std::fs::read(out.join("a.bin")).unwrap(), a);
    assert_eq!(second_count.load(Ordering::SeqCst), 2);
}

/// A tar entry whose path leaves the data folder ("../escape.txt") is refused and not written.
#[test]
fn a_tar_entry_that_leaves_the_folder_is_refused() {
    let mut tar_bytes = Vec::new();
    {
        let gz = flate2::write::GzEncoder::new(&mut tar_bytes, flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        let body = b"outside";
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        // Set the name bytes directly: the builder itself refuses "..".
        header.as_gnu_mut().unwrap().name[..14].copy_from_slice(b"../escape.txt\0");
        header.set_cksum();
        b.append(&header, &body[..]).unwrap();
        b.into_inner().unwrap().finish().unwrap();
    }
    let (base, _) = serve(HashMap::from([("evil.tar.gz".into(), ok(&tar_bytes))]));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut s = set(&[("evil.tar.gz", &tar_bytes)]);
    s.untar = true;
    let e = fetch(&s, &data, Some(&base), &mut NoProgress).unwrap_err().to_string();
    assert!(e.contains("evil.tar.gz") && e.contains("escape.txt"), "{e}");
    assert!(!data.join("escape.txt").exists() && !dir.path().join("escape.txt").exists());
}
