"""Render the shape's log intensity over blocks of time steps, restricted to the pixels it can touch.

Rendering is vectorised over ``[K, h, w]`` blocks: ``K`` consecutive time steps of the bounding box
of every pixel the shape covers during those steps *and the step before them*. Including the step
before is what makes the box sufficient: a pixel whose intensity changes between two steps is covered
by the shape at one of them, so it lies inside the box of the block holding the later step.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from eventpipe.events import SensorSize
from eventpipe.synth.motion import Look, Pose

BLOCK_ELEMENTS = 1 << 16
"""Target pixels x steps per block: large enough to amortise NumPy's per-call cost, small enough for cache."""


class Box(NamedTuple):
    """Pixel box ``[x0, x1) x [y0, y1)``."""

    x0: int
    x1: int
    y0: int
    y1: int

    @property
    def area(self) -> int:
        return max(0, self.x1 - self.x0) * max(0, self.y1 - self.y0)


def log_intensity(pose: Pose, xs: np.ndarray, ys: np.ndarray, look: Look) -> np.ndarray:
    """Log intensity above background, float32 ``[K, len(ys), len(xs)]``, of the shape in each pose.

    The shape is an ellipse (major radius ``pose.scale``, minor ``scale * look.aspect``) rotated by
    ``pose.theta``, with an anti-aliased rim ``look.edge_px`` wide and a plaid texture fixed to the
    shape, so that rotation and motion both change the intensity of the pixels it covers.
    """
    f32 = np.float32

    def per_step(values: np.ndarray) -> np.ndarray:
        return values.astype(f32)[:, None, None]

    cos, sin = per_step(np.cos(pose.theta)), per_step(np.sin(pose.theta))
    inv_major = per_step(1.0 / pose.scale)
    dx = xs.astype(f32)[None, None, :] - per_step(pose.cx)
    dy = ys.astype(f32)[None, :, None] - per_step(pose.cy)
    # shape frame: u along the major axis, v along the minor one; the ellipse is u^2 + v^2 = 1
    u = cos * dx + sin * dy
    u *= inv_major
    v = cos * dy - sin * dx
    v *= inv_major / f32(look.aspect)
    r = np.sqrt(u * u + v * v)
    # mask: 1 inside, 0 outside, linear across a rim edge_px wide centred on r = 1
    mask = np.subtract(1.0, r, out=r)
    mask *= per_step(pose.scale / look.edge_px)
    mask += f32(0.5)
    np.clip(mask, 0.0, 1.0, out=mask)
    # plaid texture: 1 - depth * (1 + cos(k u + phase_u) * cos(k v + phase_v)) / 2
    k = f32(2 * np.pi * look.texture_cycles)
    u *= k
    u += f32(look.texture_phase[0])
    v *= k
    v += f32(look.texture_phase[1])
    texture = np.cos(u, out=u)
    texture *= np.cos(v, out=v)
    texture *= f32(-0.5 * look.texture_depth)
    texture += f32(1.0 - 0.5 * look.texture_depth)
    mask *= texture
    mask *= per_step(pose.contrast)
    return mask


def _step_bounds(pose: Pose, look: Look, sensor: SensorSize) -> np.ndarray:
    """Per-step pixel bounds ``[4, n]`` (x0, x1, y0, y1) of the shape joined with the previous step's."""
    reach = pose.scale + 1.5 * look.edge_px + 1.0
    visible = pose.contrast != 0
    x0 = np.floor(pose.cx - reach)
    x1 = np.ceil(pose.cx + reach) + 1
    y0 = np.floor(pose.cy - reach)
    y1 = np.ceil(pose.cy + reach) + 1
    # an invisible shape touches nothing: an empty box that cannot widen a union
    x0 = np.where(visible, x0, np.inf)
    y0 = np.where(visible, y0, np.inf)
    x1 = np.where(visible, x1, -np.inf)
    y1 = np.where(visible, y1, -np.inf)
    bounds = np.stack([x0, x1, y0, y1])
    joined = bounds.copy()
    joined[[0, 2], 1:] = np.minimum(bounds[[0, 2], 1:], bounds[[0, 2], :-1])
    joined[[1, 3], 1:] = np.maximum(bounds[[1, 3], 1:], bounds[[1, 3], :-1])
    limits = np.array([sensor.width, sensor.width, sensor.height, sensor.height], dtype=np.float64)[:, None]
    return np.clip(joined, 0, limits)


def iter_blocks(
    pose: Pose, look: Look, sensor: SensorSize, *, stride: int = 1, budget: int = BLOCK_ELEMENTS
) -> Iterator[tuple[int, int, Box]]:
    """Yield ``(k0, k1, box)``: steps ``[k0, k1)`` to render together and the pixels that can change.

    Blocks whose box is empty (shape invisible or off-sensor) are skipped. ``stride`` only shrinks
    the box's rounding to that pixel grid (for subsampled rendering).
    """
    bounds = _step_bounds(pose, look, sensor)
    n = len(pose)
    k0 = 0
    while k0 < n:
        x0, x1, y0, y1 = bounds[:, k0]
        area = max(1.0, max(0.0, x1 - x0) * max(0.0, y1 - y0)) / (stride * stride)
        k1 = min(n, k0 + max(1, int(budget // area)))
        while True:
            part = bounds[:, k0:k1]
            box = Box(int(part[0].min()), int(part[1].max()), int(part[2].min()), int(part[3].max()))
            if k1 - k0 == 1 or box.area * (k1 - k0) <= 2 * budget * stride * stride:
                break
            k1 = k0 + (k1 - k0) // 2
        if box.x1 > box.x0 and box.y1 > box.y0:
            yield k0, k1, box
        k0 = k1
