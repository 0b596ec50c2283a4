//! Importing the official model's .npz: every key mapped to the right parameter (Xi transposed),
//! the official pipeline's settings, and a clear error for each missing, mis-shaped or
//! non-finite key.

use std::path::Path;

use burn::tensor::Device;
use hopfield_data::npy::write_npz;
use hopfield_train::import::npz::{import_npz, ImportOptions};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

// A tiny official-layout model: 3×8×8 images, patch 4 (N = 4 patches of P = 48), D = 8,
// H = 2 heads of Y = 4, M = 16 memories.
const H: usize = 2;
const Y: usize = 4;
const D: usize = 8;
const M: usize = 16;
const P: usize = 48;
const N: usize = 4;

fn arrays(seed: u64) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut a = |name: &str, shape: Vec<usize>| {
        let n = shape.iter().product::<usize>().max(1);
        let v = (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        (name.to_string(), shape, v)
    };
    vec![
        a("Wk", vec![H, Y, D]),
        a("Wq", vec![H, Y, D]),
        a("Xi", vec![D, M]),
        a("Wenc", vec![P, D]),
        a("Benc", vec![D]),
        a("Wdec", vec![D, P]),
        a("Bdec", vec![P]),
        a("POS_embed", vec![N + 1, D]),
        a("CLS_token", vec![D]),
        a("MASK_token", vec![D]),
        a("LNORM_gamma", vec![]),
        a("LNORM_bias", vec![D]),
    ]
}

fn write(path: &Path, arrays: &[(String, Vec<usize>, Vec<f32>)]) {
    let refs: Vec<(&str, &[usize], &[f32])> =
        arrays.iter().map(|(n, s, v)| (n.as_str(), s.as_slice(), v.as_slice())).collect();
    write_npz(path, &refs).unwrap();
}

fn opts() -> ImportOptions {
    let mut o = ImportOptions::official();
    o.image = (3, 8, 8);
    o.patch = 4;
    o.masked = 2;
    o
}

fn values<const K: usize>(p: &burn::module::Param<burn::tensor::Tensor<K>>) -> Vec<f32> {
    p.val().into_data().try_into_vec_as::<f32>().unwrap()
}

#[test]
fn every_key_lands_in_its_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.npz");
    let mut a = arrays(1);
    a.push(("opt_state".into(), vec![3], vec![1.0, 2.0, 3.0]));
    write(&path, &a);
    let got = import_npz(&path, &opts(), &Device::flex()).unwrap();
    let m = &got.model;
    let get = |k: &str| a.iter().find(|(n, _, _)| n == k).unwrap().2.clone();
    assert_eq!(values(&m.et.attention.wk), get("Wk"));
    assert_eq!(values(&m.et.attention.wq), get("Wq"));
    assert_eq!(m.et.hopfield.xi.val().dims(), [M, D]);
    let xi = values(&m.et.hopfield.xi);
    let xi_dm = get("Xi");
    for mu in 0..M {
        for d in 0..D {
            assert_eq!(xi[mu * D + d], xi_dm[d * M + mu], "ξ[{mu}, {d}] = Xi[{d}, {mu}]");
        }
    }
    assert_eq!(values(&m.encoder_weight), get("Wenc"));
    assert_eq!(values(&m.encoder_bias), get("Benc"));
    assert_eq!(values(&m.decoder_weight), get("Wdec"));
    assert_eq!(values(&m.decoder_bias), get("Bdec"));
    assert_eq!(values(&m.pos_embed), get("POS_embed"));
    assert_eq!(values(&m.cls_token), get("CLS_token"));
    assert_eq!(values(&m.mask_token), get("MASK_token"));
    assert_eq!(values(&m.et.norm.gamma), get("LNORM_gamma"));
    assert_eq!(values(&m.et.norm.delta), get("LNORM_bias"));
    assert_eq!(got.ignored, vec!["opt_state".to_string()]);
    // The official pipeline's settings.
    let t = &got.meta.train;
    assert_eq!((t.model.descent.steps, t.model.descent.step_size, t.replaced_share), (12, 0.1, 1.0));
    assert!(!t.model.et.exclude_self);
    assert_eq!(t.model.et.attention_beta(), 0.5); // 1/√Y
    assert_eq!(t.validate().unwrap().masked, 2);
    assert_eq!(got.meta.normalization.mean, vec![0.485, 0.456, 0.406]);
    assert_eq!(got.meta.normalization.std, vec![0.229, 0.224, 0.225]);
    assert_eq!(
        burn::module::Module::num_params(m),
        2 * H * Y * D + D * M + 2 * P * D + D + P + (N + 1) * D + 2 * D + 1 + D
    );
}

