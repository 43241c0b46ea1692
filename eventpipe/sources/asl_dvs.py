"""ASL-DVS (Bi et al., ICCV 2019): 24 American Sign Language letters recorded with a DAVIS240c.

Raw layout (``ICCV2019_DVS_dataset.zip`` and the per-letter zips inside it extracted)::

    <letter>/<letter>_NNNN.mat    100,800 recordings, 4,200 per letter, letters a-y without j
                                  (j and z need motion); keys ts, x, y, pol

Labels are 0-23 in alphabetical order of the 24 letters. The files store y pointing up; events are
flipped to image orientation (``y = 179 - y``), as tonic does. No official split: by default 20 % of each
letter goes to test, chosen by :func:`~eventpipe.sources.splits.hash_split` of the file names
(option ``test_fraction``). Per-sample metadata: ``file``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eventpipe.errors import EventValidationError
from eventpipe.events import SensorSize
from eventpipe.sources.base import Unit
from eventpipe.sources.class_folders import ClassFolderSpec
from eventpipe.store.samples import SampleBatch

CLASSES = tuple(c for c in "abcdefghiklmnopqrstuvwxy")

class ASLDVSSpec(ClassFolderSpec):
    """Class folders of ``.mat`` files; y flipped to image orientation."""

    def read_unit(self, raw_dir: Path, unit: Unit, options: Mapping[str, Any]) -> SampleBatch:
        batch = super().read_unit(raw_dir, unit, options)
        y = batch.events["y"]
        top = self.sensor.height - 1
        if len(y) and int(y.max()) > top:
            raise EventValidationError(
                f"{unit.path}: field y out of sensor bounds: y = {int(y.max())}, valid range is [0, {top}]."
            )
        batch.events["y"] = top - y
        return batch


SPEC = ASLDVSSpec.from_manifest(
    "asl-dvs",
    sensor=SensorSize(240, 180, 2),
    classes=CLASSES,
    size="~5.8 GB",
    meta_columns=("file",),
    defaults={"test_fraction": 0.2},
    marker=CLASSES,
    any_marker=True,
    suffix=".mat",
    reader_format="mat",
)
