"""Reading an events store: samples by index, labels, metadata, source files; cheap to pickle into workers.

>>> es = EventsStore.open(path)                        # doctest: +SKIP
>>> train = es.split("train")                           # doctest: +SKIP
>>> events, label = train.events(0), train.labels[0]    # doctest: +SKIP

Reading sample ``i`` touches the split's small index arrays (loaded once) and the chunks of one part
that hold the sample, so its cost is O(its events). Both classes pickle as their location and
attributes only; each process opens the Zarr arrays itself on first use.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from eventpipe.errors import StoreSchemaError, UnknownNameError
from eventpipe.events import Events, SensorSize, empty_events
from eventpipe.store._zarr import open_array, read_range
from eventpipe.store.base import FinishedStore, IndexedSplit
from eventpipe.store.events.encoding import decode
from eventpipe.store.events.layout import COLUMNS, KIND, SCHEMA_VERSION, SOURCES, part_path
from eventpipe.store.index import read_index
from eventpipe.store.location import StoreLike
from eventpipe.store.markers import read_attrs


class EventsStore(FinishedStore):
    """A finished events store. Open with :meth:`open`."""

    KIND = KIND
    SCHEMA_VERSION = SCHEMA_VERSION
    WHAT = "an events store"
    BUILD = "eventpipe convert"
    STEP = "conversion"
    REBUILD_HINT = "Rebuild it with `eventpipe convert {dataset}` (the older store is replaced)."

    @property
    def fingerprint(self) -> str:
        return str(self.attrs["fingerprint"])

    @property
    def skipped(self) -> list[dict[str, Any]]:
        """Raw files left out as corrupt: path, byte offset (or None), reason, split."""
        return list(self.attrs.get("skipped", []))

    def split(self, name: str) -> EventsSplit:
        """The samples of split ``name``."""
        if name not in self.splits:
            valid = ", ".join(repr(s) for s in self.splits)
            raise UnknownNameError(f"Unknown value {name!r} for argument split. Valid values are {{{valid}}}.")
        return EventsSplit(self.location, name, self.sensor)

    def __repr__(self) -> str:
        counts = ", ".join(f"{s}={n}" for s, n in self.attrs.get("num_samples", {}).items())
        return f"EventsStore({self.dataset!r}, {self.location!r}, {counts})"


class EventsSplit(IndexedSplit):
    """The samples of one split. Index arrays load on first use; part arrays open on first read."""

    def __init__(self, location: str, name: str, sensor: SensorSize) -> None:
        self.location = location
        self.name = name
        self.sensor = sensor
        self._index: dict[str, np.ndarray] | None = None
        self._meta: dict[str, np.ndarray] | None = None
        self._parts: list[str] = []
        self._arrays: dict[int, tuple[Any, ...]] = {}
        self._block: tuple[int, int, int, list[np.ndarray]] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"location": self.location, "name": self.name, "sensor": tuple(self.sensor)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["location"], state["name"], SensorSize(*state["sensor"]))  # type: ignore[misc]

    def _load(self) -> dict[str, np.ndarray]:
        if self._index is None:
            attrs = read_attrs(self.location, self.name)
            if attrs is None or "parts" not in attrs:
                raise StoreSchemaError(f"{self.location}: split {self.name!r} has no readable index.")
            self._parts = [str(k) for k in attrs["parts"]]
            names = ("offsets", "labels", "t0", "t1", "part_samples", "part_events")
            self._index = {k: v.astype(np.int64, copy=False) for k, v in read_index(self.location, self.name, names).items()}
        return self._index

    @property
    def t0(self) -> np.ndarray:
        """int64 ``[n]``: first timestamp of each sample in µs (0 for an empty sample)."""
        return self._load()["t0"]

    @property
    def t1(self) -> np.ndarray:
        """int64 ``[n]``: last timestamp of each sample in µs (0 for an empty sample)."""
        return self._load()["t1"]

    @property
    def durations_us(self) -> np.ndarray:
        """int64 ``[n]``: ``t1 - t0`` of each sample in µs, without reading any event."""
        return self.t1 - self.t0

    def num_events(self, i: int) -> int:
        """Number of events of sample ``i``."""
        i = self._check(i)
        off = self.offsets
        return int(off[i + 1] - off[i])

    def _part_arrays(self, j: int) -> tuple[Any, ...]:
        arrays = self._arrays.get(j)
        if arrays is None:
            path = part_path(self.name, self._parts[j])
            arrays = tuple(open_array(self.location, f"{path}/{c}") for c in COLUMNS)
            self._arrays[j] = arrays
        return arrays

    def _columns(self, j: int, start: int, stop: int) -> list[np.ndarray]:
        """Columns of events ``start:stop`` of part ``j``, via a cache of the last chunk-aligned block.

        Whole chunks are decoded anyway; keeping the last block makes reading samples in order
        (as frame integration does) decode each chunk once. The four columns' chunks are fetched
        in one call and decoded straight into place (:func:`~eventpipe.store._zarr.read_range`).
        """
        block = self._block
        if block is None or block[0] != j or not block[1] <= start <= stop <= block[2]:
            arrays = self._part_arrays(j)
            chunk = arrays[0].chunks[0]
            lo, hi = start // chunk * chunk, min(-(-stop // chunk) * chunk, arrays[0].shape[0])
            block = (j, lo, hi, read_range(arrays, lo, hi))
            self._block = block
        _, lo, _, data = block
        return [col[start - lo:stop - lo] for col in data]

    def events(self, i: int) -> Events:
        """Events of sample ``i`` (structured array of EVENT_DTYPE, t sorted, in µs)."""
        i = self._check(i)
        index = self._load()
        start, stop = int(index["offsets"][i]), int(index["offsets"][i + 1])
        if start == stop:
            return empty_events()
        j = int(np.searchsorted(index["part_samples"], i, side="right")) - 1
        base = int(index["part_events"][j])
        return decode(int(index["t0"][i]), *self._columns(j, start - base, stop - base))

    def __getitem__(self, i: int) -> tuple[Events, int]:
        """``(events, label)`` of sample ``i``."""
        return self.events(i), int(self.labels[self._check(i)])

    def __repr__(self) -> str:
        return f"EventsSplit({self.name!r}, {self.location!r})"


def read_sources(location: StoreLike) -> list[dict[str, Any]]:
    """The raw files an events store was converted from: ``{"path", "size", "checksum"}`` each."""
    columns = read_index(location, SOURCES, ("path", "size", "checksum"))
    paths, sizes, sums = (columns[k] for k in ("path", "size", "checksum"))
    return [{"path": str(p), "size": int(n), "checksum": str(c)} for p, n, c in zip(paths, sizes, sums, strict=True)]
