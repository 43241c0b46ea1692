"""``integrate``: kernels against the NumPy oracles, hand-computed golden frames, dtypes and errors."""

from __future__ import annotations

import numpy as np
import pytest
from frames_strategies import hot_samples, samples
from hypothesis import given, settings
from hypothesis import strategies as st
from tonic.functional import to_frame_numpy

from eventpipe.errors import ConfigError, EventValidationError
from eventpipe.events import EVENT_DTYPE, SensorSize, make_events
from eventpipe.frames import IntegrationSpec, integrate, reference
from eventpipe.frames.accumulate import smallest_uint

S44 = SensorSize(4, 4, 2)
# Six events on a 4x4 sensor: t (µs), x, y, p.
GOLDEN = make_events(
    t=[0, 10, 20, 30, 40, 50],
    x=[0, 1, 1, 3, 2, 1],
    y=[0, 0, 0, 2, 3, 0],
    p=[1, 0, 0, 1, 1, 0],
)
Z = [0, 0, 0, 0]


def check_against(frames: np.ndarray, expected: np.ndarray) -> None:
    assert frames.shape == expected.shape
    assert frames.dtype == smallest_uint(int(expected.max()) if expected.size else 0)
    np.testing.assert_array_equal(frames, expected)


class TestGolden:
    def test_frames_number(self) -> None:
        # di = 6 // 2 = 3: events 0-2 in frame 0, events 3-5 in frame 1.
        expected = np.array(
            [
                [[[0, 2, 0, 0], Z, Z, Z], [[1, 0, 0, 0], Z, Z, Z]],
                [[[0, 1, 0, 0], Z, Z, Z], [Z, Z, [0, 0, 0, 1], [0, 0, 1, 0]]],
            ]
        )
        check_against(integrate(GOLDEN, S44, frames=2), expected)

    def test_frames_time(self) -> None:
        # dt = 50 // 4 = 12 µs: [0,12) {0,1}, [12,24) {2}, [24,36) {3}, [36, end] {4,5}.
        expected = np.array(
            [
                [[[0, 1, 0, 0], Z, Z, Z], [[1, 0, 0, 0], Z, Z, Z]],
                [[[0, 1, 0, 0], Z, Z, Z], [Z, Z, Z, Z]],
                [[Z, Z, Z, Z], [Z, Z, [0, 0, 0, 1], Z]],
                [[[0, 1, 0, 0], Z, Z, Z], [Z, Z, Z, [0, 0, 1, 0]]],
            ]
        )
        check_against(integrate(GOLDEN, S44, frames=4, split_by="time"), expected)

    def test_duration(self) -> None:
        # D = 20 µs: M = ceil(50 / 20) = 3; t' // 20 = [0, 0, 1, 1, 2, 2].
        expected = np.array(
            [
                [[[0, 1, 0, 0], Z, Z, Z], [[1, 0, 0, 0], Z, Z, Z]],
                [[[0, 1, 0, 0], Z, Z, Z], [Z, Z, [0, 0, 0, 1], Z]],
                [[[0, 1, 0, 0], Z, Z, Z], [Z, Z, Z, [0, 0, 1, 0]]],
            ]
        )
        check_against(integrate(GOLDEN, S44, duration_us=20), expected)

    def test_events_per_frame(self) -> None:
        # K = 4: events 0-3, then the partial group 4-5.
        expected = np.array(
            [
                [[[0, 2, 0, 0], Z, Z, Z], [[1, 0, 0, 0], Z, [0, 0, 0, 1], Z]],
                [[[0, 1, 0, 0], Z, Z, Z], [Z, Z, Z, [0, 0, 1, 0]]],
            ]
        )
        check_against(integrate(GOLDEN, S44, events_per_frame=4), expected)
        check_against(integrate(GOLDEN, S44, events_per_frame=4, drop_incomplete=True), expected[:1])

    def test_one_polarity_sensor_counts_all_in_channel_0(self) -> None:
        # K = 5: events 0-4, then event 5; both polarities share channel 0.
        expected = np.array([[[[1, 2, 0, 0], Z, [0, 0, 0, 1], [0, 0, 1, 0]]], [[[0, 1, 0, 0], Z, Z, Z]]])
        check_against(integrate(GOLDEN, (4, 4, 1), events_per_frame=5), expected)


