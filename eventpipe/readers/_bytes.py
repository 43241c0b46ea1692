"""Numba helpers shared by the decoding kernels.

Integer readers take a uint8 buffer and any byte offset: records are not aligned in general (header
lengths are arbitrary). :func:`put_event` writes one event as a whole record, one store instead of
four strided field writes. Numba inlines these small functions into the kernels.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(nogil=True, cache=False)
def u16le(b: np.ndarray, i: int) -> int:
    return np.int64(b[i]) | (np.int64(b[i + 1]) << 8)


@njit(nogil=True, cache=False)
def i16le(b: np.ndarray, i: int) -> int:
    v = u16le(b, i)
    return v - 65536 if v >= 32768 else v


@njit(nogil=True, cache=False)
def u32le(b: np.ndarray, i: int) -> int:
    return (np.int64(b[i]) | (np.int64(b[i + 1]) << 8) | (np.int64(b[i + 2]) << 16)
            | (np.int64(b[i + 3]) << 24))


@njit(nogil=True, cache=False)
def i32le(b: np.ndarray, i: int) -> int:
    v = u32le(b, i)
    return v - 4294967296 if v >= 2147483648 else v


@njit(nogil=True, cache=False)
def u32be(b: np.ndarray, i: int) -> int:
    return ((np.int64(b[i]) << 24) | (np.int64(b[i + 1]) << 16) | (np.int64(b[i + 2]) << 8)
            | np.int64(b[i + 3]))


@njit(nogil=True, cache=False)
def put_event(out: np.ndarray, pos: int, t: int, x: int, y: int, p: int) -> None:
    r = out[pos]
    r.t = t
    r.x = x
    r.y = y
    r.p = p


@njit(nogil=True, cache=False)
def emit(out: np.ndarray, pos: int, t: int, x: int, y: int, p: int, last: int, unsorted: int) -> tuple[int, int, int]:
    """Write one event at ``out[pos]``; return ``(pos + 1, t, unsorted)``, the flag set to 1 when ``t < last``."""
    put_event(out, pos, t, x, y, p)
    if t < last:
        unsorted = 1
    return pos + 1, t, unsorted


@njit(nogil=True, cache=False)
def unwrap_u32(raw: int, prev: int, epoch: int) -> int:
    """The epoch of 32-bit µs timestamp ``raw``: ``epoch + 2**32`` when ``raw`` fell more than ``2**31`` below ``prev``."""
    if raw < prev - 2147483648:
        epoch += 4294967296
    return epoch


@njit(nogil=True, cache=False)
def advance_time_high(time_high: int, low: int, period: int, seen: int) -> int:
    """The unwrapped time-high counter after a TIME_HIGH word carrying ``low`` (``period`` = the field's range).

    Once a first TIME_HIGH was ``seen``, a drop of more than half the range is a wrap of the counter.
    """
    epoch = time_high - (time_high & (period - 1))
    if seen and low < (time_high & (period - 1)) - period // 2:
        epoch += period
    return epoch + low
