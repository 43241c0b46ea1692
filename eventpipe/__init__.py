"""eventpipe: neuromorphic datasets from raw files to a trained spiking neural network.

Light to import: the names below load their modules on first access, so ``import eventpipe`` pulls in
neither Dask, torch, Typer nor CuPy.

>>> import eventpipe
>>> eventpipe.SensorSize(128, 128, 2).frame_shape(20)
(20, 2, 128, 128)
"""

from __future__ import annotations

import importlib
from typing import Any

from eventpipe._version import __version__
from eventpipe.errors import EventpipeError
from eventpipe.events import EVENT_DTYPE, SensorSize

_LAZY = {
    "read_events": "eventpipe.readers",
    "integrate": "eventpipe.frames",
    "IntegrationSpec": "eventpipe.frames",
    "get_dataset": "eventpipe.sources",
    "EventsStore": "eventpipe.store",
    "convert": "eventpipe.pipeline.convert",
    "prepare": "eventpipe.pipeline.prepare",
}

__all__ = ["EVENT_DTYPE", "EventpipeError", "SensorSize", "__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
