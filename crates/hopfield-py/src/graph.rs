//! Graphs: classification by cross-validation, supervised node anomaly detection over seeds and
//! unsupervised detection (the BOND protocol), on a named set, a folder, or graphs given as arrays
//! in PyTorch Geometric's convention.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use hopfield_data::graph::anomaly::AnomalyGraph;
use hopfield_data::graph::tu::{Graph, GraphSet};
use hopfield_train::experiments::graph_cv::{self, FoldOrigin, GraphCvConfig, GraphCvData};
use hopfield_train::experiments::graph_select::SelectionGrid;
use hopfield_train::experiments::node_anomaly::{self as anomaly_protocol, NodeAnomalyConfig};
use hopfield_train::experiments::node_outliers::{self as outlier_protocol, NodeOutlierConfig};
use hopfield_train::experiments::resume::Checkpointing;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::arrays::{expect_shape, f32s, ints, out, Array};
use crate::config::{json, merged};
use crate::errors::{train, value};
use crate::watch::{py_value, Watch};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<GraphCvReport>()?;
    m.add_class::<NodeAnomalyReport>()?;
    m.add_class::<NodeOutlierReport>()?;
    m.add_function(wrap_pyfunction!(node_outliers_defaults, m)?)?;
    m.add_function(wrap_pyfunction!(node_outliers, m)?)?;
    m.add_function(wrap_pyfunction!(graph_cv_defaults, m)?)?;
    m.add_function(wrap_pyfunction!(node_anomaly_defaults, m)?)?;
    m.add_function(wrap_pyfunction!(graph_classify, m)?)?;
    m.add_function(wrap_pyfunction!(node_anomaly, m)?)?;
    m.add_function(wrap_pyfunction!(load_graphs, m)?)?;
    Ok(())
}

fn folder(dir: Option<PathBuf>) -> PathBuf {
    dir.unwrap_or_else(hopfield_data::source::default_data_dir)
}

/// A graph's edges from `edge_index` [2, E] for `nodes` nodes, each index checked.
fn edges(name: &str, e: &Array<i64>, nodes: usize) -> PyResult<Vec<(u32, u32)>> {
    expect_shape(name, e, &[Some(2), None], "2, E")?;
    let count = e.shape[1];
    if let Some(i) = e.data.iter().position(|&v| v < 0 || v as usize >= nodes) {
        return Err(value(
            name,
            format!(
                "node {} at index {} but the graph has {nodes} nodes (0..{})",
                e.data[i],
                crate::arrays::position(&e.shape, i),
                nodes.saturating_sub(1)
            ),
        ));
    }
    Ok((0..count).map(|k| (e.data[k] as u32, e.data[count + k] as u32)).collect())
}

fn item<'py>(d: &Bound<'py, PyDict>, key: &str, what: &str) -> PyResult<Bound<'py, PyAny>> {
    d.get_item(key)?
        .ok_or_else(|| value(what, format!("has no '{key}'; each graph is a dict with 'x', 'edge_index' and 'y'")))
}

/// Optional integer labels under `key`, one per node or edge (`count`).
fn labels(d: &Bound<'_, PyDict>, name: &str, key: &str, count: usize) -> PyResult<Option<Vec<i64>>> {
    match d.get_item(key)? {
        Some(v) if !v.is_none() => {
            let a = ints(name, &v)?;
            expect_shape(name, &a, &[Some(count)], if key == "node_labels" { "n" } else { "e" })?;
            Ok(Some(a.data))
        }
        _ => Ok(None),
    }
}

/// Graphs in PyTorch Geometric's convention: dicts with `x` [n, f], `edge_index` [2, e], `y`, and
/// optionally integer `node_labels` [n] and `edge_labels` [e] (as `load_graphs` gives them).
fn graph_set(name: &str, graphs: &Bound<'_, PyList>) -> PyResult<GraphSet> {
    let mut out = Vec::with_capacity(graphs.len());
    let (mut ys, mut width) = (Vec::new(), None);
    for (i, g) in graphs.iter().enumerate() {
        let what = format!("graphs[{i}]");
        let d = g.cast::<PyDict>().map_err(|_| value(&what, "is not a dict with 'x', 'edge_index' and 'y'"))?;
        let x = f32s(&format!("{what}['x']"), &item(d, "x", &what)?)?;
        expect_shape(&format!("{what}['x']"), &x, &[None, width], "n, f")?;
        width = Some(x.shape[1]);
        let e = ints(&format!("{what}['edge_index']"), &item(d, "edge_index", &what)?)?;
        let y = ints(&format!("{what}['y']"), &item(d, "y", &what)?)?;
        if y.data.len() != 1 {
            return Err(value(
                &format!("{what}['y']"),
                format!("{} values; a graph has one class label", y.data.len()),
            ));
        }
        ys.push(y.data[0]);
        let edges = edges(&format!("{what}['edge_index']"), &e, x.shape[0])?;
        let node_labels = labels(d, &format!("{what}['node_labels']"), "node_labels", x.shape[0])?;
        let edge_labels = labels(d, &format!("{what}['edge_labels']"), "edge_labels", edges.len())?;
        out.push(Graph { nodes: x.shape[0], edges, node_labels, node_attributes: Some(x.data), edge_labels });
    }
    if out.is_empty() {
        return Err(value("graphs", "an empty list"));
    }
    let mut class_values = ys.clone();
    class_values.sort_unstable();
    class_values.dedup();
    let labels = ys.iter().map(|y| class_values.binary_search(y).unwrap_or(0)).collect();
    Ok(GraphSet { name: name.into(), graphs: out, labels, class_values, attribute_dim: width.unwrap_or(0) })
}

