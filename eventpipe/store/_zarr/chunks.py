"""Whole chunks encoded and decoded directly, byte-identical to Zarr's codec pipeline.

``array[...] = data`` and ``array[a:b]`` through Zarr's pipeline copy every chunk several times and
hop threads per chunk. Here the metadata comes from Zarr's own classes (:mod:`.nodes`) and each
chunk is encoded exactly as the Zarr v3 spec says for the array's codec chain, under the array's
own chunk keys, so Zarr reads the result like any array it wrote (tests compare the bytes with
Zarr's own). Two kinds of arrays:

- 1-D arrays through ``bytes`` (little endian) + ``blosc`` + ``crc32c`` (:func:`blosc_array`,
  :func:`read_range`): event columns and index arrays. The edge chunk is padded with the fill value,
  as Zarr does.
- Arrays of unsigned counts chunked along axis 0 only, through the
  :mod:`~eventpipe.store._zarr.sparse_counts` codec + ``crc32c`` (:func:`counts_array`,
  :func:`read_counts`): the frames store's. Every chunk is stored, zeros too (Zarr's
  ``write_empty_chunks``); an edge chunk needs no padding, since the codec does not encode trailing zeros.
- Arrays of float frames chunked along axis 0 only, through ``bytes`` (little endian) + ``zstd`` +
  ``crc32c``, Zarr's standard codecs (:func:`floats_array`; :func:`read_counts` reads them too).
  The edge chunk is padded with zeros, as Zarr does.

Every chunk ends with the CRC-32C of the bytes before it (Zarr's ``crc32c`` codec: 4 bytes, little
endian), and every chunk of such an array is stored, so a missing chunk or one whose checksum fails
is damage: readers raise :class:`~eventpipe.errors.StoreCorruptError` naming the store, the array and
the chunk, never Zarr's fill value or a decoder's own error. :func:`check_chunks` checks an array's
chunks without decoding them (``eventpipe verify``).

Readers fetch a range's chunks in one call (:func:`~.storage.get_objects`) and decode each straight
into the output. Arrays with any other codec chain, e.g. a store rewritten by another tool, are
read through Zarr itself, after the same presence and checksum checks when their chain ends with
``crc32c`` (without it, a missing chunk keeps Zarr's meaning: the fill value).
"""

from __future__ import annotations

import asyncio
import itertools
import struct
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from eventpipe.errors import StoreCorruptError, StoreSchemaError
from eventpipe.store._zarr.nodes import array_metadata
from eventpipe.store._zarr.storage import get_objects

if TYPE_CHECKING:
    import zarr
    from zarr.codecs import BloscCodec
    from zarr.core.metadata.v3 import ArrayV3Metadata

_SHUFFLE = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}
_CRC = struct.Struct("<I")
DAMAGED = "the store is damaged: delete it and build it again (`eventpipe convert` or `eventpipe prepare --overwrite`)."
"""What to do about a missing or damaged chunk: the end of every error and verify report naming one."""
_BATCH = 64
"""Chunks fetched per call when checking a whole array."""


def with_checksum(data: bytes) -> bytes:
    """``data`` followed by its CRC-32C, as Zarr's ``crc32c`` codec stores it."""
    import google_crc32c

    return data + _CRC.pack(google_crc32c.value(data))


def _store_name(arr: zarr.Array) -> str:
    """Where ``arr``'s store lives, for messages: a local folder or the path in an fsspec file system."""
    root = getattr(arr.store, "root", None)
    return str(root if root is not None else getattr(arr.store, "path", arr.store))


def _damage(arr: zarr.Array, key: str, what: str) -> str:
    """The one-line description of damage ``what`` found in chunk ``key`` (a store key) of ``arr``."""
    chunk = key[len(arr.path) + 1:] if key.startswith(f"{arr.path}/") else key
    return f"{_store_name(arr)}: array {arr.path}, chunk {chunk}: {what}"


def _corrupt(arr: zarr.Array, key: str, what: str) -> StoreCorruptError:
    return StoreCorruptError(f"{_damage(arr, key, what)}; {DAMAGED}")


def _has_checksum(arr: zarr.Array) -> bool:
    from zarr.codecs import Crc32cCodec

    chain = list(getattr(arr.metadata, "codecs", ()))
    return bool(chain) and isinstance(chain[-1], Crc32cCodec)


