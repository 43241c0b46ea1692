"""The wrapper around the kernels: coerce events, allocate ``out``, pick the dtype, report errors.

Count frames
------------
Output dtype is the smallest unsigned integer that holds the largest count. The kernels count into
uint8 and stop at the first count that would exceed 255 (never wrap); the wrapper then widens the
partial counts to uint16 and resumes at that event, and so on to uint32. Most DVS frames stay under
256 counts per pixel, so one pass over uint8 output (the smallest to zero and to store) is the
common case, and a hot pixel costs one copy of the output, not a second pass over the events.
Counts are capped at uint32 (a frame would need more than 4e9 events to exceed it).

Float frames
------------
Representations with fractional values (voxel grids, time surfaces, a plugin's floats) are stored
as float16 or float32, chosen by ``frames_dtype`` (:func:`float_frames`): ``"float32"``,
``"float16"``, or ``"auto"``: float16 when every value ``v`` survives the cast with
``|float16(v) - v| <= 2**-11 * |v|`` (float16's unit roundoff, the bound of a correct rounding in
its normal range), so zeros and exact values always pass while overflow (``> 65504``) and values
that would lose relative precision as subnormals (``|v| < 2**-14``) give float32. Values are
rounded to float32 first when they come as float64.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from eventpipe.errors import ConfigError, EventValidationError
from eventpipe.events import EVENT_DTYPE, Events, SensorSize, check_dtype, make_events
from eventpipe.frames import kernels
from eventpipe.frames.slicing import is_disjoint

FRAMES_DTYPES = ("auto", "float16", "float32")
"""Values of ``frames_dtype``: how float frames are stored."""
FLOAT16_ROUNDOFF = 2.0 ** -11
"""float16's unit roundoff: the largest relative error :func:`float_frames` accepts for ``"auto"``."""
COUNT_DTYPES: tuple[np.dtype[Any], ...] = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.uint32))
"""Candidate frame dtypes, smallest first."""


def smallest_uint(max_count: int) -> np.dtype[Any]:
    """The smallest of uint8/uint16/uint32 that holds ``max_count``."""
    for dtype in COUNT_DTYPES:
        if max_count <= np.iinfo(dtype).max:
            return dtype
    raise ConfigError(f"Frame counts up to {max_count} exceed uint32; split the sample into more frames.")


def float_frames(frames: np.ndarray, frames_dtype: str = "auto") -> np.ndarray:
    """``frames`` (finite floats) as float16 or float32 by ``frames_dtype`` (see the module's rule)."""
    if frames_dtype not in FRAMES_DTYPES:
        raise ConfigError(f"Unknown value {frames_dtype!r} for argument frames_dtype. Valid values are "
                          f"{{{', '.join(map(repr, FRAMES_DTYPES))}}}.")
    single = np.asarray(frames, dtype=np.float32)
    if frames_dtype == "float32":
        return single
    with np.errstate(over="ignore", invalid="ignore"):
        half = single.astype(np.float16)
        fits = bool(np.all(np.abs(half.astype(np.float32) - single) <= np.float32(FLOAT16_ROUNDOFF) * np.abs(single)))
    if frames_dtype == "float16" and not np.all(np.isfinite(half)):
        raise ConfigError(f"Frame values up to {float(np.abs(single).max()):g} exceed float16 (65504); "
                          "use frames_dtype='float32' or 'auto'.")
    return half if fits or frames_dtype == "float16" else single


def _where(sample: str | None) -> str:
    return f"sample {sample}: " if sample is not None else ""


def _check_sensor(size: SensorSize) -> None:
    if size.polarities not in (1, 2):
        raise ConfigError(
            f"Expected sensor_size.polarities in {{1, 2}} (channel = p != 0). Got {size.polarities} instead."
        )


def _coordinate(col: np.ndarray, field: str, limit: int, size: SensorSize, sample: str | None) -> np.ndarray:
    """Check a non-uint16 x or y column against the sensor before it is cast (casting could wrap)."""
    if col.dtype.kind not in "uif":
        raise EventValidationError(f"{_where(sample)}field {field} must be numeric. Got dtype {col.dtype}.")
    outside = (col < 0) | (col >= limit)
    if col.dtype.kind == "f":
        outside |= col != np.floor(col)
    bad = np.flatnonzero(outside)
    if len(bad):
        i = int(bad[0])
        raise EventValidationError(
            f"{_where(sample)}field {field} out of sensor bounds: {field}[{i}] = {col[i]}, "
            f"valid range is [0, {limit - 1}] for sensor {tuple(size)}."
        )
    return col


