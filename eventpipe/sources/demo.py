"""The built-in ``demo`` dataset: synthetic gestures generated locally, in the DVS128 Gesture raw layout.

``eventpipe download demo`` writes it with :func:`eventpipe.synth.write_demo_raw` (no network), and
it converts exactly like ``dvs128``: same trial lists, labels files and slicing, on a 32x32 sensor.
"""

from __future__ import annotations

from eventpipe.sources.dvs128 import GestureLayoutSpec
from eventpipe.synth.demo import DEMO_CLASSES, DEMO_SENSOR

SPEC = GestureLayoutSpec.from_manifest(
    "demo",
    sensor=DEMO_SENSOR,
    classes=DEMO_CLASSES,
    size="38 MB (generated)",
    meta_columns=("user", "lighting", "recording", "segment"),
)
