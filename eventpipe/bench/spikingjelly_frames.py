"""SpikingJelly's own frame integration functions, for ``eventpipe bench frames`` to time side by side.

The functions live in ``spikingjelly.datasets.utils``, but importing that package also imports
torchvision and matplotlib (for its dataset classes and plots), which the integration never uses. So
the installed ``datasets/utils.py`` is read and only the integration functions are compiled from it,
verbatim, with NumPy and ``math`` as their globals: the code timed is SpikingJelly's, unchanged.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import math
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

FUNCTIONS = (
    "integrate_events_segment_to_frame",
    "cal_fixed_frames_number_segment_index",
    "integrate_events_by_fixed_frames_number",
    "integrate_events_by_fixed_duration",
)
"""What is compiled from SpikingJelly's ``datasets/utils.py``: the three integrators and their helper."""


def load() -> tuple[dict[str, Callable[..., np.ndarray]], str] | None:
    """SpikingJelly's integration functions by name and ``"spikingjelly <version>"``, or None when it is
    not installed or its ``datasets/utils.py`` lacks one of :data:`FUNCTIONS`."""
    spec = importlib.util.find_spec("spikingjelly")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "datasets" / "utils.py"
    if not path.is_file():
        return None
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    body: list[ast.stmt] = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in FUNCTIONS]
    if len(body) != len(FUNCTIONS):
        return None
    namespace: dict[str, Any] = {"np": np, "math": math, "Optional": typing.Optional, "Union": typing.Union}
    exec(compile(ast.Module(body=body, type_ignores=[]), str(path), "exec"), namespace)  # noqa: S102
    return {name: namespace[name] for name in FUNCTIONS}, f"spikingjelly {importlib.metadata.version('spikingjelly')}"
