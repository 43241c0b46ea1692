"""Single DVS128-Gesture-like samples with an exact event count, for benchmarks."""

from __future__ import annotations

import numpy as np

from eventpipe.errors import ConfigError
from eventpipe.events import EVENT_DTYPE, Events, SensorSize
from eventpipe.synth.config import GESTURE_SENSOR
from eventpipe.synth.motion import GESTURE_CLASSES, Style, pose_track
from eventpipe.synth.noise import NoiseModel
from eventpipe.synth.pixels import Columns, PixelArray, threshold_for_rate, total_variation
from eventpipe.synth.recording import sorted_events

_OVERSHOOT = 1.15  # aim this much above n_events, then drop a random subset down to exactly n_events


def gesture_like_sample(
    rng: np.random.Generator,
    n_events: int,
    sensor: SensorSize = GESTURE_SENSOR,
    duration_us: int = 6_000_000,
    *,
    label: int | None = None,
    burstiness: float = 1.0,
    noise_hz: float = 0.2,
    time_step_us: int = 2000,
) -> Events:
    """One gesture sample of exactly ``n_events`` events spanning about ``duration_us`` µs.

    Like a cut DVS128 Gesture sample: a textured shape performing a gesture (random class unless
    ``label`` is given) over repeated cycles, at a rate that rises and falls (``burstiness``), plus
    background noise and hot pixels. Timestamps are absolute (the sample starts 10-60 s into a camera
    clock) and sorted.

    Parameters
    ----------
    rng : the only source of randomness; the same generator state gives the same sample.
    n_events : exact number of events (>= 0); e.g. 300_000-1_000_000 for Gesture-like rates.
    sensor : geometry in pixels, 2 polarities.
    duration_us : sample length, µs (at least 20 time steps).
    label : 0-based class of :data:`GESTURE_CLASSES`; random when ``None``.
    burstiness : how strongly the event rate varies over time (0 = steady).
    noise_hz : background activity per pixel, Hz.
    time_step_us : simulation step, µs.

    Examples
    --------
    >>> ev = gesture_like_sample(np.random.default_rng(0), 20_000, SensorSize(32, 32, 2), 1_000_000)
    >>> len(ev), bool((ev["t"][1:] >= ev["t"][:-1]).all()), int(ev["x"].max()) < 32
    (20000, True, True)
    """
    sensor = SensorSize.parse(sensor)
    if n_events < 0:
        raise ConfigError(f"Expected n_events >= 0. Got {n_events} instead.")
    if time_step_us < 1 or duration_us < 20 * time_step_us:
        raise ConfigError(
            f"Expected duration_us >= 20 * time_step_us = {20 * time_step_us} and time_step_us >= 1. "
            f"Got duration_us={duration_us}, time_step_us={time_step_us} instead."
        )
    if label is None:
        label = int(rng.integers(0, len(GESTURE_CLASSES)))
    elif not 0 <= label < len(GESTURE_CLASSES):
        raise ConfigError(
            f"Expected label in the inclusive range (0, {len(GESTURE_CLASSES) - 1}). Got {label} instead."
        )
    if n_events == 0:
        return np.empty(0, dtype=EVENT_DTYPE)

    n_steps = duration_us // time_step_us
    duration_s = n_steps * time_step_us / 1e6
    style = Style.draw(rng)
    pose = pose_track(
        label,
        np.arange(1, n_steps + 1) * (time_step_us / 1e6),
        duration_s,
        sensor,
        style,
        rng,
        burstiness=burstiness,
    )
    noise = NoiseModel.draw(
        rng, sensor, background_hz=noise_hz, hot_fraction=0.002, flicker_fraction=0.0, flicker_hz=0.0
    )
    start = int(rng.integers(10_000_000, 60_000_000))
    starts = start + np.arange(n_steps, dtype=np.int64) * time_step_us
    stop = start + n_steps * time_step_us
    expected_noise = duration_s * (noise_hz * sensor.width * sensor.height + float(noise.hot_hz.sum()))
    target = _OVERSHOOT * max(n_events - expected_noise, 0.2 * n_events)
    threshold = threshold_for_rate(total_variation(pose, style.look, sensor), target)
    while True:
        cols = Columns()
        PixelArray(sensor, threshold, rng).expose(pose, style.look, starts, time_step_us, rng, cols)
        noise.fire(rng, start, stop, cols)
        if len(cols) >= n_events:
            break
        threshold *= 0.8 * len(cols) / n_events if len(cols) else 0.1  # rare: the estimate was too low
    events = sorted_events(cols)
    keep = np.sort(rng.choice(len(events), n_events, replace=False))
    return events[keep]
