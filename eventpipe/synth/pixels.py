"""The event-camera pixel: log-intensity changes crossing a contrast threshold become ON/OFF events.

Each pixel fires one event per level crossed on a lattice of log-intensity levels spaced by its
threshold ``C`` (per-pixel mismatch around the nominal value) with a per-pixel random offset. With a
uniformly random offset the expected number of events of a pixel equals the total variation of its
log intensity divided by ``C``, which is what :func:`threshold_for_rate` uses to hit a target rate.
A brightening pixel fires ON events (p = 1), a darkening one OFF (p = 0), so a bright shape fires ON
at its leading edge and OFF at its trailing edge.
"""

from __future__ import annotations

import numpy as np

from eventpipe.events import SensorSize
from eventpipe.synth.motion import Look, Pose
from eventpipe.synth.render import BLOCK_ELEMENTS, iter_blocks, log_intensity

THRESHOLD_MISMATCH = 0.05
"""Relative standard deviation of the per-pixel contrast threshold."""


class Columns:
    """Growing lists of event columns (t, x, y, p), concatenated once at the end."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, t: np.ndarray, x: np.ndarray, y: np.ndarray, p: np.ndarray) -> None:
        if len(t):
            self.parts.append((t, x, y, p))

    def __len__(self) -> int:
        return sum(len(part[0]) for part in self.parts)

    def concat(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The four columns as int64 t, uint16 x and y, uint8 p."""
        dtypes = (np.int64, np.uint16, np.uint16, np.uint8)
        if not self.parts:
            return tuple(np.empty(0, dtype=d) for d in dtypes)  # type: ignore[return-value]
        return tuple(  # type: ignore[return-value]
            np.concatenate([part[i] for part in self.parts]).astype(d, copy=False)
            for i, d in enumerate(dtypes)
        )


class PixelArray:
    """State of every pixel of a sensor: threshold, lattice offset and current level.

    Parameters
    ----------
    sensor : sensor geometry (width, height in pixels).
    threshold : nominal contrast threshold C in log-intensity units.
    rng : source of the per-pixel mismatch and offsets.
    """

    def __init__(self, sensor: SensorSize, threshold: float, rng: np.random.Generator) -> None:
        shape = (sensor.height, sensor.width)
        mismatch = np.clip(rng.normal(1.0, THRESHOLD_MISMATCH, shape), 0.5, 1.5)
        self.sensor = sensor
        self.inv_threshold = (1.0 / (threshold * mismatch)).astype(np.float32)
        self.offset = rng.random(shape, dtype=np.float32)
        # level of the static background (log intensity 0), the state every pixel starts in
        self.level = np.floor(self.offset).astype(np.int32)

    def expose(
        self,
        pose: Pose,
        look: Look,
        step_start_us: np.ndarray,
        step_us: int,
        rng: np.random.Generator,
        out: Columns,
        *,
        budget: int = BLOCK_ELEMENTS,
    ) -> None:
        """Show the shape at each pose in turn; append the events of every step to ``out``.

        Step ``k`` covers ``[step_start_us[k], step_start_us[k] + step_us)``; its events get uniform
        random timestamps in it, and the shape is at ``pose[k]`` at the end of the step. ``budget``
        is the pixels x steps rendered at once (memory only; the events do not depend on it).
        """
        for k0, k1, box in iter_blocks(pose, look, self.sensor, budget=budget):
            xs = np.arange(box.x0, box.x1)
            ys = np.arange(box.y0, box.y1)
            sub = (slice(box.y0, box.y1), slice(box.x0, box.x1))
            logi = log_intensity(pose.take(slice(k0, k1)), xs, ys, look)
            logi *= self.inv_threshold[sub]
            logi += self.offset[sub]
            levels = np.floor(logi, out=logi).astype(np.int32)
            crossed = np.diff(levels, axis=0, prepend=self.level[sub][None])
            self.level[sub] = levels[-1]
            flat = np.flatnonzero(crossed)
            if not flat.size:
                continue
            signed = crossed.ravel()[flat]
            counts = np.abs(signed)
            k, iy, ix = np.unravel_index(flat, crossed.shape)
            which = np.repeat(np.arange(flat.size), counts)
            t = step_start_us[k0 + k[which]] + rng.integers(0, step_us, which.size)
            out.add(t, (ix + box.x0)[which], (iy + box.y0)[which], (signed > 0)[which])


def total_variation(
    pose: Pose, look: Look, sensor: SensorSize, *, stride_t: int = 4, stride_xy: int = 2
) -> float:
    """Estimate of the summed absolute log-intensity change over all pixels and steps of ``pose``.

    Rendered on a subsampled grid (every ``stride_t``-th step, every ``stride_xy``-th pixel in x and y)
    and scaled back by the pixel stride; a smooth motion loses little to the time stride.
    """
    coarse = pose.take(slice(stride_t - 1, None, stride_t))
    total = 0.0
    for k0, k1, box in iter_blocks(coarse, look, sensor, stride=stride_xy):
        first = max(k0 - 1, 0)
        xs = np.arange(box.x0, box.x1, stride_xy)
        ys = np.arange(box.y0, box.y1, stride_xy)
        logi = log_intensity(coarse.take(slice(first, k1)), xs, ys, look)
        if first == k0:  # the first step changes from the invisible background
            total += float(np.abs(logi[0]).sum(dtype=np.float64))
        total += float(np.abs(np.diff(logi, axis=0)).sum(dtype=np.float64))
    return total * stride_xy * stride_xy


def threshold_for_rate(variation: float, target_events: float) -> float:
    """Contrast threshold C (log units) at which ``variation`` yields ``target_events`` events on average."""
    return max(variation, 1e-6) / max(target_events, 1.0)
