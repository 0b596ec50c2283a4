"""Associative memories: the binary Dense Associative Memory, the continuous modern Hopfield network
(with softmax or a sparse transform), the log-sum-ReLU (Epanechnikov) memory, and the random-feature
DAM (DrDAM) beside its exact Gaussian DAM.

Notation (the crate's table): N neurons, K stored memories ξ^μ, state σ, overlap m_μ = ξ^μ·σ,
separation function F, energy E, inverse temperature β.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _native
from ._common import Callback, settings

_SEPARATIONS = ("classical", "polynomial", "rectified", "exponential")


def _separation(kind: str, n: Optional[int]) -> str:
    kind = kind.lower().replace("_", "-")
    if kind == "classical":
        return json.dumps("Classical")
    if kind == "exponential":
        return json.dumps("Exponential")
    if kind in ("polynomial", "rectified", "rectified-polynomial"):
        if n is None:
            raise ValueError(f"separation {kind!r} needs its degree n (n >= 2)")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"n: expected an integer degree, got {type(n).__name__}")
        if n < 2:
            raise ValueError(f"invalid n = {n}: the polynomial degree must be at least 2")
        name = "Polynomial" if kind == "polynomial" else "RectifiedPolynomial"
        return json.dumps({name: {"n": int(n)}})
    raise ValueError(f"unknown separation {kind!r}: expected one of {', '.join(_SEPARATIONS)}")


@dataclass
class Retrieval:
    """What a retrieval gave.

    Attributes
    ----------
    states : array [B, N]
        The final states (int8 ±1 for the dense memory, float64 for the modern network).
    steps : int64 array [B]
        Sweeps (dense: one sweep = N neuron updates) or updates (modern) each cue took.
    converged : bool array [B]
        Whether each cue reached a fixed point within the bound.
    energy : list of arrays
        Per cue, the energy trace: dense, [S, 2] rows of (time in sweeps, E / F(N)); modern,
        [updates + 1] energies starting with the cue's.
    """

    states: np.ndarray
    steps: np.ndarray
    converged: np.ndarray
    energy: List[np.ndarray]


class _Memory:
    """What every memory with stored patterns reports: N and K."""

    _m: Union[_native.DenseMemory, _native.ModernHopfield, _native.LogSumRelu]

    @property
    def neurons(self) -> int:
        """N."""
        return self._m.neurons

    @property
    def memories(self) -> int:
        """K."""
        return self._m.memories


class DenseMemory(_Memory):
    """The binary Dense Associative Memory (Krotov & Hopfield 2016; Demircigil et al. 2017).

    Energy E(σ) = −Σ_μ F(ξ^μ·σ) over states σ ∈ {−1, +1}^N, reported in units of F(N)
    (``E / F(N)``, the contribution of one perfectly matched memory). Neuron i is set to the
    sign of Σ_μ [F(ξ^μ_i + s_μ) − F(−ξ^μ_i + s_μ)], s_μ = Σ_{j≠i} ξ^μ_j σ_j, which never raises E
    (asynchronous updates).

    Parameters
    ----------
    patterns : integer array [K, N] of ±1
        The memories ξ^μ, one per row.
    separation : {"classical", "polynomial", "rectified", "exponential"}, default "polynomial"
        F(x) = x²/2 (the classical Hopfield network, capacity ≈ 0.14 N), xⁿ, max(x, 0)ⁿ
        (capacity ∝ N^(n−1)), or eˣ (capacity ∝ 2^(N/2)).
    n : int, default 3
        The degree of the polynomial kinds (2 ≤ n ≤ 1000); ignored by the others.
    """

    _m: _native.DenseMemory

    def __init__(self, patterns: np.ndarray, separation: str = "polynomial", n: Optional[int] = 3) -> None:
        uses_n = separation.lower() not in ("classical", "exponential")
        self._m = _native.DenseMemory(patterns, _separation(separation, n if uses_n else None))

    @property
    def patterns(self) -> np.ndarray:
        """ξ: int8 [K, N]."""
        return self._m.patterns()

    def energy(self, states: np.ndarray) -> np.ndarray:
        """E(σ) / F(N) of each state: states ±1 [B, N] (or [N]) → float64 [B]."""
        return self._m.energy(states)

    def retrieve(
        self,
        cues: np.ndarray,
        *,
        synchronous: bool = False,
        max_sweeps: int = 50,
        record_every: int = 0,
        seed: int = 0,
    ) -> Retrieval:
        """Runs the dynamics from each cue (±1 [B, N] or [N]) until a sweep changes nothing.

        Asynchronous updates (default) visit the neurons in a fresh random order each sweep
        (drawn from `seed`) and never raise the energy; ``synchronous=True`` updates all neurons
        at once (may oscillate). At most `max_sweeps` sweeps; the energy is recorded every
        `record_every` neuron updates (0: once per sweep).
        """
        s, sweeps, conv, _flips, energy = self._m.retrieve(cues, synchronous, max_sweeps, record_every, seed)
        return Retrieval(s, sweeps, conv, energy)

    def __repr__(self) -> str:
        sep = json.loads(self._m.separation)
        return f"DenseMemory(N={self.neurons}, K={self.memories}, separation={sep})"


class ModernHopfield(_Memory):
    """The continuous modern Hopfield network (Ramsauer et al. 2020): its update *is* attention.

    Energy E(ξ) = −β⁻¹ log Σ_μ exp(β x_μᵀξ) + ½ ξᵀξ + β⁻¹ log K + ½ M² (M = max_μ ‖x_μ‖);
    update ξ ← Xᵀ softmax(β X ξ), which never raises E. Computed in float64.

    With a sparse ``transform`` (Hu et al. 2023; Santos et al. 2024) the update is
    ξ ← Xᵀ ŷ_Ω(β X ξ) and the energy −β⁻¹(Ω*(βXξ) − Ω*(0)) + ½ ξᵀξ + ½ M²: past the margin bound
    (β·margin ≥ 1/(α − 1) for α-entmax, ≥ 1 for normmax) one update lands exactly on the pattern.

    Parameters
    ----------
    patterns : float array [K, N]
        The stored patterns x_μ, one per row (float32 is widened to float64).
    beta : float, default 1.0
        The inverse temperature β > 0.
    transform : str, default "softmax"
        "softmax", "sparsemax", "normmax", "entmax" (α = 1.5), "<α>-entmax" or "entmax:<α>"
        (α in [1, 2]).
    """

    _m: _native.ModernHopfield

    def __init__(self, patterns: np.ndarray, beta: float = 1.0, transform: str = "softmax") -> None:
        self._m = _native.ModernHopfield(patterns, float(beta), str(transform))

    @property
    def transform(self) -> str:
        """The map from scores to weights: "softmax", "sparsemax", "1.5-entmax", "normmax"."""
        return self._m.transform

    @property
    def beta(self) -> float:
        """β."""
        return self._m.beta

    @property
    def patterns(self) -> np.ndarray:
        """X: float64 [K, N]."""
        return self._m.patterns()

    def energy(self, states: np.ndarray) -> np.ndarray:
        """E(ξ) of each state: [B, N] (or [N]) → float64 [B]."""
        return self._m.energy(states)

    def attention(self, states: np.ndarray) -> np.ndarray:
        """softmax(β X ξ) of each state: [B, N] → [B, K]."""
        return self._m.attention(states)

    def update(self, states: np.ndarray) -> np.ndarray:
        """One update ξ ← Xᵀ softmax(β X ξ): [B, N] → [B, N]."""
        return self._m.update(states)

    def retrieve(
        self, cues: np.ndarray, *, tolerance: float = 1e-6, max_steps: int = 100, record_energy: bool = True
    ) -> Retrieval:
        """Updates each cue ([B, N] or [N]) until no entry moves by more than `tolerance` (at most
        `max_steps` updates); with `record_energy`, every cue's energy after every update."""
        s, steps, _all, energy = self._m.retrieve(cues, float(tolerance), int(max_steps), bool(record_energy))
        converged = steps < max_steps
        if _all:
            converged = np.ones_like(converged, dtype=bool)
        return Retrieval(s, steps, converged, energy)

    def __repr__(self) -> str:
        return f"ModernHopfield(N={self.neurons}, K={self.memories}, beta={self.beta}, transform={self.transform!r})"


