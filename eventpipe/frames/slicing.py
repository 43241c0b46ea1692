"""Where each frame starts and stops: pure index math over a sample's sorted timestamps.

Every function returns ``(starts, stops)``, two int64 arrays of length T: frame ``f`` holds the events
``starts[f] <= i < stops[f]``. Nothing here looks at coordinates or allocates frames; the kernels in
:mod:`eventpipe.frames.kernels` do the accumulation. Timestamps are in µs and must be sorted
(non-decreasing); the integration wrapper rejects unsorted input.

The SpikingJelly-compatible modes follow DESIGN.md §4; the tonic-compatible ones reproduce
``tonic.slicers`` (``SliceByTimeBins``, ``SliceByEventCount``, ``SliceByTime``) including their float
arithmetic, and define the cases where tonic fails (no events) as empty frames.

>>> by_number(10, 3)
(array([0, 3, 6]), array([ 3,  6, 10]))
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from eventpipe.frames.kernels import searchsorted_left

Slices = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]
"""``(starts, stops)``: event index ranges ``[starts[f], stops[f])`` of each frame ``f``."""


def _search(t: npt.NDArray[np.int64], values: np.ndarray) -> npt.NDArray[np.int64]:
    """Left insertion points of ``values`` in sorted ``t`` (which may be a strided field view)."""
    return np.asarray(searchsorted_left(t, np.ascontiguousarray(values)), dtype=np.int64)


def _empty(n_frames: int) -> Slices:
    z = np.zeros(n_frames, dtype=np.int64)
    return z, z.copy()


def by_number(n_events: int, n_frames: int) -> Slices:
    """``split_by="number"``: ``di = N // M`` events per frame, the remainder goes to the last frame.

    With ``N < M`` every frame but the last is empty and the last holds all events.
    """
    di = n_events // n_frames
    starts = np.arange(n_frames, dtype=np.int64) * di
    stops = starts + di
    stops[-1] = n_events
    return starts, stops


def by_time(t: npt.NDArray[np.int64], n_frames: int) -> Slices:
    """``split_by="time"``: ``dt = (t[N-1] - t[0]) // M`` µs per frame, the last frame runs to ``N``.

    Frame ``i`` holds ``t0 + i*dt <= t < t0 + (i+1)*dt``. An empty window gives an empty frame; when
    ``dt == 0`` (span shorter than ``M`` µs) all events land in the last frame.
    """
    n = len(t)
    if n == 0:
        return _empty(n_frames)
    t0 = int(t[0])
    dt = (int(t[-1]) - t0) // n_frames
    edges = t0 + dt * np.arange(n_frames + 1, dtype=np.int64)
    bounds = _search(t, edges)
    starts, stops = bounds[:-1], bounds[1:].copy()
    stops[-1] = n
    return starts, stops


def duration_frame_count(t: npt.NDArray[np.int64], duration_us: int) -> int:
    """Number of frames of a fixed-duration integration: ``ceil((t[N-1] - t[0]) / D)``, at least 1."""
    if len(t) == 0:
        return 1
    span = int(t[-1]) - int(t[0])
    return max(1, -(-span // duration_us))


def by_duration(t: npt.NDArray[np.int64], duration_us: int) -> Slices:
    """Fixed duration ``D`` µs: frame ``i`` holds ``(t - t[0]) // D == i``; the last frame runs to ``N``.

    The last frame also takes the events at exactly ``t[0] + M*D`` (SpikingJelly's rule). A sample
    without events, or with all events at one timestamp, gives one frame.
    """
    n = len(t)
    m = duration_frame_count(t, duration_us)
    if n == 0:
        return _empty(m)
    edges = int(t[0]) + duration_us * np.arange(m, dtype=np.int64)
    starts = _search(t, edges)
    stops = np.empty(m, dtype=np.int64)
    stops[:-1] = starts[1:]
    stops[-1] = n
    return starts, stops


@njit(nogil=True, cache=False)
def _next_event_starts(t, duration_us, starts):
    """Fill ``starts`` with each window's first event; return the window count."""
    n = len(t)
    m = 0
    left = 0
    right = 0
    while left < n:
        starts[m] = left
        m += 1
        limit = t[left] + duration_us
        while right < n and t[right] <= limit:
            right += 1
        left = right
    return m


def by_duration_next_event(t: npt.NDArray[np.int64], duration_us: int) -> Slices:
    """SpikingJelly 0.0.0.0.14's fixed duration: each window starts at the next event not yet taken.

    A window opened by the event at ``t_l`` holds every following event with ``t - t_l <= D``
    (both ends inclusive, as in that version's ``integrate_events_by_fixed_duration``); the next
    window opens at the first event after it. A silence longer than ``D`` therefore gives no empty
    frame, and the last frame is whatever remains. A sample without events gives one empty frame
    (where that version fails).
    """
    n = len(t)
    if n == 0:
        return _empty(1)
    starts = np.empty(n, dtype=np.int64)
    m = _next_event_starts(t, np.int64(duration_us), starts)
    starts = starts[:m].copy()
    stops = np.empty(m, dtype=np.int64)
    stops[:-1] = starts[1:]
    stops[-1] = n
    return starts, stops


def by_events_per_frame(n_events: int, events_per_frame: int, drop_incomplete: bool = False) -> Slices:
    """Consecutive groups of ``K`` events; the final partial group is a frame unless ``drop_incomplete``.

    Without ``drop_incomplete`` there is at least one frame (empty for a sample without events).
    """
    m = n_events // events_per_frame if drop_incomplete else max(1, -(-n_events // events_per_frame))
    starts = np.arange(m, dtype=np.int64) * events_per_frame
    stops = np.minimum(starts + events_per_frame, n_events)
    return starts, stops


def by_time_bins(t: npt.NDArray[np.int64], n_time_bins: int, overlap: float = 0.0) -> Slices:
    """tonic's ``n_time_bins``: windows of ``(t[N-1] - t[0]) // bins * (1 + overlap)`` µs.

    Windows start every ``window * (1 - overlap)`` µs from ``t[0]`` and are half-open, so events at
    the very end of the sample may fall outside every window, as in tonic.
    """
    n = len(t)
    if n == 0:
        return _empty(n_time_bins)
    window = (t[-1] - t[0]) // n_time_bins * (1 + overlap)
    stride = window * (1 - overlap)
    begin = np.arange(n_time_bins) * stride + t[0]
    end = begin + window
    return _search(t, begin), _search(t, end)


def by_event_count(
    n_events: int, event_count: int, overlap: int = 0, include_incomplete: bool = False
) -> Slices:
    """tonic's ``event_count``: windows of ``min(K, N)`` events starting every ``K - overlap`` events.

    A sample with fewer than ``K`` events gives one frame holding all of them (as in tonic).
    """
    count = min(event_count, n_events)
    stride = event_count - overlap
    if include_incomplete:
        m = int(np.ceil((n_events - count) / stride) + 1)
    else:
        m = int(np.floor((n_events - count) / stride) + 1)
    starts = np.arange(m, dtype=np.int64) * stride
    stops = starts + count
    return np.minimum(starts, n_events), np.minimum(stops, n_events)


def by_time_window(
    t: npt.NDArray[np.int64], time_window: float, overlap: float = 0.0, include_incomplete: bool = False
) -> Slices:
    """tonic's ``time_window``: windows of ``time_window`` µs starting every ``time_window - overlap`` µs.

    At least one frame; a sample without events gives one empty frame (tonic fails there).
    """
    n = len(t)
    if n == 0:
        return _empty(1)
    stride = time_window - overlap
    duration = t[-1] - t[0]
    if include_incomplete:
        m = int(np.ceil((duration - time_window) / stride) + 1)
    else:
        m = int(np.floor((duration - time_window) / stride) + 1)
    m = max(m, 1)
    begin = np.arange(m) * stride + t[0]
    end = begin + time_window
    return _search(t, begin), _search(t, end)


def is_disjoint(starts: npt.NDArray[np.int64], stops: npt.NDArray[np.int64]) -> bool:
    """True when the frames are ordered, non-overlapping ranges (one pass over the events suffices)."""
    if not len(starts):
        return True
    return bool(np.all(starts <= stops) and np.all(starts[1:] >= stops[:-1]))
