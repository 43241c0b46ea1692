"""One synthetic recording: a timeline of labelled gestures separated by noise-only gaps, as events.

Timestamps are absolute microseconds of a camera clock that started tens of seconds before the
recording, as in DVS128 Gesture. The label order is mostly 1..n but some recordings swap two
neighbouring gestures or repeat one, as the real label files do.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from eventpipe.events import EVENT_DTYPE, Events
from eventpipe.synth.config import LIGHTING_PROFILES, LIGHTINGS, GestureConfig
from eventpipe.synth.motion import Pose, Style, pose_track
from eventpipe.synth.noise import NoiseModel
from eventpipe.synth.pixels import Columns, PixelArray, threshold_for_rate, total_variation

SWAP_PROBABILITY = 0.4
REPEAT_PROBABILITY = 0.4


@dataclass(frozen=True)
class Segment:
    """One labelled gesture: 0-based ``label`` over ``[start_us, stop_us)``."""

    label: int
    start_us: int
    stop_us: int


def user_style(config: GestureConfig, user: int) -> Style:
    """The habits of ``user``, the same in every recording of that user."""
    return Style.draw(np.random.default_rng([config.seed, user]))


def label_order(rng: np.random.Generator, classes: int) -> list[int]:
    """0-based labels in recording order: ascending, sometimes with a swapped pair or a repeated class."""
    order = list(range(classes))
    if classes > 1 and rng.random() < SWAP_PROBABILITY:
        i = int(rng.integers(0, classes - 1))
        order[i], order[i + 1] = order[i + 1], order[i]
    if rng.random() < REPEAT_PROBABILITY:
        i = int(rng.integers(0, classes))
        order.insert(i + 1, order[i])
    return order


def plan_segments(rng: np.random.Generator, config: GestureConfig) -> tuple[list[Segment], int, int]:
    """Gesture windows and the recording's ``[begin_us, end_us)``; durations are whole time steps."""
    step = config.time_step_us
    begin = int(rng.integers(20_000_000, 60_000_000))
    t = begin + int(rng.uniform(1.0, 3.0) * 1e6)
    segments = []
    for label in label_order(rng, config.classes):
        n_steps = max(20, int(round(config.gesture_seconds * rng.uniform(0.85, 1.15) * 1e6 / step)))
        segments.append(Segment(label, t, t + n_steps * step))
        gap_s = config.gesture_seconds * rng.uniform(0.3, 0.6) + rng.uniform(0.1, 0.5)
        t += n_steps * step + int(gap_s * 1e6)
    end = segments[-1].stop_us + int(rng.uniform(0.5, 2.0) * 1e6)
    return segments, begin, end


def synthesize_recording(config: GestureConfig, user: int, lighting: str) -> tuple[Events, list[Segment]]:
    """Events (sorted by t) and labelled segments of one recording; deterministic in (seed, user, lighting)."""
    rng = np.random.default_rng([config.seed, user, 1 + LIGHTINGS.index(lighting)])
    profile = LIGHTING_PROFILES[lighting]
    style = user_style(config, user)
    segments, begin, end = plan_segments(rng, config)
    step = config.time_step_us

    poses: list[Pose] = []
    for seg in segments:
        n_steps = (seg.stop_us - seg.start_us) // step
        times_s = np.arange(1, n_steps + 1) * (step / 1e6)
        duration_s = n_steps * step / 1e6
        poses.append(
            pose_track(
                seg.label, times_s, duration_s, config.sensor, style, rng, burstiness=config.burstiness
            )
        )
    # Normalise each gesture's contrast half-way to the recording's mean variation: classes keep their
    # natural order of event rates (blinks outfire slow growth) but within a ~3x range, not ~10x.
    variations = np.array([total_variation(pose, style.look, config.sensor) for pose in poses])
    gains = np.sqrt(variations.mean() / np.maximum(variations, 1e-9))
    poses = [
        dataclasses.replace(pose, contrast=pose.contrast * gain)
        for pose, gain in zip(poses, gains, strict=True)
    ]
    variation = float((variations * gains).sum())
    seconds = sum(seg.stop_us - seg.start_us for seg in segments) / 1e6
    target = config.events_per_second * profile.signal * rng.uniform(0.8, 1.25) * seconds
    pixels = PixelArray(config.sensor, threshold_for_rate(variation, target), rng)
    noise = NoiseModel.draw(
        rng,
        config.sensor,
        background_hz=config.noise_hz * profile.noise,
        hot_fraction=config.hot_pixel_fraction,
        flicker_fraction=profile.flicker_fraction,
        flicker_hz=profile.flicker_hz,
    )

    windows: list[Events] = []
    t = begin
    for seg, pose in zip(segments, poses, strict=True):
        gap = Columns()
        noise.fire(rng, t, seg.start_us, gap)
        gesture = Columns()
        starts = seg.start_us + np.arange(len(pose), dtype=np.int64) * step
        pixels.expose(pose, style.look, starts, step, rng, gesture)
        noise.fire(rng, seg.start_us, seg.stop_us, gesture)
        windows += [sorted_events(gap), sorted_events(gesture)]
        t = seg.stop_us
    tail = Columns()
    noise.fire(rng, t, end, tail)
    windows.append(sorted_events(tail))
    return np.concatenate(windows), segments


def sorted_events(cols: Columns) -> Events:
    """The collected columns as an event array sorted by t (stable, so ties keep their order)."""
    t, x, y, p = cols.concat()
    order = np.argsort(t, kind="stable")
    events = np.empty(len(t), dtype=EVENT_DTYPE)
    events["t"] = t[order]
    events["x"] = x[order]
    events["y"] = y[order]
    events["p"] = p[order]
    return events