@dataclass
class Settled:
    """Where a log-sum-ReLU retrieval stopped: the state, the patterns active there (empty: no
    kernel reached the query), the updates made, and the energy before each and after the last."""

    state: np.ndarray
    members: List[int]
    steps: int
    energy: np.ndarray


@dataclass
class Minima:
    """Every local minimum of a log-sum-ReLU memory: points [M, N], the patterns active at each
    (one: a stored pattern; more: emergent), and their energies [M]."""

    points: np.ndarray
    members: List[List[int]]
    energy: np.ndarray

    @property
    def stored(self) -> int:
        """How many minima are stored patterns."""
        return sum(1 for m in self.members if len(m) == 1)

    @property
    def emergent(self) -> int:
        """How many minima are centroids of two or more patterns."""
        return len(self.members) - self.stored


class LogSumRelu(_Memory):
    """The log-sum-ReLU (Epanechnikov) memory (Hoover et al., NeurIPS 2025).

    E(x) = −β⁻¹ log(ε + Σ_μ ReLU(1 − (β/2)‖x − ξ_μ‖²)), kernels of width r = √(2/β). The update
    x ← centroid of the patterns whose kernel covers x never raises E and stops exactly; every local
    minimum is such a centroid, and :meth:`local_minima` finds them all.

    Parameters
    ----------
    patterns : float array [K, N]
    width : float
        r > 0.
    eps : float, default 0.0
        ε ≥ 0 (0: E = +∞ where no kernel reaches).
    """

    _m: _native.LogSumRelu

    def __init__(self, patterns: np.ndarray, width: float, eps: float = 0.0) -> None:
        self._m = _native.LogSumRelu(patterns, float(width), float(eps))

    @property
    def width(self) -> float:
        """r = √(2/β)."""
        return self._m.width

    def energy(self, x: np.ndarray) -> float:
        """E(x) of one state [N]."""
        return self._m.energy(x)

    def gradient(self, x: np.ndarray) -> np.ndarray:
        """∇E(x) = Σ_{active μ} (x − ξ_μ) / (ε + f(x)) of one state [N]."""
        return self._m.gradient(x)

    def retrieve(self, x: np.ndarray, *, max_steps: int = 100) -> Settled:
        """Centroid updates from `x` until the active set repeats (a fixed point, exactly)."""
        state, members, steps, energy = self._m.retrieve(x, int(max_steps))
        return Settled(state, list(members), int(steps), energy)

    def local_minima(self) -> Minima:
        """Every local minimum, found exactly (an error when the kernels overlap in too many sets)."""
        points, members, energy = self._m.local_minima()
        return Minima(points, [list(m) for m in members], energy)

    def __repr__(self) -> str:
        return f"LogSumRelu(N={self.neurons}, K={self.memories}, width={self.width})"


