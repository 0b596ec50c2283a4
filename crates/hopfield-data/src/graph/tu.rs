//! The TU graph format (TUDataset, Morris et al. 2020): comma-separated text files `DS_A`
//! (1-based node pairs of every edge), `DS_graph_indicator` (the 1-based graph of each node),
//! `DS_graph_labels`, and optionally `DS_node_labels`, `DS_node_attributes`, `DS_edge_labels`, each
//! plain or gzipped. Every count and id range is cross-checked between the files; a malformed file
//! is an error naming the file, the line and the problem.

use std::path::{Path, PathBuf};

use super::text::{at, integer, lines, lines_of, number_rows};
use crate::error::{format_err, DataError, Result};

/// One graph: its nodes are 0..nodes, its edges pairs of them as the file lists them (a TU file
/// lists an undirected edge in both directions).
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    /// Number of nodes.
    pub nodes: usize,
    /// (from, to) node pairs, 0-based within the graph.
    pub edges: Vec<(u32, u32)>,
    /// A label per node (`DS_node_labels`), as in the file.
    pub node_labels: Option<Vec<i64>>,
    /// Attributes per node, row-major [nodes, dim] (`DS_node_attributes`).
    pub node_attributes: Option<Vec<f32>>,
    /// A label per edge, in the order of `edges` (`DS_edge_labels`).
    pub edge_labels: Option<Vec<i64>>,
}

/// A set of labelled graphs.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphSet {
    /// The data set's name (`DS`).
    pub name: String,
    /// The graphs, in file order (graph id i + 1 is `graphs[i]`).
    pub graphs: Vec<Graph>,
    /// The class of each graph: an index into `class_values`.
    pub labels: Vec<usize>,
    /// The label values of the file, sorted; class c is `class_values[c]`.
    pub class_values: Vec<i64>,
    /// The width of the node attributes (0 when there are none).
    pub attribute_dim: usize,
}

impl GraphSet {
    /// Nodes over all graphs.
    pub fn node_count(&self) -> usize {
        self.graphs.iter().map(|g| g.nodes).sum()
    }

    /// Edges over all graphs (as listed: both directions of an undirected edge).
    pub fn edge_count(&self) -> usize {
        self.graphs.iter().map(|g| g.edges.len()).sum()
    }

    /// How many graphs each class has.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut c = vec![0; self.class_values.len()];
        self.labels.iter().for_each(|&l| c[l] += 1);
        c
    }
}

/// Where a set's files come from: a folder, or files compiled into the program.
enum Files<'a> {
    Dir(&'a Path),
    Embedded(&'a [(&'a str, &'a [u8])]),
}

/// A file a TU set's part is read from.
enum Part<'a> {
    Path(PathBuf),
    Bytes(&'a str, &'a [u8]),
}

impl Files<'_> {
    /// One of the data set's files: `DS_<part>.txt` or `DS_<part>.txt.gz`.
    fn part(&self, ds: &str, name: &str) -> Result<Option<Part<'_>>> {
        let names = [format!("{ds}_{name}.txt"), format!("{ds}_{name}.txt.gz")];
        Ok(match self {
            Files::Dir(dir) => crate::bytes::plain_or_gz(dir, &names[0])?.map(Part::Path),
            Files::Embedded(files) => {
                files.iter().find(|(f, _)| names.iter().any(|n| n == f)).map(|&(f, b)| Part::Bytes(f, b))
            }
        })
    }

    fn describe(&self) -> String {
        match self {
            Files::Dir(dir) => dir.display().to_string(),
            Files::Embedded(_) => "the bundled files".into(),
        }
    }
}

/// The non-empty lines of a part, with their numbers.
fn part_lines(part: &Part<'_>) -> Result<(String, Vec<(usize, String)>)> {
    match part {
        Part::Path(p) => lines(p),
        Part::Bytes(name, bytes) => lines_of(format!("bundled {name}"), bytes.to_vec()),
    }
}

