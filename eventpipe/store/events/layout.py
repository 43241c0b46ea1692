"""The on-disk layout of an events store (schema version 3): its tree, names and identity.

::

    events.zarr/                       attrs: eventpipe_store="events", schema_version, dataset,
    │                                         sensor [W, H, P], classes, splits, options, plan,
    │                                         eventpipe_version; when finished also fingerprint,
    │                                         sources {count, bytes, digest}, skipped, num_samples,
    │                                         num_events, complete
    ├── sources/  path, size, checksum  every raw file read (written when finished)
    ├── parts/<split>/p00000/          one group per part: the events of consecutive samples
    │   ├── dt  uint32 (uint64 if needed)  t minus the previous event's t; 0 at each sample start
    │   ├── x, y  uint8 for sensors up to 256 pixels wide and high, else uint16
    │   └── p   uint8                  attrs: index {offsets, labels, t0, t1}, meta, sources, skipped,
    │                                         complete (written last, in one metadata write)
    └── <split>/                       written once every part is complete
        ├── offsets  int64 [n+1]       sample i is events [offsets[i], offsets[i+1]) of the split
        ├── labels   int64 [n]
        ├── t0, t1   int64 [n]         first and last timestamp of each sample, µs (0 when empty)
        ├── part_samples  int64 [k+1]  sample index where each part starts
        ├── part_events   int64 [k+1]  event index where each part starts
        └── meta/<column>  int64 or str [n]

Every array's chunks end with a CRC-32C (:mod:`eventpipe.store._zarr.chunks`). A split's events are the concatenation of its parts in order. Each part is written by one task into
its own arrays, so parallel tasks never touch the same chunk. Timestamps are delta-encoded within
each sample (:mod:`eventpipe.store.events.encoding`), so sample ``i`` decodes from its own events
alone: reading it costs O(its events).

The store's identity is its :class:`StoreHeader` (what it will hold, known before any raw file is
read) and, once finished, :func:`store_fingerprint` (what it holds).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from eventpipe._version import __version__
from eventpipe.events import SensorSize
from eventpipe.store.markers import KIND_ATTR, fingerprint

KIND = "events"
SCHEMA_VERSION = 3
"""Version 3: every chunk of every array ends with its CRC-32C (Zarr's ``crc32c`` codec) and is
stored, so damage is detected on read. Version 2 had no checksums; version 1 also used Blosc's
default blocks and bit-shuffled ``dt``. Older stores are refused with the command that rebuilds them."""

PARTS = "parts"
SOURCES = "sources"
COLUMNS = ("dt", "x", "y", "p")
_IDENTITY = ("dataset", "sensor", "classes", "splits", "options", "plan")


def part_path(split: str, key: str) -> str:
    """Path of a part's group inside the store: ``parts/<split>/<key>``."""
    return f"{PARTS}/{split}/{key}"


def coord_dtype(sensor: SensorSize) -> np.dtype:
    """Narrowest unsigned dtype holding every x and y of ``sensor`` (uint8 halves the bytes to compress)."""
    return np.dtype(np.uint8) if max(sensor.width, sensor.height) <= 256 else np.dtype(np.uint16)


@dataclass(frozen=True)
class StoreHeader:
    """What an events store holds, known before any raw file is read.

    ``plan`` is a fingerprint of the part list (splits, part keys, source paths and sizes): when the
    raw files or the options change, the plan changes and the old store is not reused.
    """

    dataset: str
    sensor: SensorSize
    classes: tuple[str, ...]
    splits: tuple[str, ...]
    options: Mapping[str, Any]
    plan: str

    def to_attrs(self) -> dict[str, Any]:
        """Root attributes of a new store."""
        return {
            KIND_ATTR: KIND,
            "schema_version": SCHEMA_VERSION,
            "dataset": self.dataset,
            "sensor": list(self.sensor),
            "classes": list(self.classes),
            "splits": list(self.splits),
            "options": dict(self.options),
            "plan": self.plan,
            "eventpipe_version": __version__,
        }

    def matches(self, attrs: Mapping[str, Any]) -> bool:
        """True when the root attributes ``attrs`` are those of a store begun with this header."""
        want = self.to_attrs()
        return (
            attrs.get(KIND_ATTR) == KIND
            and attrs.get("schema_version") == SCHEMA_VERSION
            and all(attrs.get(k) == want[k] for k in _IDENTITY)
        )


def store_fingerprint(attrs: Mapping[str, Any]) -> str:
    """Fingerprint of an events store from its root attributes: what it holds, not which version wrote it.

    Covers schema version, dataset, sensor, classes, splits, options, the digest of every source file's
    checksum and the files skipped; not the eventpipe version or the part layout, which do not change
    the data.
    """
    keys = ("schema_version", "dataset", "sensor", "classes", "splits", "options", "sources", "skipped")
    return fingerprint({k: attrs.get(k) for k in keys})
