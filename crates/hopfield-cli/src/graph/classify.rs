//! `hopfield graph classify`: flags into [`GraphCvConfig`], the set and its folds from
//! [`GraphCvData::named`], [`graph_cv::run`] with a progress bar per fold and model, then the
//! report's table and files.

use std::path::{Path, PathBuf};

use anyhow::Result;
use burn::tensor::Device;
use clap::{Args, ValueEnum};
use hopfield_train::experiments::graph_cv::{FeatureChoice, GraphCvConfig, GraphCvData};
use hopfield_train::experiments::graph_select::SelectionGrid;

use super::ModelArgs;
use crate::common::{flagged, ResumeArgs};

/// Node features of a TU set.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeaturesArg {
    /// Labels and attributes when the set has both, else whichever it has, else degrees.
    Auto,
    /// One-hot node labels.
    Labels,
    /// Node attributes.
    Attributes,
    /// Labels one-hot, then attributes.
    Both,
    /// One-hot degree capped at --degree-cap.
    Degree,
}

#[derive(Args, Debug)]
pub struct ClassifyArgs {
    /// MUTAG (bundled), a TU set's name under <data-dir>/tu/, or a folder of TU files
    /// (DS_A.txt, DS_graph_indicator.txt, … plain or .gz).
    #[arg(long, default_value = "MUTAG")]
    pub data: String,
    /// A fold file (line k: the 0-based test graphs of fold k); default: the set's
    /// DS_10fold_test_idx.txt, else 10 stratified folds from --seed, written to <out>/folds.txt.
    #[arg(long)]
    pub folds: Option<PathBuf>,
    /// Run only the first N folds (default: all).
    #[arg(long)]
    pub max_folds: Option<usize>,
    /// Node features.
    #[arg(long, value_enum, default_value = "auto")]
    pub features: FeaturesArg,
    /// The largest degree with its own column for --features degree.
    #[arg(long, default_value_t = GraphCvConfig::default().degree_cap)]
    pub degree_cap: usize,
    /// Share of each training part held out (stratified) to choose the epoch.
    #[arg(long, default_value_t = GraphCvConfig::default().validation)]
    pub validation: f64,
    /// Passes over each training part.
    #[arg(long, default_value_t = GraphCvConfig::default().settings.epochs)]
    pub epochs: usize,
    /// Seed of the folds (when drawn), the validation parts, the weights and the batch order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Model selection per fold on its validation part: a JSON grid of settings, either an object
    /// of lists (every combination), {"dim": [32, 64], "lr": [0.001, 0.003]}, or a list of
    /// objects, [{"readout": "cls"}, {"readout": "cls-sum"}]; keys not given keep the flags'
    /// values. The chosen setting alone is measured on the test fold; selection.csv holds every
    /// setting's validation figures. Keeps no checkpoint.
    #[arg(long, value_name = "GRID.json")]
    pub select: Option<PathBuf>,
    /// Folder for folds.csv, metrics.csv, folds.txt and attention.png (created if missing).
    #[arg(long, default_value = "out/graph-classify")]
    pub out: PathBuf,
    #[command(flatten)]
    pub resume: ResumeArgs,
}

impl ClassifyArgs {
    /// The protocol's config these flags give.
    pub fn config(&self) -> GraphCvConfig {
        GraphCvConfig {
            models: self.model.models.kinds(),
            features: match self.features {
                FeaturesArg::Auto => FeatureChoice::Auto,
                FeaturesArg::Labels => FeatureChoice::Labels,
                FeaturesArg::Attributes => FeatureChoice::Attributes,
                FeaturesArg::Both => FeatureChoice::Both,
                FeaturesArg::Degree => FeatureChoice::Degree,
            },
            degree_cap: self.degree_cap,
            validation: self.validation,
            max_folds: self.max_folds,
            settings: self.model.settings(self.epochs, self.seed),
            select: None,
        }
    }
}

/// The settings whose names are flags of `graph classify`.
const FLAGS: [&str; 3] = ["validation", "max_folds", "degree_cap"];

/// Runs `graph classify`.
pub fn run(a: &ClassifyArgs, data_dir: &Path, device: &Device) -> Result<()> {
    let mut config = a.config();
    config.validate().map_err(|e| flagged(e, &FLAGS))?;
    let checkpointing = match &a.select {
        Some(path) => {
            if a.resume.resume || a.resume.checkpoint.is_some() {
                anyhow::bail!(
                    "--select keeps no checkpoint: leave out --resume and --checkpoint (or run without --select)"
                );
            }
            // Each setting is validated as the grid is read.
            config.select = Some(SelectionGrid::read(path, &config.settings)?);
            None
        }
        None => Some(a.resume.checkpointing(&a.out)),
    };
    let data = GraphCvData::named(&a.data, data_dir, a.folds.as_deref(), a.seed)?;
    crate::runs::graph_cv(&config, &data, &a.out, checkpointing.as_ref(), device)
}