/// One integer per line, exactly `expected` lines (when given).
fn column(part: &Part<'_>, what: &str, expected: Option<usize>) -> Result<Vec<i64>> {
    let (file, lines) = part_lines(part)?;
    if let Some(n) = expected {
        if lines.len() != n {
            return Err(format_err(&file, format!("{} lines, but there are {n} {what}", lines.len())));
        }
    }
    lines.iter().map(|(i, l)| integer(&file, *i, l.split(',').next().unwrap_or(""))).collect()
}

/// Reads the TU data set in `dir`, whose files are named after the folder (`dir/DS/DS_A.txt…`),
/// or after `name` when given.
///
/// # Errors
/// A missing required file; any file whose counts, ids or values do not agree with the others,
/// naming the file, the line and the problem.
pub fn load(dir: &Path, name: Option<&str>) -> Result<GraphSet> {
    let ds = match name {
        Some(n) => n.to_string(),
        None => dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
    };
    load_files(&Files::Dir(dir), ds)
}

/// The MUTAG files carried in the repository (Debnath et al. 1991; see data/graphs/MUTAG/README.txt).
const MUTAG: [(&str, &[u8]); 5] = [
    ("MUTAG_A.txt.gz", include_bytes!("../../../../data/graphs/MUTAG/MUTAG_A.txt.gz")),
    ("MUTAG_edge_labels.txt.gz", include_bytes!("../../../../data/graphs/MUTAG/MUTAG_edge_labels.txt.gz")),
    ("MUTAG_graph_indicator.txt.gz", include_bytes!("../../../../data/graphs/MUTAG/MUTAG_graph_indicator.txt.gz")),
    ("MUTAG_graph_labels.txt.gz", include_bytes!("../../../../data/graphs/MUTAG/MUTAG_graph_labels.txt.gz")),
    ("MUTAG_node_labels.txt.gz", include_bytes!("../../../../data/graphs/MUTAG/MUTAG_node_labels.txt.gz")),
];

/// MUTAG (188 molecules, 7 atom types, mutagenic or not) from the copy compiled into the program.
pub fn bundled_mutag() -> Result<GraphSet> {
    load_files(&Files::Embedded(&MUTAG), "MUTAG".into())
}

fn load_files(files: &Files<'_>, ds: String) -> Result<GraphSet> {
    let need = |p: &str| {
        files.part(&ds, p)?.ok_or_else(|| {
            format_err(files.describe(), format!("no {ds}_{p}.txt or {ds}_{p}.txt.gz: not a TU data set named {ds}"))
        })
    };
    let (graph_of, first) = graph_indicator(&need("graph_indicator")?)?;
    let (n, g_count) = (graph_of.len(), first.len() - 1);
    let mut graphs: Vec<Graph> = (0..g_count)
        .map(|g| Graph {
            nodes: first[g + 1] - first[g],
            edges: Vec::new(),
            node_labels: None,
            node_attributes: None,
            edge_labels: None,
        })
        .collect();
    let edge_graph = edges(&need("A")?, &graph_of, &first, &mut graphs)?;
    // Graph labels: one per graph, as classes in sorted order of their values.
    let values = column(&need("graph_labels")?, "graphs", Some(g_count))?;
    let mut class_values = values.clone();
    class_values.sort_unstable();
    class_values.dedup();
    let labels = values.iter().map(|v| class_values.binary_search(v).unwrap_or(0)).collect();
    // Optional per-node and per-edge files.
    if let Some(p) = files.part(&ds, "node_labels")? {
        let v = column(&p, "nodes in the graph indicator", Some(n))?;
        for (g, graph) in graphs.iter_mut().enumerate() {
            graph.node_labels = Some(v[first[g]..first[g + 1]].to_vec());
        }
    }
    if let Some(p) = files.part(&ds, "edge_labels")? {
        let v = column(&p, "edges in DS_A", Some(edge_graph.len()))?;
        let mut per: Vec<Vec<i64>> = vec![Vec::new(); g_count];
        for (e, &g) in edge_graph.iter().enumerate() {
            per[g].push(v[e]);
        }
        for (graph, l) in graphs.iter_mut().zip(per) {
            graph.edge_labels = Some(l);
        }
    }
    let mut attribute_dim = 0;
    if let Some(p) = files.part(&ds, "node_attributes")? {
        let all;
        (all, attribute_dim) = node_attributes(&p, n)?;
        for (g, graph) in graphs.iter_mut().enumerate() {
            graph.node_attributes = Some(all[first[g] * attribute_dim..first[g + 1] * attribute_dim].to_vec());
        }
    }
    Ok(GraphSet { name: ds, graphs, labels, class_values, attribute_dim })
}

