//! `hopfield graph classify`: 10-fold cross-validation on a TU set, the epoch of each fold chosen
//! on a stratified 10% of its training part, the test fold measured once; ET and MLP on the same
//! folds, a table, `folds.csv`, `metrics.csv` and `attention.png`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use burn::tensor::Device;
use clap::{Args, ValueEnum};
use hopfield_data::graph::tu::{self, read_folds, stratified_folds, write_folds, Folds, GraphSet, NodeFeatures};
use hopfield_train::pictures::graph::write_fold_attention;
use hopfield_train::tasks::graph::classify::{run_fold, validation_split, ClassifyEpoch, GraphData};
use hopfield_train::tasks::graph::ModelKind;

use super::{find, mean_std, ModelArgs, RateBar};

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
    #[arg(long, default_value_t = 32)]
    pub degree_cap: usize,
    /// Share of each training part held out (stratified) to choose the epoch.
    #[arg(long, default_value_t = 0.1)]
    pub validation: f64,
    /// Passes over each training part.
    #[arg(long, default_value_t = 60)]
    pub epochs: usize,
    /// Seed of the folds (when drawn), the validation parts, the weights and the batch order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Folder for folds.csv, metrics.csv, folds.txt and attention.png (created if missing).
    #[arg(long, default_value = "out/graph-classify")]
    pub out: PathBuf,
}

/// The TU set `data` names, and the folder it came from (None: bundled).
fn load_tu(data: &str, data_dir: &Path) -> Result<(GraphSet, Option<PathBuf>)> {
    if let Some(dir) = find(data, data_dir, "tu") {
        return Ok((tu::load(&dir, None)?, Some(dir)));
    }
    if data.eq_ignore_ascii_case("MUTAG") {
        return Ok((tu::bundled_mutag()?, None));
    }
    bail!(
        "graph set '{data}' not found: it is not a folder, and {} does not exist; pass --data with the folder of \
         its TU files (DS_A.txt, DS_graph_indicator.txt, DS_graph_labels.txt, …), or --data MUTAG for the bundled set",
        data_dir.join("tu").join(data).display()
    )
}

fn features(a: &ClassifyArgs, set: &GraphSet) -> NodeFeatures {
    match a.features {
        FeaturesArg::Auto => set.default_features(),
        FeaturesArg::Labels => NodeFeatures::Labels,
        FeaturesArg::Attributes => NodeFeatures::Attributes,
        FeaturesArg::Both => NodeFeatures::LabelsAndAttributes,
        FeaturesArg::Degree => NodeFeatures::Degree { max: a.degree_cap },
    }
}