#[test]
fn bad_files_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.npz");
    let err = |a: &[(String, Vec<usize>, Vec<f32>)], o: &ImportOptions| {
        write(&path, a);
        import_npz(&path, o, &Device::flex()).map(|_| ()).unwrap_err().to_string()
    };
    let base = arrays(2);
    // Missing key.
    let a: Vec<_> = base.iter().filter(|(n, _, _)| n != "MASK_token").cloned().collect();
    let e = err(&a, &opts());
    assert!(e.contains("[MASK_token]") && e.contains("missing"), "{e}");
    // Xi in our [M, D] layout instead of the official (D, M).
    let mut a = base.clone();
    a[2] = ("Xi".into(), vec![M, D], a[2].2.clone());
    let e = err(&a, &opts());
    assert!(e.contains("[Xi]") && e.contains("[16, 8]") && e.contains("(D, M)"), "{e}");
    // Wq of another head count.
    let mut a = base.clone();
    a[1] = ("Wq".into(), vec![1, Y, D], vec![0.0; Y * D]);
    let e = err(&a, &opts());
    assert!(e.contains("[Wq]") && e.contains("[1, 4, 8]"), "{e}");
    // Weights for another image size / patch.
    let mut o = opts();
    o.patch = 2;
    let e = err(&base, &o);
    assert!(e.contains("[Wenc]") && e.contains("[48, 8]") && e.contains("[12, 8]"), "{e}");
    // A NaN.
    let mut a = base.clone();
    a[4].2[3] = f32::NAN;
    let e = err(&a, &opts());
    assert!(e.contains("[Benc]") && e.contains("NaN"), "{e}");
    // Not an npz; a truncated one.
    std::fs::write(&path, b"hello").unwrap();
    let e = import_npz(&path, &opts(), &Device::flex()).map(|_| ()).unwrap_err().to_string();
    assert!(e.contains("bad.npz") && e.contains("not a .npz"), "{e}");
    write(&path, &base);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 200]).unwrap();
    let e = import_npz(&path, &opts(), &Device::flex()).map(|_| ()).unwrap_err().to_string();
    assert!(e.contains("bad.npz"), "{e}");
    // More masked patches than there are.
    let mut o = opts();
    o.masked = 4;
    let e = err(&base, &o);
    assert!(e.contains("masked = 4") && e.contains("4 patches"), "{e}");
}

/// Each of the 12 keys in turn: missing, and of a wrong shape (one more element on its first
/// axis, or a scalar given a shape); each error names the key. And a deflate-compressed archive
/// (`np.savez_compressed`) imports like a stored one.
#[test]
fn every_key_missing_or_mis_shaped_is_named_and_compressed_archives_import() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.npz");
    let base = arrays(3);
    for (i, (key, shape, _)) in base.iter().enumerate() {
        let a: Vec<_> = base.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, x)| x.clone()).collect();
        write(&path, &a);
        let e = import_npz(&path, &opts(), &Device::flex()).map(|_| ()).unwrap_err().to_string();
        assert!(e.contains(&format!("[{key}]")) && e.contains("missing"), "{key} missing: {e}");
        let mut wrong = shape.clone();
        match wrong.first_mut() {
            Some(first) => *first += 1,
            None => wrong.push(2),
        }
        let n = wrong.iter().product::<usize>();
        let mut a = base.clone();
        a[i] = (key.clone(), wrong.clone(), vec![0.5; n]);
        write(&path, &a);
        let e = import_npz(&path, &opts(), &Device::flex()).map(|_| ()).unwrap_err().to_string();
        // Wk sets H, Y and D: a wrong Wk is reported where another key disagrees with it.
        assert!(e.contains(key.as_str()) && e.contains(&format!("{wrong:?}")), "{key} as {wrong:?}: {e}");
    }
    // The same arrays in a deflate-compressed zip.
    let stored = dir.path().join("stored.npz");
    write(&stored, &base);
    let compressed = dir.path().join("compressed.npz");
    {
        let mut input = zip::ZipArchive::new(std::fs::File::open(&stored).unwrap()).unwrap();
        let mut out = zip::ZipWriter::new(std::fs::File::create(&compressed).unwrap());
        let deflate = zip::write::FileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for i in 0..input.len() {
            let mut f = input.by_index(i).unwrap();
            let name = f.name().to_string();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut f, &mut bytes).unwrap();
            out.start_file(name, deflate).unwrap();
            std::io::Write::write_all(&mut out, &bytes).unwrap();
        }
        out.finish().unwrap();
    }
    let is_deflated =
        zip::ZipArchive::new(std::fs::File::open(&compressed).unwrap()).unwrap().by_index(0).unwrap().compression()
            == zip::CompressionMethod::Deflated;
    assert!(is_deflated);
    let a = import_npz(&stored, &opts(), &Device::flex()).unwrap();
    let b = import_npz(&compressed, &opts(), &Device::flex()).unwrap();
    assert_eq!(values(&a.model.et.attention.wq), values(&b.model.et.attention.wq));
    assert_eq!(values(&a.model.et.hopfield.xi), values(&b.model.et.hopfield.xi));
}
