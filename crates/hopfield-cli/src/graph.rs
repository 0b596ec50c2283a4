//! `hopfield graph …`: the Energy Transformer on graphs — graph classification by 10-fold
//! cross-validation and supervised node anomaly detection — each beside a structure-blind MLP
//! trained on the same splits in the same run.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use burn::tensor::Device;
use clap::{Args, Subcommand, ValueEnum};
use hopfield::et::Descent;
use hopfield_data::graph::anomaly::{self, AnomalyGraph};
use hopfield_data::graph::tu::{self, read_folds, stratified_folds, write_folds, Folds, GraphSet, NodeFeatures};
use hopfield_train::pictures::graph::{write_graph_attention, write_score_histogram, GraphPanel};
use hopfield_train::tasks::graph::anomaly::{run_anomaly, split_nodes, AnomalyEpoch, EgoSettings};
use hopfield_train::tasks::graph::classify::{run_fold, validation_split, ClassifyEpoch, GraphData};
use hopfield_train::tasks::graph::{make_batch, GraphModel, GraphSettings, ModelKind, PreparedGraph};
use hopfield_train::trainer::Event;

#[derive(Subcommand, Debug)]
pub enum GraphCommand {
    /// Graph classification (TU sets): 10-fold cross-validation, the epoch chosen on a stratified
    /// 10% of each training part, mean ± std of the test-fold accuracy; ET and MLP on the same folds.
    Classify(ClassifyArgs),
    /// Supervised node anomaly detection: stratified train/validation/test split, class-weighted
    /// loss, threshold chosen on validation; ROC-AUC, AUPRC and macro-F1 over several seeds.
    Anomaly(AnomalyArgs),
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
}

impl ModelsArg {
    fn kinds(self) -> Vec<ModelKind> {
        match self {
            ModelsArg::Both => vec![ModelKind::Et, ModelKind::Mlp],
            ModelsArg::Et => vec![ModelKind::Et],
            ModelsArg::Mlp => vec![ModelKind::Mlp],
        }
    }
}

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
    #[arg(long, default_value_t = GraphSettings::default().descent.step_size, allow_negative_numbers = true)]
    pub step_size: f64,
    /// k, Laplacian positional encodings per node (0: none).
    #[arg(long, default_value_t = GraphSettings::default().encodings)]
    pub encodings: usize,
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
}

impl Default for ModelArgs {
    /// The command line's defaults.
    fn default() -> Self {
        let s = GraphSettings::default();
        ModelArgs {
            models: ModelsArg::Both,
            dim: s.dim,
            heads: s.heads,
            head_dim: s.head_dim,
            memories: s.memories,
            steps: s.descent.steps,
            step_size: s.descent.step_size,
            encodings: s.encodings,
            self_loops: s.self_loops,
            edge_weights: s.edge_weights,
            lr: s.lr,
            weight_decay: s.weight_decay,
            batch_size: s.batch_size,
        }
    }
}

impl ModelArgs {
    fn settings(&self, epochs: usize, seed: u64) -> Result<GraphSettings> {
        let s = GraphSettings {
            dim: self.dim,
            heads: self.heads,
            head_dim: self.head_dim,
            memories: self.memories,
            descent: Descent::new(self.steps, self.step_size),
            encodings: self.encodings,
            self_loops: self.self_loops,
            edge_weights: self.edge_weights,
            epochs,
            batch_size: self.batch_size,
            lr: self.lr,
            weight_decay: self.weight_decay,
            seed,
        };
        s.validate()?;
        Ok(s)
    }
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

/// A progress bar over a run's training examples with the epoch, the loss and the examples a second.
struct RateBar {
    pb: indicatif::ProgressBar,
    started: std::time::Instant,
    steps: u64,
    unit: &'static str,
}

impl RateBar {
    fn new(total: u64, prefix: String, unit: &'static str) -> Self {
        let pb = crate::common::styled_bar(total, "[{bar:30}] {prefix} {msg} {elapsed_precise}");
        pb.set_prefix(prefix);
        RateBar { pb, started: std::time::Instant::now(), steps: 0, unit }
    }

    fn on<E>(&mut self, e: Event<'_, E>) {
        if let Event::Batch { epoch, done, total, loss } = e {
            self.steps += 1;
            self.pb.set_position(((epoch - 1) * total + done) as u64);
            if self.steps % 4 == 1 {
                let rate = self.pb.position() as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
                self.pb.set_message(format!("epoch {epoch}, loss {loss:.3}, {rate:.0} {}", self.unit));
            }
        }
    }