def as_event_array(events: Any, sensor_size: SensorSize, sample: str | None = None) -> Events:
    """Return ``events`` as a 1-D :data:`EVENT_DTYPE` array without copying when it already is one.

    Also accepts other structured dtypes with fields t, x, y, p (tonic's) and SpikingJelly's dict of
    arrays ``{'t', 'x', 'y', 'p'}``. Polarity becomes ``p > 0`` for a -1/+1 convention, else ``p != 0``.
    Timestamps must be integers (µs); coordinates are checked before any narrowing cast.
    """
    if isinstance(events, np.ndarray) and events.dtype == EVENT_DTYPE:
        if events.ndim != 1:
            raise EventValidationError(f"{_where(sample)}events must be 1-D. Got shape {events.shape}.")
        return events
    if isinstance(events, Mapping):
        missing = [k for k in "txyp" if k not in events]
        if missing:
            raise EventValidationError(
                f"{_where(sample)}events dict lacks key(s) {missing}; expected keys t, x, y, p. "
                f"Got keys {sorted(events)}."
            )
        cols = {k: np.asarray(events[k]).reshape(-1) for k in "txyp"}
    elif isinstance(events, np.ndarray) and events.dtype.names is not None:
        check_dtype(events, sample)
        cols = {k: np.asarray(events[k]).reshape(-1) for k in "txyp"}
    else:
        raise EventValidationError(
            f"{_where(sample)}events must be a structured array with fields t, x, y, p or a dict of "
            f"arrays with those keys. Got {type(events).__name__}."
        )
    t = cols["t"]
    if t.dtype.kind == "f" and not np.all(t == np.floor(t)):
        raise EventValidationError(f"{_where(sample)}field t must hold integer microseconds. Got dtype {t.dtype}.")
    x = _coordinate(cols["x"], "x", sensor_size.width, sensor_size, sample)
    y = _coordinate(cols["y"], "y", sensor_size.height, sensor_size, sample)
    p = cols["p"]
    signed = p.dtype.kind in "if" and len(p) and float(p.min()) < 0
    return make_events(t, x, y, (p > 0) if signed else (p != 0))


def _raise_status(code: int, i: int, events: Events, size: SensorSize, sample: str | None) -> None:
    where = _where(sample)
    if code == kernels.UNSORTED:
        t = events["t"]
        raise EventValidationError(
            f"{where}field t is not sorted: t[{i}] = {int(t[i])} < t[{i - 1}] = {int(t[i - 1])}. "
            "Sort the events first, e.g. np.sort(events, order='t', kind='stable')."
        )
    for c, field, limit in ((kernels.X_OUT_OF_RANGE, "x", size.width), (kernels.Y_OUT_OF_RANGE, "y", size.height)):
        if code == c:
            raise EventValidationError(
                f"{where}field {field} out of sensor bounds: {field}[{i}] = {int(events[field][i])}, "
                f"valid range is [0, {limit - 1}] for sensor {tuple(size)}."
            )


def _views(events: Events) -> tuple[np.ndarray, np.ndarray]:
    """What the kernels read: the ``t`` field view and the bytes (a copy only if not contiguous)."""
    events = np.ascontiguousarray(events)
    return events["t"], events.view(np.uint8).reshape(-1)


def check(events: Events, sensor_size: SensorSize, sample: str | None = None) -> None:
    """Require sorted ``t`` and coordinates inside the sensor (one pass); the error names ``sample``."""
    u = np.uint64
    code, i = kernels.check_events(*_views(events), u(sensor_size.width), u(sensor_size.height))
    _raise_status(code, i, events, sensor_size, sample)


def accumulate(
    events: Events,
    sensor_size: SensorSize,
    starts: npt.NDArray[np.int64],
    stops: npt.NDArray[np.int64],
    sample: str | None = None,
    *,
    validated: bool = False,
) -> np.ndarray:
    """Count ``events[starts[f]:stops[f]]`` into frame ``f``; return ``[T, P, H, W]`` in the smallest uint.

    Every event is checked (sorted ``t``, coordinates inside the sensor), also those outside all frames.
    ``validated=True`` is for events already checked against this sensor (read from an events store,
    whose writer checked them): ordered, non-overlapping frames then skip the ``t`` order check and
    check only the coordinates of the counted events (overlapping frames are checked in full).

    Raises
    ------
    EventValidationError
        Unsorted ``t`` or a coordinate outside the sensor; the message names ``sample``, the index and value.
    """
    size = sensor_size
    _check_sensor(size)
    t, raw = _views(events)
    n_frames = len(starts)
    u = np.uint64
    width, height = u(size.width), u(size.height)
    frame_size = size.polarities * size.height * size.width
    channel_stride = u(size.height * size.width if size.polarities == 2 else 0)
    disjoint = is_disjoint(starts, stops)
    if not disjoint:
        check(events, size, sample)
    bound = int(np.max(stops - starts)) if n_frames else 0
    smallest_uint(bound)  # refuse frames whose counts could exceed uint32 before doing any work
    # Count in uint8; on overflow widen the partial counts and resume at the event that overflowed.
    out = np.zeros(n_frames * frame_size, dtype=COUNT_DTYPES[0])
    # Where counting starts: the disjoint kernel checks every event from 0, the ranges kernel counts
    # each range from its start.
    frame, first = u(0), u(starts[0] if n_frames and not disjoint else 0)
    for dtype in COUNT_DTYPES:
        if out.dtype != dtype:
            out = out.astype(dtype)
        limit = u(np.iinfo(dtype).max)
        if disjoint:
            kernel = kernels.accumulate_disjoint_trusted if validated else kernels.accumulate_disjoint
            code, f, i = kernel(
                t, raw, starts, stops, width, height, channel_stride, u(frame_size), limit, frame, first, out
            )
        else:
            code, f, i = kernels.accumulate_ranges(
                raw, starts, stops, width, channel_stride, u(frame_size), limit, frame, first, out
            )
        if code != kernels.OVERFLOW:
            break
        frame, first = u(f), u(i)
    _raise_status(code, i, events, size, sample)
    return out.reshape(size.frame_shape(n_frames))
