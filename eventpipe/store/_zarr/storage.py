"""Stored objects by key: the Zarr store of a location, and whole objects put and fetched directly.

Zarr's ``store.set`` and ``store.get`` hop to its event-loop thread and a worker thread for every key,
and its local store writes a temporary file then renames it, per key. A local store's files are
therefore written and read right here; any other store (fsspec URLs) gets all keys concurrently in
one call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from eventpipe.store.location import StoreLike, is_local, normalize

if TYPE_CHECKING:
    from zarr.abc.store import Store


def store_of(location: StoreLike) -> Store:
    """The Zarr store at ``location``: a local folder or an fsspec URL (as :func:`zarr.open_group` makes it)."""
    from zarr.storage import FsspecStore, LocalStore

    loc = normalize(location)
    return LocalStore(loc) if is_local(loc) else FsspecStore.from_url(loc)


def put_objects(store: Any, writes: Sequence[tuple[str, bytes]]) -> None:
    """Store every object ``(key, bytes)`` of ``writes`` in the Zarr ``store``.

    Local files are written in place, not atomically: a part or block is marked complete only after
    all its chunks are written, and an incomplete one is erased before it is written again.
    """
    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.sync import sync
    from zarr.storage import LocalStore

    if not writes:
        return
    if isinstance(store, LocalStore):
        folders: set[Any] = set()
        for key, data in writes:
            path = store.root / key
            if path.parent not in folders:
                path.parent.mkdir(parents=True, exist_ok=True)
                folders.add(path.parent)
            path.write_bytes(data)
        return
    prototype = default_buffer_prototype()

    async def store_all() -> None:
        await asyncio.gather(*(store.set(key, prototype.buffer.from_bytes(data)) for key, data in writes))

    sync(store_all())


def get_objects(items: Sequence[tuple[Any, str]]) -> list[Any]:
    """The stored bytes (a buffer, or None when absent) of every ``(store, key)`` of ``items``."""
    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.sync import sync
    from zarr.storage import LocalStore

    if all(isinstance(store, LocalStore) for store, _ in items):
        out: list[Any] = []
        for store, key in items:
            try:
                out.append((store.root / key).read_bytes())
            except FileNotFoundError:
                out.append(None)
        return out
    prototype = default_buffer_prototype()

    async def fetch() -> list[Any]:
        return await asyncio.gather(*(store.get(key, prototype=prototype) for store, key in items))

    return [None if buf is None else buf.as_numpy_array() for buf in sync(fetch())]
