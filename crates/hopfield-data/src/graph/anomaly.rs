//! Node anomaly detection graphs (the PyGOD data sets: reddit, books, disney, enron, inj_cora), one
//! folder each: `edges.txt` (`src dst` per line, 0-based), `labels.txt` (one integer per node: 0
//! normal, anything above anomalous — `inj_cora`'s 1–3 are its kinds of injected anomaly), and the
//! features either dense (`features.csv`, one comma-separated row per node) or sparse
//! (`features_coo.txt`: a first line `n d nnz`, then nnz lines `row col value`). Every file may be
//! gzipped (`.gz`). Counts and id ranges are cross-checked; a malformed file is an error naming the
//! file, the line and the problem.

use std::path::{Path, PathBuf};

use super::text::{at, integer, lines, number, number_rows};
use crate::error::{format_err, Result};

/// One attributed graph whose nodes are labelled normal or anomalous.
#[derive(Debug, Clone, PartialEq)]
pub struct AnomalyGraph {
    /// The folder's name.
    pub name: String,
    /// Number of nodes.
    pub nodes: usize,
    /// Edges as listed (`src`, `dst`), 0-based.
    pub edges: Vec<(u32, u32)>,
    /// Features, row-major [nodes, dim].
    pub features: Vec<f32>,
    /// Features per node.
    pub dim: usize,
    /// The label of each node as in the file (0 normal).
    pub raw_labels: Vec<i64>,
}

impl AnomalyGraph {
    /// Whether each node is an anomaly (label ≠ 0).
    pub fn anomalous(&self) -> Vec<bool> {
        self.raw_labels.iter().map(|&l| l != 0).collect()
    }

    /// How many nodes are anomalies.
    pub fn anomalies(&self) -> usize {
        self.raw_labels.iter().filter(|&&l| l != 0).count()
    }

    /// Undirected neighbour lists: every listed edge both ways, without self-loops or repeats.
    pub fn neighbours(&self) -> Vec<Vec<u32>> {
        let mut adj = vec![Vec::new(); self.nodes];
        for &(u, v) in &self.edges {
            if u != v {
                adj[u as usize].push(v);
                adj[v as usize].push(u);
            }
        }
        for a in &mut adj {
            a.sort_unstable();
            a.dedup();
        }
        adj
    }
}

fn file(dir: &Path, name: &str) -> Result<Option<PathBuf>> {
    crate::bytes::plain_or_gz(dir, name)
}

/// Reads the anomaly graph in the folder `dir`.
///
/// # Errors
/// A missing file; a label that is not a non-negative integer; an edge to a node that does not
/// exist; a feature row of the wrong width; a non-finite value; counts that disagree between files.
pub fn load(dir: &Path) -> Result<AnomalyGraph> {
    load_with(dir, true)
}

/// [`load`], except that `labels.txt` may be missing: every node is then labelled 0 and the node
/// count comes from the features (for detectors that never read labels).
///
/// # Errors
/// As [`load`].
pub fn load_unlabelled(dir: &Path) -> Result<AnomalyGraph> {
    load_with(dir, false)
}

fn load_with(dir: &Path, labels_required: bool) -> Result<AnomalyGraph> {
    let need = |name: &str| {
        file(dir, name)?.ok_or_else(|| {
            format_err(dir.display(), format!("no {name} or {name}.gz: not a node-anomaly data set folder"))
        })
    };
    let labels = match file(dir, "labels.txt")? {
        None if !labels_required => None,
        _ => {
            let (label_file, label_lines) = lines(&need("labels.txt")?)?;
            let mut raw_labels = Vec::with_capacity(label_lines.len());
            for (i, l) in &label_lines {
                let v = integer(&label_file, *i, l)?;
                if v < 0 {
                    return Err(at(&label_file, *i, format!("label {v}: 0 is normal, a positive label an anomaly")));
                }
                raw_labels.push(v);
            }
            if raw_labels.is_empty() {
                return Err(format_err(&label_file, "no nodes"));
            }
            Some((label_file, raw_labels))
        }
    };
    let counted = labels.as_ref().map(|(f, l)| (f.clone(), l.len()));
    let (features, dim, nodes, counted_by) = match (file(dir, "features.csv")?, file(dir, "features_coo.txt")?) {
        (Some(a), Some(b)) => {
            return Err(format_err(
                dir.display(),
                format!(
                    "both {} and {} are here: it is not clear which features to read; move one away",
                    a.file_name().unwrap_or_default().to_string_lossy(),
                    b.file_name().unwrap_or_default().to_string_lossy()
                ),
            ))
        }
        (Some(p), None) => dense(&p, counted)?,
        (None, Some(p)) => sparse(&p, counted)?,
        (None, None) => {
            return Err(format_err(
                dir.display(),
                "no features.csv(.gz) or features_coo.txt(.gz): the node features are missing",
            ))
        }
    };
    let (edge_file, edge_lines) = lines(&need("edges.txt")?)?;
    let mut edges = Vec::with_capacity(edge_lines.len());
    for (i, l) in &edge_lines {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() != 2 {
            return Err(at(&edge_file, *i, format!("'{l}': expected two node ids 'src dst'")));
        }
        let (u, v) = (integer(&edge_file, *i, f[0])?, integer(&edge_file, *i, f[1])?);
        for id in [u, v] {
            if id < 0 || id as usize >= nodes {
                return Err(at(
                    &edge_file,
                    *i,
                    format!("node {id}: ids are 0-based, below the {nodes} nodes of {counted_by}"),
                ));
            }
        }
        edges.push((u as u32, v as u32));
    }
    let raw_labels = labels.map_or_else(|| vec![0; nodes], |(_, l)| l);
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(AnomalyGraph { name, nodes, edges, features, dim, raw_labels })
}

