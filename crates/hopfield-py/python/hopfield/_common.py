"""What the public modules share: settings as JSON for the native layer, and progress."""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

Event = Dict[str, Any]
Callback = Callable[[Event], None]


def settings(changes: Mapping[str, Any], paths: Optional[Mapping[str, Tuple[str, ...]]] = None) -> str:
    """The JSON object of the settings a user changed (None leaves a default), nested along `paths`.

    A key with a path in `paths` (e.g. ``steps`` -> ``("model", "descent", "steps")``) is placed
    there; any other key is kept as it is. The native layer merges the object into the library's
    defaults and names any unknown key in a ValueError.
    """
    out: Dict[str, Any] = {}
    for key, value in changes.items():
        if value is None:
            continue
        node = out
        path = (paths or {}).get(key, (key,))
        for part in path[:-1]:
            node = node.setdefault(part, {})
        last = path[-1]
        if isinstance(value, Mapping) and isinstance(node.get(last), dict):
            node[last].update(value)
        else:
            node[last] = value
    return json.dumps(out)


def deep_merge(base: Dict[str, Any], changes: Mapping[str, Any]) -> Dict[str, Any]:
    """`base` with `changes` written over it, nested dicts key by key."""
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = value
    return base


class _Bars:
    """A tqdm bar per run (when tqdm is installed), fed by the run's events."""

    def __init__(self) -> None:
        try:
            from tqdm.auto import tqdm
        except ImportError:  # progress bars are optional
            self._tqdm = None
        else:
            self._tqdm = tqdm
        self._bar: Any = None

    def __call__(self, e: Event) -> None:
        if self._tqdm is None:
            return
        run = e["run"]
        kind = e["event"]
        if kind == "started":
            if self._bar is not None:
                self._bar.close()
            label = run["model"] if run["of"] == 1 else f"{run['unit']} {run['index']}/{run['of']} {run['model']}"
            total = run["examples"] * run["epochs"]
            self._bar = self._tqdm(total=total, desc=label, unit=run["example_unit"], leave=False)
        elif kind == "step" and self._bar is not None:
            self._bar.n = (e["epoch"] - 1) * run["examples"] + e["done"]
            self._bar.set_postfix(epoch=e["epoch"], loss=f"{e['loss']:.4g}", refresh=False)
            self._bar.refresh()
        elif kind == "finished" and self._bar is not None:
            self._bar.close()
            self._bar = None

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def watcher(callback: Optional[Callback], progress: bool) -> Tuple[Optional[Callback], Callable[[], None]]:
    """(the callback given to the native run, a function closing the bars)."""
    bars = _Bars() if progress else None
    if bars is None and callback is None:
        return None, lambda: None

    def on(e: Event) -> None:
        if bars is not None:
            bars(e)
        if callback is not None:
            callback(e)

    return on, (bars.close if bars is not None else (lambda: None))


def run_with(native: Callable[..., Any], callback: Optional[Callback], progress: bool, **kwargs: Any) -> Any:
    """Calls `native(..., callback=...)` with the bars and the user's callback, closing the bars after."""
    on, close = watcher(callback, progress)
    try:
        return native(callback=on, **kwargs)
    finally:
        close()
