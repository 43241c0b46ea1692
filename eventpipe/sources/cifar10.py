"""CIFAR-10, binary version: 32x32 colour images of 10 classes, 50,000 for training and 10,000 for testing.

Raw layout (``cifar-10-binary.tar.gz`` unpacked)::

    cifar-10-batches-bin/data_batch_1.bin ... data_batch_5.bin    10,000 records each (train)
    cifar-10-batches-bin/test_batch.bin                           10,000 records (test)
    cifar-10-batches-bin/batches.meta.txt                         the class names, one a line

Records are read by :func:`eventpipe.readers.images.read_cifar_binary`: no pickle is involved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eventpipe.events import SensorSize
from eventpipe.readers.images import read_cifar_batches
from eventpipe.sources.static import StaticImagesSpec

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
BATCH_FILES = {
    "train": tuple(f"data_batch_{i}.bin" for i in range(1, 6)),
    "test": ("test_batch.bin",),
}


@dataclass(frozen=True)
class CifarBinarySpec(StaticImagesSpec):
    """A dataset whose splits are CIFAR binary batch files."""

    def read_split(self, files: Sequence[Path]) -> tuple[np.ndarray, np.ndarray]:
        return read_cifar_batches(files, len(self.classes))


SPEC = CifarBinarySpec.from_manifest(
    "cifar10",
    sensor=SensorSize(32, 32, 3),
    classes=CIFAR10_CLASSES,
    size="170 MB",
    split_files=BATCH_FILES,
)
