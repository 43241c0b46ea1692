"""Event filters: equal to tonic's functional results (deterministic ones), right distributions (random ones)."""

from __future__ import annotations

import numpy as np
import pytest
import tonic.functional as TF
from frames_strategies import samples
from hypothesis import given, settings
from hypothesis import strategies as st

from eventpipe.errors import ConfigError
from eventpipe.events import EVENT_DTYPE, SensorSize, make_events
from eventpipe.frames import filters as F
from eventpipe.synth import gesture_like_sample

TONIC_DTYPE = np.dtype([("x", "<i2"), ("y", "<i2"), ("p", "?"), ("t", "<i8")])  # tonic's DVSGesture dtype
SIZE = SensorSize(32, 24, 2)


def to_tonic(events: np.ndarray) -> np.ndarray:
    out = np.zeros(len(events), dtype=TONIC_DTYPE)
    for f in "txyp":
        out[f] = events[f]
    return out


def assert_same(ours: np.ndarray, theirs: np.ndarray) -> None:
    assert ours.dtype == EVENT_DTYPE and len(ours) == len(theirs)
    for f in "txyp":
        np.testing.assert_array_equal(ours[f].astype(np.int64), theirs[f].astype(np.int64), err_msg=f)


@pytest.fixture(scope="module")
def events() -> np.ndarray:
    return gesture_like_sample(np.random.default_rng(3), 20_000, SIZE, 400_000)


# --- deterministic filters: exactly tonic's functional results


@pytest.mark.parametrize("filter_time", [0, 50, 1000, 20_000.5])
def test_denoise_equals_tonic(events: np.ndarray, filter_time: float) -> None:
    assert_same(F.denoise(events, filter_time), TF.denoise_numpy(to_tonic(events), filter_time))


@pytest.mark.parametrize("period", [0, 100, 5000, 250.5])
def test_refractory_period_equals_tonic(events: np.ndarray, period: float) -> None:
    assert_same(F.refractory_period(events, period), TF.refractory_period_numpy(to_tonic(events), period))


def test_time_skew_crop_and_downsample_equal_tonic(events: np.ndarray) -> None:
    import tonic.transforms as TT

    assert_same(F.time_skew(events, 1.3, -17.5), TF.time_skew_numpy(to_tonic(events), 1.3, -17.5))
    assert_same(F.crop_time(events, 1000, 300_000), TT.CropTime(1000, 300_000)(to_tonic(events)))
    assert_same(F.crop_time(events, int(events["t"][5])), TT.CropTime(int(events["t"][5]))(to_tonic(events)))
    assert_same(F.downsample(events, 0.001, 0.25), TT.Downsample(time_factor=0.001, spatial_factor=0.25)(to_tonic(events)))
    assert_same(F.downsample(events, 1, (16 / 32, 6 / 24)),
                TT.Downsample(sensor_size=tuple(SIZE), target_size=(16, 6))(to_tonic(events)))


def test_drop_pixel_equals_tonic(events: np.ndarray) -> None:
    coords = [(0, 0), (5, 7), (31, 23), (40, 40)]
    assert_same(F.drop_pixel(events, coords), TF.drop_pixel_numpy(to_tonic(events), coords))
    for hz in (50, 400):
        hot = F.hot_pixels(events, hz)
        assert sorted(map(tuple, hot.tolist())) == sorted(map(tuple, TF.identify_hot_pixel(to_tonic(events), hz).tolist()))
        assert_same(F.drop_pixel(events, hot), TF.drop_pixel_numpy(to_tonic(events), hot))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_drop_by_time_and_area_equal_tonic_for_the_same_window(events: np.ndarray, seed: int) -> None:
    t_end = float(events["t"].max())
    np.random.seed(seed)
    theirs = TF.drop_by_time_numpy(to_tonic(events), 0.3)
    np.random.seed(seed)
    start = np.random.uniform(0.0, t_end - t_end * 0.3)
    assert_same(F.drop_time_window(events, start, start + t_end * 0.3), theirs)

    np.random.seed(seed)
    theirs = TF.drop_by_area_numpy(to_tonic(events), tuple(SIZE), 0.4)
    np.random.seed(seed)
    cut_w, cut_h = int(SIZE.width * 0.4), int(SIZE.height * 0.4)
    x0, y0 = np.random.randint(0, SIZE.width - cut_w), np.random.randint(0, SIZE.height - cut_h)
    assert_same(F.drop_box(events, x0, y0, x0 + cut_w - 1, y0 + cut_h - 1), theirs)


# --- denoise and refractory period against a slow restatement of their definitions


