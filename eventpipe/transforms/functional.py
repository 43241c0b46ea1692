"""Deterministic kernels behind the transforms: frames (NumPy or torch ``[T, ..., H, W]``) and events.

Every function here is pure: it takes the sample and explicit parameters and returns a new array;
randomness lives in the transform classes' ``make_params``. Frame functions act on the last two axes
(height, width) or the first axis (time), so ``[T, P, H, W]`` and ``[T, H, W]`` both work.

>>> import numpy as np
>>> f = np.arange(6).reshape(3, 1, 1, 2)
>>> temporal_downsample(f, 2)[:, 0, 0].tolist()
[[2, 4], [4, 5]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import torch

from eventpipe.errors import ConfigError

Array = TypeVar("Array", np.ndarray, torch.Tensor)

__all__ = [
    "crop",
    "hflip",
    "hflip_events",
    "is_events",
    "pad",
    "select_frames",
    "temporal_downsample",
    "translate",
]


def is_events(sample: object) -> bool:
    """True for a structured event array (fields t, x, y, p), False for frames."""
    return isinstance(sample, np.ndarray) and sample.dtype.names is not None


def check_frames(sample: object, op: str, min_ndim: int = 3) -> None:
    """Require frames: an ndarray or tensor with at least ``min_ndim`` axes ``[T, ..., H, W]``."""
    if is_events(sample):
        raise ConfigError(f"{op} works on frames [T, P, H, W]; got events. Integrate them first (ToFrames).")
    if not isinstance(sample, (np.ndarray, torch.Tensor)):
        raise ConfigError(f"{op} expects frames as an ndarray or Tensor. Got {type(sample).__name__} instead.")
    if sample.ndim < min_ndim:
        raise ConfigError(
            f"{op} expects frames with at least {min_ndim} axes [T, ..., H, W]. Got shape {tuple(sample.shape)} instead."
        )


def hflip(frames: Array) -> Array:
    """Mirror frames left-right (last axis); the result is a contiguous copy."""
    if isinstance(frames, torch.Tensor):
        return frames.flip(-1)
    return np.ascontiguousarray(frames[..., ::-1])


def hflip_events(events: np.ndarray, width: int) -> np.ndarray:
    """Mirror events left-right on a sensor ``width`` pixels wide: ``x' = width - 1 - x``."""
    x = events["x"].astype(np.int64)
    if len(x) and int(x.max()) >= width:
        i = int(np.argmax(x >= width))
        raise ConfigError(f"Event x[{i}] = {int(x[i])} lies outside a sensor {width} pixels wide.")
    out = events.copy()
    out["x"] = (width - 1) - x
    return out


def crop(frames: Array, top: int, left: int, height: int, width: int) -> Array:
    """The window ``[top, top + height) x [left, left + width)`` of every frame (pixels)."""
    h, w = frames.shape[-2:]
    if top < 0 or left < 0 or top + height > h or left + width > w or height < 1 or width < 1:
        raise ConfigError(
            f"Crop window (top={top}, left={left}, height={height}, width={width}) does not fit "
            f"frames of height {h} and width {w}."
        )
    out = frames[..., top : top + height, left : left + width]
    return out.clone() if isinstance(out, torch.Tensor) else out.copy()


def pad(frames: Array, padding: int) -> Array:
    """Zero-pad height and width by ``padding`` pixels on every side."""
    if padding == 0:
        return frames
    h, w = frames.shape[-2:]
    shape = (*frames.shape[:-2], h + 2 * padding, w + 2 * padding)
    out = frames.new_zeros(shape) if isinstance(frames, torch.Tensor) else np.zeros(shape, dtype=frames.dtype)
    out[..., padding : padding + h, padding : padding + w] = frames
    return out


def translate(frames: Array, dy: int, dx: int) -> Array:
    """Shift frames by ``dy`` rows down and ``dx`` columns right (pixels); vacated pixels are zero."""
    h, w = frames.shape[-2:]
    out = torch.zeros_like(frames) if isinstance(frames, torch.Tensor) else np.zeros_like(frames)
    if abs(dy) >= h or abs(dx) >= w:
        return out
    src_y, dst_y = slice(max(0, -dy), h - max(0, dy)), slice(max(0, dy), h - max(0, -dy))
    src_x, dst_x = slice(max(0, -dx), w - max(0, dx)), slice(max(0, dx), w - max(0, -dx))
    out[..., dst_y, dst_x] = frames[..., src_y, src_x]
    return out


def select_frames(frames: Array, indices: Sequence[int] | np.ndarray) -> Array:
    """Frames at ``indices`` along the time axis, in the given order."""
    idx = np.asarray(indices, dtype=np.int64)
    if isinstance(frames, torch.Tensor):
        return frames[torch.from_numpy(idx).to(frames.device)]
    return frames[idx]


def temporal_downsample(frames: Array, factor: int, mode: str = "sum", drop_incomplete: bool = False) -> Array:
    """Merge every ``factor`` consecutive frames into one.

    Parameters
    ----------
    frames
        ``[T, ...]`` frames.
    factor
        Frames per output frame (>= 1); output has ``ceil(T / factor)`` frames (``floor`` with
        ``drop_incomplete``).
    mode
        ``"sum"`` adds the group (event counts stay counts; integers are summed in NumPy's or torch's
        wider integer type), ``"stride"`` keeps the first frame of each group.
    drop_incomplete
        Drop a final group shorter than ``factor``.
    """
    if mode not in ("sum", "stride"):
        raise ConfigError(f"Unknown value {mode!r} for argument mode. Valid values are {{'stride', 'sum'}}.")
    t = frames.shape[0]
    n_out = t // factor if drop_incomplete else -(-t // factor)
    if mode == "stride":
        return frames[: n_out * factor : factor]
    full = min(t, n_out * factor) // factor
    head = frames[: full * factor].reshape(full, factor, *frames.shape[1:]).sum(1)
    if n_out == full:
        return head
    tail = frames[full * factor :].sum(0, keepdims=True) if isinstance(frames, np.ndarray) else (
        frames[full * factor :].sum(0, keepdim=True)
    )
    if isinstance(frames, torch.Tensor):
        return torch.cat([head, tail.to(head.dtype)])
    return np.concatenate([head, tail.astype(head.dtype)])
