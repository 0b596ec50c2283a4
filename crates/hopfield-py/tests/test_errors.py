"""Bad inputs raise the named Python exception with the library's message, never an abort."""

from __future__ import annotations

from pathlib import Path

import hopfield
import numpy as np
import pytest


def test_dtype_shape_and_non_finite_values() -> None:
    p = np.array([[1, -1, 1, -1], [1, 1, -1, -1]], dtype=np.int8)
    with pytest.raises(
        TypeError, match=r"patterns: expected a numpy array of float32 or float64, got an array of dtype <U1"
    ):
        hopfield.ModernHopfield(np.array([["a"]]))
    with pytest.raises(TypeError, match="expected a numpy array"):
        hopfield.ModernHopfield([[1.0, 2.0]])  # a list, not an array
    with pytest.raises(ValueError, match=r"patterns: expected shape \(K, N\), got \(4,\)"):
        hopfield.ModernHopfield(np.ones(4))
    m = hopfield.ModernHopfield(p.astype(np.float64))
    with pytest.raises(ValueError, match=r"states: expected shape \(B, 4\), got \(2, 3\)"):
        m.energy(np.zeros((2, 3)))
    bad = np.zeros((2, 4))
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"cues: NaN at index \(1, 2\) \(shape \(2, 4\)\); every value must be finite"):
        m.retrieve(bad)
    bad[1, 2] = np.inf
    with pytest.raises(ValueError, match=r"inf at index \(1, 2\)"):
        m.update(bad)
    with pytest.raises(ValueError, match="beta"):
        hopfield.ModernHopfield(p.astype(np.float64), beta=-1.0)
    d = hopfield.DenseMemory(p, "classical")
    with pytest.raises(ValueError, match=r"states: 2 at index \(0, 1\) is not ±1"):
        d.energy(np.array([[1, 2, 1, 1]]))
    with pytest.raises(ValueError, match="polynomial degree must be at least 2"):
        hopfield.DenseMemory(p, "polynomial", n=1)
    with pytest.raises(ValueError, match="unknown separation 'cubic'"):
        hopfield.DenseMemory(p, "cubic")
    # Non-contiguous input is read as numpy indexes it.
    x = np.asfortranarray(np.random.default_rng(0).standard_normal((3, 4)))
    np.testing.assert_array_equal(m.energy(x), m.energy(np.ascontiguousarray(x)))
    np.testing.assert_array_equal(m.energy(x[:, ::-1]), m.energy(np.ascontiguousarray(x[:, ::-1])))


def test_image_and_mask_checks(tmp_path: Path) -> None:
    run = hopfield.train_et(out=tmp_path / "et", epochs=1, progress=False)
    model = run.model
    with pytest.raises(ValueError, match=r"images: expected shape \(B, 1, 28, 28\), got \(2, 3, 28, 28\)"):
        model.reconstruct(np.zeros((2, 3, 28, 28), dtype=np.float32))
    with pytest.raises(ValueError, match=r"images: 1.5 at index \(0, 0, 0, 0\) is outside \[0, 1\]"):
        model.reconstruct(np.full((1, 1, 28, 28), 1.5))
    with pytest.raises(TypeError, match="uint8 or floats in"):
        model.reconstruct(np.zeros((1, 1, 28, 28), dtype=np.complex64))
    with pytest.raises(ValueError, match=r"mask: expected shape \(16,\) or \(1, 16\)"):
        model.reconstruct(np.zeros((1, 1, 28, 28)), np.zeros(5))
    with pytest.raises(ValueError, match=r"mask: 2 at index \(3\); a mask holds only 0 and 1"):
        model.reconstruct(np.zeros((1, 1, 28, 28)), np.array([0, 0, 0, 2] + [0] * 12))
    with pytest.raises(ValueError, match=r"tokens: expected shape \(B, N, 64\), got \(1, 3, 5\)"):
        model.descend(np.zeros((1, 3, 5)))
    with pytest.raises(ValueError, match="step size α must be positive"):
        model.descend(np.zeros((1, 3, 64)), step_size=-1.0)
    with pytest.raises(ValueError, match="unknown setting 'epoch'"):
        hopfield.train_et(out=tmp_path / "x", config={"epoch": 3}, progress=False)
    with pytest.raises(ValueError, match="epochs"):
        hopfield.train_et(out=tmp_path / "x", epochs=0, progress=False)


