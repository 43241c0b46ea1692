"""Hypothesis strategies for reader round-trips: sorted events inside one format's value ranges."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from eventpipe.events import Events, make_events


@st.composite
def sorted_events(
    draw: st.DrawFn, *, t_max: int, x_max: int, y_max: int, max_size: int = 200, t_min: int = 0
) -> Events:
    """Events with ``t`` sorted in ``[t_min, t_max]`` (µs), ``x <= x_max``, ``y <= y_max``, ``p`` in {0, 1}."""
    n = draw(st.integers(0, max_size))
    col = lambda lo, hi: hnp.arrays(np.int64, n, elements=st.integers(lo, hi))  # noqa: E731
    t = np.sort(draw(col(t_min, t_max)))
    return make_events(t, draw(col(0, x_max)), draw(col(0, y_max)), draw(col(0, 1)))


HOSTILE_SECONDS = (1e30, -1.0, -1e-7, 9.3e12, 2.0**63 / 1e6, float("nan"), float("inf"), float("-inf"))
"""Spike times (s) that a plain cast to int64 µs wraps, truncates or turns negative."""


def hostile_seconds() -> st.SearchStrategy[float]:
    """Times in seconds as a damaged file may hold them: mostly plausible, sometimes anything a float can be."""
    return st.one_of(st.floats(0, 10), st.sampled_from(HOSTILE_SECONDS), st.floats(width=32))


@st.composite
def time_columns(draw: st.DrawFn, *, max_size: int = 30) -> np.ndarray:
    """An unsorted ``t`` column as a file may store it: int64 µs of any sign, or float64 µs of any value."""
    n = draw(st.integers(0, max_size))
    if draw(st.booleans()):
        return draw(hnp.arrays(np.int64, n, elements=st.integers(-(1 << 40), 1 << 62)))
    plausible = st.integers(0, 1 << 40).map(float)
    anything = st.floats(allow_nan=True, allow_infinity=True)
    return draw(hnp.arrays(np.float64, n, elements=st.one_of(plausible, st.sampled_from([-1.0, 2.0**63]), anything)))
