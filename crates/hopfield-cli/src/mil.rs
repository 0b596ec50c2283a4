//! `hopfield mil …`: multiple-instance learning on bags of digits with Hopfield pooling against
//! mean pooling: flags into [`MilComparisonConfig`], the bags from [`MilData::draw`],
//! [`mil::run`] with a progress bar per pooling, then the report's table and files.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use hopfield_train::experiments::mil::{self, MilComparisonConfig, MilData};
use hopfield_train::tasks::mil::{MilConfig, Pooling};

#[derive(Subcommand, Debug)]
pub enum MilCommand {
    /// Draw bags of images (positive when one shows the target digit), train one model per pooling on
    /// the same bags and seeds, and report test accuracy and AUC every epoch.
    Train(MilTrainArgs),
}

/// Which poolings to train.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolingArg {
    /// HopfieldPooling, then mean pooling as the baseline.
    Both,
    /// HopfieldPooling only.
    Hopfield,
    /// Mean pooling only.
    Mean,
}

#[derive(Args, Debug)]
pub struct MilTrainArgs {
    /// Data set (built-in name or path); training bags come from its train split, test bags from its test split.
    #[arg(long, default_value = "mnist-sample")]
    pub data: hopfield_data::DataSource,
    /// Folder for metrics.csv, auc.png and attention.png (created if missing).
    #[arg(long, default_value = "out/mil")]
    pub out: PathBuf,
    #[command(flatten)]
    pub resume: crate::common::ResumeArgs,
    /// Which poolings to train.
    #[arg(long, value_enum, default_value = "both")]
    pub pooling: PoolingArg,
    /// Training bags.
    #[arg(long, default_value_t = MilComparisonConfig::default().train_bags)]
    pub train_bags: usize,
    /// Test bags.
    #[arg(long, default_value_t = MilComparisonConfig::default().test_bags)]
    pub test_bags: usize,
    /// Fewest images in a bag.
    #[arg(long, default_value_t = MilComparisonConfig::default().min_bag_size)]
    pub min_bag_size: usize,
    /// Most images in a bag.
    #[arg(long, default_value_t = MilComparisonConfig::default().max_bag_size)]
    pub max_bag_size: usize,
    /// The label that makes a bag positive.
    #[arg(long, default_value_t = MilComparisonConfig::default().target)]
    pub target: u8,
    /// Passes over the training bags.
    #[arg(long, default_value_t = MilConfig::default().epochs)]
    pub epochs: usize,
    /// Bags per Adam step.
    #[arg(long, default_value_t = MilConfig::default().batch_size)]
    pub batch_size: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = MilConfig::default().lr, allow_negative_numbers = true)]
    pub lr: f64,
    /// Width of the instance encoder's hidden layer.
    #[arg(long, default_value_t = MilConfig::default().hidden)]
    pub hidden: usize,
    /// Dimension of the instance embeddings.
    #[arg(long, default_value_t = MilConfig::default().embed)]
    pub embed: usize,
    /// Association dimension d_K of the Hopfield pooling.
    #[arg(long, default_value_t = MilConfig::default().assoc)]
    pub assoc: usize,
    /// β of the Hopfield pooling (default 1/√d_K).
    #[arg(long, allow_negative_numbers = true)]
    pub beta: Option<f64>,
    /// Seed of the bags (train: seed, test: seed + 1), the initial weights and the batch order.
    #[arg(long, default_value_t = MilConfig::default().seed)]
    pub seed: u64,
}

/// Runs a `mil` subcommand on `device`.
pub fn run(cmd: &MilCommand, data_dir: &Path, device: &burn::tensor::Device) -> Result<()> {
    match cmd {
        MilCommand::Train(a) => train_cmd(a, data_dir, device),
    }
}

impl MilTrainArgs {
    /// The protocol's config these flags give.
    pub fn config(&self) -> MilComparisonConfig {
        MilComparisonConfig {
            poolings: match self.pooling {
                PoolingArg::Both => vec![Pooling::Hopfield, Pooling::Mean],
                PoolingArg::Hopfield => vec![Pooling::Hopfield],
                PoolingArg::Mean => vec![Pooling::Mean],
            },
            train_bags: self.train_bags,
            test_bags: self.test_bags,
            min_bag_size: self.min_bag_size,
            max_bag_size: self.max_bag_size,
            target: self.target,
            model: MilConfig {
                hidden: self.hidden,
                embed: self.embed,
                assoc: self.assoc,
                beta: self.beta,
                epochs: self.epochs,
                batch_size: self.batch_size,
                lr: self.lr,
                seed: self.seed,
            },
        }
    }
}

fn train_cmd(a: &MilTrainArgs, data_dir: &Path, device: &burn::tensor::Device) -> Result<()> {
    let config = a.config();
    config.validate()?;
    let load = |split| crate::common::load_split(&a.data, split, data_dir);
    let (tr, te) = (load(hopfield_data::Split::Train)?, load(hopfield_data::Split::Test)?);
    let data = MilData::draw(&config, &a.data.to_string(), tr, te)?;
    hopfield_data::outputs::claim_all(&a.out, mil::MilReport::OUTPUTS)?;
    println!("{}", data.describe(&config));
    let mut pb = None;
    let checkpointing = a.resume.checkpointing(&a.out);
    let progress = |e: mil::Event<'_>| crate::runs::mil_progress(&mut pb, e);
    let report = mil::run_resumable(&config, &data, device, progress, Some(&checkpointing))
        .map_err(|e| crate::common::with_hint(e, "lower --lr"))?;
    let written = report.write(&a.out, &data, device)?;
    println!("{}", report.table().trim_end());
    for f in written {
        println!("  wrote {}", f.display());
    }
    Ok(())
}