/// The graph cross-validation's default settings as JSON.
#[pyfunction]
fn graph_cv_defaults() -> PyResult<String> {
    json(&GraphCvConfig::default())
}

/// Node anomaly detection's default settings as JSON.
#[pyfunction]
fn node_anomaly_defaults() -> PyResult<String> {
    json(&NodeAnomalyConfig::default())
}

/// What a graph cross-validation gave (native part; see `hopfield.graph_classify`).
#[pyclass(module = "hopfield._native", unsendable)]
pub struct GraphCvReport {
    inner: graph_cv::GraphCvReport,
    data: GraphCvData,
}

#[pymethods]
impl GraphCvReport {
    #[getter]
    fn set(&self) -> String {
        self.inner.set.clone()
    }
    #[getter]
    fn majority(&self) -> f64 {
        self.inner.majority
    }
    #[getter]
    fn folds_run(&self) -> usize {
        self.inner.folds_run
    }
    #[getter]
    fn seconds(&self) -> f64 {
        self.inner.seconds
    }
    /// Every model on every fold (dicts, fold by fold).
    fn runs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_value(py, &self.inner.runs)
    }
    /// Each model's mean ± std over the folds.
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_value(py, &self.inner.summary())
    }
    /// The folds' test parts (0-based graph indices per fold).
    fn folds(&self) -> Vec<Vec<usize>> {
        self.data.folds.test.clone()
    }
    fn table(&self) -> String {
        self.inner.table()
    }
    fn folds_csv(&self) -> String {
        self.inner.folds_csv()
    }
    fn metrics_csv(&self) -> String {
        self.inner.metrics_csv()
    }
    /// With selection: every setting's validation figures on every fold.
    fn selection<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_value(py, &self.inner.selection)
    }
    fn selection_csv(&self) -> String {
        self.inner.selection_csv()
    }
    /// Writes folds.csv, metrics.csv and attention.png (and folds.txt when the folds were drawn).
    fn write(&self, py: Python<'_>, dir: PathBuf) -> PyResult<Vec<PathBuf>> {
        let (report, data) = (&self.inner, &self.data);
        py.detach(|| {
            let mut files = report.write(&dir, &Device::flex())?;
            if matches!(data.origin, FoldOrigin::Drawn(_)) {
                files.push(data.write_folds(&dir)?);
            }
            Ok(files)
        })
        .map_err(train)
    }
}

/// Cross-validates `config` (JSON changes to the defaults) on `data`: a set's name or folder, or
/// a list of graph dicts.
#[pyfunction]
#[pyo3(signature = (data, config, folds=None, seed=0, data_dir=None, callback=None, checkpoint=None, resume=false, select=None))]
#[allow(clippy::too_many_arguments)]
fn graph_classify(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    config: &str,
    folds: Option<PathBuf>,
    seed: u64,
    data_dir: Option<PathBuf>,
    callback: Option<Py<PyAny>>,
    checkpoint: Option<PathBuf>,
    resume: bool,
    select: Option<&str>,
) -> PyResult<GraphCvReport> {
    let checkpointing = checkpointing(checkpoint, resume)?;
    let mut cfg: GraphCvConfig = merged(&GraphCvConfig::default(), config, "graph classification settings")?;
    if let Some(grid) = select {
        cfg.select = Some(SelectionGrid::parse(grid, &cfg.settings).map_err(train)?);
    }
    let cv = match data.cast::<PyList>() {
        Ok(list) => GraphCvData::new(graph_set("graphs", list)?, folds.as_deref(), seed).map_err(train)?,
        Err(_) => {
            let name: String = data
                .extract()
                .map_err(|_| value("data", "expected a set's name, a folder, or a list of graph dicts"))?;
            let dir = folder(data_dir);
            py.detach(|| GraphCvData::named(&name, &dir, folds.as_deref(), seed)).map_err(train)?
        }
    };
    let watch = Watch::new(callback);
    let report = watch.run(py, |w| graph_cv::run_resumable(&cfg, &cv, &Device::flex(), w, checkpointing.as_ref()))?;
    Ok(GraphCvReport { inner: report, data: cv })
}

