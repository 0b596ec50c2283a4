//! The graph formats fuzzed through their whole path — reader, features and encodings, batching,
//! the model — not only the parsers (`hopfield-data/tests/fuzz.rs`). Each file of MUTAG (TU
//! format) and of a small node-anomaly graph is mutated in turn, as text (lines deleted,
//! duplicated, swapped; fields replaced by 0, −1, the count + 1, 2³¹, 1e30, NaN, or a value from
//! another line) and, gzipped,
//! as bytes (the compressed container itself damaged). Every input that reads must then go
//! through the models' preparation and forward pass — and, one case in ten, a training epoch —
//! ending in a result or a clear error, never a panic; the run stays within a memory bound.

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use burn::tensor::Device;
use hopfield_data::graph::anomaly::{self, AnomalyGraph};
use hopfield_data::graph::tu::{self, GraphSet};
use hopfield_train::experiments::graph_cv::{self, GraphCvConfig, GraphCvData};
use hopfield_train::experiments::node_anomaly::{self, NodeAnomalyConfig};
use hopfield_train::experiments::Silent;
use hopfield_train::tasks::graph::anomaly::{scores, AnomalyData, EgoSettings};
use hopfield_train::tasks::graph::classify::{evaluate, GraphData};
use hopfield_train::tasks::graph::{GraphModel, GraphSettings, ModelKind};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Mutations per file and form (text, gzip bytes).
const CASES: usize = 100;

fn small(epochs: usize) -> GraphSettings {
    GraphSettings { dim: 8, heads: 2, head_dim: 4, memories: 8, encodings: 2, epochs, ..GraphSettings::default() }
}

/// One seeded mutation of a text file's lines, and what it did.
fn mutate_text(rng: &mut ChaCha8Rng, text: &str) -> (String, String) {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let n = lines.len().max(1);
    let i = rng.random_range(0..n).min(lines.len().saturating_sub(1));
    let what = match rng.random_range(0..5) {
        0 if !lines.is_empty() => {
            lines.remove(i);
            format!("line {} deleted", i + 1)
        }
        1 if !lines.is_empty() => {
            let l = lines[i].clone();
            lines.insert(i, l);
            format!("line {} duplicated", i + 1)
        }
        2 if lines.len() > 1 => {
            let j = rng.random_range(0..lines.len());
            lines.swap(i, j);
            format!("lines {} and {} swapped", i + 1, j + 1)
        }
        _ if !lines.is_empty() => {
            // An extreme, or a value from another line (valid on its own, wrong here: an edge
            // to another graph's node, a node moved to another graph).
            let j = rng.random_range(0..lines.len());
            let sep_j = if lines[j].contains(',') { ',' } else { ' ' };
            let fields_j: Vec<&str> = lines[j].split(sep_j).collect();
            let borrowed = fields_j[rng.random_range(0..fields_j.len())].trim().to_string();
            let value = ["0", "-1", &(n + 1).to_string(), "2147483648", "1e30", "NaN", "3.5", &borrowed, &borrowed]
                [rng.random_range(0..9)]
            .to_string();
            let sep = if lines[i].contains(',') { ',' } else { ' ' };
            let mut fields: Vec<String> = lines[i].split(sep).map(str::to_string).collect();
            let f = rng.random_range(0..fields.len());
            fields[f] = value.clone();
            lines[i] = fields.join(&sep.to_string());
            format!("line {} field {f} set to {value}", i + 1)
        }
        _ => "unchanged".into(),
    };
    (lines.join("\n") + "\n", what)
}

/// One seeded mutation of bytes: bits flipped, a truncation, bytes overwritten.
fn mutate_bytes(rng: &mut ChaCha8Rng, bytes: &[u8]) -> (Vec<u8>, String) {
    let mut v = bytes.to_vec();
    let len = v.len().max(1);
    match rng.random_range(0..3) {
        0 => {
            let at = rng.random_range(0..len);
            v.truncate(at);
            (v, format!("truncated to {at}"))
        }
        1 => {
            let i = rng.random_range(0..len).min(v.len() - 1);
            v[i] ^= 1 << rng.random_range(0..8);
            (v, format!("bit flipped at {i}"))
        }
        _ => {
            let at = rng.random_range(0..len).min(v.len() - 1);
            let k = rng.random_range(1..9).min(v.len() - at);
            v[at..at + k].iter_mut().for_each(|b| *b = rng.random());
            (v, format!("{k} bytes at {at} overwritten"))
        }
    }
}