@dataclass
class Descent:
    """A gradient descent x ← x − α ∇E: the final state and the energy before each step and after the last."""

    state: np.ndarray
    energy: np.ndarray


class _KernelDam:
    """What the exact Gaussian DAM and DrDAM share: the energy, its gradient and the descent."""

    _m: _native.KernelDam

    @property
    def neurons(self) -> int:
        """N."""
        return self._m.neurons

    @property
    def stored(self) -> int:
        """Memories stored."""
        return self._m.stored

    @property
    def parameters(self) -> int:
        """Parameters held: K·N (exact) or Y·N + 2Y (DrDAM, whatever K is)."""
        return self._m.parameters

    def energy_and_gradient(self, x: np.ndarray) -> Tuple[float, np.ndarray]:
        """(E(x), ∇E(x)) of one state [N]."""
        return self._m.energy_and_gradient(x)

    def descend(self, x: np.ndarray, *, steps: int = 10, alpha: float = 0.05) -> Descent:
        """`steps` steps of x ← x − α ∇E from `x`."""
        return Descent(*self._m.descend(x, int(steps), float(alpha)))


class GaussianDam(_KernelDam):
    """The exponential DAM with Gaussian similarity, one slot per memory (DrDAM's MrDAM):
    E(x) = −β⁻¹ log Σ_μ exp(−(β/2)‖x − ξ_μ‖²)."""

    def __init__(self, patterns: np.ndarray, beta: float) -> None:
        self._m = _native.KernelDam.exact(patterns, float(beta))