/// The checkpoint folder and whether to resume it, as the Python functions take them.
fn checkpointing(checkpoint: Option<PathBuf>, resume: bool) -> PyResult<Option<Checkpointing>> {
    match checkpoint {
        Some(dir) => Ok(Some(Checkpointing { dir, resume })),
        None if resume => Err(value("resume", "resume=True needs the checkpoint folder: give checkpoint=")),
        None => Ok(None),
    }
}

/// What node anomaly detection gave (native part; see `hopfield.node_anomaly`).
#[pyclass(module = "hopfield._native", unsendable)]
pub struct NodeAnomalyReport {
    inner: anomaly_protocol::NodeAnomalyReport,
}

#[pymethods]
impl NodeAnomalyReport {
    #[getter]
    fn graph(&self) -> String {
        self.inner.graph.clone()
    }
    #[getter]
    fn seeds(&self) -> u64 {
        self.inner.seeds
    }
    fn runs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_value(py, &self.inner.runs)
    }
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_value(py, &self.inner.summary())
    }
    fn table(&self) -> String {
        self.inner.table()
    }
    fn runs_csv(&self) -> String {
        self.inner.runs_csv()
    }
    fn metrics_csv(&self) -> String {
        self.inner.metrics_csv()
    }
    /// Writes runs.csv, metrics.csv and scores.png.
    fn write(&self, py: Python<'_>, dir: PathBuf) -> PyResult<Vec<PathBuf>> {
        let report = &self.inner;
        py.detach(|| report.write(&dir, &Device::flex())).map_err(train)
    }
}

/// One attributed graph from `x` [n, f], `edge_index` [2, e] and `y` [n] (0 normal, else
/// anomalous; without `labels_required` a missing `y` means no labels: every node 0).
fn anomaly_graph(name: &str, d: &Bound<'_, PyDict>, labels_required: bool) -> PyResult<AnomalyGraph> {
    let x = f32s("graph['x']", &item(d, "x", "graph")?)?;
    expect_shape("graph['x']", &x, &[None, None], "n, f")?;
    let n = x.shape[0];
    let e = ints("graph['edge_index']", &item(d, "edge_index", "graph")?)?;
    let y = match d.get_item("y")? {
        None if !labels_required => crate::arrays::Array { shape: vec![n], data: vec![0; n] },
        _ => ints("graph['y']", &item(d, "y", "graph")?)?,
    };
    expect_shape("graph['y']", &y, &[Some(n)], "n")?;
    if let Some(v) = y.data.iter().find(|&&v| v < 0) {
        return Err(value("graph['y']", format!("holds {v}: 0 is normal, a positive label an anomaly")));
    }
    Ok(AnomalyGraph {
        name: name.into(),
        nodes: n,
        edges: edges("graph['edge_index']", &e, n)?,
        features: x.data,
        dim: x.shape[1],
        raw_labels: y.data,
    })
}

/// Node anomaly detection of `config` (JSON changes to the defaults) on `data`: a graph's name or
/// folder, or a dict with `x`, `edge_index` and `y`.
#[pyfunction]
#[pyo3(signature = (data, config, data_dir=None, callback=None, checkpoint=None, resume=false))]
fn node_anomaly(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    config: &str,
    data_dir: Option<PathBuf>,
    callback: Option<Py<PyAny>>,
    checkpoint: Option<PathBuf>,
    resume: bool,
) -> PyResult<NodeAnomalyReport> {
    let checkpointing = checkpointing(checkpoint, resume)?;
    let cfg: NodeAnomalyConfig = merged(&NodeAnomalyConfig::default(), config, "node anomaly settings")?;
    let graph = match data.cast::<PyDict>() {
        Ok(d) => anomaly_graph("graph", d, true)?,
        Err(_) => {
            let name: String = data.extract().map_err(|_| {
                value("data", "expected a graph's name, a folder, or a dict with 'x', 'edge_index' and 'y'")
            })?;
            let dir = folder(data_dir);
            py.detach(|| anomaly_protocol::load_named(&name, &dir)).map_err(train)?
        }
    };
    let watch = Watch::new(callback);
    let report =
        watch.run(py, |w| anomaly_protocol::run_resumable(&cfg, &graph, &Device::flex(), w, checkpointing.as_ref()))?;
    Ok(NodeAnomalyReport { inner: report })
}

/// Unsupervised detection's default settings as JSON.
#[pyfunction]
fn node_outliers_defaults() -> PyResult<String> {
    json(&NodeOutlierConfig::default())
}

