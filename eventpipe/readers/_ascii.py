"""Numba kernel that parses text event lines (``t x y p``) from a byte buffer into events.

The kernel reads decimal numbers straight from the bytes, one pass, no Python per line. A number is
kept as an integer mantissa and a power of ten (``"0.003811000"`` is ``3811000e-9``), so times in
seconds become µs exactly, rounded half to even below 1 µs (as :func:`numpy.rint` rounds). At most
18 significant digits of a number are used; further fraction digits are ignored.

Kernel contract (the one of :mod:`eventpipe.readers._stream`): ``parse_lines(buf, out, pos, state,
fields, delimiter, t_exp, whole_t) -> (consumed, pos, status, arg)``; ``whole_t`` = 1 makes a time
with a fraction an error (:data:`FRACTIONAL_TIME`). Only lines ended by ``\\n`` are parsed;
``consumed`` is the offset after the last one, or the start of the bad line when ``status >= 2``
(``arg``: the 0-based column). ``state`` holds the last time, the unsorted flag and the number of
lines consumed so far (the bad line is number ``state[2] + 1``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from eventpipe.readers._bytes import emit

NEED_INPUT = 0
NEED_OUTPUT = 1
BAD_NUMBER = 2
FEW_FIELDS = 3
EXTRA_FIELDS = 4
NEGATIVE_COORD = 5
BAD_COORD = 6
BAD_POLARITY = 7
BAD_TIME = 8
FRACTIONAL_TIME = 9

WHITESPACE = 0
"""``delimiter`` value for fields separated by runs of spaces or tabs."""
T, X, Y, P, SKIP = 0, 1, 2, 3, -1
"""``fields`` values: the event field a column holds, or ``SKIP`` for a column that is ignored."""

_NL, _CR, _SP, _TAB, _HASH = 10, 13, 32, 9, 35
_POW10 = np.array([10**k for k in range(19)], dtype=np.int64)
_INT64_MAX = np.iinfo(np.int64).max
_COORD_MAX = 0xFFFF


@njit(nogil=True, cache=False)
def _blank(c: int) -> bool:
    return c in (_SP, _TAB, _CR)


@njit(nogil=True, cache=False)
def _digit(c: int) -> int:
    """``c - '0'``: in [0, 9] exactly for an ASCII digit."""
    return np.int64(c) - 48


@njit(nogil=True, cache=False)
def _long_mantissa(buf: np.ndarray, i: int, end: int) -> tuple[int, int]:
    """``(mantissa, exp10)`` of the digits (and one '.') in ``buf[i:end]`` keeping 18 significant digits."""
    mant = 0
    exp10 = 0
    kept = 0
    fraction = False
    while i < end:
        if buf[i] == 46:
            fraction = True
        elif kept < 18:
            mant = mant * 10 + _digit(buf[i])
            if mant:
                kept += 1
            if fraction:
                exp10 -= 1
        elif not fraction:
            exp10 += 1
        i += 1
    return mant, exp10


@njit(nogil=True, cache=False, inline="always")  # inlined in Numba IR: about a quarter faster
def _number(buf: np.ndarray, i: int) -> tuple[int, int, int, bool, bool]:
    """``(end, mantissa, exp10, negative, ok)`` of the decimal number at ``buf[i]`` (``[+-]d[.d][e[+-]d]``)."""
    negative = False
    if buf[i] == 45:  # '-'
        negative = True
        i += 1
    elif buf[i] == 43:  # '+'
        i += 1
    first = i
    mant = 0
    d = _digit(buf[i])
    while 0 <= d <= 9:
        mant = mant * 10 + d
        i += 1
        d = _digit(buf[i])
    digits = i - first
    exp10 = 0
    if buf[i] == 46:  # '.'
        i += 1
        dot = i
        d = _digit(buf[i])
        while 0 <= d <= 9:
            mant = mant * 10 + d
            i += 1
            d = _digit(buf[i])
        exp10 = dot - i
        digits += i - dot
    if digits == 0:
        return i, 0, 0, negative, False
    if digits > 18:  # the fast loops above may have overflowed
        mant, exp10 = _long_mantissa(buf, first, i)
    if buf[i] == 101 or buf[i] == 69:  # 'e', 'E'
        i += 1
        e_negative = buf[i] == 45
        if buf[i] == 45 or buf[i] == 43:
            i += 1
        e = 0
        e_first = i
        d = _digit(buf[i])
        while 0 <= d <= 9:
            if e < 100000:
                e = e * 10 + d
            i += 1
            d = _digit(buf[i])
        if i == e_first:
            return i, 0, 0, negative, False
        exp10 += -e if e_negative else e
    return i, mant, exp10, negative, True


@njit(nogil=True, cache=False)
def _scaled(mant: int, exp10: int) -> tuple[int, bool]:
    """``mant * 10**exp10`` rounded half to even to an integer; ``ok`` False when beyond int64."""
    if mant == 0:
        return 0, True
    if exp10 >= 0:
        if exp10 > 18 or mant > _INT64_MAX // _POW10[exp10]:
            return 0, False
        return mant * _POW10[exp10], True
    if exp10 < -18:
        return 0, True  # mant < 1e18, so the value is below 0.1
    d = _POW10[-exp10]
    q = mant // d
    r = mant - q * d
    half = d // 2
    if r > half or (r == half and q & 1):
        q += 1
    return q, True


@njit(nogil=True, cache=False)
def _integer(mant: int, exp10: int, limit: int) -> int:
    """``mant * 10**exp10`` when it is an integer in ``[0, limit]``, else -1."""
    if mant == 0:
        return 0
    if exp10 >= 0:
        if exp10 > 5:
            return -1
        v = mant * _POW10[exp10]
    else:
        if exp10 < -18 or mant % _POW10[-exp10]:
            return -1
        v = mant // _POW10[-exp10]
    return v if v <= limit else -1


@njit(nogil=True, cache=False)
def parse_lines(buf, out, pos, state, fields, delimiter, t_exp, whole_t):  # noqa: ANN001, ANN201, C901, PLR0912, PLR0915 - Numba kernel
    """Parse the complete lines of ``buf`` into ``out[pos:]`` (the module docstring has the contract)."""
    end = buf.size - 1
    while end >= 0 and buf[end] != _NL:
        end -= 1
    last = state[0]
    unsorted = state[1]
    line = state[2]
    n_cols = fields.size
    status = NEED_INPUT
    arg = 0
    i = 0
    while i <= end:  # buf[end] is '\n': a sentinel that stops every scan below
        start = i
        while _blank(buf[i]):
            i += 1
        if buf[i] == _NL:
            i += 1
            line += 1
            continue
        if buf[i] == _HASH:
            while buf[i] != _NL:
                i += 1
            i += 1
            line += 1
            continue
        if pos >= out.size:
            status = NEED_OUTPUT
            arg = 1
            i = start
            break
        t = 0
        x = 0
        y = 0
        p = 0
        for col in range(n_cols):
            field = fields[col]
            if field == SKIP:
                while buf[i] != _NL and buf[i] != delimiter and not (delimiter == WHITESPACE and _blank(buf[i])):
                    i += 1
            else:
                i, mant, exp10, negative, ok = _number(buf, i)
                if not ok:
                    status = BAD_NUMBER
                    arg = col
                    break
                if field == T:
                    if whole_t and exp10 < 0 and mant % _POW10[min(-exp10, 18)]:
                        status = FRACTIONAL_TIME
                        arg = col
                        break
                    t, ok = _scaled(mant, exp10 + t_exp)
                    if not ok or (negative and t):
                        status = BAD_TIME
                        arg = col
                        break
                elif field == P:
                    v = _integer(mant, exp10, 1)
                    if v < 0:
                        status = BAD_POLARITY
                        arg = col
                        break
                    p = 0 if negative else v
                else:
                    v = _integer(mant, exp10, _COORD_MAX)
                    if negative and mant:
                        status = NEGATIVE_COORD
                        arg = col
                        break
                    if v < 0:
                        status = BAD_COORD
                        arg = col
                        break
                    if field == X:
                        x = v
                    else:
                        y = v
            gap = i
            while _blank(buf[i]):
                i += 1
            c = buf[i]
            if col == n_cols - 1:
                if c != _NL:
                    separated = c == delimiter if delimiter != WHITESPACE else i > gap
                    status = EXTRA_FIELDS if separated else BAD_NUMBER
                    arg = col
                break
            if c == _NL:
                status = FEW_FIELDS
                arg = col + 1
                break
            if delimiter != WHITESPACE:
                if c != delimiter:
                    status = BAD_NUMBER
                    arg = col
                    break
                i += 1
                while _blank(buf[i]):
                    i += 1
            elif i == gap:
                status = BAD_NUMBER
                arg = col
                break
        if status != NEED_INPUT:
            i = start
            break
        pos, last, unsorted = emit(out, pos, t, x, y, p, last, unsorted)
        i += 1
        line += 1
    state[0] = last
    state[1] = unsorted
    state[2] = line
    return i, pos, status, arg
