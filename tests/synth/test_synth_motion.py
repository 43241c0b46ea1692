"""Gesture motions: each class moves the way its name says, and is invisible at both ends."""

from __future__ import annotations

import numpy as np
import pytest

from eventpipe.events import SensorSize
from eventpipe.synth.motion import GESTURE_CLASSES, Style, pose_track, warped_progress
from eventpipe.synth.recording import label_order

SENSOR = SensorSize(64, 48, 2)
TIMES = np.arange(1, 501) * 0.002  # one second in 2 ms steps


def _track(name: str, seed: int = 0):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    style = Style.draw(rng)
    return pose_track(GESTURE_CLASSES.index(name), TIMES, 1.0, SENSOR, style, rng)


@pytest.mark.parametrize("name", GESTURE_CLASSES)
def test_invisible_at_the_end_and_visible_inside(name: str) -> None:
    pose = _track(name)
    assert len(pose) == len(TIMES)
    assert pose.contrast[-1] == 0.0 and abs(pose.contrast[0]) < 0.05
    assert pose.contrast.max() > 0.3 and (pose.scale > 0).all()


@pytest.mark.parametrize(
    ("name", "field", "sign"),
    [
        ("move_right", "cx", 1),
        ("move_left", "cx", -1),
        ("move_up", "cy", -1),
        ("move_down", "cy", 1),
        ("rotate_cw", "theta", 1),
        ("rotate_ccw", "theta", -1),
        ("grow", "scale", 1),
        ("shrink", "scale", -1),
    ],
)
def test_direction_of_motion(name: str, field: str, sign: int) -> None:
    for seed in range(5):
        pose = _track(name, seed)
        visible = pose.contrast > 0.2 * pose.contrast.max()
        values = getattr(pose, field)[visible]
        step = np.diff(values)
        jumps = np.abs(step) > 10 * np.median(np.abs(step)) + 1e-9  # saw-tooth wrap between cycles
        assert (np.sign(step[~jumps]) * sign >= 0).mean() > 0.95, (name, seed)


def test_orbit_circles_and_blink_stays() -> None:
    orbit, blink = _track("orbit"), _track("blink")
    # least-squares circle x^2 + y^2 + a x + b y + c = 0 through the path
    design = np.stack([orbit.cx, orbit.cy, np.ones_like(orbit.cx)], axis=1)
    (a, b, c), *_ = np.linalg.lstsq(design, -(orbit.cx**2 + orbit.cy**2), rcond=None)
    radius = np.hypot(orbit.cx + a / 2, orbit.cy + b / 2)
    assert radius.min() > 5 and np.ptp(radius) < 1e-6 * radius.mean()
    assert np.ptp(blink.cx) == 0 and np.ptp(blink.cy) == 0
    assert (np.diff(np.sign(np.diff(blink.contrast))) != 0).sum() >= 3  # on-off-on-...


def test_warped_progress_is_monotone_from_0_to_1() -> None:
    s = np.linspace(0, 1, 1000)
    for burstiness in (0.0, 0.35, 1.5):
        w = warped_progress(np.random.default_rng(1), s, burstiness)
        assert w[0] == 0 and np.isclose(w[-1], 1) and (np.diff(w) > 0).all()
    assert np.allclose(warped_progress(np.random.default_rng(1), s, 0.0), s)


def test_label_order_covers_all_classes() -> None:
    seen_swap = seen_repeat = False
    for seed in range(40):
        order = label_order(np.random.default_rng(seed), 11)
        assert set(order) == set(range(11)) and len(order) in (11, 12)
        seen_swap |= order != sorted(order)
        seen_repeat |= len(order) == 12
    assert seen_swap and seen_repeat
