"""Associative memories: the binary Dense Associative Memory and the continuous modern Hopfield network.

Notation (the crate's table): N neurons, K stored memories ξ^μ, state σ, overlap m_μ = ξ^μ·σ,
separation function F, energy E, inverse temperature β.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

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


class DenseMemory:
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

    def __init__(self, patterns: np.ndarray, separation: str = "polynomial", n: Optional[int] = 3) -> None:
        uses_n = separation.lower() not in ("classical", "exponential")
        self._m = _native.DenseMemory(patterns, _separation(separation, n if uses_n else None))

    @property
    def neurons(self) -> int:
        """N."""
        return self._m.neurons

    @property
    def memories(self) -> int:
        """K."""
        return self._m.memories

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


class ModernHopfield:
    """The continuous modern Hopfield network (Ramsauer et al. 2020): its update *is* attention.

    Energy E(ξ) = −β⁻¹ log Σ_μ exp(β x_μᵀξ) + ½ ξᵀξ + β⁻¹ log K + ½ M² (M = max_μ ‖x_μ‖);
    update ξ ← Xᵀ softmax(β X ξ), which never raises E. Computed in float64.

    Parameters
    ----------
    patterns : float array [K, N]
        The stored patterns x_μ, one per row (float32 is widened to float64).
    beta : float, default 1.0
        The inverse temperature β > 0.
    """

    def __init__(self, patterns: np.ndarray, beta: float = 1.0) -> None:
        self._m = _native.ModernHopfield(patterns, float(beta))

    @property
    def neurons(self) -> int:
        """N."""
        return self._m.neurons

    @property
    def memories(self) -> int:
        """K."""
        return self._m.memories

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
        return f"ModernHopfield(N={self.neurons}, K={self.memories}, beta={self.beta})"


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