/// The graph indicator: the graph of every node (ids 1..=G, nodes grouped by graph), and the first
/// node (0-based) of each graph with the node count at the end.
fn graph_indicator(part: &Part<'_>) -> Result<(Vec<i64>, Vec<usize>)> {
    let (ind_file, ind_lines) = part_lines(part)?;
    let mut graph_of = Vec::with_capacity(ind_lines.len());
    for (i, l) in &ind_lines {
        let g = integer(&ind_file, *i, l)?;
        let prev = graph_of.last().copied().unwrap_or(0);
        if g < 1 || (g != prev && g != prev + 1) {
            return Err(at(
                &ind_file,
                *i,
                format!("graph id {g} after {prev}: ids must start at 1 and go up by one, nodes grouped by graph"),
            ));
        }
        graph_of.push(g);
    }
    let n = graph_of.len();
    let g_count = graph_of.last().copied().unwrap_or(0) as usize;
    if g_count == 0 {
        return Err(format_err(&ind_file, "no nodes"));
    }
    let mut first = vec![0usize; g_count + 1];
    for (node, &g) in graph_of.iter().enumerate().rev() {
        first[g as usize - 1] = node;
    }
    first[g_count] = n;
    Ok((graph_of, first))
}

/// DS_A's edges into their graphs (1-based node ids in 1..=n, both ends in one graph); returns
/// the graph of each edge, in file order.
fn edges(part: &Part<'_>, graph_of: &[i64], first: &[usize], graphs: &mut [Graph]) -> Result<Vec<usize>> {
    let n = graph_of.len();
    let (a_file, a_lines) = part_lines(part)?;
    let mut edge_graph = Vec::with_capacity(a_lines.len());
    for (i, l) in &a_lines {
        let f: Vec<&str> = l.split(',').collect();
        if f.len() != 2 {
            return Err(at(&a_file, *i, format!("'{l}': expected two node ids 'i, j'")));
        }
        let (u, v) = (integer(&a_file, *i, f[0])?, integer(&a_file, *i, f[1])?);
        for id in [u, v] {
            if id < 1 || id as usize > n {
                return Err(at(
                    &a_file,
                    *i,
                    format!("node {id}: node ids are 1-based, from 1 to the {n} nodes of the graph indicator"),
                ));
            }
        }
        let (gu, gv) = (graph_of[u as usize - 1], graph_of[v as usize - 1]);
        if gu != gv {
            return Err(at(&a_file, *i, format!("an edge between node {u} (graph {gu}) and node {v} (graph {gv})")));
        }
        let g = gu as usize - 1;
        graphs[g].edges.push(((u as usize - 1 - first[g]) as u32, (v as usize - 1 - first[g]) as u32));
        edge_graph.push(g);
    }
    Ok(edge_graph)
}

/// The node attributes, one row of equal length per node of the `n`: all rows, and their length.
fn node_attributes(part: &Part<'_>, n: usize) -> Result<(Vec<f32>, usize)> {
    let (file, rows) = part_lines(part)?;
    if rows.len() != n {
        return Err(format_err(&file, format!("{} lines, but there are {n} nodes in the graph indicator", rows.len())));
    }
    number_rows(&file, &rows)
}

/// The test part of each fold of a k-fold cross-validation: graph indices (0-based); a graph's
/// training part is every graph not in its test part.
#[derive(Debug, Clone, PartialEq)]
pub struct Folds {
    /// `test[k]` = the graphs of fold k's test part.
    pub test: Vec<Vec<usize>>,
}

