"""The built-in ``demo`` dataset: synthetic gestures small enough to prepare and train on a laptop CPU.

10 users x 3 lightings (30 recordings; users 09-10 form the test split) of 11-12 one-second gestures
on a 32x32 sensor: 342 samples of 7-32 k events (median 13 k), 5.0 M events, 40 MB of AEDAT 3.1,
generated locally on one core, with no download.
"""

from __future__ import annotations

import os
from pathlib import Path

from eventpipe.events import SensorSize
from eventpipe.synth.config import GestureConfig
from eventpipe.synth.layout import write_raw
from eventpipe.synth.motion import GESTURE_CLASSES

DEMO_SENSOR = SensorSize(32, 32, 2)
"""Sensor of the demo dataset: 32x32 pixels, 2 polarities."""

DEMO_CLASSES: tuple[str, ...] = GESTURE_CLASSES
"""The demo's 11 class names; label ``i`` (0-based) is CSV class ``i + 1``."""

DEMO_CONFIG = GestureConfig.build(
    users=10,
    lightings=3,
    test_users=2,
    sensor=DEMO_SENSOR,
    seed=20170601,
    events_per_second=12_000.0,
    gesture_seconds=1.0,
    noise_hz=0.5,
    time_step_us=2000,
)
"""Fixed parameters of the demo; changing any of them changes the files (and their checksums)."""


def write_demo_raw(raw_dir: str | os.PathLike[str], progress: bool = False) -> list[Path]:
    """Write the demo dataset's raw files (DVS128 Gesture layout) into ``raw_dir``; byte-identical every time.

    Returns the written paths: per recording its ``.aedat`` and ``_labels.csv``, then
    ``trials_to_train.txt`` and ``trials_to_test.txt``.
    """
    return write_raw(raw_dir, DEMO_CONFIG, progress=progress)
