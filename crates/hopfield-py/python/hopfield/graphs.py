"""Graphs with the graph Energy Transformer: classification by cross-validation and supervised
node anomaly detection, each beside a structure-blind MLP trained the same way; and unsupervised
node anomaly detection (the BOND protocol) beside label-free baselines."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from . import _native
from ._common import Callback, deep_merge, run_with, settings

Graphs = Union[str, "os.PathLike[str]", List[Dict[str, Any]]]

_SETTINGS = (
    "dim",
    "heads",
    "head_dim",
    "memories",
    "encodings",
    "random_walk",
    "self_loops",
    "edge_weights",
    "readout",
    "head_betas",
    "head_mixing",
    "noise",
    "epochs",
    "patience",
    "batch_size",
    "lr",
    "weight_decay",
    "seed",
)


def _canonical(values: Optional[Sequence[str]], names: Sequence[str], what: str) -> Optional[List[str]]:
    """`values` spelled as the library spells them (any case), or a ValueError naming the unknown one."""
    if values is None:
        return None
    known = {n.lower(): n for n in names}
    quoted = [repr(n) for n in names]
    expected = f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    out = []
    for v in values:
        if v.lower() not in known:
            raise ValueError(f"unknown {what} {v!r}: expected {expected}")
        out.append(known[v.lower()])
    return out


def _model_kinds(models: Optional[Sequence[str]]) -> Optional[List[str]]:
    return _canonical(models, ["ET", "GIN", "MLP"], "model")


def _check_model_settings(function: str, model: Dict[str, Any]) -> None:
    unknown = set(model) - set(_SETTINGS) - {"steps", "step_size"}
    if unknown:
        raise TypeError(f"{function}() got unexpected keyword argument(s) {', '.join(sorted(unknown))}")


def _graph_settings() -> Dict[str, Tuple[str, ...]]:
    paths: Dict[str, Tuple[str, ...]] = {k: ("settings", k) for k in _SETTINGS}
    paths["steps"] = ("settings", "descent", "steps")
    paths["step_size"] = ("settings", "descent", "step_size")
    return paths


@dataclass
class _Report:
    _r: Any  # the native report (GraphCvReport or NodeAnomalyReport of hopfield._native)

    @property
    def runs(self) -> List[Dict[str, Any]]:
        """Every model's run: per fold (or seed) its chosen epoch, validation and test figures, and
        the history of every epoch."""
        runs: List[Dict[str, Any]] = self._r.runs()
        return runs

    def summary(self) -> List[Dict[str, Any]]:
        """Each model's mean ± std over the folds (or seeds)."""
        summary: List[Dict[str, Any]] = self._r.summary()
        return summary

    @property
    def table(self) -> str:
        """The table the command line prints."""
        return str(self._r.table())

    def write(self, out: os.PathLike[str] | str) -> List[str]:
        """Writes the command line's CSVs and picture into the folder `out`; returns the files."""
        return [os.fspath(p) for p in self._r.write(os.fspath(out))]

    def __repr__(self) -> str:
        return self.table


class GraphCvReport(_Report):
    """A graph cross-validation: ``runs`` (per model and fold: ``best_epoch``, ``val_accuracy``,
    ``test_accuracy``, ``history``…), ``summary()`` (mean, std), ``folds`` (each fold's test
    graphs), ``majority`` (the most common class's share), ``table``, ``folds_csv``,
    ``selection`` and ``selection_csv`` (with ``select``) and ``write(out)`` (folds.csv,
    metrics.csv, selection.csv, attention.png, folds.txt when the folds were drawn)."""

    @property
    def folds(self) -> List[List[int]]:
        folds: List[List[int]] = self._r.folds()
        return folds

    @property
    def majority(self) -> float:
        return float(self._r.majority)

    @property
    def folds_csv(self) -> str:
        return str(self._r.folds_csv())

    @property
    def metrics_csv(self) -> str:
        return str(self._r.metrics_csv())

    @property
    def selection(self) -> List[Dict[str, Any]]:
        """With ``select``: every setting's validation figures per fold and model (``label``,
        ``best_epoch``, ``val_accuracy``, ``val_loss``, ``chosen``)."""
        rows: List[Dict[str, Any]] = self._r.selection()
        return rows

    @property
    def selection_csv(self) -> str:
        return str(self._r.selection_csv())


