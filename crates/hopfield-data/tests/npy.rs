//! .npy / .npz reading of the dtypes NumPy writes, and clear errors for the rest.

use hopfield_data::npy::{read_npy, read_npz, write_npy, write_npz};

/// A version-1.0 .npy file written by hand, as NumPy lays it out.
fn npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut header = format!(
        "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
        if fortran { "True" } else { "False" }
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

#[test]
fn numpy_dtypes_read_as_f32() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.npy");
    let f8: Vec<u8> = [1.5f64, -2.0, 3.25].iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(&p, npy("<f8", false, "(3,)", &f8)).unwrap();
    let a = read_npy(&p).unwrap();
    assert_eq!((a.shape.clone(), a.data.clone()), (vec![3], vec![1.5, -2.0, 3.25]));
    let be: Vec<u8> = [0.5f32, 7.0].iter().flat_map(|v| v.to_be_bytes()).collect();
    std::fs::write(&p, npy(">f4", false, "(1, 2)", &be)).unwrap();
    assert_eq!(read_npy(&p).unwrap().data, vec![0.5, 7.0]);
    std::fs::write(&p, npy("|u1", false, "(2, 2)", &[0, 1, 1, 0])).unwrap();
    assert_eq!(read_npy(&p).unwrap(), hopfield_data::npy::Array { shape: vec![2, 2], data: vec![0.0, 1.0, 1.0, 0.0] });
    std::fs::write(&p, npy("|b1", false, "(3,)", &[1, 0, 1])).unwrap();
    assert_eq!(read_npy(&p).unwrap().data, vec![1.0, 0.0, 1.0]);
    let i8s: Vec<u8> = [3i64, -4].iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(&p, npy("<i8", false, "(2,)", &i8s)).unwrap();
    assert_eq!(read_npy(&p).unwrap().data, vec![3.0, -4.0]);
    std::fs::write(&p, npy("<f4", false, "()", &2.5f32.to_le_bytes())).unwrap();
    assert_eq!(read_npy(&p).unwrap(), hopfield_data::npy::Array { shape: vec![], data: vec![2.5] });
    // Round trip through the writer.
    write_npy(&p, &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    assert_eq!(read_npy(&p).unwrap().shape, vec![2, 3]);
    let z = dir.path().join("a.npz");
    write_npz(&z, &[("x", &[2], &[1.0, 2.0]), ("y", &[], &[3.0])]).unwrap();
    let all = read_npz(&z).unwrap();
    assert_eq!(all.keys().collect::<Vec<_>>(), vec!["x", "y"]);
    assert_eq!(all["y"].data, vec![3.0]);
}

#[test]
fn bad_npy_files_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.npy");
    let msg = |bytes: Vec<u8>| {
        std::fs::write(&p, bytes).unwrap();
        read_npy(&p).unwrap_err().to_string()
    };
    let e = msg(b"not numpy".to_vec());
    assert!(e.contains("bad.npy") && e.contains("not a .npy"), "{e}");
    let e = msg(npy("<f4", false, "(3,)", &[0u8; 8]));
    assert!(e.contains("bad.npy") && e.contains("cannot read the array data"), "{e}");
    let e = msg(npy("<f4", true, "(2, 2)", &[0u8; 16]));
    assert!(e.contains("Fortran order"), "{e}");
    let e = msg(npy("<c8", false, "(1,)", &[0u8; 8]));
    assert!(e.contains("c8") && e.contains("not a numeric type"), "{e}");
    let e = read_npy(&dir.path().join("nope.npy")).unwrap_err().to_string();
    assert!(e.contains("nope.npy"), "{e}");
    let e = write_npy(&p, &[2, 2], &[1.0]).unwrap_err().to_string();
    assert!(e.contains("needs 4 values, got 1"), "{e}");
}

/// A member of a .npz is checked: one flipped bit in an array's data (the archive stores it
/// uncompressed, so the bit is read as it is) is an error naming the member, not a silently
/// different array; the CRC-32 is what catches it.
#[test]
fn a_flipped_bit_in_an_npz_member_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let z = dir.path().join("w.npz");
    let values: Vec<f32> = (0..64).map(|i| i as f32 * 0.25).collect();
    write_npz(&z, &[("Wq", &[8, 8], &values)]).unwrap();
    let mut bytes = std::fs::read(&z).unwrap();
    // The last value's bytes sit just before the central directory; flip a bit of its mantissa.
    let last = 63.0f32 * 0.25;
    let at = bytes.windows(4).rposition(|w| w == last.to_le_bytes()).unwrap();
    bytes[at] ^= 0x01;
    std::fs::write(&z, &bytes).unwrap();
    let e = read_npz(&z).unwrap_err().to_string();
    assert!(e.contains("w.npz[Wq]") && e.contains("CRC"), "{e}");
}

/// Members a caller does not ask for are not inflated: a small archive holding a member that
/// inflates to 64 MB of zeros gives the arrays asked for and that member's name, and the process
/// never holds the 64 MB.
#[test]
fn members_not_asked_for_are_not_inflated() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let z = dir.path().join("bomb.npz");
    {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&z).unwrap());
        let deflated = zip::write::FileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("Wq.npy", deflated).unwrap();
        zip.write_all(&npy("<f4", false, "(2,)", &[0, 0, 128, 63, 0, 0, 0, 64])).unwrap();
        zip.start_file("junk.npy", deflated).unwrap();
        let n = 16 << 20;
        zip.write_all(&npy("<f4", false, &format!("({n},)"), &[])).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            zip.write_all(&zeros).unwrap();
        }
        zip.finish().unwrap();
    }
    assert!(std::fs::metadata(&z).unwrap().len() < 1 << 20, "the archive is small");
    let rss = || -> u64 {
        let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()).unwrap_or(0)
    };
    let before = rss();
    let (arrays, skipped) = hopfield_data::npy::read_npz_only(&z, &|name| name == "Wq").unwrap();
    assert_eq!(arrays["Wq"].data, vec![1.0, 2.0]);
    assert_eq!(skipped, ["junk"]);
    assert!(rss() < before + 16 * 1024, "resident memory grew from {before} kB to {} kB", rss());
    // Read whole, the member inflates to its 64 MB and is returned.
    assert_eq!(read_npz(&z).unwrap()["junk"].data.len(), 16 << 20);
}
