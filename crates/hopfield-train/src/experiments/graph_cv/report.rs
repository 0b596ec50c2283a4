//! The report of a cross-validation: its log lines, table, CSVs and picture.

use std::path::{Path, PathBuf};

use burn::tensor::Device;

use super::{FoldResult, GraphCvReport, ModelSummary};
use crate::error::Result;
use crate::experiments::{by_model, history_csv, write_file};
use crate::metrics::mean_std;
use crate::pictures::graph::write_fold_attention;

impl FoldResult {
    /// Training graphs a second over the training steps of every epoch.
    pub fn graphs_per_second(&self) -> f64 {
        let seconds = self.history.iter().map(|h| h.seconds).sum::<f64>();
        (self.history.len() * self.train_graphs) as f64 / seconds.max(1e-9)
    }

    /// One line for a log: the chosen setting and epoch, the accuracies, the time.
    pub fn line(&self) -> String {
        let chosen = self.selected.as_ref().map(|s| format!(", chose {s}")).unwrap_or_default();
        format!(
            "fold {:>2} {:<3}: epoch {:>3} chosen on validation ({:.1}% of {}), test accuracy {:.1}% of {} graphs, \
             {:.1} s ({:.0} graphs/s){chosen}",
            self.fold,
            self.model,
            self.best_epoch,
            100.0 * self.val_accuracy,
            self.val_graphs,
            100.0 * self.test_accuracy,
            self.test_graphs,
            self.seconds,
            self.graphs_per_second()
        )
    }
}

impl GraphCvReport {
    /// The files a run writes into its output folder (`folds.txt` when the folds were drawn).
    pub const OUTPUTS: &'static [&'static str] =
        &["folds.csv", "metrics.csv", "attention.png", "folds.txt", "selection.csv"];

    /// Each model's mean ± std over the folds, in the order the models ran.
    pub fn summary(&self) -> Vec<ModelSummary> {
        by_model(&self.runs, |r| r.model)
            .into_iter()
            .map(|(model, of)| {
                let (mean, std) = mean_std(&of.iter().map(|r| r.test_accuracy).collect::<Vec<_>>());
                ModelSummary { model, mean, std, folds: of.len(), seconds: of.iter().map(|r| r.seconds).sum() }
            })
            .collect()
    }

    /// The table of mean ± std test accuracy per model.
    pub fn table(&self) -> String {
        let mut t = format!(
            "{} {}-fold test accuracy (model chosen on validation; majority class {:.1}%), {:.0} s in all:\n",
            self.set,
            self.folds_run,
            100.0 * self.majority,
            self.seconds
        );
        t += "  model   mean ± std (%)   folds   seconds\n";
        for s in self.summary() {
            t += &format!(
                "  {:<5}  {:>6.1} ± {:<6.1}   {:>5}   {:>7.1}\n",
                s.model,
                100.0 * s.mean,
                100.0 * s.std,
                s.folds,
                s.seconds
            );
        }
        for (model, of) in by_model(&self.runs, |r| r.model) {
            let mut counts: Vec<(&str, usize)> = Vec::new();
            for label in of.iter().filter_map(|r| r.selected.as_deref()) {
                match counts.iter_mut().find(|c| c.0 == label) {
                    Some(c) => c.1 += 1,
                    None => counts.push((label, 1)),
                }
            }
            if !counts.is_empty() {
                let list: Vec<String> = counts.iter().map(|(l, k)| format!("{l} ×{k}")).collect();
                t += &format!("  {model} chose on validation: {}\n", list.join(", "));
            }
        }
        t
    }

    /// `selection.csv`: every setting's validation figures on every fold, for every model.
    pub fn selection_csv(&self) -> String {
        let mut csv = String::from("fold,model,setting,best_epoch,val_accuracy,val_loss,seconds,chosen\n");
        for c in &self.selection {
            csv += &format!(
                "{},{},{},{},{:.6},{:.6},{:.2},{}\n",
                c.fold, c.model, c.label, c.best_epoch, c.val_accuracy, c.val_loss, c.seconds, c.chosen as u8
            );
        }
        csv
    }

    /// `folds.csv`: a line per fold and model.
    pub fn folds_csv(&self) -> String {
        // With selection, a last column: the chosen setting.
        let selected = self.runs.iter().any(|r| r.selected.is_some());
        let mut csv = String::from(
            "fold,model,train_graphs,val_graphs,test_graphs,best_epoch,val_accuracy,test_accuracy,seconds",
        );
        csv += if selected { ",selected\n" } else { "\n" };
        for r in &self.runs {
            let chosen = if selected { format!(",{}", r.selected.as_deref().unwrap_or("")) } else { String::new() };
            csv += &format!(
                "{},{},{},{},{},{},{:.6},{:.6},{:.2}{chosen}\n",
                r.fold,
                r.model,
                r.train_graphs,
                r.val_graphs,
                r.test_graphs,
                r.best_epoch,
                r.val_accuracy,
                r.test_accuracy,
                r.seconds
            );
        }
        csv
    }

    /// `metrics.csv`: every epoch of every run.
    pub fn metrics_csv(&self) -> String {
        history_csv("model,fold", self.runs.iter().map(|r| (format!("{},{}", r.model, r.fold), &r.history[..])))
    }

    /// Writes `folds.csv`, `metrics.csv`, `selection.csv` (with selection) and (when the ET ran)
    /// `attention.png` into `dir` (created
    /// if missing); returns the files written. The picture runs the fold-1 ET on `device`.
    ///
    /// # Errors
    /// A file that cannot be written; the picture's model failing on its graphs.
    pub fn write(&self, dir: &Path, device: &Device) -> Result<Vec<PathBuf>> {
        let mut written = vec![write_file(dir, "folds.csv", &self.folds_csv())?];
        written.push(write_file(dir, "metrics.csv", &self.metrics_csv())?);
        if !self.selection.is_empty() {
            written.push(write_file(dir, "selection.csv", &self.selection_csv())?);
        }
        if let Some((p, settings)) = &self.picture {
            let png = dir.join("attention.png");
            let title =
                format!("{}: attention of the CLS token to each node (dark = most), fold 1 test graphs", self.set);
            if write_fold_attention(p, &self.class_values, settings, &title, &png, device)? {
                written.push(png);
            }
        }
        Ok(written)
    }
}
