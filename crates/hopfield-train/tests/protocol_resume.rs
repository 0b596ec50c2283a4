//! The protocols of several runs keep a checkpoint of every epoch of every run: stopped in the
//! middle of a run, then resumed, a cross-validation, a node anomaly detection and a MIL
//! comparison end with the uninterrupted protocol's figures — every chosen epoch, validation and
//! test figure and training loss bit for bit, and the same picture — having trained only the
//! epochs that were missing. A checkpoint of other settings or other data is refused, naming the
//! difference; folds (seeds) may be added to a finished checkpoint.

use std::path::Path;

mod common;

use burn::tensor::Device;
use hopfield_data::graph::tu::bundled_mutag;
use hopfield_data::{Builtin, DataSource, Split};
use hopfield_train::experiments::graph_cv::{self, GraphCvConfig, GraphCvData};
use hopfield_train::experiments::mil::{self, MilComparisonConfig, MilData};
use hopfield_train::experiments::node_anomaly::{self, NodeAnomalyConfig};
use hopfield_train::experiments::resume::Checkpointing;
use hopfield_train::experiments::{Cancellable, Progress};
use hopfield_train::tasks::graph::anomaly::EgoSettings;
use hopfield_train::tasks::graph::{GraphModel, GraphSettings};
use hopfield_train::tasks::mil::MilConfig;
use hopfield_train::trainer::Cancel;
use hopfield_train::TrainError;

fn small(epochs: usize) -> GraphSettings {
    GraphSettings { dim: 16, heads: 2, head_dim: 8, memories: 16, encodings: 2, epochs, ..GraphSettings::default() }
}

