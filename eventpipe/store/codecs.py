"""Compression and chunking of the stores, chosen by measurement.

Event columns go through Blosc with zstd at level 1, one Blosc block per chunk (``blocksize`` = the
chunk's bytes). The shuffle filter is chosen per column:

- ``dt`` (per-sample timestamp deltas, uint32): byte shuffle. Small deltas leave the high bytes zero;
  grouping the bytes compresses slightly better than grouping the bits and runs twice as fast.
- ``x``, ``y`` as uint8 (sensors up to 256 pixels): no shuffle. A byte-wide coordinate has no high
  bytes to group, and zstd finds more structure in the plain bytes (0.74 vs 0.86 B/event).
- ``x``, ``y`` as uint16 (larger sensors): bit shuffle.
- ``p`` (0/1): bit shuffle; the 7 unused bits of a polarity cost almost nothing.

Measured on 10.5 M events of a DVS128-Gesture-format recording (:func:`eventpipe.synth.write_gesture_raw`,
per-sample delta t), chunks of 2**18 events, one thread, bytes per event and CPU time per event to
compress / decompress:

==============================  =======================  =======================  =======================
codec                           dt (uint32)              x (uint8)                p (uint8)
==============================  =======================  =======================  =======================
zstd 1, Blosc default blocks    bit: 0.57 B, 6.6/7.0 ns  none: 0.71 B, 1.9/1.5   bit: 0.105 B, 1.5/1.4
zstd 1, one block per chunk     bit: 0.56 B, 3.9/4.1 ns  none: 0.74 B, 1.3/1.1   bit: 0.106 B, 0.9/0.8
zstd 1, one block per chunk     byte: 0.53 B, 2.8/3.0    bit: 0.85 B, 1.7/-
zstd 3, byte shuffle            0.56 B, 15 ns            -                        -
lz4 5, bit shuffle              0.64 B, 2.4 ns           0.87 B, 0.6 ns           0.12 B, 0.5 ns
==============================  =======================  =======================  =======================

The chosen mix stores 2.11 B/event (0.53 + 0.74 + 0.74 + 0.11) and costs ~6 ns/event to compress
and ~6 ns/event to decompress on one core; Blosc's default (small) blocks stored 2.10 B/event for
twice the time either way, lz4 + bit shuffle everywhere 2.49 B/event for 4 ns/event, and
SpikingJelly's ``np.savez_compressed`` 3.44 B/event on the same events.

Chunk length barely changes the size (2.14-2.16 B/event from 2**14 to 2**18 events) or the
compression speed (-20 % at 2**14), but reading one sample decodes every chunk it touches: 0.5 ms
per column chunk of 2**14 events, 5 ms for 2**18. So each part picks its own chunk length
(:func:`event_chunk`): about four median samples, between 2**14 and 2**18 events. An N-MNIST digit
(~4,000 events) then costs a 2**14 chunk, a DVS128 Gesture sample (~500,000) a few 2**18 ones.
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