impl Folds {
    /// The training part of fold `k`: every graph of `graphs` not in its test part, in order.
    pub fn train(&self, k: usize, graphs: usize) -> Vec<usize> {
        let mut is_test = vec![false; graphs];
        self.test[k].iter().for_each(|&i| is_test[i] = true);
        (0..graphs).filter(|&i| !is_test[i]).collect()
    }
}

/// Reads a fold file (line k = the space-separated 0-based test indices of fold k) for a set of
/// `graphs` graphs.
///
/// # Errors
/// An index out of range, a graph twice in one fold or in two folds, naming the line.
pub fn read_folds(path: &Path, graphs: usize) -> Result<Folds> {
    let (file, rows) = lines(path)?;
    let mut seen = vec![None; graphs];
    let mut test = Vec::new();
    for (k, (i, l)) in rows.iter().enumerate() {
        let mut fold = Vec::new();
        for f in l.split_whitespace() {
            let g = integer(&file, *i, f)?;
            if g < 0 || g as usize >= graphs {
                return Err(at(&file, *i, format!("graph {g}: indices are 0-based, below the {graphs} graphs")));
            }
            if let Some(other) = seen[g as usize] {
                return Err(at(&file, *i, format!("graph {g} is already in the test part of fold {}", other + 1)));
            }
            seen[g as usize] = Some(k);
            fold.push(g as usize);
        }
        if fold.is_empty() {
            return Err(at(&file, *i, format!("fold {} has no test graphs", k + 1)));
        }
        // A fold's training part must leave graphs to train on and to choose the epoch with.
        if graphs - fold.len() < 2 {
            return Err(at(
                &file,
                *i,
                format!(
                    "fold {} tests {} of the {graphs} graphs, leaving {} to train on and validate with (at least 2)",
                    k + 1,
                    fold.len(),
                    graphs - fold.len()
                ),
            ));
        }
        test.push(fold);
    }
    if test.is_empty() {
        return Err(format_err(&file, "no folds"));
    }
    Ok(Folds { test })
}

/// `k` stratified folds from a seed: each class's graphs are shuffled and dealt round-robin to
/// the folds, so every fold gets each class in proportion (±1) and every graph is in exactly one
/// test part.
pub fn stratified_folds(labels: &[usize], k: usize, seed: u64) -> Folds {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let classes = labels.iter().copied().max().map_or(0, |m| m + 1);
    let k = k.max(1);
    let mut test = vec![Vec::new(); k];
    let mut next = 0;
    for c in 0..classes {
        let mut of: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == c).collect();
        of.shuffle(&mut rng);
        for g in of {
            test[next % k].push(g);
            next += 1;
        }
    }
    test.iter_mut().for_each(|f| f.sort_unstable());
    Folds { test }
}

/// Writes folds in the format [`read_folds`] reads, so a run can be repeated.
pub fn write_folds(path: &Path, folds: &Folds) -> Result<()> {
    let text: String =
        folds.test.iter().map(|f| f.iter().map(|g| g.to_string()).collect::<Vec<_>>().join(" ") + "\n").collect();
    crate::outputs::claim(path)?;
    std::fs::write(path, text).map_err(|e| crate::error::io_err(path, e))
}

/// The node-feature recipe of a [`NodeFeatures`] on one set: the distinct node labels (one-hot),
/// which parts are used, the degree cap, and the features per node.
struct FeatureLayout {
    values: Vec<i64>,
    use_labels: bool,
    use_attrs: bool,
    degree: Option<usize>,
    width: usize,
}

/// How a node's feature vector is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeFeatures {
    /// One-hot node labels (one column per distinct label value of the set).
    Labels,
    /// The node attributes as given.
    Attributes,
    /// The node labels one-hot, then the attributes.
    LabelsAndAttributes,
    /// One-hot degree, capped at `max` (the last column is "max or more"): for sets with neither
    /// labels nor attributes (IMDB).
    Degree {
        /// The largest degree with its own column.
        max: usize,
    },
}

