"""The demo's first part from Python: MNIST digits stored in a classical and in a dense memory,
recalled from cues with 20% of their pixels flipped.

    python examples/python/recall.py [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import hopfield  # noqa: E402
from _plots import pyplot  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer patterns (as the tests run it)")
    ap.add_argument("--out", default="out/python-recall")
    a = ap.parse_args()
    k = 20 if a.quick else 50
    x, _ = hopfield.mnist_sample("train")
    patterns = np.where(x[:k].reshape(k, -1) > 0.5, 1, -1).astype(np.int8)  # K = k binary digits, N = 784
    rng = np.random.default_rng(0)
    cues = patterns * np.where(rng.random(patterns.shape) < 0.2, -1, 1).astype(np.int8)  # flip 20%
    print(f"{k} MNIST digits (N = 784 pixels, black/white), cues with 20% of their pixels flipped")
    results = {}
    for name, memory in [
        ("classical  F(x) = x²/2", hopfield.DenseMemory(patterns, "classical")),
        (
            "dense      F(x) = max(x,0)^30",
            hopfield.DenseMemory(patterns, "rectified", n=30),
        ),
    ]:
        r = memory.retrieve(cues, seed=0)
        exact = float(np.mean((r.states == patterns).all(axis=1)))
        overlap = float(np.mean((r.states * patterns).sum(axis=1) / patterns.shape[1]))
        fell = all(np.all(np.diff(e[:, 1]) <= 1e-12) for e in r.energy)
        print(f"  {name}: {100 * exact:5.1f}% recalled exactly, mean overlap {overlap:.3f}, energy never rose: {fell}")
        results[name] = r
    plt = pyplot()
    if plt is not None:
        out = Path(a.out)
        out.mkdir(parents=True, exist_ok=True)
        fig, axes = plt.subplots(3, 6, figsize=(9, 4.8))
        dense = list(results.values())[1]
        for j in range(6):
            for i, (img, title) in enumerate(
                [
                    (cues[j], "cue"),
                    (dense.states[j], "recalled"),
                    (patterns[j], "stored"),
                ]
            ):
                axes[i, j].imshow(img.reshape(28, 28), cmap="gray")
                axes[i, j].set_axis_off()
                axes[i, j].set_title(title, fontsize=8)
        fig.savefig(out / "recall.png", dpi=100)
        print(f"  wrote {out / 'recall.png'}")


if __name__ == "__main__":
    main()
