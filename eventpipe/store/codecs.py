"""Compression and chunking of the stores, chosen by measurement.

Event columns go through Blosc with zstd at level 1. The shuffle filter is chosen per column:

- ``dt`` (per-sample timestamp deltas, uint32) and ``p`` (0/1): bit shuffle. It groups the k-th bit
  of every value, so the always-zero high bits of small deltas and the 7 unused bits of a polarity
  cost almost nothing.
- ``x``, ``y`` as uint8 (sensors up to 256 pixels): no shuffle. A byte-wide coordinate has no high
  bytes to group, and zstd finds more structure in the plain bytes (0.72 vs 0.86 B/event).
- ``x``, ``y`` as uint16 (larger sensors): bit shuffle.

Measured on 3.4 M events of DVS128-Gesture-like samples (``eventpipe.synth.gesture_like_sample``,
128x128, per-sample delta t), chunks of 2**18 events, one thread, bytes per event and compression
speed per column:

=======================  ====================  ====================  ===================
codec                    dt (uint32)           x (uint8)             p (uint8)
=======================  ====================  ====================  ===================
zstd 1, bit shuffle      0.61 B, 151 M/s       0.87 B, 460 M/s       0.095 B, 621 M/s
zstd 3, bit shuffle      0.60 B, 145 M/s       0.86 B, 509 M/s       0.096 B, 542 M/s
zstd 1, no shuffle       0.95 B,  63 M/s       0.72 B, 554 M/s       0.146 B, 296 M/s
zstd 3, no shuffle       0.96 B,  26 M/s       0.74 B, 262 M/s       0.138 B,  83 M/s
lz4 5, bit shuffle       0.69 B, 381 M/s       0.88 B, 1.9 G/s       0.120 B, 1.9 G/s
=======================  ====================  ====================  ===================

The chosen mix stores 2.15 B/event (0.61 + 0.72 + 0.73 + 0.095) and compresses at ~85 M events/s on
one core; zstd 3 + bit shuffle everywhere gives 2.42 B/event, lz4 + bit shuffle 2.56 B/event at
~230 M events/s, and SpikingJelly's ``np.savez_compressed`` 3.49 B/event on the same events.

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


def column_compressor(name: str, dtype: np.dtype) -> BloscCodec:
    """The codec of event column ``name`` stored as ``dtype`` (see the module docstring)."""
    from zarr.codecs import BloscCodec

    shuffle: Literal["noshuffle", "bitshuffle"] = (
        "noshuffle" if name in ("x", "y") and np.dtype(dtype).itemsize == 1 else "bitshuffle"
    )
    return BloscCodec(cname="zstd", clevel=ZSTD_LEVEL, shuffle=shuffle)


def index_compressor() -> BloscCodec:
    """The codec of per-sample integer arrays: Blosc zstd with byte shuffling (sorted int64 offsets)."""
    from zarr.codecs import BloscCodec

    return BloscCodec(cname="zstd", clevel=3, shuffle="shuffle")
