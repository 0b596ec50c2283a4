//! Unsupervised node anomaly detection under the BOND protocol (Liu et al., NeurIPS 2022): every
//! detector is fitted on the whole graph — its structure and features — **without labels** and
//! scores every node; the labels are read only at the end, to compute ROC-AUC and average
//! precision (AUPRC) over all nodes, mean ± std over seeds. Detectors: the Energy Transformer
//! trained by masked reconstruction on ego-graphs ([`crate::tasks::graph::outlier`]; its score is
//! the node's reconstruction error, with the ego-graph's energy and the energy's drop beside it),
//! an MLP autoencoder and the local outlier factor on the features, and a DOMINANT-like graph
//! autoencoder on the same ego-graphs as the ET ([`crate::tasks::graph::baselines`]).

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use hopfield::et::GraphEnergyTransformer;
use hopfield_data::graph::anomaly::AnomalyGraph;

use super::{history_csv, relay, write_file, Observer, Progress, RunId};
use crate::error::{invalid, Result};
use crate::metrics::{auc, average_precision, mean_std};
use crate::pictures::graph::{write_outlier_scores, OutlierPicture};
use crate::tasks::graph::anomaly::EgoSettings;
use crate::tasks::graph::baselines::{
    graph_autoencoder_scores, local_outlier_factor, mlp_autoencoder_scores, AutoencoderSettings,
    GraphAutoencoderSettings,
};
use crate::tasks::graph::outlier::{
    et_scores, fit_reconstruction, OutlierEpoch, Reconstruction, Scale, UnlabelledGraph,
};
use crate::tasks::graph::GraphSettings;
use crate::trainer::Trainer;

/// The graph `name` names, as [`super::node_anomaly::load_named`] finds it, except that
/// `labels.txt` may be missing (every node then 0: scored, its figures undefined).
///
/// # Errors
/// A graph that is not found or does not read.
pub fn load_named(name: &str, data_dir: &Path) -> Result<AnomalyGraph> {
    super::node_anomaly::find_and_read(
        name,
        data_dir,
        hopfield_data::graph::anomaly::load_unlabelled,
        "give the folder holding edges.txt and features.csv or features_coo.txt (labels.txt optional)",
    )
}

/// What this protocol reports while it runs (write a closure's argument as `|e: Event<'_>|`).
pub type Event<'a> = Progress<'a, OutlierEpoch, DetectorResult>;

/// A label-free detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Detector {
    /// The graph Energy Transformer trained by masked reconstruction on ego-graphs.
    #[serde(rename = "ET", alias = "et")]
    Et,
    /// An MLP autoencoder on the node features (its reconstruction error).
    #[serde(rename = "MLPAE", alias = "mlpae")]
    MlpAe,
    /// The local outlier factor of the node features (deterministic: one fit serves every seed).
    #[serde(rename = "LOF", alias = "lof")]
    Lof,
    /// A graph autoencoder in the spirit of DOMINANT on the ET's ego-graphs (feature and
    /// structure errors).
    #[serde(rename = "GAE", alias = "gae")]
    Gae,
}

impl std::fmt::Display for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            Detector::Et => "ET",
            Detector::MlpAe => "MLPAE",
            Detector::Lof => "LOF",
            Detector::Gae => "GAE",
        })
    }
}

/// The settings of an unsupervised detection run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct NodeOutlierConfig {
    /// The detectors, run in this order for every seed.
    pub detectors: Vec<Detector>,
    /// Seeds 0, 1, … (weights, ego-graphs, masks, batch order).
    pub seeds: u64,
    /// The ET's ego-graphs and the share of their nodes masked in training.
    pub reconstruction: Reconstruction,
    /// Ego-graphs the ET trains on (its epochs: ⌈samples / nodes⌉) unless `epochs` is given.
    pub samples: usize,
    /// The ET's passes over the nodes; `None`: from `samples`. Replaces `settings.epochs`.
    pub epochs: Option<usize>,
    /// The ET's sizes and training (its seed is replaced by each run's).
    pub settings: GraphSettings,
    /// The MLP autoencoder's.
    pub autoencoder: AutoencoderSettings,
    /// The graph autoencoder's (its epochs are the ET's).
    pub graph_autoencoder: GraphAutoencoderSettings,
    /// k of the local outlier factor (scikit-learn's default: 20).
    pub lof_neighbours: usize,
    /// How the features are scaled for every detector.
    pub scale: Scale,
}

