//! `hopfield graph anomaly`: flags into [`NodeAnomalyConfig`] (supervised) or, with
//! `--unsupervised`, [`NodeOutlierConfig`] (the BOND protocol: no labels in any fit); the graph from
//! [`node_anomaly::load_named`]; the protocol with a progress bar per seed and model, then the
//! report's table and files.

use std::path::{Path, PathBuf};

use anyhow::Result;
use burn::tensor::Device;
use clap::Args;
use clap::ValueEnum;
use hopfield_train::experiments::node_anomaly::{self, NodeAnomalyConfig, SeedResult};
use hopfield_train::experiments::node_outliers::{self, Detector, DetectorResult, NodeOutlierConfig};
use hopfield_train::tasks::graph::anomaly::EgoSettings;
use hopfield_train::tasks::graph::outlier::{Reconstruction, Scale};

use hopfield_train::experiments::Progress;

use super::{ModelArgs, ModelsArg};
use crate::common::{flagged, with_hint, ResumeArgs};
use crate::runs::RunBars;

/// How the features are scaled (`--unsupervised`).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScaleArg {
    /// Global for sparse features (over 90% zeros), else columns.
    Auto,
    /// Each column standardised.
    Columns,
    /// Centred, one global scale.
    Global,
}

/// A label-free detector (`--unsupervised`).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DetectorArg {
    /// The graph Energy Transformer, trained by masked reconstruction on ego-graphs.
    Et,
    /// An MLP autoencoder on the node features.
    Mlpae,
    /// The local outlier factor of the node features.
    Lof,
    /// A DOMINANT-like graph autoencoder on the ET's ego-graphs.
    Gae,
}

impl DetectorArg {
    fn detector(self) -> Detector {
        match self {
            DetectorArg::Et => Detector::Et,
            DetectorArg::Mlpae => Detector::MlpAe,
            DetectorArg::Lof => Detector::Lof,
            DetectorArg::Gae => Detector::Gae,
        }
    }
}

#[derive(Args, Debug)]
pub struct AnomalyArgs {
    /// reddit, books, disney, enron or inj_cora under <data-dir>/graph-anomaly/, or a folder with
    /// edges.txt, labels.txt and features.csv or features_coo.txt (plain or .gz; labels.txt may be
    /// missing with --unsupervised).
    #[arg(long)]
    pub data: String,
    /// Unsupervised detection (the BOND protocol): every detector fitted on the whole graph without
    /// labels, every node scored; labels read only for ROC-AUC and AUPRC over all nodes.
    #[arg(long)]
    pub unsupervised: bool,
    /// Share of each class's nodes to train on (0.4; 0.01 for the low-label setting); the rest is
    /// split 1:2 into validation and test. Supervised only.
    #[arg(long)]
    pub train_fraction: Option<f64>,
    /// Seeds (splits and weights): 0, 1, …
    #[arg(long, default_value_t = NodeAnomalyConfig::default().seeds)]
    pub seeds: u64,
    /// Hops of each node's ego-graph.
    #[arg(long, default_value_t = NodeAnomalyConfig::default().ego.hops)]
    pub hops: usize,
    /// Most nodes of an ego-graph, the centre included.
    #[arg(long, default_value_t = NodeAnomalyConfig::default().ego.budget)]
    pub budget: usize,
    /// Passes over the training nodes (supervised: 20; unsupervised: ⌈--samples / nodes⌉).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Unsupervised: the label-free detectors, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "et,mlpae,lof,gae")]
    pub detectors: Vec<DetectorArg>,
    /// Unsupervised: share of an ego-graph's other nodes masked beside its centre in training.
    #[arg(long, default_value_t = NodeOutlierConfig::default().reconstruction.mask_fraction, allow_negative_numbers = true)]
    pub mask_fraction: f64,
    /// Unsupervised: ego-graphs the ET trains on, when --epochs is not given.
    #[arg(long, default_value_t = NodeOutlierConfig::default().samples)]
    pub samples: usize,
    /// Unsupervised: how every detector sees the features — BOND's raw geometry, centred and
    /// divided by one global scale (global), per-column standardisation (columns), or global when
    /// over 90% of the entries are zero (a bag of words), else columns (auto).
    #[arg(long, value_enum, default_value = "global")]
    pub scale: ScaleArg,
    /// Unsupervised: neighbours of the local outlier factor.
    #[arg(long, default_value_t = NodeOutlierConfig::default().lof_neighbours)]
    pub lof_neighbours: usize,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Folder for runs.csv, metrics.csv and scores.png (and scores.csv when unsupervised), created
    /// if missing [default: out/graph-anomaly, or out/graph-outliers when unsupervised].
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub resume: ResumeArgs,
}

