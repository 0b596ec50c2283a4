"""Shared fixtures: the repository, the command line binary (built by the README's test command
before pytest runs; HOPFIELD_CLI names another), and a runner for it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import List

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def cli() -> Path:
    path = Path(os.environ.get("HOPFIELD_CLI", REPO / "target" / "release" / "hopfield"))
    if not path.is_file():
        pytest.fail(f"the command line binary {path} is missing: run `cargo build --release` (tools/test.sh does)")
    return path


@pytest.fixture(scope="session")
def run_cli(cli: Path):
    def run(args: List[str], cwd: Path) -> str:
        p = subprocess.run([str(cli), *args], cwd=cwd, capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, f"hopfield {' '.join(args)} failed:\n{p.stdout}\n{p.stderr}"
        return p.stdout

    return run
