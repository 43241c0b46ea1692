"""Reading a frames store: a sample's frames by index, straight into the caller's array if given;
labels and metadata; cheap to pickle into worker processes.

>>> fs = FramesStore.open(path)                            # doctest: +SKIP
>>> frames, label = fs.split("train")[0]                    # doctest: +SKIP

A sample's frames are a range of its block's frames array: its chunks are fetched and decoded
directly (:func:`~eventpipe.store._zarr.read_counts`, counts or floats), into a float array too, so
the float32 frames a DataLoader returns come out of one pass. Both classes pickle as their location and attributes only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from eventpipe.errors import UnknownNameError
from eventpipe.store._zarr import open_array, read_counts
from eventpipe.store.base import FinishedStore, IndexedSplit
from eventpipe.store.frames.layout import KIND, SCHEMA_VERSION, block_path
from eventpipe.store.index import read_index

if TYPE_CHECKING:
    from eventpipe.frames import IntegrationSpec


class FramesStore(FinishedStore):
    """A finished frames store. Open with :meth:`open`."""

    KIND = KIND
    SCHEMA_VERSION = SCHEMA_VERSION
    WHAT = "a frames store"
    BUILD = "eventpipe prepare"
    STEP = "integration"
    REBUILD_HINT = "Rebuild it with `eventpipe prepare {dataset} --overwrite` and the same integration options."

    @property
    def spec(self) -> IntegrationSpec:
        """The integration spec the frames were made with (a plugin is imported only when called)."""
        from eventpipe.frames import IntegrationSpec

        return IntegrationSpec.from_dict(self.attrs["spec"])

    @property
    def fixed_t(self) -> bool:
        """True when every sample has the same number of frames (:attr:`frames_per_sample`)."""
        return self.attrs.get("fixed_t") is not None

    @property
    def frames_per_sample(self) -> int | None:
        """T for fixed-T stores, else None."""
        t = self.attrs.get("fixed_t")
        return None if t is None else int(t)

    @property
    def dtype(self) -> np.dtype[Any]:
        """The dtype every sample is returned in: unsigned counts, or float16/float32 float frames."""
        return np.dtype(self.attrs["dtype"])

    @property
    def fingerprint(self) -> str:
        return str(self.attrs["fingerprint"])

    def split(self, name: str) -> FramesSplit:
        """The samples of split ``name``."""
        if name not in self.splits:
            valid = ", ".join(repr(s) for s in self.splits)
            raise UnknownNameError(f"Unknown value {name!r} for argument split. Valid values are {{{valid}}}.")
        return FramesSplit(self.location, name, self.frames_per_sample, self.dtype.name)

    def __repr__(self) -> str:
        counts = ", ".join(f"{s}={n}" for s, n in self.attrs.get("num_samples", {}).items())
        return f"FramesStore({self.dataset!r}, {self.location!r}, {counts})"


class FramesSplit(IndexedSplit):
    """The samples of one split; index arrays load on first use, block arrays on first read."""

    def __init__(self, location: str, name: str, fixed_t: int | None, dtype: str) -> None:
        self.location = location
        self.name = name
        self.fixed_t = fixed_t
        self.dtype = np.dtype(dtype)
        self._index: dict[str, np.ndarray] | None = None
        self._meta: dict[str, np.ndarray] | None = None
        self._arrays: dict[int, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"location": self.location, "name": self.name, "fixed_t": self.fixed_t, "dtype": self.dtype.name}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["location"], state["name"], state["fixed_t"], state["dtype"])  # type: ignore[misc]

    def _load(self) -> dict[str, np.ndarray]:
        if self._index is None:
            names = ("offsets", "labels", "block_samples", "block_frames")
            self._index = {k: v.astype(np.int64, copy=False) for k, v in read_index(self.location, self.name, names).items()}
        return self._index

    def num_frames(self, i: int) -> int:
        """Number of frames T of sample ``i``."""
        i = self._check(i)
        return int(self.offsets[i + 1] - self.offsets[i])

    def _block(self, j: int) -> Any:
        arr = self._arrays.get(j)
        if arr is None:
            arr = open_array(self.location, f"{block_path(self.name, j)}/frames")
            self._arrays[j] = arr
        return arr

    def frames(self, i: int, out: np.ndarray | None = None) -> np.ndarray:
        """Frames ``[T, P, H, W]`` of sample ``i`` in the store's dtype (counts or floats), or written
        into ``out`` (C-contiguous, that shape; a float dtype, e.g. a float32 tensor's array, or, for
        counts, an integer dtype that holds them)."""
        i = self._check(i)
        index = self._load()
        j = int(np.searchsorted(index["block_samples"], i, side="right")) - 1
        arr = self._block(j)
        if self.fixed_t is not None:
            start = (i - int(index["block_samples"][j])) * self.fixed_t
            stop = start + self.fixed_t
        else:
            start = int(index["offsets"][i] - index["block_frames"][j])
            stop = start + self.num_frames(i)
        if out is None:
            out = np.empty((stop - start, *arr.shape[-3:]), dtype=self.dtype)
        elif out.shape != (stop - start, *arr.shape[-3:]):
            raise ValueError(f"out has shape {out.shape}; sample {i} has shape {(stop - start, *arr.shape[-3:])}")
        elif not np.can_cast(self.dtype, out.dtype, "safe") and out.dtype.kind != "f":
            raise ValueError(f"out has dtype {out.dtype}, too narrow for frames stored as {self.dtype}")
        frame = int(np.prod(arr.shape[-3:]))  # elements per frame
        read_counts(arr, start * frame, stop * frame, out)
        return out

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        """``(frames, label)`` of sample ``i``."""
        return self.frames(i), int(self.labels[self._check(i)])

    def __repr__(self) -> str:
        return f"FramesSplit({self.name!r}, {self.location!r})"