/// A CSV without the columns whose header names a wall time.
fn timeless(csv: &str) -> String {
    let header: Vec<&str> = csv.lines().next().unwrap_or("").split(',').collect();
    let keep: Vec<bool> = header.iter().map(|h| !(h.contains("seconds") || h.ends_with("_per_second"))).collect();
    csv.lines()
        .map(|l| l.split(',').zip(&keep).filter(|(_, k)| **k).map(|(v, _)| v).collect::<Vec<_>>().join(","))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every run and epoch an observer sees: ("run model index", epoch) for each epoch, ("… done", 0)
/// for each finished run.
type Seen = Vec<(String, usize)>;

/// An observer that records what it sees and cancels the protocol after epoch `at.1` of the run
/// whose label is `at.0`.
fn stopping<'a, E, R>(
    seen: &'a mut Seen,
    at: Option<(&'a str, usize)>,
) -> Cancellable<impl FnMut(Progress<'_, E, R>) + 'a> {
    let cancel = Cancel::new();
    let flag = cancel.clone();
    Cancellable {
        on: move |e: Progress<'_, E, R>| match e {
            Progress::Epoch(run, _) => {
                let label = format!("{} {} {}", run.unit, run.index, run.model);
                let epoch = seen.iter().filter(|(l, _)| *l == label).count() + 1;
                if at == Some((label.as_str(), epoch)) {
                    flag.cancel();
                }
                seen.push((label, epoch));
            }
            Progress::Finished(run, _) => seen.push((format!("{} {} {} done", run.unit, run.index, run.model), 0)),
            _ => {}
        },
        cancel,
    }
}

fn ck(dir: &Path, resume: bool) -> Checkpointing {
    Checkpointing { dir: dir.join("checkpoint"), resume }
}

fn files_equal(a: &Path, b: &Path, name: &str) {
    assert!(std::fs::read(a.join(name)).unwrap() == std::fs::read(b.join(name)).unwrap(), "{name} differs");
}

#[test]
fn a_cross_validation_stopped_mid_fold_resumes_at_its_epoch_and_ends_as_the_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let dev = Device::flex();
    let data = GraphCvData::new(bundled_mutag().unwrap(), None, 0).unwrap();
    let config = GraphCvConfig { max_folds: Some(3), settings: small(4), ..GraphCvConfig::default() };
    let (straight, cut) = (d.join("straight"), d.join("cut"));
    let mut seen = Seen::new();
    let a =
        graph_cv::run_resumable(&config, &data, &dev, stopping(&mut seen, None), Some(&ck(&straight, false))).unwrap();
    assert_eq!(seen.len(), 3 * 2 * 5, "{seen:?}");
    // Stopped after epoch 2 of fold 2's ET: folds 1 and that epoch are in the checkpoint.
    let mut seen = Seen::new();
    let e = graph_cv::run_resumable(
        &config,
        &data,
        &dev,
        stopping(&mut seen, Some(("fold 2 ET", 2))),
        Some(&ck(&cut, false)),
    )
    .map(|_| ())
    .unwrap_err();
    assert!(matches!(e, TrainError::Cancelled { epoch: 3, epochs_done: 2, .. }), "{e:?}");
    let mut seen = Seen::new();
    let b = graph_cv::run_resumable(&config, &data, &dev, stopping(&mut seen, None), Some(&ck(&cut, true))).unwrap();
    // The resumed run trained fold 2's ET from epoch 3 and nothing before it.
    let trained: Vec<String> = seen.iter().filter(|(_, e)| *e > 0).map(|(l, _)| l.clone()).collect();
    assert_eq!(seen[..2], [("fold 1 ET done".to_string(), 0), ("fold 1 MLP done".to_string(), 0)], "{seen:?}");
    assert_eq!(trained.iter().filter(|l| *l == "fold 2 ET").count(), 2, "{seen:?}");
    assert!(!trained.iter().any(|l| l.starts_with("fold 1")), "{seen:?}");
    // The same folds.csv and metrics.csv less their timings, the same picture.
    assert_eq!(timeless(&a.folds_csv()), timeless(&b.folds_csv()));
    assert_eq!(timeless(&a.metrics_csv()), timeless(&b.metrics_csv()));
    for (x, y) in a.runs.iter().zip(&b.runs) {
        assert_eq!((x.best_epoch, x.val_accuracy, x.test_accuracy), (y.best_epoch, y.val_accuracy, y.test_accuracy));
        let losses =
            |r: &graph_cv::FoldResult| r.history.iter().map(|h| (h.train_loss, h.val_loss)).collect::<Vec<_>>();
        assert_eq!(losses(x), losses(y), "fold {} {}", x.fold, x.model);
    }
    a.write(&straight, &dev).unwrap();
    b.write(&cut, &dev).unwrap();
    files_equal(&straight, &cut, "attention.png");

    // A finished checkpoint resumes without training; more folds may be asked for.
    let more = GraphCvConfig { max_folds: Some(4), ..config.clone() };
    let mut seen = Seen::new();
    let c = graph_cv::run_resumable(&more, &data, &dev, stopping(&mut seen, None), Some(&ck(&cut, true))).unwrap();
    assert_eq!(c.runs.len(), 8);
    assert!(seen.iter().filter(|(_, e)| *e > 0).all(|(l, _)| l.starts_with("fold 4")), "{seen:?}");
    assert_eq!(timeless(&a.folds_csv()), timeless(&c.folds_csv()).lines().take(7).collect::<Vec<_>>().join("\n"));

    // Other settings, other data, nothing to resume: refused, naming what differs.
    let other = GraphCvConfig { settings: small(5), ..config.clone() };
    let e = graph_cv::run_resumable(&other, &data, &dev, stopping(&mut Seen::new(), None), Some(&ck(&cut, true)))
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(e.contains("settings.epochs: 4 in the checkpoint, 5 now") && e.contains("config.json"), "{e}");
    let reshuffled = GraphCvData::new(bundled_mutag().unwrap(), None, 1).unwrap();
    let e =
        graph_cv::run_resumable(&config, &reshuffled, &dev, stopping(&mut Seen::new(), None), Some(&ck(&cut, true)))
            .map(|_| ())
            .unwrap_err()
            .to_string();
    assert!(e.contains("other data"), "{e}");
    let e = graph_cv::run_resumable(
        &config,
        &data,
        &dev,
        stopping(&mut Seen::new(), None),
        Some(&ck(&d.join("none"), true)),
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert!(e.contains("no checkpoint to resume"), "{e}");
    // A user's folder is never a checkpoint.
    let users = d.join("users");
    std::fs::create_dir_all(users.join("checkpoint")).unwrap();
    std::fs::write(users.join("checkpoint/notes.txt"), "mine").unwrap();
    let e = graph_cv::run_resumable(&config, &data, &dev, stopping(&mut Seen::new(), None), Some(&ck(&users, false)))
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a hopfield checkpoint"), "{e}");
    assert_eq!(std::fs::read_to_string(users.join("checkpoint/notes.txt")).unwrap(), "mine");
}

#[test]
fn a_node_anomaly_run_stopped_mid_seed_resumes_to_the_uninterrupted_figures() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let dev = Device::flex();
    let graph = common::planted(200, 3);
    let config = NodeAnomalyConfig {
        seeds: 2,
        ego: EgoSettings { hops: 2, budget: 10 },
        settings: small(3),
        ..NodeAnomalyConfig::default()
    };
    let (straight, cut) = (d.join("straight"), d.join("cut"));
    let a = node_anomaly::run_resumable(
        &config,
        &graph,
        &dev,
        stopping(&mut Seen::new(), None),
        Some(&ck(&straight, false)),
    )
    .unwrap();
    // Stopped after the first epoch of seed 1's ET: the picture's run, still in progress.
    let e = node_anomaly::run_resumable(
        &config,
        &graph,
        &dev,
        stopping(&mut Seen::new(), Some(("seed 1 ET", 1))),
        Some(&ck(&cut, false)),
    )
    .map(|_| ())
    .unwrap_err();
    assert!(matches!(e, TrainError::Cancelled { epochs_done: 1, .. }), "{e:?}");
    let mut seen = Seen::new();
    let b =
        node_anomaly::run_resumable(&config, &graph, &dev, stopping(&mut seen, None), Some(&ck(&cut, true))).unwrap();
    assert_eq!(seen.iter().filter(|(l, e)| l == "seed 1 ET" && *e > 0).count(), 2, "{seen:?}");
    assert_eq!(timeless(&a.runs_csv()), timeless(&b.runs_csv()));
    assert_eq!(timeless(&a.metrics_csv()), timeless(&b.metrics_csv()));
    // Stopped again after seed 1 finished: the picture's model and scores come from the checkpoint.
    let again = d.join("again");
    let _ = node_anomaly::run_resumable(
        &config,
        &graph,
        &dev,
        stopping(&mut Seen::new(), Some(("seed 2 ET", 1))),
        Some(&ck(&again, false)),
    )
    .map(|_| ())
    .unwrap_err();
    let c =
        node_anomaly::run_resumable(&config, &graph, &dev, stopping(&mut Seen::new(), None), Some(&ck(&again, true)))
            .unwrap();
    assert_eq!(timeless(&a.runs_csv()), timeless(&c.runs_csv()));
    a.write(&straight, &dev).unwrap();
    c.write(&again, &dev).unwrap();
    files_equal(&straight, &again, "scores.png");
}

