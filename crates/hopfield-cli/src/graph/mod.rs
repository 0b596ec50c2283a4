//! `hopfield graph …`: the Energy Transformer on graphs — graph classification by 10-fold
//! cross-validation ([`classify`]) and supervised node anomaly detection ([`anomaly`]) — each beside
//! a structure-blind MLP trained on the same splits in the same run. Here: the flags both share,
//! finding a data set by name or path, the progress bar.

pub mod anomaly;
pub mod classify;

use std::path::Path;

use anyhow::Result;
use burn::tensor::Device;
use clap::{Args, Subcommand, ValueEnum};
use hopfield::et::{Descent, Readout};
use hopfield_train::tasks::graph::{GraphSettings, ModelKind};

#[derive(Subcommand, Debug)]
pub enum GraphCommand {
    /// Graph classification (TU sets): 10-fold cross-validation, the epoch chosen on a stratified
    /// 10% of each training part, mean ± std of the test-fold accuracy; ET and MLP (and GIN-0 with
    /// --models all) on the same folds.
    Classify(classify::ClassifyArgs),
    /// Node anomaly detection. Supervised: stratified train/validation/test split, class-weighted
    /// loss, threshold chosen on validation; ROC-AUC, AUPRC and macro-F1 over several seeds. With
    /// --unsupervised (the BOND protocol): the ET (masked reconstruction), an MLP autoencoder, LOF
    /// and a graph autoencoder fitted without labels, every node scored, ROC-AUC and AUPRC over all
    /// nodes.
    Anomaly(anomaly::AnomalyArgs),
}

/// Which models to train.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelsArg {
    /// The Energy Transformer, then the MLP baseline.
    Both,
    /// The Energy Transformer only.
    Et,
    /// The MLP baseline only.
    Mlp,
    /// GIN-0 only.
    Gin,
    /// The Energy Transformer, GIN-0 and the MLP, on the same folds and validation parts.
    All,
}

impl ModelsArg {
    pub(crate) fn kinds(self) -> Vec<ModelKind> {
        match self {
            ModelsArg::Both => vec![ModelKind::Et, ModelKind::Mlp],
            ModelsArg::Et => vec![ModelKind::Et],
            ModelsArg::Mlp => vec![ModelKind::Mlp],
            ModelsArg::Gin => vec![ModelKind::Gin],
            ModelsArg::All => vec![ModelKind::Et, ModelKind::Gin, ModelKind::Mlp],
        }
    }
}

/// The model and optimiser flags both commands share.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// Which models to train.
    #[arg(long, value_enum, default_value = "both")]
    pub models: ModelsArg,
    /// D, the token dimension (also the MLP's hidden width).
    #[arg(long, default_value_t = GraphSettings::default().dim)]
    pub dim: usize,
    /// H, attention heads.
    #[arg(long, default_value_t = GraphSettings::default().heads)]
    pub heads: usize,
    /// Y, the dimension of each head.
    #[arg(long, default_value_t = GraphSettings::default().head_dim)]
    pub head_dim: usize,
    /// M, Hopfield memories.
    #[arg(long, default_value_t = GraphSettings::default().memories)]
    pub memories: usize,
    /// T, descent steps.
    #[arg(long, default_value_t = GraphSettings::default().descent.steps)]
    pub steps: usize,
    /// α, the descent's step size.
    #[arg(long, visible_alias = "alpha", default_value_t = GraphSettings::default().descent.step_size, allow_negative_numbers = true)]
    pub step_size: f64,
    /// k, Laplacian positional encodings per node (0: none).
    #[arg(long, default_value_t = GraphSettings::default().encodings)]
    pub encodings: usize,
    /// Random-walk return probabilities after 1..=K steps appended to every node's features, for
    /// every model (graph classification; 0: none; at most 64).
    #[arg(long, default_value_t = GraphSettings::default().random_walk)]
    pub random_walk: usize,
    /// Let a node attend to itself.
    #[arg(long)]
    pub self_loops: bool,
    /// Learned per-head edge weights: an edge of label l weighs exp(W_lh) in head h (edge labels
    /// from DS_edge_labels; one label for every edge where a set has none).
    #[arg(long)]
    pub edge_weights: bool,
    /// AdamW's learning rate.
    #[arg(long, default_value_t = GraphSettings::default().lr, allow_negative_numbers = true)]
    pub lr: f64,
    /// AdamW's decoupled weight decay.
    #[arg(long, default_value_t = GraphSettings::default().weight_decay, allow_negative_numbers = true)]
    pub weight_decay: f64,
    /// Examples per step.
    #[arg(long, default_value_t = GraphSettings::default().batch_size)]
    pub batch_size: usize,
    /// Early stopping: end a run once this many epochs pass without a better validation figure
    /// (--epochs is then the budget; the best validation epoch is kept as always).
    #[arg(long)]
    pub patience: Option<usize>,
    /// What the ET's logits read: the CLS token (cls), or it beside the mean (cls-mean) or the sum
    /// (cls-sum) of the node tokens (graph classification).
    #[arg(long, default_value = "cls")]
    pub readout: Readout,
    /// Learned per-head inverse temperatures β_h in the ET's attention (from β = 1/√Y): head h's
    /// logits β_h K·Q, its energy weighed 1/β_h.
    #[arg(long)]
    pub head_betas: bool,
    /// A learned mixing of the ET's heads (from the identity): head h' attends by Σ_h M_hh' times
    /// head h's logits.
    #[arg(long)]
    pub head_mixing: bool,
    /// Standard deviation of Gaussian noise added to the standardised node features of the
    /// training batches, for every model (graph classification; 0: none).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub noise: f64,
}

impl ModelArgs {
    /// The settings these flags give (validated with the protocol's config).
    pub(crate) fn settings(&self, epochs: usize, seed: u64) -> GraphSettings {
        GraphSettings {
            dim: self.dim,
            heads: self.heads,
            head_dim: self.head_dim,
            memories: self.memories,
            descent: Descent::new(self.steps, self.step_size),
            encodings: self.encodings,
            random_walk: self.random_walk,
            self_loops: self.self_loops,
            edge_weights: self.edge_weights,
            readout: self.readout,
            head_betas: self.head_betas,
            head_mixing: self.head_mixing,
            noise: self.noise,
            epochs,
            patience: self.patience,
            batch_size: self.batch_size,
            lr: self.lr,
            weight_decay: self.weight_decay,
            seed,
        }
    }
}

/// Runs a `graph` subcommand on `device`.
pub fn run(cmd: &GraphCommand, data_dir: &Path, device: &Device) -> Result<()> {
    match cmd {
        GraphCommand::Classify(a) => classify::run(a, data_dir, device),
        GraphCommand::Anomaly(a) => anomaly::run(a, data_dir, device),
    }
}