fn gzip(text: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text).unwrap();
    gz.finish().unwrap()
}

fn gunzip(bytes: &[u8]) -> String {
    let mut s = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(bytes), &mut s).unwrap();
    s
}

/// What the cases gave: inputs read, inputs refused by the reader, inputs that went through the
/// model (or were refused on the way with an error).
#[derive(Debug, Default)]
struct Tally {
    refused_on_read: usize,
    through_model: usize,
    refused_later: usize,
    trained: usize,
}

/// A graph set through the model: features and encodings, standardisation, padded batches, the
/// ET's forward pass on every graph; with `train`, one epoch of one fold.
fn classify_path(set: &GraphSet, train: bool) -> hopfield_train::Result<()> {
    let dev = Device::flex();
    let s = small(1);
    let k = s.encodings.min(set.graphs.iter().map(|g| g.nodes).max().unwrap_or(0));
    let data = GraphData::new(set, set.default_features(), k, 0, true)?;
    let all: Vec<usize> = (0..set.graphs.len()).collect();
    let data = data.standardised(&all)?;
    let s = GraphSettings { encodings: k, edge_weights: true, ..s };
    let model = GraphModel::new(ModelKind::Et, &s, data.width, data.classes, data.edge_labels, &dev)?;
    evaluate(&model, &data, &all, &s, &dev)?;
    if train {
        let cv = GraphCvData::new(set.clone(), None, 0)?;
        let config =
            GraphCvConfig { models: vec![ModelKind::Et], max_folds: Some(1), settings: s, ..GraphCvConfig::default() };
        graph_cv::run(&config, &cv, &dev, Silent)?;
    }
    Ok(())
}

/// An anomaly graph through the model: standardisation, ego-graphs with encodings, batches, the
/// ET's scores; with `train`, one epoch of one seed.
fn anomaly_path(graph: &AnomalyGraph, train: bool) -> hopfield_train::Result<()> {
    let dev = Device::flex();
    let s = small(1);
    let nodes: Vec<u32> = (0..graph.nodes as u32).collect();
    let data = AnomalyData::new(graph, &nodes)?;
    let ego = EgoSettings { hops: 2, budget: 6 };
    let graphs: Vec<_> = nodes.iter().take(40).map(|&c| data.fixed(c, ego, s.encodings, 0)).collect();
    let model = GraphModel::new(ModelKind::Et, &s, data.dim, 2, 1, &dev)?;
    scores(&model, &graphs, data.dim, s.encodings, &s, &dev)?;
    if train {
        let config = NodeAnomalyConfig {
            models: vec![ModelKind::Et],
            seeds: 1,
            ego,
            settings: s,
            ..NodeAnomalyConfig::default()
        };
        node_anomaly::run(&config, graph, &dev, Silent)?;
    }
    Ok(())
}

/// Reads a folder (Err: the reader refused it) and takes what it read through the model.
type Case<'a> = &'a dyn Fn(&Path, bool) -> Result<hopfield_train::Result<()>, String>;

/// Runs `case` on each mutation of the file `dir/name` (as text and gzipped bytes), the other
/// files intact; a panic fails the test naming the file and the mutation.
fn fuzz_file(dir: &Path, name: &str, seed: u64, tally: &mut Tally, case: Case<'_>) {
    let plain = dir.join(name);
    let gz_path = dir.join(format!("{name}.gz"));
    let text = std::fs::read_to_string(&plain).unwrap_or_else(|_| gunzip(&std::fs::read(&gz_path).unwrap()));
    let _ = std::fs::remove_file(&plain);
    let _ = std::fs::remove_file(&gz_path);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for i in 0..2 * CASES {
        let as_gzip = i % 2 == 1;
        let what = if as_gzip {
            let (bytes, what) = mutate_bytes(&mut rng, &gzip(text.as_bytes()));
            std::fs::write(&gz_path, bytes).unwrap();
            format!("gzip {what}")
        } else {
            let (t, what) = mutate_text(&mut rng, &text);
            std::fs::write(&plain, t).unwrap();
            what
        };
        let train = i % 10 == 0;
        match catch_unwind(AssertUnwindSafe(|| case(dir, train))) {
            Ok(Err(_)) => tally.refused_on_read += 1,
            Ok(Ok(Ok(()))) => {
                tally.through_model += 1;
                tally.trained += train as usize;
            }
            Ok(Ok(Err(e))) => {
                assert!(!e.to_string().is_empty());
                tally.refused_later += 1;
            }
            Err(_) => panic!("{name}: case {i} ({what}) panicked"),
        }
        let _ = std::fs::remove_file(&plain);
        let _ = std::fs::remove_file(&gz_path);
    }
    std::fs::write(&plain, text).unwrap();
}