    fn finish(self) {
        self.pb.finish_and_clear();
    }
}

/// Runs a `graph` subcommand on `device`.
pub fn run(cmd: &GraphCommand, data_dir: &Path, device: &Device) -> Result<()> {
    match cmd {
        GraphCommand::Classify(a) => classify(a, data_dir, device),
        GraphCommand::Anomaly(a) => anomaly_cmd(a, data_dir, device),
    }
}

/// The TU set `data` names, and the folder it came from (None: bundled).
fn load_tu(data: &str, data_dir: &Path) -> Result<(GraphSet, Option<PathBuf>)> {
    let as_path = Path::new(data);
    if as_path.is_dir() {
        return Ok((tu::load(as_path, None)?, Some(as_path.to_path_buf())));
    }
    let under = data_dir.join("tu").join(data);
    if under.is_dir() {
        return Ok((tu::load(&under, None)?, Some(under)));
    }
    if data.eq_ignore_ascii_case("MUTAG") {
        return Ok((tu::bundled_mutag()?, None));
    }
    bail!(
        "graph set '{data}' not found: it is not a folder, and {} does not exist; pass --data with the folder of \
         its TU files (DS_A.txt, DS_graph_indicator.txt, DS_graph_labels.txt, …), or --data MUTAG for the bundled set",
        under.display()
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

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 { v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    (m, var.sqrt())
}

/// Runs `graph classify`.
pub fn classify(a: &ClassifyArgs, data_dir: &Path, device: &Device) -> Result<()> {
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
        attention_picture(&model, &pdata, &test, &set, &settings, &png, device)?;
        written.push(png);
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

/// Four test graphs of the first fold (two of each of the first two classes where possible), nodes
/// coloured by the CLS attention after the descent, and their energy traces.
fn attention_picture(
    model: &GraphModel,
    data: &GraphData,
    test: &[usize],
    set: &GraphSet,
    settings: &GraphSettings,
    png: &Path,
    device: &Device,
) -> Result<()> {
    let GraphModel::Et(et) = model else { return Ok(()) };
    let mut pick: Vec<usize> = Vec::new();
    for c in 0..2 {
        pick.extend(test.iter().copied().filter(|&g| set.labels[g] == c).take(2));
    }
    if pick.is_empty() {
        return Ok(());
    }
    let graphs: Vec<&PreparedGraph> = pick.iter().map(|&g| &data.graphs[g]).collect();
    let b = make_batch(&graphs, data.width, data.k, data.edge_labels, None, device);
    let out = et.forward(b, &settings.descent, hopfield::et::Observe::Energy)?;
    let n = out.tokens.dims()[1] - 1;
    let att = et.cls_attention(&out).into_data().try_into_vec_as::<f64>().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let logits = out.logits.clone().into_data().try_into_vec_as::<f64>().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let c = data.classes;
    let energy: Vec<Vec<f64>> =
        out.energy.iter().map(|e| e.clone().into_data().try_into_vec_as::<f64>().unwrap_or_default()).collect();
    let mut panels = Vec::new();
    let mut traces = Vec::new();
    for (i, &g) in pick.iter().enumerate() {
        let z = &logits[i * c..(i + 1) * c];
        let pred = z.iter().enumerate().fold((0, f64::MIN), |b, (j, &v)| if v > b.1 { (j, v) } else { b }).0;
        let title =
            format!("graph {} (class {}, predicted {})", g, set.class_values[set.labels[g]], set.class_values[pred]);
        panels.push(GraphPanel {
            title,
            nodes: graphs[i].nodes,
            edges: graphs[i].edges.clone(),
            values: att[i * n..i * n + graphs[i].nodes].to_vec(),
        });
        traces.push((format!("graph {g}"), energy.iter().map(|e| e.get(i).copied().unwrap_or(f64::NAN)).collect()));
    }
    write_graph_attention(
        &panels,
        &traces,
        &format!("{}: attention of the CLS token to each node (dark = most), fold 1 test graphs", set.name),
        png,
    )?;
    Ok(())
}

fn load_anomaly(data: &str, data_dir: &Path) -> Result<AnomalyGraph> {
    let as_path = Path::new(data);
    if as_path.is_dir() {
        return Ok(anomaly::load(as_path)?);
    }
    let under = data_dir.join("graph-anomaly").join(data);
    if under.is_dir() {
        return Ok(anomaly::load(&under)?);
    }
    bail!(
        "anomaly graph '{data}' not found: it is not a folder, and {} does not exist; pass --data with the folder \
         holding edges.txt, labels.txt and features.csv or features_coo.txt",
        under.display()
    )
}

fn anomaly_cmd(a: &AnomalyArgs, data_dir: &Path, device: &Device) -> Result<()> {
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
        let labels: Vec<bool> = split.test.iter().map(|&c| adata.labels[c as usize]).collect();
        let normal: Vec<f64> = o.test_scores.iter().zip(&labels).filter(|(_, &l)| !l).map(|(s, _)| *s).collect();
        let anom: Vec<f64> = o.test_scores.iter().zip(&labels).filter(|(_, &l)| l).map(|(s, _)| *s).collect();
        let mut traces = Vec::new();
        if let GraphModel::Et(_) = &o.model {
            for (name, want) in [("normal test nodes (mean)", false), ("anomalous test nodes (mean)", true)] {
                let centres: Vec<u32> =
                    split.test.iter().copied().filter(|&c| adata.labels[c as usize] == want).take(16).collect();
                let graphs: Vec<PreparedGraph> =
                    centres.iter().map(|&c| adata.fixed(c, ego, settings0.encodings, 0)).collect();
                let refs: Vec<&PreparedGraph> = graphs.iter().collect();
                let b =
                    make_batch(&refs, adata.dim, settings0.encodings, settings0.edge_weights as usize, None, device);
                if let Some(out) = o.model.observe(b, &settings0.descent)? {
                    let trace = out
                        .energy
                        .iter()
                        .map(|e| {
                            let v = e.clone().into_data().try_into_vec_as::<f64>().unwrap_or_default();
                            v.iter().sum::<f64>() / v.len().max(1) as f64
                        })
                        .collect();
                    traces.push((name.to_string(), trace));
                }
            }
        }
        write_score_histogram(
            &normal,
            &anom,
            &traces,
            &format!("{}: ET anomaly scores of the test nodes (seed 0, AUC {:.3})", graph.name, o.test_auc),
            &png,
        )?;
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
