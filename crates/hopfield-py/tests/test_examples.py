"""The scripts of examples/python run as a user runs them (quick settings), with or without matplotlib."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

HAVE_MPL = importlib.util.find_spec("matplotlib") is not None


def run(script: str, out: Path) -> str:
    p = subprocess.run(
        [sys.executable, str(REPO / "examples" / "python" / script), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=out.parent,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert ("matplotlib is not installed" in p.stdout) != HAVE_MPL, p.stdout
    return p.stdout


def test_recall_example(tmp_path: Path) -> None:
    out = run("recall.py", tmp_path / "recall")
    assert "classical" in out and "dense" in out
    dense = next(line for line in out.splitlines() if "dense" in line)
    assert "100.0% recalled exactly" in dense and "energy never rose: True" in dense, out


def test_energy_transformer_example(tmp_path: Path) -> None:
    out = run("energy_transformer.py", tmp_path / "et")
    assert "test masked-patch MSE" in out and "never rises: True" in out, out
    assert (tmp_path / "et" / "checkpoint" / "model.safetensors").is_file()


@pytest.mark.parametrize("script", ["mutag.py"])
def test_mutag_example(tmp_path: Path, script: str) -> None:
    out = run(script, tmp_path / "graph")
    assert "MUTAG 2-fold test accuracy" in out and "ET" in out and "MLP" in out, out
    assert (tmp_path / "graph" / "folds.csv").is_file()
