"""On-the-fly integration of events into frames, with the frames store's semantics and kernels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from eventpipe.errors import ConfigError
from eventpipe.events import SensorSize
from eventpipe.frames.spec import IntegrationSpec, integration_spec
from eventpipe.transforms._base import Transform
from eventpipe.transforms.functional import is_events

__all__ = ["ToFrames", "ToTensor"]


def _as_tensor(frames: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    """``frames`` as a Tensor of ``dtype`` (torch casts unsigned counts faster than NumPy does)."""
    return torch.from_numpy(np.ascontiguousarray(frames)).to(dtype)


@dataclass(frozen=True, init=False)
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
    spec
        A ready :class:`~eventpipe.frames.IntegrationSpec`, instead of integration options.
    dtype
        Tensor dtype of the result (float32 by default); ``None`` keeps the ndarray (counts, or the
        float16/float32 frames of a float mode).
    **integration
        The options of :func:`eventpipe.frames.integration_spec`, one mode exactly: ``frames``
        (+ ``split_by``), ``duration_us``, ``events_per_frame`` (+ ``drop_incomplete``), ``fn``,
        ``n_time_bins``, ``event_count``, ``time_window`` (+ ``overlap``, ``include_incomplete``),
        the representations ``voxel_grid``, ``time_surface`` and ``exp_decay`` (+ ``tau``),
        ``event_image``, ``bina_rep`` (+ ``n_bits``), and ``frames_dtype`` for the float ones.

    >>> from eventpipe.events import make_events
    >>> ev = make_events(t=[0, 1, 2, 3], x=[0, 1, 1, 1], y=[0, 0, 0, 1], p=[1, 0, 0, 1])
    >>> ToFrames((2, 2, 2), frames=2)(ev).shape
    torch.Size([2, 2, 2, 2])
    """

    sensor_size: SensorSize
    spec: IntegrationSpec
    dtype: torch.dtype | None

    def __init__(self, sensor_size: SensorSize | tuple[int, int, int], spec: IntegrationSpec | None = None, *,
                 dtype: torch.dtype | None = torch.float32, **integration: Any) -> None:
        if dtype is not None and not isinstance(dtype, torch.dtype):
            raise ConfigError(f"Expected dtype as a torch.dtype or None. Got {dtype!r} instead.")
        object.__setattr__(self, "sensor_size", SensorSize.parse(sensor_size))
        object.__setattr__(self, "spec", integration_spec(integration, spec=spec, required=True))
        object.__setattr__(self, "dtype", dtype)

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
