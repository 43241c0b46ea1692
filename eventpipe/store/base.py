"""What both stores' readers share: opening a finished store (its kind, schema version and completion
checked) and a split's labels, offsets and per-sample metadata."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

import numpy as np

from eventpipe.errors import DataNotFoundError, StoreSchemaError, StoreVersionError
from eventpipe.events import SensorSize
from eventpipe.store._zarr import child_arrays
from eventpipe.store.index import read_index
from eventpipe.store.location import StoreLike, exists, normalize
from eventpipe.store.markers import COMPLETE, KIND_ATTR, read_attrs

S = TypeVar("S", bound="FinishedStore")


class FinishedStore:
    """A finished store of one kind. Subclasses name the kind, schema version and the command that builds it."""

    KIND: ClassVar[str]
    SCHEMA_VERSION: ClassVar[int]
    WHAT: ClassVar[str]  # "an events store"
    BUILD: ClassVar[str]  # the command that makes it, e.g. "eventpipe convert"
    STEP: ClassVar[str]  # the work that must finish, e.g. "conversion"
    REBUILD_HINT: ClassVar[str]  # what to do after a schema change; ``{dataset}`` is filled in

    def __init__(self, location: str, attrs: dict[str, Any]) -> None:
        self.location = location
        self.attrs = attrs

    @classmethod
    def open(cls: type[S], location: StoreLike) -> S:
        """Open the store at a local path or fsspec URL.

        Raises
        ------
        DataNotFoundError
            Nothing is stored at ``location``.
        StoreSchemaError
            It is not a store of this kind, has another schema version, or the work that builds it did not finish.
        """
        loc = normalize(location)
        if not exists(loc):
            raise DataNotFoundError(f"No {cls.WHAT.split(' ', 1)[1]} at {loc}; run `{cls.BUILD}` first.")
        attrs = read_attrs(loc)
        if attrs is None:
            raise StoreSchemaError(f"{loc}: the store metadata cannot be read.")
        if attrs.get(KIND_ATTR) != cls.KIND:
            raise StoreSchemaError(f"{loc} is not {cls.WHAT} (kind {attrs.get(KIND_ATTR)!r}).")
        if attrs.get("schema_version") != cls.SCHEMA_VERSION:
            raise StoreVersionError(
                f"{loc} has {cls.KIND} schema version {attrs.get('schema_version')}; this eventpipe reads "
                f"version {cls.SCHEMA_VERSION}. {cls.REBUILD_HINT.format(dataset=attrs.get('dataset', 'NAME'))}"
            )
        if not attrs.get(COMPLETE):
            raise StoreSchemaError(f"{loc}: the {cls.STEP} did not finish; run `{cls.BUILD}` again to resume it.")
        return cls(loc, attrs)

    @property
    def dataset(self) -> str:
        return str(self.attrs["dataset"])

    @property
    def sensor(self) -> SensorSize:
        return SensorSize(*self.attrs["sensor"])

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.attrs["classes"])

    @property
    def splits(self) -> tuple[str, ...]:
        return tuple(self.attrs["splits"])


class IndexedSplit:
    """What the events and frames splits share: labels, offsets, index checks and per-sample metadata.

    Subclasses set ``location``, ``name`` and ``_meta = None`` and implement :meth:`_load`, which returns the
    split's small index arrays (at least ``offsets`` and ``labels``), read once.
    """

    location: str
    name: str
    _meta: dict[str, np.ndarray] | None

    def _load(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self._load()["labels"])

    @property
    def labels(self) -> np.ndarray:
        """int64 ``[n]`` class indices."""
        return self._load()["labels"]

    @property
    def offsets(self) -> np.ndarray:
        """int64 ``[n+1]``: sample ``i`` is items ``offsets[i]:offsets[i+1]`` (events or frames) of the split."""
        return self._load()["offsets"]

    def _check(self, i: int) -> int:
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"sample index {i} out of range for split {self.name!r} with {n} samples.")
        return int(i) % n

    @property
    def meta_columns(self) -> dict[str, np.ndarray]:
        """Per-sample metadata columns (e.g. user, lighting), each an array of length ``n``."""
        if self._meta is None:
            path = f"{self.name}/meta"
            self._meta = read_index(self.location, path, child_arrays(self.location, path))
        return self._meta

    def meta(self, i: int) -> dict[str, Any]:
        """Metadata of sample ``i`` as plain Python values."""
        i = self._check(i)
        return {k: (str(v[i]) if v.dtype.kind in "UTO" else v[i].item()) for k, v in self.meta_columns.items()}