impl Default for NodeOutlierConfig {
    fn default() -> Self {
        NodeOutlierConfig {
            detectors: vec![Detector::Et, Detector::MlpAe, Detector::Lof, Detector::Gae],
            seeds: 5,
            reconstruction: Reconstruction { ego: EgoSettings { hops: 2, budget: 32 }, mask_fraction: 0.6 },
            samples: 16_384,
            epochs: None,
            settings: GraphSettings::default(),
            autoencoder: AutoencoderSettings::default(),
            graph_autoencoder: GraphAutoencoderSettings::default(),
            lof_neighbours: 20,
            scale: Scale::Global,
        }
    }
}

impl NodeOutlierConfig {
    /// Checks every setting; an error names the setting and the value.
    pub fn validate(&self) -> Result<()> {
        if self.detectors.is_empty() {
            return Err(invalid("detectors", "none", "at least one detector"));
        }
        if self.seeds == 0 {
            return Err(invalid("seeds", 0, "at least one seed"));
        }
        if self.epochs == Some(0) {
            return Err(invalid("epochs", 0, "at least 1"));
        }
        if self.epochs.is_none() && self.samples == 0 {
            return Err(invalid("samples", 0, "at least one ego-graph to train on"));
        }
        if self.lof_neighbours == 0 {
            return Err(invalid("LOF neighbours", 0, "at least 1"));
        }
        if let Some(p) = self.settings.patience {
            return Err(invalid(
                "patience",
                p,
                "no early stopping without labels: the unsupervised protocol has no validation part; leave it out",
            ));
        }
        self.reconstruction.validate()?;
        self.autoencoder.validate()?;
        self.graph_autoencoder.validate()?;
        self.settings.check_node_task()?;
        GraphSettings { epochs: 1, ..self.settings.clone() }.validate()
    }

    /// The ET's epochs on a graph of `nodes` nodes.
    pub fn epochs_for(&self, nodes: usize) -> usize {
        self.epochs.unwrap_or_else(|| self.samples.div_ceil(nodes.max(1)).max(1))
    }
}

/// One line: the graph, its anomalies, and what the run does.
pub fn describe(graph: &AnomalyGraph, config: &NodeOutlierConfig) -> String {
    let e = config.reconstruction.ego;
    format!(
        "{}: {} nodes, {} edge lines, {} features ({} scaling), {} anomalies ({:.2}%), labels read only for the figures; \
         ET: {} epochs of masked reconstruction over every node's ego-graph ({} hops, at most {} nodes, the centre and {:.0}% \
         of the others masked); {} seeds",
        graph.name,
        graph.nodes,
        graph.edges.len(),
        graph.dim,
        config.scale.resolve(&graph.features),
        graph.anomalies(),
        100.0 * graph.anomalies() as f64 / graph.nodes.max(1) as f64,
        config.epochs_for(graph.nodes),
        e.hops,
        e.budget,
        100.0 * config.reconstruction.mask_fraction,
        config.seeds
    )
}

/// ROC-AUC and AUPRC of one score over all nodes; `None` where undefined (one class absent).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScoreFigures {
    /// The score's name: "ET", "ET energy", "ET energy drop", "MLPAE", "LOF".
    pub score: String,
    /// ROC-AUC over all nodes.
    pub auc: Option<f64>,
    /// Average precision over all nodes.
    pub auprc: Option<f64>,
}

/// One detector on one seed.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DetectorResult {
    /// The seed.
    pub seed: u64,
    /// The detector.
    pub detector: Detector,
    /// The figures of each score it gives (the ET: its score first, then the energies).
    pub figures: Vec<ScoreFigures>,
    /// Seconds of fitting and scoring.
    pub seconds: f64,
    /// Every training epoch's figures (none for LOF).
    pub history: Vec<OutlierEpoch>,
}

