"""Gesture classes as motions of a textured shape: per-step pose tracks (position, angle, size, contrast).

A gesture is one or more *cycles* of a class-specific motion. The motion advances with a phase that a
random, smooth speed profile warps in time, so the event rate rises and falls within a gesture the way
a hand speeds up and pauses. Translations, growth and shrinking are saw-tooth motions whose shape
fades in at the start of each cycle and out at its end, so the wrap-around makes no jump.

Coordinates are pixels with ``y`` growing downwards (image convention); angles are radians, positive
clockwise on screen; contrast is in log-intensity units above the static background.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eventpipe.events import SensorSize

GESTURE_CLASSES: tuple[str, ...] = (
    "move_right",
    "move_left",
    "move_up",
    "move_down",
    "rotate_cw",
    "rotate_ccw",
    "grow",
    "shrink",
    "orbit",
    "blink",
    "other",
)
"""The 11 gesture classes, in label order (label ``i`` is ``GESTURE_CLASSES[i]``; CSV class ``i + 1``)."""

_DIRECTIONS = {
    "move_right": (1.0, 0.0),
    "move_left": (-1.0, 0.0),
    "move_up": (0.0, -1.0),
    "move_down": (0.0, 1.0),
}
_FADE = 0.12  # fraction of a saw-tooth cycle spent fading in (and out)
_RAMP_S = 0.08  # fade in/out of a whole gesture, seconds


@dataclass(frozen=True)
class Pose:
    """Per-step shape state: centre ``cx, cy`` (px), angle ``theta`` (rad), major radius ``scale`` (px),
    ``contrast`` (log-intensity units). Every field is a float64 array with one entry per step."""

    cx: np.ndarray
    cy: np.ndarray
    theta: np.ndarray
    scale: np.ndarray
    contrast: np.ndarray

    def __len__(self) -> int:
        return len(self.cx)

    def take(self, index: slice) -> Pose:
        """The poses of the selected steps."""
        return Pose(
            self.cx[index], self.cy[index], self.theta[index], self.scale[index], self.contrast[index]
        )


@dataclass(frozen=True)
class Look:
    """How the shape looks: an ellipse with a plaid texture, drawn in the shape's own frame.

    ``aspect`` is minor/major axis ratio; ``texture_cycles`` the plaid's spatial frequency in cycles per
    major radius; ``texture_depth`` in [0, 1) how much of the contrast it modulates; ``edge_px`` the
    width of the anti-aliased rim in pixels.
    """

    aspect: float
    texture_cycles: float
    texture_depth: float
    texture_phase: tuple[float, float]
    edge_px: float = 1.0


@dataclass(frozen=True)
class Style:
    """One user's habits, drawn once per user: the shape's look and how big, fast and where they gesture."""

    look: Look
    size: float  # radius multiplier
    speed: float  # cycles-per-second multiplier
    offset: tuple[float, float]  # centre bias, fraction of the sensor's smaller side
    orbit_sign: float  # +1 clockwise, -1 counter-clockwise

    @classmethod
    def draw(cls, rng: np.random.Generator) -> Style:
        """A random user style (the spread between users that a test split by user must generalise over)."""
        look = Look(
            aspect=float(rng.uniform(0.45, 0.75)),
            texture_cycles=float(rng.uniform(0.9, 1.5)),
            texture_depth=float(rng.uniform(0.3, 0.6)),
            texture_phase=(float(rng.uniform(0, 2 * np.pi)), float(rng.uniform(0, 2 * np.pi))),
        )
        return cls(
            look=look,
            size=float(rng.uniform(0.85, 1.15)),
            speed=float(rng.uniform(0.85, 1.2)),
            offset=(float(rng.uniform(-0.06, 0.06)), float(rng.uniform(-0.06, 0.06))),
            orbit_sign=float(rng.choice([-1.0, 1.0])),
        )


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def warped_progress(rng: np.random.Generator, s: np.ndarray, burstiness: float) -> np.ndarray:
    """Map progress ``s`` in [0, 1] to a warped progress in [0, 1] driven by a random speed profile.

    The speed is ``exp(burstiness * g(s))`` with ``g`` a sum of three random sinusoids of unit standard
    deviation, so ``burstiness = 0`` is constant speed and ``1`` gives bursts and near-pauses.
    """
    freqs = rng.uniform(0.5, 3.0, 3)
    phases = rng.uniform(0, 2 * np.pi, 3)
    g = np.sin(2 * np.pi * freqs[:, None] * s[None, :] + phases[:, None]).sum(axis=0) * np.sqrt(2.0 / 3.0)
    speed = np.exp(burstiness * g)
    warped = np.cumsum(speed)
    warped -= warped[0]
    return warped / warped[-1] if warped[-1] > 0 else s


def pose_track(
    label: int,
    times_s: np.ndarray,
    duration_s: float,
    sensor: SensorSize,
    style: Style,
    rng: np.random.Generator,
    *,
    burstiness: float = 0.35,
) -> Pose:
    """The shape's pose at each of ``times_s`` (seconds from the gesture's start) for class ``label``.

    Contrast is zero at ``t <= 0`` and ``t >= duration_s``, so a gesture starts and ends with the shape
    invisible and every event of it falls inside its labelled window.
    """
    side = float(min(sensor.width, sensor.height))
    n_cycles = max(1, int(round(duration_s * style.speed * rng.uniform(0.8, 1.1))))
    s = np.clip(times_s / duration_s, 0.0, 1.0)
    phase = n_cycles * warped_progress(rng, s, burstiness)
    frac = phase % 1.0
    ramp = min(_RAMP_S, duration_s / 8)
    envelope = _smoothstep(times_s / ramp) * _smoothstep((duration_s - times_s) / ramp)
    cycle_envelope = _smoothstep(frac / _FADE) * _smoothstep((1.0 - frac) / _FADE)

    cx0 = (sensor.width - 1) / 2 + side * (style.offset[0] + rng.uniform(-0.05, 0.05))
    cy0 = (sensor.height - 1) / 2 + side * (style.offset[1] + rng.uniform(-0.05, 0.05))
    radius = side * 0.17 * style.size * rng.uniform(0.9, 1.1)
    amplitude = float(rng.uniform(0.7, 1.3))
    theta0 = float(rng.uniform(0, 2 * np.pi))
    ones = np.ones_like(times_s)
    cx, cy, theta, scale = cx0 * ones, cy0 * ones, theta0 * ones, radius * ones
    contrast = amplitude * envelope

    name = GESTURE_CLASSES[label]
    if name in _DIRECTIONS:
        dx, dy = _DIRECTIONS[name]
        travel = side * rng.uniform(0.45, 0.6) * (frac - 0.5)
        sway = side * 0.03 * np.sin(2 * np.pi * frac + rng.uniform(0, 2 * np.pi))
        cx = cx0 + dx * travel - dy * sway
        cy = cy0 + dy * travel + dx * sway
        contrast = contrast * cycle_envelope
    elif name in ("rotate_cw", "rotate_ccw"):
        sign = 1.0 if name == "rotate_cw" else -1.0
        theta = theta0 + sign * 2 * np.pi * rng.uniform(0.5, 0.8) * phase
        scale = scale * 1.2
    elif name in ("grow", "shrink"):
        ramp_up = frac if name == "grow" else 1.0 - frac
        scale = radius * (0.3 + 1.2 * ramp_up)
        contrast = contrast * cycle_envelope
    elif name == "orbit":
        angle = rng.uniform(0, 2 * np.pi) + style.orbit_sign * 2 * np.pi * phase
        orbit_radius = side * rng.uniform(0.18, 0.24)
        cx = cx0 + orbit_radius * np.cos(angle)
        cy = cy0 + orbit_radius * np.sin(angle)
        theta = theta0 + style.orbit_sign * 2 * np.pi * phase
        scale = scale * 0.8
    elif name == "blink":
        blinks = rng.integers(2, 4)
        contrast = contrast * 0.5 * (1.0 - np.cos(2 * np.pi * blinks * phase))
        scale = scale * 1.1
    elif name == "other":
        jitter = _jitter(rng, phase, count=3, freq=(1.5, 4.0))
        cx = cx0 + side * 0.07 * jitter[0]
        cy = cy0 + side * 0.07 * jitter[1]
        theta = theta0 + 0.4 * jitter[2]
        scale = radius * (1.0 + 0.15 * _jitter(rng, phase, count=1, freq=(1.5, 4.0))[0])
    return Pose(cx, cy, theta, scale, contrast)


def _jitter(
    rng: np.random.Generator, phase: np.ndarray, *, count: int, freq: tuple[float, float]
) -> np.ndarray:
    """``count`` random smooth wiggles in [-1, 1] (two sinusoids each, frequencies in cycles per phase unit)."""
    f = rng.uniform(*freq, (count, 2))
    ph = rng.uniform(0, 2 * np.pi, (count, 2))
    waves = np.sin(2 * np.pi * f[:, :, None] * phase[None, None, :] + ph[:, :, None])
    return waves.sum(axis=1) / 2.0
