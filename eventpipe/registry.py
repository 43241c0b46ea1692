"""One registry class for datasets, readers and integrators, with entry-point plugins.

>>> r: Registry[int] = Registry("numbers")
>>> r.register("one", 1)
>>> r.get("one")
1
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from eventpipe.errors import ConfigError, UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named objects of one kind; plugins join through the entry-point group ``group`` (loaded lazily).

    Registering a name twice is an error: a plugin can never shadow a built-in silently.
    """

    def __init__(self, kind: str, group: str | None = None) -> None:
        self.kind = kind
        self.group = group
        self._items: dict[str, T] = {}
        self._aliases: dict[str, str] = {}
        self._loaded_entry_points = group is None

    def register(self, name: str, obj: T, aliases: tuple[str, ...] = ()) -> None:
        """Add ``obj`` under ``name`` (and ``aliases``); raise if any name is taken."""
        for n in (name, *aliases):
            if n in self._items or n in self._aliases:
                raise ConfigError(f"{self.kind} {n!r} is already registered.")
        self._items[name] = obj
        for a in aliases:
            self._aliases[a] = name

    def _load_entry_points(self) -> None:
        if self._loaded_entry_points:
            return
        self._loaded_entry_points = True
        assert self.group is not None
        for ep in entry_points(group=self.group):
            if ep.name not in self._items and ep.name not in self._aliases:
                self._items[ep.name] = ep.load()

    def canonical(self, name: str) -> str:
        """The registered name for ``name`` or one of its aliases."""
        if name in self._items:
            return name
        if name in self._aliases:
            return self._aliases[name]
        self._load_entry_points()
        if name in self._items:
            return name
        valid = ", ".join(repr(n) for n in sorted(self.names()))
        raise UnknownNameError(f"Unknown {self.kind} {name!r}. Valid values are {{{valid}}}.")

    def get(self, name: str) -> T:
        """The object registered as ``name`` (or an alias); the error lists valid names."""
        return self._items[self.canonical(name)]

    def names(self) -> list[str]:
        """Registered names (built-ins and loaded plugins), aliases excluded."""
        self._load_entry_points()
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._items or name in self._aliases)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
