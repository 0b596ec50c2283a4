//! Supervised node anomaly detection on one attributed graph, over several seeds: per seed a
//! stratified train/validation/test split of the nodes, each model trained with a class-weighted
//! loss on ego-graphs, its epoch and decision threshold chosen on validation, the test nodes scored
//! once; ROC-AUC, AUPRC and macro-F1 as mean ± std over the seeds, ET beside the MLP.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use hopfield_data::graph::anomaly::{self, AnomalyGraph};

use super::resume::{Checkpointing, Fingerprint, ProtocolCheckpoint};
use super::{by_model, history_csv, named_dir, relay, write_file, Observer, Progress, RunId};
use crate::error::{invalid, Result};
use crate::metrics::mean_std;
use crate::pictures::graph::{write_anomaly_scores, SeedModel};
use crate::tasks::graph::anomaly::{
    run_anomaly_in, split_nodes, AnomalyData, AnomalyEpoch, AnomalyOutcome, AnomalyRun, EgoSettings,
};
use crate::tasks::graph::{GraphModel, GraphSettings, ModelKind};
use crate::trainer::Trainer;

/// What this protocol reports while it runs (write a closure's argument as `|e: Event<'_>|`).
pub type Event<'a> = Progress<'a, AnomalyEpoch, SeedResult>;

/// The settings of a node anomaly detection run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct NodeAnomalyConfig {
    /// The models, trained in this order for every seed.
    pub models: Vec<ModelKind>,
    /// Share of each class's nodes to train on (0.4; 0.01 for the low-label setting); the rest is
    /// split 1:2 into validation and test.
    pub train_fraction: f64,
    /// Seeds 0, 1, … (splits and weights).
    pub seeds: u64,
    /// Hops and node budget of each ego-graph.
    pub ego: EgoSettings,
    /// Both models' sizes and training (its seed is replaced by each run's).
    pub settings: GraphSettings,
}

impl Default for NodeAnomalyConfig {
    fn default() -> Self {
        NodeAnomalyConfig {
            models: vec![ModelKind::Et, ModelKind::Mlp],
            train_fraction: 0.4,
            seeds: 5,
            ego: EgoSettings { hops: 2, budget: 32 },
            settings: GraphSettings { epochs: 20, ..GraphSettings::default() },
        }
    }
}

impl NodeAnomalyConfig {
    /// Checks every setting; an error names the setting and the value.
    pub fn validate(&self) -> Result<()> {
        if self.models.is_empty() {
            return Err(invalid("models", "none", "at least one model"));
        }
        if !(self.train_fraction > 0.0 && self.train_fraction < 1.0) {
            return Err(invalid("training fraction", self.train_fraction, "between 0 and 1"));
        }
        if self.seeds == 0 {
            return Err(invalid("seeds", 0, "at least one seed"));
        }
        if self.ego.budget == 0 {
            return Err(invalid("budget", 0, "an ego-graph holds at least its centre"));
        }
        self.settings.check_node_task()?;
        self.settings.validate()
    }
}

/// The anomaly graph `name` names: a folder (edges.txt, labels.txt, features.csv or
/// features_coo.txt), else `<data_dir>/graph-anomaly/<name>`.
///
/// # Errors
/// A graph that is not found or does not read.
pub fn load_named(name: &str, data_dir: &Path) -> Result<AnomalyGraph> {
    find_and_read(
        name,
        data_dir,
        anomaly::load,
        "give the folder holding edges.txt, labels.txt and features.csv or features_coo.txt",
    )
}

/// The folder `name` names (itself, else under `<data_dir>/graph-anomaly/`) read by `read`; `hint`
/// says what the folder holds when none is found.
pub(crate) fn find_and_read(
    name: &str,
    data_dir: &Path,
    read: fn(&Path) -> hopfield_data::Result<AnomalyGraph>,
    hint: &'static str,
) -> Result<AnomalyGraph> {
    match named_dir(name, data_dir, "graph-anomaly") {
        Ok(dir) => Ok(read(&dir)?),
        Err(looked) => Err(crate::TrainError::NotFound { what: "anomaly graph", name: name.to_string(), looked, hint }),
    }
}

