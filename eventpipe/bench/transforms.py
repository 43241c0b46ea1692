"""Event-filter throughput: each filter of :mod:`eventpipe.transforms.filters` next to tonic's, same events.

One DVS128-Gesture-like sample (128x128, about 6 s; :func:`eventpipe.synth.gesture_like_sample`) goes
through every filter twice: eventpipe's transform and tonic's, each given the events in its own
dtype (converted once, outside the timing). Deterministic filters must give the same events as
tonic's, checked before timing. Both sides do the same work: tonic's ``TimeJitter`` is asked to
sort, as eventpipe's always does. Times are the thread's CPU time, best of ``repeat`` calls (tonic's
per-event Python loops run once).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from eventpipe.bench.readers import cpu_best_time
from eventpipe.events import Events, SensorSize

GESTURE = SensorSize(128, 128, 2)
TONIC_DTYPE = np.dtype([("x", "<i2"), ("y", "<i2"), ("p", "?"), ("t", "<i8")])
"""tonic's DVSGesture event dtype."""

TARGETS = {"denoise": 20.0, "refractory_period": 20.0}
"""Speedup over tonic that each of these filters must reach."""

SLOW_IN_TONIC = {"denoise", "refractory_period"}
"""Filters that tonic runs as a Python loop per event: timed once there."""


def to_tonic(events: Events) -> np.ndarray:
    """The same events in tonic's dtype."""
    out = np.zeros(len(events), dtype=TONIC_DTYPE)
    for f in "txyp":
        out[f] = events[f]
    return out


def filter_pairs(events: Events) -> list[tuple[str, Callable[[Events], Any], Callable[[np.ndarray], Any], bool]]:
    """``(name, eventpipe transform, tonic transform, deterministic)`` for every filter."""
    import tonic.transforms as TT

    import eventpipe.transforms as T

    t_mid = int(events["t"][len(events) // 2])
    size = tuple(GESTURE)
    return [
        ("denoise", T.Denoise(10_000), TT.Denoise(10_000), True),
        ("refractory_period", T.RefractoryPeriod(1000), TT.RefractoryPeriod(1000), True),
        ("drop_pixel (hot pixels)", T.DropPixel(hot_pixel_frequency=50), TT.DropPixel(hot_pixel_frequency=50), True),
        ("crop_time", T.CropTime(int(events["t"][0]), t_mid), TT.CropTime(int(events["t"][0]), t_mid), True),
        ("time_skew", T.TimeSkew(1.25, 100), TT.TimeSkew(1.25, 100), True),
        ("downsample", T.Downsample(0.001, 0.5), TT.Downsample(0.001, 0.5), True),
        ("drop_event", T.DropEvent(0.3), TT.DropEvent(0.3), False),
        ("drop_by_time", T.DropEventByTime(0.2), TT.DropEventByTime(0.2), False),
        ("drop_by_area", T.DropEventByArea(GESTURE, 0.2), TT.DropEventByArea(size, 0.2), False),
        ("spatial_jitter", T.SpatialJitter(GESTURE, 1, 1, 0, True), TT.SpatialJitter(size, 1, 1, 0, True), False),
        ("time_jitter", T.TimeJitter(100), TT.TimeJitter(100, sort_timestamps=True), False),
        ("uniform_noise", T.UniformNoise(GESTURE, 10_000), TT.UniformNoise(size, 10_000), False),
    ]


def _same(ours: Events, theirs: np.ndarray) -> bool:
    return len(ours) == len(theirs) and all(
        np.array_equal(ours[f].astype(np.int64), theirs[f].astype(np.int64)) for f in "txyp"
    )


def run(n_events: int = 1_000_000, repeat: int = 3, seed: int = 0) -> dict[str, Any]:
    """Time every filter on one ``n_events`` Gesture-like sample, eventpipe next to tonic.

    Returns
    -------
    A plain dict: ``events``, ``repeat`` and ``rows`` (per filter: ``filter``, ``eventpipe_ms``,
    ``tonic_ms``, ``eventpipe_M_events_per_s``, ``tonic_M_events_per_s``, ``speedup_vs_tonic``,
    ``equal_to_tonic`` (None for random filters) and ``events_out``), and ``targets``.

    Raises
    ------
    AssertionError
        A deterministic filter gave other events than tonic's.
    """
    from eventpipe.synth import gesture_like_sample

    events = gesture_like_sample(np.random.default_rng(seed), n_events, GESTURE, 6_000_000)
    theirs_in = to_tonic(events)
    warm = events[: min(len(events), 1000)]
    np.random.seed(seed)
    rows: list[dict[str, Any]] = []
    for name, ours, theirs, deterministic in filter_pairs(events):
        ours(warm)  # compile the Numba kernels outside the timing
        out = ours(events)
        equal = None
        if deterministic:
            equal = _same(out, theirs(theirs_in))
            if not equal:
                raise AssertionError(f"bench transforms: {name} differs from tonic's result")
        _, cpu_ours = cpu_best_time(lambda ours=ours: ours(events), repeat)
        _, cpu_tonic = cpu_best_time(lambda theirs=theirs: theirs(theirs_in), 1 if name in SLOW_IN_TONIC else repeat)
        rows.append({
            "filter": name,
            "eventpipe_ms": cpu_ours * 1e3,
            "tonic_ms": cpu_tonic * 1e3,
            "eventpipe_M_events_per_s": n_events / cpu_ours / 1e6,
            "tonic_M_events_per_s": n_events / cpu_tonic / 1e6,
            "speedup_vs_tonic": cpu_tonic / cpu_ours,
            "equal_to_tonic": equal,
            "events_out": len(out),
        })
    by_name = {r["filter"]: r for r in rows}
    targets = {
        f"{name} x tonic": {"value": by_name[name]["speedup_vs_tonic"], "target": goal,
                            "met": by_name[name]["speedup_vs_tonic"] >= goal}
        for name, goal in TARGETS.items()
    }
    return {"events": n_events, "repeat": repeat, "rows": rows, "targets": targets}
