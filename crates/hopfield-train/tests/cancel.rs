//! Cancellation: a run whose cancel flag is set stops before its next step with a "cancelled"
//! error; the checkpoint and metrics.csv keep exactly the epochs finished before it, and the run
//! resumes from them. A protocol stops the same way when its observer's flag is set.

use std::path::Path;

use burn::tensor::Device;
use hopfield::et::{EtConfig, ImageEtConfig};
use hopfield_data::{Builtin, DataSource, Dataset, Split};
use hopfield_train::experiments::mil::{self, MilComparisonConfig, MilData};
use hopfield_train::experiments::{Cancel, Cancellable, Progress};
use hopfield_train::tasks::masked_image::checkpoint::load_for_resume;
use hopfield_train::tasks::masked_image::{EtTrainConfig, MaskedImage};
use hopfield_train::tasks::mil::MilConfig;
use hopfield_train::trainer::{Event, Trainer};
use hopfield_train::TrainError;

fn mnist(split: Split) -> Dataset {
    hopfield_data::load(&DataSource::Builtin(Builtin::MnistSample), split, Path::new("/none")).unwrap()
}

#[test]
fn a_cancelled_training_keeps_its_finished_epochs_and_resumes_from_them() {
    let (tr, te) = (mnist(Split::Train).first(64).unwrap(), mnist(Split::Test).first(16).unwrap());
    let mut cfg = EtTrainConfig::new(ImageEtConfig::new((1, 28, 28), 7, EtConfig::new(16, 2, 8, 16)));
    cfg.epochs = 3;
    cfg.batch_size = 16; // 4 steps an epoch
    cfg.model.descent.steps = 2;
    let dev = Device::flex();
    let dir = tempfile::tempdir().unwrap();
    let (ck, csv) = (dir.path().join("checkpoint"), dir.path().join("metrics.csv"));
    let cancel = Cancel::new();
    let trainer = Trainer { checkpoint: Some(ck.clone()), metrics: Some(csv.clone()), cancel: cancel.clone() };
    let task = MaskedImage::new(&tr, &te, &cfg, "mnist-sample", &dev).unwrap();
    // Set during the second epoch's second step: the run stops before its third.
    let mut steps = 0;
    let e = task
        .train(None, &trainer, |e| {
            if let Event::Batch { .. } = e {
                steps += 1;
                if steps == 6 {
                    cancel.cancel();
                }
            }
        })
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(e, TrainError::Cancelled { epoch: 2, iteration: 6, epochs_done: 1 }), "{e:?}");
    assert!(e.to_string().contains("cancelled at iteration 6 (epoch 2)"), "{e}");
    assert_eq!(steps, 6, "no step ran after the flag was set");
    let lines = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(lines.lines().count(), 2, "header and epoch 1 only: {lines}");
    let (resume, meta) = load_for_resume(&ck, &dev).unwrap();
    assert_eq!(resume.epochs_done, 1);
    let resumed = Trainer { checkpoint: Some(ck.clone()), metrics: Some(csv.clone()), ..Trainer::default() };
    let task = MaskedImage::new(&tr, &te, &meta.train, "mnist-sample", &dev).unwrap();
    let (_, m) = task.train(Some(resume), &resumed, |_| {}).unwrap();
    assert_eq!(m.iter().map(|m| m.epoch).collect::<Vec<_>>(), vec![2, 3]);
    assert_eq!(std::fs::read_to_string(&csv).unwrap().lines().count(), 4);
}

#[test]
fn a_protocol_stops_when_its_observer_cancels() {
    let digits = |split| hopfield_data::load(&DataSource::Builtin(Builtin::Digits), split, Path::new("/none")).unwrap();
    let config = MilComparisonConfig {
        train_bags: 64,
        test_bags: 32,
        model: MilConfig { epochs: 3, ..MilConfig::default() },
        ..MilComparisonConfig::default()
    };
    let data = MilData::draw(&config, "digits", digits(Split::Train), digits(Split::Test)).unwrap();
    let (mut started, mut steps, mut finished) = (0, 0, 0);
    let cancel = Cancel::new();
    let flag = cancel.clone();
    let observer = Cancellable {
        on: |e: Progress<'_, _, _>| match e {
            Progress::Started(_) => started += 1,
            Progress::Step { .. } => {
                steps += 1;
                if steps == 3 {
                    flag.cancel();
                }
            }
            Progress::Epoch(..) => {}
            Progress::Finished(..) => finished += 1,
        },
        cancel,
    };
    let e = mil::run(&config, &data, &Device::flex(), observer).map(|_| ()).unwrap_err();
    assert!(matches!(e, TrainError::Cancelled { epoch: 1, iteration: 3, epochs_done: 0 }), "{e:?}");
    assert_eq!((started, steps, finished), (1, 3, 0));

    // Without cancelling, both poolings run to the end and report every epoch.
    let mut epochs = Vec::new();
    let report = mil::run(&config, &data, &Device::flex(), |e: mil::Event<'_>| {
        if let Progress::Epoch(run, m) = e {
            epochs.push((run.model.clone(), m.epoch));
        }
    })
    .unwrap();
    assert_eq!(report.runs.len(), 2);
    assert_eq!(epochs.len(), 6, "{epochs:?}");
    assert_eq!(epochs[3], ("mean".to_string(), 1));
}