def slow_denoise(events: np.ndarray, filter_time: float) -> np.ndarray:
    """Kept iff a 4-neighbour inside the events' extent fired at ``t_j > t_i - filter_time`` before
    event i (an unfired neighbour counts as having fired at 0)."""
    t, x, y = (events[f].astype(np.int64) for f in "txy")
    w, h = x.max() + 1, y.max() + 1
    keep = np.zeros(len(t), dtype=bool)
    for i in range(len(t)):
        for dx, dy in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            nx, ny = x[i] + dx, y[i] + dy
            if not (0 <= nx < w and 0 <= ny < h):
                continue
            before = np.flatnonzero((x[:i] == nx) & (y[:i] == ny))
            last = t[before[-1]] if len(before) else 0
            keep[i] |= last + filter_time > t[i]
    return events[keep]


def slow_refractory(events: np.ndarray, period: float) -> np.ndarray:
    """Kept iff the pixel's previous event (any) is more than ``period`` older; none: ``t > 0``."""
    t, x, y = (events[f].astype(np.int64) for f in "txy")
    keep = np.zeros(len(t), dtype=bool)
    for i in range(len(t)):
        before = np.flatnonzero((x[:i] == x[i]) & (y[:i] == y[i]))
        keep[i] = t[i] - t[before[-1]] > period if len(before) else t[i] > 0
    return events[keep]


@settings(max_examples=60, deadline=None)
@given(samples(max_events=80), st.integers(0, 500))
def test_denoise_matches_definition(sample: tuple[np.ndarray, SensorSize], filter_time: int) -> None:
    events = sample[0]
    events["t"] -= events["t"][0] if len(events) else 0  # start near 0 so the initial memory matters
    np.testing.assert_array_equal(F.denoise(events, filter_time), slow_denoise(events, filter_time) if len(events) else events)


@settings(max_examples=60, deadline=None)
@given(samples(max_events=80), st.integers(0, 500))
def test_refractory_matches_definition(sample: tuple[np.ndarray, SensorSize], period: int) -> None:
    events = sample[0]
    events["t"] -= events["t"][0] if len(events) else 0
    np.testing.assert_array_equal(F.refractory_period(events, period), slow_refractory(events, period) if len(events) else events)


# --- edge cases


def test_empty_one_event_one_timestamp_and_border() -> None:
    rng = np.random.default_rng(0)
    empty = make_events([], [], [], [])
    for out in (F.denoise(empty, 10), F.refractory_period(empty, 10), F.crop_time(empty), F.drop_pixel(empty, [(0, 0)]),
                F.drop_event(empty, 0.5, rng), F.drop_by_time(empty, 0.5, rng), F.time_jitter(empty, 3, rng),
                F.uniform_noise(empty, SIZE, 10, rng), F.spatial_jitter(empty, SIZE, rng), F.hot_pixels(empty, 1)):
        assert len(out) == 0
    one = make_events([5], [0], [0], [1])
    assert len(F.denoise(one, 10)) == 0 and len(F.refractory_period(one, 10)) == 1
    same_t = make_events([7] * 4, [0, 1, 1, 3], [0, 0, 1, 3], [1, 0, 1, 0])
    assert F.denoise(same_t, 1)["x"].tolist() == [1, 1]  # (0,0) is seen by (1,0); (3,3) is isolated
    assert_same(F.denoise(same_t, 1), TF.denoise_numpy(to_tonic(same_t), 1))
    assert F.refractory_period(same_t, 0)["x"].tolist() == [0, 1, 1, 3]
    border = make_events([10, 20, 30, 40], [31, 30, 0, 0], [23, 23, 0, 1], [1, 1, 1, 1])
    assert_same(F.denoise(border, 15), TF.denoise_numpy(to_tonic(border), 15))
    jittered = F.spatial_jitter(border, SIZE, rng, 100, 100)
    assert (jittered["x"] < SIZE.width).all() and (jittered["y"] < SIZE.height).all()


@pytest.mark.parametrize(("call", "message"), [
    (lambda ev: F.denoise(ev, -1), "denoise: expected filter_time >= 0. Got -1 instead."),
    (lambda ev: F.refractory_period(ev, -0.5), "refractory_period: expected period >= 0. Got -0.5 instead."),
    (lambda ev: F.drop_event(ev, 1.5, np.random.default_rng()), "drop_event: expected p in [0, 1]. Got 1.5 instead."),
    (lambda ev: F.drop_event(ev, -0.1, np.random.default_rng()), "drop_event: expected p in [0, 1]. Got -0.1 instead."),
    (lambda ev: F.drop_by_time(ev, 1.0, np.random.default_rng()), "drop_by_time: expected duration_ratio in [0, 1)."),
    (lambda ev: F.drop_by_area(ev, SIZE, 2, np.random.default_rng()), "drop_by_area: expected area_ratio in [0, 1)."),
    (lambda ev: F.time_jitter(ev, -3, np.random.default_rng()), "time_jitter: expected std >= 0."),
    (lambda ev: F.time_skew(ev, 0), "time_skew: expected coefficient > 0."),
    (lambda ev: F.downsample(ev, 1, (1, 2, 3)), "downsample: expected spatial_factor as one number or"),
    (lambda ev: F.uniform_noise(ev, SIZE, -1, np.random.default_rng()), "uniform_noise: expected n as an integer >= 0."),
    (lambda ev: F.spatial_jitter(ev, SIZE, np.random.default_rng(), 1, 1, 2), "spatial_jitter: expected sigma_xy**2"),
    (lambda ev: F.drop_pixel(ev, [(-1, 2)]), "drop_pixel: expected coordinates >= 0. Got [-1, 2] instead."),
    (lambda ev: F.denoise(ev, "10"), "denoise: expected filter_time as a number. Got '10' instead."),
])
def test_bad_parameters_are_one_line_config_errors(call, message: str) -> None:
    ev = make_events([1, 2], [0, 1], [0, 0], [0, 1])
    with pytest.raises(ConfigError) as err:
        call(ev)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