class RandomFeatureDam(_KernelDam):
    """DrDAM (Hoover et al., NeurIPS 2024): the Gaussian DAM through Y random Fourier features,
    Ẽ(x) = −β⁻¹ log(φ(x)·T), T = Σ_μ φ(ξ_μ). :meth:`store` adds memories to T; the Y·N + 2Y
    parameters do not grow with K. φ·T is clipped at 1e-5, as in the paper's code.

    Parameters
    ----------
    neurons : int
        N.
    features : int
        Y ≥ 1.
    beta : float
        β > 0.
    seed : int, default 0
        Seed of the random frequencies.
    """

    def __init__(self, neurons: int, features: int, beta: float, seed: int = 0) -> None:
        self._m = _native.KernelDam.features(int(neurons), int(features), float(beta), int(seed))

    def store(self, patterns: np.ndarray) -> None:
        """Adds the memories `patterns` [K, N] to T."""
        self._m.store(patterns)


@dataclass
class CapacityResult:
    """A capacity sweep: one row per (separation, load) with the measured and predicted
    probability that a neuron of a stored pattern flips, and the share of patterns retrieved."""

    rows: List[Dict[str, Any]]
    table: str

    def __repr__(self) -> str:
        return self.table


def capacity(
    separations: Sequence[Any] = ("classical",),
    *,
    neurons: int = 200,
    loads: Optional[Sequence[int]] = None,
    trials: int = 4,
    probes: int = 25,
    seed: int = 0,
    callback: Optional[Callback] = None,
) -> CapacityResult:
    """The capacity experiment of ``hopfield capacity``: for each separation and load K, store K
    random patterns of N neurons, start from each stored pattern and measure the share of neurons
    that flip (against the theory's prediction where there is one) and of patterns retrieved.

    Parameters
    ----------
    separations : sequence, default ("classical",)
        Each "classical", "exponential", or ("polynomial" | "rectified", n).
    neurons : int, default 200
        N.
    loads : sequence of int, optional
        The K to try (default: a range around each separation's predicted capacity).
    trials, probes : int, default 4, 25
        Random pattern sets per load, and stored patterns probed per set.
    seed : int, default 0
    callback : callable, optional
        Called after each load with ``{"event": "step", "done", "total", "separation",
        "memories"}``. Each load is measured without the interpreter lock; Ctrl-C stops the sweep
        between two loads (KeyboardInterrupt).
    """
    seps = []
    for s in separations:
        if isinstance(s, str):
            seps.append(json.loads(_separation(s, None if s in ("classical", "exponential") else 3)))
        else:
            kind, n = s
            seps.append(json.loads(_separation(kind, n)))
    changes = dict(
        separations=seps,
        neurons=neurons,
        loads=None if loads is None else list(loads),
        trials=trials,
        probes=probes,
        seed=seed,
    )
    rows, table = _native.capacity_sweep(settings(changes), callback)
    return CapacityResult(rows, table)
