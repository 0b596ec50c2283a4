//! `hopfield dam …`: the Dense Associative Memory classifier of Krotov & Hopfield (2016):
//! [`train`] (through the library's `experiments::dam`), [`eval`] (a checkpoint's error and its
//! memories as a picture).

mod eval;
mod train;

use std::path::Path;

use anyhow::Result;
use clap::Subcommand;

pub use eval::{DamEvalArgs, DamMemoriesArgs};
pub use train::DamTrainArgs;

#[derive(Subcommand, Debug)]
pub enum DamCommand {
    /// Train on a data set's train split with the paper's recipe; test error every epoch,
    /// metrics.csv, a checkpoint after every epoch, the memories picture and errors.png.
    Train(DamTrainArgs),
    /// Test error of a checkpoint (or, with --split train, its training error).
    Eval(DamEvalArgs),
    /// A PNG grid of a checkpoint's memories as images.
    Memories(DamMemoriesArgs),
}

pub fn run(cmd: &DamCommand, data_dir: &Path) -> Result<()> {
    match cmd {
        DamCommand::Train(a) => train::run(a, data_dir),
        DamCommand::Eval(a) => eval::eval(a, data_dir),
        DamCommand::Memories(a) => eval::memories(a),
    }
}
