"""The image Energy Transformer from Python against the command line on the same work."""

from __future__ import annotations

import _thread
import csv
import signal
import threading
import time
from pathlib import Path

import hopfield
import numpy as np
import pytest


def last_metrics(path: Path) -> dict:
    with open(path) as f:
        return list(csv.DictReader(f))[-1]


def test_a_checkpoint_trained_by_the_cli_gives_the_cli_test_mse(tmp_path: Path, run_cli) -> None:
    run_cli(["et", "train", "--epochs", "1", "--out", str(tmp_path / "run")], tmp_path)
    cli = last_metrics(tmp_path / "run" / "metrics.csv")
    model = hopfield.EnergyTransformer.load(tmp_path / "run" / "checkpoint")
    got = model.evaluate()
    # metrics.csv holds 6 decimals: equal to rounding.
    assert abs(got["mse"] - float(cli["test_mse"])) <= 1e-6
    assert abs(got["mse_no_dynamics"] - float(cli["test_mse_no_dynamics"])) <= 1e-6
    assert abs(got["mse_mean_patch"] - float(cli["test_mse_mean_patch"])) <= 1e-6
    printed = run_cli(["et", "eval", "--checkpoint", str(tmp_path / "run" / "checkpoint")], tmp_path)
    assert f"masked-patch MSE {got['mse']:.4f}" in printed, printed


def official_npz(path: Path, rng: np.random.Generator) -> None:
    """A small model in the official JAX code's .npz layout: 3×32×32 images, 16×16 patches (N = 4,
    P = 768), D = 8, 2 heads of 4, M = 16."""
    h, y, d, m, p, n = 2, 4, 8, 16, 768, 4
    w = lambda *s: (rng.standard_normal(s) * 0.2).astype(np.float32)  # noqa: E731
    np.savez(
        path,
        Wk=w(h, y, d),
        Wq=w(h, y, d),
        Xi=w(d, m),
        Wenc=w(p, d) * 0.1,
        Benc=w(d),
        Wdec=w(d, p),
        Bdec=w(p),
        POS_embed=w(n + 1, d),
        CLS_token=w(d),
        MASK_token=w(d),
        LNORM_gamma=np.array(1.0, dtype=np.float32),
        LNORM_bias=w(d),
    )