fn figure(v: Option<f64>) -> String {
    v.map_or("undefined".into(), |x| format!("{x:.4}"))
}

impl DetectorResult {
    /// One line for a log.
    pub fn line(&self) -> String {
        let mut parts =
            self.figures.iter().map(|f| format!("{}: ROC-AUC {}, AUPRC {}", f.score, figure(f.auc), figure(f.auprc)));
        let first = parts.next().unwrap_or_default();
        let rest: Vec<String> = parts.collect();
        let rest = if rest.is_empty() { String::new() } else { format!(" ({})", rest.join("; ")) };
        format!("seed {} {first}{rest}; {:.1} s", self.seed, self.seconds)
    }
}

/// One score's figures over the seeds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OutlierSummary {
    /// The score's name.
    pub score: String,
    /// ROC-AUC, mean and std (`None`: undefined).
    pub auc: Option<(f64, f64)>,
    /// AUPRC, mean and std.
    pub auprc: Option<(f64, f64)>,
    /// Seconds of its detector over all seeds.
    pub seconds: f64,
}

/// What an unsupervised detection run gives.
pub struct NodeOutlierReport {
    /// The graph's name.
    pub graph: String,
    /// Nodes.
    pub nodes: usize,
    /// Anomalous nodes (by the labels, read after scoring).
    pub anomalies: usize,
    /// Seeds run.
    pub seeds: u64,
    /// Every detector on every seed, seed by seed.
    pub runs: Vec<DetectorResult>,
    /// Seed 0's scores of every node, per score name, in the order the detectors ran.
    pub scores: Vec<(String, Vec<f64>)>,
    /// Whether each node is an anomaly.
    pub labels: Vec<bool>,
    picture: Option<OutlierPicture>,
}

fn figures_of(score: &str, values: &[f64], labels: &[bool]) -> ScoreFigures {
    let defined = labels.iter().any(|&l| l) && labels.iter().any(|&l| !l);
    ScoreFigures {
        score: score.to_string(),
        auc: defined.then(|| auc(values, labels)),
        auprc: defined.then(|| average_precision(values, labels)),
    }
}

