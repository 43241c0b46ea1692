"""``eventpipe.sparse_counts``: the Zarr v3 chunk codec of the frames store.

Event frames are mostly zeros with small counts elsewhere. A chunk of unsigned counts is stored as
streams:

- the gaps: for each non-zero element in C order, the number of zeros before it, written as bytes
  the way LZ4 writes lengths (``255`` repeated while at least 255 are left, then the rest), then
  zstd; zeros after the last non-zero element are not written, so an edge chunk needs no padding;
- the values: the non-zero counts in :data:`CONTEXTS` streams chosen by what precedes each count
  (a zero, or the previous count's size), each Blosc zstd. A count is better predicted by the count
  before it than by any repeated string, which is why plain LZ codec chains (Blosc with bit
  shuffle, with or without transposing the frames) store more bytes; one entropy table per stream
  captures most of that context.

Layout of an encoded chunk (little endian)::

    b"EPSC" | version u8 | itemsize u8 | contexts u8 | 1 reserved byte | values u64 | gap bytes u64 |
    compressed size of each stream u64 x (1 + contexts) | gaps (zstd frame) | value streams (Blosc frames)

Decoding touches only the non-zero elements and writes them straight into the caller's array of any
numeric dtype (e.g. the float32 tensor a DataLoader returns), with no intermediate copy.
``eventpipe bench frames`` measures the resulting store bytes.

The codec registers itself with Zarr on import and through the ``zarr.codecs`` entry point, so
``zarr.open_array`` reads frames stores wherever eventpipe is installed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit
from zarr.abc.codec import ArrayBytesCodec
from zarr.core.common import parse_named_configuration
from zarr.registry import register_codec

from eventpipe.errors import StoreSchemaError

if TYPE_CHECKING:
    from zarr.core.array_spec import ArraySpec
    from zarr.core.buffer import Buffer, NDBuffer

NAME = "eventpipe.sparse_counts"
VERSION = 1
LEVEL = 1
"""zstd level of every stream (higher levels are slower and no smaller on event frames)."""
CONTEXTS = 7
"""Value streams: 0 for a count after at least one zero; for a count right after another, the
previous count's bit length, at most 6 (1, 2-3, 4-7, ..., >= 32)."""
_BUCKETS = np.minimum(np.array([int(v).bit_length() for v in range(256)]), CONTEXTS - 1).astype(np.uint8)
_MAGIC = b"EPSC"
_HEADER = struct.Struct("<4sBBBxQQ")
_SIZES = struct.Struct(f"<{1 + CONTEXTS}Q")


@njit(nogil=True, cache=False, inline="always")
def _context(previous: int, run: int) -> int:  # pragma: no cover - compiled
    if run > 0:
        return 0
    return _BUCKETS[previous] if previous < 256 else CONTEXTS - 1


