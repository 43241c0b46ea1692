"""N-MNIST (Orchard et al. 2015): MNIST digits seen by an ATIS camera during three saccades, 34x34.

Raw layout (``Train.zip`` and ``Test.zip`` extracted)::

    Train/<digit>/<id>.bin     60,000 ATIS 40-bit recordings, folders 0-9
    Test/<digit>/<id>.bin      10,000

The label is the digit folder; the split is the official Train/Test one. Small files are batched,
about 32 MB of raw bytes (~1,500 recordings) per part. Per-sample metadata: ``file`` (the file stem).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eventpipe.events import SensorSize
from eventpipe.sources.base import (
    DatasetSpec,
    Part,
    Unit,
    batch_by_size,
    class_files,
    find_dir,
    make_parts,
    relpath,
)
from eventpipe.store.samples import SampleBatch

SPLIT_FOLDERS = {"train": "Train", "test": "Test"}


@dataclass(frozen=True)
class ATISFolderSpec(DatasetSpec):
    """``<split folder>/<class>/*.bin`` trees of ATIS recordings with an official split."""

    split_folders: Mapping[str, str] = field(default_factory=dict, hash=False)

    def locate(self, raw_dir: Path) -> Path:
        return find_dir(raw_dir, tuple(self.split_folders.values()), f"{self.title} split folders")

    def plan(self, raw_dir: Path, options: Mapping[str, Any]) -> list[Part]:
        folder = self.locate(raw_dir)
        groups = {}
        for split in self.splits:
            files = class_files(folder / self.split_folders[split], self.classes, ".bin")
            items = [(Unit(relpath(f, raw_dir), (label,)), f.stat().st_size) for label, f in files]
            groups[split] = batch_by_size(items)
        return make_parts(groups)

    def read_unit(self, raw_dir: Path, unit: Unit, options: Mapping[str, Any]) -> SampleBatch:
        from eventpipe.readers import read_events

        events = read_events(raw_dir / unit.path, format="atis")
        return SampleBatch.single(events, int(unit.args[0]), {"file": Path(unit.path).stem})


SPEC = ATISFolderSpec.from_manifest(
    "nmnist",
    sensor=SensorSize(34, 34, 2),
    classes=tuple(str(d) for d in range(10)),
    size="~1.1 GB",
    meta_columns=("file",),
    split_folders=SPLIT_FOLDERS,
)
