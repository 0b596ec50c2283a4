"""The Python package's overhead against the command line on the same work, in the same run.

    python bench/python_overhead.py [--hopfield target/release/hopfield] [--reps 10] [--rounds 3]

1. The ET medium configuration's forward pass (batch 64, 3x32x32 images in 4x4 patches: 64 tokens,
   D 256, 8 heads x 32, 1024 memories, T 12, 32 patches masked), the same model (a checkpoint) timed
   by `hopfield et bench --checkpoint` (median of its reps) and by `EnergyTransformer.forward` from
   Python (median of as many calls, the numpy conversion included).
2. One training epoch on the bundled MNIST sample with the default settings: `hopfield et train
   --epochs 1` against `hopfield.train_et(epochs=1)`, each run `--rounds` times alternately; the
   training rate (images/s, from metrics.csv) and the wall time of the whole call (data loading,
   the test evaluation and the pictures included; the CLI's process start too).
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import hopfield
import numpy as np

REPO = Path(__file__).resolve().parents[1]


def rate(metrics: Path) -> float:
    with open(metrics) as f:
        return float(list(csv.DictReader(f))[-1]["images_per_second"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hopfield", default=str(REPO / "target" / "release" / "hopfield"))
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hopfield-overhead-"))
    rng = np.random.default_rng(0)

    # 1. The medium model, made by one short training run on random images (weights are weights).
    x = rng.integers(0, 256, (64, 3, 32, 32), dtype=np.uint8)
    y = rng.integers(0, 10, 64)
    medium = dict(patch=4, dim=256, heads=8, head_dim=32, memories=1024, steps=12, batch_size=64)
    hopfield.train_et((x, y, x, y), out=tmp / "medium", epochs=1, progress=False, **medium)
    ck = tmp / "medium" / "checkpoint"
    model = hopfield.EnergyTransformer.load(ck)
    out = subprocess.run(
        [
            a.hopfield,
            "et",
            "bench",
            "--checkpoint",
            str(ck),
            "--batch",
            "64",
            "--masked",
            "32",
            "--reps",
            str(a.reps),
            "--warmup",
            "2",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cli_forward = json.loads(out[out.index("{") :])["forward_ms"]
    mask = np.zeros(64, dtype=np.float32)
    mask[rng.choice(64, 32, replace=False)] = 1
    images = rng.random((64, 3, 32, 32)).astype(np.float32)
    times = []
    for i in range(2 + a.reps):
        t = time.perf_counter()
        model.forward(images, mask)
        if i >= 2:
            times.append((time.perf_counter() - t) * 1e3)
    py_forward = statistics.median(times)

    # 2. One epoch on the bundled sample, alternately.
    cli_rate, py_rate, cli_wall, py_wall = [], [], [], []
    for r in range(a.rounds):
        t = time.perf_counter()
        subprocess.run(
            [a.hopfield, "et", "train", "--epochs", "1", "--out", str(tmp / f"cli{r}")], capture_output=True, check=True
        )
        cli_wall.append(time.perf_counter() - t)
        cli_rate.append(rate(tmp / f"cli{r}" / "metrics.csv"))
        t = time.perf_counter()
        hopfield.train_et(out=tmp / f"py{r}", epochs=1, progress=False)
        py_wall.append(time.perf_counter() - t)
        py_rate.append(rate(tmp / f"py{r}" / "metrics.csv"))

    med = statistics.median
    print(f"{'work':<52} {'CLI':>10} {'Python':>10} {'Python/CLI':>11}")
    rows = [
        ("ET medium forward pass, batch 64 (ms, median)", cli_forward, py_forward),
        ("one epoch, mnist-sample: training rate (images/s)", med(cli_rate), med(py_rate)),
        ("one epoch, mnist-sample: whole call (s)", med(cli_wall), med(py_wall)),
    ]
    for name, c, p in rows:
        print(f"{name:<52} {c:>10.2f} {p:>10.2f} {p / c:>11.3f}")


if __name__ == "__main__":
    main()
