"""Whole chunks encoded and decoded directly, byte-identical to Zarr's codec pipeline.

``array[...] = data`` and ``array[a:b]`` through Zarr's pipeline copy every chunk several times and
hop threads per chunk. Here the metadata comes from Zarr's own classes (:mod:`.nodes`) and each
chunk is encoded exactly as the Zarr v3 spec says for the array's codec chain, under the array's
own chunk keys, so Zarr reads the result like any array it wrote (tests compare the bytes with
Zarr's own). Two kinds of arrays:

- 1-D arrays through ``bytes`` (little endian) + ``blosc`` (:func:`blosc_array`, :func:`read_range`):
  event columns and index arrays. The edge chunk is padded with the fill value, as Zarr does.
- Arrays of unsigned counts chunked along axis 0 only, through the
  :mod:`~eventpipe.store._zarr.sparse_counts` codec (:func:`counts_array`, :func:`read_counts`): the
  frames store's. As with Zarr, a chunk of zeros is not stored; an edge chunk needs no padding,
  since the codec does not encode trailing zeros.

Readers fetch a range's chunks in one call (:func:`~.storage.get_objects`) and decode each straight
into the output. Arrays with any other codec chain, e.g. a store rewritten by another tool, are
read through Zarr itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from eventpipe.store._zarr.nodes import array_metadata
from eventpipe.store._zarr.storage import get_objects

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


def _is_blosc(arr: zarr.Array) -> bool:
    """True when ``arr``'s chunks are plain little-endian bytes through Blosc, decoded here."""
    from zarr.codecs import BloscCodec, BytesCodec

    chain = list(getattr(arr.metadata, "codecs", ()))
    return (len(chain) == 2 and isinstance(chain[0], BytesCodec) and isinstance(chain[1], BloscCodec)
            and (chain[0].endian is None or chain[0].endian.value == "little")
            and arr.metadata.dtype.to_native_dtype().byteorder in "<|=")


def read_range(arrays: Sequence[zarr.Array], start: int, stop: int) -> list[np.ndarray]:
    """``array[start:stop]`` of every 1-D array in ``arrays`` (same chunking), all their chunks
    fetched in one call and decoded straight into one buffer per array."""
    from numcodecs.blosc import decompress

    if stop <= start:
        return [np.zeros(0, dtype=a.metadata.dtype.to_native_dtype()) for a in arrays]
    if not all(map(_is_blosc, arrays)):
        return _read_with_zarr(arrays, start, stop)
    plans = []
    for a in arrays:
        chunk = a.chunks[0]
        first, last = start // chunk, (stop - 1) // chunk
        keys = [f"{a.path}/{a.metadata.encode_chunk_key((i,))}" for i in range(first, last + 1)]
        plans.append((a, chunk, first, keys))
    bufs = iter(get_objects([(a.store, k) for a, _, _, keys in plans for k in keys]))
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


def counts_array(path: str, data: np.ndarray, chunks: Sequence[int]) -> tuple[ArrayV3Metadata, list[tuple[str, bytes]]]:
    """The metadata and encoded chunks ``(key, bytes)`` of the array at ``path`` holding the unsigned
    counts ``data``, in ``chunks`` (whole along every axis but the first) through the sparse counts
    codec: what Zarr's ``create_array`` and ``array[...] = data`` would store, byte for byte."""
    from eventpipe.store._zarr.sparse_counts import SparseCountsCodec, encode

    codec = SparseCountsCodec()
    metadata = array_metadata(data.shape, data.dtype, chunks, [codec])
    step = chunks[0]
    rest = (0,) * (data.ndim - 1)
    writes = []
    for i, start in enumerate(range(0, len(data), step)):
        block = data[start:start + step]
        if block.any():
            writes.append((f"{path}/{metadata.encode_chunk_key((i, *rest))}", encode(block, codec.level)))
    return metadata, writes


def read_counts(arr: zarr.Array, start: int, stop: int, out: np.ndarray) -> None:
    """Elements ``[start, stop)`` of ``arr`` in C order (an array chunked along axis 0 only) into ``out``
    (that many elements, any shape). Sparse-count chunks are decoded straight into ``out`` when it is
    C-contiguous and of a dtype the codec writes (integers, float32, float64); anything else goes
    through Zarr, reading only the rows along axis 0 that hold the range."""
    from eventpipe.store._zarr.sparse_counts import SparseCountsCodec, decode_into

    chain = list(getattr(arr.metadata, "codecs", ()))
    direct = out.dtype.kind in "iu" or out.dtype in (np.float32, np.float64)
    if len(chain) != 1 or not isinstance(chain[0], SparseCountsCodec) or not out.flags.c_contiguous or not direct:
        row = int(np.prod(arr.shape[1:], dtype=np.int64))
        first = start // row
        rows = np.asarray(arr[first:-(-stop // row)]).reshape(-1)
        out[...] = rows[start - first * row:stop - first * row].reshape(out.shape)
        return
    per_chunk = int(np.prod(arr.chunks))
    first, last = start // per_chunk, (stop - 1) // per_chunk
    rest = (0,) * (arr.ndim - 1)
    keys = [f"{arr.path}/{arr.metadata.encode_chunk_key((c, *rest))}" for c in range(first, last + 1)]
    flat = out.reshape(-1)
    for c, buf in zip(range(first, last + 1), get_objects([(arr.store, key) for key in keys]), strict=True):
        lo = max(start, c * per_chunk)
        hi = min(stop, (c + 1) * per_chunk)
        target = flat[lo - start:hi - start]
        if buf is None:  # never written: all zeros
            target[:] = 0
        else:
            decode_into(buf, target, per_chunk, lo - c * per_chunk)
