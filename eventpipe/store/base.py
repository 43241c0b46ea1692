"""What the events and frames stores share: location, attributes, and the checks made when one is opened."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from eventpipe.errors import DataNotFoundError, StoreSchemaError
from eventpipe.events import SensorSize
from eventpipe.store.events_layout import KIND_ATTR
from eventpipe.store.location import StoreLike, exists, normalize
from eventpipe.store.markers import COMPLETE, read_attrs

S = TypeVar("S", bound="FinishedStore")


class FinishedStore:
    """A finished store of one kind. Subclasses name the kind, schema version and the command that builds it."""

    KIND: ClassVar[str]
    SCHEMA_VERSION: ClassVar[int]
    WHAT: ClassVar[str]  # "an events store"
    BUILD: ClassVar[str]  # the command that makes it, e.g. "eventpipe convert"
    STEP: ClassVar[str]  # the work that must finish, e.g. "conversion"
    REBUILD_HINT: ClassVar[str]  # what to do after a schema change

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
            raise StoreSchemaError(
                f"{loc} has {cls.KIND} schema version {attrs.get('schema_version')}; this eventpipe reads "
                f"version {cls.SCHEMA_VERSION}. {cls.REBUILD_HINT}"
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
