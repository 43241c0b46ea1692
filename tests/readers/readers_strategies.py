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
