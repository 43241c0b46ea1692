"""Hypothesis strategies for frame-integration tests: small sensors and sorted, bursty event streams."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from eventpipe.events import SensorSize, make_events

sensors = st.builds(
    SensorSize,
    width=st.integers(1, 6),
    height=st.integers(1, 5),
    polarities=st.sampled_from([1, 2]),
)

# Gaps between consecutive timestamps: many ties (bursts), small steps and long silences, so that
# empty time windows, equal timestamps and remainders all occur.
gaps = st.one_of(st.just(0), st.integers(0, 3), st.integers(50, 400))


@st.composite
def samples(draw: st.DrawFn, max_events: int = 120) -> tuple[np.ndarray, SensorSize]:
    """A sorted event array and its sensor; sometimes empty, sometimes all at one timestamp."""
    size = draw(sensors)
    n = draw(st.integers(0, max_events))
    t0 = draw(st.integers(0, 10**6))
    steps = draw(st.lists(gaps, min_size=n, max_size=n))
    t = t0 + np.cumsum(np.asarray(steps, dtype=np.int64)) if n else np.zeros(0, dtype=np.int64)
    x = draw(st.lists(st.integers(0, size.width - 1), min_size=n, max_size=n))
    y = draw(st.lists(st.integers(0, size.height - 1), min_size=n, max_size=n))
    p = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    return make_events(t, x, y, p), size


@st.composite
def hot_samples(draw: st.DrawFn) -> tuple[np.ndarray, SensorSize]:
    """Up to 3,000 events on a sensor of at most 2x2 pixels, so counts pass 255 (and resume in uint16)."""
    size = SensorSize(draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.sampled_from([1, 2])))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(200, 3000))
    t = np.cumsum(rng.choice([0, 0, 1, 5, 300], size=n)).astype(np.int64)
    return make_events(t, rng.integers(0, size.width, n), rng.integers(0, size.height, n), rng.integers(0, 2, n)), size
