#!/usr/bin/env bash
# Every test of the project: the Rust workspace's (cargo test), then the Python package's (pytest),
# which compare the package with the command line built by the first step.
#
# The Python side lives in a virtual environment, .venv (or $HOPFIELD_VENV), created here when
# missing; the package is built from crates/hopfield-py by maturin and installed into it with
# pytest (from PyPI). Needs Rust (cargo) and Python 3.9 or later with its venv module.
set -euo pipefail
cd "$(dirname "$0")/.."

# Also builds target/release/hopfield, the command line the Python tests compare the package with.
cargo test --release --workspace

venv="${HOPFIELD_VENV:-.venv}"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
  if ! "$python" -m venv "$venv"; then
    echo "could not create the virtual environment $venv with $python -m venv: install Python's venv" \
      "module (Debian/Ubuntu: apt-get install python3-venv) and run again" >&2
    exit 1
  fi
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "./crates/hopfield-py[test]"
"$venv/bin/python" -m pytest -q crates/hopfield-py/tests
