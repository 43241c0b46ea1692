"""Deterministic synthetic event-camera data in the DVS128 Gesture raw layout.

A textured shape performs one of 11 gestures (translations, rotations, growth, orbit, blink, ...) in
front of a simulated event camera: each pixel fires ON/OFF events when its log intensity crosses a
contrast threshold, on top of background activity, hot pixels and lamp flicker. Users, lightings and
gestures vary at random but reproducibly: the same arguments write the same bytes.

- :func:`write_gesture_raw`: any size, up to full DVS128 Gesture scale (128x128, real event rates).
- :func:`write_demo_raw`: the built-in ``demo`` dataset (:data:`DEMO_SENSOR`, :data:`DEMO_CLASSES`).
- :func:`gesture_like_sample`: one sample with an exact event count, for benchmarks.
"""

from __future__ import annotations

from eventpipe.synth.config import LIGHTINGS, GestureConfig
from eventpipe.synth.demo import DEMO_CLASSES, DEMO_CONFIG, DEMO_SENSOR, write_demo_raw
from eventpipe.synth.layout import write_gesture_raw, write_raw
from eventpipe.synth.motion import GESTURE_CLASSES
from eventpipe.synth.sample import gesture_like_sample

__all__ = [
    "DEMO_CLASSES",
    "DEMO_CONFIG",
    "DEMO_SENSOR",
    "GESTURE_CLASSES",
    "LIGHTINGS",
    "GestureConfig",
    "gesture_like_sample",
    "write_demo_raw",
    "write_gesture_raw",
    "write_raw",
]
