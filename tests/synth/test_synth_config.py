"""GestureConfig: the convenient forms, the real dataset's defaults, and clear errors."""

from __future__ import annotations

import pytest

from eventpipe.errors import ConfigError
from eventpipe.synth import LIGHTINGS, GestureConfig


def test_defaults_mimic_the_real_dataset() -> None:
    cfg = GestureConfig()
    assert cfg.sensor == (128, 128, 2) and cfg.classes == 11
    assert cfg.users == tuple(range(1, 30)) and cfg.test_users == tuple(range(24, 30))
    assert len(cfg.recordings) == 29 * 5
    assert LIGHTINGS == ("fluorescent", "fluorescent_led", "lab", "led", "natural")


def test_build_forms() -> None:
    cfg = GestureConfig.build(users=10, lightings=3)
    assert cfg.users == tuple(range(1, 11)) and cfg.test_users == (9, 10)
    assert len(cfg.recordings) == 30
    assert all(sum(u == user for u, _ in cfg.recordings) == 3 for user in cfg.users)
    cfg = GestureConfig.build(users=[4, 7], lightings=["lab", "natural"], test_users=[7])
    assert cfg.recordings == ((4, "lab"), (4, "natural"), (7, "lab"), (7, "natural"))
    assert GestureConfig.build(users=1, lightings=1).test_users == ()
    assert GestureConfig.recording_name(3, "led") == "user03_led"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"users": 0, "lightings": 1}, "users >= 1"),
        ({"users": [0], "lightings": 1}, "user numbers"),
        ({"users": [1, 1], "lightings": 1}, "distinct"),
        ({"users": 3, "lightings": ["sunny"]}, "'sunny' for argument lightings. Valid values"),
        ({"users": 3, "lightings": 6}, "lightings_per_user"),
        ({"users": 3, "lightings": 1, "test_users": [5]}, "test user 5"),
        ({"users": 3, "lightings": 1, "test_users": 4}, "test_users"),
        ({"users": 3, "lightings": 1, "classes": 12}, "classes"),
        ({"users": 3, "lightings": 1, "sensor": (4, 4, 2)}, "at least 8x8"),
        ({"users": 3, "lightings": 1, "sensor": (32, 32, 1)}, "polarities"),
        ({"users": 3, "lightings": 1, "events_per_second": 0}, "events_per_second"),
        ({"users": 3, "lightings": 1, "gesture_seconds": 0.01}, "gesture_seconds"),
        ({"users": 3, "lightings": 1, "noise_hz": -1}, "noise_hz"),
        ({"users": 3, "lightings": 1, "hot_pixel_fraction": 0.5}, "hot_pixel_fraction"),
    ],
)
def test_bad_values_are_named(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        GestureConfig.build(**kwargs)  # type: ignore[arg-type]
