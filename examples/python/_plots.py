"""Figures for the examples when matplotlib is installed; without it they say so and go on."""

from __future__ import annotations

from typing import Any, Optional


def pyplot() -> Optional[Any]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("  (matplotlib is not installed: no figure; pip install matplotlib for one)")
        return None
    return plt