@njit(nogil=True, cache=False)
def _split(flat: np.ndarray, nnz: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """``(gap bytes, non-zero values grouped by context, values per context)`` of the 1-D ``flat``
    holding ``nnz`` non-zero elements."""
    where = np.empty(nnz + 1, dtype=np.int64)
    j = 0
    for i in range(len(flat)):  # branch-free: no mispredicted branch per element
        where[j] = i
        j += flat[i] != 0
    gaps = np.empty(nnz + len(flat) // 255 + 1, dtype=np.uint8)
    contexts = np.empty(nnz, dtype=np.uint8)
    counts = np.zeros(CONTEXTS, dtype=np.int64)
    g = 0
    last = -1
    previous = 0
    for j in range(nnz):
        run = where[j] - last - 1
        last = where[j]
        c = _context(previous, run)
        contexts[j] = c
        counts[c] += 1
        while run >= 255:
            gaps[g] = 255
            g += 1
            run -= 255
        gaps[g] = run
        g += 1
        previous = flat[last]
    starts = np.zeros(CONTEXTS, dtype=np.int64)
    for c in range(1, CONTEXTS):
        starts[c] = starts[c - 1] + counts[c - 1]
    values = np.empty(nnz, dtype=flat.dtype)
    for j in range(nnz):
        c = contexts[j]
        values[starts[c]] = flat[where[j]]
        starts[c] += 1
    return gaps[:g], values, counts


@njit(nogil=True, cache=False)
def _scatter(gaps: np.ndarray, values: np.ndarray, counts: np.ndarray, size: int, lo: int,
             out: np.ndarray) -> int:  # pragma: no cover - compiled
    """Write elements ``[lo, lo + len(out))`` of the decoded chunk (``size`` elements) into ``out``.

    Returns 0, or -1 when the streams do not describe a chunk of ``size`` elements."""
    hi = lo + len(out)
    out[:] = 0
    next_value = np.zeros(CONTEXTS, dtype=np.int64)
    ends = np.zeros(CONTEXTS, dtype=np.int64)
    start = 0
    for c in range(CONTEXTS):
        next_value[c] = start
        start += counts[c]
        ends[c] = start
    pos = -1
    run = 0
    previous = 0
    for b in gaps:
        run += b
        if b == 255:
            continue
        pos += run + 1
        c = _context(previous, run)
        run = 0
        if pos >= size or next_value[c] >= ends[c]:
            return -1
        previous = values[next_value[c]]
        next_value[c] += 1
        if lo <= pos < hi:
            out[pos - lo] = previous
    if run != 0:
        return -1
    for c in range(CONTEXTS):
        if next_value[c] != ends[c]:
            return -1
    return 0


def encode(chunk: np.ndarray, level: int = LEVEL) -> bytes:
    """Encode a chunk of unsigned counts (any shape; C order)."""
    from numcodecs import Blosc, Zstd

    if chunk.dtype.kind != "u":
        raise TypeError(f"{NAME} stores unsigned integers, not {chunk.dtype}")
    flat = np.ascontiguousarray(chunk).reshape(-1).astype(chunk.dtype.newbyteorder("<"), copy=False)
    gaps, values, counts = _split(flat, int(np.count_nonzero(flat)))
    blosc = Blosc(cname="zstd", clevel=level, shuffle=Blosc.SHUFFLE, typesize=values.dtype.itemsize)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    streams = [bytes(Zstd(level=level).encode(gaps)) if len(gaps) else b""]
    streams += [bytes(blosc.encode(values[a:b])) if b > a else b"" for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    header = _HEADER.pack(_MAGIC, VERSION, flat.dtype.itemsize, CONTEXTS, len(values), len(gaps))
    return b"".join((header, _SIZES.pack(*map(len, streams)), *streams))


def decode_into(data: Any, out: np.ndarray, size: int, lo: int = 0) -> None:
    """Decode elements ``[lo, lo + out.size)`` of an encoded chunk of ``size`` elements into ``out``
    (C-contiguous, any numeric dtype: counts are cast on the way).

    Raises
    ------
    StoreSchemaError
        When ``data`` is not a valid chunk of this codec (damaged or foreign bytes).
    """
    from numcodecs import Zstd
    from numcodecs.blosc import decompress

    if not out.flags.c_contiguous or lo < 0 or lo + out.size > size:
        raise ValueError(f"out must be C-contiguous and inside the chunk (lo={lo}, size={out.size}, chunk={size})")
    raw = memoryview(data).cast("B")
    if len(raw) < _HEADER.size + _SIZES.size:
        raise StoreSchemaError(f"{NAME}: chunk of {len(raw)} bytes is shorter than its header")
    magic, version, itemsize, contexts, n_values, n_gaps = _HEADER.unpack_from(raw)
    if magic != _MAGIC or version != VERSION or itemsize not in (1, 2, 4, 8) or contexts != CONTEXTS:
        raise StoreSchemaError(f"{NAME}: not a version {VERSION} chunk of {CONTEXTS} contexts "
                               f"(magic {magic!r}, version {version}, {contexts} contexts)")
    sizes = _SIZES.unpack_from(raw, _HEADER.size)
    ends = _HEADER.size + _SIZES.size + np.cumsum(sizes)
    if ends[-1] != len(raw):
        raise StoreSchemaError(f"{NAME}: chunk of {len(raw)} bytes, its header says {ends[-1]}")
    dtype = np.dtype(f"<u{itemsize}")
    try:
        gaps = np.frombuffer(Zstd().decode(raw[ends[0] - sizes[0]:ends[0]]) if sizes[0] else b"", dtype=np.uint8)
        parts = [np.frombuffer(decompress(raw[e - n:e]), dtype=dtype) if n else np.zeros(0, dtype)
                 for n, e in zip(sizes[1:], ends[1:], strict=True)]
    except (RuntimeError, ValueError, SystemError) as exc:  # numcodecs raises SystemError on some damaged frames
        raise StoreSchemaError(f"{NAME}: damaged chunk: {exc}") from exc
    values = np.concatenate(parts)
    if len(gaps) != n_gaps or len(values) != n_values:
        raise StoreSchemaError(f"{NAME}: chunk holds {len(gaps)} gap bytes and {len(values)} values, "
                               f"its header says {n_gaps} and {n_values}")
    counts = np.array([len(p) for p in parts], dtype=np.int64)
    if _scatter(gaps, values, counts, size, lo, out.reshape(-1)) != 0:
        raise StoreSchemaError(f"{NAME}: chunk does not describe {size} elements")


@dataclass(frozen=True)
class SparseCountsCodec(ArrayBytesCodec):
    """Zarr v3 array -> bytes codec for unsigned counts (see the module docstring)."""

    is_fixed_size = False
    level: int = LEVEL

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SparseCountsCodec:
        _, configuration = parse_named_configuration(data, NAME, require_configuration=False)
        return cls(level=int((configuration or {}).get("level", LEVEL)))  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        return {"name": NAME, "configuration": {"level": self.level}}

    def validate(self, *, shape: tuple[int, ...], dtype: Any, chunk_grid: Any) -> None:
        if np.dtype(dtype.to_native_dtype()).kind != "u":
            raise TypeError(f"{NAME} stores unsigned integers, not {dtype}")

    def compute_encoded_size(self, input_byte_length: int, chunk_spec: ArraySpec) -> int:
        raise NotImplementedError

    async def _decode_single(self, chunk_bytes: Buffer, chunk_spec: ArraySpec) -> NDBuffer:
        out = np.empty(chunk_spec.shape, dtype=chunk_spec.dtype.to_native_dtype())
        decode_into(chunk_bytes.as_numpy_array(), out, out.size)
        return chunk_spec.prototype.nd_buffer.from_numpy_array(out)

    async def _encode_single(self, chunk_array: NDBuffer, chunk_spec: ArraySpec) -> Buffer | None:
        return chunk_spec.prototype.buffer.from_bytes(encode(chunk_array.as_numpy_array(), self.level))


register_codec(NAME, SparseCountsCodec)