# --- random filters: their distributions


def test_drop_event_drops_rounded_fraction(events: np.ndarray) -> None:
    rng = np.random.default_rng(1)
    for p in (0.0, 0.25, 0.5, 1.0):
        out = F.drop_event(events, p, rng)
        assert len(out) == len(events) - int(p * len(events) + 0.5)
        assert np.isin(out, events).all() and (np.diff(out["t"]) >= 0).all()
    kept = np.zeros(100)
    ev = make_events(np.arange(100), np.zeros(100), np.zeros(100), np.zeros(100))
    for _ in range(400):
        kept[F.drop_event(ev, 0.3, rng)["t"]] += 1
    assert abs(kept.mean() / 400 - 0.7) < 1e-9 and kept.min() > 0.7 * 400 - 60 and kept.max() < 0.7 * 400 + 60


def test_drop_by_time_and_area_remove_one_window(events: np.ndarray) -> None:
    rng = np.random.default_rng(2)
    events = events.copy()
    events["t"] -= events["t"][0]  # tonic's window lies in [0, t_max], so an absolute clock would miss it
    t_end = int(events["t"].max())
    dropped = []
    for _ in range(20):
        out = F.drop_by_time(events, 0.3, rng)
        gone = events["t"][~np.isin(events, out)]
        assert len(gone) == 0 or gone.max() - gone.min() <= 0.3 * t_end
        dropped.append(len(gone))
        out = F.drop_by_area(events, SIZE, 0.5, rng)
        gone = events[~np.isin(events, out)]
        assert len(gone) and np.ptp(gone["x"]) < 16 and np.ptp(gone["y"]) < 12
    assert np.mean(dropped) > 0.1 * len(events)


def test_jitter_moments() -> None:
    rng = np.random.default_rng(3)
    n = 200_000
    ev = make_events(np.full(n, 10**6), np.full(n, 500), np.full(n, 400), np.zeros(n))
    big = SensorSize(1000, 1000, 2)
    out = F.spatial_jitter(ev, big, rng, var_x=25.0, var_y=4.0)
    dx, dy = out["x"] - 500.0, out["y"] - 400.0
    # as in tonic, x + dx is truncated (floored, being positive): mean -1/2, variance + 1/12
    assert abs(dx.mean() + 0.5) < 0.05 and abs(dy.mean() + 0.5) < 0.05
    assert abs(dx.std() - (25 + 1 / 12) ** 0.5) < 0.05 and abs(dy.std() - (4 + 1 / 12) ** 0.5) < 0.05
    assert abs(np.corrcoef(dx, dy)[0, 1]) < 0.01
    out = F.spatial_jitter(ev, big, rng, var_x=4.0, var_y=4.0, sigma_xy=3.0)
    assert abs(np.corrcoef(out["x"], out["y"])[0, 1] - 0.75) < 0.02
    out = F.time_jitter(ev, 100.0, rng)
    dt = out["t"] - 10.0**6
    assert abs(dt.mean() + 0.5) < 1.0 and 99.0 < dt.std() < 101.0 and (np.diff(out["t"]) >= 0).all()
    near_zero = make_events(np.zeros(1000), np.zeros(1000), np.zeros(1000), np.zeros(1000))
    assert (F.time_jitter(near_zero, 10.0, rng)["t"] >= 0).all()
    assert len(F.spatial_jitter(near_zero, SIZE, rng, 4, 4, clip_outliers=True)) < 700


def test_uniform_noise_count_and_uniformity(events: np.ndarray) -> None:
    rng = np.random.default_rng(4)
    n = 96_000
    out = F.uniform_noise(events, SIZE, n, rng)
    assert len(out) == len(events) + n and (np.diff(out["t"]) >= 0).all()
    noise = out[~np.isin(out, events)]
    assert len(noise) > 0.99 * n
    for field, k in (("x", SIZE.width), ("y", SIZE.height), ("p", 2)):
        counts = np.bincount(noise[field], minlength=k)
        assert len(counts) == k and (np.abs(counts / counts.mean() - 1) < 0.1).all()
    assert noise["t"].min() >= events["t"].min() and noise["t"].max() < events["t"].max()
