"""Whole chunks in and out quickly, byte-identical to Zarr: 1-D event columns, index arrays and
the frames store's chunks (stored here, encoded by :mod:`eventpipe.store.sparse_counts`).

``array[:] = data`` through Zarr's codec pipeline measured 20-35 M events/s for the event columns,
against ~85 M events/s for encoding the same chunks with numcodecs' Blosc directly: the pipeline
copies every chunk several times and hops threads per chunk. :func:`blosc_array` builds the
array's metadata with Zarr's own classes (:mod:`eventpipe.store.nodes`) and encodes each chunk
exactly as the Zarr v3 spec says for a ``bytes`` (little endian) + ``blosc`` codec chain, edge
chunk padded with the fill value to the full chunk shape, under the array's own chunk keys. Zarr
reads the result like any array it wrote; a test checks the bytes are identical to Zarr's own.

Reading goes the same way round (:func:`read_range`): the encoded chunks are fetched from the
array's store (a local store's files read directly, any other store's keys concurrently in one
call; :func:`fetch_chunks`) and Blosc decodes each straight into the output: the four event columns
measured 6.6 ns/event against 12.4 through Zarr's ``array[a:b]``. Arrays whose codecs are anything
but ``bytes`` + ``blosc``, e.g. a store rewritten by another tool, are read through Zarr itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from eventpipe.store.location import StoreLike, join, remove

if TYPE_CHECKING:
    import zarr
    from zarr.codecs import BloscCodec
    from zarr.core.metadata.v3 import ArrayV3Metadata

_SHUFFLE = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}


def blosc_array(
    path: str, data: np.ndarray, compressor: BloscCodec, chunk: int, attributes: Mapping[str, Any] | None = None,
) -> tuple[ArrayV3Metadata, list[tuple[str, bytes]]]:
    """The metadata and encoded chunks ``(key, bytes)`` of the 1-D array at ``path`` holding ``data``
    (chunks of ``chunk`` items, ``bytes`` + ``compressor``): what Zarr's ``create_array`` and
    ``array[:] = data`` would store, byte for byte."""
    from numcodecs import Blosc
    from zarr.codecs import BytesCodec

    from eventpipe.store.nodes import array_metadata

    data = np.ascontiguousarray(data, dtype=data.dtype.newbyteorder("<"))
    metadata = array_metadata(data.shape, data.dtype, (chunk,), [BytesCodec(), compressor], attributes=attributes)
    codec = Blosc(
        cname=compressor.cname.value, clevel=compressor.clevel, shuffle=_SHUFFLE[compressor.shuffle.value],
        blocksize=compressor.blocksize, typesize=data.dtype.itemsize,
    )
    writes = []
    for i, start in enumerate(range(0, len(data), chunk)):
        block = data[start:start + chunk]
        if len(block) < chunk:
            block = np.concatenate([block, np.zeros(chunk - len(block), dtype=data.dtype)])
        writes.append((f"{path}/{metadata.encode_chunk_key((i,))}", codec.encode(block)))
    return metadata, writes


def store_chunks(store: Any, writes: Sequence[tuple[str, bytes]]) -> None:
    """Store every encoded chunk ``(key, bytes)`` of ``writes`` in the Zarr ``store``.

    A local store's files are written right here (Zarr's ``store.set`` hops to a worker thread and
    writes a temporary file then renames it, per key: measured ~0.3 ms per chunk, a quarter of the
    time to compress it). Atomic files are not needed: a part or block is marked complete only after
    all its chunks are written, and an incomplete one is erased before it is written again. Any
    other store gets all keys concurrently in one call.
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


def write_index(location: StoreLike, arrays: Mapping[str, np.ndarray]) -> None:
    """Write the small per-sample arrays (offsets, labels, metadata) ``{path: data}`` of the store
    at ``location``: chunks of :data:`~eventpipe.store.codecs.INDEX_CHUNK` items, integers
    compressed with :func:`~eventpipe.store.codecs.index_compressor` and written directly in one
    call, strings through Zarr with its default codecs."""
    import zarr

    from eventpipe.store import codecs
    from eventpipe.store.nodes import store_of, write_nodes

    nodes, writes = [], []
    for path, data in arrays.items():
        chunk = min(codecs.INDEX_CHUNK, max(len(data), 1))
        if data.dtype.kind in "iu":
            metadata, chunks = blosc_array(path, data, codecs.index_compressor(), chunk)
            nodes.append((path, metadata))
            writes += chunks
            continue
        arr = zarr.create_array(store_of(location), name=path, shape=data.shape, dtype=data.dtype, chunks=(chunk,),
                                zarr_format=3)
        if len(data):
            arr[:] = data
    write_nodes(location, nodes, writes)