/// Runs `config` on `graph` on `device`, telling `observer` as it goes. Every detector sees the
/// graph through [`UnlabelledGraph`], which holds no labels; the labels score the results.
///
/// # Errors
/// Invalid settings; sizes that cannot fit; a loss or score that becomes NaN/∞; the observer's
/// cancel flag ([`crate::TrainError::Cancelled`]).
pub fn run(
    config: &NodeOutlierConfig,
    graph: &AnomalyGraph,
    device: &Device,
    mut observer: impl Observer<OutlierEpoch, DetectorResult>,
) -> Result<NodeOutlierReport> {
    config.validate()?;
    let unlabelled = UnlabelledGraph::new(graph, config.scale)?;
    if config.detectors.contains(&Detector::Lof) && config.lof_neighbours >= graph.nodes {
        return Err(invalid(
            "LOF neighbours",
            config.lof_neighbours,
            format!("fewer than the graph's {} nodes", graph.nodes),
        ));
    }
    let labels = graph.anomalous();
    let trainer = Trainer { cancel: observer.cancel(), ..Trainer::default() };
    let epochs = config.epochs_for(graph.nodes);
    let (mut runs, mut scores, mut picture) = (Vec::new(), Vec::new(), None);
    let mut lof: Option<Vec<f64>> = None;
    for seed in 0..config.seeds {
        let settings = GraphSettings { seed, epochs, ..config.settings.clone() };
        for &detector in &config.detectors {
            let id = RunId {
                unit: "seed",
                index: seed as usize + 1,
                of: config.seeds as usize,
                model: detector.to_string(),
                examples: graph.nodes,
                epochs: match detector {
                    Detector::Et | Detector::Gae => epochs,
                    Detector::MlpAe => config.autoencoder.epochs,
                    Detector::Lof => 1,
                },
                example_unit: "nodes",
            };
            observer.on(Progress::Started(&id));
            let started = std::time::Instant::now();
            let (scored, history): (Vec<(String, Vec<f64>)>, Vec<OutlierEpoch>) = match detector {
                Detector::Et => {
                    let ego = config.reconstruction.ego;
                    let (model, history) = fit_reconstruction(
                        &unlabelled,
                        config.reconstruction,
                        (&settings, device),
                        &trainer,
                        relay(&id, &mut observer),
                    )?;
                    let s = et_scores(&model, &unlabelled, ego, &settings, device)?;
                    if seed == 0 {
                        picture = Some((model, settings.clone()));
                    }
                    let named =
                        vec![("ET".into(), s.error), ("ET energy".into(), s.energy), ("ET energy drop".into(), s.drop)];
                    (named, history)
                }
                Detector::MlpAe => {
                    let (s, history) = mlp_autoencoder_scores(
                        &unlabelled,
                        &config.autoencoder,
                        (seed, device),
                        &trainer,
                        relay(&id, &mut observer),
                    )?;
                    (vec![("MLPAE".into(), s)], history)
                }
                Detector::Gae => {
                    let (s, history) = graph_autoencoder_scores(
                        &unlabelled,
                        (config.reconstruction.ego, &config.graph_autoencoder, epochs),
                        (seed, device),
                        &trainer,
                        relay(&id, &mut observer),
                    )?;
                    (vec![("GAE".into(), s)], history)
                }
                Detector::Lof => {
                    if trainer.cancel.is_cancelled() {
                        return Err(crate::TrainError::Cancelled { epoch: 1, iteration: 0, epochs_done: 0 });
                    }
                    // Deterministic: fitted once, the same scores for every seed.
                    if lof.is_none() {
                        let k = config.lof_neighbours;
                        lof = Some(local_outlier_factor(&unlabelled.features, unlabelled.dim, k, device)?);
                    }
                    (vec![("LOF".into(), lof.clone().unwrap_or_default())], Vec::new())
                }
            };
            let result = DetectorResult {
                seed,
                detector,
                figures: scored.iter().map(|(name, s)| figures_of(name, s, &labels)).collect(),
                seconds: started.elapsed().as_secs_f64(),
                history,
            };
            observer.on(Progress::Finished(&id, &result));
            runs.push(result);
            if seed == 0 {
                scores.extend(scored);
            }
        }
    }
    Ok(NodeOutlierReport {
        graph: graph.name.clone(),
        nodes: graph.nodes,
        anomalies: graph.anomalies(),
        seeds: config.seeds,
        runs,
        scores,
        labels,
        picture: picture.map(|(model, settings)| OutlierPicture {
            model,
            graph: unlabelled,
            ego: config.reconstruction.ego,
            settings,
        }),
    })
}

