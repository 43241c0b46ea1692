"""Slow, obviously-correct NumPy integrators: test oracles for the kernels, never used in the pipeline.

Each function restates its mode's definition directly (frame membership from boolean masks on
``t`` or on the event index, then one ``np.bincount`` per frame) without sharing code with
:mod:`~eventpipe.frames.slicing` or the kernels. Results are int64 ``[T, P, H, W]``.
Indexed ``+=`` would lose repeated pixels, hence ``bincount``.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from eventpipe.events import Events, SensorSize


def _count(events: Events, members: list[npt.NDArray[np.bool_]], size: SensorSize) -> npt.NDArray[np.int64]:
    """Frame ``f`` counts the events where ``members[f]`` is True."""
    w, h, p = size
    x = events["x"].astype(np.int64)
    y = events["y"].astype(np.int64)
    c = (events["p"] != 0).astype(np.int64) if p == 2 else np.zeros(len(events), dtype=np.int64)
    flat = (c * h + y) * w + x
    frames = np.zeros((len(members), p * h * w), dtype=np.int64)
    for f, m in enumerate(members):
        frames[f] = np.bincount(flat[m], minlength=p * h * w)
    return frames.reshape(len(members), p, h, w)


def _index_ranges(n: int, bounds: list[tuple[int, int]]) -> list[npt.NDArray[np.bool_]]:
    i = np.arange(n)
    return [(i >= lo) & (i < hi) for lo, hi in bounds]


def number(events: Events, size: SensorSize, frames: int) -> npt.NDArray[np.int64]:
    """``split_by="number"``: ``di = N // M``; frame i = events ``[i*di, (i+1)*di)``, the last to N."""
    n = len(events)
    di = n // frames
    bounds = [(i * di, (i + 1) * di if i < frames - 1 else n) for i in range(frames)]
    return _count(events, _index_ranges(n, bounds), size)


def time(events: Events, size: SensorSize, frames: int) -> npt.NDArray[np.int64]:
    """``split_by="time"``: ``dt = (t[-1] - t[0]) // M``; frame i = ``t0+i*dt <= t < t0+(i+1)*dt``, last to N."""
    t = events["t"].astype(np.int64)
    if not len(t):
        return _count(events, [np.zeros(0, dtype=bool)] * frames, size)
    t0, dt = int(t[0]), (int(t[-1]) - int(t[0])) // frames
    members = [(t >= t0 + i * dt) & (t < t0 + (i + 1) * dt) for i in range(frames - 1)]
    members.append(t >= t0 + (frames - 1) * dt)
    return _count(events, members, size)


def duration(events: Events, size: SensorSize, duration_us: int) -> npt.NDArray[np.int64]:
    """Fixed duration: ``M = max(1, ceil(t'[-1] / D))`` with ``t' = t - t[0]``; frame ``min(t' // D, M-1)``."""
    t = events["t"].astype(np.int64)
    if not len(t):
        return _count(events, [np.zeros(0, dtype=bool)], size)
    tp = t - t[0]
    m = max(1, math.ceil(int(tp[-1]) / duration_us))
    frame = np.minimum(tp // duration_us, m - 1)
    return _count(events, [frame == i for i in range(m)], size)


def duration_next_event(events: Events, size: SensorSize, duration_us: int) -> npt.NDArray[np.int64]:
    """SpikingJelly 0.0.0.0.14's rule: a window opens at the first event not yet in a frame and takes
    the events with ``t <= t_open + D``; no events -> one empty frame."""
    t = events["t"].astype(np.int64)
    if not len(t):
        return _count(events, [np.zeros(0, dtype=bool)], size)
    taken = np.zeros(len(t), dtype=bool)
    members = []
    while not taken.all():
        t_open = t[np.flatnonzero(~taken)[0]]
        m = ~taken & (t <= t_open + duration_us)
        members.append(m)
        taken |= m
    return _count(events, members, size)


def events_per_frame(events: Events, size: SensorSize, k: int, drop_incomplete: bool = False) -> npt.NDArray[np.int64]:
    """Groups of ``k`` consecutive events; the partial last group is kept unless ``drop_incomplete``."""
    n = len(events)
    m = n // k if drop_incomplete else max(1, math.ceil(n / k))
    frame = np.arange(n) // k
    return _count(events, [frame == i for i in range(m)], size)


def n_time_bins(events: Events, size: SensorSize, bins: int, overlap: float = 0.0) -> npt.NDArray[np.int64]:
    """tonic's time bins: windows of ``span // bins * (1 + overlap)`` µs, stride ``window * (1 - overlap)``."""
    t = events["t"].astype(np.int64)
    if not len(t):
        return _count(events, [np.zeros(0, dtype=bool)] * bins, size)
    window = (t[-1] - t[0]) // bins * (1 + overlap)
    stride = window * (1 - overlap)
    members = []
    for i in range(bins):
        lo = i * stride + t[0]
        members.append((t >= lo) & (t < lo + window))
    return _count(events, members, size)


def event_count(
    events: Events, size: SensorSize, k: int, overlap: int = 0, include_incomplete: bool = False
) -> npt.NDArray[np.int64]:
    """tonic's event count: windows of ``min(k, N)`` events starting every ``k - overlap`` events."""
    n = len(events)
    count, stride = min(k, n), k - overlap
    rest = (n - count) / stride
    m = (math.ceil(rest) if include_incomplete else math.floor(rest)) + 1
    return _count(events, _index_ranges(n, [(i * stride, i * stride + count) for i in range(m)]), size)


def time_window(
    events: Events, size: SensorSize, window: int, overlap: float = 0, include_incomplete: bool = False
) -> npt.NDArray[np.int64]:
    """tonic's time window: ``window`` µs windows every ``window - overlap`` µs from ``t[0]``."""
    t = events["t"].astype(np.int64)
    if not len(t):
        return _count(events, [np.zeros(0, dtype=bool)], size)
    stride = window - overlap
    rest = (int(t[-1]) - int(t[0]) - window) / stride
    m = max(1, (math.ceil(rest) if include_incomplete else math.floor(rest)) + 1)
    members = []
    for i in range(m):
        lo = i * stride + t[0]
        members.append((t >= lo) & (t < lo + window))
    return _count(events, members, size)