class NodeAnomalyReport(_Report):
    """Node anomaly detection over seeds: ``runs`` (per model and seed: ``best_epoch``,
    ``threshold``, ``test_auc``, ``test_auprc``, ``test_macro_f1``…), ``summary()`` (mean, std of
    each), ``table``, ``runs_csv`` and ``write(out)`` (runs.csv, metrics.csv, scores.png)."""

    @property
    def runs_csv(self) -> str:
        return str(self._r.runs_csv())

    @property
    def metrics_csv(self) -> str:
        return str(self._r.metrics_csv())


class NodeOutlierReport(_Report):
    """Unsupervised node anomaly detection over seeds: ``runs`` (per detector and seed: its
    ``figures`` — ``score``, ``auc``, ``auprc``, None where undefined — ``seconds`` and
    ``history``), ``summary()`` (per score: mean, std), ``scores`` (seed 0's score of every node,
    per score name), ``table``, ``runs_csv``, ``scores_csv`` and ``write(out)`` (runs.csv,
    metrics.csv, scores.csv, scores.png)."""

    @property
    def scores(self) -> Dict[str, Any]:
        """Seed 0's score of every node (a float64 array of n), per score name: ``ET`` (the
        reconstruction error), ``ET energy``, ``ET energy drop``, ``MLPAE``, ``LOF``, ``GAE``."""
        return dict(self._r.scores())

    @property
    def runs_csv(self) -> str:
        return str(self._r.runs_csv())

    @property
    def metrics_csv(self) -> str:
        return str(self._r.metrics_csv())

    @property
    def scores_csv(self) -> str:
        return str(self._r.scores_csv())


