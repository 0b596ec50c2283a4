//! Graph classification by k-fold cross-validation: on each fold, every model is trained on the
//! training part less a stratified validation part, its epoch chosen on the validation part, and
//! the chosen model measured once on the test part; mean ± std of the test accuracy over the folds.
//! The ET and the structure-blind MLP see the same folds and validation parts.
//!
//! `crates/hopfield-train/examples/graph_cv.rs` runs one on MUTAG and reads its report (the test
//! suite runs it).

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use hopfield_data::graph::tu::{self, read_folds, stratified_folds, write_folds, Folds, GraphSet, NodeFeatures};

mod report;

use super::graph_select::{same_fixed, select_fold, CandidateResult, PreparedSets, SelectionGrid};
use super::resume::{Checkpointing, Fingerprint, ProtocolCheckpoint};
use super::{named_dir, relay, Observer, Progress, RunId};
use crate::error::{invalid, Result};
use crate::pictures::graph::FoldModel;
use crate::tasks::graph::classify::{run_fold_in, validation_split, ClassifyEpoch, FoldParts, GraphData};
use crate::tasks::graph::{GraphModel, GraphSettings, ModelKind};
use crate::trainer::Trainer;

/// What this protocol reports while it runs (write a closure's argument as `|e: Event<'_>|`).
pub type Event<'a> = Progress<'a, ClassifyEpoch, FoldResult>;

/// Which node features a model reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureChoice {
    /// Labels and attributes when the set has both, else whichever it has, else degrees.
    Auto,
    /// One-hot node labels.
    Labels,
    /// Node attributes.
    Attributes,
    /// Labels one-hot, then attributes.
    Both,
    /// One-hot degree capped at the config's `degree_cap`.
    Degree,
}

/// The settings of a cross-validation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct GraphCvConfig {
    /// The models, trained in this order on every fold.
    pub models: Vec<ModelKind>,
    /// Node features.
    pub features: FeatureChoice,
    /// The largest degree with its own column for [`FeatureChoice::Degree`].
    pub degree_cap: usize,
    /// Share of each training part held out (stratified) to choose the epoch, in (0, 0.5].
    pub validation: f64,
    /// Run only the first folds (None: all).
    pub max_folds: Option<usize>,
    /// Both models' sizes and training; its seed also draws the validation parts (and the folds
    /// when the data has none).
    pub settings: GraphSettings,
    /// Settings to select among on each fold's validation part ([`SelectionGrid`]; `None`: the
    /// settings above alone). Selection keeps no checkpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select: Option<SelectionGrid>,
}

impl Default for GraphCvConfig {
    fn default() -> Self {
        GraphCvConfig {
            models: vec![ModelKind::Et, ModelKind::Mlp],
            features: FeatureChoice::Auto,
            degree_cap: 32,
            validation: 0.1,
            max_folds: None,
            settings: GraphSettings::default(),
            select: None,
        }
    }
}

impl GraphCvConfig {
    /// Checks every setting; an error names the setting and the value.
    pub fn validate(&self) -> Result<()> {
        if self.models.is_empty() {
            return Err(invalid("models", "none", "at least one model"));
        }
        if !(self.validation > 0.0 && self.validation <= 0.5) {
            return Err(invalid("validation", self.validation, "a share of the training part in (0, 0.5]"));
        }
        if self.max_folds == Some(0) {
            return Err(invalid("max_folds", 0, "at least one fold"));
        }
        if self.degree_cap == 0 {
            return Err(invalid("degree_cap", 0, "the largest degree with its own column is at least 1"));
        }
        if let Some(grid) = &self.select {
            if grid.candidates.is_empty() {
                return Err(invalid("select", "an empty grid", "at least one setting"));
            }
            for c in &grid.candidates {
                if !same_fixed(&c.settings, &self.settings) {
                    return Err(invalid(
                        "select",
                        &c.label,
                        "the run's encodings, edge weights and seed: the data are prepared once per run",
                    ));
                }
                c.settings.validate()?;
            }
        }
        self.settings.validate()
    }

    /// The random-walk steps the models may read, each once, in order: the grid's settings', else
    /// the run's.
    pub fn random_walks(&self) -> Vec<usize> {
        let mut walks: Vec<usize> = match &self.select {
            Some(g) => g.candidates.iter().map(|c| c.settings.random_walk).collect(),
            None => vec![self.settings.random_walk],
        };
        walks.sort_unstable();
        walks.dedup();
        walks
    }

    /// The folds a run covers of the `total` the data has: all, or the first `max_folds`.
    pub fn folds_to_run(&self, total: usize) -> usize {
        self.max_folds.map_or(total, |m| m.clamp(1, total))
    }

