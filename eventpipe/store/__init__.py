"""Stores on Zarr v3 (local folder or any fsspec URL): the events store and the shared store helpers.

Public names load lazily, so importing this package does not import Zarr.

Shared by every store (the frames store reuses them):

- :mod:`eventpipe.store.location`: ``open_group(path_or_url, mode)``, ``normalize``, ``exists``,
  ``remove``, ``size_on_disk``.
- :mod:`eventpipe.store.codecs`: the measured Blosc/zstd codecs and chunk sizes.
- :mod:`eventpipe.store.nodes`: groups' and arrays' ``zarr.json`` built with Zarr's own metadata
  classes and written or read directly (``write_nodes``, ``create_store``, ``open_array``,
  ``read_group_attrs``, ``child_arrays``), without Zarr's per-call thread hops.
- :mod:`eventpipe.store.chunks`: ``blosc_array(path, data, compressor, chunk)``, a whole 1-D array's
  metadata and chunks encoded ~3x faster than through Zarr's codec pipeline, byte-identical to it; ``read_range``/``read_whole``, the same chunks read back and decoded directly;
  ``fetch_chunks``, stored chunks as bytes; ``write_index``, the per-sample index arrays of both stores.
- :mod:`eventpipe.store.markers`: ``fingerprint``, ``mark_complete``/``is_complete`` (completion
  markers written after the data), ``read_attrs``, ``file_sha256``.
- :mod:`eventpipe.store.lock`: ``store_lock(path_or_url)``, raising ``StoreLockedError``.
- :mod:`eventpipe.store.integrity`: ``check_integrity`` and ``register_integrity_check`` (the hook
  another kind of store uses to plug in its checker; see that module's docstring).

The events store itself: :mod:`~eventpipe.store.events_layout` (layout and encoding),
:mod:`~eventpipe.store.events_writer` (begin / write_part / finalize), :mod:`~eventpipe.store.events_store`
(reading), :mod:`~eventpipe.store.stats` (summaries for ``eventpipe info``).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "EventsStore": "eventpipe.store.events_store",
    "EventsSplit": "eventpipe.store.events_store",
    "SampleBatch": "eventpipe.store.samples",
    "check_integrity": "eventpipe.store.integrity",
    "register_integrity_check": "eventpipe.store.integrity",
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
