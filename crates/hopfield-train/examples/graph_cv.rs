//! Graph classification by cross-validation on the bundled MUTAG molecules: the Energy Transformer
//! beside a structure-blind MLP on the same folds, the epoch of each fold chosen on validation;
//! then the report's figures, its table and its files.
//!
//! `cargo run --release -p hopfield-train --example graph_cv` (the test suite runs it too).

use burn::tensor::Device;
use hopfield_train::experiments::graph_cv::{self, Event, GraphCvConfig, GraphCvData};
use hopfield_train::experiments::Progress;
use hopfield_train::tasks::graph::GraphSettings;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // MUTAG names the bundled set; a folder of TU files (DS_A.txt, …) works the same way.
    let data = GraphCvData::named("MUTAG", "data".as_ref(), None, 0)?;
    let settings = GraphSettings { epochs: 10, ..GraphSettings::default() };
    let config = GraphCvConfig { max_folds: Some(2), settings, ..GraphCvConfig::default() };
    let report = graph_cv::run(&config, &data, &Device::flex(), |e: Event<'_>| {
        if let Progress::Finished(_, fold) = e {
            println!("{}", fold.line());
        }
    })?;
    for m in report.summary() {
        println!("{}: {:.1}% ± {:.1} over {} folds", m.model, 100.0 * m.mean, 100.0 * m.std, m.folds);
    }
    print!("{}", report.table());
    let out = std::env::temp_dir().join(format!("hopfield-example-graph-cv-{}", std::process::id()));
    let files = report.write(&out, &Device::flex())?;
    println!("wrote {} files into {}", files.len(), out.display());
    assert_eq!(report.runs.len(), 4, "2 folds × 2 models");
    assert!(report.runs.iter().all(|r| r.train_graphs + r.val_graphs + r.test_graphs == 188));
    std::fs::remove_dir_all(&out)?;
    Ok(())
}