    fn node_features(&self, set: &GraphSet) -> NodeFeatures {
        match self.features {
            FeatureChoice::Auto => set.default_features(),
            FeatureChoice::Labels => NodeFeatures::Labels,
            FeatureChoice::Attributes => NodeFeatures::Attributes,
            FeatureChoice::Both => NodeFeatures::LabelsAndAttributes,
            FeatureChoice::Degree => NodeFeatures::Degree { max: self.degree_cap },
        }
    }
}

/// Where the folds came from.
#[derive(Debug, Clone, PartialEq)]
pub enum FoldOrigin {
    /// Read from this file.
    File(PathBuf),
    /// Drawn: 10 stratified folds from this seed.
    Drawn(u64),
}

/// A graph set and its folds, ready for [`run`].
#[derive(Debug, Clone)]
pub struct GraphCvData {
    /// The graphs, with node features, edges and labels.
    pub set: GraphSet,
    /// The test part of each fold.
    pub folds: Folds,
    /// Where they came from.
    pub origin: FoldOrigin,
}

impl GraphCvData {
    /// `set` with the folds of `fold_file` when given, else 10 stratified folds drawn from `seed`.
    ///
    /// # Errors
    /// A fold file that cannot be read or does not fit the set.
    pub fn new(set: GraphSet, fold_file: Option<&Path>, seed: u64) -> Result<GraphCvData> {
        let (folds, origin) = match fold_file {
            Some(p) => (read_folds(p, set.graphs.len())?, FoldOrigin::File(p.to_path_buf())),
            None => (stratified_folds(&set.labels, 10, seed), FoldOrigin::Drawn(seed)),
        };
        Ok(GraphCvData { set, folds, origin })
    }

    /// The set `name` names: a folder of TU files, else `<data_dir>/tu/<name>`, else the bundled
    /// MUTAG for "MUTAG"; folds from `fold_file`, else the set's own `DS_10fold_test_idx.txt`,
    /// else drawn from `seed`.
    ///
    /// # Errors
    /// A set that is not found or does not read; folds that do not fit it.
    pub fn named(name: &str, data_dir: &Path, fold_file: Option<&Path>, seed: u64) -> Result<GraphCvData> {
        let dir = named_dir(name, data_dir, "tu");
        let set =
            match &dir {
                Ok(d) => tu::load(d, None)?,
                Err(_) if name.eq_ignore_ascii_case("MUTAG") => tu::bundled_mutag()?,
                Err(looked) => return Err(crate::TrainError::NotFound {
                    what: "graph set",
                    name: name.to_string(),
                    looked: looked.clone(),
                    hint:
                        "give the folder of its TU files (DS_A.txt, DS_graph_indicator.txt, DS_graph_labels.txt, …), \
                           or MUTAG for the bundled set",
                }),
            };
        if set.class_values.len() < 2 {
            let file = match &dir {
                Ok(d) => hopfield_data::bytes::plain_or_gz(d, &format!("{}_graph_labels.txt", set.name))?
                    .unwrap_or_else(|| d.join(format!("{}_graph_labels.txt", set.name)))
                    .display()
                    .to_string(),
                Err(_) => "the bundled MUTAG_graph_labels.txt".into(),
            };
            return Err(hopfield_data::DataError::Format {
                file,
                problem: format!(
                    "all {} graphs have the label {:?}: classification needs at least two classes",
                    set.graphs.len(),
                    set.class_values
                ),
            }
            .into());
        }
        let standard = dir.ok().map(|d| d.join(format!("{}_10fold_test_idx.txt", set.name))).filter(|p| p.is_file());
        GraphCvData::new(set, fold_file.or(standard.as_deref()), seed)
    }

    /// Writes the folds to `dir/folds.txt` in the format fold files are read in (so that drawn
    /// folds can be given again); returns the file written.
    ///
    /// # Errors
    /// The folder or file cannot be written.
    pub fn write_folds(&self, dir: &Path) -> Result<PathBuf> {
        std::fs::create_dir_all(dir).map_err(|e| crate::TrainError::write(dir, e))?;
        let path = dir.join("folds.txt");
        write_folds(&path, &self.folds)?;
        Ok(path)
    }

    /// Graphs of the most common class, as a share of all.
    pub fn majority(&self) -> f64 {
        let counts = self.set.class_counts();
        *counts.iter().max().unwrap_or(&0) as f64 / self.set.graphs.len().max(1) as f64
    }

    /// One line: the set's size, classes and the majority share.
    pub fn describe(&self) -> String {
        let set = &self.set;
        format!(
            "{}: {} graphs, {} nodes ({:.1} a graph, at most {}), classes {:?} ({:?} graphs; majority {:.1}%)",
            set.name,
            set.graphs.len(),
            set.node_count(),
            set.node_count() as f64 / set.graphs.len().max(1) as f64,
            set.graphs.iter().map(|g| g.nodes).max().unwrap_or(0),
            set.class_values,
            set.class_counts(),
            100.0 * self.majority()
        )
    }
}