/// Runs `graph classify`.
pub fn run(a: &ClassifyArgs, data_dir: &Path, device: &Device) -> Result<()> {
    if !(a.validation > 0.0 && a.validation <= 0.5) {
        bail!("invalid --validation {}: a share of the training part in (0, 0.5]", a.validation);
    }
    if a.max_folds == Some(0) {
        bail!("invalid --max-folds 0: at least one fold");
    }
    if a.degree_cap == 0 {
        bail!("invalid --degree-cap 0: the largest degree with its own column is at least 1");
    }
    let settings = a.model.settings(a.epochs, a.seed)?;
    let (set, dir) = load_tu(&a.data, data_dir)?;
    let kind = features(a, &set);
    let data = GraphData::new(&set, kind, settings.encodings, settings.edge_weights)?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let given = dir.as_ref().map(|d| d.join(format!("{}_10fold_test_idx.txt", set.name))).filter(|p| p.is_file());
    let (folds, folds_from): (Folds, String) = match (&a.folds, given) {
        (Some(p), _) => (read_folds(p, set.graphs.len())?, p.display().to_string()),
        (None, Some(p)) => (read_folds(&p, set.graphs.len())?, p.display().to_string()),
        (None, None) => {
            let f = stratified_folds(&set.labels, 10, a.seed);
            let p = a.out.join("folds.txt");
            write_folds(&p, &f)?;
            (f, format!("10 stratified folds from seed {} (written to {})", a.seed, p.display()))
        }
    };
    let n_folds = a.max_folds.map_or(folds.test.len(), |m| m.clamp(1, folds.test.len()));
    let counts = set.class_counts();
    let majority = *counts.iter().max().unwrap_or(&0) as f64 / set.graphs.len() as f64;
    println!(
        "{}: {} graphs, {} nodes ({:.1} a graph, at most {}), classes {:?} ({:?} graphs; majority {:.1}%); \
         features {:?} ({} per node), {} Laplacian encodings",
        set.name,
        set.graphs.len(),
        set.node_count(),
        set.node_count() as f64 / set.graphs.len() as f64,
        set.graphs.iter().map(|g| g.nodes).max().unwrap_or(0),
        set.class_values,
        counts,
        100.0 * majority,
        kind,
        data.width,
        settings.encodings
    );
    println!("folds: {folds_from}; running {n_folds} of {}", folds.test.len());
    let mut folds_csv =
        String::from("fold,model,train_graphs,val_graphs,test_graphs,best_epoch,val_accuracy,test_accuracy,seconds\n");
    let mut metrics =
        format!("model,fold,{}\n", <ClassifyEpoch as hopfield_train::trainer::EpochFigures>::csv_header());
    let mut results: Vec<(ModelKind, Vec<f64>, f64)> =
        a.model.models.kinds().into_iter().map(|k| (k, vec![], 0.0)).collect();
    let mut picture = None;
    let started = std::time::Instant::now();
    for k in 0..n_folds {
        let train = folds.train(k, set.graphs.len());
        let (fit, val) = validation_split(&train, &set.labels, a.validation, a.seed.wrapping_add(k as u64));
        let test = &folds.test[k];
        for (model_kind, accs, secs) in results.iter_mut() {
            let mut bar = RateBar::new(
                (settings.epochs * fit.len()) as u64,
                format!("fold {}/{n_folds} {model_kind}", k + 1),
                "graphs/s",
            );
            let outcome = run_fold(&data, &fit, &val, test, *model_kind, &settings, device, |e| bar.on(e))
                .map_err(|e| crate::common::with_hint(e, "lower --lr or --step-size"))?;
            bar.finish();
            println!(
                "fold {:>2} {:<3}: epoch {:>3} chosen on validation ({:.1}% of {}), test accuracy {:.1}% of {} \
                 graphs, {:.1} s ({:.0} graphs/s)",
                k + 1,
                model_kind,
                outcome.best_epoch,
                100.0 * outcome.val_accuracy,
                val.len(),
                100.0 * outcome.test_accuracy,
                test.len(),
                outcome.seconds,
                (settings.epochs * fit.len()) as f64 / outcome.history.iter().map(|h| h.seconds).sum::<f64>().max(1e-9)
            );
            folds_csv += &format!(
                "{},{model_kind},{},{},{},{},{:.6},{:.6},{:.2}\n",
                k + 1,
                fit.len(),
                val.len(),
                test.len(),
                outcome.best_epoch,
                outcome.val_accuracy,
                outcome.test_accuracy,
                outcome.seconds
            );
            for h in &outcome.history {
                metrics += &format!("{model_kind},{},{}\n", k + 1, hopfield_train::trainer::EpochFigures::csv_row(h));
            }
            accs.push(outcome.test_accuracy);
            *secs += outcome.seconds;
            if k == 0 && *model_kind == ModelKind::Et {
                picture = Some((outcome.model, outcome.data, test.clone()));
            }
        }
    }
    let folds_path = a.out.join("folds.csv");
    crate::common::write_text(&folds_path, &folds_csv)?;
    let metrics_path = a.out.join("metrics.csv");
    crate::common::write_text(&metrics_path, &metrics)?;
    let mut written = vec![folds_path, metrics_path];
    if let Some((model, pdata, test)) = picture {
        let png = a.out.join("attention.png");
        let title = format!("{}: attention of the CLS token to each node (dark = most), fold 1 test graphs", set.name);
        if write_fold_attention(&model, &pdata, &test, &set.class_values, &settings, &title, &png, device)? {
            written.push(png);
        }
    }
    println!(
        "\n{} {n_folds}-fold test accuracy (model chosen on validation; majority class {:.1}%), {:.0} s in all:",
        set.name,
        100.0 * majority,
        started.elapsed().as_secs_f64()
    );
    println!("  model   mean ± std (%)   folds   seconds");
    for (m, accs, secs) in &results {
        let (mu, sd) = mean_std(accs);
        println!("  {m:<5}  {:>6.1} ± {:<6.1}   {:>5}   {:>7.1}", 100.0 * mu, 100.0 * sd, accs.len(), secs);
    }
    for f in written {
        println!("  wrote {}", f.display());
    }
    Ok(())
}
