"""Numba helpers shared by the decoding kernels.

Integer readers take a uint8 buffer and any byte offset: records are not aligned in general (header
lengths are arbitrary). :func:`put_event` writes one event as a whole record, which is measurably
faster than four strided field writes.
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
