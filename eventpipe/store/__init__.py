"""The two stores on Zarr v3 (a local folder or any fsspec URL), and what they share.

Public names load lazily, so importing this package does not import Zarr.

- :mod:`eventpipe.store.events`: the events store (a dataset's events, read by sample);
- :mod:`eventpipe.store.frames`: the frames store (one integration spec's count frames);
- shared by both: :mod:`~eventpipe.store.location` (where a store lives), :mod:`~eventpipe.store.lock`
  (one writer per store), :mod:`~eventpipe.store.markers` (kind, fingerprint, completion markers),
  :mod:`~eventpipe.store.codecs` (Blosc codecs and chunk sizes), :mod:`~eventpipe.store.index`
  (per-sample index arrays), :mod:`~eventpipe.store.base` (opening a finished store and its splits),
  :mod:`~eventpipe.store.checks` and :mod:`~eventpipe.store.integrity` (consistency checks),
  :mod:`~eventpipe.store.samples` (samples in memory, the events writer's input) and
  :mod:`~eventpipe.store.stats` (summaries for ``eventpipe info``);
- :mod:`eventpipe.store._zarr`: the internal fast path that writes and reads Zarr nodes and chunks
  directly; nothing outside the stores uses it.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "EventsStore": "eventpipe.store.events.reader",
    "EventsSplit": "eventpipe.store.events.reader",
    "FramesStore": "eventpipe.store.frames.reader",
    "FramesSplit": "eventpipe.store.frames.reader",
    "SampleBatch": "eventpipe.store.samples",
    "check_integrity": "eventpipe.store.integrity",
    "store_lock": "eventpipe.store.lock",
    "open_group": "eventpipe.store.location",
    "fingerprint": "eventpipe.store.markers",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'eventpipe.store' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
