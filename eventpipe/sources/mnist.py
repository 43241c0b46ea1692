"""MNIST: 28x28 grey handwritten digits in IDX files, 60,000 for training and 10,000 for testing.

Raw layout (the four gzipped IDX files as downloaded, not unpacked)::

    train-images-idx3-ubyte.gz   train-labels-idx1-ubyte.gz
    t10k-images-idx3-ubyte.gz    t10k-labels-idx1-ubyte.gz

Fashion-MNIST (:mod:`eventpipe.sources.fashion_mnist`) and the built-in ``demo-static``
(:mod:`eventpipe.sources.demo_static`) have the same layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eventpipe.events import SensorSize
from eventpipe.readers.images import IDX_FILES, read_idx_pair
from eventpipe.sources.static import StaticImagesSpec


@dataclass(frozen=True)
class IdxSpec(StaticImagesSpec):
    """A dataset whose splits are each an IDX images file and an IDX labels file."""

    def read_split(self, files: Sequence[Path]) -> tuple[np.ndarray, np.ndarray]:
        images_path, labels_path = files
        images, labels = read_idx_pair(images_path, labels_path, len(self.classes))
        self.check_images(images_path, images)
        return images, labels


SPEC = IdxSpec.from_manifest(
    "mnist",
    sensor=SensorSize(28, 28, 1),
    classes=tuple(str(d) for d in range(10)),
    size="11 MB",
    split_files=IDX_FILES,
)
