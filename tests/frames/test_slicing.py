"""Frame boundaries: SpikingJelly's documented number/time/duration rules and tonic's slicers, exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest
from frames_strategies import samples
from hypothesis import given, settings
from hypothesis import strategies as st
from tonic.slicers import SliceByEventCount, SliceByTime, SliceByTimeBins

from eventpipe.frames import slicing


def pairs(slices: slicing.Slices) -> list[tuple[int, int]]:
    return [(int(a), int(b)) for a, b in zip(*slices, strict=True)]


# --- SpikingJelly's formulas, restated from their documentation (cal_fixed_frames_number_segment_index,
# integrate_events_by_fixed_duration); None where SpikingJelly raises IndexError (an empty time bin).


def sj_number(n: int, m: int) -> list[tuple[int, int]]:
    di = n // m
    return [(j * di, di * (j + 1) if j < m - 1 else n) for j in range(m)]


def sj_time(t: np.ndarray, m: int) -> list[tuple[int, int]] | None:
    dt = (int(t[-1]) - int(t[0])) // m
    out = []
    for j in range(m):
        lo = int(t[0]) + dt * j
        idx = np.flatnonzero((t >= lo) & (t < lo + dt))
        if not len(idx):
            return None
        out.append((int(idx[0]), int(idx[-1]) + 1 if j < m - 1 else len(t)))
    return out


def sj_duration(t: np.ndarray, d: int) -> list[tuple[int, int]]:
    tp = t - t.min()
    m = int(math.ceil(tp[-1] / d))
    index = tp // d
    out, left = [], 0
    for i in range(m - 1):
        right = int(np.searchsorted(index, i + 1, side="left"))
        out.append((left, right))
        left = right
    out.append((left, len(t)))
    return out


class TestSpikingJellyNumber:
    def test_remainder_goes_to_last_frame(self) -> None:
        assert pairs(slicing.by_number(10, 3)) == [(0, 3), (3, 6), (6, 10)]

    def test_fewer_events_than_frames(self) -> None:
        assert pairs(slicing.by_number(2, 5)) == [(0, 0)] * 4 + [(0, 2)]

    def test_no_events(self) -> None:
        assert pairs(slicing.by_number(0, 3)) == [(0, 0)] * 3

    @given(st.integers(0, 500), st.integers(1, 40))
    def test_matches_documented_formula(self, n: int, m: int) -> None:
        assert pairs(slicing.by_number(n, m)) == sj_number(n, m)


class TestSpikingJellyTime:
    def test_gap_gives_empty_frame(self) -> None:
        # span 100 µs, dt = 25: [0,25) [25,50) [50,75) [75, end]; the second window has no events.
        t = np.array([0, 1, 2, 50, 51, 99, 100])
        assert pairs(slicing.by_time(t, 4)) == [(0, 3), (3, 3), (3, 5), (5, 7)]

    def test_floor_division_and_last_frame_to_end(self) -> None:
        # span 10, M = 3: dt = 3, windows [0,3) [3,6) [6, end]: t = 9 and 10 belong to the last frame.
        t = np.array([0, 2, 3, 5, 6, 9, 10])
        assert pairs(slicing.by_time(t, 3)) == [(0, 2), (2, 4), (4, 7)]

    def test_span_shorter_than_frames_puts_all_in_last(self) -> None:
        t = np.array([5, 5, 6])
        assert pairs(slicing.by_time(t, 4)) == [(0, 0)] * 3 + [(0, 3)]

    def test_single_timestamp(self) -> None:
        assert pairs(slicing.by_time(np.array([7, 7, 7]), 2)) == [(0, 0), (0, 3)]

    def test_no_events(self) -> None:
        assert pairs(slicing.by_time(np.zeros(0, dtype=np.int64), 2)) == [(0, 0), (0, 0)]

    @given(samples(), st.integers(1, 12))
    @settings(max_examples=100)
    def test_matches_documented_formula_where_defined(self, sample, m: int) -> None:
        t = sample[0]["t"]
        if not len(t):
            return
        expected = sj_time(t, m)
        if expected is not None:
            assert pairs(slicing.by_time(t, m)) == expected


class TestSpikingJellyDuration:
    t = np.array([100, 105, 130, 160, 200])

    def test_boundary_event_joins_last_frame(self) -> None:
        # t' = [0, 5, 30, 60, 100], D = 50: M = 2; t' = 100 = M*D belongs to the last frame.
        assert pairs(slicing.by_duration(self.t, 50)) == [(0, 3), (3, 5)]

    def test_frame_index_is_floor(self) -> None:
        assert pairs(slicing.by_duration(self.t, 30)) == [(0, 2), (2, 3), (3, 4), (4, 5)]

    def test_gaps_give_empty_frames(self) -> None:
        got = pairs(slicing.by_duration(self.t, 10))
        assert len(got) == 10
        assert got[0] == (0, 2) and got[3] == (2, 3) and got[6] == (3, 4) and got[9] == (4, 5)
        assert all(a == b for i, (a, b) in enumerate(got) if i not in (0, 3, 6, 9))

    def test_zero_span_gives_one_frame(self) -> None:
        assert pairs(slicing.by_duration(np.array([3, 3, 3]), 10)) == [(0, 3)]

    def test_no_events_gives_one_empty_frame(self) -> None:
        assert pairs(slicing.by_duration(np.zeros(0, dtype=np.int64), 10)) == [(0, 0)]

    @given(samples(), st.integers(1, 500))
    @settings(max_examples=100)
    def test_matches_documented_algorithm(self, sample, d: int) -> None:
        t = sample[0]["t"]
        if len(t) and t[-1] > t[0]:  # SpikingJelly makes zero frames (then fails) for a zero span
            assert pairs(slicing.by_duration(t, d)) == sj_duration(t, d)


class TestEventsPerFrame:
    def test_partial_group_kept(self) -> None:
        assert pairs(slicing.by_events_per_frame(10, 4)) == [(0, 4), (4, 8), (8, 10)]

    def test_partial_group_dropped(self) -> None:
        assert pairs(slicing.by_events_per_frame(10, 4, drop_incomplete=True)) == [(0, 4), (4, 8)]

    def test_no_events(self) -> None:
        assert pairs(slicing.by_events_per_frame(0, 4)) == [(0, 0)]
        assert pairs(slicing.by_events_per_frame(0, 4, drop_incomplete=True)) == []


class TestTonic:
    @given(samples(), st.integers(1, 12), st.sampled_from([0.0, 0.1, 0.5]))
    @settings(max_examples=100)
    def test_time_bins(self, sample, bins: int, overlap: float) -> None:
        ev = sample[0]
        if not len(ev):
            assert pairs(slicing.by_time_bins(ev["t"], bins, overlap)) == [(0, 0)] * bins
            return
        expected = SliceByTimeBins(bin_count=bins, overlap=overlap).get_slice_metadata(ev, None)
        assert pairs(slicing.by_time_bins(ev["t"], bins, overlap)) == [(int(a), int(b)) for a, b in expected]

    @given(samples(), st.integers(1, 30), st.integers(0, 29), st.booleans())
    @settings(max_examples=100)
    def test_event_count(self, sample, k: int, overlap: int, incomplete: bool) -> None:
        overlap %= k
        n = len(sample[0])
        expected = SliceByEventCount(k, overlap, incomplete).get_slice_metadata(sample[0], None)
        expected = [(min(int(a), n), min(int(b), n)) for a, b in expected]
        assert pairs(slicing.by_event_count(n, k, overlap, incomplete)) == expected

    @given(samples(), st.integers(1, 400), st.integers(0, 399), st.booleans())
    @settings(max_examples=100)
    def test_time_window(self, sample, window: int, overlap: int, incomplete: bool) -> None:
        ev = sample[0]
        overlap %= window
        got = pairs(slicing.by_time_window(ev["t"], window, overlap, incomplete))
        if not len(ev):
            assert got == [(0, 0)]
            return
        expected = SliceByTime(window, overlap, incomplete).get_slice_metadata(ev, None)
        assert got == [(int(a), int(b)) for a, b in expected]


@pytest.mark.parametrize(
    ("starts", "stops", "disjoint"),
    [([0, 3], [3, 5], True), ([0, 2], [3, 5], False), ([2], [1], False), ([], [], True), ([0, 0], [0, 4], True)],
)
def test_is_disjoint(starts: list[int], stops: list[int], disjoint: bool) -> None:
    assert slicing.is_disjoint(np.array(starts, dtype=np.int64), np.array(stops, dtype=np.int64)) is disjoint