impl GraphSet {
    /// The features a set carries: labels and attributes when it has both, else whichever it has,
    /// else degrees capped at 32.
    pub fn default_features(&self) -> NodeFeatures {
        let labels = self.graphs.first().is_some_and(|g| g.node_labels.is_some());
        match (labels, self.attribute_dim > 0) {
            (true, true) => NodeFeatures::LabelsAndAttributes,
            (true, false) => NodeFeatures::Labels,
            (false, true) => NodeFeatures::Attributes,
            (false, false) => NodeFeatures::Degree { max: 32 },
        }
    }

    /// Features per node for `kind`, without building them.
    ///
    /// # Errors
    /// Features the set lacks; a degree cap of 0.
    pub fn feature_width(&self, kind: NodeFeatures) -> Result<usize> {
        Ok(self.feature_layout(kind)?.width)
    }

    /// What `kind` reads of the set (checked against what it has) and the width it gives.
    fn feature_layout(&self, kind: NodeFeatures) -> Result<FeatureLayout> {
        let has_labels = self.graphs.iter().all(|g| g.node_labels.is_some());
        let missing =
            |what: &str| DataError::Invalid { what: "node features", problem: format!("{} has no {what}", self.name) };
        let mut values: Vec<i64> = self.graphs.iter().flat_map(|g| g.node_labels.clone().unwrap_or_default()).collect();
        values.sort_unstable();
        values.dedup();
        let (use_labels, use_attrs, degree) = match kind {
            NodeFeatures::Labels => (true, false, None),
            NodeFeatures::Attributes => (false, true, None),
            NodeFeatures::LabelsAndAttributes => (true, true, None),
            NodeFeatures::Degree { max: 0 } => {
                return Err(DataError::Invalid { what: "degree cap", problem: "0: at least 1".into() })
            }
            NodeFeatures::Degree { max } => (false, false, Some(max)),
        };
        if use_labels && !has_labels {
            return Err(missing("node labels"));
        }
        if use_attrs && self.attribute_dim == 0 {
            return Err(missing("node attributes"));
        }
        let width = [
            if use_labels { values.len() } else { 0 },
            if use_attrs { self.attribute_dim } else { 0 },
            degree.map_or(0, |m| m.saturating_add(1)),
        ]
        .into_iter()
        .fold(0usize, usize::saturating_add);
        // The features are held three times over by a run (as read, standardised, in batches).
        let nodes = self.node_count();
        let bytes = crate::budget::product(&[nodes as u128, width as u128, 4, 3]);
        crate::budget::fits(bytes).map_err(|e| DataError::Invalid {
            what: "node features",
            problem: format!("{kind:?} gives {width} features a node; {nodes} nodes of {} × {width} {e}", self.name),
        })?;
        Ok(FeatureLayout { values, use_labels, use_attrs, degree, width })
    }

    /// The feature vectors of every graph's nodes (row-major [nodes, width]) and their width.
    ///
    /// # Errors
    /// Features the set does not have (labels or attributes), or a degree cap of 0.
    pub fn node_features(&self, kind: NodeFeatures) -> Result<(Vec<Vec<f32>>, usize)> {
        let FeatureLayout { values, use_labels, use_attrs, degree, width } = self.feature_layout(kind)?;
        let per_graph = self
            .graphs
            .iter()
            .map(|g| {
                let mut deg = vec![0usize; g.nodes];
                g.edges.iter().for_each(|&(u, _)| deg[u as usize] += 1);
                let mut x = Vec::with_capacity(g.nodes * width);
                for i in 0..g.nodes {
                    if use_labels {
                        let l = g.node_labels.as_ref().map_or(0, |l| l[i]);
                        let c = values.binary_search(&l).unwrap_or(0);
                        x.extend((0..values.len()).map(|j| if j == c { 1.0 } else { 0.0 }));
                    }
                    if use_attrs {
                        let a = g.node_attributes.as_ref().map_or(&[][..], |a| a.as_slice());
                        x.extend_from_slice(&a[i * self.attribute_dim..(i + 1) * self.attribute_dim]);
                    }
                    if let Some(m) = degree {
                        let d = deg[i].min(m);
                        x.extend((0..=m).map(|j| if j == d { 1.0 } else { 0.0 }));
                    }
                }
                x
            })
            .collect();
        Ok((per_graph, width))
    }
}