#[test]
fn a_mil_comparison_stopped_mid_pooling_resumes_to_the_uninterrupted_figures() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let dev = Device::flex();
    let digits = |split| hopfield_data::load(&DataSource::Builtin(Builtin::Digits), split, Path::new("/none")).unwrap();
    let config = MilComparisonConfig {
        train_bags: 48,
        test_bags: 24,
        model: MilConfig { epochs: 3, ..MilConfig::default() },
        ..MilComparisonConfig::default()
    };
    let data = MilData::draw(&config, "digits", digits(Split::Train), digits(Split::Test)).unwrap();
    let (straight, cut) = (d.join("straight"), d.join("cut"));
    let a = mil::run_resumable(&config, &data, &dev, stopping(&mut Seen::new(), None), Some(&ck(&straight, false)))
        .unwrap();
    for at in ["pooling 1 hopfield", "pooling 2 mean"] {
        let out = cut.join(at.replace(' ', "-"));
        let _ =
            mil::run_resumable(&config, &data, &dev, stopping(&mut Seen::new(), Some((at, 2))), Some(&ck(&out, false)))
                .map(|_| ())
                .unwrap_err();
        let mut seen = Seen::new();
        let b = mil::run_resumable(&config, &data, &dev, stopping(&mut seen, None), Some(&ck(&out, true))).unwrap();
        assert_eq!(seen.iter().filter(|(l, e)| l == at && *e > 0).count(), 1, "{at}: {seen:?}");
        assert_eq!(timeless(&a.metrics_csv()), timeless(&b.metrics_csv()), "{at}");
        a.write(&straight, &data, &dev).unwrap();
        b.write(&out, &data, &dev).unwrap();
        files_equal(&straight, &out, "attention.png");
    }
}

