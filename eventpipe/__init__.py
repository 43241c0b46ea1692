"""eventpipe: neuromorphic datasets from raw files to a trained spiking neural network.

Light to import: heavy parts (Dask pipeline, trainer) load on first use.
"""

from __future__ import annotations

from eventpipe._version import __version__
from eventpipe.errors import EventpipeError
from eventpipe.events import EVENT_DTYPE, SensorSize

__all__ = ["EVENT_DTYPE", "EventpipeError", "SensorSize", "__version__"]