def test_an_imported_official_npz_reconstructs_as_the_cli_save_npy(tmp_path: Path, run_cli) -> None:
    npz = tmp_path / "official.npz"
    official_npz(npz, np.random.default_rng(0))
    ck = tmp_path / "ck"
    run_cli(
        [
            "et",
            "import-npz",
            "--npz",
            str(npz),
            "--out",
            str(ck),
            "--image",
            "3x32x32",
            "--patch",
            "16",
            "--masked",
            "2",
        ],
        tmp_path,
    )
    mask = np.array([[1, 0], [0, 1]], dtype=np.float32)
    np.save(tmp_path / "mask.npy", mask)
    out = tmp_path / "pics"
    run_cli(
        [
            "et",
            "reconstruct",
            "--checkpoint",
            str(ck),
            "--data",
            "cifar10-sample",
            "--count",
            "2",
            "--mask",
            str(tmp_path / "mask.npy"),
            "--save-npy",
            "--out",
            str(out),
        ],
        tmp_path,
    )
    model = hopfield.EnergyTransformer.import_npz(npz, image=(3, 32, 32), patch=16, masked=2)
    assert model.ignored_keys == []
    x, _, _ = hopfield.load_images("cifar10-sample", "test")
    r = model.reconstruct(x[:2], mask.reshape(4))
    np.testing.assert_allclose(r.input, np.load(out / "input.npy"), rtol=0, atol=1e-6)
    np.testing.assert_allclose(r.reconstruction, np.load(out / "reconstruction.npy"), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(r.energies, np.load(out / "energies.npy"), rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(r.mask, np.load(out / "mask.npy"))
    assert r.energies.shape == (2, 13) and np.all(np.diff(r.energies, axis=1) <= 1e-3)
    # The same model from the CLI's checkpoint reconstructs the same.
    same = hopfield.EnergyTransformer.load(ck).reconstruct(x[:2], mask.reshape(4))
    np.testing.assert_array_equal(same.reconstruction, r.reconstruction)


def test_train_on_the_bundled_sample_with_events_then_reconstruct_and_descend(tmp_path: Path) -> None:
    events = []
    run = hopfield.train_et(out=tmp_path / "et", epochs=2, callback=events.append, progress=False)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "started" and kinds[-1] == "finished" and kinds.count("epoch") == 2
    steps = [e for e in events if e["event"] == "step"]
    assert len(steps) == 2 * 63 and all(np.isfinite(e["loss"]) for e in steps)  # 2000 images in batches of 32
    assert [h["epoch"] for h in run.history] == [1, 2]
    assert run.history[1]["eval"]["mse"] < run.history[1]["eval"]["mse_no_dynamics"]
    assert {Path(f).name for f in run.files} >= {"metrics.csv", "et-reconstruction.png", "et-energy.png"}
    assert run.model.config["model"]["descent"]["steps"] == 6 and run.model.patches == 16
    x, _ = hopfield.mnist_sample("test")
    r = run.model.reconstruct(x[:4])
    assert r.reconstruction.shape == (4, 1, 28, 28) and r.energies.shape == (4, 7) and r.mask.shape == (4, 16)
    assert np.all(np.diff(r.energies, axis=1) <= 0)
    tokens = np.random.default_rng(0).standard_normal((2, 5, run.model.dim))
    d = run.model.descend(tokens, steps=3, step_size=0.05)
    assert d.tokens.shape == (2, 5, 64) and d.energies.shape == (2, 4) and np.all(np.diff(d.energies, axis=1) <= 0)
    pad = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=np.float32)
    assert run.model.descend(tokens, pad, steps=2).energies.shape == (2, 3)


def test_train_on_your_own_arrays(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)

    def bars(count: int) -> tuple:
        x = rng.integers(0, 4, (count, 1, 8, 8)).astype(np.uint8) * 20
        y = rng.integers(0, 2, count)
        for i in range(count):
            at = rng.integers(0, 8)
            if y[i]:
                x[i, 0, :, at] = 255
            else:
                x[i, 0, at, :] = 255
        return x, y

    x, y = bars(256)
    xt, yt = bars(32)
    run = hopfield.train_et(
        (x, y, xt, yt),
        out=tmp_path / "own",
        epochs=4,
        patch=4,
        dim=32,
        heads=2,
        head_dim=8,
        memories=32,
        steps=4,
        lr=4e-3,
        progress=False,
    )
    first, last = run.history[0]["eval"], run.history[-1]["eval"]
    assert last["mse"] < first["mse"] and last["mse"] < last["mse_no_dynamics"]
    assert hopfield.EnergyTransformer.load(tmp_path / "own" / "checkpoint").config["model"]["patch"] == 4


def test_the_lock_is_released_while_training(tmp_path: Path) -> None:
    stamps = []
    stop = threading.Event()

    def counter() -> None:  # notes the time every 1,000 increments: it runs only with the lock
        n = 0
        while not stop.is_set():
            n += 1
            if n % 1000 == 0:
                stamps.append(time.perf_counter())

    t = threading.Thread(target=counter)
    t.start()
    time.sleep(0.05)
    try:
        start = time.perf_counter()
        hopfield.train_et(out=tmp_path / "gil", epochs=2, progress=False)  # no callback: no Python runs meanwhile
        end = time.perf_counter()
    finally:
        stop.set()
        t.join()
    inside = [s for s in stamps if start <= s <= end]
    gaps = np.diff([start, *inside, end])
    # Holding the lock for the run would stop the counter for the whole of training (most of the
    # call); released, the counter keeps running, stopped only by the scheduler.
    assert gaps.max() < 0.25 * (end - start), (gaps.max(), end - start)


def test_keyboard_interrupt_stops_training_and_keeps_a_loadable_checkpoint(tmp_path: Path) -> None:
    metrics = tmp_path / "int" / "metrics.csv"

    def ctrl_c_after_the_first_epoch() -> None:
        while not (metrics.exists() and "\n1," in metrics.read_text()):
            time.sleep(0.005)
        _thread.interrupt_main()  # Ctrl-C, from another thread, while no Python code runs in the main one

    # Python turns SIGINT into KeyboardInterrupt only where SIGINT was not ignored when it started
    # (a shell's background job starts with it ignored, and interrupt_main() then does nothing):
    # the default handler for the test, as an interactive session has it.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    threading.Thread(target=ctrl_c_after_the_first_epoch, daemon=True).start()
    started = time.time()
    try:
        with pytest.raises(KeyboardInterrupt):
            hopfield.train_et(out=tmp_path / "int", epochs=50, progress=False)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert time.time() - started < 60
    model = hopfield.EnergyTransformer.load(tmp_path / "int" / "checkpoint")
    assert model.config["epochs"] == 50
    with open(metrics) as f:
        epochs = [row["epoch"] for row in csv.DictReader(f)]
    assert epochs in (["1"], ["1", "2"])  # stopped within a batch of the signal, not 50 epochs later
    assert model._m.epoch == int(epochs[-1])