#[test]
fn a_cross_validation_with_learned_head_parts_resumes_them_to_the_uninterrupted_figures() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let dev = Device::flex();
    let data = GraphCvData::new(bundled_mutag().unwrap(), None, 0).unwrap();
    let settings = GraphSettings { head_betas: true, head_mixing: true, ..small(4) };
    let config = GraphCvConfig { max_folds: Some(1), settings, ..GraphCvConfig::default() };
    let (straight, cut) = (d.join("straight"), d.join("cut"));
    let a =
        graph_cv::run_resumable(&config, &data, &dev, stopping(&mut Seen::new(), None), Some(&ck(&straight, false)))
            .unwrap();
    let e = graph_cv::run_resumable(
        &config,
        &data,
        &dev,
        stopping(&mut Seen::new(), Some(("fold 1 ET", 2))),
        Some(&ck(&cut, false)),
    )
    .map(|_| ())
    .unwrap_err();
    assert!(matches!(e, TrainError::Cancelled { epoch: 3, epochs_done: 2, .. }), "{e:?}");
    let b =
        graph_cv::run_resumable(&config, &data, &dev, stopping(&mut Seen::new(), None), Some(&ck(&cut, true))).unwrap();
    // Resumed from epoch 3 with the β_h and the mixing the first two epochs learned (and their
    // AdamW moments): the uninterrupted run's losses bit for bit.
    let losses = |r: &graph_cv::FoldResult| r.history.iter().map(|h| (h.train_loss, h.val_loss)).collect::<Vec<_>>();
    assert_eq!(losses(&a.runs[0]), losses(&b.runs[0]));
    assert_eq!(timeless(&a.folds_csv()), timeless(&b.folds_csv()));
    // The finished fold's ET as the checkpoint keeps it: β_h and M moved from their start.
    use burn::store::ModuleSnapshot;
    let mut model = GraphModel::Et(config.settings.et_config(7, 2, 0).init(0, &dev).unwrap());
    let mut store = burn::store::SafetensorsStore::from_file(cut.join("checkpoint/picture.safetensors"));
    let applied = model.load_from(&mut store).unwrap();
    assert!(applied.missing.is_empty() && applied.errors.is_empty(), "{applied:?}");
    let GraphModel::Et(model) = model else { unreachable!() };
    let values = |t: burn::tensor::Tensor<1>| t.into_data().try_into_vec_as::<f32>().unwrap();
    let u = values(model.et.attention.head_betas.unwrap().val());
    let m = values(model.et.attention.head_mixing.unwrap().val().reshape([4]));
    assert!(u.iter().all(|v| v.abs() > 1e-4), "β_h not learned: u = {u:?}");
    assert!(m.iter().zip([1.0, 0.0, 0.0, 1.0]).all(|(v, i)| (v - i).abs() > 1e-4), "M not learned: {m:?}");
}