/// Features, their width, the node count and the file that gave it.
type Features = (Vec<f32>, usize, usize, String);

/// Dense features; `counted`: the labels' file and node count, which the rows must match.
fn dense(path: &Path, counted: Option<(String, usize)>) -> Result<Features> {
    let (file, rows) = lines(path)?;
    if let Some((_, nodes)) = counted.as_ref().filter(|(_, n)| *n != rows.len()) {
        return Err(format_err(&file, format!("{} rows, but the labels give {nodes} nodes", rows.len())));
    }
    if rows.is_empty() {
        return Err(format_err(&file, "no nodes"));
    }
    let nodes = rows.len();
    let (x, d) = number_rows(&file, &rows)?;
    Ok((x, d, nodes, counted.map_or(file, |c| c.0)))
}

fn sparse(path: &Path, counted: Option<(String, usize)>) -> Result<Features> {
    let (file, rows) = lines(path)?;
    let Some(((h, header), entries)) = rows.split_first() else {
        return Err(format_err(&file, "empty: expected a first line 'n d nnz'"));
    };
    let f: Vec<&str> = header.split_whitespace().collect();
    if f.len() != 3 {
        return Err(at(&file, *h, format!("'{header}': expected 'n d nnz'")));
    }
    let (n, d, nnz) = (integer(&file, *h, f[0])?, integer(&file, *h, f[1])?, integer(&file, *h, f[2])?);
    let nodes = match &counted {
        Some((_, nodes)) if n != *nodes as i64 => {
            return Err(at(&file, *h, format!("{n} rows, but the labels give {nodes} nodes")))
        }
        Some((_, nodes)) => *nodes,
        None if !(1..=1 << 31).contains(&n) => {
            return Err(at(&file, *h, format!("{n} rows: expected 1 to {}", 1u64 << 31)))
        }
        None => n as usize,
    };
    if !(1..=1 << 20).contains(&d) {
        return Err(at(&file, *h, format!("{d} features: expected 1 to {}", 1 << 20)));
    }
    if nnz < 0 || nnz as usize != entries.len() {
        return Err(at(&file, *h, format!("nnz {nnz}, but {} entries follow", entries.len())));
    }
    let d = d as usize;
    // The dense matrix is what the models read (three times over: as read, standardised, in
    // batches); refuse one the header makes larger than this process may hold.
    let bytes = crate::budget::product(&[nodes as u128, d as u128, 4, 3]);
    crate::budget::fits(bytes).map_err(|e| at(&file, *h, format!("{nodes} × {d} features held densely {e}")))?;
    let mut all = vec![0f32; nodes * d];
    for (i, l) in entries {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() != 3 {
            return Err(at(&file, *i, format!("'{l}': expected 'row col value'")));
        }
        let (r, c, v) = (integer(&file, *i, f[0])?, integer(&file, *i, f[1])?, number(&file, *i, f[2])?);
        if r < 0 || r as usize >= nodes || c < 0 || c as usize >= d {
            return Err(at(&file, *i, format!("entry ({r}, {c}) outside the {nodes} × {d} matrix (0-based)")));
        }
        all[r as usize * d + c as usize] = v;
    }
    Ok((all, d, nodes, counted.map_or(file, |c| c.0)))
}