impl AnomalyArgs {
    /// The supervised protocol's config these flags give.
    pub fn config(&self) -> NodeAnomalyConfig {
        let d = NodeAnomalyConfig::default();
        NodeAnomalyConfig {
            models: self.model.models.kinds(),
            train_fraction: self.train_fraction.unwrap_or(d.train_fraction),
            seeds: self.seeds,
            ego: EgoSettings { hops: self.hops, budget: self.budget },
            settings: self.model.settings(self.epochs.unwrap_or(d.settings.epochs), 0),
        }
    }

    /// The unsupervised protocol's config these flags give.
    pub fn outlier_config(&self) -> NodeOutlierConfig {
        let mut detectors: Vec<Detector> = Vec::new();
        for d in &self.detectors {
            if !detectors.contains(&d.detector()) {
                detectors.push(d.detector());
            }
        }
        NodeOutlierConfig {
            detectors,
            seeds: self.seeds,
            reconstruction: Reconstruction {
                ego: EgoSettings { hops: self.hops, budget: self.budget },
                mask_fraction: self.mask_fraction,
            },
            samples: self.samples,
            epochs: self.epochs,
            settings: self.model.settings(1, 0),
            lof_neighbours: self.lof_neighbours,
            scale: match self.scale {
                ScaleArg::Auto => Scale::Auto,
                ScaleArg::Columns => Scale::Columns,
                ScaleArg::Global => Scale::Global,
            },
            ..NodeOutlierConfig::default()
        }
    }
}

/// Runs `graph anomaly`.
pub fn run(a: &AnomalyArgs, data_dir: &Path, device: &Device) -> Result<()> {
    if a.unsupervised {
        return unsupervised(a, data_dir, device);
    }
    let config = a.config();
    config.validate().map_err(|e| flagged(e, &["seeds", "budget"]))?;
    let graph = node_anomaly::load_named(&a.data, data_dir)?;
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from("out/graph-anomaly"));
    hopfield_data::outputs::claim_all(&out, node_anomaly::NodeAnomalyReport::OUTPUTS)?;
    println!("{}", node_anomaly::describe(&graph, &config));
    let mut bars = RunBars::new(SeedResult::line);
    let checkpointing = a.resume.checkpointing(&out);
    let report =
        node_anomaly::run_resumable(&config, &graph, device, |e: Progress<'_, _, _>| bars.on(e), Some(&checkpointing))
            .map_err(|e| with_hint(e, "lower --lr or --step-size"))?;
    let written = report.write(&out, device)?;
    println!("\n{}", report.table().trim_end());
    for f in written {
        println!("  wrote {}", f.display());
    }
    Ok(())
}

/// `graph anomaly --unsupervised`.
fn unsupervised(a: &AnomalyArgs, data_dir: &Path, device: &Device) -> Result<()> {
    // Flags of the supervised protocol would be silently ignored here: refuse them.
    if let Some(f) = a.train_fraction {
        anyhow::bail!(
            "--train-fraction {f}: the unsupervised protocol trains on every node without labels; leave it out"
        )
    }
    if a.model.models != ModelsArg::Both {
        anyhow::bail!("--models: the unsupervised protocol picks its detectors with --detectors (et, mlpae, lof, gae)")
    }
    if a.resume.resume || a.resume.checkpoint.is_some() {
        anyhow::bail!(
            "--resume/--checkpoint: the unsupervised protocol keeps no checkpoint (a seed takes a minute or two); run it again"
        )
    }
    const FLAGS: &[&str] = &["seeds", "budget", "epochs", "samples", "mask fraction", "LOF neighbours"];
    let config = a.outlier_config();
    config.validate().map_err(|e| flagged(e, FLAGS))?;
    let graph = node_outliers::load_named(&a.data, data_dir)?;
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from("out/graph-outliers"));
    hopfield_data::outputs::claim_all(&out, node_outliers::NodeOutlierReport::OUTPUTS)?;
    println!("{}", node_outliers::describe(&graph, &config));
    let mut bars = RunBars::new(DetectorResult::line);
    let report =
        node_outliers::run(&config, &graph, device, |e: Progress<'_, _, _>| bars.on(e)).map_err(|e| match e {
            // A setting that does not fit this graph (more LOF neighbours than nodes): named as its flag.
            e @ hopfield_train::TrainError::Invalid { .. } => flagged(e, FLAGS),
            e => with_hint(e, "lower --lr or --step-size"),
        })?;
    let written = report.write(&out, device)?;
    println!("\n{}", report.table().trim_end());
    for f in written {
        println!("  wrote {}", f.display());
    }
    Ok(())
}
