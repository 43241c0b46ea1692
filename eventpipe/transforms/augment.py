"""Frame augmentations used for DVS data: mirror, crop, translate, temporal delete/crop/downsample.

Each class draws its random numbers once per sample in ``make_params`` and applies them with a pure
function from :mod:`eventpipe.transforms.functional`, so all frames of a sample (and its label) see
the same flip, crop window or kept time steps. Inputs are frames ``[T, P, H, W]`` as a Tensor or an
ndarray; :class:`RandomHorizontalFlip` also takes events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from eventpipe.errors import ConfigError
from eventpipe.events import SensorSize
from eventpipe.transforms import functional as F
from eventpipe.transforms._base import Transform, randint, uniform

__all__ = [
    "CenterCrop",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomTemporalCrop",
    "RandomTemporalDelete",
    "RandomTranslate",
    "TemporalDownsample",
]


def _positive(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"Expected {name} as an integer >= 1. Got {value!r} instead.")
    return int(value)


def _size(name: str, value: int | tuple[int, int]) -> tuple[int, int]:
    """``(height, width)`` from an int or a pair (pixels)."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2:
        raise ConfigError(f"Expected {name} as an int or a (height, width) pair. Got {value!r} instead.")
    return (_positive(f"{name}[0]", pair[0]), _positive(f"{name}[1]", pair[1]))


def _probability(p: float) -> float:
    if not 0.0 <= float(p) <= 1.0:
        raise ConfigError(f"Expected p in the inclusive range (0, 1). Got {p} instead.")
    return float(p)


@dataclass(frozen=True)
class RandomHorizontalFlip(Transform):
    """Mirror a sample left-right with probability ``p``; optionally relabel it.

    Polarity is kept: mirroring the scene does not change whether brightness rose (ON) or fell
    (OFF) at a pixel, so the channels are not swapped (reversing time would swap them). The
    *meaning* of a gesture can change, though: in DVS128 Gesture a mirrored right-hand wave looks
    like a left-hand wave, and a right arm turning clockwise like a left arm turning counter
    clockwise. Pass ``label_map=mirror_label_map(dataset.classes)`` and call the transform on
    ``(frames, label)`` (the dataset's ``transforms=`` argument) to relabel flipped samples, or
    leave it out to treat the mirrored gesture as the same class.

    Parameters
    ----------
    p
        Flip probability in [0, 1].
    label_map
        Class -> class after flipping; classes not listed keep their label.
    sensor_size
        Needed only for events (``x' = W - 1 - x``); frames use their own width.
    """

    p: float = 0.5
    label_map: Mapping[int, int] | tuple[tuple[int, int], ...] | None = None
    sensor_size: SensorSize | tuple[int, int, int] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "p", _probability(self.p))
        if self.label_map is not None:
            pairs = self.label_map.items() if isinstance(self.label_map, Mapping) else self.label_map
            object.__setattr__(self, "label_map", tuple(sorted((int(k), int(v)) for k, v in pairs)))
        if self.sensor_size is not None:
            object.__setattr__(self, "sensor_size", SensorSize.parse(self.sensor_size))

    def make_params(self, sample: Any, generator: torch.Generator | None) -> dict[str, Any]:
        return {"flip": uniform(generator) < self.p}

    def transform(self, sample: Any, params: dict[str, Any]) -> Any:
        if F.is_events(sample):
            if self.sensor_size is None:
                raise ConfigError("RandomHorizontalFlip needs sensor_size=(W, H, P) to flip events.")
            width = SensorSize.parse(self.sensor_size).width
            return F.hflip_events(sample, width) if params["flip"] else sample.copy()
        F.check_frames(sample, "RandomHorizontalFlip", min_ndim=2)
        return F.hflip(sample) if params["flip"] else sample

    def transform_target(self, target: Any, params: dict[str, Any]) -> Any:
        if not params["flip"] or not self.label_map:
            return target
        mapping = dict(self.label_map)
        label = int(target)
        return mapping.get(label, label)


@dataclass(frozen=True)
class RandomCrop(Transform):
    """Crop the same random ``size`` window from every frame, after optional zero ``padding``.

    Parameters
    ----------
    size
        Output ``(height, width)`` in pixels, or one int for a square.
    padding
        Zero pixels added on every side first (so a crop of the input size is a random shift of up
        to ``padding`` pixels).
    """

    size: int | tuple[int, int]
    padding: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", _size("size", self.size))
        if int(self.padding) < 0:
            raise ConfigError(f"Expected padding >= 0. Got {self.padding} instead.")

    def make_params(self, sample: Any, generator: torch.Generator | None) -> dict[str, Any]:
        F.check_frames(sample, "RandomCrop", min_ndim=2)
        h, w = (s + 2 * int(self.padding) for s in sample.shape[-2:])
        ch, cw = self.size  # type: ignore[misc]
        if ch > h or cw > w:
            raise ConfigError(f"RandomCrop size {self.size} is larger than the (padded) frames ({h}, {w}).")
        return {"top": randint(0, h - ch, generator), "left": randint(0, w - cw, generator)}

    def transform(self, sample: Any, params: dict[str, Any]) -> Any:
        ch, cw = self.size  # type: ignore[misc]
        return F.crop(F.pad(sample, int(self.padding)), params["top"], params["left"], ch, cw)


