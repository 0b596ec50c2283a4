"""The demo's Energy Transformer part from Python: trained on the bundled MNIST sample to
reconstruct masked patches, beside both baselines; then one test digit's descent.

    python examples/python/energy_transformer.py [--quick] [--out DIR]
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
    ap.add_argument("--quick", action="store_true", help="2 epochs (as the tests run it)")
    ap.add_argument("--out", default="out/python-et")
    a = ap.parse_args()
    epochs = 2 if a.quick else 8
    run = hopfield.train_et("mnist-sample", out=a.out, epochs=epochs, progress=not a.quick)
    first, last = run.history[0]["eval"], run.history[-1]["eval"]
    print(f"{run.model}")
    print(f"test masked-patch MSE {first['mse']:.3f} after epoch 1 -> {last['mse']:.3f} after epoch {epochs}")
    print(
        f"  mean training patch {last['mse_mean_patch']:.3f}, same model without the descent (T = 0) "
        f"{last['mse_no_dynamics']:.3f}"
    )
    x, _ = hopfield.mnist_sample("test")
    r = run.model.reconstruct(x[:6], seed=1)
    falls = bool(np.all(np.diff(r.energies, axis=1) <= 0))
    print(
        f"energy of test digit 0 over the descent: {[round(float(e), 1) for e in r.energies[0]]} (never rises: {falls})"
    )
    plt = pyplot()
    if plt is not None:
        pixels = r.pixels(run.model)
        side = int(np.sqrt(run.model.patches))  # 4 × 4 patches of 7 × 7
        hidden = [np.kron(m.reshape(side, side), np.ones((28 // side, 28 // side))) > 0 for m in r.mask]
        fig, axes = plt.subplots(3, 6, figsize=(9, 4.8))
        for j in range(6):
            rows = [
                (x[j, 0], "original"),
                (np.where(hidden[j], 0.5, x[j, 0]), "masked"),  # grey: the MASK token
                (np.where(hidden[j], pixels[j, 0], x[j, 0]), "reconstructed"),
            ]
            for i, (img, title) in enumerate(rows):
                axes[i, j].imshow(img, cmap="gray", vmin=0, vmax=1)
                axes[i, j].set_axis_off()
                axes[i, j].set_title(title, fontsize=8)
        path = Path(a.out) / "python-reconstruction.png"
        fig.savefig(path, dpi=100)
        print(f"  wrote {path}")


if __name__ == "__main__":
    main()
