"""Compression and chunking of the stores' Blosc arrays: the event columns and the per-sample index.

Event columns go through Blosc with zstd at level 1, one Blosc block per chunk (``blocksize`` = the
chunk's bytes), which compresses as well as Blosc's small default blocks at a fraction of the time.
The shuffle filter is chosen per column:

- ``dt`` (per-sample timestamp deltas, uint32): byte shuffle. Small deltas leave the high bytes zero;
  grouping the bytes compresses slightly better than grouping the bits, and faster.
- ``x``, ``y`` as uint8 (sensors up to 256 pixels): no shuffle. A byte-wide coordinate has no high
  bytes to group, and zstd finds more structure in the plain bytes.
- ``x``, ``y`` as uint16 (larger sensors): bit shuffle.
- ``p`` (0/1): bit shuffle; the 7 unused bits of a polarity then cost almost nothing.

Chunk length barely changes the size or the compression speed, but reading one sample decodes every
chunk it touches. So each part picks its own chunk length (:func:`event_chunk`): about four median
samples, between :data:`MIN_EVENT_CHUNK` and :data:`MAX_EVENT_CHUNK` events.

``eventpipe bench convert`` measures the resulting bytes per event and conversion speed.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from zarr.codecs import BloscCodec

MIN_EVENT_CHUNK = 1 << 14
MAX_EVENT_CHUNK = 1 << 18
"""Bounds of the events per chunk of an event column."""

INDEX_CHUNK = 1 << 16
"""Samples per chunk of the per-sample arrays (offsets, labels, metadata)."""

ZSTD_LEVEL = 1


def event_chunk(sample_sizes: np.ndarray) -> int:
    """Events per chunk for a part whose samples hold ``sample_sizes`` events: the power of two at or
    above four median samples, clamped to [2**14, 2**18] (see the module docstring)."""
    sizes = np.asarray(sample_sizes)
    median = float(np.median(sizes)) if len(sizes) else 0.0
    target = 1 << max(0, math.ceil(math.log2(max(4 * median, 1))))
    return int(min(max(target, MIN_EVENT_CHUNK), MAX_EVENT_CHUNK))


def column_compressor(name: str, dtype: np.dtype, chunk: int | None = None) -> BloscCodec:
    """The codec of event column ``name`` stored as ``dtype`` in chunks of ``chunk`` items (see the
    module docstring); without ``chunk``, Blosc picks its own block size."""
    from zarr.codecs import BloscCodec

    itemsize = np.dtype(dtype).itemsize
    shuffle: Literal["noshuffle", "shuffle", "bitshuffle"] = "bitshuffle"
    if name in ("x", "y") and itemsize == 1:
        shuffle = "noshuffle"
    elif name == "dt":
        shuffle = "shuffle"
    blocksize = 0 if chunk is None else int(chunk) * itemsize
    return BloscCodec(cname="zstd", clevel=ZSTD_LEVEL, shuffle=shuffle, blocksize=blocksize)


def index_compressor() -> BloscCodec:
    """The codec of per-sample integer arrays: Blosc zstd with byte shuffling (sorted int64 offsets)."""
    from zarr.codecs import BloscCodec

    return BloscCodec(cname="zstd", clevel=3, shuffle="shuffle")