def _payload(buf: Any) -> tuple[np.ndarray, str | None]:
    """The bytes of a stored chunk before its checksum, and what is wrong with it (None: sound)."""
    import google_crc32c

    raw = np.frombuffer(buf, dtype=np.uint8)
    if len(raw) < _CRC.size:
        return raw, f"{len(raw)} bytes, too short to hold its checksum"
    payload = raw[:-_CRC.size]
    if google_crc32c.value(payload) != _CRC.unpack(raw[-_CRC.size:].tobytes())[0]:
        return payload, "fails its CRC-32C checksum (damaged or cut short)"
    return payload, None


def _checked(arr: zarr.Array, key: str, buf: Any) -> np.ndarray:
    """The payload of chunk ``key`` of ``arr`` (an array with the ``crc32c`` codec last) fetched as
    ``buf``; :class:`StoreCorruptError` when it is missing or fails its checksum."""
    if buf is None:
        raise _corrupt(arr, key, "missing")
    payload, problem = _payload(buf)
    if problem is not None:
        raise _corrupt(arr, key, problem)
    return payload


def chunk_keys(arr: zarr.Array, first: int = 0, last: int | None = None) -> list[str]:
    """Store keys of the chunks of ``arr`` whose index along axis 0 is in ``[first, last]`` (all by default)."""
    grid = arr.cdata_shape
    if not grid or not all(grid):
        return []
    along = range(first, grid[0] if last is None else last + 1)
    return [f"{arr.path}/{arr.metadata.encode_chunk_key(c)}"
            for c in itertools.product(along, *(range(n) for n in grid[1:]))]


def check_chunks(arr: zarr.Array) -> list[str]:
    """Problems with the stored chunks of ``arr``: each one missing or failing its checksum, without
    decoding any. ``[]`` means every chunk is there and sound."""
    if not _has_checksum(arr):
        return [f"{_store_name(arr)}: array {arr.path} has no chunk checksums (another schema version)."]
    keys = chunk_keys(arr)
    problems = []
    for at in range(0, len(keys), _BATCH):
        batch = keys[at:at + _BATCH]
        for key, buf in zip(batch, get_objects([(arr.store, k) for k in batch]), strict=True):
            problem = "missing" if buf is None else _payload(buf)[1]
            if problem is not None:
                problems.append(f"{_damage(arr, key, problem)}.")
    return problems


def blosc_array(
    path: str, data: np.ndarray, compressor: BloscCodec, chunk: int, attributes: Mapping[str, Any] | None = None,
) -> tuple[ArrayV3Metadata, list[tuple[str, bytes]]]:
    """The metadata and encoded chunks ``(key, bytes)`` of the 1-D array at ``path`` holding ``data``
    (chunks of ``chunk`` items, ``bytes`` + ``compressor``): what Zarr's ``create_array`` and
    ``array[:] = data`` would store, byte for byte."""
    from numcodecs import Blosc
    from zarr.codecs import BytesCodec, Crc32cCodec

    data = np.ascontiguousarray(data, dtype=data.dtype.newbyteorder("<"))
    metadata = array_metadata(data.shape, data.dtype, (chunk,), [BytesCodec(), compressor, Crc32cCodec()],
                              attributes=attributes)
    codec = Blosc(
        cname=compressor.cname.value, clevel=compressor.clevel, shuffle=_SHUFFLE[compressor.shuffle.value],
        blocksize=compressor.blocksize, typesize=data.dtype.itemsize,
    )
    writes = []
    for i, start in enumerate(range(0, len(data), chunk)):
        block = data[start:start + chunk]
        if len(block) < chunk:
            block = np.concatenate([block, np.zeros(chunk - len(block), dtype=data.dtype)])
        writes.append((f"{path}/{metadata.encode_chunk_key((i,))}", with_checksum(codec.encode(block))))
    return metadata, writes