def write_split_index(location: str, split: str, arrays: Mapping[str, np.ndarray],
                      attributes: Mapping[str, Any] | None = None) -> None:
    """Replace the index of ``split`` in the store at ``location``: its group (with ``attributes``),
    the group's empty ``meta`` group and the arrays ``{name: data}``, named within the split
    (``offsets``, ``meta/user``), written with :func:`write_index`."""
    from eventpipe.store.nodes import group_metadata, write_nodes

    remove(join(location, split))  # what an interrupted finalize left, if anything
    write_nodes(location, [(split, group_metadata(attributes)), (f"{split}/meta", group_metadata())])
    write_index(location, {f"{split}/{name}": data for name, data in arrays.items()})


def _is_direct(arr: zarr.Array) -> bool:
    """True when ``arr``'s chunks are plain little-endian bytes through Blosc, decoded here."""
    from zarr.codecs import BloscCodec, BytesCodec

    chain = list(getattr(arr.metadata, "codecs", ()))
    return (len(chain) == 2 and isinstance(chain[0], BytesCodec) and isinstance(chain[1], BloscCodec)
            and (chain[0].endian is None or chain[0].endian.value == "little")
            and arr.metadata.dtype.to_native_dtype().byteorder in "<|=")


def _fetch(items: Sequence[tuple[Any, str]]) -> list[Any]:
    """The stored bytes (a buffer, or None when absent) of every ``(store, key)``.

    Files of a local store are read right here; Zarr's ``store.get`` would hop to its event-loop
    thread and a worker thread for each key (~0.1 ms apiece, as long as decoding a small chunk).
    Any other store is asked for all keys concurrently in one call.
    """
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


def read_range(arrays: Sequence[zarr.Array], start: int, stop: int) -> list[np.ndarray]:
    """``array[start:stop]`` of every 1-D array in ``arrays`` (same chunking), all their chunks
    fetched concurrently in one call and decoded straight into one buffer per array."""
    from numcodecs.blosc import decompress

    if stop <= start:
        return [np.zeros(0, dtype=a.metadata.dtype.to_native_dtype()) for a in arrays]
    if not all(map(_is_direct, arrays)):
        return _read_with_zarr(arrays, start, stop)
    plans = []
    for a in arrays:
        chunk = a.chunks[0]
        first, last = start // chunk, (stop - 1) // chunk
        keys = [f"{a.path}/{a.metadata.encode_chunk_key((i,))}" for i in range(first, last + 1)]
        plans.append((a, chunk, first, keys))
    bufs = iter(_fetch([(a.store, k) for a, _, _, keys in plans for k in keys]))
    out = []
    for a, chunk, first, keys in plans:
        data = np.empty(len(keys) * chunk, dtype=a.metadata.dtype.to_native_dtype())
        for i in range(len(keys)):
            buf = next(bufs)
            part = data[i * chunk:(i + 1) * chunk]
            if buf is None:
                part.fill(a.metadata.fill_value)
            else:
                decompress(buf, part)
        out.append(data[start - first * chunk:stop - first * chunk])
    return out


def read_whole(arr: zarr.Array) -> np.ndarray:
    """All of the 1-D array ``arr``, read as :func:`read_range` reads."""
    return read_range([arr], 0, arr.shape[0])[0]


def _read_with_zarr(arrays: Sequence[zarr.Array], start: int, stop: int) -> list[np.ndarray]:
    """``array[start:stop]`` of every array through Zarr's own pipeline, concurrently in one call."""
    from zarr.core.sync import sync

    async def gather() -> list[Any]:
        return await asyncio.gather(*(a.async_array.getitem(slice(start, stop)) for a in arrays))

    return [np.asarray(c) for c in sync(gather())]


def fetch_chunks(store: Any, keys: Sequence[str]) -> list[Any]:
    """The stored bytes (a buffer, or None when absent) of every key of the Zarr ``store``."""
    return _fetch([(store, key) for key in keys])
