//! Running a protocol with progress bars and printing its report: what several subcommands and
//! the demo share. Imports no subcommand.

use std::path::{Path, PathBuf};

use anyhow::Result;
use burn::tensor::Device;
use hopfield_train::experiments::capacity::{self, CapacityConfig};
use hopfield_train::experiments::et_image::{self, ImageData, RunFiles};
use hopfield_train::experiments::graph_cv::{self, FoldOrigin, FoldResult, GraphCvConfig, GraphCvData};
use hopfield_train::experiments::recall::RecallReport;
use hopfield_train::experiments::resume::Checkpointing;
use hopfield_train::experiments::Progress;
use hopfield_train::tasks::masked_image::checkpoint::Resume;
use hopfield_train::tasks::masked_image::{EpochMetrics, EtTrainConfig};

use crate::common::{bar, describe_splits, with_hint};

/// The progress bar of each run of a protocol: the epoch, the loss and the examples a second;
/// when a run finishes, its line (from `line`) is printed.
pub(crate) struct RunBars<R> {
    pb: Option<indicatif::ProgressBar>,
    steps: u64,
    line: fn(&R) -> String,
}

impl<R> RunBars<R> {
    pub(crate) fn new(line: fn(&R) -> String) -> Self {
        RunBars { pb: None, steps: 0, line }
    }

    pub(crate) fn on<E>(&mut self, e: Progress<'_, E, R>) {
        match e {
            Progress::Started(run) => {
                if let Some(pb) = self.pb.take() {
                    pb.finish_and_clear();
                }
                let pb = crate::common::styled_bar(
                    (run.epochs * run.examples) as u64,
                    "[{bar:30}] {prefix} {msg} {elapsed_precise}",
                );
                pb.set_prefix(format!("{} {}/{} {}", run.unit, run.index, run.of, run.model));
                (self.pb, self.steps) = (Some(pb), 0);
            }
            Progress::Step { run, epoch, done, loss, per_second } => {
                self.steps += 1;
                if let Some(pb) = &self.pb {
                    pb.set_position(((epoch - 1) * run.examples + done) as u64);
                    if self.steps % 4 == 1 {
                        pb.set_message(format!(
                            "epoch {epoch}, loss {loss:.3}, {per_second:.0} {}/s",
                            run.example_unit
                        ));
                    }
                }
            }
            Progress::Epoch(..) => {}
            Progress::Finished(_, result) => {
                if let Some(pb) = self.pb.take() {
                    pb.finish_and_clear();
                }
                println!("{}", (self.line)(result));
            }
        }
    }
}

/// Runs a cross-validation with a progress bar per fold and model, prints what it does and its
/// table, and writes its files (and drawn folds) into `out`.
pub fn graph_cv(
    config: &GraphCvConfig,
    data: &GraphCvData,
    out: &Path,
    checkpointing: Option<&Checkpointing>,
    device: &Device,
) -> Result<()> {
    println!("{}; {}", data.describe(), graph_cv::describe_features(config, data)?);
    // A user's file of one of these names in the folder stops the run before it starts.
    hopfield_data::outputs::claim_all(out, graph_cv::GraphCvReport::OUTPUTS)?;
    // Drawn folds are written, so that the run can be repeated with --folds.
    let origin = match &data.origin {
        FoldOrigin::File(p) => p.display().to_string(),
        FoldOrigin::Drawn(seed) => {
            format!("10 stratified folds from seed {seed} (written to {})", data.write_folds(out)?.display())
        }
    };
    let total = data.folds.test.len();
    println!("folds: {origin}; running {} of {total}", config.folds_to_run(total));
    let folds = config.folds_to_run(total);
    if let Some(grid) = &config.select {
        println!("{}", grid.describe(&config.models, folds));
    }
    let mut bars = RunBars::new(FoldResult::line);
    let started = std::time::Instant::now();
    let last = config.models.last().copied();
    let observe = |e: Progress<'_, _, FoldResult>| {
        // With a grid, the estimate of the whole from its first fold.
        let first_fold_done = matches!(&e, Progress::Finished(_, r) if r.fold == 1 && Some(r.model) == last);
        bars.on(e);
        if first_fold_done && config.select.is_some() && folds > 1 {
            let secs = started.elapsed().as_secs_f64();
            println!(
                "fold 1 took {secs:.0} s: the {folds} folds will take about {:.0} min in all",
                secs * folds as f64 / 60.0
            );
        }
    };
    let report = graph_cv::run_resumable(config, data, device, observe, checkpointing)
        .map_err(|e| with_hint(e, "lower --lr or --step-size"))?;
    let written = report.write(out, device)?;
    println!("\n{}", report.table().trim_end());
    for f in written {
        println!("  wrote {}", f.display());
    }
    Ok(())
}

/// Prints the summary of a recall run.
pub fn print_recall(r: &RecallReport, files: &[PathBuf], secs: f64) {
    println!("{}; {secs:.1} s", r.summary());
    for f in files {
        println!("  wrote {}", f.display());
    }
}

