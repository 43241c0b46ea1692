"""N-MNIST (Orchard et al. 2015): MNIST digits seen by an ATIS camera during three saccades, 34x34.

Raw layout (``Train.zip`` and ``Test.zip`` extracted)::

    Train/<digit>/<id>.bin     60,000 ATIS 40-bit recordings, folders 0-9
    Test/<digit>/<id>.bin      10,000

The label is the digit folder; the split is the official Train/Test one. Small files are batched,
about 32 MB of raw bytes (~1,500 recordings) per part. Per-sample metadata: ``file`` (the file stem).
"""

from __future__ import annotations

from eventpipe.events import SensorSize
from eventpipe.sources.class_folders import SplitFolderSpec

SPLIT_FOLDERS = {"train": "Train", "test": "Test"}


SPEC = SplitFolderSpec.from_manifest(
    "nmnist",
    sensor=SensorSize(34, 34, 2),
    classes=tuple(str(d) for d in range(10)),
    size="~1.1 GB",
    meta_columns=("file",),
    split_folders=SPLIT_FOLDERS,
    suffix=".bin",
    reader_format="atis",
)