def graph_classify(
    data: Graphs = "MUTAG",
    *,
    folds: Optional[str] = None,
    max_folds: Optional[int] = None,
    models: Optional[Sequence[str]] = None,
    features: Optional[str] = None,
    validation: Optional[float] = None,
    degree_cap: Optional[int] = None,
    seed: int = 0,
    data_dir: Optional[str] = None,
    callback: Optional[Callback] = None,
    progress: bool = True,
    config: Optional[Dict[str, Any]] = None,
    checkpoint: Union[str, os.PathLike[str], None] = None,
    resume: bool = False,
    select: Union[str, os.PathLike[str], Dict[str, Any], List[Dict[str, Any]], None] = None,
    **model: Any,
) -> GraphCvReport:
    """Graph classification by k-fold cross-validation, as ``hopfield graph classify``.

    On every fold each model (default ET, then MLP; ``models=["ET", "GIN", "MLP"]`` adds GIN-0)
    trains on the training part less a stratified
    validation part (`validation`, default 0.1); the epoch with the best validation accuracy is
    chosen and its model measured once on the test fold.

    `data`: ``MUTAG`` (bundled), a TU set's name under ``<data_dir>/tu/`` or a folder of TU files,
    or a list of graphs as dicts with ``x`` [n, f], ``edge_index`` [2, e] and ``y`` (PyTorch
    Geometric's convention; ``x`` is the node attributes), and optionally integer ``node_labels``
    [n] and ``edge_labels`` [e] (one-hot node labels as features; edge labels for the learned
    edge weights, ``edge_weights=True``). Folds: the file `folds` (one line of
    0-based test indices per fold), else the set's ``DS_10fold_test_idx.txt``, else 10 stratified
    folds drawn from `seed`. `features`: auto, labels, attributes, both, degree.

    Model settings (keyword arguments; defaults those of the command line): dim 64, heads 4,
    head_dim 16, memories 128, steps 4, step_size 0.1, encodings 8 (Laplacian eigenvectors),
    self_loops False, edge_weights False, epochs 60, batch_size 32, lr 1e-3, weight_decay 1e-4;
    ``patience=p`` stops a run p epochs after its best validation epoch (``epochs`` is then the budget);
    ``readout``: ``"cls"`` (default), ``"cls-mean"`` or ``"cls-sum"`` (the CLS token beside the mean
    or sum of the node tokens); ``noise=σ`` adds N(0, σ²) to the training batches' node features;
    ``random_walk=K`` appends each node's random-walk return probabilities after 1..K steps to its
    features, for every model (0, the default: none); ``head_betas=True`` learns an inverse
    temperature β_h per attention head and ``head_mixing=True`` a mixing of the heads' logits
    (both start where they change nothing; the ET's steps then run on the tensor path, 1.6–2.6×
    slower).

    `select`: model selection on each fold's validation part, as ``--select``: a grid as a dict of
    lists (every combination), ``{"dim": [32, 64], "lr": [1e-3, 3e-3]}``, a list of dicts (each a
    setting), or the path of such a JSON file. Each setting is trained on the fold's training
    part, the best by validation chosen, and only it measured on the test fold; ``selection``
    holds every setting's validation figures, ``runs[i]["selected"]`` the chosen one. Keeps no
    checkpoint. ``random_walk`` may vary (``{"random_walk": [0, 16]}``: the encodings chosen per
    fold); ``encodings``, ``edge_weights`` and ``seed`` may not.

    `checkpoint`: a folder rewritten after every epoch of every fold and model (the finished
    folds' results, the fold in progress's model, optimiser state and best model); with
    ``resume=True`` and the same data and settings, the run saved there continues at its fold and
    epoch and ends with the uninterrupted run's figures (a finished one is read back; more
    `max_folds` may be asked for). A checkpoint of other settings or data raises
    :class:`CheckpointError` naming the difference.
    """
    _check_model_settings("graph_classify", model)
    changes: Dict[str, Any] = dict(
        models=_model_kinds(models),
        features=features,
        validation=validation,
        degree_cap=degree_cap,
        max_folds=max_folds,
        seed=seed,
        **model,
    )
    cfg = deep_merge(dict(config or {}), json.loads(settings(changes, _graph_settings())))
    if not isinstance(data, list):
        data = os.fspath(data)
    grid: Optional[str] = None
    if isinstance(select, (dict, list)):
        grid = json.dumps(select)
    elif select is not None:
        with open(os.fspath(select), encoding="utf-8") as f:
            grid = f.read()
    native = run_with(
        _native.graph_classify,
        callback,
        progress,
        data=data,
        config=json.dumps(cfg),
        folds=None if folds is None else os.fspath(folds),
        seed=seed,
        data_dir=None if data_dir is None else os.fspath(data_dir),
        checkpoint=None if checkpoint is None else os.fspath(checkpoint),
        resume=resume,
        select=grid,
    )
    return GraphCvReport(native)


def node_anomaly(
    data: Union[str, Dict[str, Any]],
    *,
    seeds: Optional[int] = None,
    train_fraction: Optional[float] = None,
    hops: Optional[int] = None,
    budget: Optional[int] = None,
    models: Optional[Sequence[str]] = None,
    data_dir: Optional[str] = None,
    callback: Optional[Callback] = None,
    progress: bool = True,
    config: Optional[Dict[str, Any]] = None,
    checkpoint: Union[str, os.PathLike[str], None] = None,
    resume: bool = False,
    **model: Any,
) -> NodeAnomalyReport:
    """Supervised node anomaly detection over seeds, as ``hopfield graph anomaly`` (the ET paper's
    protocol): per seed, nodes are split stratified (`train_fraction`, default 0.4, of each class
    for training, the rest 1:2 validation:test); each node is classified from its ego-graph
    (`hops` 2, at most `budget` 32 nodes); the epoch and the decision threshold are chosen on
    validation; the test figures are ROC-AUC, AUPRC and macro-F1.

    `data`: a graph's name under ``<data_dir>/graph-anomaly/`` or its folder (edges.txt,
    labels.txt, features.csv), or a dict with ``x`` [n, f], ``edge_index`` [2, e] and ``y`` [n]
    (0 normal, else anomalous). Defaults: 5 seeds, 20 epochs, and the model settings of
    :func:`graph_classify`. `checkpoint` and `resume` as for :func:`graph_classify`, per seed
    and model (more `seeds` may be asked for).
    """
    _check_model_settings("node_anomaly", model)
    changes: Dict[str, Any] = dict(models=_model_kinds(models), seeds=seeds, train_fraction=train_fraction, **model)
    paths = _graph_settings()
    paths.update(hops=("ego", "hops"), budget=("ego", "budget"))
    changes.update(hops=hops, budget=budget)
    cfg = deep_merge(dict(config or {}), json.loads(settings(changes, paths)))
    if not isinstance(data, dict):
        data = os.fspath(data)
    native = run_with(
        _native.node_anomaly,
        callback,
        progress,
        data=data,
        config=json.dumps(cfg),
        data_dir=None if data_dir is None else os.fspath(data_dir),
        checkpoint=None if checkpoint is None else os.fspath(checkpoint),
        resume=resume,
    )
    return NodeAnomalyReport(native)


