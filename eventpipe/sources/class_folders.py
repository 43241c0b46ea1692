"""Datasets laid out as one folder per class: with no official split (N-Caltech101, ASL-DVS), or one
such tree per split folder (N-MNIST, DVS-Lip).

Every file ``<dataset folder>/<class>/<name><suffix>`` is one sample labelled by its folder. The
train/test split is :func:`~eventpipe.sources.splits.hash_split` per class, with the option
``test_fraction``: deterministic, exactly stratified, and independent of listing order. Files are
batched into parts of about 32 MB of raw bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eventpipe.sources.base import (
    DatasetSpec,
    Part,
    Unit,
    batch_by_size,
    check_fraction,
    class_files,
    find_dir,
    make_parts,
    relpath,
)
from eventpipe.sources.splits import hash_split
from eventpipe.store.samples import SampleBatch


def split_by_hash(
    files: list[tuple[int, Path]], classes: tuple[str, ...], test_fraction: float, salt: str
) -> dict[str, list[tuple[int, Path]]]:
    """``{"train": [...], "test": [...]}`` with :func:`hash_split` applied within each class."""
    out: dict[str, list[tuple[int, Path]]] = {"train": [], "test": []}
    labels = np.array([label for label, _ in files], dtype=np.int64)
    for label in range(len(classes)):
        members = [files[i] for i in np.flatnonzero(labels == label)]
        test = hash_split([f.name for _, f in members], test_fraction, f"{salt}/{classes[label]}")
        for item, is_test in zip(members, test, strict=True):
            out["test" if is_test else "train"].append(item)
    return out


@dataclass(frozen=True)
class ClassFolderSpec(DatasetSpec):
    """One folder per class under a dataset folder found by the names in ``marker`` (all of them, or
    any one with ``any_marker``)."""

    marker: tuple[str, ...] = ()
    any_marker: bool = False
    suffix: str = ""
    reader_format: str = ""

    def locate(self, raw_dir: Path) -> Path:
        return find_dir(raw_dir, self.marker, f"{self.title} class folders", any_of=self.any_marker)

    def dataset_folder(self, raw_dir: Path) -> Path:
        """The folder whose sub-folders are the classes."""
        return self.locate(raw_dir)

    def check_options(self, options: Mapping[str, Any]) -> None:
        check_fraction("test_fraction", options["test_fraction"])

    def plan(self, raw_dir: Path, options: Mapping[str, Any]) -> list[Part]:
        files = class_files(self.dataset_folder(raw_dir), self.classes, self.suffix)
        by_split = split_by_hash(files, self.classes, float(options["test_fraction"]), self.name)
        groups = {}
        for split in self.splits:
            items = [(Unit(relpath(f, raw_dir), (label,)), f.stat().st_size) for label, f in by_split[split]]
            groups[split] = batch_by_size(items)
        return make_parts(groups)

    def read_unit(self, raw_dir: Path, unit: Unit, options: Mapping[str, Any]) -> SampleBatch:
        from eventpipe.readers import read_events

        events = read_events(raw_dir / unit.path, format=self.reader_format)
        return SampleBatch.single(events, int(unit.args[0]), {"file": Path(unit.path).stem})


@dataclass(frozen=True)
class SplitFolderSpec(DatasetSpec):
    """``<split folder>/<class>/*<suffix>`` trees with an official split, one recording per file."""

    split_folders: Mapping[str, str] = field(default_factory=dict, hash=False)
    suffix: str = ""
    reader_format: str = ""

    def locate(self, raw_dir: Path) -> Path:
        return find_dir(raw_dir, tuple(self.split_folders.values()), f"{self.title} split folders")

    def plan(self, raw_dir: Path, options: Mapping[str, Any]) -> list[Part]:
        folder = self.locate(raw_dir)
        groups = {}
        for split in self.splits:
            files = class_files(folder / self.split_folders[split], self.classes, self.suffix)
            items = [(Unit(relpath(f, raw_dir), (label,)), f.stat().st_size) for label, f in files]
            groups[split] = batch_by_size(items)
        return make_parts(groups)

    def read_unit(self, raw_dir: Path, unit: Unit, options: Mapping[str, Any]) -> SampleBatch:
        from eventpipe.readers import read_events

        events = read_events(raw_dir / unit.path, format=self.reader_format)
        return SampleBatch.single(events, int(unit.args[0]), {"file": Path(unit.path).stem})