MODES = {
    "number": (lambda ev, s, a: integrate(ev, s, frames=a), reference.number, st.integers(1, 12)),
    "time": (lambda ev, s, a: integrate(ev, s, frames=a, split_by="time"), reference.time, st.integers(1, 12)),
    "duration": (lambda ev, s, a: integrate(ev, s, duration_us=a), reference.duration, st.integers(1, 600)),
    "events_per_frame": (lambda ev, s, a: integrate(ev, s, events_per_frame=a), reference.events_per_frame,
                         st.integers(1, 40)),
    "n_time_bins": (lambda ev, s, a: integrate(ev, s, n_time_bins=a), reference.n_time_bins, st.integers(1, 12)),
    "event_count": (lambda ev, s, a: integrate(ev, s, event_count=a), reference.event_count, st.integers(1, 40)),
    "time_window": (lambda ev, s, a: integrate(ev, s, time_window=a), reference.time_window, st.integers(1, 600)),
}


@pytest.mark.parametrize("mode", sorted(MODES))
@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_kernel_matches_reference(mode: str, data: st.DataObject) -> None:
    ours, oracle, arg = MODES[mode]
    events, size = data.draw(samples())
    a = data.draw(arg)
    check_against(ours(events, size, a), oracle(events, size, a))


@given(samples(), st.integers(1, 30), st.integers(0, 29), st.booleans(), st.sampled_from([0.0, 0.25, 0.5]))
@settings(max_examples=80, deadline=None)
def test_overlapping_tonic_windows_match_reference(sample, k: int, overlap: int, incl: bool, frac: float) -> None:
    events, size = sample
    overlap %= k
    check_against(
        integrate(events, size, event_count=k, overlap=overlap, include_incomplete=incl),
        reference.event_count(events, size, k, overlap, incl),
    )
    check_against(
        integrate(events, size, time_window=k * 10, overlap=overlap * 10, include_incomplete=incl),
        reference.time_window(events, size, k * 10, overlap * 10, incl),
    )
    check_against(integrate(events, size, n_time_bins=3, overlap=frac), reference.n_time_bins(events, size, 3, frac))


@given(samples(), st.integers(1, 8), st.integers(1, 300))
@settings(max_examples=60, deadline=None)
def test_tonic_to_frame_agrees(sample, bins: int, window: int) -> None:
    events, size = sample
    if not len(events) or size.polarities != 2:  # tonic fails without events; P=1 rules differ
        return
    tonic_events = events.copy()
    for kwargs in ({"n_time_bins": bins}, {"event_count": bins * 3}, {"time_window": window}):
        ours = integrate(events, size, **kwargs)
        np.testing.assert_array_equal(ours, to_frame_numpy(tonic_events, tuple(size), **kwargs))


class TestEdgeCases:
    empty = np.zeros(0, dtype=EVENT_DTYPE)

    @pytest.mark.parametrize(
        ("kwargs", "frames"),
        [
            ({"frames": 3}, 3),
            ({"frames": 3, "split_by": "time"}, 3),
            ({"duration_us": 10}, 1),
            ({"events_per_frame": 5}, 1),
            ({"events_per_frame": 5, "drop_incomplete": True}, 0),
            ({"n_time_bins": 4}, 4),
            ({"event_count": 5}, 1),
            ({"time_window": 10}, 1),
        ],
    )
    def test_no_events_gives_empty_frames(self, kwargs: dict, frames: int) -> None:
        out = integrate(self.empty, S44, **kwargs)
        assert out.shape == (frames, 2, 4, 4) and out.dtype == np.uint8 and not out.any()

    def test_fewer_events_than_frames(self) -> None:
        out = integrate(GOLDEN[:2], S44, frames=5)
        assert out[:4].sum() == 0 and out[4].sum() == 2

    def test_all_events_at_one_timestamp(self) -> None:
        ev = GOLDEN.copy()
        ev["t"] = 42
        for kwargs in ({"frames": 3, "split_by": "time"}, {"duration_us": 7}):
            out = integrate(ev, S44, **kwargs)
            assert out[-1].sum() == 6 and out[:-1].sum() == 0

    def test_empty_time_window_is_empty_frame(self) -> None:
        ev = make_events(t=[0, 1, 98, 99, 100], x=[0] * 5, y=[0] * 5, p=[1] * 5)
        out = integrate(ev, S44, frames=4, split_by="time")  # dt = 25: windows 2 and 3 hold nothing before t=98
        assert out.reshape(4, -1).sum(axis=1).tolist() == [2, 0, 0, 3]

    def test_counts_never_wrap(self) -> None:
        for n, dtype in ((255, np.uint8), (256, np.uint16), (70_000, np.uint32)):
            ev = make_events(t=np.arange(n), x=np.full(n, 3), y=np.full(n, 2), p=np.ones(n))
            out = integrate(ev, S44, frames=1)
            assert out.dtype == dtype and int(out[0, 1, 2, 3]) == n

    def test_dict_and_tonic_inputs(self) -> None:
        expected = integrate(GOLDEN, S44, frames=2)
        sj = {k: np.asarray(GOLDEN[k], dtype=np.int64) for k in "txyp"}
        np.testing.assert_array_equal(integrate(sj, S44, frames=2), expected)
        tonic_dtype = np.dtype([("x", np.int16), ("y", np.int16), ("t", np.int64), ("p", bool)])
        tev = np.empty(6, dtype=tonic_dtype)
        for k in "txyp":
            tev[k] = GOLDEN[k]
        np.testing.assert_array_equal(integrate(tev, S44, frames=2), expected)


