"""Parameters of a synthetic gesture dataset: who records, under which lighting, how fast and how noisy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from eventpipe.errors import ConfigError
from eventpipe.events import SensorSize
from eventpipe.synth.motion import GESTURE_CLASSES

LIGHTINGS: tuple[str, ...] = ("fluorescent", "fluorescent_led", "lab", "led", "natural")
"""Lighting conditions of DVS128 Gesture, in the order its file names use."""

GESTURE_SENSOR = SensorSize(128, 128, 2)
"""DVS128 geometry: 128x128 pixels, 2 polarities."""


@dataclass(frozen=True)
class LightingProfile:
    """How a lighting condition changes a recording.

    ``signal`` scales the event rate of gestures, ``noise`` the background activity; lamps that flicker
    make ``flicker_fraction`` of the pixels fire phase-locked events at ``flicker_hz`` each.
    """

    signal: float
    noise: float
    flicker_fraction: float
    flicker_hz: float


LIGHTING_PROFILES: dict[str, LightingProfile] = {
    "fluorescent": LightingProfile(signal=1.0, noise=1.0, flicker_fraction=0.06, flicker_hz=4.0),
    "fluorescent_led": LightingProfile(signal=1.05, noise=1.0, flicker_fraction=0.04, flicker_hz=3.0),
    "lab": LightingProfile(signal=0.85, noise=1.5, flicker_fraction=0.0, flicker_hz=0.0),
    "led": LightingProfile(signal=1.1, noise=0.8, flicker_fraction=0.02, flicker_hz=3.0),
    "natural": LightingProfile(signal=1.2, noise=0.6, flicker_fraction=0.0, flicker_hz=0.0),
}


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ConfigError(f"Expected {name} > 0. Got {value!r} instead.")


@dataclass(frozen=True)
class GestureConfig:
    """A synthetic dataset in the DVS128 Gesture raw layout.

    Parameters
    ----------
    users : user numbers (``userXX`` in file names, 1..99).
    lightings : lighting names, a subset of :data:`LIGHTINGS`.
    lightings_per_user : record each user under this many of ``lightings`` (rotating with the user
        number, so users differ as in the real dataset); ``None`` records every user under all of them.
    test_users : users whose recordings go to ``trials_to_test.txt``; the rest are training users.
    classes : number of gesture classes, the first ``classes`` of :data:`GESTURE_CLASSES`.
    sensor : sensor geometry in pixels.
    seed : seed of every random draw; the same seed writes the same bytes.
    events_per_second : mean rate of the shape's events during a gesture, events/s (noise comes on top).
    gesture_seconds : mean gesture duration, seconds (each varies by +-15 %).
    noise_hz : background-activity rate per pixel, Hz.
    hot_pixel_fraction : expected fraction of hot pixels (20-150 Hz each).
    time_step_us : simulation step, µs; events are spread uniformly inside their step.
    burstiness : how strongly the motion speed, hence the event rate, varies within a gesture (0 = steady).
    """

    users: tuple[int, ...] = tuple(range(1, 30))
    lightings: tuple[str, ...] = LIGHTINGS
    lightings_per_user: int | None = None
    test_users: tuple[int, ...] = tuple(range(24, 30))
    classes: int = len(GESTURE_CLASSES)
    sensor: SensorSize = GESTURE_SENSOR
    seed: int = 0
    events_per_second: float = 150_000.0
    gesture_seconds: float = 6.0
    noise_hz: float = 0.2
    hot_pixel_fraction: float = 0.002
    time_step_us: int = 1000
    burstiness: float = 0.35
    _recordings: tuple[tuple[int, str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.users:
            raise ConfigError("Expected at least one user. Got users=() instead.")
        for user in self.users:
            if not 1 <= user <= 99:
                raise ConfigError(
                    f"Expected user numbers in the inclusive range (1, 99). Got {user} instead."
                )
        if len(set(self.users)) != len(self.users):
            raise ConfigError(f"Expected distinct user numbers. Got users={self.users} instead.")
        for user in self.test_users:
            if user not in self.users:
                raise ConfigError(f"test user {user} is not one of users={self.users}.")
        if not self.lightings:
            raise ConfigError("Expected at least one lighting. Got lightings=() instead.")
        for name in self.lightings:
            if name not in LIGHTING_PROFILES:
                raise ConfigError(
                    f"Unknown value {name!r} for argument lightings. Valid values are {set(LIGHTINGS)}."
                )
        per_user = self.lightings_per_user
        if per_user is not None and not 1 <= per_user <= len(self.lightings):
            raise ConfigError(
                f"Expected lightings_per_user in the inclusive range (1, {len(self.lightings)}). Got {per_user} instead."
            )
        if not 1 <= self.classes <= len(GESTURE_CLASSES):
            raise ConfigError(
                f"Expected classes in the inclusive range (1, {len(GESTURE_CLASSES)}). Got {self.classes} instead."
            )
        object.__setattr__(self, "sensor", SensorSize.parse(self.sensor))
        if self.sensor.width < 8 or self.sensor.height < 8:
            raise ConfigError(f"Expected a sensor of at least 8x8 pixels. Got {tuple(self.sensor)} instead.")
        if self.sensor.polarities != 2:
            raise ConfigError(f"Expected sensor.polarities == 2. Got {self.sensor.polarities} instead.")
        _positive("events_per_second", self.events_per_second)
        _positive("gesture_seconds", self.gesture_seconds)
        _positive("time_step_us", self.time_step_us)
        if self.gesture_seconds * 1e6 < 20 * self.time_step_us:
            raise ConfigError(
                f"Expected gesture_seconds to span at least 20 time steps of {self.time_step_us} µs. "
                f"Got {self.gesture_seconds} s instead."
            )
        for name in ("noise_hz", "hot_pixel_fraction", "burstiness"):
            if getattr(self, name) < 0:
                raise ConfigError(f"Expected {name} >= 0. Got {getattr(self, name)!r} instead.")
        if self.hot_pixel_fraction > 0.1:
            raise ConfigError(f"Expected hot_pixel_fraction <= 0.1. Got {self.hot_pixel_fraction} instead.")
        object.__setattr__(self, "_recordings", self._plan_recordings())

    def _plan_recordings(self) -> tuple[tuple[int, str], ...]:
        n = len(self.lightings)
        per_user = n if self.lightings_per_user is None else self.lightings_per_user
        recordings = []
        for user in self.users:
            chosen = {self.lightings[(user + j) % n] for j in range(per_user)}
            recordings += [(user, name) for name in self.lightings if name in chosen]
        return tuple(recordings)

    @property
    def recordings(self) -> tuple[tuple[int, str], ...]:
        """``(user, lighting)`` of every recording, by user then lighting."""
        return self._recordings

    @staticmethod
    def recording_name(user: int, lighting: str) -> str:
        """File stem of a recording, e.g. ``user01_natural``."""
        return f"user{user:02d}_{lighting}"

    @classmethod
    def build(
        cls,
        *,
        users: int | Sequence[int],
        lightings: int | Sequence[str],
        test_users: int | Sequence[int] | None = None,
        **params: object,
    ) -> GestureConfig:
        """Normalise the convenient forms: ``users=10`` means users 1..10; ``lightings=3`` means three
        lightings per user out of all five; ``test_users=2`` (default: a fifth, at least one) means
        the last two users."""
        if isinstance(users, int):
            if users < 1:
                raise ConfigError(f"Expected users >= 1. Got {users} instead.")
            user_ids = tuple(range(1, users + 1))
        else:
            user_ids = tuple(int(u) for u in users)
        if isinstance(lightings, int):
            names, per_user = LIGHTINGS, lightings
        else:
            names, per_user = tuple(lightings), None
        if test_users is None:
            test_users = max(1, round(len(user_ids) / 5)) if len(user_ids) > 1 else 0
        if isinstance(test_users, int):
            if not 0 <= test_users <= len(user_ids):
                raise ConfigError(
                    f"Expected test_users in the inclusive range (0, {len(user_ids)}). Got {test_users} instead."
                )
            tests = user_ids[len(user_ids) - test_users :]
        else:
            tests = tuple(int(u) for u in test_users)
        return cls(users=user_ids, lightings=names, lightings_per_user=per_user, test_users=tests, **params)  # type: ignore[arg-type]
