//! Multiple-instance learning on bags of images: one model per pooling (Hopfield pooling against
//! mean pooling) trained on the same bags with the same seeds, tested after every epoch (accuracy
//! and ROC-AUC of the bag labels).

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use hopfield_data::Dataset;

use super::resume::{Checkpointing, Fingerprint, ProtocolCheckpoint};
use super::{history_csv, relay, write_file, Observer, Progress, RunId};
use crate::error::Result;
use crate::pictures::mil::write_instance_weights;
use crate::pictures::{Corner, LinePlot, Mark, Series};
use crate::tasks::mil::{make_bags, train_mil_in, BagSpec, Bags, MilConfig, MilEpoch, MilModel, Pooling};
use crate::trainer::Trainer;

/// What this protocol reports while it runs (write a closure's argument as `|e: Event<'_>|`).
pub type Event<'a> = Progress<'a, MilEpoch, PoolingResult>;

/// The settings of a pooling comparison.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct MilComparisonConfig {
    /// The poolings, trained in this order.
    pub poolings: Vec<Pooling>,
    /// Training bags.
    pub train_bags: usize,
    /// Test bags.
    pub test_bags: usize,
    /// Fewest images in a bag.
    pub min_bag_size: usize,
    /// Most images in a bag.
    pub max_bag_size: usize,
    /// The label that makes a bag positive.
    pub target: u8,
    /// The models' sizes and training; its seed also draws the bags (training: seed, test: seed + 1).
    pub model: MilConfig,
}

impl Default for MilComparisonConfig {
    fn default() -> Self {
        MilComparisonConfig {
            poolings: vec![Pooling::Hopfield, Pooling::Mean],
            train_bags: 2000,
            test_bags: 1000,
            min_bag_size: 5,
            max_bag_size: 15,
            target: 9,
            model: MilConfig::default(),
        }
    }
}

impl MilComparisonConfig {
    /// Checks the settings that do not depend on the data (the bags' sizes are checked against the
    /// images when they are drawn); an error names the setting and the value.
    pub fn validate(&self) -> Result<()> {
        if self.poolings.is_empty() {
            return Err(crate::error::invalid("poolings", "none", "at least one pooling"));
        }
        self.model.validate()
    }

    fn spec(&self, bags: usize) -> BagSpec {
        BagSpec { bags, min_size: self.min_bag_size, max_size: self.max_bag_size, target: self.target }
    }
}

/// Images and the bags drawn from them.
#[derive(Debug, Clone)]
pub struct MilData {
    /// What the data is called in titles.
    pub name: String,
    /// Images the training bags index.
    pub train: Dataset,
    /// Images the test bags index.
    pub test: Dataset,
    /// Training bags.
    pub train_bags: Bags,
    /// Test bags.
    pub test_bags: Bags,
}

impl MilData {
    /// Draws `config`'s bags from `train` (seed) and `test` (seed + 1).
    ///
    /// # Errors
    /// Bag sizes or a target the images cannot give.
    pub fn draw(config: &MilComparisonConfig, name: &str, train: Dataset, test: Dataset) -> Result<MilData> {
        let seed = config.model.seed;
        let train_bags = make_bags(&train, &config.spec(config.train_bags), seed)?;
        let test_bags = make_bags(&test, &config.spec(config.test_bags), seed.wrapping_add(1))?;
        Ok(MilData { name: name.to_string(), train, test, train_bags, test_bags })
    }

    /// One line: the bags, their positive shares and sizes.
    pub fn describe(&self, config: &MilComparisonConfig) -> String {
        format!(
            "MIL on {}: {} training bags ({:.1}% positive) from {} images, {} test bags ({:.1}% positive) from {}; \
             {}–{} images a bag, positive with a {}",
            self.name,
            self.train_bags.len(),
            100.0 * self.train_bags.positive_fraction(),
            self.train.len(),
            self.test_bags.len(),
            100.0 * self.test_bags.positive_fraction(),
            self.test.len(),
            config.min_bag_size,
            config.max_bag_size,
            config.target
        )
    }
}

/// One pooling's run.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PoolingResult {
    /// The pooling.
    pub pooling: Pooling,
    /// Every epoch's figures.
    pub history: Vec<MilEpoch>,
    /// Seconds of the run.
    pub seconds: f64,
}

impl PoolingResult {
    /// The last epoch's figures.
    pub fn last(&self) -> Option<&MilEpoch> {
        self.history.last()
    }
}

/// What a pooling comparison gives.
pub struct MilReport {
    /// What the data is called.
    pub data: String,
    /// Test bags.
    pub test_bags: usize,
    /// Epochs of each run.
    pub epochs: usize,
    /// The runs, in the order of the config's poolings.
    pub runs: Vec<PoolingResult>,
    hopfield: Option<MilModel>,
}

/// Runs `config` on `data` on `device`, telling `observer` as it goes.
///
/// # Errors
/// Invalid settings, images of another size than the model's, a loss that becomes NaN/∞; the
/// observer's cancel flag ([`crate::TrainError::Cancelled`]).
pub fn run(
    config: &MilComparisonConfig,
    data: &MilData,
    device: &Device,
    observer: impl Observer<MilEpoch, PoolingResult>,
) -> Result<MilReport> {
    run_resumable(config, data, device, observer, None)
}

/// The data's fingerprint in a checkpoint: its name and a hash of the bags and their images.
fn fingerprint(data: &MilData) -> String {
    let mut f = Fingerprint::default();
    for (ds, bags) in [(&data.train, &data.train_bags), (&data.test, &data.test_bags)] {
        f.add([ds.len() as u64, ds.image_len() as u64, u64::MAX]);
        for (bag, &label) in bags.instances.iter().zip(&bags.labels) {
            f.add([label as u64, bag.len() as u64]);
            for &i in bag {
                f.add([i as u64]).add(ds.raw(i).iter().map(|&b| b as u64));
            }
        }
    }
    format!("{}, {} + {} bags, hash {}", data.name, data.train_bags.len(), data.test_bags.len(), f.hex())
}

