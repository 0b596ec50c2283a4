"""The claims of the memories of 2023–2025 as sweeps (the library's ``experiments::families``, the
command line's ``hopfield sweep``), and the two-layer HAM classifier (``hopfield ham train``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import numpy as np

from . import _native
from ._common import Callback, run_with, settings


@dataclass
class SweepResult:
    """A sweep: its points (one dict per setting, as the CSV's rows), its table, the files written."""

    rows: List[Dict[str, Any]]
    table: str
    files: List[Path]

    def __repr__(self) -> str:
        return self.table


def _sweep(kind: str, changes: Mapping[str, Any], data: Optional[str], out: Optional[str]) -> SweepResult:
    rows, table, files = _native.sweep(kind, settings(dict(changes)), data, None, out)
    return SweepResult(rows, table, [Path(f) for f in files])


def sweep_sparse(*, data: Optional[str] = "mnist-sample", out: Optional[str] = None, **changes: Any) -> SweepResult:
    """One update of the modern Hopfield network with softmax, α-entmax, sparsemax and normmax:
    the relative error and the share of queries retrieved exactly, against β and against the load.

    `data` names the image set (its test split; ``None`` with ``patterns={"Random": {"neurons":
    N}}``); `changes` override the defaults of ``hopfield sweep sparse``: ``transforms`` (e.g.
    ``["Softmax", {"Entmax": {"alpha": 1.5}}, "Normmax"]``), ``betas``, ``load``, ``loads``,
    ``beta``, ``noise``, ``queries``, ``seed``. With `out`, writes sparse.csv and four pictures.
    """
    return _sweep("sparse", changes, data, out)


def sweep_lse_relu(*, out: Optional[str] = None, **changes: Any) -> SweepResult:
    """Stored and emergent minima of the log-sum-ReLU energy, counted exactly, against the load and
    the kernel width (uniform patterns in [0, 1]^dim), and a 2-D landscape. `changes`: ``dim``,
    ``loads``, ``widths``, ``seeds``, ``landscape_patterns``, ``landscape_width``, ``seed``."""
    return _sweep("lse-relu", changes, None, out)


def sweep_drdam(*, data: Optional[str] = "mnist-sample", out: Optional[str] = None, **changes: Any) -> SweepResult:
    """DrDAM's energy and retrieval error against the number of random features Y, beside the exact
    DAM on the same patterns and queries. `changes`: ``load``, ``beta``, ``features``, ``draws``,
    ``queries``, ``noise``, ``steps``, ``step_size``, ``patterns``, ``seed``."""
    return _sweep("drdam", changes, data, out)


class HamClassifier:
    """A trained two-layer HAM classifier (image clamped → hidden → label, dense synapses); made by
    :func:`train_ham`."""

    def __init__(self, native: _native.HamModel) -> None:
        self._m = native

    def forward(self, x: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """(logits [B, C], energy [T + 1, B]) for images x [B, ...] of values in [0, 1]."""
        return self._m.forward(x)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The label of each image: int64 [B]."""
        labels: np.ndarray = np.argmax(self.forward(x)[0], axis=1)
        return labels

    def score(self, x: np.ndarray, y: np.ndarray) -> float:
        """The share of images classified correctly."""
        return float(np.mean(self.predict(x) == np.asarray(y)))


@dataclass
class HamTraining:
    """What :func:`train_ham` gives: the model, every epoch's figures and the final result."""

    model: HamClassifier
    history: List[Dict[str, Any]]
    result: Dict[str, Any]


def train_ham(
    data: Any = "mnist-sample",
    *,
    hidden: int = 400,
    hidden_softmax: Optional[float] = None,
    steps: int = 5,
    step_size: float = 0.5,
    epochs: int = 10,
    batch_size: int = 100,
    lr: float = 1e-3,
    seed: int = 0,
    out: Optional[str] = None,
    callback: Optional[Callback] = None,
    progress: bool = False,
) -> HamTraining:
    """Trains the classic two-layer HAM by Adam through its `steps` Euler steps (``hopfield ham train``).

    `data` is a data set's name or path (its train split trained on, its test split tested), or
    the arrays ``(x, y, x_test, y_test)``. With `out`, writes metrics.csv and the pictures. Runs
    without the interpreter lock; `callback` gets each event as a dict; Ctrl-C stops it.
    """
    changes = dict(
        hidden=hidden,
        hidden_softmax=hidden_softmax,
        steps=steps,
        step_size=step_size,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
    )
    arrays = tuple(data) if isinstance(data, (tuple, list)) else None
    name = None if arrays is not None else str(data)
    native, history, result = run_with(
        _native.ham_train,
        callback,
        progress,
        config=settings(changes),
        out_dir=out,
        arrays=arrays,
        data=name,
    )
    return HamTraining(HamClassifier(native), history, result)