/// "features Labels (7 per node), 8 Laplacian encodings": what the models of `config` read.
///
/// # Errors
/// Invalid settings; features the set lacks or that do not fit in memory; more encodings than the
/// largest graph has nodes — checked here, before a front end writes anything.
pub fn describe_features(config: &GraphCvConfig, data: &GraphCvData) -> Result<String> {
    config.validate()?;
    let kind = config.node_features(&data.set);
    let width = data.set.feature_width(kind)?;
    let s = &config.settings;
    crate::tasks::graph::classify::check_encodings(&data.set, s.encodings)?;
    let walks = config.random_walks();
    let walk = match walks[..] {
        [0] => String::new(),
        [r] => format!(" + {r} random-walk returns"),
        _ => format!(
            " + random-walk returns after 1..K steps, K chosen per fold among {}",
            walks.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", ")
        ),
    };
    Ok(format!("features {kind:?} ({width} per node{walk}), {} Laplacian encodings", s.encodings))
}

/// One model on one fold.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FoldResult {
    /// 1-based fold.
    pub fold: usize,
    /// The model.
    pub model: ModelKind,
    /// Graphs trained on, in the validation part, in the test part.
    pub train_graphs: usize,
    /// Graphs in the validation part.
    pub val_graphs: usize,
    /// Graphs in the test part.
    pub test_graphs: usize,
    /// The epoch validation chose.
    pub best_epoch: usize,
    /// Its validation accuracy.
    pub val_accuracy: f64,
    /// The chosen model's test accuracy, measured once.
    pub test_accuracy: f64,
    /// Seconds of training and evaluation (with selection: of every setting's training).
    pub seconds: f64,
    /// Every epoch's figures (with selection: the chosen setting's).
    pub history: Vec<ClassifyEpoch>,
    /// With selection: the label of the setting this fold's validation part chose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected: Option<String>,
}

/// A model's figures over the folds.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ModelSummary {
    /// The model.
    pub model: ModelKind,
    /// Mean test accuracy.
    pub mean: f64,
    /// Its sample standard deviation.
    pub std: f64,
    /// Folds run.
    pub folds: usize,
    /// Seconds in all.
    pub seconds: f64,
}

/// What a cross-validation gives.
pub struct GraphCvReport {
    /// The set's name.
    pub set: String,
    /// Its class values (for the picture's labels).
    pub class_values: Vec<i64>,
    /// Graphs of the most common class, as a share.
    pub majority: f64,
    /// Folds run, and folds the data has.
    pub folds_run: usize,
    /// Every model on every fold, fold by fold.
    pub runs: Vec<FoldResult>,
    /// Seconds in all.
    pub seconds: f64,
    /// With selection: every setting's validation figures on every fold, for every model.
    pub selection: Vec<CandidateResult>,
    /// The picture's model and its settings (with selection: those fold 1 chose).
    picture: Option<(FoldModel, GraphSettings)>,
}

/// Runs the cross-validation of `config` on `data` on `device`, telling `observer` as it goes.
///
/// # Errors
/// Invalid settings or features the set lacks; sizes that cannot fit; a loss that becomes NaN/∞;
/// the observer's cancel flag ([`crate::TrainError::Cancelled`]).
pub fn run(
    config: &GraphCvConfig,
    data: &GraphCvData,
    device: &Device,
    observer: impl Observer<ClassifyEpoch, FoldResult>,
) -> Result<GraphCvReport> {
    run_resumable(config, data, device, observer, None)
}

/// The data's fingerprint in a checkpoint: its name and a hash of its graphs, features, labels and
/// folds.
fn fingerprint(data: &GraphCvData, prepared: &GraphData) -> String {
    let mut f = Fingerprint::default();
    for g in &prepared.graphs {
        f.add([g.nodes as u64, g.edges.len() as u64]);
        f.add(g.edges.iter().map(|&(a, b)| (a as u64) << 32 | b as u64));
        f.add(g.features.iter().chain(&g.encodings).map(|v| v.to_bits() as u64));
        f.add(g.edge_labels.iter().map(|&l| l as u64));
    }
    f.add(prepared.labels.iter().map(|&l| l as u64));
    for t in &data.folds.test {
        f.add([u64::MAX]).add(t.iter().map(|&g| g as u64));
    }
    format!("{}, {} graphs, {} folds, hash {}", data.set.name, prepared.graphs.len(), data.folds.test.len(), f.hex())
}

