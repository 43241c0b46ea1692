"""Spiking Heidelberg Digits (Cramer et al. 2020): spoken digits 0-9 in English and German, 700 channels.

Raw layout (``shd_train.h5.zip`` / ``shd_test.h5.zip``, or the ``.gz`` copies, decompressed)::

    shd_train.h5    8,156 samples    spikes/times (seconds), spikes/units (0-699), labels (0-19),
    shd_test.h5     2,264 samples    extra/speaker, extra/keys

Events are ``t`` in µs, ``x`` = channel, ``y = 0``, ``p = 0`` on a ``(700, 1, 1)`` sensor. Each file is
one part, read in one vectorised pass. Per-sample metadata: ``speaker`` (-1 when the file has none).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eventpipe.events import SensorSize
from eventpipe.sources.base import DatasetSpec, Part, Unit, find_dir, make_parts, relpath
from eventpipe.store.samples import SampleBatch

FILES = {"train": "shd_train.h5", "test": "shd_test.h5"}
CLASSES = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    "null", "eins", "zwei", "drei", "vier", "fuenf", "sechs", "sieben", "acht", "neun",
)
"""Labels 0-9 are the English digits, 10-19 the German ones (the order of ``extra/keys``)."""


@dataclass(frozen=True)
class SHDSpec(DatasetSpec):
    """One HDF5 file per split."""

    def locate(self, raw_dir: Path) -> Path:
        return find_dir(raw_dir, tuple(FILES[s] for s in self.splits), f"{self.title} HDF5 files")

    def plan(self, raw_dir: Path, options: Mapping[str, Any]) -> list[Part]:
        folder = self.locate(raw_dir)
        return make_parts({s: [[Unit(relpath(folder / FILES[s], raw_dir))]] for s in self.splits})

    def read_unit(self, raw_dir: Path, unit: Unit, options: Mapping[str, Any]) -> SampleBatch:
        from eventpipe.readers.hdf5 import read_hdf5_samples

        samples = read_hdf5_samples(raw_dir / unit.path)
        n = len(samples.labels)
        speaker = samples.meta.get("speaker")
        speakers = np.asarray(speaker, dtype=np.int64).tolist() if speaker is not None else [-1] * n
        return SampleBatch(samples.events, np.asarray(samples.offsets, dtype=np.int64),
                           np.asarray(samples.labels, dtype=np.int64), {"speaker": speakers})


SPEC = SHDSpec.from_manifest(
    "shd",
    sensor=SensorSize(700, 1, 1),
    classes=CLASSES,
    size="",
    meta_columns=("speaker",),
)
