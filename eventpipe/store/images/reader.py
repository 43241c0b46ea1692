"""Reading an images store: a range of a split's images, straight into the caller's array if given.

>>> store = ImagesStore.open(path)                    # doctest: +SKIP
>>> images, label = store.split("train")[0]           # doctest: +SKIP

Every chunk read is first checked against its CRC-32C (:func:`~eventpipe.store._zarr.read_counts`):
a missing or damaged chunk is a :class:`~eventpipe.errors.StoreCorruptError` naming it.
Both classes pickle as their location and a few attributes only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from eventpipe.errors import UnknownNameError
from eventpipe.store._zarr import open_array, read_counts
from eventpipe.store.base import FinishedStore, IndexedSplit
from eventpipe.store.images.layout import KIND, SCHEMA_VERSION, block_path
from eventpipe.store.index import read_index


class ImagesStore(FinishedStore):
    """A finished images store. Open with :meth:`open`."""

    KIND = KIND
    SCHEMA_VERSION = SCHEMA_VERSION
    WHAT = "an images store"
    BUILD = "eventpipe prepare"
    STEP = "conversion"
    REBUILD_HINT = "Rebuild it with `eventpipe prepare {dataset} --overwrite`."

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of every image."""
        c, h, w = self.attrs["shape"]
        return int(c), int(h), int(w)

    def split(self, name: str) -> ImagesSplit:
        """The split ``name``; the error lists the valid ones."""
        if name not in self.splits:
            valid = ", ".join(repr(s) for s in self.splits)
            raise UnknownNameError(f"Unknown value {name!r} for argument split. Valid values are {{{valid}}}.")
        return ImagesSplit(self.location, name, self.shape)

    def __repr__(self) -> str:
        counts = ", ".join(f"{s}={n}" for s, n in self.attrs.get("num_samples", {}).items())
        return f"ImagesStore({self.dataset!r}, {self.location!r}, {counts})"


class ImagesSplit(IndexedSplit):
    """The images of one split; the index loads on first use, block arrays on first read."""

    def __init__(self, location: str, name: str, shape: tuple[int, int, int]) -> None:
        self.location = location
        self.name = name
        self.shape = tuple(int(v) for v in shape)
        self._index: dict[str, np.ndarray] | None = None
        self._meta = None
        self._arrays: dict[int, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"location": self.location, "name": self.name, "shape": self.shape}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["location"], state["name"], state["shape"])  # type: ignore[misc]

    def _load(self) -> dict[str, np.ndarray]:
        if self._index is None:
            index = read_index(self.location, self.name, ("labels", "block_samples"))
            self._index = {k: v.astype(np.int64, copy=False) for k, v in index.items()}
        return self._index

    def _block(self, j: int) -> Any:
        arr = self._arrays.get(j)
        if arr is None:
            arr = open_array(self.location, f"{block_path(self.name, j)}/images")
            self._arrays[j] = arr
        return arr

    def images(self, start: int = 0, stop: int | None = None, out: np.ndarray | None = None) -> np.ndarray:
        """Images ``[start, stop)`` as ``[n, C, H, W]``: uint8, or written into ``out`` (C-contiguous,
        that shape, any integer or float dtype: a float32 tensor's array gets the pixel values 0-255)."""
        n = len(self)
        stop = n if stop is None else stop
        if not 0 <= start <= stop <= n:
            raise IndexError(f"images [{start}, {stop}) out of range for split {self.name!r} with {n} images.")
        shape = (stop - start, *self.shape)
        if out is None:
            out = np.empty(shape, dtype=np.uint8)
        elif out.shape != shape:
            raise ValueError(f"out has shape {out.shape}; images [{start}, {stop}) have shape {shape}")
        bounds = self._load()["block_samples"]
        size = int(np.prod(self.shape))
        first = int(np.searchsorted(bounds, start, side="right")) - 1
        at = start
        for j in range(max(first, 0), len(bounds) - 1):
            lo, hi = int(bounds[j]), int(bounds[j + 1])
            if at >= stop:
                break
            end = min(stop, hi)
            if end > at:
                read_counts(self._block(j), (at - lo) * size, (end - lo) * size, out[at - start:end - start])
            at = end
        return out

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        """``(image [C, H, W] uint8, label)`` of sample ``i``."""
        i = self._check(i)
        return self.images(i, i + 1)[0], int(self.labels[i])

    def __repr__(self) -> str:
        return f"ImagesSplit({self.name!r}, {self.location!r})"
