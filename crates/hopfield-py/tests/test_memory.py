"""The memories' energies and updates against numpy references written here from the papers'
formulas (not calling the library)."""

from __future__ import annotations

import hopfield
import numpy as np
import pytest


def spins(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return np.where(rng.random(shape) < 0.5, -1, 1).astype(np.int8)


def dense_f(kind: str, n: int, x: np.ndarray) -> np.ndarray:
    """F of Krotov & Hopfield (2016) / Demircigil et al. (2017), unscaled."""
    x = x.astype(np.float64)
    if kind == "classical":
        return 0.5 * x**2
    if kind == "polynomial":
        return x**n
    if kind == "rectified":
        return np.maximum(x, 0.0) ** n
    return np.exp(x)


def dense_energy(kind: str, n: int, xi: np.ndarray, s: np.ndarray) -> np.ndarray:
    """E(σ) / F(N) = −Σ_μ F(ξ^μ·σ) / F(N) for each row of s."""
    N = xi.shape[1]
    overlaps = s.astype(np.int64) @ xi.T.astype(np.int64)  # [B, K]
    if kind == "exponential":  # F(m)/F(N) = exp(m − N)
        return -np.exp(overlaps - N).sum(axis=1)
    return -dense_f(kind, n, overlaps).sum(axis=1) / dense_f(kind, n, np.array(N))


def dense_sync_update(kind: str, n: int, xi: np.ndarray, s: np.ndarray) -> np.ndarray:
    """σ_i ← sign Σ_μ [F(s_μ + ξ^μ_i) − F(s_μ − ξ^μ_i)], s_μ = Σ_{j≠i} ξ^μ_j σ_j (ties keep σ_i)."""
    out = s.copy()
    for b in range(s.shape[0]):
        m = xi.astype(np.int64) @ s[b].astype(np.int64)
        for i in range(s.shape[1]):
            local = m - xi[:, i] * s[b, i]
            d = (dense_f(kind, n, local + xi[:, i]) - dense_f(kind, n, local - xi[:, i])).sum()
            out[b, i] = s[b, i] if d == 0 else np.sign(d)
    return out


@pytest.mark.parametrize("kind,n", [("classical", None), ("polynomial", 3), ("rectified", 4), ("exponential", None)])
def test_dense_energy_and_update_match_the_formula(kind: str, n) -> None:
    rng = np.random.default_rng(1)
    xi = spins(rng, 6, 24)
    states = spins(rng, 5, 24)
    m = hopfield.DenseMemory(xi, kind, n=n)
    assert (m.neurons, m.memories) == (24, 6)
    np.testing.assert_allclose(m.energy(states), dense_energy(kind, n or 2, xi, states), rtol=1e-12, atol=1e-15)
    # One synchronous sweep is the update rule applied to every neuron from the same state.
    r = m.retrieve(states, synchronous=True, max_sweeps=1)
    np.testing.assert_array_equal(r.states, dense_sync_update(kind, n or 2, xi, states))
    # Asynchronous retrieval ends in a fixed point of the update, its energy trace never rising.
    r = m.retrieve(states, seed=3)
    assert r.converged.all()
    np.testing.assert_array_equal(dense_sync_update(kind, n or 2, xi, r.states.astype(np.int8)), r.states)
    start = dense_energy(kind, n or 2, xi, states)
    for b, trace in enumerate(r.energy):
        assert trace.shape[1] == 2 and np.all(np.diff(trace[:, 1]) <= 1e-12)
        np.testing.assert_allclose(trace[0], [0.0, start[b]], rtol=1e-12)


def test_dense_memory_retrieves_a_stored_pattern_from_a_corrupted_cue() -> None:
    rng = np.random.default_rng(0)
    xi = spins(rng, 20, 100)
    cue = xi[:4].copy()
    cue[:, :15] *= -1
    r = hopfield.DenseMemory(xi, "polynomial", n=3).retrieve(cue)
    np.testing.assert_array_equal(r.states, xi[:4])
    assert r.states.dtype == np.int8 and r.steps.shape == (4,)


def modern_energy(x: np.ndarray, beta: float, s: np.ndarray) -> np.ndarray:
    """Ramsauer et al. (2020): E = −β⁻¹ lse(β Xξ) + ½ξᵀξ + β⁻¹ log K + ½M²."""
    k = x.shape[0]
    a = beta * s @ x.T
    amax = a.max(axis=1, keepdims=True)
    lse = (amax + np.log(np.exp(a - amax).sum(axis=1, keepdims=True)))[:, 0]
    big_m = np.sqrt((x**2).sum(axis=1)).max()
    return -lse / beta + 0.5 * (s**2).sum(axis=1) + np.log(k) / beta + 0.5 * big_m**2


def softmax(a: np.ndarray) -> np.ndarray:
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_modern_hopfield_energy_update_and_retrieval_match_the_formula(dtype) -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((7, 16)).astype(dtype)
    s = rng.standard_normal((4, 16)).astype(dtype)
    beta = 0.7
    m = hopfield.ModernHopfield(x, beta=beta)
    x64, s64 = x.astype(np.float64), s.astype(np.float64)
    np.testing.assert_allclose(m.energy(s), modern_energy(x64, beta, s64), rtol=1e-12)
    np.testing.assert_allclose(m.attention(s), softmax(beta * s64 @ x64.T), rtol=1e-12)
    np.testing.assert_allclose(m.update(s), softmax(beta * s64 @ x64.T) @ x64, rtol=1e-12, atol=1e-14)
    r = m.retrieve(s, tolerance=1e-10, max_steps=200)
    assert r.converged.all()
    np.testing.assert_allclose(softmax(beta * r.states @ x64.T) @ x64, r.states, atol=1e-9)  # a fixed point
    for trace, cue in zip(r.energy, s64):
        np.testing.assert_allclose(trace[0], modern_energy(x64, beta, cue[None])[0], rtol=1e-12)
        assert np.all(np.diff(trace) <= 1e-12)  # the update never raises E


def test_capacity_returns_its_table() -> None:
    events = []
    c = hopfield.capacity(
        ["classical", ("polynomial", 3)], neurons=60, loads=[3, 30], trials=1, probes=5, callback=events.append
    )
    assert [(e["done"], e["total"], e["memories"]) for e in events] == [(1, 4, 3), (2, 4, 30), (3, 4, 3), (4, 4, 30)]
    assert [(r["separation"], r["memories"]) for r in c.rows] == [
        ("classical", 3),
        ("classical", 30),
        ("poly n=3", 3),
        ("poly n=3", 30),
    ]
    low, high = c.rows[0], c.rows[1]
    assert low["retrieved_exact"] == 1.0 and high["flip_probability"] > low["flip_probability"]
    assert "K/N" in c.table and "P(flip)" in c.table


def test_capacity_equals_the_cli(tmp_path, run_cli) -> None:
    printed = run_cli(
        [
            "capacity",
            "--memory",
            "poly",
            "--n",
            "3",
            "--neurons",
            "60",
            "--loads",
            "20,60,120",
            "--trials",
            "2",
            "--probes",
            "8",
            "--out",
            str(tmp_path),
        ],
        tmp_path,
    )
    c = hopfield.capacity([("polynomial", 3)], neurons=60, loads=[20, 60, 120], trials=2, probes=8)
    assert c.table.strip() in printed, (c.table, printed)
