//! `hopfield mil …`: multiple-instance learning on bags of digits with Hopfield pooling against
//! mean pooling.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use hopfield_train::pictures::mil::write_instance_weights;
use hopfield_train::pictures::{Corner, LinePlot, Mark, Series};
use hopfield_train::tasks::mil::{make_bags, train_mil, BagSpec, MilConfig, MilEpoch, Pooling};

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
    /// Which poolings to train.
    #[arg(long, value_enum, default_value = "both")]
    pub pooling: PoolingArg,
    /// Training bags.
    #[arg(long, default_value_t = 2000)]
    pub train_bags: usize,
    /// Test bags.
    #[arg(long, default_value_t = 1000)]
    pub test_bags: usize,
    /// Fewest images in a bag.
    #[arg(long, default_value_t = 5)]
    pub min_bag_size: usize,
    /// Most images in a bag.
    #[arg(long, default_value_t = 15)]
    pub max_bag_size: usize,
    /// The label that makes a bag positive.
    #[arg(long, default_value_t = 9)]
    pub target: u8,
    /// Passes over the training bags.
    #[arg(long, default_value_t = 20)]
    pub epochs: usize,
    /// Bags per Adam step.
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 1e-3, allow_negative_numbers = true)]
    pub lr: f64,
    /// Width of the instance encoder's hidden layer.
    #[arg(long, default_value_t = 128)]
    pub hidden: usize,
    /// Dimension of the instance embeddings.
    #[arg(long, default_value_t = 64)]
    pub embed: usize,
    /// Association dimension d_K of the Hopfield pooling.
    #[arg(long, default_value_t = 32)]
    pub assoc: usize,
    /// β of the Hopfield pooling (default 1/√d_K).
    #[arg(long, allow_negative_numbers = true)]
    pub beta: Option<f64>,
    /// Seed of the bags (train: seed, test: seed + 1), the initial weights and the batch order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Runs a `mil` subcommand on `device`.
pub fn run(cmd: &MilCommand, data_dir: &Path, device: &burn::tensor::Device) -> Result<()> {
    match cmd {
        MilCommand::Train(a) => train_cmd(a, data_dir, device),
    }
}

fn train_cmd(a: &MilTrainArgs, data_dir: &Path, device: &burn::tensor::Device) -> Result<()> {
    let cfg = MilConfig {
        hidden: a.hidden,
        embed: a.embed,
        assoc: a.assoc,
        beta: a.beta,
        epochs: a.epochs,
        batch_size: a.batch_size,
        lr: a.lr,
        seed: a.seed,
    };
    cfg.validate()?;
    let spec = |bags| BagSpec { bags, min_size: a.min_bag_size, max_size: a.max_bag_size, target: a.target };
    let load = |split| crate::common::load_split(&a.data, split, data_dir);
    let (tr, te) = (load(hopfield_data::Split::Train)?, load(hopfield_data::Split::Test)?);
    let train_bags = make_bags(&tr, &spec(a.train_bags), a.seed).context("drawing the training bags")?;
    let test_bags = make_bags(&te, &spec(a.test_bags), a.seed.wrapping_add(1)).context("drawing the test bags")?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    println!(
        "MIL on {}: {} training bags ({:.1}% positive) from {} images, {} test bags ({:.1}% positive) from {}; \
         {}–{} images a bag, positive with a {}",
        a.data,
        train_bags.len(),
        100.0 * train_bags.positive_fraction(),
        tr.len(),
        test_bags.len(),
        100.0 * test_bags.positive_fraction(),
        te.len(),
        a.min_bag_size,
        a.max_bag_size,
        a.target
    );
    let poolings = match a.pooling {
        PoolingArg::Both => vec![Pooling::Hopfield, Pooling::Mean],
        PoolingArg::Hopfield => vec![Pooling::Hopfield],
        PoolingArg::Mean => vec![Pooling::Mean],
    };
    let mut csv = String::from("pooling,epoch,train_loss,test_accuracy,test_auc,seconds\n");
    let mut results: Vec<(Pooling, MilEpoch, f64)> = Vec::new();
    let (mut curves, mut written) = (Vec::new(), Vec::new());
    for pooling in poolings {
        let pb = crate::common::styled_bar(
            cfg.epochs as u64,
            "[{bar:30}] {prefix} epoch {pos}/{len} {msg} {elapsed_precise}",
        );
        pb.set_prefix(pooling.to_string());
        let started = std::time::Instant::now();
        let (model, history) = train_mil((&tr, &train_bags), (&te, &test_bags), pooling, &cfg, device, |e| {
            pb.set_position(e.epoch as u64);
            pb.set_message(format!("accuracy {:.2}%, AUC {:.4}", 100.0 * e.test_accuracy, e.test_auc));
            if e.epoch == 1 || e.epoch % 5 == 0 || e.epoch == cfg.epochs {
                pb.suspend(|| {
                    println!(
                        "{pooling:>8} epoch {:>3}: train loss {:.4} | test accuracy {:.2}% | AUC {:.4} | {:.2} s",
                        e.epoch,
                        e.train_loss,
                        100.0 * e.test_accuracy,
                        e.test_auc,
                        e.seconds
                    )
                });
            }
        })
        .map_err(|e| crate::common::with_hint(e, "lower --lr"))?;
        pb.finish_and_clear();
        for e in &history {
            csv += &format!(
                "{pooling},{},{:.6},{:.6},{:.6},{:.3}\n",
                e.epoch, e.train_loss, e.test_accuracy, e.test_auc, e.seconds
            );
        }
        let last = *history.last().expect("at least one epoch");
        results.push((pooling, last, started.elapsed().as_secs_f64()));
        if pooling == Pooling::Hopfield {
            let png = a.out.join("attention.png");
            write_instance_weights(&model, &te, &test_bags, 8, &png, device)?;
            written.push(png);
        }
        curves.push(Series {
            name: format!("{pooling} pooling"),
            points: history.iter().map(|e| (e.epoch as f64, e.test_auc)).collect(),
            color: curves.len(),
            mark: Mark::LinePoints,
        });
    }
    let auc_png = a.out.join("auc.png");
    LinePlot {
        title: format!("MIL on {}: test AUC ({} bags)", a.data, test_bags.len()),
        x_label: "epoch".into(),
        y_label: "test AUC".into(),
        log_x: false,
        log_y: false,
        series: curves,
        vlines: vec![],
        legend: Corner::LowerRight,
    }
    .write(&auc_png, (720, 480))?;
    written.push(auc_png);
    let csv_path = a.out.join("metrics.csv");
    crate::common::write_text(&csv_path, &csv)?;
    println!("after {} epochs, on the {} test bags:", cfg.epochs, test_bags.len());
    println!("  pooling   test accuracy   test AUC   seconds");
    for (pooling, e, seconds) in &results {
        println!("  {pooling:<8}  {:>12.2}%   {:>8.4}   {:>7.1}", 100.0 * e.test_accuracy, e.test_auc, seconds);
    }
    written.push(csv_path);
    for f in written {
        println!("  wrote {}", f.display());
    }
    Ok(())
}
