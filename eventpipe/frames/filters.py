"""Event filters with tonic's definitions: per-event loops in Numba, the rest vectorised.

Each function takes a structured event array sorted by ``t`` (fields ``t, x, y, p``; integer µs for ``t``)
and returns a new array of the same dtype; the input is never modified. The deterministic filters
give exactly what ``tonic.functional`` gives on the same events, including its corner cases:
:func:`denoise` and :func:`refractory_period` size their pixel memory from the largest ``x`` and
``y`` present (so a neighbour beyond them is never looked at), and ``refractory_period`` drops an
event at ``t = 0`` (its memory starts at ``-period``). Where tonic fails (no events) the result is
an empty array.

The random filters draw from a NumPy ``Generator`` and follow tonic's distributions, not its random
stream. They differ from tonic where its result would not be a valid event array: coordinates stay
inside the sensor (:func:`spatial_jitter` clamps them unless ``clip_outliers``), timestamps stay
sorted (:func:`time_jitter` and :func:`uniform_noise` sort stably) and noise polarities are 0 or 1.
Casts to the integer fields truncate toward zero, as NumPy's assignment does in tonic.

>>> from eventpipe.events import make_events
>>> ev = make_events(t=[1000, 1005, 1009, 1100], x=[3, 4, 9, 3], y=[1, 1, 1, 1], p=[1, 1, 0, 1])
>>> denoise(ev, filter_time=10)["t"].tolist()
[1005]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from numba import njit

from eventpipe.errors import ConfigError
from eventpipe.events import Events, SensorSize
from eventpipe.frames.kernels import searchsorted_left

__all__ = [
    "crop_time",
    "denoise",
    "downsample",
    "drop_box",
    "drop_by_area",
    "drop_by_time",
    "drop_event",
    "drop_pixel",
    "drop_time_window",
    "hot_pixels",
    "refractory_period",
    "spatial_jitter",
    "time_jitter",
    "time_skew",
    "uniform_noise",
]


# --- parameter checks: one line naming the filter and the argument


def check_nonnegative(op: str, name: str, value: float) -> float:
    """``value`` as a float >= 0, else a ``ConfigError`` naming ``op`` and ``name``."""
    v = _number(op, name, value)
    if not v >= 0:
        raise ConfigError(f"{op}: expected {name} >= 0. Got {value!r} instead.")
    return v


def check_positive(op: str, name: str, value: float) -> float:
    """``value`` as a float > 0, else a ``ConfigError`` naming ``op`` and ``name``."""
    v = _number(op, name, value)
    if not v > 0:
        raise ConfigError(f"{op}: expected {name} > 0. Got {value!r} instead.")
    return v


def check_probability(op: str, name: str, value: float, *, upper_open: bool = False) -> float:
    """``value`` in ``[0, 1]`` (``[0, 1)`` with ``upper_open``), else a ``ConfigError``."""
    v = _number(op, name, value)
    if not (0.0 <= v < 1.0 if upper_open else 0.0 <= v <= 1.0):
        interval = "[0, 1)" if upper_open else "[0, 1]"
        raise ConfigError(f"{op}: expected {name} in {interval}. Got {value!r} instead.")
    return v


def _number(op: str, name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(f"{op}: expected {name} as a number. Got {value!r} instead.")
    v = float(value)
    if math.isnan(v):
        raise ConfigError(f"{op}: expected {name} as a number. Got {value!r} instead.")
    return v


def _bounds(t: npt.NDArray[np.int64], low: float, high: float) -> tuple[int, int]:
    """Index range of ``low <= t <= high`` in sorted integer ``t``, searched in its strided field view."""
    edges = np.array([math.ceil(low), math.floor(high) + 1], dtype=np.int64)
    lo, hi = searchsorted_left(t, edges)
    return int(lo), int(hi)


def _extent(events: Events) -> tuple[int, int]:
    """``(max x + 1, max y + 1)``: the pixel memory tonic allocates."""
    return int(events["x"].max()) + 1, int(events["y"].max()) + 1


# --- per-event loops (Numba)


@njit(nogil=True, cache=False)
def _denoise_keep(t, x, y, width, height, filter_time, keep):
    memory = np.full((width, height), filter_time)
    for i in range(len(t)):
        xi = np.int64(x[i])
        yi = np.int64(y[i])
        ti = np.float64(t[i])
        memory[xi, yi] = ti + filter_time
        keep[i] = (
            (xi > 0 and memory[xi - 1, yi] > ti)
            or (xi < width - 1 and memory[xi + 1, yi] > ti)
            or (yi > 0 and memory[xi, yi - 1] > ti)
            or (yi < height - 1 and memory[xi, yi + 1] > ti)
        )


@njit(nogil=True, cache=False)
def _refractory_keep(t, x, y, width, height, period, keep):
    memory = np.full((width, height), -period)
    for i in range(len(t)):
        xi = np.int64(x[i])
        yi = np.int64(y[i])
        ti = np.float64(t[i])
        keep[i] = ti - memory[xi, yi] > period
        memory[xi, yi] = ti


@njit(nogil=True, cache=False)
def _pixel_keep(x, y, blocked, keep):
    width, height = blocked.shape
    for i in range(len(x)):
        xi = np.int64(x[i])
        yi = np.int64(y[i])
        keep[i] = not (xi < width and yi < height and blocked[xi, yi])


@njit(nogil=True, cache=False)
def _gather(src, index, size, dst):
    for j in range(len(index)):
        i = index[j] * size
        for b in range(size):
            dst[j * size + b] = src[i + b]


def _take(events: Events, index: npt.NDArray[np.intp]) -> Events:
    """``events[index]``, copying each record's bytes in one loop (NumPy's structured take is slower)."""
    events = np.ascontiguousarray(events)
    out = np.empty(len(index), dtype=events.dtype)
    size = events.dtype.itemsize
    _gather(events.view(np.uint8).reshape(-1), index, size, out.view(np.uint8).reshape(-1))
    return out


def denoise(events: Events, filter_time: float) -> Events:
    """Keep an event when one of its 4 neighbours fired less than ``filter_time`` µs before it.

    tonic's rule: a pixel's memory holds its last event time plus ``filter_time`` (initially
    ``filter_time``), the event's own pixel is updated first and never counts.
    """
    filter_time = check_nonnegative("denoise", "filter_time", filter_time)
    if not len(events):
        return events.copy()
    keep = np.empty(len(events), dtype=np.bool_)
    _denoise_keep(events["t"], events["x"], events["y"], *_extent(events), filter_time, keep)
    return events[keep]


def refractory_period(events: Events, period: float) -> Events:
    """Keep an event when its pixel's previous event (kept or not) is more than ``period`` µs older."""
    period = check_nonnegative("refractory_period", "period", period)
    if not len(events):
        return events.copy()
    keep = np.empty(len(events), dtype=np.bool_)
    _refractory_keep(events["t"], events["x"], events["y"], *_extent(events), period, keep)
    return events[keep]


