"""On-the-fly integration of events into frames, with the frames store's semantics and kernels."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from eventpipe.errors import ConfigError
from eventpipe.events import SensorSize
from eventpipe.transforms._base import Transform
from eventpipe.transforms.functional import is_events

__all__ = ["ToFrames", "ToTensor"]


def _as_tensor(frames: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    """``frames`` as a Tensor of ``dtype`` (torch casts unsigned counts faster than NumPy does)."""
    return torch.from_numpy(np.ascontiguousarray(frames)).to(dtype)


_MODE_FIELDS = ("frames", "duration_us", "events_per_frame", "fn")


@dataclass(frozen=True)
class ToFrames(Transform):
    """Integrate a sample's events into frames ``[T, P, H, W]`` with the frames store's kernels.

    The modes and their semantics are those of :class:`eventpipe.frames.IntegrationSpec`
    (DESIGN.md §4), so ``ToFrames(sensor, frames=20)`` on a sample gives exactly what
    ``DVS128Gesture(root, frames=20)`` reads back. Put it after event-level augmentations (tonic's
    ``DropEvent``, ``SpatialJitter``, ...) to draw new frames every epoch.

    Parameters
    ----------
    sensor_size
        ``(W, H, P)`` of the sensor.
    frames, split_by
        ``M`` frames split by event ``"number"`` or by ``"time"``.
    duration_us
        Fixed frame duration in microseconds (variable ``T``).
    events_per_frame, drop_incomplete
        Fixed number of events per frame; optionally drop the final partial frame.
    fn
        A plugin ``fn(events, H, W) -> [T, P, H, W]`` (callable or ``"module:function"``).
    spec
        A ready :class:`~eventpipe.frames.IntegrationSpec` instead of the mode arguments (also
        gives tonic's ``n_time_bins``/``event_count``/``time_window`` modes).
    dtype
        Tensor dtype of the result (float32 by default); ``None`` keeps the integer count ndarray.

    >>> from eventpipe.events import make_events
    >>> ev = make_events(t=[0, 1, 2, 3], x=[0, 1, 1, 1], y=[0, 0, 0, 1], p=[1, 0, 0, 1])
    >>> ToFrames((2, 2, 2), frames=2)(ev).shape
    torch.Size([2, 2, 2, 2])
    """

    sensor_size: SensorSize | tuple[int, int, int]
    frames: int | None = None
    split_by: str = "number"
    duration_us: int | None = None
    events_per_frame: int | None = None
    fn: Callable[..., Any] | str | None = None
    drop_incomplete: bool = False
    spec: Any = None
    dtype: torch.dtype | None = torch.float32

    def __post_init__(self) -> None:
        from eventpipe.frames import IntegrationSpec

        object.__setattr__(self, "sensor_size", SensorSize.parse(self.sensor_size))
        given = [n for n in _MODE_FIELDS if getattr(self, n) is not None]
        if self.spec is None:
            object.__setattr__(
                self,
                "spec",
                IntegrationSpec(
                    frames=self.frames,
                    split_by=self.split_by,
                    duration_us=self.duration_us,
                    events_per_frame=self.events_per_frame,
                    fn=self.fn,
                    drop_incomplete=self.drop_incomplete,
                ),
            )
        elif given or not isinstance(self.spec, IntegrationSpec):
            raise ConfigError(
                "ToFrames takes either spec=IntegrationSpec(...) or one of frames=, duration_us=, "
                f"events_per_frame=, fn=; got spec={self.spec!r} and {given or 'no mode argument'}."
            )
        if self.dtype is not None and not isinstance(self.dtype, torch.dtype):
            raise ConfigError(f"Expected dtype as a torch.dtype or None. Got {self.dtype!r} instead.")

    def transform(self, sample: Any, params: dict[str, Any]) -> Any:
        if not is_events(sample):
            raise ConfigError(f"ToFrames expects events (a structured array). Got {type(sample).__name__} instead.")
        frames = self.spec(sample, self.sensor_size)
        return frames if self.dtype is None else _as_tensor(frames, self.dtype)


@dataclass(frozen=True)
class ToTensor(Transform):
    """Frames (ndarray) to a Tensor of ``dtype`` (float32 by default); tensors are converted too."""

    dtype: torch.dtype = torch.float32

    def transform(self, sample: Any, params: dict[str, Any]) -> Any:
        if is_events(sample):
            raise ConfigError("ToTensor converts frames; integrate events first with ToFrames.")
        if isinstance(sample, torch.Tensor):
            return sample.to(self.dtype)
        return _as_tensor(np.asarray(sample), self.dtype)