/// One line: the graph's size and anomalies, and how `config` splits and samples it.
pub fn describe(graph: &AnomalyGraph, config: &NodeAnomalyConfig) -> String {
    format!(
        "{}: {} nodes, {} edge lines, {} features, {} anomalies ({:.2}%); train {:.0}% of each class, the rest 1:2 \
         validation:test; ego-graphs of {} hops, at most {} nodes",
        graph.name,
        graph.nodes,
        graph.edges.len(),
        graph.dim,
        graph.anomalies(),
        100.0 * graph.anomalies() as f64 / graph.nodes.max(1) as f64,
        100.0 * config.train_fraction,
        config.ego.hops,
        config.ego.budget
    )
}

/// One model on one seed.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SeedResult {
    /// The seed of the split and the weights.
    pub seed: u64,
    /// The model.
    pub model: ModelKind,
    /// Training nodes.
    pub train_nodes: usize,
    /// Validation nodes.
    pub val_nodes: usize,
    /// Test nodes.
    pub test_nodes: usize,
    /// The epoch validation chose (AUPRC).
    pub best_epoch: usize,
    /// The threshold chosen on validation (macro-F1).
    pub threshold: f64,
    /// Test ROC-AUC.
    pub test_auc: f64,
    /// Test average precision.
    pub test_auprc: f64,
    /// Test macro-F1 at the threshold.
    pub test_macro_f1: f64,
    /// Seconds of training and evaluation.
    pub seconds: f64,
    /// Every epoch's figures.
    pub history: Vec<AnomalyEpoch>,
}

impl SeedResult {
    /// One line for a log.
    pub fn line(&self) -> String {
        format!(
            "seed {} {:<3}: epoch {:>3} chosen on validation; test ROC-AUC {:.4}, AUPRC {:.4}, macro-F1 {:.4} \
             (threshold {:.3}); {:.1} s",
            self.seed,
            self.model,
            self.best_epoch,
            self.test_auc,
            self.test_auprc,
            self.test_macro_f1,
            self.threshold,
            self.seconds
        )
    }
}

/// A model's figures over the seeds: (mean, std) of ROC-AUC, AUPRC and macro-F1.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct AnomalySummary {
    /// The model.
    pub model: ModelKind,
    /// Test ROC-AUC, mean and std.
    pub auc: (f64, f64),
    /// Test AUPRC, mean and std.
    pub auprc: (f64, f64),
    /// Test macro-F1, mean and std.
    pub macro_f1: (f64, f64),
    /// Seconds in all.
    pub seconds: f64,
}

/// What a node anomaly detection run gives.
pub struct NodeAnomalyReport {
    /// The graph's name.
    pub graph: String,
    /// The share of each class trained on.
    pub train_fraction: f64,
    /// Seeds run.
    pub seeds: u64,
    /// Every model on every seed, seed by seed.
    pub runs: Vec<SeedResult>,
    ego: EgoSettings,
    settings: GraphSettings,
    picture: Option<SeedModel>,
}

/// Runs `config` on `graph` on `device`, telling `observer` as it goes.
///
/// # Errors
/// Invalid settings; too few nodes of a class to split; sizes that cannot fit; a loss that
/// becomes NaN/∞; the observer's cancel flag ([`crate::TrainError::Cancelled`]).
pub fn run(
    config: &NodeAnomalyConfig,
    graph: &AnomalyGraph,
    device: &Device,
    observer: impl Observer<AnomalyEpoch, SeedResult>,
) -> Result<NodeAnomalyReport> {
    run_resumable(config, graph, device, observer, None)
}

/// The graph's fingerprint in a checkpoint: its name and a hash of its edges, features and labels.
fn fingerprint(graph: &AnomalyGraph) -> String {
    let mut f = Fingerprint::default();
    f.add([graph.nodes as u64, graph.dim as u64]);
    f.add(graph.edges.iter().map(|&(a, b)| (a as u64) << 32 | b as u64));
    f.add(graph.features.iter().map(|v| v.to_bits() as u64));
    f.add(graph.raw_labels.iter().map(|&l| l as u64));
    format!("{}, {} nodes, {} edge lines, hash {}", graph.name, graph.nodes, graph.edges.len(), f.hex())
}

