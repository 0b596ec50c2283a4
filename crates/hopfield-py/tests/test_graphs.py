"""Graph classification and node anomaly detection from Python against the command line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import hopfield
import numpy as np
import pytest

TIMING = {"seconds", "graphs_per_second"}


def rows(text: str) -> list:
    return [{k: v for k, v in r.items() if k not in TIMING} for r in csv.DictReader(io.StringIO(text))]


def test_mutag_three_folds_equal_the_cli_folds_csv(tmp_path: Path, run_cli) -> None:
    run_cli(
        ["graph", "classify", "--data", "MUTAG", "--max-folds", "3", "--epochs", "6", "--out", str(tmp_path)], tmp_path
    )
    cli = rows((tmp_path / "folds.csv").read_text())
    events = []
    report = hopfield.graph_classify("MUTAG", max_folds=3, epochs=6, callback=events.append, progress=False)
    assert rows(report.folds_csv) == cli and len(cli) == 6  # 3 folds × (ET, MLP)
    assert [(r["fold"], r["model"]) for r in report.runs] == [
        (1, "ET"),
        (1, "MLP"),
        (2, "ET"),
        (2, "MLP"),
        (3, "ET"),
        (3, "MLP"),
    ]
    assert {s["model"] for s in report.summary()} == {"ET", "MLP"}
    assert sum(e["event"] == "finished" for e in events) == 6
    assert abs(report.majority - 125 / 188) < 1e-12
    written = {Path(p).name for p in report.write(tmp_path / "py")}
    assert written == {"folds.csv", "metrics.csv", "attention.png", "folds.txt"}
    assert (tmp_path / "py" / "folds.txt").read_text() == (tmp_path / "folds.txt").read_text()


def test_graphs_as_arrays_in_pytorch_geometric_convention() -> None:
    graphs, class_values = hopfield.mutag()
    assert len(graphs) == 188 and class_values == [-1, 1]
    g = graphs[0]
    assert g["x"].dtype == np.float32 and g["edge_index"].shape[0] == 2 and g["y"] in (0, 1)
    # The same graphs given as arrays: x is read as node attributes (the one-hot labels here).
    report = hopfield.graph_classify(graphs, max_folds=1, epochs=3, models=["MLP"], progress=False)
    (run,) = report.runs
    assert run["model"] == "MLP" and run["train_graphs"] + run["val_graphs"] + run["test_graphs"] == 188
    assert 0.0 <= run["test_accuracy"] <= 1.0
    # With the files' labels too, the ET reads one-hot labels beside x and learns per-label edge weights.
    wide = hopfield.graph_classify(graphs, max_folds=1, epochs=2, models=["ET"], edge_weights=True, progress=False)
    unlabelled = [{k: v for k, v in g.items() if k != "edge_labels"} for g in graphs]
    one = hopfield.graph_classify(unlabelled, max_folds=1, epochs=2, models=["ET"], edge_weights=True, progress=False)
    losses = [[e["train_loss"] for e in r.runs[0]["history"]] for r in (wide, one)]
    assert losses[0] != losses[1]  # MUTAG's 4 bond types get 4 learned weights, not one
    bad = [dict(graphs[0], edge_labels=np.zeros(3, dtype=np.int64))] + graphs[1:]
    with pytest.raises(ValueError, match=r"graphs\[0\]\['edge_labels'\]: expected shape \(38\)"):
        hopfield.graph_classify(bad, max_folds=1, epochs=1, progress=False)


def planted_graph(rng: np.random.Generator, nodes: int = 300, anomalies: int = 30) -> dict:
    """A ring with chords; anomalous nodes' features are far from their neighbours'."""
    x = rng.standard_normal((nodes, 6)).astype(np.float32) * 0.3
    y = np.zeros(nodes, dtype=np.int64)
    bad = rng.choice(nodes, anomalies, replace=False)
    y[bad] = 1
    x[bad] += 3.0
    src = np.arange(nodes)
    ring = np.stack([src, (src + 1) % nodes])
    chords = np.stack([src, (src + 7) % nodes])
    e = np.concatenate([ring, chords, ring[::-1], chords[::-1]], axis=1)
    return {"x": x, "edge_index": e, "y": y}


def test_node_anomaly_on_a_planted_graph_given_as_arrays(tmp_path: Path) -> None:
    g = planted_graph(np.random.default_rng(0))
    report = hopfield.node_anomaly(g, seeds=2, epochs=8, progress=False)
    assert [(r["seed"], r["model"]) for r in report.runs] == [(0, "ET"), (0, "MLP"), (1, "ET"), (1, "MLP")]
    for r in report.runs:
        assert r["test_auc"] > 0.9, r  # the planted nodes are easy to tell
    names = {Path(p).name for p in report.write(tmp_path)}
    assert names == {"runs.csv", "metrics.csv", "scores.png"}
    assert "ROC-AUC" in report.table


def test_a_cross_validation_stopped_by_its_callback_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    settings = dict(max_folds=2, epochs=4, dim=16, heads=2, head_dim=8, memories=16, progress=False)
    straight = hopfield.graph_classify("MUTAG", checkpoint=tmp_path / "straight", **settings)

    class Stop(Exception):
        pass

    def stop_in_fold_2(e: dict) -> None:
        if e["event"] == "epoch" and e["run"]["index"] == 2 and e["figures"]["epoch"] == 2:
            raise Stop

    with pytest.raises(Stop):
        hopfield.graph_classify("MUTAG", checkpoint=tmp_path / "cut", callback=stop_in_fold_2, **settings)
    epochs = []
    resumed = hopfield.graph_classify(
        "MUTAG",
        checkpoint=tmp_path / "cut",
        resume=True,
        callback=lambda e: (
            epochs.append((e["run"]["index"], e["run"]["model"], e["figures"]["epoch"]))
            if e["event"] == "epoch"
            else None
        ),
        **settings,
    )
    # Fold 2's ET continued at epoch 3; fold 1 was read back, not trained.
    assert epochs[:2] == [(2, "ET", 3), (2, "ET", 4)] and all(f == 2 for f, _, _ in epochs)
    assert rows(resumed.folds_csv) == rows(straight.folds_csv)
    assert rows(resumed.metrics_csv) == rows(straight.metrics_csv)
    with pytest.raises(hopfield.CheckpointError, match="settings.epochs: 4 in the checkpoint, 5 now"):
        hopfield.graph_classify("MUTAG", checkpoint=tmp_path / "cut", resume=True, **{**settings, "epochs": 5})
    with pytest.raises(ValueError, match="needs the checkpoint folder"):
        hopfield.graph_classify("MUTAG", resume=True, **settings)


def test_node_outliers_equal_the_cli_and_ignore_the_labels(tmp_path: Path, run_cli) -> None:
    g = planted_graph(np.random.default_rng(1), nodes=120, anomalies=12)
    folder = tmp_path / "planted"
    folder.mkdir()
    np.savetxt(folder / "features.csv", g["x"], delimiter=",", fmt="%.9g")
    np.savetxt(folder / "labels.txt", g["y"], fmt="%d")
    np.savetxt(folder / "edges.txt", g["edge_index"].T, fmt="%d")
    flags = dict(seeds=1, samples=480, dim=16, heads=2, head_dim=8, memories=16, encodings=2)
    run_cli(
        ["graph", "anomaly", "--unsupervised", "--data", str(folder), "--out", str(tmp_path / "cli")]
        + [f"--{k.replace('_', '-')}={v}" for k, v in flags.items()],
        tmp_path,
    )
    report = hopfield.node_outliers(str(folder), progress=False, **flags)  # type: ignore[arg-type]
    assert report.scores_csv == (tmp_path / "cli" / "scores.csv").read_text()
    cli_runs = rows((tmp_path / "cli" / "runs.csv").read_text())
    assert rows(report.runs_csv) == cli_runs
    assert list(report.scores) == ["ET", "ET energy", "ET energy drop", "MLPAE", "LOF", "GAE"]
    assert all(s.shape == (120,) and np.isfinite(s).all() for s in report.scores.values())
    # The same graph as arrays without labels: the same scores, and no figure to compute.
    unlabelled = {"x": g["x"], "edge_index": g["edge_index"]}
    blind = hopfield.node_outliers(unlabelled, progress=False, **flags)  # type: ignore[arg-type]
    for name, s in report.scores.items():
        np.testing.assert_array_equal(blind.scores[name], s, err_msg=name)
    assert all(f["auc"] is None and f["auprc"] is None for r in blind.runs for f in r["figures"])
    assert "undefined" in blind.table
    with pytest.raises(ValueError, match="mask fraction"):
        hopfield.node_outliers(unlabelled, mask_fraction=1.5, progress=False)
    with pytest.raises(ValueError, match="unknown detector"):
        hopfield.node_outliers(unlabelled, detectors=["gcn"], progress=False)


def test_gin_beside_the_et_and_early_stopping_equal_the_cli(tmp_path: Path, run_cli) -> None:
    args = ["--models", "all", "--max-folds", "1", "--epochs", "30", "--patience", "2"]
    run_cli(["graph", "classify", *args, "--out", str(tmp_path)], tmp_path)
    cli = rows((tmp_path / "folds.csv").read_text())
    report = hopfield.graph_classify(
        "MUTAG", max_folds=1, epochs=30, patience=2, models=["et", "gin", "mlp"], progress=False
    )
    assert rows(report.folds_csv) == cli
    assert [r["model"] for r in report.runs] == ["ET", "GIN", "MLP"]
    for r in report.runs:
        assert len(r["history"]) == min(r["best_epoch"] + 2, 30), r["model"]
    with pytest.raises(ValueError, match="patience = 0"):
        hopfield.graph_classify("MUTAG", max_folds=1, patience=0, progress=False)


def test_selection_read_outs_and_noise_equal_the_cli(tmp_path: Path, run_cli) -> None:
    grid = {"readout": ["cls", "cls-sum"], "noise": [0, 0.2]}
    (tmp_path / "grid.json").write_text(json.dumps(grid))
    args = ["--max-folds", "1", "--epochs", "4", "--random-walk", "4", "--select", str(tmp_path / "grid.json")]
    run_cli(["graph", "classify", *args, "--out", str(tmp_path / "out")], tmp_path)
    cli = rows((tmp_path / "out" / "folds.csv").read_text())
    cli_selection = rows((tmp_path / "out" / "selection.csv").read_text())
    report = hopfield.graph_classify("MUTAG", max_folds=1, epochs=4, random_walk=4, select=grid, progress=False)
    assert rows(report.folds_csv) == cli
    assert rows(report.selection_csv) == cli_selection
    # 4 settings for the ET; the read-out is the ET's, so 2 for the MLP.
    assert [s["model"] for s in report.selection] == ["ET"] * 4 + ["MLP"] * 2
    chosen = [s["label"] for s in report.selection if s["chosen"]]
    assert [r["selected"] for r in report.runs] == chosen
    # The same grid from its file; a setting alone as keyword arguments.
    again = hopfield.graph_classify(
        "MUTAG", max_folds=1, epochs=4, random_walk=4, select=tmp_path / "grid.json", progress=False
    )
    assert rows(again.selection_csv) == cli_selection
    one = hopfield.graph_classify(
        "MUTAG", max_folds=1, epochs=4, random_walk=4, readout="cls-sum", noise=0.2, progress=False
    )
    et = next(s for s in report.selection if s["model"] == "ET" and s["label"] == "noise=0.2 readout=cls-sum")
    assert one.runs[0]["val_accuracy"] == et["val_accuracy"] and one.runs[0]["best_epoch"] == et["best_epoch"]
    with pytest.raises(ValueError, match="grid key = dimm"):
        hopfield.graph_classify("MUTAG", max_folds=1, select={"dimm": [8]}, progress=False)
    with pytest.raises(ValueError, match="unknown variant `max`"):
        hopfield.graph_classify("MUTAG", max_folds=1, readout="max", progress=False)


def test_learned_head_parts_equal_the_cli(tmp_path: Path, run_cli) -> None:
    args = ["--max-folds", "1", "--epochs", "3", "--head-betas", "--head-mixing"]
    run_cli(["graph", "classify", *args, "--out", str(tmp_path / "out")], tmp_path)
    cli = rows((tmp_path / "out" / "folds.csv").read_text())
    report = hopfield.graph_classify("MUTAG", max_folds=1, epochs=3, head_betas=True, head_mixing=True, progress=False)
    assert rows(report.folds_csv) == cli
    plain = hopfield.graph_classify("MUTAG", max_folds=1, epochs=3, progress=False)
    assert [r["history"] for r in plain.runs][0] != [r["history"] for r in report.runs][0]