/// What unsupervised detection gave (native part; see `hopfield.node_outliers`).
#[pyclass(module = "hopfield._native", unsendable)]
pub struct NodeOutlierReport {
    inner: outlier_protocol::NodeOutlierReport,
}

#[pymethods]
impl NodeOutlierReport {
    #[getter]
    fn graph(&self) -> String {
        self.inner.graph.clone()
    }
    #[getter]
    fn seeds(&self) -> u64 {
        self.inner.seeds
    }
    fn runs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_value(py, &self.inner.runs)
    }
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_value(py, &self.inner.summary())
    }
    /// Seed 0's score of every node, per score name, in the order the detectors ran.
    fn scores<'py>(&self, py: Python<'py>) -> PyResult<Vec<(String, Bound<'py, PyAny>)>> {
        let n = self.inner.nodes;
        self.inner.scores.iter().map(|(k, v)| Ok((k.clone(), out(py, &[n], v.clone())?.into_any()))).collect()
    }
    fn table(&self) -> String {
        self.inner.table()
    }
    fn runs_csv(&self) -> String {
        self.inner.runs_csv()
    }
    fn metrics_csv(&self) -> String {
        self.inner.metrics_csv()
    }
    fn scores_csv(&self) -> String {
        self.inner.scores_csv()
    }
    /// Writes runs.csv, metrics.csv, scores.csv and scores.png.
    fn write(&self, py: Python<'_>, dir: PathBuf) -> PyResult<Vec<PathBuf>> {
        let report = &self.inner;
        py.detach(|| report.write(&dir, &Device::flex())).map_err(train)
    }
}

/// Unsupervised node anomaly detection of `config` (JSON changes to the defaults) on `data`: a
/// graph's name or folder, or a dict with `x`, `edge_index` and optionally `y`.
#[pyfunction]
#[pyo3(signature = (data, config, data_dir=None, callback=None))]
fn node_outliers(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    config: &str,
    data_dir: Option<PathBuf>,
    callback: Option<Py<PyAny>>,
) -> PyResult<NodeOutlierReport> {
    let cfg: NodeOutlierConfig = merged(&NodeOutlierConfig::default(), config, "unsupervised detection settings")?;
    let graph = match data.cast::<PyDict>() {
        Ok(d) => anomaly_graph("graph", d, false)?,
        Err(_) => {
            let name: String = data.extract().map_err(|_| {
                value("data", "expected a graph's name, a folder, or a dict with 'x', 'edge_index' and optionally 'y'")
            })?;
            let dir = folder(data_dir);
            py.detach(|| outlier_protocol::load_named(&name, &dir)).map_err(train)?
        }
    };
    let watch = Watch::new(callback);
    let report = watch.run(py, |w| outlier_protocol::run(&cfg, &graph, &Device::flex(), w))?;
    Ok(NodeOutlierReport { inner: report })
}

/// A graph set as PyTorch Geometric-style dicts: `x` (the node features the protocol would use:
/// one-hot labels and/or attributes), `edge_index`, `y` (the class index), `node_labels` and
/// `edge_labels` as in the files (when the set has them); with the class values.
#[pyfunction]
#[pyo3(signature = (name, data_dir=None))]
#[allow(clippy::type_complexity)]
fn load_graphs<'py>(
    py: Python<'py>,
    name: &str,
    data_dir: Option<PathBuf>,
) -> PyResult<(Vec<Bound<'py, PyDict>>, Vec<i64>)> {
    let dir = folder(data_dir);
    let cv = py.detach(|| GraphCvData::named(name, Path::new(&dir), None, 0)).map_err(train)?;
    let set = &cv.set;
    let (features, width) = set.node_features(set.default_features()).map_err(|e| train(e.into()))?;
    let mut out_graphs = Vec::with_capacity(set.graphs.len());
    for (g, (x, &y)) in set.graphs.iter().zip(features.into_iter().zip(&set.labels)) {
        let d = PyDict::new(py);
        d.set_item("x", out(py, &[g.nodes, width], x)?)?;
        let ei: Vec<i64> = g.edges.iter().map(|e| e.0 as i64).chain(g.edges.iter().map(|e| e.1 as i64)).collect();
        d.set_item("edge_index", out(py, &[2, g.edges.len()], ei)?)?;
        d.set_item("y", y)?;
        if let Some(l) = &g.node_labels {
            d.set_item("node_labels", out(py, &[l.len()], l.clone())?)?;
        }
        if let Some(l) = &g.edge_labels {
            d.set_item("edge_labels", out(py, &[l.len()], l.clone())?)?;
        }
        out_graphs.push(d);
    }
    Ok((out_graphs, set.class_values.clone()))
}
