"""Numba kernels: count events into a preallocated, flat ``[T, P, H, W]`` integer array.

The kernels are plain loops (one pass over the events) that write into ``out`` and return a status
``(code, index)`` instead of raising, so that the wrapper in :mod:`eventpipe.frames.accumulate` can
name the sample, the field and the value. They never allocate, never pick dtypes and never start
threads: see the threading policy in :mod:`eventpipe.frames`.

Input is a C-contiguous :data:`~eventpipe.events.EVENT_DTYPE` array given twice: as its raw bytes
(13 packed little-endian bytes per event, field offsets taken from the dtype) and as its strided
``t`` field view. The counting loop of :func:`accumulate_disjoint` walks the bytes by offset and
decodes everything from them: ``t`` as one 8-byte little-endian word and x, y as one 4-byte word
(they are adjacent), which LLVM turns into one unaligned load each. On Gesture-like samples this
beat loading ``t`` through its strided view and x, y as two loads (fewer live registers in the loop,
so its bounds stay out of the stack; ``eventpipe bench frames`` times the kernels). All index
arithmetic is unsigned (uint64): with signed indices Numba adds a negative-index wraparound test to
every array access.

Flat index of an event in frame ``f``: ``f*P*H*W + (p != 0)*channel_stride + y*W + x``, where
``channel_stride`` is ``H*W`` for two-channel frames and 0 for one-channel frames.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from eventpipe.events import EVENT_DTYPE

OK = 0
"""Status code: every event checked (and the selected ones counted)."""
UNSORTED = 1
"""Status code: ``t[index] < t[index - 1]``."""
X_OUT_OF_RANGE = 2
"""Status code: ``x[index] >= width``."""
Y_OUT_OF_RANGE = 3
"""Status code: ``y[index] >= height``."""
OVERFLOW = 4
"""Status code: a count would exceed ``limit`` (the largest value of ``out``'s dtype) at event ``index``."""

_ZERO = np.uint64(0)
_ONE = np.uint64(1)
_BYTE = np.uint64(8)
_SIZE = np.uint64(EVENT_DTYPE.itemsize)
_FIELDS: dict[str, tuple[np.dtype, int]] = dict(EVENT_DTYPE.fields or {})
_X = np.uint64(_FIELDS["x"][1])
_Y = np.uint64(_FIELDS["y"][1])
_P = np.uint64(_FIELDS["p"][1])
_FIRST_T = np.int64(np.iinfo(np.int64).min)
_T = np.uint64(_FIELDS["t"][1])
_LOW16 = np.uint64(0xFFFF)
_HALF = np.uint64(16)


@njit(nogil=True, cache=False)
def _u16(raw, o):
    """Little-endian uint16 at byte ``o``."""
    return np.uint64(raw[o]) | (np.uint64(raw[o + _ONE]) << _BYTE)


@njit(nogil=True, cache=False)
def _u32(raw, o):
    """Little-endian uint32 at byte ``o``."""
    return (np.uint64(raw[o]) | (np.uint64(raw[o + _ONE]) << _BYTE) | (np.uint64(raw[o + np.uint64(2)]) << _HALF)
            | (np.uint64(raw[o + np.uint64(3)]) << np.uint64(24)))


@njit(nogil=True, cache=False)
def _i64(raw, o):
    """Little-endian int64 at byte ``o``."""
    v = _ZERO
    for b in range(8):
        v |= np.uint64(raw[o + np.uint64(b)]) << (_BYTE * np.uint64(b))
    return np.int64(v)


@njit(nogil=True, cache=False)
def _check_one(t, raw, i, prev, width, height):
    """Status code of event ``i`` given the previous timestamp, and its timestamp."""
    ti = t[i]
    if ti < prev:
        return UNSORTED, ti
    o = i * _SIZE
    if _u16(raw, o + _X) >= width:
        return X_OUT_OF_RANGE, ti
    if _u16(raw, o + _Y) >= height:
        return Y_OUT_OF_RANGE, ti
    return OK, ti


@njit(nogil=True, cache=False)
def check_events(t, raw, width, height):
    """Check that ``t`` is non-decreasing and ``x < width``, ``y < height`` for every event.

    Returns ``(code, index)`` of the first problem, or ``(OK, -1)``.
    """
    n = np.uint64(t.shape[0])
    prev = _FIRST_T
    i = _ZERO
    while i < n:
        code, prev = _check_one(t, raw, i, prev, width, height)
        if code != OK:
            return code, np.int64(i)
        i += _ONE
    return OK, np.int64(-1)


def _disjoint_kernel(check_order: bool):  # noqa: ANN202 (returns a Numba dispatcher)
    """:func:`accumulate_disjoint` with the ``t`` order check compiled in (``check_order``) or out.

    ``check_order`` is a closure constant, so Numba compiles each variant with its branch folded
    away: no flag is tested per event.
    """

    @njit(nogil=True, cache=False)
    def kernel(t, raw, starts, stops, width, height, channel_stride, frame_size, limit, first_frame, first_event, out):
        n = np.uint64(t.shape[0])
        i = first_event
        prev = t[i - _ONE] if i > _ZERO else _FIRST_T
        f = first_frame
        while f < np.uint64(starts.shape[0]):
            base = f * frame_size
            start = np.uint64(starts[f])
            stop = np.uint64(stops[f])
            if check_order:
                while i < start:  # events between frames: checked, not counted
                    code, prev = _check_one(t, raw, i, prev, width, height)
                    if code != OK:
                        return code, np.int64(f), np.int64(i)
                    i += _ONE
            elif i < start:
                i = start
            o = i * _SIZE
            end = stop * _SIZE
            while o < end:  # by byte offset: the event index is o / 13, needed only to report a problem
                xy = _u32(raw, o + _X)
                x = xy & _LOW16
                y = xy >> _HALF
                if check_order:
                    ti = _i64(raw, o + _T)
                    if (ti < prev) | (x >= width) | (y >= height):  # one branch on the hot path, not three
                        code = UNSORTED if ti < prev else (X_OUT_OF_RANGE if x >= width else Y_OUT_OF_RANGE)
                        return code, np.int64(f), np.int64(o // _SIZE)
                    prev = ti
                elif (x >= width) | (y >= height):  # kept: an index outside the sensor would write outside out
                    return (X_OUT_OF_RANGE if x >= width else Y_OUT_OF_RANGE), np.int64(f), np.int64(o // _SIZE)
                k = base + (channel_stride if raw[o + _P] else _ZERO) + y * width + x
                v = out[k] + _ONE
                if v > limit:
                    return OVERFLOW, np.int64(f), np.int64(o // _SIZE)
                out[k] = v
                o += _SIZE
            i = stop if stop > i else i
            f += _ONE
        if check_order:
            while i < n:
                code, prev = _check_one(t, raw, i, prev, width, height)
                if code != OK:
                    return code, np.int64(f), np.int64(i)
                i += _ONE
        return OK, np.int64(f), np.int64(-1)

    return kernel


accumulate_disjoint = _disjoint_kernel(check_order=True)
"""Check every event and count those of frame ``f`` (``starts[f] <= i < stops[f]``) in one pass.

Requires ordered, non-overlapping ranges (``slicing.is_disjoint``). ``out`` is the flat frame
array, zeroed or holding the counts of a run that stopped at ``(first_frame, first_event)``;
``limit`` is the largest count its dtype holds; the scalars are uint64. Returns ``(code, frame,
index)``: ``OK`` or the first problem (``UNSORTED``, ``X_OUT_OF_RANGE``, ``Y_OUT_OF_RANGE``,
``OVERFLOW``). After ``OVERFLOW`` the event at ``index`` is not counted and every earlier one is,
so the caller can widen ``out`` and resume from ``(frame, index)``.
"""

accumulate_disjoint_trusted = _disjoint_kernel(check_order=False)
""":func:`accumulate_disjoint` for events already known sorted (read from an events store, whose
writer checked them): the ``t`` order is not checked and events outside every frame are skipped
unread. Coordinates of counted events are still checked, since a bad one would write outside
``out``. Same arguments and returns (never ``UNSORTED``)."""


@njit(nogil=True, cache=False)
def accumulate_ranges(raw, starts, stops, width, channel_stride, frame_size, limit, first_frame, first_event, out):
    """Count the events of each range ``[starts[f], stops[f])`` into frame ``f``; ranges may overlap.

    No validation: run :func:`check_events` first. Resumes at ``(first_frame, first_event)`` like
    :func:`accumulate_disjoint`. Returns ``(OVERFLOW, frame, index)`` or ``(OK, frame, -1)``.
    """
    f = first_frame
    while f < np.uint64(starts.shape[0]):
        base = f * frame_size
        i = first_event if f == first_frame else np.uint64(starts[f])
        stop = np.uint64(stops[f])
        while i < stop:
            o = i * _SIZE
            k = base + (channel_stride if raw[o + _P] else _ZERO) + _u16(raw, o + _Y) * width + _u16(raw, o + _X)
            v = out[k] + _ONE
            if v > limit:
                return OVERFLOW, np.int64(f), np.int64(i)
            out[k] = v
            i += _ONE
        f += _ONE
    return OK, np.int64(f), np.int64(-1)


@njit(nogil=True, cache=False)
def searchsorted_left(t, values):
    """``np.searchsorted(t, values, side="left")`` without NumPy's contiguous copy of strided ``t``."""
    return np.searchsorted(t, values, side="left")
