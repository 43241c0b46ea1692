"""Writing a whole 1-D array quickly: Zarr creates the array, the chunks are encoded here.

``array[:] = data`` through Zarr's codec pipeline measured 20-35 M events/s for the event columns,
against ~85 M events/s for encoding the same chunks with numcodecs' Blosc directly: the pipeline
copies every chunk several times and hops threads per chunk. :func:`write_array` lets Zarr create
the array (its metadata is the contract) and then encodes each chunk exactly as the Zarr v3 spec
says for a ``bytes`` (little endian) + ``blosc`` codec chain, edge chunk padded with the fill value
to the full chunk shape, and stores it under the array's own chunk keys. Zarr reads the result like
any array it wrote; a test checks the bytes are identical to Zarr's own.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import zarr
    from zarr.codecs import BloscCodec

_SHUFFLE = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}


def write_array(
    group: zarr.Group, name: str, data: np.ndarray, compressor: BloscCodec, chunk: int, attributes: dict[str, Any]
    | None = None,
) -> zarr.Array:
    """Create the 1-D array ``group/name`` holding ``data`` (chunks of ``chunk`` items, ``compressor``)."""
    from numcodecs import Blosc
    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.sync import sync

    data = np.ascontiguousarray(data, dtype=data.dtype.newbyteorder("<"))
    arr = group.create_array(
        name, shape=data.shape, dtype=data.dtype, chunks=(chunk,), compressors=compressor, fill_value=0,
        attributes=attributes,
    )
    codec = Blosc(
        cname=compressor.cname.value, clevel=compressor.clevel, shuffle=_SHUFFLE[compressor.shuffle.value],
        blocksize=compressor.blocksize, typesize=data.dtype.itemsize,
    )
    prototype = default_buffer_prototype()
    writes = []
    for i, start in enumerate(range(0, len(data), chunk)):
        block = data[start:start + chunk]
        if len(block) < chunk:
            block = np.concatenate([block, np.zeros(chunk - len(block), dtype=data.dtype)])
        key = f"{arr.path}/{arr.metadata.encode_chunk_key((i,))}"
        writes.append((key, prototype.buffer.from_bytes(codec.encode(block))))

    async def store_all() -> None:
        await asyncio.gather(*(arr.store.set(key, buf) for key, buf in writes))

    if writes:
        sync(store_all())
    return arr
