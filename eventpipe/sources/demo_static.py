"""The built-in ``demo-static`` dataset: digit-like 28x28 grey images generated locally, in MNIST's IDX layout.

``eventpipe download demo-static`` writes it with :func:`eventpipe.synth.digits.write_demo_static_raw`
(no network). It reads, converts and trains exactly like ``mnist``, small enough for a CPU: a fully
connected spiking net learns it in a few epochs.
"""

from __future__ import annotations

from eventpipe.events import SensorSize
from eventpipe.readers.images import IDX_FILES
from eventpipe.sources.mnist import IdxSpec

SPEC = IdxSpec.from_manifest(
    "demo-static",
    sensor=SensorSize(28, 28, 1),
    classes=tuple(str(d) for d in range(10)),
    size="5 MB (generated)",
    split_files=IDX_FILES,
)