class TestErrors:
    def test_out_of_sensor_names_sample_index_and_value(self) -> None:
        ev = GOLDEN.copy()
        ev["x"][4] = 4
        with pytest.raises(EventValidationError, match=r"sample train\[7\].*x\[4\] = 4.*\[0, 3\]"):
            IntegrationSpec(frames=2)(ev, S44, sample="train[7]")

    @pytest.mark.parametrize("kwargs", [{"frames": 2}, {"duration_us": 10}, {"n_time_bins": 2, "overlap": 0.5}])
    def test_y_out_of_sensor_in_every_path(self, kwargs: dict) -> None:
        ev = GOLDEN.copy()
        ev["y"][5] = 9
        with pytest.raises(EventValidationError, match=r"y\[5\] = 9"):
            integrate(ev, S44, **kwargs)

    def test_negative_coordinate_in_foreign_dtype(self) -> None:
        with pytest.raises(EventValidationError, match=r"x\[1\] = -1"):
            integrate({"t": [0, 1], "x": [0, -1], "y": [0, 0], "p": [0, 1]}, S44, frames=1)

    @pytest.mark.parametrize("kwargs", [{"frames": 2}, {"frames": 2, "split_by": "time"}, {"time_window": 5, "overlap": 2}])
    def test_unsorted_t_rejected(self, kwargs: dict) -> None:
        ev = GOLDEN.copy()
        ev["t"][3] = 5
        with pytest.raises(EventValidationError, match=r"not sorted: t\[3\] = 5 < t\[2\] = 20"):
            integrate(ev, S44, **kwargs)

    @pytest.mark.parametrize(
        ("kwargs", "pattern"),
        [
            ({}, "exactly one of frames, duration_us.*Got none"),
            ({"frames": 2, "duration_us": 5}, "Got frames, duration_us"),
            ({"frames": 2, "split_by": "tme"}, r"Unknown value 'tme' for argument split_by. Valid values are \{'number', 'time'\}"),
            ({"frames": 0}, "positive integer for frames. Got 0"),
            ({"duration_us": 2.5}, "positive integer for duration_us. Got 2.5"),
            ({"duration_us": 5, "split_by": "time"}, "split_by applies only with frames"),
            ({"frames": 5, "drop_incomplete": True}, "drop_incomplete applies only with events_per_frame"),
            ({"n_time_bins": 5, "overlap": 1.0}, r"overlap .* in \[0, 1\)"),
            ({"event_count": 5, "overlap": 5}, r"overlap in \[0, event_count\)"),
        ],
    )
    def test_bad_arguments_named(self, kwargs: dict, pattern: str) -> None:
        with pytest.raises(ConfigError, match=pattern):
            integrate(GOLDEN, S44, **kwargs)

    def test_bad_sensor(self) -> None:
        with pytest.raises(ConfigError, match="polarities in"):
            integrate(GOLDEN, (4, 4, 3), frames=1)
        with pytest.raises(ConfigError, match="sensor_size"):
            integrate(GOLDEN, (4, 4), frames=1)

    def test_not_events(self) -> None:
        with pytest.raises(EventValidationError, match="structured array"):
            integrate(np.zeros((3, 4)), S44, frames=1)


@given(hot_samples(), st.integers(1, 6), st.sampled_from([0.0, 0.5]))
@settings(max_examples=40, deadline=None)
def test_counts_past_255_resume_in_wider_dtype(sample, m: int, overlap: float) -> None:
    events, size = sample
    check_against(integrate(events, size, frames=m), reference.number(events, size, m))
    check_against(integrate(events, size, frames=m, split_by="time"), reference.time(events, size, m))
    check_against(integrate(events, size, events_per_frame=700), reference.events_per_frame(events, size, 700))
    check_against(integrate(events, size, n_time_bins=m, overlap=overlap), reference.n_time_bins(events, size, m, overlap))
