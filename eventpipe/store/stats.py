"""Summaries for ``eventpipe info``: of an events store (from its index, no event read), of an images store
(from its index, no image read) and of one recording.

>>> from eventpipe.events import make_events
>>> s = events_summary(make_events([0, 500_000, 1_000_000], [1, 5, 9], [2, 2, 7], [1, 0, 1]))
>>> s["events"], s["duration_us"], s["rate_ev_per_s"], s["x_range"], s["on_fraction"]
(3, 1000000, 3.0, [1, 9], 0.667)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from eventpipe.events import Events
from eventpipe.store.events.reader import EventsStore
from eventpipe.store.images.reader import ImagesStore
from eventpipe.store.location import StoreLike, normalize, size_on_disk

PEAK_WINDOW_US = 10_000
"""Window of the peak event rate: the most events in any 10 ms bin, per second.

The whole recording counts as one more window, so the peak is never below the mean: the mean divides
``n`` events by the span from the first to the last (``n - 1`` gaps), and a recording shorter than
10 ms has no full bin, so the bins alone can report a peak below the mean."""


def _spread(values: np.ndarray) -> dict[str, float | int | None]:
    if not len(values):
        return {"min": None, "median": None, "max": None}
    return {"min": int(values.min()), "median": float(np.median(values)), "max": int(values.max())}


def events_summary(events: Events) -> dict[str, Any]:
    """Count, time span, mean and peak rate, ON fraction and coordinate extent of one recording's events."""
    n = len(events)
    if not n:
        return {"events": 0, "t_range_us": None, "duration_us": 0, "rate_ev_per_s": 0.0,
                "peak_rate_ev_per_s": 0.0, "peak_window_us": None, "x_range": None, "y_range": None,
                "polarities": [], "on_fraction": None}
    t = events["t"]
    duration = int(t.max() - t.min())
    mean = n * 1e6 / duration if duration else None
    binned = float(np.bincount((t - t.min()) // PEAK_WINDOW_US).max()) * 1e6 / PEAK_WINDOW_US
    whole = mean is not None and mean > binned  # a short burst: its whole span's rate is the peak
    peak = mean if mean is not None and whole else binned
    return {
        "events": n,
        "t_range_us": [int(t.min()), int(t.max())],
        "duration_us": duration,
        "rate_ev_per_s": round(mean, 3) if mean is not None else None,
        "peak_rate_ev_per_s": round(peak, 3),
        "peak_window_us": duration if whole else PEAK_WINDOW_US,
        "x_range": [int(events["x"].min()), int(events["x"].max())],
        "y_range": [int(events["y"].min()), int(events["y"].max())],
        "polarities": sorted(int(v) for v in np.unique(events["p"])),
        "on_fraction": round(float(np.count_nonzero(events["p"])) / n, 3),
    }


def store_summary(location: StoreLike) -> dict[str, Any]:
    """Per split: samples, events per sample and durations (min/median/max), class histogram; plus
    store size on disk, bytes per event, skipped files and fingerprint. Reads only the index arrays."""
    store = EventsStore.open(location)
    splits = {}
    total_events = 0
    for name in store.splits:
        split = store.split(name)
        counts = np.diff(split.offsets)
        total_events += int(counts.sum())
        hist = np.bincount(split.labels, minlength=len(store.classes)) if len(split) else np.zeros(
            len(store.classes), np.int64)
        splits[name] = {
            "samples": len(split),
            "events": int(counts.sum()),
            "events_per_sample": _spread(counts),
            "duration_us": _spread(split.durations_us),
            "class_histogram": {c: int(k) for c, k in zip(store.classes, hist, strict=True)},
        }
    nbytes = size_on_disk(normalize(location))
    return {
        "dataset": store.dataset,
        "store": store.location,
        "sensor": list(store.sensor),
        "classes": list(store.classes),
        "splits": splits,
        "events": total_events,
        "bytes_on_disk": nbytes,
        "bytes_per_event": round(nbytes / total_events, 3) if total_events else None,
        "sources": store.attrs.get("sources", {}),
        "skipped": store.skipped,
        "options": store.attrs.get("options", {}),
        "fingerprint": store.fingerprint,
    }


def images_summary(location: StoreLike) -> dict[str, Any]:
    """Per split: images and class histogram; plus image shape ``[C, H, W]``, classes, size on disk, raw
    files and fingerprint of a static dataset's images store. Reads only the labels."""
    store = ImagesStore.open(location)
    splits = {}
    for name in store.splits:
        labels = store.split(name).labels
        hist = np.bincount(labels, minlength=len(store.classes))
        splits[name] = {"samples": len(labels),
                        "class_histogram": {c: int(k) for c, k in zip(store.classes, hist, strict=True)}}
    return {
        "dataset": store.dataset,
        "store": store.location,
        "shape": list(store.shape),
        "classes": list(store.classes),
        "splits": splits,
        "images": sum(s["samples"] for s in splits.values()),
        "bytes_on_disk": size_on_disk(normalize(location)),
        "sources": store.attrs.get("sources", []),
        "fingerprint": store.attrs.get("fingerprint"),
    }
