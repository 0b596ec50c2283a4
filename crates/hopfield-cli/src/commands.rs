//! The subcommands: each parses its flags into the library's configs, validates, runs, reports.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use hopfield::memory::{Separation, UpdateRule};
use hopfield_data::fetch::{fetch, remote_set, Progress};
use hopfield_data::source::default_data_dir;
use hopfield_data::{Builtin, DataSource, Dataset};
use hopfield_train::capacity::{self, CapacityConfig};
use hopfield_train::recall::{self, Corruption, MemoryKind, RecallConfig, RecallReport};
use indicatif::{ProgressBar, ProgressStyle};

use crate::{CapacityArgs, Cli, Command, DataArgs, DataCommand, MemoryArg, RecallArgs, RuleArg};

/// Dispatches a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let data_dir = cli.data_dir.clone().unwrap_or_else(default_data_dir);
    match cli.command {
        Command::Recall(a) => recall_cmd(&a, &data_dir),
        Command::Capacity(a) => capacity_cmd(&a),
        Command::Demo(a) => crate::demo::run(&a, &data_dir),
        Command::Data(DataCommand::Fetch { name, mirror }) => fetch_cmd(&name, mirror.as_deref(), &data_dir),
        Command::Data(DataCommand::Info { data }) => info_cmd(&data, &data_dir),
        Command::Bench(a) => crate::bench::run(&a),
        Command::Et(c) => crate::et::run(&c, &data_dir),
        Command::Dam(c) => crate::dam::run(&c, &data_dir),
        Command::Mil(c) => crate::mil::run(&c, &data_dir),
    }
}

/// Loads the data set named by `a`.
pub fn load(a: &DataArgs, data_dir: &Path) -> Result<Dataset> {
    hopfield_data::load(&a.data, a.split, data_dir).with_context(|| format!("loading --data {}", a.data))
}

/// The separation function for a binary memory kind and degree.
pub fn separation(m: MemoryArg, n: u32) -> Result<Separation> {
    let s = match m {
        MemoryArg::Classical => Separation::Classical,
        MemoryArg::Poly => Separation::Polynomial { n },
        MemoryArg::RectPoly => Separation::RectifiedPolynomial { n },
        MemoryArg::Exp => Separation::Exponential,
        MemoryArg::Modern => {
            bail!("the modern Hopfield network is continuous: it has no binary separation function here")
        }
    };
    s.validate()?;
    Ok(s)
}

fn recall_config(a: &RecallArgs) -> Result<RecallConfig> {
    let memory = match a.memory {
        MemoryArg::Modern => MemoryKind::Modern { beta: a.beta },
        m => MemoryKind::Dense(separation(m, a.n)?),
    };
    Ok(RecallConfig {
        memory,
        patterns: a.patterns,
        corruption: if a.occlude { Corruption::Occlude } else { Corruption::Flip(a.flip) },
        queries: a.queries,
        show: a.show,
        seed: a.seed,
        max_steps: a.max_steps,
        rule: match a.rule {
            RuleArg::Async => UpdateRule::Asynchronous,
            RuleArg::Sync => UpdateRule::Synchronous,
        },
    })
}

/// Prints the summary of a recall run.
pub fn print_recall(r: &RecallReport, files: &[PathBuf], secs: f64) {
    println!(
        "{}: N = {}, K = {}, {} queries: retrieved exactly {}/{} = {:.3}; mean overlap {:.4} (cues {:.4}); {:.1} s",
        r.memory,
        r.neurons,
        r.patterns,
        r.results.len(),
        r.results.iter().filter(|q| q.exact).count(),
        r.results.len(),
        r.exact_fraction(),
        r.mean_overlap(),
        r.mean_cue_overlap(),
        secs
    );
    for f in files {
        println!("  wrote {}", f.display());
    }
}

fn recall_cmd(a: &RecallArgs, data_dir: &Path) -> Result<()> {
    let cfg = recall_config(a)?;
    let ds = load(&a.data, data_dir)?;
    recall::validate(&ds, &cfg)?;
    let t = Instant::now();
    let report = recall::recall(&ds, &cfg)?;
    let files = recall::write_outputs(&report, &a.out, "")?;
    print_recall(&report, &files, t.elapsed().as_secs_f64());
    Ok(())
}

/// A progress bar over `total` steps.
pub fn bar(total: u64, what: &str) -> ProgressBar {
    let pb = styled_bar(total, "{msg} [{bar:30}] {pos}/{len} {elapsed_precise}");
    pb.set_message(what.to_string());
    pb
}

/// A progress bar over `total` steps drawn with an indicatif `template`.
pub fn styled_bar(total: u64, template: &str) -> ProgressBar {
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()).progress_chars("=> "),
    );
    pb
}