/// [`run`], keeping a checkpoint after every epoch of every seed and model in
/// `checkpointing.dir`, or continuing the one there (same settings and graph; more seeds may be
/// asked for) with `checkpointing.resume`.
///
/// # Errors
/// As [`run`]; a checkpoint folder that is not ours or is locked; a checkpoint to resume of other
/// settings or data, naming the difference.
pub fn run_resumable(
    config: &NodeAnomalyConfig,
    graph: &AnomalyGraph,
    device: &Device,
    mut observer: impl Observer<AnomalyEpoch, SeedResult>,
    checkpointing: Option<&Checkpointing>,
) -> Result<NodeAnomalyReport> {
    config.validate()?;
    let trainer = Trainer { cancel: observer.cancel(), ..Trainer::default() };
    let (checkpoint, finished): (_, Vec<SeedResult>) =
        ProtocolCheckpoint::open_optional(checkpointing, "graph-anomaly", (config, &["seeds"]), || fingerprint(graph))?;
    let (mut runs, mut picture) = (Vec::new(), None);
    for seed in 0..config.seeds {
        let split = split_nodes(&graph.anomalous(), config.train_fraction, seed)?;
        let settings = GraphSettings { seed, ..config.settings.clone() };
        for &model in &config.models {
            let id = RunId {
                unit: "seed",
                index: seed as usize + 1,
                of: config.seeds as usize,
                model: model.to_string(),
                examples: split.train.len(),
                epochs: settings.epochs,
                example_unit: "nodes",
            };
            observer.on(Progress::Started(&id));
            let index = runs.len();
            let drawn = seed == 0 && model == ModelKind::Et;
            if let Some(done) = finished.get(index) {
                // Finished before the checkpoint was written: its result, and the picture's model.
                observer.on(Progress::Finished(&id, done));
                runs.push(done.clone());
                if drawn {
                    let fresh = GraphModel::new(model, &settings, graph.dim, 2, 1, device)?;
                    if let Some((m, scores)) = checkpoint.as_ref().map(|c| c.picture(fresh)).transpose()?.flatten() {
                        let test_scores = serde_json::from_value(scores).map_err(|e| {
                            let dir = checkpointing.map(|c| c.dir.clone()).unwrap_or_default();
                            crate::checkpoint::checkpoint_error(
                                &dir.join("config.json"),
                                format!("the picture's test scores do not read: {e}"),
                                None,
                            )
                        })?;
                        picture = Some(SeedModel {
                            outcome: AnomalyOutcome {
                                best_epoch: done.best_epoch,
                                threshold: done.threshold,
                                test_auc: done.test_auc,
                                test_auprc: done.test_auprc,
                                test_macro_f1: done.test_macro_f1,
                                test_scores,
                                history: Vec::new(),
                                model: m,
                                seconds: done.seconds,
                            },
                            data: AnomalyData::new(graph, &split.train)?,
                            split: split.clone(),
                        });
                    }
                }
                continue;
            }
            let (mut o, data) = run_anomaly_in(
                &AnomalyRun { graph, split: &split, ego: config.ego },
                model,
                (&settings, device),
                &trainer,
                checkpoint.as_ref().map(|c| (c, index)),
                relay(&id, &mut observer),
            )?;
            let result = SeedResult {
                seed,
                model,
                train_nodes: split.train.len(),
                val_nodes: split.val.len(),
                test_nodes: split.test.len(),
                best_epoch: o.best_epoch,
                threshold: o.threshold,
                test_auc: o.test_auc,
                test_auprc: o.test_auprc,
                test_macro_f1: o.test_macro_f1,
                seconds: o.seconds,
                // The picture needs the model and the test scores only.
                history: std::mem::take(&mut o.history),
            };
            if let Some(c) = &checkpoint {
                let scores = serde_json::to_value(&o.test_scores).unwrap_or_default();
                c.finish_run(index, &result, drawn.then_some((&o.model, scores)))?;
            }
            observer.on(Progress::Finished(&id, &result));
            runs.push(result);
            if drawn {
                picture = Some(SeedModel { outcome: o, data, split: split.clone() });
            }
        }
    }
    Ok(NodeAnomalyReport {
        graph: graph.name.clone(),
        train_fraction: config.train_fraction,
        seeds: config.seeds,
        runs,
        ego: config.ego,
        settings: GraphSettings { seed: 0, ..config.settings.clone() },
        picture,
    })
}

