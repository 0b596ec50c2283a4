//! `hopfield graph anomaly`: supervised node anomaly detection on one graph, each node classified
//! from its ego-graph; stratified splits per seed, class-weighted loss, epoch and threshold chosen
//! on validation; ROC-AUC, AUPRC and macro-F1 of ET and MLP over the seeds, `runs.csv`,
//! `metrics.csv` and `scores.png`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use burn::tensor::Device;
use clap::Args;
use hopfield_data::graph::anomaly::{self, AnomalyGraph};
use hopfield_train::pictures::graph::write_anomaly_scores;
use hopfield_train::tasks::graph::anomaly::{run_anomaly, split_nodes, AnomalyEpoch, EgoSettings};
use hopfield_train::tasks::graph::{GraphSettings, ModelKind};

use super::{find, mean_std, ModelArgs, RateBar};

#[derive(Args, Debug)]
pub struct AnomalyArgs {
    /// reddit, books, disney, enron or inj_cora under <data-dir>/graph-anomaly/, or a folder with
    /// edges.txt, labels.txt and features.csv or features_coo.txt (plain or .gz).
    #[arg(long)]
    pub data: String,
    /// Share of each class's nodes to train on (0.4; 0.01 for the low-label setting); the rest is
    /// split 1:2 into validation and test.
    #[arg(long, default_value_t = 0.4)]
    pub train_fraction: f64,
    /// Seeds (splits and weights): 0, 1, …
    #[arg(long, default_value_t = 5)]
    pub seeds: u64,
    /// Hops of each node's ego-graph.
    #[arg(long, default_value_t = 2)]
    pub hops: usize,
    /// Most nodes of an ego-graph, the centre included.
    #[arg(long, default_value_t = 32)]
    pub budget: usize,
    /// Passes over the training nodes.
    #[arg(long, default_value_t = 20)]
    pub epochs: usize,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Folder for runs.csv, metrics.csv and scores.png (created if missing).
    #[arg(long, default_value = "out/graph-anomaly")]
    pub out: PathBuf,
}

fn load_anomaly(data: &str, data_dir: &Path) -> Result<AnomalyGraph> {
    match find(data, data_dir, "graph-anomaly") {
        Some(dir) => Ok(anomaly::load(&dir)?),
        None => bail!(
            "anomaly graph '{data}' not found: it is not a folder, and {} does not exist; pass --data with the \
             folder holding edges.txt, labels.txt and features.csv or features_coo.txt",
            data_dir.join("graph-anomaly").join(data).display()
        ),
    }
}

/// Runs `graph anomaly`.
pub fn run(a: &AnomalyArgs, data_dir: &Path, device: &Device) -> Result<()> {
    if a.seeds == 0 {
        bail!("invalid --seeds 0: at least one seed");
    }
    if a.budget == 0 {
        bail!("invalid --budget 0: an ego-graph holds at least its centre");
    }
    let settings0 = a.model.settings(a.epochs, 0)?;
    let graph = load_anomaly(&a.data, data_dir)?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    println!(
        "{}: {} nodes, {} edge lines, {} features, {} anomalies ({:.2}%); train {:.0}% of each class, \
         the rest 1:2 validation:test; ego-graphs of {} hops, at most {} nodes",
        graph.name,
        graph.nodes,
        graph.edges.len(),
        graph.dim,
        graph.anomalies(),
        100.0 * graph.anomalies() as f64 / graph.nodes as f64,
        100.0 * a.train_fraction,
        a.hops,
        a.budget
    );
    let ego = EgoSettings { hops: a.hops, budget: a.budget };
    let mut runs = String::from(
        "seed,model,train_nodes,val_nodes,test_nodes,best_epoch,threshold,test_auc,test_auprc,test_macro_f1,seconds\n",
    );
    let mut metrics = format!("model,seed,{}\n", <AnomalyEpoch as hopfield_train::trainer::EpochFigures>::csv_header());
    let kinds = a.model.models.kinds();
    let mut figures: Vec<(ModelKind, Vec<[f64; 3]>, f64)> = kinds.iter().map(|&k| (k, vec![], 0.0)).collect();
    let mut picture = None;
    for seed in 0..a.seeds {
        let split = split_nodes(&graph.anomalous(), a.train_fraction, seed)?;
        let settings = GraphSettings { seed, ..settings0.clone() };
        for (kind, figs, secs) in figures.iter_mut() {
            let mut bar = RateBar::new(
                (settings.epochs * split.train.len()) as u64,
                format!("seed {}/{} {kind}", seed + 1, a.seeds),
                "nodes/s",
            );
            let (o, adata) = run_anomaly(&graph, &split, *kind, ego, &settings, device, |e| bar.on(e))
                .map_err(|e| crate::common::with_hint(e, "lower --lr or --step-size"))?;
            bar.finish();
            println!(
                "seed {seed} {kind:<3}: epoch {:>3} chosen on validation; test ROC-AUC {:.4}, AUPRC {:.4}, macro-F1 {:.4} \
                 (threshold {:.3}); {:.1} s",
                o.best_epoch, o.test_auc, o.test_auprc, o.test_macro_f1, o.threshold, o.seconds
            );
            runs += &format!(
                "{seed},{kind},{},{},{},{},{:.6},{:.6},{:.6},{:.6},{:.2}\n",
                split.train.len(),
                split.val.len(),
                split.test.len(),
                o.best_epoch,
                o.threshold,
                o.test_auc,
                o.test_auprc,
                o.test_macro_f1,
                o.seconds
            );
            for h in &o.history {
                metrics += &format!("{kind},{seed},{}\n", hopfield_train::trainer::EpochFigures::csv_row(h));
            }
            figs.push([o.test_auc, o.test_auprc, o.test_macro_f1]);
            *secs += o.seconds;
            if seed == 0 && *kind == ModelKind::Et {
                picture = Some((o, adata, split.clone()));
            }
        }
    }
    let runs_path = a.out.join("runs.csv");
    crate::common::write_text(&runs_path, &runs)?;
    let metrics_path = a.out.join("metrics.csv");
    crate::common::write_text(&metrics_path, &metrics)?;
    let mut written = vec![runs_path, metrics_path];
    if let Some((o, adata, split)) = picture {
        let png = a.out.join("scores.png");
        let title = format!("{}: ET anomaly scores of the test nodes (seed 0, AUC {:.3})", graph.name, o.test_auc);
        write_anomaly_scores(&o, &adata, &split, ego, &settings0, &title, &png, device)?;
        written.push(png);
    }
    println!(
        "\n{} node anomaly detection, {:.0}% of each class for training, test figures over {} seeds (mean ± std):",
        graph.name,
        100.0 * a.train_fraction,
        a.seeds
    );
    println!("  model   ROC-AUC           AUPRC             macro-F1          seconds");
    for (m, figs, secs) in &figures {
        let col = |i: usize| mean_std(&figs.iter().map(|f| f[i]).collect::<Vec<_>>());
        let ((a1, s1), (a2, s2), (a3, s3)) = (col(0), col(1), col(2));
        println!("  {m:<5}  {a1:.4} ± {s1:.4}   {a2:.4} ± {s2:.4}   {a3:.4} ± {s3:.4}   {secs:>7.1}");
    }
    for f in written {
        println!("  wrote {}", f.display());
    }
    Ok(())
}
