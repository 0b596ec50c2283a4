//! `hopfield data …`: download full data sets, or describe one.

use std::path::Path;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use hopfield_data::fetch::{fetch, remote_set, Progress};
use hopfield_data::{Builtin, DataSource};
use indicatif::ProgressBar;

use crate::common::{load, styled_bar, DataArgs};

#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Download a full data set into --data-dir, verifying the published MD5 checksums.
    Fetch {
        /// mnist, fashion-mnist or cifar10.
        name: String,
        /// Base URL to download from instead of the published locations (a mirror).
        #[arg(long)]
        mirror: Option<String>,
    },
    /// Load a data set and print its size, shape and class counts.
    Info {
        #[command(flatten)]
        data: DataArgs,
    },
}

/// Runs a `data` subcommand.
pub fn run(cmd: &DataCommand, data_dir: &Path) -> Result<()> {
    match cmd {
        DataCommand::Fetch { name, mirror } => fetch_cmd(name, mirror.as_deref(), data_dir),
        DataCommand::Info { data } => info_cmd(data, data_dir),
    }
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