def _is_blosc(arr: zarr.Array) -> bool:
    """True when ``arr``'s chunks are plain little-endian bytes through Blosc and ``crc32c``, decoded here."""
    from zarr.codecs import BloscCodec, BytesCodec

    chain = list(getattr(arr.metadata, "codecs", ()))
    return (len(chain) == 3 and isinstance(chain[0], BytesCodec) and isinstance(chain[1], BloscCodec)
            and _has_checksum(arr)
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
        plans.append((a, chunk, first, chunk_keys(a, first, last)))
    bufs = iter(get_objects([(a.store, k) for a, _, _, keys in plans for k in keys]))
    out = []
    for a, chunk, first, keys in plans:
        data = np.empty(len(keys) * chunk, dtype=a.metadata.dtype.to_native_dtype())
        for i, key in enumerate(keys):
            payload = _checked(a, key, next(bufs))
            try:
                decompress(payload, data[i * chunk:(i + 1) * chunk])
            except (RuntimeError, ValueError, SystemError) as exc:
                raise _corrupt(a, key, f"cannot be decoded ({exc})") from exc
        out.append(data[start - first * chunk:stop - first * chunk])
    return out


def read_whole(arr: zarr.Array) -> np.ndarray:
    """All of the 1-D array ``arr``, read as :func:`read_range` reads."""
    return read_range([arr], 0, arr.shape[0])[0]


def _require(arr: zarr.Array, keys: Sequence[str]) -> None:
    """Check that the chunks ``keys`` of ``arr`` are stored and sound before Zarr reads them, when its
    chain ends with ``crc32c`` (every chunk of such an array is stored, and Zarr would read a missing
    one as the fill value). Arrays without checksums, written by other tools, keep Zarr's meaning of
    a missing chunk."""
    if _has_checksum(arr):
        for key, buf in zip(keys, get_objects([(arr.store, k) for k in keys]), strict=True):
            _checked(arr, key, buf)


def _read_with_zarr(arrays: Sequence[zarr.Array], start: int, stop: int) -> list[np.ndarray]:
    """``array[start:stop]`` of every 1-D array through Zarr's own pipeline, concurrently in one call,
    after :func:`_require` of the chunks it reads."""
    from zarr.core.sync import sync

    for a in arrays:
        _require(a, chunk_keys(a, start // a.chunks[0], (stop - 1) // a.chunks[0]))

    async def gather() -> list[Any]:
        return await asyncio.gather(*(a.async_array.getitem(slice(start, stop)) for a in arrays))

    try:
        return [np.asarray(c) for c in sync(gather())]
    except (RuntimeError, ValueError, TypeError, SystemError) as exc:
        where = ", ".join(a.path for a in arrays)
        raise StoreCorruptError(f"{_store_name(arrays[0])}: array {where}: a chunk cannot be decoded ({exc}); "
                                f"{DAMAGED}") from exc


def counts_array(path: str, data: np.ndarray, chunks: Sequence[int]) -> tuple[ArrayV3Metadata, list[tuple[str, bytes]]]:
    """The metadata and encoded chunks ``(key, bytes)`` of the array at ``path`` holding the unsigned
    counts ``data``, in ``chunks`` (whole along every axis but the first) through the sparse counts
    codec and ``crc32c``: what Zarr's ``create_array`` and ``array[...] = data`` would store with
    ``write_empty_chunks``, byte for byte."""
    from zarr.codecs import Crc32cCodec

    from eventpipe.store._zarr.sparse_counts import SparseCountsCodec, encode

    codec = SparseCountsCodec()
    metadata = array_metadata(data.shape, data.dtype, chunks, [codec, Crc32cCodec()])
    step = chunks[0]
    rest = (0,) * (data.ndim - 1)
    writes = []
    for i, start in enumerate(range(0, len(data), step)):
        block = data[start:start + step]
        writes.append((f"{path}/{metadata.encode_chunk_key((i, *rest))}", with_checksum(encode(block, codec.level))))
    return metadata, writes


FLOATS_LEVEL = 3
"""zstd level of float frames chunks (zstd's default)."""


def floats_array(path: str, data: np.ndarray, chunks: Sequence[int]) -> tuple[ArrayV3Metadata, list[tuple[str, bytes]]]:
    """The metadata and encoded chunks ``(key, bytes)`` of the array at ``path`` holding the float
    frames ``data``, in ``chunks`` (whole along every axis but the first) through ``bytes`` + ``zstd``
    + ``crc32c``: what Zarr's ``create_array`` and ``array[...] = data`` would store with
    ``write_empty_chunks``, byte for byte."""
    from numcodecs import Zstd
    from zarr.codecs import BytesCodec, Crc32cCodec, ZstdCodec

    data = np.ascontiguousarray(data, dtype=data.dtype.newbyteorder("<"))
    metadata = array_metadata(data.shape, data.dtype, chunks,
                              [BytesCodec(), ZstdCodec(level=FLOATS_LEVEL, checksum=False), Crc32cCodec()])
    codec = Zstd(level=FLOATS_LEVEL, checksum=False)
    step = chunks[0]
    rest = (0,) * (data.ndim - 1)
    writes = []
    for i, start in enumerate(range(0, len(data), step)):
        block = data[start:start + step]
        if len(block) < step:
            block = np.concatenate([block, np.zeros((step - len(block), *block.shape[1:]), dtype=data.dtype)])
        writes.append((f"{path}/{metadata.encode_chunk_key((i, *rest))}", with_checksum(codec.encode(block))))
    return metadata, writes


def _is_zstd(arr: zarr.Array) -> bool:
    """True when ``arr``'s chunks are plain little-endian bytes through zstd and ``crc32c``, decoded here."""
    from zarr.codecs import BytesCodec, ZstdCodec

    chain = list(getattr(arr.metadata, "codecs", ()))
    return (len(chain) == 3 and isinstance(chain[0], BytesCodec) and isinstance(chain[1], ZstdCodec)
            and _has_checksum(arr) and (chain[0].endian is None or chain[0].endian.value == "little")
            and arr.metadata.dtype.to_native_dtype().byteorder in "<|=")


def _read_zstd(arr: zarr.Array, start: int, stop: int, out: np.ndarray) -> None:
    """Elements ``[start, stop)`` of the zstd array ``arr`` (see :func:`read_counts`) into ``out``."""
    from numcodecs import Zstd

    codec = Zstd()
    dtype = arr.metadata.dtype.to_native_dtype()
    per_chunk = int(np.prod(arr.chunks))
    first, last = start // per_chunk, (stop - 1) // per_chunk
    keys = chunk_keys(arr, first, last)
    flat = out.reshape(-1)
    for c, key, buf in zip(range(first, last + 1), keys, get_objects([(arr.store, k) for k in keys]), strict=True):
        payload = _checked(arr, key, buf)
        try:
            values = np.frombuffer(codec.decode(payload), dtype=dtype)
        except (RuntimeError, ValueError, TypeError) as exc:
            raise _corrupt(arr, key, f"cannot be decoded ({exc})") from exc
        if len(values) != per_chunk:
            raise _corrupt(arr, key, f"decodes to {len(values)} values, expected {per_chunk}")
        lo, hi = max(start, c * per_chunk), min(stop, (c + 1) * per_chunk)
        flat[lo - start:hi - start] = values[lo - c * per_chunk:hi - c * per_chunk]


def read_counts(arr: zarr.Array, start: int, stop: int, out: np.ndarray) -> None:
    """Elements ``[start, stop)`` of ``arr`` in C order (an array chunked along axis 0 only) into ``out``
    (that many elements, any shape). Sparse-count chunks are decoded straight into ``out`` when it is
    C-contiguous and of a dtype the codec writes (integers, float32, float64); anything else goes
    through Zarr, reading only the rows along axis 0 that hold the range."""
    from eventpipe.store._zarr.sparse_counts import SparseCountsCodec, decode_into

    if stop <= start:
        return
    if _is_zstd(arr):
        _read_zstd(arr, start, stop, out)
        return
    chain = list(getattr(arr.metadata, "codecs", ()))
    direct = out.dtype.kind in "iu" or out.dtype in (np.float32, np.float64)
    if (len(chain) != 2 or not isinstance(chain[0], SparseCountsCodec) or not _has_checksum(arr)
            or not out.flags.c_contiguous or not direct):
        row = int(np.prod(arr.shape[1:], dtype=np.int64))
        lo, hi = start // row, -(-stop // row)
        keys = chunk_keys(arr, lo // arr.chunks[0], (hi - 1) // arr.chunks[0])
        _require(arr, keys)
        try:
            rows = np.asarray(arr[lo:hi]).reshape(-1)
        except (RuntimeError, ValueError, TypeError, SystemError) as exc:
            raise _corrupt(arr, keys[0], f"cannot be decoded ({exc})") from exc
        out[...] = rows[start - lo * row:stop - lo * row].reshape(out.shape)
        return
    per_chunk = int(np.prod(arr.chunks))
    first, last = start // per_chunk, (stop - 1) // per_chunk
    keys = chunk_keys(arr, first, last)
    flat = out.reshape(-1)
    for c, key, buf in zip(range(first, last + 1), keys, get_objects([(arr.store, k) for k in keys]), strict=True):
        lo = max(start, c * per_chunk)
        hi = min(stop, (c + 1) * per_chunk)
        try:
            decode_into(_checked(arr, key, buf), flat[lo - start:hi - start], per_chunk, lo - c * per_chunk)
        except StoreCorruptError:
            raise
        except (StoreSchemaError, SystemError) as exc:
            raise _corrupt(arr, key, f"cannot be decoded ({exc})") from exc