impl NodeAnomalyReport {
    /// The files a run writes into its output folder.
    pub const OUTPUTS: &'static [&'static str] = &["runs.csv", "metrics.csv", "scores.png"];

    /// Each model's mean ± std over the seeds, in the order the models ran.
    pub fn summary(&self) -> Vec<AnomalySummary> {
        by_model(&self.runs, |r| r.model)
            .into_iter()
            .map(|(model, of)| {
                let col = |f: fn(&SeedResult) -> f64| mean_std(&of.iter().map(|r| f(r)).collect::<Vec<_>>());
                AnomalySummary {
                    model,
                    auc: col(|r| r.test_auc),
                    auprc: col(|r| r.test_auprc),
                    macro_f1: col(|r| r.test_macro_f1),
                    seconds: of.iter().map(|r| r.seconds).sum(),
                }
            })
            .collect()
    }

    /// The table of test figures per model.
    pub fn table(&self) -> String {
        let mut t = format!(
            "{} node anomaly detection, {:.0}% of each class for training, test figures over {} seeds (mean ± std):\n",
            self.graph,
            100.0 * self.train_fraction,
            self.seeds
        );
        t += "  model   ROC-AUC           AUPRC             macro-F1          seconds\n";
        for s in self.summary() {
            let ((a1, s1), (a2, s2), (a3, s3)) = (s.auc, s.auprc, s.macro_f1);
            t += &format!(
                "  {:<5}  {a1:.4} ± {s1:.4}   {a2:.4} ± {s2:.4}   {a3:.4} ± {s3:.4}   {:>7.1}\n",
                s.model, s.seconds
            );
        }
        t
    }

    /// `runs.csv`: a line per seed and model.
    pub fn runs_csv(&self) -> String {
        let mut csv = String::from(
            "seed,model,train_nodes,val_nodes,test_nodes,best_epoch,threshold,test_auc,test_auprc,test_macro_f1,seconds\n",
        );
        for r in &self.runs {
            csv += &format!(
                "{},{},{},{},{},{},{:.6},{:.6},{:.6},{:.6},{:.2}\n",
                r.seed,
                r.model,
                r.train_nodes,
                r.val_nodes,
                r.test_nodes,
                r.best_epoch,
                r.threshold,
                r.test_auc,
                r.test_auprc,
                r.test_macro_f1,
                r.seconds
            );
        }
        csv
    }

    /// `metrics.csv`: every epoch of every run.
    pub fn metrics_csv(&self) -> String {
        history_csv("model,seed", self.runs.iter().map(|r| (format!("{},{}", r.model, r.seed), &r.history[..])))
    }

    /// Writes `runs.csv`, `metrics.csv` and (when the ET ran) `scores.png` into `dir` (created if
    /// missing); returns the files written.
    ///
    /// # Errors
    /// A file that cannot be written; the picture's model failing on its ego-graphs.
    pub fn write(&self, dir: &Path, device: &Device) -> Result<Vec<PathBuf>> {
        let mut written = vec![write_file(dir, "runs.csv", &self.runs_csv())?];
        written.push(write_file(dir, "metrics.csv", &self.metrics_csv())?);
        if let Some(p) = &self.picture {
            let png = dir.join("scores.png");
            let title =
                format!("{}: ET anomaly scores of the test nodes (seed 0, AUC {:.3})", self.graph, p.outcome.test_auc);
            write_anomaly_scores(p, self.ego, &self.settings, &title, &png, device)?;
            written.push(png);
        }
        Ok(written)
    }
}
