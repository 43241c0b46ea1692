"""Event-filter transforms: tonic's results for the deterministic ones; seeds, ranges and errors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import tonic.transforms as TT
import torch

from eventpipe.errors import ConfigError
from eventpipe.events import EVENT_DTYPE, SensorSize, validate_events
from eventpipe.synth import gesture_like_sample
from eventpipe.transforms import (
    Compose,
    CropTime,
    Denoise,
    Downsample,
    DropEvent,
    DropEventByArea,
    DropEventByTime,
    DropPixel,
    RefractoryPeriod,
    SpatialJitter,
    TimeJitter,
    TimeSkew,
    ToFrames,
    UniformNoise,
)

SIZE = SensorSize(32, 24, 2)
TONIC_DTYPE = np.dtype([("x", "<i2"), ("y", "<i2"), ("p", "?"), ("t", "<i8")])


@pytest.fixture(scope="module")
def events() -> np.ndarray:
    ev = gesture_like_sample(np.random.default_rng(5), 10_000, SIZE, 300_000)
    ev["t"] -= ev["t"][0]
    return ev


def to_tonic(events: np.ndarray) -> np.ndarray:
    out = np.zeros(len(events), dtype=TONIC_DTYPE)
    for f in "txyp":
        out[f] = events[f]
    return out


def fields(events: np.ndarray) -> list[list[int]]:
    return [events[f].astype(np.int64).tolist() for f in "txyp"]


@pytest.mark.parametrize(("ours", "theirs"), [
    (Denoise(filter_time=3000), TT.Denoise(filter_time=3000)),
    (RefractoryPeriod(delta=700), TT.RefractoryPeriod(delta=700)),
    (CropTime(min=5000, max=200_000), TT.CropTime(min=5000, max=200_000)),
    (DropPixel(coordinates=[(3, 4), (10, 10)]), TT.DropPixel(coordinates=[(3, 4), (10, 10)])),
    (DropPixel(hot_pixel_frequency=300), TT.DropPixel(hot_pixel_frequency=300)),
    (TimeSkew(coefficient=1.5, offset=20), TT.TimeSkew(coefficient=1.5, offset=20)),
    (Downsample(time_factor=0.01, spatial_factor=0.5), TT.Downsample(time_factor=0.01, spatial_factor=0.5)),
    (Downsample(sensor_size=SIZE, target_size=(8, 6)), TT.Downsample(sensor_size=tuple(SIZE), target_size=(8, 6))),
])
def test_deterministic_transforms_equal_tonic(events: np.ndarray, ours: object, theirs: object) -> None:
    assert fields(ours(events)) == fields(theirs(to_tonic(events)))


RANDOM = [
    RefractoryPeriod(delta=(100, 1000)),
    TimeSkew(coefficient=(0.8, 1.2), offset=(0, 100)),
    DropEvent(p=(0.1, 0.5)),
    DropEventByTime(duration_ratio=(0.1, 0.4)),
    DropEventByArea(sensor_size=SIZE, area_ratio=0.3),
    SpatialJitter(sensor_size=SIZE, var_x=2, var_y=2, clip_outliers=True),
    TimeJitter(std=50),
    UniformNoise(sensor_size=SIZE, n=(100, 200)),
]


@pytest.mark.parametrize("transform", RANDOM, ids=lambda t: type(t).__name__)
def test_random_transforms_follow_the_generator(events: np.ndarray, transform: object) -> None:
    a = transform(events, generator=torch.Generator().manual_seed(1))
    b = transform(events, generator=torch.Generator().manual_seed(1))
    c = transform(events, generator=torch.Generator().manual_seed(2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.dtype == EVENT_DTYPE
    validate_events(a, SIZE)  # sorted and inside the sensor
    torch.manual_seed(3)
    first = transform(events)
    torch.manual_seed(3)
    np.testing.assert_array_equal(first, transform(events))
    assert pickle.loads(pickle.dumps(transform)) == transform


def test_ranges_are_drawn_per_sample(events: np.ndarray) -> None:
    gen = torch.Generator().manual_seed(0)
    kept = [len(DropEvent(p=(0.1, 0.5))(events, generator=gen)) / len(events) for _ in range(200)]
    assert 0.5 - 1e-3 <= min(kept) < 0.55 and 0.85 < max(kept) <= 0.9 + 1e-3
    added = [len(UniformNoise(SIZE, n=(100, 110))(events, generator=gen)) - len(events) for _ in range(200)]
    assert set(added) == set(range(100, 110))


def test_composes_with_to_frames_and_keeps_the_label(events: np.ndarray) -> None:
    t = Compose([Denoise(1000), RefractoryPeriod(100), DropEvent(0.2), ToFrames(SIZE, frames=4)])
    frames, label = t(events, 3, generator=torch.Generator().manual_seed(0))
    assert label == 3 and frames.shape == (4, 2, 24, 32)


@pytest.mark.parametrize(("build", "message"), [
    (lambda: Denoise(filter_time=-1), "Denoise: expected filter_time >= 0. Got -1 instead."),
    (lambda: RefractoryPeriod(delta=(10, -5)), "RefractoryPeriod: expected delta >= 0. Got -5 instead."),
    (lambda: RefractoryPeriod(delta=(100, 10)), "RefractoryPeriod: expected delta as a number or a (low, high) range."),
    (lambda: DropEvent(p=1.2), "DropEvent: expected p in [0, 1]. Got 1.2 instead."),
    (lambda: DropEvent(p=(-0.1, 0.5)), "DropEvent: expected p in [0, 1]. Got -0.1 instead."),
    (lambda: DropEventByTime(duration_ratio=1.0), "DropEventByTime: expected duration_ratio in [0, 1). Got 1.0 instead."),
    (lambda: DropEventByArea(SIZE, area_ratio=-0.2), "DropEventByArea: expected area_ratio in [0, 1). Got -0.2 instead."),
    (lambda: TimeJitter(std=-2), "TimeJitter: expected std >= 0. Got -2 instead."),
    (lambda: TimeSkew(coefficient=0), "TimeSkew: expected coefficient > 0. Got 0 instead."),
    (lambda: UniformNoise(SIZE, n=-3), "UniformNoise: expected n as an integer >= 0 or a range of them."),
    (lambda: SpatialJitter(SIZE, var_y=-1), "SpatialJitter: expected var_y >= 0. Got -1 instead."),
    (lambda: Downsample(target_size=(8, 6)), "Downsample: target_size needs sensor_size=(W, H, P) too."),
    (lambda: Downsample(time_factor=0), "Downsample: expected time_factor > 0. Got 0 instead."),
    (lambda: CropTime(min=10, max=5), "CropTime: expected max >= min = 10. Got 5 instead."),
    (lambda: DropPixel(hot_pixel_frequency=-1), "DropPixel: expected hot_pixel_frequency >= 0. Got -1 instead."),
])
def test_bad_arguments_are_one_line_config_errors(build: object, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        build()  # type: ignore[operator]
    assert str(err.value).startswith(message) and "\n" not in str(err.value)