def test_missing_and_corrupt_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere"):
        hopfield.EnergyTransformer.load(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        hopfield.DamClassifier.load(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        hopfield.EnergyTransformer.import_npz(tmp_path / "missing.npz")
    with pytest.raises(FileNotFoundError, match="graph set 'NOSUCHSET' not found"):
        hopfield.graph_classify("NOSUCHSET", progress=False)
    with pytest.raises(FileNotFoundError):
        hopfield.load_images(str(tmp_path / "no-images-here.npy"))
    run = hopfield.train_et(out=tmp_path / "et", epochs=1, progress=False)
    ck = tmp_path / "et" / "checkpoint"
    weights = ck / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])  # truncated
    with pytest.raises(hopfield.CheckpointError, match="model.safetensors"):
        hopfield.EnergyTransformer.load(ck)
    assert issubclass(hopfield.CheckpointError, ValueError)
    (ck / "config.json").write_text("{ not json")
    with pytest.raises(hopfield.CheckpointError, match="config.json"):
        hopfield.EnergyTransformer.load(ck)
    dam = tmp_path / "dam"
    x, y = hopfield.digits("test")
    hopfield.DamClassifier(memories=10, n=3, m=2, temperature=5.0, epochs=1, batch_size=50).fit(
        x, y, out=dam, progress=False
    )
    (dam / "checkpoint" / "memories.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(hopfield.CheckpointError, match="memories.npy"):
        hopfield.DamClassifier.load(dam / "checkpoint")
    npz = tmp_path / "bad.npz"
    npz.write_bytes(b"PK not a zip")
    with pytest.raises(ValueError, match="bad.npz"):
        hopfield.EnergyTransformer.import_npz(npz)
    assert run.model.patches == 16


def test_divergence_and_graph_inputs(tmp_path: Path) -> None:
    with pytest.raises(hopfield.DivergenceError, match="diverged"):
        hopfield.train_et(out=tmp_path / "div", epochs=1, lr=1e6, step_size=9.0, clip=1e9, progress=False)
    assert issubclass(hopfield.DivergenceError, ArithmeticError)
    g = {"x": np.zeros((3, 2), dtype=np.float32), "edge_index": np.array([[0, 1], [1, 5]]), "y": np.zeros(3)}
    with pytest.raises(ValueError, match=r"edge_index'\]: node 5 at index \(1, 1\) but the graph has 3 nodes"):
        hopfield.node_anomaly(g, progress=False)
    with pytest.raises(ValueError, match=r"graph\['y'\]: expected shape \(3\)"):
        hopfield.node_anomaly({**g, "edge_index": np.array([[0], [1]]), "y": np.zeros(4)}, progress=False)
    with pytest.raises(ValueError, match=r"graphs\[0\]: has no 'y'"):
        hopfield.graph_classify(
            [{"x": np.zeros((2, 2)), "edge_index": np.zeros((2, 0), dtype=np.int64)}], progress=False
        )
    with pytest.raises(ValueError, match="unknown model 'GCN'"):
        hopfield.graph_classify("MUTAG", models=["GCN"], progress=False)
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        hopfield.graph_classify("MUTAG", epoch=3, progress=False)
    with pytest.raises(ValueError, match="validation"):
        hopfield.graph_classify("MUTAG", validation=0.9, progress=False)


def test_an_exception_in_the_callback_stops_the_run_and_propagates(tmp_path: Path) -> None:
    seen = []

    def on(e: dict) -> None:
        seen.append(e["event"])
        if e["event"] == "step":
            raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        hopfield.train_et(out=tmp_path / "cb", epochs=3, callback=on, progress=False)
    assert seen == ["started", "step"]  # nothing ran after the failing event
    assert not (tmp_path / "cb" / "checkpoint").exists()  # no epoch finished, so none was saved