def drop_pixel(events: Events, coordinates: Sequence[Sequence[int]] | np.ndarray) -> Events:
    """Drop every event at the given ``(x, y)`` pixels."""
    xy = np.asarray(coordinates, dtype=np.int64).reshape(-1, 2) if len(coordinates) else np.zeros((0, 2), np.int64)
    if (xy < 0).any():
        raise ConfigError(f"drop_pixel: expected coordinates >= 0. Got {xy[(xy < 0).any(axis=1)][0].tolist()} instead.")
    if not len(events) or not len(xy):
        return events.copy()
    blocked = np.zeros((int(xy[:, 0].max()) + 1, int(xy[:, 1].max()) + 1), dtype=np.bool_)
    blocked[xy[:, 0], xy[:, 1]] = True
    keep = np.empty(len(events), dtype=np.bool_)
    _pixel_keep(events["x"], events["y"], blocked, keep)
    return events[keep]


def hot_pixels(events: Events, frequency: float) -> npt.NDArray[np.int64]:
    """``(x, y)`` of the pixels with more than ``frequency * (t[-1] - t[0]) * 1e-6`` events (tonic's rule)."""
    frequency = check_nonnegative("drop_pixel", "hot_pixel_frequency", frequency)
    if not len(events):
        return np.zeros((0, 2), dtype=np.int64)
    width, height = _extent(events)
    flat = events["x"].astype(np.int64) * height + events["y"]
    counts = np.bincount(flat, minlength=width * height)
    limit = frequency * (int(events["t"][-1]) - int(events["t"][0])) * 1e-6
    hot = np.flatnonzero(counts > limit)
    return np.stack([hot // height, hot % height], axis=1)


def crop_time(events: Events, t_min: float = 0, t_max: float | None = None) -> Events:
    """Keep ``t_min <= t <= t_max`` (``t_max`` defaults to the last timestamp)."""
    t_min = _number("crop_time", "t_min", t_min)
    if t_max is not None:
        t_max = _number("crop_time", "t_max", t_max)
    if not len(events):
        return events.copy()
    t = events["t"]
    lo, hi = _bounds(t, t_min, t[-1] if t_max is None else t_max)
    return events[lo:hi].copy()


def drop_time_window(events: Events, start: float, stop: float) -> Events:
    """Drop ``start <= t <= stop``."""
    start = _number("drop_time_window", "start", start)
    stop = _number("drop_time_window", "stop", stop)
    lo, hi = _bounds(events["t"], start, stop)
    return np.concatenate([events[:lo], events[max(lo, hi) :]])


def drop_box(events: Events, x0: int, y0: int, x1: int, y1: int) -> Events:
    """Drop the events with ``x0 <= x <= x1`` and ``y0 <= y <= y1``."""
    x, y = events["x"], events["y"]
    return events[~((x >= x0) & (y >= y0) & (x <= x1) & (y <= y1))]


def time_skew(events: Events, coefficient: float, offset: float = 0) -> Events:
    """``t' = t * coefficient + offset``, truncated to whole µs; ``coefficient > 0`` keeps the order."""
    coefficient = check_positive("time_skew", "coefficient", coefficient)
    offset = _number("time_skew", "offset", offset)
    out = events.copy()
    out["t"] = events["t"] * coefficient + offset
    return out


def downsample(events: Events, time_factor: float = 1, spatial_factor: float | Sequence[float] = 1) -> Events:
    """Scale timestamps by ``time_factor`` and ``x, y`` by ``spatial_factor`` (one or ``(fx, fy)``), truncated."""
    time_factor = check_positive("downsample", "time_factor", time_factor)
    pair = tuple(spatial_factor) if isinstance(spatial_factor, (Sequence, np.ndarray)) else (spatial_factor,) * 2
    if len(pair) != 2:
        raise ConfigError(f"downsample: expected spatial_factor as one number or (fx, fy). Got {spatial_factor!r} instead.")
    fx, fy = (check_positive("downsample", "spatial_factor", f) for f in pair)
    out = events.copy()
    out["t"] = events["t"] * time_factor
    out["x"] = events["x"] * fx
    out["y"] = events["y"] * fy
    return out


# --- random filters


def drop_event(events: Events, p: float, rng: np.random.Generator) -> Events:
    """Drop ``round(p * N)`` events chosen uniformly without replacement (half rounds up)."""
    p = check_probability("drop_event", "p", p)
    n = len(events)
    keep = np.ones(n, dtype=np.bool_)
    keep[rng.choice(n, int(p * n + 0.5), replace=False)] = False
    return events[keep]


def drop_by_time(events: Events, ratio: float, rng: np.random.Generator) -> Events:
    """Drop a window of ``ratio * t_max`` µs placed uniformly in ``[0, t_max]`` (tonic's ``drop_by_time``)."""
    ratio = check_probability("drop_by_time", "duration_ratio", ratio, upper_open=True)
    if not len(events):
        return events.copy()
    t_end = float(events["t"].max())
    length = t_end * ratio
    start = rng.uniform(0.0, t_end - length)
    return drop_time_window(events, start, start + length)


def drop_by_area(events: Events, sensor_size: SensorSize | Sequence[int], ratio: float, rng: np.random.Generator) -> Events:
    """Drop a box of ``int(W * ratio) x int(H * ratio)`` pixels placed uniformly on the sensor."""
    ratio = check_probability("drop_by_area", "area_ratio", ratio, upper_open=True)
    size = SensorSize.parse(sensor_size)
    cut_w, cut_h = int(size.width * ratio), int(size.height * ratio)
    x0 = int(rng.integers(0, size.width - cut_w))
    y0 = int(rng.integers(0, size.height - cut_h))
    return drop_box(events, x0, y0, x0 + cut_w - 1, y0 + cut_h - 1)


def spatial_jitter(
    events: Events,
    sensor_size: SensorSize | Sequence[int],
    rng: np.random.Generator,
    var_x: float = 1,
    var_y: float = 1,
    sigma_xy: float = 0,
    clip_outliers: bool = False,
) -> Events:
    """Add a Gaussian ``(dx, dy)`` with covariance ``[[var_x, sigma_xy], [sigma_xy, var_y]]`` to each event.

    Shifted coordinates are truncated toward zero; those outside the sensor are dropped with
    ``clip_outliers``, else clamped to its border.
    """
    var_x = check_nonnegative("spatial_jitter", "var_x", var_x)
    var_y = check_nonnegative("spatial_jitter", "var_y", var_y)
    sigma_xy = _number("spatial_jitter", "sigma_xy", sigma_xy)
    if sigma_xy * sigma_xy > var_x * var_y:
        raise ConfigError(f"spatial_jitter: expected sigma_xy**2 <= var_x * var_y. Got sigma_xy={sigma_xy!r} instead.")
    size = SensorSize.parse(sensor_size)
    # (dx, dy) = L z with L the Cholesky factor of the covariance and z standard normal
    a = math.sqrt(var_x)
    b = sigma_xy / a if a > 0 else 0.0
    c = math.sqrt(max(var_y - b * b, 0.0))
    z = rng.standard_normal((2, len(events)))
    x = np.trunc(events["x"] + a * z[0])
    y = np.trunc(events["y"] + (b * z[0] + c * z[1]))
    out = events.copy()
    if clip_outliers:
        keep = (x >= 0) & (x < size.width) & (y >= 0) & (y < size.height)
        out, x, y = out[keep], x[keep], y[keep]
    out["x"] = np.clip(x, 0, size.width - 1)
    out["y"] = np.clip(y, 0, size.height - 1)
    return out


def time_jitter(events: Events, std: float, rng: np.random.Generator, clip_negative: bool = True) -> Events:
    """Add a Gaussian shift of ``std`` µs to each timestamp (truncated), drop ``t < 0`` with
    ``clip_negative``, then sort stably."""
    std = check_nonnegative("time_jitter", "std", std)
    t = (events["t"] + rng.normal(0.0, std, len(events))).astype(np.int64)
    order = np.argsort(t, kind="stable")
    t = t[order]
    first = int(np.searchsorted(t, 0)) if clip_negative else 0
    out = _take(events, order[first:])
    out["t"] = t[first:]
    return out


def uniform_noise(events: Events, sensor_size: SensorSize | Sequence[int], n: int, rng: np.random.Generator) -> Events:
    """Add ``n`` events uniform over the sensor's pixels and polarities and over ``[t_min, t_max)``.

    Events without any are returned unchanged (there is no time range to fill), as in tonic.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ConfigError(f"uniform_noise: expected n as an integer >= 0. Got {n!r} instead.")
    size = SensorSize.parse(sensor_size)
    if not len(events):
        return events.copy()
    noise = np.zeros(int(n), dtype=events.dtype)
    t = events["t"]
    noise["t"] = rng.uniform(float(t.min()), float(t.max()), n)
    noise["x"] = rng.uniform(0, size.width, n)
    noise["y"] = rng.uniform(0, size.height, n)
    noise["p"] = rng.uniform(0, size.polarities, n)
    both = np.concatenate([events, noise])
    return _take(both, np.argsort(both["t"], kind="stable"))