/// [`run`], keeping a checkpoint after every epoch of every fold and model in
/// `checkpointing.dir`, or continuing the one there (same settings and data) with
/// `checkpointing.resume`: finished folds are read back, the fold in progress continues at its
/// next epoch, and the report is the uninterrupted run's (less the seconds).
///
/// # Errors
/// As [`run`]; a checkpoint folder that is not ours or is locked; a checkpoint to resume of other
/// settings or data, naming the difference.
pub fn run_resumable(
    config: &GraphCvConfig,
    data: &GraphCvData,
    device: &Device,
    mut observer: impl Observer<ClassifyEpoch, FoldResult>,
    checkpointing: Option<&Checkpointing>,
) -> Result<GraphCvReport> {
    config.validate()?;
    if config.select.is_some() && checkpointing.is_some() {
        return Err(invalid(
            "checkpoint",
            "asked for with a selection grid",
            "none: selection keeps no checkpoint (run without --select to resume)",
        ));
    }
    let started = std::time::Instant::now();
    let (set, folds, settings) = (&data.set, &data.folds, &config.settings);
    // The data for the run's random-walk steps, then once more for every other value its grid names.
    let prepare =
        |walk| GraphData::new(set, config.node_features(set), settings.encodings, walk, settings.edge_weights);
    let mut sets = vec![(settings.random_walk, prepare(settings.random_walk)?)];
    for walk in config.random_walks() {
        if walk != settings.random_walk {
            sets.push((walk, prepare(walk)?));
        }
    }
    let sets = PreparedSets(sets);
    let prepared = &sets.0[0].1;
    let n_folds = config.folds_to_run(folds.test.len());
    let trainer = Trainer { cancel: observer.cancel(), ..Trainer::default() };
    let (checkpoint, finished): (_, Vec<FoldResult>) =
        ProtocolCheckpoint::open_optional(checkpointing, "graph-classify", (config, &["max_folds"]), || {
            fingerprint(data, prepared)
        })?;
    let (mut runs, mut picture, mut selection) = (Vec::new(), None, Vec::new());
    for k in 0..n_folds {
        let train = folds.train(k, set.graphs.len());
        let (fit, val) = validation_split(&train, &set.labels, config.validation, settings.seed.wrapping_add(k as u64));
        let parts = FoldParts { fit: &fit, val: &val, test: &folds.test[k] };
        for &model in &config.models {
            let id = RunId {
                unit: "fold",
                index: k + 1,
                of: n_folds,
                model: model.to_string(),
                examples: fit.len(),
                epochs: settings.epochs,
                example_unit: "graphs",
            };
            observer.on(Progress::Started(&id));
            let index = runs.len();
            if let Some(grid) = &config.select {
                let candidates = grid.for_model(model);
                let mut chosen = select_fold(&sets, &parts, model, &candidates, &id, device, &trainer, &mut observer)?;
                if k == 0 && model == ModelKind::Et {
                    let fm = FoldModel { model: chosen.model, data: chosen.data, test: parts.test.to_vec() };
                    picture = Some((fm, chosen.settings));
                }
                selection.append(&mut chosen.candidates);
                runs.push(chosen.result);
                continue;
            }
            if let Some(done) = finished.get(index) {
                // Finished before the checkpoint was written: its result, and the picture's model.
                observer.on(Progress::Finished(&id, done));
                runs.push(done.clone());
                if k == 0 && model == ModelKind::Et {
                    let data = prepared.standardised(&fit)?;
                    let fresh = GraphModel::new(model, settings, data.width, data.classes, data.edge_labels, device)?;
                    if let Some((m, _)) = checkpoint.as_ref().map(|c| c.picture(fresh)).transpose()?.flatten() {
                        picture = Some((FoldModel { model: m, data, test: parts.test.to_vec() }, settings.clone()));
                    }
                }
                continue;
            }
            let outcome = run_fold_in(
                prepared,
                &parts,
                model,
                (settings, device),
                &trainer,
                checkpoint.as_ref().map(|c| (c, index)),
                relay(&id, &mut observer),
            )?;
            let result = FoldResult {
                fold: k + 1,
                model,
                train_graphs: fit.len(),
                val_graphs: val.len(),
                test_graphs: parts.test.len(),
                best_epoch: outcome.best_epoch,
                val_accuracy: outcome.val_accuracy,
                test_accuracy: outcome.test_accuracy,
                seconds: outcome.seconds,
                history: outcome.history,
                selected: None,
            };
            let drawn = k == 0 && model == ModelKind::Et;
            if let Some(c) = &checkpoint {
                c.finish_run(index, &result, drawn.then_some((&outcome.model, serde_json::Value::Null)))?;
            }
            observer.on(Progress::Finished(&id, &result));
            runs.push(result);
            if drawn {
                let fm = FoldModel { model: outcome.model, data: outcome.data, test: parts.test.to_vec() };
                picture = Some((fm, settings.clone()));
            }
        }
    }
    Ok(GraphCvReport {
        set: set.name.clone(),
        class_values: set.class_values.clone(),
        majority: data.majority(),
        folds_run: n_folds,
        runs,
        seconds: started.elapsed().as_secs_f64(),
        selection,
        picture,
    })
}
