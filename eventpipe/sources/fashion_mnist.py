"""Fashion-MNIST: 28x28 grey images of 10 kinds of clothing, in MNIST's IDX layout and splits."""

from __future__ import annotations

from eventpipe.events import SensorSize
from eventpipe.readers.images import IDX_FILES
from eventpipe.sources.mnist import IdxSpec

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot")

SPEC = IdxSpec.from_manifest(
    "fashion-mnist",
    sensor=SensorSize(28, 28, 1),
    classes=FASHION_CLASSES,
    size="30 MB",
    split_files=IDX_FILES,
)
