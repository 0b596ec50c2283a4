//! `hopfield graph anomaly`: flags into [`NodeAnomalyConfig`], the graph from
//! [`node_anomaly::load_named`], [`node_anomaly::run`] with a progress bar per seed and model, then
//! the report's table and files.

use std::path::{Path, PathBuf};

use anyhow::Result;
use burn::tensor::Device;
use clap::Args;
use hopfield_train::experiments::node_anomaly::{self, NodeAnomalyConfig, SeedResult};
use hopfield_train::tasks::graph::anomaly::EgoSettings;

use hopfield_train::experiments::Progress;

use super::ModelArgs;
use crate::common::{flagged, with_hint, ResumeArgs};
use crate::runs::RunBars;

#[derive(Args, Debug)]
pub struct AnomalyArgs {
    /// reddit, books, disney, enron or inj_cora under <data-dir>/graph-anomaly/, or a folder with
    /// edges.txt, labels.txt and features.csv or features_coo.txt (plain or .gz).
    #[arg(long)]
    pub data: String,
    /// Share of each class's nodes to train on (0.4; 0.01 for the low-label setting); the rest is
    /// split 1:2 into validation and test.
    #[arg(long, default_value_t = NodeAnomalyConfig::default().train_fraction)]
    pub train_fraction: f64,
    /// Seeds (splits and weights): 0, 1, …
    #[arg(long, default_value_t = NodeAnomalyConfig::default().seeds)]
    pub seeds: u64,
    /// Hops of each node's ego-graph.
    #[arg(long, default_value_t = NodeAnomalyConfig::default().ego.hops)]
    pub hops: usize,
    /// Most nodes of an ego-graph, the centre included.
    #[arg(long, default_value_t = NodeAnomalyConfig::default().ego.budget)]
    pub budget: usize,
    /// Passes over the training nodes.
    #[arg(long, default_value_t = NodeAnomalyConfig::default().settings.epochs)]
    pub epochs: usize,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Folder for runs.csv, metrics.csv and scores.png (created if missing).
    #[arg(long, default_value = "out/graph-anomaly")]
    pub out: PathBuf,
    #[command(flatten)]
    pub resume: ResumeArgs,
}

impl AnomalyArgs {
    /// The protocol's config these flags give.
    pub fn config(&self) -> NodeAnomalyConfig {
        NodeAnomalyConfig {
            models: self.model.models.kinds(),
            train_fraction: self.train_fraction,
            seeds: self.seeds,
            ego: EgoSettings { hops: self.hops, budget: self.budget },
            settings: self.model.settings(self.epochs, 0),
        }
    }
}

/// Runs `graph anomaly`.
pub fn run(a: &AnomalyArgs, data_dir: &Path, device: &Device) -> Result<()> {
    let config = a.config();
    config.validate().map_err(|e| flagged(e, &["seeds", "budget"]))?;
    let graph = node_anomaly::load_named(&a.data, data_dir)?;
    hopfield_data::outputs::claim_all(&a.out, node_anomaly::NodeAnomalyReport::OUTPUTS)?;
    println!("{}", node_anomaly::describe(&graph, &config));
    let mut bars = RunBars::new(SeedResult::line);
    let checkpointing = a.resume.checkpointing(&a.out);
    let report =
        node_anomaly::run_resumable(&config, &graph, device, |e: Progress<'_, _, _>| bars.on(e), Some(&checkpointing))
            .map_err(|e| with_hint(e, "lower --lr or --step-size"))?;
    let written = report.write(&a.out, device)?;
    println!("\n{}", report.table().trim_end());
    for f in written {
        println!("  wrote {}", f.display());
    }
    Ok(())
}