@dataclass(frozen=True)
class CenterCrop(Transform):
    """Crop the central ``size`` window (pixels) of every frame."""

    size: int | tuple[int, int]

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", _size("size", self.size))

    def transform(self, sample: Any, params: dict[str, Any]) -> Any:
        F.check_frames(sample, "CenterCrop", min_ndim=2)
        h, w = sample.shape[-2:]
        ch, cw = self.size  # type: ignore[misc]
        return F.crop(sample, (h - ch) // 2, (w - cw) // 2, ch, cw)


@dataclass(frozen=True)
class RandomTranslate(Transform):
    """Shift every frame by the same random whole-pixel offset; vacated pixels are zero.

    ``dx`` is drawn uniformly from ``[-max_dx, max_dx]`` and ``dy`` from ``[-max_dy, max_dy]``
    (``max_dy`` defaults to ``max_dx``).
    """

    max_dx: int
    max_dy: int | None = None

    def __post_init__(self) -> None:
        if self.max_dy is None:
            object.__setattr__(self, "max_dy", self.max_dx)
        for name in ("max_dx", "max_dy"):
            if int(getattr(self, name)) < 0:
                raise ConfigError(f"Expected {name} >= 0. Got {getattr(self, name)} instead.")

    def make_params(self, sample: Any, generator: torch.Generator | None) -> dict[str, Any]:
        my, mx = int(self.max_dy), int(self.max_dx)  # type: ignore[arg-type]
        return {"dy": randint(-my, my, generator), "dx": randint(-mx, mx, generator)}

    def transform(self, sample: Any, params: dict[str, Any]) -> Any:
        F.check_frames(sample, "RandomTranslate", min_ndim=2)
        return F.translate(sample, params["dy"], params["dx"])


@dataclass(frozen=True)
class RandomTemporalDelete(Transform):
    """Keep ``T_remain`` randomly chosen frames in their original order (SpikingJelly's augmentation).

    The kept time steps are drawn without replacement from ``range(T)`` and sorted. A sample with
    ``T <= T_remain`` frames is returned unchanged.
    """

    T_remain: int

    def __post_init__(self) -> None:
        _positive("T_remain", self.T_remain)

    def make_params(self, sample: Any, generator: torch.Generator | None) -> dict[str, Any]:
        F.check_frames(sample, "RandomTemporalDelete", min_ndim=1)
        t = int(sample.shape[0])
        if t <= self.T_remain:
            return {"keep": np.arange(t)}
        keep = torch.randperm(t, generator=generator)[: self.T_remain].sort().values.numpy()
        return {"keep": keep}

    def transform(self, sample: Any, params: dict[str, Any]) -> Any:
        return F.select_frames(sample, params["keep"])


@dataclass(frozen=True)
class RandomTemporalCrop(Transform):
    """Keep ``length`` consecutive frames starting at a random time step (unchanged if ``T <= length``)."""

    length: int

    def __post_init__(self) -> None:
        _positive("length", self.length)

    def make_params(self, sample: Any, generator: torch.Generator | None) -> dict[str, Any]:
        F.check_frames(sample, "RandomTemporalCrop", min_ndim=1)
        t = int(sample.shape[0])
        return {"start": randint(0, max(0, t - self.length), generator)}

    def transform(self, sample: Any, params: dict[str, Any]) -> Any:
        start = params["start"]
        return sample[start : start + self.length]


@dataclass(frozen=True)
class TemporalDownsample(Transform):
    """Merge every ``factor`` consecutive frames: ``mode="sum"`` adds them, ``"stride"`` keeps the first.

    ``T`` frames become ``ceil(T / factor)`` (a shorter final group is kept unless
    ``drop_incomplete``). Summing 20 frames by 4 gives the 5 frames that integrating the same events
    into 5 frames by number would give when ``N`` is a multiple of 20.
    """

    factor: int
    mode: str = "sum"
    drop_incomplete: bool = False

    def __post_init__(self) -> None:
        _positive("factor", self.factor)
        if self.mode not in ("sum", "stride"):
            raise ConfigError(f"Unknown value {self.mode!r} for argument mode. Valid values are {{'stride', 'sum'}}.")

    def transform(self, sample: Any, params: dict[str, Any]) -> Any:
        F.check_frames(sample, "TemporalDownsample", min_ndim=1)
        return F.temporal_downsample(sample, self.factor, self.mode, self.drop_incomplete)
