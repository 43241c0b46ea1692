"""SpikingJelly 0.0.0.0.14's fixed-duration rule (windows open at the next event), exactly."""

from __future__ import annotations

import numpy as np
from frames_strategies import samples
from hypothesis import given, settings
from hypothesis import strategies as st

from eventpipe.events import SensorSize, make_events
from eventpipe.frames import reference, slicing
from eventpipe.frames.accumulate import accumulate


def sj14_bounds(t: np.ndarray, duration: int) -> list[tuple[int, int]]:
    """The loop of that version's ``integrate_events_by_fixed_duration``, restated on indices."""
    n, left, right, out = len(t), 0, 0, []
    while True:
        t_l = t[left]
        while not (right == n or t[right] - t_l > duration):
            right += 1
        out.append((left, right))
        left = right
        if right == n:
            return out


def frames(events: np.ndarray, size: SensorSize, duration: int) -> np.ndarray:
    return accumulate(events, size, *slicing.by_duration_next_event(events["t"], duration)).astype(np.int64)


@settings(max_examples=60, deadline=None)
@given(samples(), st.integers(1, 600))
def test_frames_equal_reference(sample: tuple[np.ndarray, SensorSize], duration: int) -> None:
    events, size = sample
    np.testing.assert_array_equal(frames(events, size, duration), reference.duration_next_event(events, size, duration))


@settings(max_examples=60, deadline=None)
@given(samples(), st.integers(1, 600))
def test_bounds_equal_spikingjelly_loop(sample: tuple[np.ndarray, SensorSize], duration: int) -> None:
    t = sample[0]["t"]
    got = list(zip(*(a.tolist() for a in slicing.by_duration_next_event(t, duration)), strict=True))
    assert got == (sj14_bounds(t, duration) if len(t) else [(0, 0)])


def test_gap_opens_window_at_next_event_and_end_is_inclusive() -> None:
    # Windows [0, 10], then a 1000 µs silence (no empty frames), then [1010, 1020] and a remainder.
    ev = make_events(t=[0, 5, 10, 11, 1010, 1020, 1021], x=[0] * 7, y=[0] * 7, p=[1] * 7)
    starts, stops = slicing.by_duration_next_event(ev["t"], 10)
    assert starts.tolist() == [0, 3, 4, 6] and stops.tolist() == [3, 4, 6, 7]
    aligned = slicing.by_duration(ev["t"], 10)
    assert len(aligned[0]) == 103  # the aligned rule keeps the silence as empty frames


def test_edge_cases() -> None:
    size = SensorSize(2, 2, 2)
    empty = make_events([], [], [], [])
    assert frames(empty, size, 5).shape == (1, 2, 2, 2) and not frames(empty, size, 5).any()
    one = make_events([7], [1], [1], [0])
    assert frames(one, size, 5).sum() == 1
    tie = make_events([3] * 4, [0, 1, 0, 1], [0, 0, 1, 1], [1, 0, 1, 0])
    assert frames(tie, size, 1).shape == (1, 2, 2, 2)
