"""The image Energy Transformer (Hoover et al., NeurIPS 2023): masked image reconstruction.

Notation (the crate's table): tokens x_A ∈ R^D (A = 1..N patches), g = LayerNorm(x) with gain γ
and bias δ, H heads of width Y with W^Q, W^K and inverse temperature β, M Hopfield memories ξ,
T descent steps of size α. The energy E(g) = E^ATT(g) + E^HN(g) with
E^ATT = −β⁻¹ Σ_h Σ_C log Σ_{B≠C} exp(β K_hB·Q_hC) and E^HN = −½ Σ_A Σ_μ ReLU(ξ_μ·g_A)²;
the forward pass is the descent x ← x − α ∂E/∂g, T times, with shared weights, so E falls.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import _native
from ._common import Callback, deep_merge, run_with, settings

_PATHS = {
    "steps": ("model", "descent", "steps"),
    "step_size": ("model", "descent", "step_size"),
    "patch": ("model", "patch"),
    "dim": ("model", "et", "dim"),
    "heads": ("model", "et", "heads"),
    "head_dim": ("model", "et", "head_dim"),
    "memories": ("model", "et", "memories"),
    "exclude_self": ("model", "et", "exclude_self"),
}


@dataclass
class Reconstruction:
    """A masked reconstruction.

    Attributes
    ----------
    reconstruction : float32 [B, C, H, W]
        The decoder's output after T steps at every patch, in the model's normalised space
        (pixel = value · std + mean per channel); as ``hopfield et reconstruct --save-npy``.
    energies : float32 [B, T + 1]
        E(g(x_t)) for t = 0..T: it never rises.
    input : float32 [B, C, H, W]
        The normalised input images.
    mask : float32 [B, N]
        1 where a patch's token was replaced by the MASK token.
    """

    reconstruction: np.ndarray
    energies: np.ndarray
    input: np.ndarray
    mask: np.ndarray

    def pixels(self, model: EnergyTransformer) -> np.ndarray:
        """The reconstruction in pixel space, clipped to [0, 1]."""
        mean, std = (np.asarray(v, dtype=np.float32).reshape(1, -1, 1, 1) for v in model.normalization)
        return np.asarray(np.clip(self.reconstruction * std + mean, 0.0, 1.0))


@dataclass
class DescentResult:
    """The descent on tokens: ``tokens`` [B, N, D] after T steps, ``energies`` [B, T + 1]."""

    tokens: np.ndarray
    energies: np.ndarray


class EnergyTransformer:
    """An image Energy Transformer (Hoover et al. 2023): load a checkpoint (:meth:`load`), import
    the official JAX model (:meth:`import_npz`), or train one (:func:`train_et`).

    An image [C, H, W] is cut into N patches of p×p, each encoded as a token x_A ∈ R^D (plus its
    position; MASK replaces the masked ones; a CLS token leads). The block's energy over the
    layer-normalised tokens g = LN(x) is E(g) = E^ATT(g) + E^HN(g), with
    E^ATT = −β⁻¹ Σ_h Σ_C log Σ_{B≠C} exp(β K_hB·Q_hC) (H heads of width Y, K = W^K g, Q = W^Q g) and
    E^HN = −½ Σ_A Σ_μ ReLU(ξ_μ·g_A)² (M memories ξ). The forward pass is x ← x − α ∂E/∂g, T times
    with the same weights, so E never rises; the tokens are then decoded into patches. Images are
    normalised per channel by the model's (mean, std) (:attr:`normalization`); reconstructions
    are returned in that normalised space (:meth:`Reconstruction.pixels` maps them back).
    """

    def __init__(self, native: _native.ImageEt) -> None:
        self._m = native
        self.ignored_keys: List[str] = []

    @classmethod
    def load(cls, path: os.PathLike[str] | str) -> EnergyTransformer:
        """Reads a checkpoint folder written by ``hopfield et train``, ``et import``, :func:`train_et`
        or :meth:`save`. A missing folder raises FileNotFoundError; a corrupt one CheckpointError."""
        return cls(_native.ImageEt.load(os.fspath(path)))

    @classmethod
    def import_npz(
        cls,
        path: os.PathLike[str] | str,
        *,
        image: Tuple[int, int, int] = (3, 224, 224),
        patch: int = 16,
        steps: int = 12,
        step_size: float = 0.1,
        masked: int = 100,
        mean: Sequence[float] = (0.485, 0.456, 0.406),
        std: Sequence[float] = (0.229, 0.224, 0.225),
    ) -> EnergyTransformer:
        """Imports the official model's weights (bhoov/energy-transformer-jax, saved as .npz) as
        ``hopfield et import`` does; defaults are the official ImageNet model's: 3×224×224 images in
        16×16 patches, T = 12, α = 0.1, 100 of 196 patches masked, ImageNet's normalisation."""
        native, ignored = _native.ImageEt.import_npz(
            os.fspath(path),
            (int(image[0]), int(image[1]), int(image[2])),
            patch,
            steps,
            step_size,
            masked,
            list(mean),
            list(std),
        )
        model = cls(native)
        model.ignored_keys = list(ignored)
        return model

    def save(self, path: os.PathLike[str] | str) -> None:
        """Writes the checkpoint folder `path` (model.safetensors, config.json)."""
        self._m.save(os.fspath(path))

    @property
    def config(self) -> Dict[str, Any]:
        """The training settings: model sizes, T and α (``model.descent``), masking, optimiser."""
        config: Dict[str, Any] = json.loads(self._m.config)
        return config

    @property
    def normalization(self) -> Tuple[List[float], List[float]]:
        """(mean, std) per channel of the model's input normalisation."""
        return self._m.normalization

    @property
    def patches(self) -> int:
        """N, the patches (tokens) per image."""
        return self._m.patches

    @property
    def dim(self) -> int:
        """D, the token dimension."""
        return self._m.dim

    def reconstruct(
        self,
        images: np.ndarray,
        mask: Optional[np.ndarray] = None,
        *,
        seed: int = 0,
        steps: Optional[int] = None,
        step_size: Optional[float] = None,
    ) -> Reconstruction:
        """Reconstructs masked patches of `images` ([B, C, H, W] or [C, H, W]; floats in [0, 1] or
        uint8), recording the energy of every step.

        `mask`: 0/1 per patch ([N] for every image, or [B, N]), 1 = replaced by the MASK token;
        default, random masks drawn from `seed` as in training. `steps` (T) and `step_size` (α)
        default to the model's.
        """
        return Reconstruction(*self._m.reconstruct(images, mask, seed, steps, step_size))

    def forward(
        self,
        images: np.ndarray,
        mask: Optional[np.ndarray] = None,
        *,
        seed: int = 0,
        steps: Optional[int] = None,
        step_size: Optional[float] = None,
    ) -> np.ndarray:
        """The model's inference on `images` (as :meth:`reconstruct` takes them): the decoder's
        output after T steps, float32 [B, C, H, W] in the normalised space, computed on the fast
        path without recording energies (what training and ``hopfield et bench`` time)."""
        return self._m.forward(images, mask, seed, steps, step_size)

    def descend(
        self,
        tokens: np.ndarray,
        real: Optional[np.ndarray] = None,
        *,
        steps: Optional[int] = None,
        step_size: Optional[float] = None,
    ) -> DescentResult:
        """The block's descent on any tokens [B, N, D] (float32; float64 is rounded):
        x ← x − α ∂E/∂g, T times, recording E(g(x_t)) for t = 0..T. `real` [B, N] marks real
        tokens (1) and padding (0)."""
        return DescentResult(*self._m.descend(tokens, real, steps, step_size))

    def evaluate(self, data: Optional[str] = None, data_dir: Optional[str] = None) -> Dict[str, float]:
        """The test split's masked-patch MSE (``mse``) beside the same model with T = 0
        (``mse_no_dynamics``) and the mean training patch (``mse_mean_patch``), on the masks of
        ``hopfield et eval`` (default data: the set the model was trained on)."""
        return self._m.evaluate(data, None if data_dir is None else os.fspath(data_dir))

    def __repr__(self) -> str:
        c = self.config
        m = c["model"]
        return (
            f"EnergyTransformer(image={tuple(m['image'])}, patch={m['patch']}, D={m['et']['dim']}, "
            f"H={m['et']['heads']}, Y={m['et']['head_dim']}, M={m['et']['memories']}, "
            f"T={m['descent']['steps']}, alpha={m['descent']['step_size']})"
        )


