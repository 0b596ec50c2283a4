"""The DAM classifier from Python: fit, predict, score, the memories, save and load, and the CLI."""

from __future__ import annotations

import csv
from pathlib import Path

import hopfield
import numpy as np


def test_fit_predict_score_save_load(tmp_path: Path, run_cli) -> None:
    x, y = hopfield.digits("train")
    xt, yt = hopfield.digits("test")
    clf = hopfield.DamClassifier(memories=50, temperature=44.0, epochs=15, batch_size=100)
    events = []
    clf.fit(x, y, x_test=xt, y_test=yt, out=tmp_path / "dam", callback=events.append, progress=False)
    assert [e["figures"]["epoch"] for e in events if e["event"] == "epoch"] == list(range(1, 16))
    last = clf.history_[-1]
    acc = clf.score(xt, yt)
    assert abs((1 - acc) - last["test_error"]) < 1e-6  # the protocol's test error is predict's
    assert acc > 0.7, acc
    assert clf.memories_.shape == (50, 64 + 10)
    # The command line trained on the same digits with the same settings: the same epochs.
    run_cli(
        [
            "dam",
            "train",
            "--data",
            "digits",
            "--memories",
            "50",
            "--temperature",
            "44",
            "--batch-size",
            "100",
            "--epochs",
            "15",
            "--out",
            str(tmp_path / "cli"),
        ],
        tmp_path,
    )
    with open(tmp_path / "cli" / "metrics.csv") as f:
        cli = list(csv.DictReader(f))
    assert [float(r["test_error"]) for r in cli] == [h["test_error"] for h in clf.history_]
    assert [float(r["train_loss"]) for r in cli] == [h["train_loss"] for h in clf.history_]
    assert clf.outputs(xt[:3]).shape == (3, 10)
    clf.save(tmp_path / "saved")
    again = hopfield.DamClassifier.load(tmp_path / "saved")
    np.testing.assert_array_equal(again.predict(xt), clf.predict(xt))
    np.testing.assert_array_equal(again.memories_, clf.memories_)
    # The command line reads the checkpoint Python wrote and finds the same test error.
    printed = run_cli(["dam", "eval", "--checkpoint", str(tmp_path / "saved"), "--data", "digits"], tmp_path)
    wrong = int(round((1 - acc) * len(yt)))
    assert f"test error {100 * (1 - acc):.2f}% ({wrong} wrong)" in printed, printed
    with open(tmp_path / "dam" / "metrics.csv") as f:
        assert len(list(csv.DictReader(f))) == 15
