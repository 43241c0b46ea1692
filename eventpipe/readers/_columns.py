"""Events from loose columns (HDF5 datasets, .mat variables, .npy fields), checked before the cast.

A plain ``astype`` would wrap a negative x into 65535, truncate 1.5 µs or turn 1e30 s into a negative
time without a word; here every column is checked against the event dtype's range first (``t >= 0``),
and the error names the file and field. Every reader ends in :func:`join_events` or
:func:`check_times`, so its events are sorted by ``t`` with ``t >= 0``, or it raises.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from eventpipe.errors import CorruptRecordingError, EventValidationError, FormatError
from eventpipe.events import EVENT_DTYPE, Events, check_nonnegative_t

_LIMITS = {"t": (0, np.iinfo(np.int64).max), "x": (0, 0xFFFF), "y": (0, 0xFFFF), "p": (0, 1)}
_MAX_SECONDS = np.iinfo(np.int64).max / 1e6


def _index(i: int) -> str:
    return f"t[{i}]"


def seconds_to_us(path: Path, seconds: object, where: Callable[[int], str] = _index) -> np.ndarray:
    """Float seconds to int64 µs, rounded to the nearest µs (float32 seconds carry ~0.1 µs of noise).

    Raises
    ------
    CorruptRecordingError
        A time is NaN, infinite, negative or beyond the int64 µs range (a cast would wrap it to a
        negative number); names the file and ``where(i)`` of the first one (default ``t[i]``).
    """
    s = np.asarray(seconds, dtype=np.float64).reshape(-1)
    us = np.rint(s * 1e6)
    bad = np.flatnonzero(~((us >= 0) & (us < 2.0**63)))  # NaN fails both comparisons
    if len(bad):
        i = int(bad[0])
        raise CorruptRecordingError(
            path, None, f"{where(i)} = {float(s[i]):.7g} s; times must be finite and in [0, {_MAX_SECONDS:.4g}] s"
        )
    return us.astype(np.int64)


def _integral(path: Path, name: str, col: np.ndarray) -> np.ndarray:
    if col.dtype.kind == "b":
        return col.astype(np.uint8)
    if col.dtype.kind in "iu":
        return col
    if col.dtype.kind == "f":
        if not np.all(np.isfinite(col)) or np.any(col != np.round(col)):
            bad = int(np.flatnonzero(~np.isfinite(col) | (col != np.round(col)))[0])
            raise FormatError(f"{path}: field {name} must hold integers; {name}[{bad}] = {col[bad]}")
        return col
    raise FormatError(f"{path}: field {name} has dtype {col.dtype}; expected numbers")


def _always_fits(dtype: np.dtype, lo: int, hi: int) -> bool:
    """True when every value of integer ``dtype`` lies in ``[lo, hi]`` (uint16 x, uint32 t: no check needed)."""
    if dtype.kind not in "iu":
        return False
    info = np.iinfo(dtype)
    return bool(info.min >= lo and info.max <= hi)


def columns_to_events(
    path: str | Path, t: object, x: object, y: object, p: object, *, sort: bool = True,
    out: Events | None = None,
) -> Events:
    """Check and cast four equal-length columns into events, stable-sorted by ``t`` unless ``sort=False``.

    ``p`` may use -1/+1 or 0/1 (any positive value is ON); ``t``, ``x``, ``y`` must be integral and fit
    the event dtype (``x``, ``y`` in [0, 65535]). With ``out`` (an event array of the columns' length,
    e.g. a slice of a larger one) the events are written there and ``out`` is returned.

    Raises
    ------
    FormatError
        Unequal lengths, non-numeric or non-integral values, or values outside the event dtype, naming
        the file, the field and the first offending index.
    """
    path = Path(path)
    cols = {k: np.asarray(v).reshape(-1) for k, v in zip("txyp", (t, x, y, p), strict=True)}
    lengths = {k: len(v) for k, v in cols.items()}
    if len(set(lengths.values())) > 1:
        raise FormatError(f"{path}: event fields have different lengths {lengths}")
    if cols["p"].dtype.kind in "iuf" and len(cols["p"]) and cols["p"].min() < 0:
        cols["p"] = cols["p"] > 0  # -1/+1 polarity
    if out is None:
        out = np.empty(lengths["t"], dtype=EVENT_DTYPE)
    for name, col in cols.items():
        col = _integral(path, name, col)
        lo, hi = _LIMITS[name]
        if not _always_fits(col.dtype, lo, hi):
            # compared in the column's own kind: float(2**63 - 1) rounds up to 2**63, which the cast wraps
            outside = (col < lo) | ((col >= float(hi + 1)) if col.dtype.kind == "f" else (col > hi))
            if np.any(outside):
                bad = int(np.flatnonzero(outside)[0])
                raise FormatError(f"{path}: field {name}[{bad}] = {col[bad]} is outside [{lo}, {hi}]")
        out[name] = col
    return sort_by_time(out) if sort else out


def sort_by_time(events: Events) -> Events:
    """``events`` stable-sorted by ``t`` (returned as is when already sorted)."""
    t = events["t"]
    if len(t) > 1 and np.any(t[1:] < t[:-1]):
        return events[np.argsort(t, kind="stable")]
    return events


def check_times(path: Path, events: Events) -> Events:
    """``events`` when every ``t >= 0``; a decoded negative time means a corrupt file.

    Raises
    ------
    CorruptRecordingError
        Naming the file and the first negative ``t``.
    """
    try:
        check_nonnegative_t(events)
    except EventValidationError as exc:
        raise CorruptRecordingError(path, None, str(exc)) from None
    return events


def join_events(path: Path, parts: list[Events]) -> Events:
    """The concatenation of ``parts`` (zero events when there are none), stable-sorted by ``t``, with
    ``t >= 0`` checked by :func:`check_times`."""
    return check_times(path, sort_by_time(np.concatenate(parts) if parts else np.zeros(0, dtype=EVENT_DTYPE)))