impl NodeOutlierReport {
    /// The files a run writes into its output folder.
    pub const OUTPUTS: &'static [&'static str] = &["runs.csv", "metrics.csv", "scores.csv", "scores.png"];

    /// Each score's mean ± std over the seeds, in the order the detectors ran.
    pub fn summary(&self) -> Vec<OutlierSummary> {
        let mut out: Vec<OutlierSummary> = Vec::new();
        let names: Vec<String> = self.scores.iter().map(|(n, _)| n.clone()).collect();
        for name in names {
            let of: Vec<(&DetectorResult, &ScoreFigures)> = self
                .runs
                .iter()
                .flat_map(|r| r.figures.iter().filter(|f| f.score == name).map(move |f| (r, f)))
                .collect();
            let col = |f: fn(&ScoreFigures) -> Option<f64>| {
                let v: Option<Vec<f64>> = of.iter().map(|(_, s)| f(s)).collect();
                v.filter(|v| !v.is_empty()).map(|v| mean_std(&v))
            };
            out.push(OutlierSummary {
                score: name.clone(),
                auc: col(|s| s.auc),
                auprc: col(|s| s.auprc),
                seconds: of.iter().map(|(r, _)| r.seconds).sum(),
            });
        }
        out
    }

    /// The table of figures per score.
    pub fn table(&self) -> String {
        let mut t = format!(
            "{}: unsupervised node anomaly detection (no labels in any fit; every node scored), {} nodes, {} anomalous; \
             ROC-AUC and AUPRC over all nodes, mean ± std over {} seeds:\n",
            self.graph, self.nodes, self.anomalies, self.seeds
        );
        t += "  score            ROC-AUC           AUPRC             seconds\n";
        let pm = |v: Option<(f64, f64)>| v.map_or(format!("{:<16}", "undefined"), |(m, s)| format!("{m:.4} ± {s:.4}"));
        for s in self.summary() {
            let secs =
                if s.score.starts_with("ET ") { "(the ET's)".to_string() } else { format!("{:>7.1}", s.seconds) };
            t += &format!("  {:<15}  {}   {}   {secs}\n", s.score, pm(s.auc), pm(s.auprc));
        }
        if self.anomalies == 0 || self.anomalies == self.nodes {
            t += &format!(
                "  ROC-AUC and AUPRC are undefined: {} of the {} nodes are labelled anomalous (both classes are needed); \
                 the scores are in scores.csv\n",
                self.anomalies, self.nodes
            );
        }
        t
    }

    /// `runs.csv`: a line per seed and score (empty figures where undefined).
    pub fn runs_csv(&self) -> String {
        let mut csv = String::from("seed,detector,score,auc,auprc,seconds\n");
        let f = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x:.6}"));
        for r in &self.runs {
            for s in &r.figures {
                csv += &format!("{},{},{},{},{},{:.2}\n", r.seed, r.detector, s.score, f(s.auc), f(s.auprc), r.seconds);
            }
        }
        csv
    }

    /// `metrics.csv`: every training epoch of every run.
    pub fn metrics_csv(&self) -> String {
        history_csv("detector,seed", self.runs.iter().map(|r| (format!("{},{}", r.detector, r.seed), &r.history[..])))
    }

    /// `scores.csv`: every node's label and seed 0's score of each detector.
    pub fn scores_csv(&self) -> String {
        let mut csv = String::from("node,anomalous");
        for (name, _) in &self.scores {
            csv += &format!(",{}", name.replace(' ', "_"));
        }
        csv.push('\n');
        for i in 0..self.nodes {
            csv += &format!("{i},{}", self.labels[i] as u8);
            for (_, s) in &self.scores {
                csv += &format!(",{:.6e}", s[i]);
            }
            csv.push('\n');
        }
        csv
    }

    /// Writes `runs.csv`, `metrics.csv`, `scores.csv` and (when the ET ran) `scores.png` into `dir`
    /// (created if missing); returns the files written.
    ///
    /// # Errors
    /// A file that cannot be written; the picture's model failing on its ego-graphs.
    pub fn write(&self, dir: &Path, device: &Device) -> Result<Vec<PathBuf>> {
        let mut written = vec![write_file(dir, "runs.csv", &self.runs_csv())?];
        written.push(write_file(dir, "metrics.csv", &self.metrics_csv())?);
        written.push(write_file(dir, "scores.csv", &self.scores_csv())?);
        if let (Some(p), Some((_, errors))) = (&self.picture, self.scores.iter().find(|(n, _)| n == "ET")) {
            let png = dir.join("scores.png");
            let auc =
                self.runs.iter().find(|r| r.seed == 0 && r.detector == Detector::Et).and_then(|r| r.figures[0].auc);
            let title = format!(
                "{}: ET reconstruction error of every node, fitted without labels (seed 0, ROC-AUC {})",
                self.graph,
                figure(auc)
            );
            write_outlier_scores(p, errors, &self.labels, &title, &png, device)?;
            written.push(png);
        }
        Ok(written)
    }

    /// The ET of seed 0, as trained (for a library user's own pictures).
    pub fn et_model(&self) -> Option<&GraphEnergyTransformer> {
        self.picture.as_ref().map(|p| &p.model)
    }
}