#[test]
fn mutated_graph_files_go_through_the_models_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    // MUTAG's five files, unzipped.
    let tu_dir = dir.path().join("MUTAG");
    std::fs::create_dir(&tu_dir).unwrap();
    let mutag = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/graphs/MUTAG");
    let parts = ["A", "graph_indicator", "graph_labels", "node_labels", "edge_labels"];
    for p in parts {
        let bytes = std::fs::read(mutag.join(format!("MUTAG_{p}.txt.gz"))).unwrap();
        std::fs::write(tu_dir.join(format!("MUTAG_{p}.txt")), gunzip(&bytes)).unwrap();
    }
    classify_path(&tu::load(&tu_dir, None).unwrap(), false).unwrap();
    let mut tally = Tally::default();
    let tu_case =
        |d: &Path, train: bool| tu::load(d, None).map(|set| classify_path(&set, train)).map_err(|e| e.to_string());
    for (i, p) in parts.iter().enumerate() {
        fuzz_file(&tu_dir, &format!("MUTAG_{p}.txt"), 100 + i as u64, &mut tally, &tu_case);
    }
    eprintln!("TU: {tally:?}");
    assert!(tally.through_model > 50 && tally.trained > 5, "too few mutations reached the model: {tally:?}");

    // A node-anomaly graph: a ring of 60 nodes with chords, dense and sparse features.
    let an = dir.path().join("anomaly");
    std::fs::create_dir(&an).unwrap();
    let n = 60;
    let edges: String = (0..n).map(|i| format!("{i} {}\n{i} {}\n", (i + 1) % n, (i + 7) % n)).collect();
    let labels: String = (0..n).map(|i| format!("{}\n", (i % 6 == 3) as u8)).collect();
    let dense: String = (0..n).map(|i| format!("{},{}.5,-{}\n", 3 * (i % 6 == 3) as u8, i % 5, i % 7)).collect();
    let coo: String =
        std::iter::once(format!("{n} 4 {n}\n")).chain((0..n).map(|i| format!("{i} {} 0.{}\n", i % 4, i + 1))).collect();
    std::fs::write(an.join("edges.txt"), &edges).unwrap();
    std::fs::write(an.join("labels.txt"), &labels).unwrap();
    let mut tally = Tally::default();
    let an_case = |d: &Path, train: bool| anomaly::load(d).map(|g| anomaly_path(&g, train)).map_err(|e| e.to_string());
    for (i, (name, features)) in [
        ("edges.txt", "features.csv"),
        ("labels.txt", "features.csv"),
        ("features.csv", "features.csv"),
        ("features_coo.txt", "features_coo.txt"),
    ]
    .into_iter()
    .enumerate()
    {
        for f in ["features.csv", "features_coo.txt"] {
            let _ = std::fs::remove_file(an.join(f));
        }
        std::fs::write(an.join(features), if features == "features.csv" { &dense } else { &coo }).unwrap();
        anomaly_path(&anomaly::load(&an).unwrap(), false).unwrap();
        fuzz_file(&an, name, 200 + i as u64, &mut tally, &an_case);
    }
    eprintln!("anomaly: {tally:?}");
    assert!(tally.through_model > 50 && tally.trained > 5, "too few mutations reached the model: {tally:?}");
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024);
    eprintln!("peak memory {peak} MB");
    assert!(peak < 2048, "the whole path used {peak} MB at its peak");
}