/// Runs a capacity sweep with a progress bar and prints its table; returns the points and files.
pub fn capacity(cfg: &CapacityConfig, out: &Path) -> Result<(Vec<capacity::CapacityPoint>, Vec<PathBuf>)> {
    let pb = bar(capacity::jobs(cfg).len() as u64, "capacity");
    let points = capacity::sweep(cfg, |done, _| pb.set_position(done as u64))?;
    pb.finish_and_clear();
    print!("{}", capacity::table(&points, cfg));
    let files = capacity::write_outputs(&points, cfg, out)?;
    for f in &files {
        println!("  wrote {}", f.display());
    }
    Ok((points, files))
}

/// Prints one epoch's line of an ET image run.
pub fn print_epoch(m: &EpochMetrics) {
    println!(
        "epoch {:>3}: train loss {:.4} | test masked-patch MSE {:.4} (mean-patch baseline {:.4}, T = 0 {:.4}) | {:.0} images/s",
        m.epoch, m.train_loss, m.eval.mse, m.eval.mse_mean_patch, m.eval.mse_no_dynamics, m.images_per_second
    );
}

/// Trains the image ET with a progress bar per epoch (the library writes metrics.csv and the
/// checkpoint after every epoch, then the pictures); prints what it does and the files; returns
/// the figures of the epochs run here.
pub fn et_image(
    config: &EtTrainConfig,
    data: &ImageData,
    devices: &[Device],
    files: &RunFiles,
    resume: Option<Resume>,
) -> Result<Vec<EpochMetrics>> {
    println!(
        "training on {}, {} patches of {}, T = {}, α = {}",
        describe_splits(&data.name, &data.train, &data.test),
        config.model.patches(),
        config.model.patch_elements(),
        config.model.descent.steps,
        config.model.descent.step_size
    );
    if let Some(r) = &resume {
        println!("resuming after epoch {} of {}", r.epochs_done, config.epochs);
    }
    if devices.len() > 1 {
        let shares = hopfield_train::parallel::split(config.batch_size, devices.len());
        let shares: Vec<String> = shares.iter().map(|r| r.len().to_string()).collect();
        println!(
            "data-parallel on {} devices: {} images a step split {}",
            devices.len(),
            config.batch_size,
            shares.join(" + ")
        );
    }
    let pb = crate::common::styled_bar(
        data.train.len() as u64,
        "epoch {prefix} [{bar:30}] {pos}/{len} {msg} {elapsed_precise}",
    );
    let on = |e: Progress<'_, EpochMetrics, _>| match e {
        Progress::Step { epoch, done, loss, .. } => {
            pb.set_prefix(epoch.to_string());
            pb.set_position(done as u64);
            let rate = done as f64 / pb.elapsed().as_secs_f64().max(1e-9);
            pb.set_message(format!("loss {loss:.4}, {rate:.0} images/s"));
        }
        Progress::Epoch(_, m) => {
            pb.suspend(|| print_epoch(m));
            pb.reset();
        }
        Progress::Started(_) | Progress::Finished(..) => {}
    };
    let report = et_image::run(config, data, devices, files, resume, on)
        .map_err(|e| with_hint(e, "lower --lr or --step-size"))?;
    pb.finish_and_clear();
    println!("trained in {:.0} s", report.seconds);
    println!(
        "  wrote {} (model.safetensors, config.json, optimizer.bpk; after every epoch)",
        files.checkpoint.display()
    );
    for f in &report.files {
        println!("  wrote {}", f.display());
    }
    Ok(report.metrics)
}

/// The bar over a pooling's epochs, and a line at epoch 1, every fifth and the last.
pub fn mil_progress(pb: &mut Option<indicatif::ProgressBar>, e: hopfield_train::experiments::mil::Event<'_>) {
    match e {
        Progress::Started(run) => {
            let bar = crate::common::styled_bar(
                run.epochs as u64,
                "[{bar:30}] {prefix} epoch {pos}/{len} {msg} {elapsed_precise}",
            );
            bar.set_prefix(run.model.clone());
            *pb = Some(bar);
        }
        Progress::Epoch(run, e) => {
            let Some(pb) = pb else { return };
            pb.set_position(e.epoch as u64);
            pb.set_message(format!("accuracy {:.2}%, AUC {:.4}", 100.0 * e.test_accuracy, e.test_auc));
            if e.epoch == 1 || e.epoch % 5 == 0 || e.epoch == run.epochs {
                pb.suspend(|| {
                    println!(
                        "{:>8} epoch {:>3}: train loss {:.4} | test accuracy {:.2}% | AUC {:.4} | {:.2} s",
                        run.model,
                        e.epoch,
                        e.train_loss,
                        100.0 * e.test_accuracy,
                        e.test_auc,
                        e.seconds
                    )
                });
            }
        }
        Progress::Step { .. } => {}
        Progress::Finished(..) => {
            if let Some(pb) = pb.take() {
                pb.finish_and_clear();
            }
        }
    }
}
