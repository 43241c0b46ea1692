"""The shared vocabulary: the event dtype, sensor sizes and event validation.

Events are a structured NumPy array with fields ``t`` (int64, microseconds), ``x``, ``y`` (uint16,
pixels) and ``p`` (uint8, 0 = OFF, 1 = ON). Frames are always ``[T, P, H, W]``.

>>> ev = make_events(t=[0, 5], x=[1, 2], y=[0, 3], p=[1, 0])
>>> ev["t"].tolist(), ev.dtype == EVENT_DTYPE
([0, 5], True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from eventpipe.errors import ConfigError, EventValidationError

EVENT_DTYPE = np.dtype([("t", "<i8"), ("x", "<u2"), ("y", "<u2"), ("p", "u1")])
"""Structured dtype of one event: t in µs, x and y in pixels, p in {0, 1}."""

Events = npt.NDArray[np.void]


class SensorSize(NamedTuple):
    """Sensor geometry in tonic's ``(width, height, polarities)`` order."""

    width: int
    height: int
    polarities: int = 2

    @classmethod
    def parse(cls, value: SensorSize | Sequence[int]) -> SensorSize:
        """Accept a ``SensorSize`` or a plain ``(W, H, P)`` tuple; reject anything else clearly."""
        if isinstance(value, SensorSize):
            size = value
        else:
            try:
                w, h, p = (int(v) for v in value)
            except (TypeError, ValueError):
                raise ConfigError(
                    f"Expected sensor_size as (width, height, polarities). Got {value!r} instead."
                ) from None
            size = cls(w, h, p)
        for name, v in zip(cls._fields, size, strict=True):
            if v < 1:
                raise ConfigError(f"Expected sensor_size.{name} >= 1. Got {v} instead.")
        return size

    def frame_shape(self, n_frames: int) -> tuple[int, int, int, int]:
        """Shape ``(T, P, H, W)`` of ``n_frames`` frames of this sensor; the one shape helper."""
        return (int(n_frames), self.polarities, self.height, self.width)


def empty_events(n: int = 0) -> Events:
    """A zero-filled event array of length ``n``."""
    return np.zeros(n, dtype=EVENT_DTYPE)


def make_events(
    t: npt.ArrayLike, x: npt.ArrayLike, y: npt.ArrayLike, p: npt.ArrayLike
) -> Events:
    """Build an event array from four columns of equal length (cast to the event dtype)."""
    cols = [np.asarray(c) for c in (t, x, y, p)]
    n = len(cols[0])
    if any(len(c) != n for c in cols):
        raise EventValidationError(
            f"Columns t, x, y, p must have equal lengths. Got {[len(c) for c in cols]} instead."
        )
    out = np.empty(n, dtype=EVENT_DTYPE)
    for name, col in zip("txyp", cols, strict=True):
        out[name] = col
    return out


def _where(sample: str | None) -> str:
    return f"sample {sample}: " if sample is not None else ""


def check_dtype(events: np.ndarray, sample: str | None = None) -> None:
    """Require the fields t, x, y and p (any numeric dtypes)."""
    names = events.dtype.names or ()
    missing = [f for f in "txyp" if f not in names]
    if missing:
        raise EventValidationError(
            f"{_where(sample)}events lack field(s) {missing}; expected fields t, x, y, p. Got dtype {events.dtype}."
        )


def check_sorted(events: np.ndarray, sample: str | None = None) -> None:
    """Require non-decreasing ``t``; the error names the first offending index and values."""
    t = events["t"]
    if len(t) < 2:
        return
    bad = np.flatnonzero(t[1:] < t[:-1])
    if len(bad):
        i = int(bad[0]) + 1
        raise EventValidationError(
            f"{_where(sample)}field t is not sorted: t[{i}] = {int(t[i])} < t[{i - 1}] = {int(t[i - 1])}."
        )


def check_nonnegative_t(events: np.ndarray, sample: str | None = None) -> None:
    """Require ``t >= 0`` µs (times count from the recording's or the sensor's origin); name the first offender."""
    t = events["t"]
    bad = np.flatnonzero(t < 0)
    if len(bad):
        i = int(bad[0])
        raise EventValidationError(f"{_where(sample)}field t is negative: t[{i}] = {int(t[i])} µs; times must be >= 0.")


def check_in_sensor(events: np.ndarray, sensor_size: SensorSize | Sequence[int], sample: str | None = None) -> None:
    """Require ``0 <= x < W``, ``0 <= y < H`` and ``0 <= p < P``; name the first offending event."""
    size = SensorSize.parse(sensor_size)
    for field, limit in (("x", size.width), ("y", size.height), ("p", size.polarities)):
        col = events[field]
        if not len(col):
            continue
        bad = np.flatnonzero((col < 0) | (col >= limit)) if col.dtype.kind == "i" else np.flatnonzero(col >= limit)
        if len(bad):
            i = int(bad[0])
            raise EventValidationError(
                f"{_where(sample)}field {field} out of sensor bounds: {field}[{i}] = {col[i]}, "
                f"valid range is [0, {limit - 1}] for sensor {tuple(size)}."
            )


def validate_events(
    events: np.ndarray, sensor_size: SensorSize | Sequence[int] | None = None, sample: str | None = None
) -> None:
    """Run every check: fields present, ``t`` sorted and, when a sensor is given, coordinates inside it."""
    check_dtype(events, sample)
    check_sorted(events, sample)
    if sensor_size is not None:
        check_in_sensor(events, sensor_size, sample)


def as_events(events: np.ndarray, sample: str | None = None) -> Events:
    """Return ``events`` as an array of :data:`EVENT_DTYPE`, converting other field dtypes (tonic's, say)."""
    if events.dtype == EVENT_DTYPE:
        return events
    check_dtype(events, sample)
    p = events["p"]
    if p.dtype.kind == "i" and len(p) and int(p.min()) < 0:  # -1/+1 polarity convention
        p = p > 0
    return make_events(events["t"], events["x"], events["y"], p)
