"""Event filters as transforms: tonic's ``Denoise``, ``RefractoryPeriod``, ``DropEvent``, ... on event arrays.

Each class validates its arguments when built (one-line ``ConfigError`` naming the argument) and
applies a function of :mod:`eventpipe.frames.filters`. Random ones draw their parameters, and a seed
for the per-event draws, in ``make_params`` from the transform's ``generator`` (else torch's global
one), so ``torch.manual_seed`` and each DataLoader worker's seed control them. Where tonic takes a
``(low, high)`` range for a parameter, so do these, drawn uniformly per sample.

>>> from eventpipe.events import make_events
>>> ev = make_events(t=[1, 5, 9, 100], x=[3, 3, 4, 3], y=[1, 1, 1, 1], p=[1, 1, 0, 1])
>>> RefractoryPeriod(10)(ev)["t"].tolist()
[1, 100]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from eventpipe.errors import ConfigError
from eventpipe.events import SensorSize, empty_events
from eventpipe.frames import filters as F
from eventpipe.transforms._base import Transform, randint, uniform

__all__ = [
    "CropTime",
    "Denoise",
    "Downsample",
    "DropEvent",
    "DropEventByArea",
    "DropEventByTime",
    "DropPixel",
    "RefractoryPeriod",
    "SpatialJitter",
    "TimeJitter",
    "TimeSkew",
    "UniformNoise",
]

Range = float | tuple[float, float]


def _range(op: str, name: str, value: Range, check: Any) -> Range:
    """Check one value, or both ends of a ``(low, high)`` range, with ``check(op, name, v)``."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2 or not check(op, name, value[0]) <= check(op, name, value[1]):
            raise ConfigError(f"{op}: expected {name} as a number or a (low, high) range. Got {value!r} instead.")
        return (value[0], value[1])
    check(op, name, value)
    return value


def _draw(value: Range, generator: torch.Generator | None) -> float:
    if isinstance(value, tuple):
        return value[0] + (value[1] - value[0]) * uniform(generator)
    return float(value)


def _rng(generator: torch.Generator | None) -> np.random.Generator:
    return np.random.default_rng(randint(0, 2**62, generator))


def _set(obj: Any, **values: Any) -> None:
    for k, v in values.items():
        object.__setattr__(obj, k, v)


@dataclass(frozen=True)
class Denoise(Transform):
    """Drop events without an event at a 4-neighbour pixel in the ``filter_time`` µs before them."""

    filter_time: float

    def __post_init__(self) -> None:
        F.check_nonnegative("Denoise", "filter_time", self.filter_time)

    def transform(self, sample: Any, params: dict[str, Any]) -> Any:
        return F.denoise(sample, self.filter_time)


@dataclass(frozen=True)
class RefractoryPeriod(Transform):
    """Drop events less than ``delta`` µs (or a value drawn from a range) after their pixel's previous event."""

    delta: Range

    def __post_init__(self) -> None:
        _set(self, delta=_range("RefractoryPeriod", "delta", self.delta, F.check_nonnegative))

    def make_params(self, sample: Any, generator: torch.Generator | None) -> dict[str, Any]:
        return {"delta": _draw(self.delta, generator)}

    def transform(self, sample: Any, params: dict[str, Any]) -> Any:
        return F.refractory_period(sample, params["delta"])


@dataclass(frozen=True)
class CropTime(Transform):
    """Keep ``min <= t <= max`` (``max`` defaults to the last timestamp)."""

    min: float = 0
    max: float | None = None

    def __post_init__(self) -> None:
        if self.max is not None and self.max < self.min:
            raise ConfigError(f"CropTime: expected max >= min = {self.min}. Got {self.max!r} instead.")

    def transform(self, sample: Any, params: dict[str, Any]) -> Any:
        return F.crop_time(sample, self.min, self.max)


@dataclass(frozen=True)
class DropPixel(Transform):
    """Drop the events of given ``(x, y)`` pixels and, with ``hot_pixel_frequency`` (Hz), of hot pixels."""

    coordinates: Sequence[Sequence[int]] = ()
    hot_pixel_frequency: float | None = None

    def __post_init__(self) -> None:
        _set(self, coordinates=tuple(tuple(int(v) for v in c) for c in self.coordinates))
        if self.hot_pixel_frequency is not None:
            F.check_nonnegative("DropPixel", "hot_pixel_frequency", self.hot_pixel_frequency)

    def transform(self, sample: Any, params: dict[str, Any]) -> Any:
        if self.hot_pixel_frequency is not None:
            sample = F.drop_pixel(sample, F.hot_pixels(sample, self.hot_pixel_frequency))
        return F.drop_pixel(sample, self.coordinates)


@dataclass(frozen=True)
class TimeSkew(Transform):
    """``t' = t * coefficient + offset`` (each a number or a range), truncated to whole µs."""

    coefficient: Range
    offset: Range = 0

    def __post_init__(self) -> None:
        _set(self, coefficient=_range("TimeSkew", "coefficient", self.coefficient, F.check_positive),
             offset=_range("TimeSkew", "offset", self.offset, lambda op, n, v: float(v)))

    def make_params(self, sample: Any, generator: torch.Generator | None) -> dict[str, Any]:
        return {"coefficient": _draw(self.coefficient, generator), "offset": _draw(self.offset, generator)}

    def transform(self, sample: Any, params: dict[str, Any]) -> Any:
        return F.time_skew(sample, params["coefficient"], params["offset"])


