"""The Dense Associative Memory classifier (Krotov & Hopfield 2016) on images."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Dict, List, Optional, Union

import numpy as np

from . import _native
from ._common import Callback, run_with, settings


class DamClassifier:
    """The Dense Associative Memory classifier of Krotov & Hopfield (2016), trained as in their
    public code (and as ``hopfield dam train``).

    K memories ξ^μ over N visible neurons v ∈ [−1, 1]^N (the pixels as 2·x − 1) and C class
    neurons, F(x) = max(x, 0)ⁿ. Class α is read out with every class neuron off:
    c_α = tanh(β Σ_μ [F(ξ^μ_α − Σ_{γ≠α} ξ^μ_γ + Σ_i ξ^μ_i v_i) − F(−ξ^μ_α − Σ_{γ≠α} ξ^μ_γ + Σ_i ξ^μ_i v_i)]),
    β = 1/Tⁿ; the loss is Σ_α (c_α − t_α)^(2m) with targets t = ±1, minimised by minibatch
    gradient descent with momentum.

    Parameters (defaults: those of ``hopfield dam train``)
    ----------
    memories : int, default 100
        K.
    n : int, default 20
        The degree of F.
    m : int, default 30
        The loss power 2m.
    temperature : float, default 540
        T (β = 1/Tⁿ); with `temperature_final`, the first epoch's.
    temperature_final : float, optional
        T ramps linearly to this over `temperature_ramp` epochs (default 200).
    epochs : int, default 300
    batch_size : int, default 1000
    lr : float, default 0.04
        ε, multiplied by `lr_decay` (0.998) every epoch.
    momentum : float, default 0.6
    init_mean, init_std : float, default −0.3, 0.3
        The initial memories' normal distribution (clipped to [−1, 1]).
    seed : int, default 0

    Images are pixel intensities in [0, 1] (float, or uint8 divided by 255), [B, C, H, W],
    [B, H, W] or [B, N]; training stores them at 8 bits (the data layer's format).
    """

    def __init__(
        self,
        memories: int = 100,
        n: int = 20,
        m: int = 30,
        temperature: float = 540.0,
        *,
        temperature_final: Optional[float] = None,
        temperature_ramp: int = 200,
        epochs: int = 300,
        batch_size: int = 1000,
        lr: float = 0.04,
        lr_decay: float = 0.998,
        momentum: float = 0.6,
        init_mean: float = -0.3,
        init_std: float = 0.3,
        seed: int = 0,
    ) -> None:
        self.params: Dict[str, Any] = dict(
            memories=memories,
            n=n,
            m=m,
            temperature=temperature,
            temperature_final=temperature_final,
            temperature_ramp=temperature_ramp,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            lr_decay=lr_decay,
            momentum=momentum,
            init_mean=init_mean,
            init_std=init_std,
            seed=seed,
        )
        self._model: Optional[_native.DamModel] = None
        self.history_: List[Dict[str, Any]] = []

    def fit(
        self,
        x: Union[np.ndarray, str],
        y: Optional[np.ndarray] = None,
        *,
        x_test: Optional[np.ndarray] = None,
        y_test: Optional[np.ndarray] = None,
        out: Optional[str] = None,
        data_dir: Optional[str] = None,
        callback: Optional[Callback] = None,
        progress: bool = True,
    ) -> DamClassifier:
        """Trains on images `x` with class indices `y` [B], or on the data set named `x` (e.g.
        ``"digits"``, ``"mnist-sample"``, a path; its train split, tested on its test split).

        After every epoch the classifier is tested on (`x_test`, `y_test`) (default: the training
        set, so ``history_``'s ``test_error`` is then a training error) and a checkpoint is
        written into ``out/checkpoint`` with ``out/metrics.csv`` and the pictures memories.png and
        errors.png (default `out`: a temporary folder, removed after). `callback` receives each
        event as a dict; `progress` shows a tqdm bar when tqdm is installed. Ctrl-C stops before
        the next batch (KeyboardInterrupt) with the last finished epoch's checkpoint kept.
        """
        cfg = settings(self.params)
        kwargs: Dict[str, Any] = dict(config=cfg, data_dir=None if data_dir is None else os.fspath(data_dir))
        if isinstance(x, (str, os.PathLike)):
            if y is not None or x_test is not None or y_test is not None:
                raise ValueError("a data set's name brings its own labels and test split: give no y, x_test, y_test")
            kwargs["data"] = os.fspath(x)
        else:
            if y is None:
                raise ValueError("y: the class index of each image is needed to train")
            if (x_test is None) != (y_test is None):
                raise ValueError("give both x_test and y_test, or neither")
            if x_test is None:
                x_test, y_test = x, y
            kwargs["arrays"] = (x, y, x_test, y_test)
        if out is None:
            with tempfile.TemporaryDirectory(prefix="hopfield-dam-") as tmp:
                self._model, self.history_ = run_with(_native.DamModel.fit, callback, progress, out_dir=tmp, **kwargs)
        else:
            self._model, self.history_ = run_with(
                _native.DamModel.fit, callback, progress, out_dir=os.fspath(out), **kwargs
            )
        return self

    def _fitted(self) -> _native.DamModel:
        if self._model is None:
            raise RuntimeError("this DamClassifier is not fitted yet: call fit(x, y) or DamClassifier.load(path)")
        return self._model

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The class of each image: argmax_α c_α. → int64 [B]."""
        return self._fitted().predict(x)

    def outputs(self, x: np.ndarray) -> np.ndarray:
        """The class neurons' outputs c_α ∈ [−1, 1]: float64 [B, C]."""
        return self._fitted().outputs(x)

    def score(self, x: np.ndarray, y: np.ndarray) -> float:
        """Accuracy: the share of images whose predicted class is `y`."""
        y = np.asarray(y)
        pred = self.predict(x)
        if y.shape != pred.shape:
            raise ValueError(f"y: expected shape {pred.shape}, got {y.shape}")
        return float(np.mean(pred == y))

    @property
    def memories_(self) -> np.ndarray:
        """ξ: float32 [K, N + C], each memory's visible part then its class part."""
        return self._fitted().memories()

    def save(self, path: os.PathLike[str] | str) -> None:
        """Writes the checkpoint folder `path` (memories.npy, config.json), readable by
        :meth:`load` and by ``hopfield dam eval``."""
        self._fitted().save(os.fspath(path))

    @classmethod
    def load(cls, path: os.PathLike[str] | str) -> DamClassifier:
        """Reads a checkpoint folder (from :meth:`save`, :meth:`fit` or ``hopfield dam train``)."""
        model = _native.DamModel.load(os.fspath(path))
        params = json.loads(model.config)
        self = cls(**{k: v for k, v in params.items() if k in DamClassifier().params})
        self._model = model
        return self

    def __repr__(self) -> str:
        p = self.params
        state = "fitted" if self._model is not None else "not fitted"
        return f"DamClassifier(K={p['memories']}, n={p['n']}, m={p['m']}, T={p['temperature']}; {state})"
