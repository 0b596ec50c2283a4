"""The demo's graph part from Python: the graph Energy Transformer on MUTAG (188 molecules,
bundled), 10-fold cross-validation beside a structure-blind MLP on the same folds.

    python examples/python/mutag.py [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import hopfield  # noqa: E402
from _plots import pyplot  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="2 folds of 5 epochs (as the tests run it)")
    ap.add_argument("--out", default="out/python-graph")
    a = ap.parse_args()
    folds, epochs = (2, 5) if a.quick else (None, 20)
    report = hopfield.graph_classify("MUTAG", max_folds=folds, epochs=epochs, progress=not a.quick)
    print(report.table)
    for f in report.write(a.out):
        print(f"  wrote {f}")
    plt = pyplot()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(8, 3.5))
        for model in ("ET", "MLP"):
            runs = [r for r in report.runs if r["model"] == model]
            acc = [100 * r["test_accuracy"] for r in runs]
            line = ax.plot(
                [r["fold"] for r in runs],
                acc,
                "o",
                label=f"{model} (mean {sum(acc) / len(acc):.1f}%)",
            )
            ax.axhline(sum(acc) / len(acc), color=line[0].get_color(), lw=0.8)
        ax.axhline(100 * report.majority, color="grey", ls=":", label="majority class")
        ax.set_xticks(sorted({r["fold"] for r in report.runs}))
        ax.set_xlabel("fold")
        ax.set_ylabel("test accuracy (%)")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
        fig.tight_layout()
        path = Path(a.out) / "python-folds.png"
        fig.savefig(path, dpi=100)
        print(f"  wrote {path}")


if __name__ == "__main__":
    main()
