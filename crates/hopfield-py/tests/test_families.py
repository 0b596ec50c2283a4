"""The memories of 2023–2025 and the HAM classifier from Python, against numpy references written
here from the papers' formulas (not calling the library), and their bad settings."""

from __future__ import annotations

from pathlib import Path

import hopfield
import numpy as np
import pytest


def sparsemax(z: np.ndarray) -> np.ndarray:
    """The Euclidean projection onto the simplex (Martins & Astudillo 2016), by sorting."""
    s = np.sort(z)[::-1]
    cs = np.cumsum(s)
    k = np.arange(1, len(z) + 1)
    support = k[1 + k * s > cs].max()
    tau = (cs[support - 1] - 1) / support
    return np.maximum(z - tau, 0)


def test_sparsemax_update_matches_numpy_and_lands_exactly_past_the_margin() -> None:
    rng = np.random.default_rng(0)
    x = np.where(rng.random((20, 64)) < 0.5, -1.0, 1.0)
    q = x[:3] + 0.3 * rng.standard_normal((3, 64))
    net = hopfield.ModernHopfield(x, beta=0.05, transform="sparsemax")
    assert net.transform == "sparsemax"
    want = np.stack([x.T @ sparsemax(0.05 * (x @ qi)) for qi in q])
    np.testing.assert_allclose(net.update(q), want, atol=1e-12)
    strong = hopfield.ModernHopfield(x, beta=1.0, transform="sparsemax")
    assert np.array_equal(strong.update(q), x[:3])
    soft = hopfield.ModernHopfield(x, beta=0.05)
    assert not np.array_equal(soft.update(q), x[:3])
    with pytest.raises(ValueError, match="alpha = 2.5"):
        hopfield.ModernHopfield(x, transform="2.5-entmax")


def test_log_sum_relu_energy_minima_and_retrieval() -> None:
    rng = np.random.default_rng(1)
    p = rng.random((8, 2))
    mem = hopfield.LogSumRelu(p, width=0.3, eps=1e-3)
    x = rng.random(2)
    beta = 2 / 0.3**2
    f = np.maximum(1 - beta / 2 * ((p - x) ** 2).sum(1), 0).sum()
    assert mem.energy(x) == pytest.approx(-np.log(1e-3 + f) / beta, rel=1e-12)
    minima = mem.local_minima()
    assert minima.stored + minima.emergent == len(minima.members)
    for point, members in zip(minima.points, minima.members):
        np.testing.assert_allclose(point, p[members].mean(0), atol=1e-12)
    out = mem.retrieve(p[0] + 0.01)
    assert sorted(out.members) in [sorted(m) for m in minima.members]
    assert np.all(np.diff(out.energy) <= 1e-12)
    with pytest.raises(ValueError, match="width = 0"):
        hopfield.LogSumRelu(p, width=0.0)


def test_drdam_approaches_the_exact_dam_and_keeps_its_size() -> None:
    rng = np.random.default_rng(2)
    p = rng.standard_normal((30, 8)) / np.sqrt(8)
    x = p[0] + 0.1 * rng.standard_normal(8)
    exact = hopfield.GaussianDam(p, beta=2.0)
    e, g = exact.energy_and_gradient(x)
    w = np.exp(-((p - x) ** 2).sum(1))
    assert e == pytest.approx(-np.log(w.sum()) / 2.0, rel=1e-12)
    np.testing.assert_allclose(g, x - (w / w.sum()) @ p, atol=1e-12)
    errors = []
    for features in (64, 4096):
        draws = []
        for seed in range(10):
            m = hopfield.RandomFeatureDam(8, features, beta=2.0, seed=seed)
            before = m.parameters
            m.store(p)
            assert m.parameters == before == features * 8 + 2 * features and m.stored == 30
            draws.append(abs(m.energy_and_gradient(x)[0] - e))
        errors.append(np.mean(draws))
    # 64× the features: the mean error falls by about 8 (√64); at least by 3.
    assert errors[1] < errors[0] / 3, errors
    with pytest.raises(ValueError, match="features = 0"):
        hopfield.RandomFeatureDam(8, 0, beta=1.0)


def test_the_sweeps_run_and_write(tmp_path: Path) -> None:
    r = hopfield.sweep_sparse(betas=[0.01, 1.0], loads=[20], queries=10, out=str(tmp_path))
    exact = {
        (row["transform"] if isinstance(row["transform"], str) else "entmax", row["beta"]): row["exact"]
        for row in r.rows
        if row["sweep"] == "beta"
    }
    assert exact[("Softmax", 0.01)] == 0.0
    assert "sparsemax" in r.table and (tmp_path / "sparse.csv").is_file()
    lsr = hopfield.sweep_lse_relu(loads=[6], widths=[0.1, 0.6], seeds=1)
    assert [row["emergent"] for row in lsr.rows][0] == 0
    dr = hopfield.sweep_drdam(
        data=None, patterns={"Random": {"neurons": 16}}, load=10, queries=3, features=[64, 1024], draws=2
    )
    assert len(dr.rows) == 2 and "slope" in dr.table
    with pytest.raises(ValueError, match="load = 5000"):
        hopfield.sweep_sparse(loads=[5000])


def test_the_ham_classifier_learns_from_arrays_and_from_a_name(tmp_path: Path) -> None:
    x, y = hopfield.mnist_sample("train")
    xt, yt = hopfield.mnist_sample("test")
    events = []
    t = hopfield.train_ham((x[:1000], y[:1000], xt[:500], yt[:500]), hidden=64, epochs=2, callback=events.append)
    assert len(t.history) == 2 and t.result["test_error"] == t.history[-1]["test_error"]
    assert t.model.score(xt[:500], yt[:500]) == pytest.approx(1 - t.result["test_error"])
    logits, energy = t.model.forward(xt[:4])
    assert logits.shape == (4, 10) and energy.shape == (6, 4)
    assert np.all(np.diff(energy, axis=0) <= 1e-3 * np.abs(energy[:-1]).clip(min=1))
    assert {e["event"] for e in events} >= {"started", "step", "epoch", "finished"}
    t = hopfield.train_ham("mnist-sample", hidden=32, epochs=1, out=str(tmp_path))
    assert (tmp_path / "metrics.csv").is_file() and (tmp_path / "ham-energy.png").is_file()
    with pytest.raises(ValueError, match="step size = 2"):
        hopfield.train_ham("mnist-sample", step_size=2.0)