@dataclass
class EtTraining:
    """What :func:`train_et` gave: the model (read back from its checkpoint), each epoch's
    figures (``train_loss``, ``eval`` with ``mse``, ``mse_no_dynamics``, ``mse_mean_patch``,
    ``images_per_second``) and the files written."""

    model: EnergyTransformer
    history: List[Dict[str, Any]]
    files: List[str] = field(default_factory=list)


def train_et(
    data: Any = "mnist-sample",
    *,
    out: os.PathLike[str] | str = "out/et-train",
    checkpoint: Optional[str] = None,
    resume: Optional[str] = None,
    data_dir: Optional[str] = None,
    callback: Optional[Callback] = None,
    progress: bool = True,
    config: Optional[Dict[str, Any]] = None,
    epochs: Optional[int] = None,
    batch_size: Optional[int] = None,
    lr: Optional[float] = None,
    warmup: Optional[int] = None,
    patch: Optional[int] = None,
    mask_fraction: Optional[float] = None,
    replaced_share: Optional[float] = None,
    steps: Optional[int] = None,
    step_size: Optional[float] = None,
    dim: Optional[int] = None,
    heads: Optional[int] = None,
    head_dim: Optional[int] = None,
    memories: Optional[int] = None,
    exclude_self: Optional[bool] = None,
    weight_decay: Optional[float] = None,
    clip: Optional[float] = None,
    seed: Optional[int] = None,
) -> EtTraining:
    """Trains the image Energy Transformer by masked-patch reconstruction, as ``hopfield et train``.

    `data`: a data set's name or path (default the bundled ``mnist-sample``), or a tuple of arrays
    ``(x, y, x_test, y_test)`` (images [B, C, H, W] in [0, 1] or uint8, class indices [B]).
    Defaults are the command line's: 5 epochs, batch 32, lr 4e-3 (10 warm-up steps), AdamW with
    weight decay 0.05, clip 1.0; patches of 7 for 28×28 images; half the patches scored, 90% of
    them replaced by MASK; D = 64, H = 4, Y = 16, M = 128, T = 6, α = 0.1. `config` takes the
    nested settings (see ``EnergyTransformer.config``); a key it lacks is a ValueError.

    Writes ``out/metrics.csv``, the pictures (et-reconstruction.png, et-steps.png,
    et-energy.png, et-memories.png) and a checkpoint after every epoch (``out/checkpoint``, or
    `checkpoint`). `resume` continues a checkpoint's run up to `epochs`. Ctrl-C stops before the
    next batch (KeyboardInterrupt), the last finished epoch's checkpoint kept and loadable.
    """
    changes = dict(
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        warmup=warmup,
        patch=patch,
        mask_fraction=mask_fraction,
        replaced_share=replaced_share,
        steps=steps,
        step_size=step_size,
        dim=dim,
        heads=heads,
        head_dim=head_dim,
        memories=memories,
        exclude_self=exclude_self,
        weight_decay=weight_decay,
        clip=clip,
        seed=seed,
    )
    merged = deep_merge(dict(config or {}), json.loads(settings(changes, _PATHS)))
    arrays = None
    name: Optional[str] = None
    if isinstance(data, (tuple, list)):
        if len(data) != 4:
            raise ValueError(f"data: expected a name or (x, y, x_test, y_test), got a sequence of {len(data)}")
        arrays = tuple(data)
    elif data is not None:
        name = os.fspath(data)
    native, history, files = run_with(
        _native.train_et,
        callback,
        progress,
        config=json.dumps(merged),
        out_dir=os.fspath(out),
        data=name,
        arrays=arrays,
        checkpoint=None if checkpoint is None else os.fspath(checkpoint),
        resume=None if resume is None else os.fspath(resume),
        data_dir=None if data_dir is None else os.fspath(data_dir),
    )
    return EtTraining(EnergyTransformer(native), history, [os.fspath(f) for f in files])
