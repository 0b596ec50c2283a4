//! Model selection inside the cross-validation (`--select`): the setting each fold chooses is the
//! best by that fold's validation figures alone. With the test graphs' labels flipped, every
//! setting's validation figures and every choice stay bit for bit the same and only the test
//! accuracy moves (to its complement); GIN and the MLP are trained once per setting that differs
//! for them; a grid's bad keys and values are refused by name.

use burn::tensor::Device;
use hopfield_data::graph::tu::{bundled_mutag, stratified_folds, GraphSet};
use hopfield_train::experiments::graph_cv::{self, FoldOrigin, GraphCvConfig, GraphCvData, GraphCvReport};
use hopfield_train::experiments::graph_select::SelectionGrid;
use hopfield_train::experiments::Silent;
use hopfield_train::tasks::graph::{GraphSettings, ModelKind, Readout};

fn base() -> GraphSettings {
    GraphSettings { dim: 16, heads: 2, head_dim: 8, memories: 16, encodings: 2, epochs: 6, ..GraphSettings::default() }
}

#[test]
fn the_setting_a_fold_chooses_depends_on_its_validation_part_alone() {
    let set = bundled_mutag().unwrap();
    let folds = stratified_folds(&set.labels, 10, 0);
    let grid =
        SelectionGrid::parse(r#"{"lr": [0.001, 0.01], "readout": ["cls", "cls-sum"], "noise": [0, 0.5]}"#, &base())
            .unwrap();
    assert_eq!(grid.candidates.len(), 8);
    assert_eq!(grid.for_model(ModelKind::Et).len(), 8);
    // The read-out is the ET's: the MLP has lr × noise.
    let mlp: Vec<String> = grid.for_model(ModelKind::Mlp).into_iter().map(|c| c.label).collect();
    assert_eq!(mlp, ["lr=0.001 noise=0", "lr=0.001 noise=0.5", "lr=0.01 noise=0", "lr=0.01 noise=0.5"]);
    assert_eq!(grid.candidates[3].settings.readout, Readout::ClsSum);
    assert_eq!(grid.candidates[3].settings.noise, 0.5);
    for fold in 0..2 {
        // Fold `fold` first, and the labels of its test graphs flipped in the second run.
        let mut f = folds.clone();
        f.test.rotate_left(fold);
        let mut flipped = set.clone();
        for &i in &f.test[0] {
            flipped.labels[i] = 1 - flipped.labels[i];
        }
        let config = GraphCvConfig {
            models: vec![ModelKind::Et, ModelKind::Mlp],
            max_folds: Some(1),
            settings: base(),
            select: Some(grid.clone()),
            ..GraphCvConfig::default()
        };
        let run = |set: &GraphSet| -> GraphCvReport {
            let data = GraphCvData { set: set.clone(), folds: f.clone(), origin: FoldOrigin::Drawn(0) };
            graph_cv::run(&config, &data, &Device::flex(), Silent).unwrap()
        };
        let (a, b) = (run(&set), run(&flipped));
        let figures = |r: &GraphCvReport| {
            r.selection
                .iter()
                .map(|c| (c.model, c.label.clone(), c.best_epoch, c.val_accuracy, c.val_loss, c.chosen))
                .collect::<Vec<_>>()
        };
        assert_eq!(figures(&a).len(), 12, "8 ET and 4 MLP settings");
        assert_eq!(figures(&a), figures(&b), "fold {fold}: a validation figure or a choice moved with the test labels");
        for (x, y) in a.runs.iter().zip(&b.runs) {
            assert_eq!(x.selected, y.selected);
            assert!((x.test_accuracy + y.test_accuracy - 1.0).abs() < 1e-12, "{} {}", x.test_accuracy, y.test_accuracy);
        }
        // The choice is the best validation accuracy, then the lowest validation loss, then the
        // earlier setting.
        for model in [ModelKind::Et, ModelKind::Mlp] {
            let of: Vec<_> = a.selection.iter().filter(|c| c.model == model).collect();
            let mut want = 0;
            for (i, c) in of.iter().enumerate() {
                if (c.val_accuracy, -c.val_loss) > (of[want].val_accuracy, -of[want].val_loss) {
                    want = i;
                }
            }
            assert!(of[want].chosen && of.iter().filter(|c| c.chosen).count() == 1, "fold {fold} {model}");
            let result = a.runs.iter().find(|r| r.model == model).unwrap();
            assert_eq!(result.selected.as_deref(), Some(of[want].label.as_str()));
            assert_eq!((result.best_epoch, result.val_accuracy), (of[want].best_epoch, of[want].val_accuracy));
        }
        // Training noise changes training: the settings that differ only by it trained differently.
        let et: Vec<_> = a.selection.iter().filter(|c| c.model == ModelKind::Et).collect();
        assert!(et[0].val_loss != et[1].val_loss, "noise 0 and 0.5 gave the same model");
    }
}

#[test]
fn a_grid_refuses_unknown_or_fixed_keys_bad_values_and_repeats_by_name() {
    let refused = |text: &str| SelectionGrid::parse(text, &base()).unwrap_err().to_string();
    assert!(refused(r#"{"dimm": [8]}"#).contains("grid key = dimm"));
    assert!(refused(r#"{"seed": [1, 2]}"#).contains("grid key = seed"));
    assert!(refused(r#"{"encodings": [0, 4]}"#).contains("grid key = encodings"));
    assert!(refused(r#"{"dim": []}"#).contains("non-empty list"));
    assert!(refused(r#"{"lr": [-1]}"#).contains("lr = -1"));
    assert!(refused(r#"{"noise": [-0.5]}"#).contains("noise = -0.5"));
    assert!(refused(r#"[{"readout": "max"}]"#).contains("unknown variant `max`"));
    assert!(refused(r#"{"dim": [8, 8]}"#).contains("these two are the same"));
    assert!(refused("[]").contains("non-empty list of objects"));
    assert!(refused("{dim: 8}").contains("not JSON"));
    let big = format!(r#"{{"dim": [{}]}}"#, (1..=65).map(|d| d.to_string()).collect::<Vec<_>>().join(", "));
    assert!(refused(&big).contains("more than 64 settings"));
    // A list of objects: each one setting, keys the grid leaves out keep the run's values.
    let g = SelectionGrid::parse(r#"[{"steps": 2, "step_size": 0.05}, {}]"#, &base()).unwrap();
    assert_eq!(g.candidates[0].label, "step_size=0.05 steps=2", "keys in sorted order");
    assert_eq!((g.candidates[0].settings.descent.steps, g.candidates[0].settings.descent.step_size), (2, 0.05));
    assert_eq!(g.candidates[1].label, "defaults");
    assert_eq!(g.candidates[1].settings, base());
    // The descent is the ET's: GIN is trained once.
    assert_eq!(g.for_model(ModelKind::Gin).len(), 1);
}