/// Writes `text` to `path` (a CSV of metrics), naming the file in the error.
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Builds the capacity config from flags.
pub fn capacity_config(a: &CapacityArgs) -> Result<CapacityConfig> {
    let separations = match a.memory {
        MemoryArg::Poly | MemoryArg::RectPoly => {
            if a.n.is_empty() {
                bail!("--n needs at least one degree");
            }
            a.n.iter().map(|&n| separation(a.memory, n)).collect::<Result<Vec<_>>>()?
        }
        MemoryArg::Modern => {
            bail!("capacity sweeps binary memories: choose --memory classical, poly, rect-poly or exp")
        }
        m => vec![separation(m, 2)?],
    };
    let cfg = CapacityConfig {
        separations,
        neurons: a.neurons,
        loads: a.loads.clone(),
        trials: a.trials,
        probes: a.probes,
        seed: a.seed,
    };
    capacity::validate(&cfg)?;
    Ok(cfg)
}

/// Runs a capacity sweep with a progress bar and prints its table; returns the points and files.
pub fn run_capacity(cfg: &CapacityConfig, out: &Path) -> Result<(Vec<capacity::CapacityPoint>, Vec<PathBuf>)> {
    let total: usize = cfg
        .separations
        .iter()
        .map(|&s| cfg.loads.as_ref().map(|l| l.len()).unwrap_or_else(|| capacity::auto_loads(s, cfg.neurons).len()))
        .sum();
    let pb = bar(total as u64, "capacity");
    let points = capacity::sweep(cfg, |done, _| pb.set_position(done as u64))?;
    pb.finish_and_clear();
    println!(
        "{:<16} {:>7} {:>7} {:>11} {:>11} {:>9} {:>9}",
        "memory", "K", "K/N", "P(flip)", "theory", "exact", "≥97%"
    );
    for p in &points {
        println!(
            "{:<16} {:>7} {:>7.3} {:>11.3e} {:>11} {:>9.3} {:>9.3}",
            capacity::label(p.separation),
            p.memories,
            p.memories as f64 / p.neurons as f64,
            p.flip_probability,
            p.flip_theory.map(|t| format!("{t:.3e}")).unwrap_or_else(|| "-".into()),
            p.retrieved_exact,
            p.retrieved_approx
        );
    }
    for &s in &cfg.separations {
        let pts: Vec<_> = points.iter().filter(|p| p.separation == s).cloned().collect();
        match capacity::estimated_capacity(&pts) {
            Some(k) => println!(
                "{}: half the patterns stay within 97% overlap up to K ≈ {k:.1} = {:.3} N",
                capacity::label(s),
                k / cfg.neurons as f64
            ),
            None => println!(
                "{}: every measured load was retrieved (raise --loads to find the capacity)",
                capacity::label(s)
            ),
        }
    }
    let files = capacity::write_outputs(&points, cfg, out)?;
    for f in &files {
        println!("  wrote {}", f.display());
    }
    Ok((points, files))
}

fn capacity_cmd(a: &CapacityArgs) -> Result<()> {
    let cfg = capacity_config(a)?;
    run_capacity(&cfg, &a.out)?;
    Ok(())
}

struct Bar(Option<ProgressBar>);
impl Progress for Bar {
    fn start(&mut self, file: &str, total: Option<u64>) {
        let pb = styled_bar(total.unwrap_or(0), "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}");
        pb.set_message(file.to_string());
        self.0 = Some(pb);
    }
    fn advance(&mut self, bytes: u64) {
        if let Some(pb) = &self.0 {
            pb.inc(bytes);
        }
    }
    fn finish(&mut self) {
        if let Some(pb) = self.0.take() {
            pb.finish();
        }
    }
}

fn fetch_cmd(name: &str, mirror: Option<&str>, data_dir: &Path) -> Result<()> {
    let source: DataSource = name.parse().map_err(anyhow::Error::msg)?;
    let set = match source {
        DataSource::Builtin(b @ (Builtin::Mnist | Builtin::FashionMnist | Builtin::Cifar10)) => remote_set(b),
        DataSource::Builtin(b) => bail!("'{}' is bundled with hopfield; there is nothing to fetch", b.name()),
        DataSource::Path(_) => None,
    }
    .with_context(|| format!("unknown data set '{name}': fetch knows mnist, fashion-mnist and cifar10"))?;
    let dir = fetch(&set, data_dir, mirror, &mut Bar(None))?;
    println!("{} is in {} (checksums verified)", set.name, dir.display());
    Ok(())
}

fn info_cmd(a: &DataArgs, data_dir: &Path) -> Result<()> {
    let ds = load(a, data_dir)?;
    let mut counts = vec![0usize; ds.class_names().len()];
    ds.labels().iter().for_each(|&l| counts[l as usize] += 1);
    println!(
        "{}: {} images of {}×{}×{} (channels × height × width)",
        ds.name(),
        ds.len(),
        ds.channels(),
        ds.height(),
        ds.width()
    );
    for (c, n) in ds.class_names().iter().zip(&counts) {
        println!("  {c}: {n}");
    }
    Ok(())
}