/// [`run`], keeping a checkpoint after every epoch of every pooling in `checkpointing.dir`, or
/// continuing the one there (same settings and bags) with `checkpointing.resume`.
///
/// # Errors
/// As [`run`]; a checkpoint folder that is not ours or is locked; a checkpoint to resume of other
/// settings or data, naming the difference.
pub fn run_resumable(
    config: &MilComparisonConfig,
    data: &MilData,
    device: &Device,
    mut observer: impl Observer<MilEpoch, PoolingResult>,
    checkpointing: Option<&Checkpointing>,
) -> Result<MilReport> {
    config.validate()?;
    let trainer = Trainer { cancel: observer.cancel(), ..Trainer::default() };
    let (checkpoint, finished): (_, Vec<PoolingResult>) =
        ProtocolCheckpoint::open_optional(checkpointing, "mil", (config, &[]), || fingerprint(data))?;
    let (mut runs, mut hopfield) = (Vec::new(), None);
    for (i, &pooling) in config.poolings.iter().enumerate() {
        let id = RunId {
            unit: "pooling",
            index: i + 1,
            of: config.poolings.len(),
            model: pooling.to_string(),
            examples: data.train_bags.len(),
            epochs: config.model.epochs,
            example_unit: "bags",
        };
        observer.on(Progress::Started(&id));
        if let Some(done) = finished.get(i) {
            // Finished before the checkpoint was written: its result, and the picture's model.
            observer.on(Progress::Finished(&id, done));
            runs.push(done.clone());
            if pooling == Pooling::Hopfield {
                let fresh = MilModel::new(data.train.image_len(), pooling, &config.model, device)?;
                hopfield = checkpoint.as_ref().map(|c| c.picture(fresh)).transpose()?.flatten().map(|(m, _)| m);
            }
            continue;
        }
        let started = std::time::Instant::now();
        let train = (&data.train, &data.train_bags);
        let test = (&data.test, &data.test_bags);
        let (model, history) = train_mil_in(
            (train, test),
            pooling,
            (&config.model, device),
            &trainer,
            checkpoint.as_ref().map(|c| (c, i)),
            relay(&id, &mut observer),
        )?;
        let result = PoolingResult { pooling, history, seconds: started.elapsed().as_secs_f64() };
        let drawn = pooling == Pooling::Hopfield;
        if let Some(c) = &checkpoint {
            c.finish_run(i, &result, drawn.then_some((&model, serde_json::Value::Null)))?;
        }
        observer.on(Progress::Finished(&id, &result));
        runs.push(result);
        if drawn {
            hopfield = Some(model);
        }
    }
    Ok(MilReport {
        data: data.name.clone(),
        test_bags: data.test_bags.len(),
        epochs: config.model.epochs,
        runs,
        hopfield,
    })
}

impl MilReport {
    /// The files a run writes into its output folder.
    pub const OUTPUTS: &'static [&'static str] = &["attention.png", "auc.png", "metrics.csv"];

    /// The table of the last epoch's test figures per pooling.
    pub fn table(&self) -> String {
        let mut t = format!("after {} epochs, on the {} test bags:\n", self.epochs, self.test_bags);
        t += "  pooling   test accuracy   test AUC   seconds\n";
        for r in &self.runs {
            if let Some(e) = r.last() {
                t += &format!(
                    "  {:<8}  {:>12.2}%   {:>8.4}   {:>7.1}\n",
                    r.pooling.to_string(),
                    100.0 * e.test_accuracy,
                    e.test_auc,
                    r.seconds
                );
            }
        }
        t
    }

    /// `metrics.csv`: every epoch of every pooling.
    pub fn metrics_csv(&self) -> String {
        history_csv("pooling", self.runs.iter().map(|r| (r.pooling.to_string(), &r.history[..])))
    }

    /// Writes `attention.png` (when Hopfield pooling ran: its weights on 8 of `data`'s test bags),
    /// `auc.png` (test AUC per epoch) and `metrics.csv` into `dir` (created if missing); returns the
    /// files.
    ///
    /// # Errors
    /// A file that cannot be written; the model failing on the test bags.
    pub fn write(&self, dir: &Path, data: &MilData, device: &Device) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir).map_err(|e| crate::TrainError::write(dir, e))?;
        let mut written = Vec::new();
        if let Some(model) = &self.hopfield {
            let png = dir.join("attention.png");
            write_instance_weights(model, &data.test, &data.test_bags, 8, &png, device)?;
            written.push(png);
        }
        let auc_png = dir.join("auc.png");
        LinePlot {
            title: format!("MIL on {}: test AUC ({} bags)", self.data, self.test_bags),
            x_label: "epoch".into(),
            y_label: "test AUC".into(),
            log_x: false,
            log_y: false,
            series: self
                .runs
                .iter()
                .enumerate()
                .map(|(i, r)| Series {
                    name: format!("{} pooling", r.pooling),
                    points: r.history.iter().map(|e| (e.epoch as f64, e.test_auc)).collect(),
                    color: i,
                    mark: Mark::LinePoints,
                })
                .collect(),
            vlines: vec![],
            legend: Corner::LowerRight,
        }
        .write(&auc_png, (720, 480))?;
        written.push(auc_png);
        written.push(write_file(dir, "metrics.csv", &self.metrics_csv())?);
        Ok(written)
    }
}