@dataclass(frozen=True)
class Downsample(Transform):
    """Scale timestamps by ``time_factor`` and pixels by ``spatial_factor``, or by ``target_size / sensor_size``.

    The result lies on a smaller sensor: give that size to what follows (``ToFrames``, say).
    """

    time_factor: float = 1
    spatial_factor: float | tuple[float, float] = 1
    sensor_size: SensorSize | tuple[int, int, int] | None = None
    target_size: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.target_size is not None:
            if self.sensor_size is None:
                raise ConfigError("Downsample: target_size needs sensor_size=(W, H, P) too.")
            size = SensorSize.parse(self.sensor_size)
            w, h = self.target_size
            _set(self, spatial_factor=(w / size.width, h / size.height))
        F.check_positive("Downsample", "time_factor", self.time_factor)
        F.downsample(empty_events(), self.time_factor, self.spatial_factor)

    def transform(self, sample: Any, params: dict[str, Any]) -> Any:
        return F.downsample(sample, self.time_factor, self.spatial_factor)


@dataclass(frozen=True)
class DropEvent(Transform):
    """Drop ``round(p * N)`` random events; ``p`` a probability or a range to draw it from."""

    p: Range

    def __post_init__(self) -> None:
        _set(self, p=_range("DropEvent", "p", self.p, F.check_probability))

    def make_params(self, sample: Any, generator: torch.Generator | None) -> dict[str, Any]:
        return {"p": _draw(self.p, generator), "rng": _rng(generator)}

    def transform(self, sample: Any, params: dict[str, Any]) -> Any:
        return F.drop_event(sample, params["p"], params["rng"])


def _ratio(op: str, name: str, value: float) -> float:
    return F.check_probability(op, name, value, upper_open=True)


@dataclass(frozen=True)
class DropEventByTime(Transform):
    """Drop the events of a random window of ``duration_ratio * t_max`` µs."""

    duration_ratio: Range = 0.2

    def __post_init__(self) -> None:
        _set(self, duration_ratio=_range("DropEventByTime", "duration_ratio", self.duration_ratio, _ratio))

    def make_params(self, sample: Any, generator: torch.Generator | None) -> dict[str, Any]:
        return {"ratio": _draw(self.duration_ratio, generator), "rng": _rng(generator)}

    def transform(self, sample: Any, params: dict[str, Any]) -> Any:
        return F.drop_by_time(sample, params["ratio"], params["rng"])


@dataclass(frozen=True)
class DropEventByArea(Transform):
    """Drop the events of a random box of ``area_ratio`` times the sensor's width and height."""

    sensor_size: SensorSize | tuple[int, int, int]
    area_ratio: Range = 0.2

    def __post_init__(self) -> None:
        _set(self, sensor_size=SensorSize.parse(self.sensor_size),
             area_ratio=_range("DropEventByArea", "area_ratio", self.area_ratio, _ratio))

    def make_params(self, sample: Any, generator: torch.Generator | None) -> dict[str, Any]:
        return {"ratio": _draw(self.area_ratio, generator), "rng": _rng(generator)}

    def transform(self, sample: Any, params: dict[str, Any]) -> Any:
        return F.drop_by_area(sample, self.sensor_size, params["ratio"], params["rng"])


@dataclass(frozen=True)
class SpatialJitter(Transform):
    """Add Gaussian ``(dx, dy)`` noise to each event's pixel; see :func:`eventpipe.frames.filters.spatial_jitter`."""

    sensor_size: SensorSize | tuple[int, int, int]
    var_x: float = 1
    var_y: float = 1
    sigma_xy: float = 0
    clip_outliers: bool = False

    def __post_init__(self) -> None:
        _set(self, sensor_size=SensorSize.parse(self.sensor_size))
        F.check_nonnegative("SpatialJitter", "var_x", self.var_x)
        F.check_nonnegative("SpatialJitter", "var_y", self.var_y)
        F.spatial_jitter(empty_events(),
                         self.sensor_size, np.random.default_rng(0), self.var_x, self.var_y, self.sigma_xy)

    def make_params(self, sample: Any, generator: torch.Generator | None) -> dict[str, Any]:
        return {"rng": _rng(generator)}

    def transform(self, sample: Any, params: dict[str, Any]) -> Any:
        return F.spatial_jitter(sample, self.sensor_size, params["rng"], self.var_x, self.var_y, self.sigma_xy,
                                self.clip_outliers)


@dataclass(frozen=True)
class TimeJitter(Transform):
    """Add Gaussian noise of ``std`` µs to each timestamp, drop negative times (``clip_negative``), re-sort."""

    std: float
    clip_negative: bool = True

    def __post_init__(self) -> None:
        F.check_nonnegative("TimeJitter", "std", self.std)

    def make_params(self, sample: Any, generator: torch.Generator | None) -> dict[str, Any]:
        return {"rng": _rng(generator)}

    def transform(self, sample: Any, params: dict[str, Any]) -> Any:
        return F.time_jitter(sample, self.std, params["rng"], self.clip_negative)


@dataclass(frozen=True)
class UniformNoise(Transform):
    """Add ``n`` (or a count drawn from a range) events uniform over the sensor and the sample's time span."""

    sensor_size: SensorSize | tuple[int, int, int]
    n: int | tuple[int, int]

    def __post_init__(self) -> None:
        _set(self, sensor_size=SensorSize.parse(self.sensor_size))
        for v in self.n if isinstance(self.n, tuple) else (self.n,):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ConfigError(f"UniformNoise: expected n as an integer >= 0 or a range of them. Got {self.n!r} instead.")

    def make_params(self, sample: Any, generator: torch.Generator | None) -> dict[str, Any]:
        n = randint(self.n[0], max(self.n[0], self.n[1] - 1), generator) if isinstance(self.n, tuple) else self.n
        return {"n": int(n), "rng": _rng(generator)}

    def transform(self, sample: Any, params: dict[str, Any]) -> Any:
        return F.uniform_noise(sample, self.sensor_size, params["n"], params["rng"])
