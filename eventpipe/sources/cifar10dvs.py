"""CIFAR10-DVS (Li et al. 2017): 10,000 CIFAR-10 images moved in front of a DVS128, AEDAT 2.0.

Raw layout: the ten per-class archives as downloaded, or extracted (either per class)::

    airplane.zip ... truck.zip         each holds cifar10_<class>_<i>.aedat, i = 0..999
    airplane/cifar10_airplane_0.aedat  (or the same files extracted into one folder per class)

Archives are read in place, member by member, so the 8 GB of zips need no extraction. The dataset
publishes no split; option ``split_scheme`` chooses one, both deterministic and per class:

- ``"hash"`` (default): ``test_fraction`` (default 0.1, i.e. 90/10) of each class goes to test,
  chosen by :func:`~eventpipe.sources.splits.hash_split` of the file names.
- ``"first_100"``: recordings ``i < 100`` of each class are the test split, ``i >= 100`` train (the
  split of Duan et al., NeurIPS 2022, common in later work; its accuracies run higher than a random
  split's, so compare like with like).

Per-sample metadata: ``file`` (stem) and ``index`` (the ``i`` of the file name).
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventpipe.errors import CorruptRecordingError, DataNotFoundError, FormatError
from eventpipe.events import SensorSize
from eventpipe.sources.base import (
    DatasetSpec,
    Part,
    Unit,
    batch_by_size,
    check_choice,
    check_fraction,
    find_dir,
    make_parts,
    natural_key,
    relpath,
)
from eventpipe.sources.splits import hash_split
from eventpipe.store.samples import SampleBatch

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
SPLIT_SCHEMES = ("hash", "first_100")
_INDEX = re.compile(r"_(\d+)\.aedat$")


def recording_index(name: str) -> int:
    """The ``i`` of ``cifar10_<class>_<i>.aedat``; -1 when the name has no index."""
    match = _INDEX.search(name)
    return int(match.group(1)) if match else -1


@dataclass(frozen=True)
class CIFAR10DVSSpec(DatasetSpec):
    """Per-class folders or zip archives of AEDAT 2.0 recordings."""

    def locate(self, raw_dir: Path) -> Path:
        names = [n for c in self.classes for n in (f"{c}.zip", c)]
        return find_dir(raw_dir, names, f"{self.title} class archives or folders", any_of=True)

    def check_options(self, options: Mapping[str, Any]) -> None:
        check_choice("split_scheme", options["split_scheme"], SPLIT_SCHEMES)
        check_fraction("test_fraction", options["test_fraction"])

    def _recordings(self, raw_dir: Path, folder: Path, label: int) -> list[tuple[Unit, int, str]]:
        """``(unit, size in bytes, file name)`` of every recording of class ``label``."""
        name = self.classes[label]
        if (folder / name).is_dir():
            files = sorted((f for f in (folder / name).iterdir() if f.suffix == ".aedat"),
                           key=lambda f: natural_key(f.name))
            return [(Unit(relpath(f, raw_dir), (label, recording_index(f.name))), f.stat().st_size, f.name)
                    for f in files]
        archive = folder / f"{name}.zip"
        if not archive.is_file():
            return []
        rel = relpath(archive, raw_dir)
        try:
            with zipfile.ZipFile(archive) as zf:
                members = [m for m in zf.infolist() if m.filename.endswith(".aedat") and not m.is_dir()]
        except zipfile.BadZipFile as exc:
            raise DataNotFoundError(f"{archive}: not a readable zip archive ({exc}).") from None
        members.sort(key=lambda m: natural_key(m.filename))
        return [(Unit(f"{rel}/{m.filename}", (label, recording_index(m.filename), m.filename), (rel,)),
                 m.file_size, os.path.basename(m.filename)) for m in members]

    def plan(self, raw_dir: Path, options: Mapping[str, Any]) -> list[Part]:
        folder = self.locate(raw_dir)
        split: dict[str, list[tuple[Unit, int]]] = {"train": [], "test": []}
        for label in range(len(self.classes)):
            recs = self._recordings(raw_dir, folder, label)
            if options["split_scheme"] == "first_100":
                test = [0 <= unit.args[1] < 100 for unit, _, _ in recs]
            else:
                test = list(hash_split([n for _, _, n in recs], float(options["test_fraction"]),
                                       f"{self.name}/{self.classes[label]}"))
            for (unit, size, _), is_test in zip(recs, test, strict=True):
                split["test" if is_test else "train"].append((unit, size))
        return make_parts({s: batch_by_size(split[s]) for s in self.splits})

    def read_unit(self, raw_dir: Path, unit: Unit, options: Mapping[str, Any]) -> SampleBatch:
        from eventpipe.readers import read_events

        label, index = int(unit.args[0]), int(unit.args[1])
        if len(unit.args) < 3:  # an extracted file
            events = read_events(raw_dir / unit.path, format="aedat2")
        else:
            events = _read_member(raw_dir / unit.files[0], str(unit.args[2]), unit.path)
        return SampleBatch.single(events, label, {"file": Path(unit.path).stem, "index": index})


def _read_member(archive: Path, member: str, name: str) -> Any:
    """Read one AEDAT 2.0 member of a zip through a temporary file (readers take paths)."""
    from eventpipe.readers import read_events

    with tempfile.TemporaryDirectory(prefix="eventpipe-") as tmp:
        target = Path(tmp) / "member.aedat"
        try:
            with zipfile.ZipFile(archive) as zf, zf.open(member) as src, target.open("wb") as dst:
                while block := src.read(1 << 22):
                    dst.write(block)
        except (zipfile.BadZipFile, KeyError, EOFError) as exc:
            raise CorruptRecordingError(name, None, f"cannot extract from the archive: {exc}") from None
        try:
            return read_events(target, format="aedat2")
        except CorruptRecordingError as exc:
            raise CorruptRecordingError(name, exc.offset, exc.reason) from None
        except FormatError as exc:
            raise FormatError(str(exc).replace(str(target), name)) from None


SPEC = CIFAR10DVSSpec.from_manifest(
    "cifar10dvs",
    sensor=SensorSize(128, 128, 2),
    classes=CLASSES,
    size="~8.4 GB",
    meta_columns=("file", "index"),
    defaults={"split_scheme": "hash", "test_fraction": 0.1},
)