def node_outliers(
    data: Union[str, Dict[str, Any]],
    *,
    seeds: Optional[int] = None,
    detectors: Optional[Sequence[str]] = None,
    hops: Optional[int] = None,
    budget: Optional[int] = None,
    mask_fraction: Optional[float] = None,
    samples: Optional[int] = None,
    scale: Optional[str] = None,
    lof_neighbours: Optional[int] = None,
    data_dir: Optional[str] = None,
    callback: Optional[Callback] = None,
    progress: bool = True,
    config: Optional[Dict[str, Any]] = None,
    **model: Any,
) -> NodeOutlierReport:
    """Unsupervised node anomaly detection under the BOND protocol, as ``hopfield graph anomaly
    --unsupervised``: every detector is fitted on the whole graph without labels and scores every
    node; labels are read only for ROC-AUC and AUPRC over all nodes (mean, std over `seeds`, 5).

    Detectors (`detectors`, default all): ``ET`` — the graph Energy Transformer trained by masked
    reconstruction on ego-graphs (`hops` 2, at most `budget` 32 nodes; the centre and a share
    `mask_fraction`, 0.6, of the others masked; `samples` 16,384 ego-graphs, or ``epochs``), each
    node scored by the error of its features reconstructed with it masked (its ego-graph's energy
    and the energy's drop are reported beside); ``MLPAE`` (an MLP autoencoder's error), ``LOF``
    (local outlier factor, `lof_neighbours` 20) and ``GAE`` (a DOMINANT-like graph autoencoder on
    the same ego-graphs). `scale`: ``global`` (default: BOND's raw geometry, centred and divided by
    one scale), ``columns`` (each standardised) or ``auto``.

    `data`: a graph's name or folder (``labels.txt`` optional), or a dict with ``x`` [n, f],
    ``edge_index`` [2, e] and optionally ``y`` [n] (without labels the figures are undefined; the
    scores are still given). Model settings as for :func:`graph_classify`.
    """
    _check_model_settings("node_outliers", model)
    kinds = _canonical(detectors, ["ET", "MLPAE", "LOF", "GAE"], "detector")
    epochs = model.pop("epochs", None)
    changes: Dict[str, Any] = dict(
        detectors=kinds,
        seeds=seeds,
        samples=samples,
        epochs=epochs,
        scale=scale,
        lof_neighbours=lof_neighbours,
        hops=hops,
        budget=budget,
        mask_fraction=mask_fraction,
        **model,
    )
    paths = _graph_settings()
    paths.update(
        hops=("reconstruction", "ego", "hops"),
        budget=("reconstruction", "ego", "budget"),
        mask_fraction=("reconstruction", "mask_fraction"),
    )
    cfg = deep_merge(dict(config or {}), json.loads(settings(changes, paths)))
    if not isinstance(data, dict):
        data = os.fspath(data)
    native = run_with(
        _native.node_outliers,
        callback,
        progress,
        data=data,
        config=json.dumps(cfg),
        data_dir=None if data_dir is None else os.fspath(data_dir),
    )
    return NodeOutlierReport(native)
