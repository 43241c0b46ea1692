"""User datasets: a folder of one's own recordings, defined once by ``eventpipe convert --from``.

The definition lives in ``<root>/<name>/dataset.toml`` (:data:`DEFINITION_FILE`) next to the stores it
makes. It records the recordings folder (an absolute path: the raw files stay where they are and
nothing is copied or linked), the sensor, the classes, the splits, the size of every recording and
one ``[[samples]]`` table per sample (a whole file, or a ``start_us <= t < end_us`` segment of one).
The stores under ``<root>/<name>`` stay relocatable as for every dataset; only the definition names
the folder. A definition is a snapshot: a recording that is missing or changed size since is an error
that says to run ``eventpipe convert --from`` again, which rewrites the definition and rebuilds the
stores whose fingerprints changed.

Schema version 1 (every key is checked on load; unknown keys are errors)::

    schema = 1
    name = "mine"
    folder = "/data/recordings"
    sensor = [346, 260, 2]
    classes = ["clap", "wave"]
    splits = ["train", "test"]
    fingerprint = "..."          # of what the definition was made from (listing, labels, options)

    [files]                      # every recording and its size in bytes
    "clap/a.aedat" = 81920

    [[samples]]
    path = "clap/a.aedat"        # relative to folder, POSIX separators
    label = "clap"
    split = "train"
    start_us = 0                 # optional, with end_us: a time segment of the file
    end_us = 1500000
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from eventpipe.config import Table, load_toml
from eventpipe.errors import DataNotFoundError
from eventpipe.events import SensorSize
from eventpipe.sources.base import DatasetSpec, Part, Unit, batch_by_size, make_parts, segment_bounds
from eventpipe.store.samples import SampleBatch

DEFINITION_FILE = "dataset.toml"
SCHEMA_VERSION = 1
_TOP_KEYS = {"schema", "name", "folder", "sensor", "classes", "splits", "fingerprint", "files", "samples"}
_SAMPLE_KEYS = {"path", "label", "split", "start_us", "end_us"}
WHOLE = -1
"""``start_us`` and ``end_us`` of a sample that is a whole file."""


class UserSample(NamedTuple):
    """One sample: a file (``start_us == end_us == WHOLE``) or a segment of one, its label and split."""

    path: str
    label: int
    split: str
    start_us: int = WHOLE
    end_us: int = WHOLE

    @property
    def key(self) -> str:
        """A name unique in the dataset: the path, with ``@<start_us>`` for a segment."""
        return self.path if self.start_us == WHOLE else f"{self.path}@{self.start_us}"


def definition_path(root: str | os.PathLike[str], name: str) -> Path:
    """``<root>/<name>/dataset.toml``."""
    return Path(root).expanduser() / name / DEFINITION_FILE


@dataclass(frozen=True)
class UserDatasetSpec(DatasetSpec):
    """A dataset defined by a ``dataset.toml``: ``samples`` of the recordings in ``folder``.

    Its raw folder is :attr:`folder` (not ``<root>/<name>/raw``) and it has no manifest, so
    ``prepare`` downloads nothing and converts the recordings where they are.
    """

    folder: str = ""
    samples: tuple[UserSample, ...] = ()
    files: Mapping[str, int] = field(default_factory=dict, hash=False)
    fingerprint: str = ""

    @property
    def recordings_dir(self) -> Path:
        """The folder the recordings are read from."""
        return Path(self.folder)

    def raw_dir(self, root: str | os.PathLike[str]) -> Path:
        """The recordings folder, wherever ``root`` is."""
        return self.recordings_dir

    def locate(self, raw_dir: Path) -> Path:
        if not raw_dir.is_dir():
            raise DataNotFoundError(
                f"{raw_dir}: the recordings folder of dataset {self.name!r} is gone; "
                f"move it back or run `eventpipe convert --from DIR --name {self.name}` again."
            )
        return raw_dir

    def plan(self, raw_dir: Path, options: Mapping[str, Any]) -> list[Part]:
        folder = self.locate(raw_dir)
        for rel, size in self.files.items():
            path = folder / rel
            found = path.stat().st_size if path.is_file() else None
            if found != size:
                what = "is missing" if found is None else f"has {found} bytes, not {size}"
                raise DataNotFoundError(
                    f"{path} {what} since dataset {self.name!r} was defined; run "
                    f"`eventpipe convert --from {folder} --name {self.name}` again to update it."
                )
        groups = {}
        for split in self.splits:
            by_file: dict[str, list[tuple[int, int, int]]] = {}
            for s in self.samples:
                if s.split == split:
                    by_file.setdefault(s.path, []).append((s.label, s.start_us, s.end_us))
            items = [(Unit(rel, (tuple(segments),)), self.files[rel]) for rel, segments in by_file.items()]
            groups[split] = batch_by_size(items)
        return make_parts(groups)

    def read_unit(self, raw_dir: Path, unit: Unit, options: Mapping[str, Any]) -> SampleBatch:
        from eventpipe.readers import read_events

        events = read_events(raw_dir / unit.path)
        table = np.asarray(unit.args[0], dtype=np.int64).reshape(-1, 3)
        whole = table[:, 1] == WHOLE
        starts, stops = segment_bounds(events["t"], table[:, 1], table[:, 2])
        starts[whole], stops[whole] = 0, len(events)
        meta: dict[str, list[Any]] = {"recording": [unit.path] * len(table),
                                      "start_us": table[:, 1].tolist()}
        return SampleBatch.from_segments(events, starts, stops, table[:, 0], meta)


def user_spec(
    name: str, folder: Path, sensor: SensorSize, classes: tuple[str, ...], splits: tuple[str, ...],
    samples: tuple[UserSample, ...], files: Mapping[str, int], fingerprint: str,
) -> UserDatasetSpec:
    """A :class:`UserDatasetSpec` with the catalogue facts a user dataset has."""
    return UserDatasetSpec(
        name=name, title=f"{name} (recordings in {folder})", sensor=sensor, classes=classes, splits=splits,
        meta_columns=("recording", "start_us"), folder=str(folder), samples=samples, files=dict(files),
        fingerprint=fingerprint,
    )


def load_user_dataset(path: str | os.PathLike[str]) -> UserDatasetSpec:
    """Read and validate a ``dataset.toml``; every error names the file and the key."""
    path = Path(path)
    top = Table(load_toml(path, "user dataset definition"), str(path))
    top.check_keys(_TOP_KEYS)
    if top.integer("schema", required=True) != SCHEMA_VERSION:
        top.fail("schema", f"expected {SCHEMA_VERSION}; run `eventpipe convert --from` again to rewrite it")
    name = top.string("name", required=True)
    if name != path.parent.name:
        top.fail("name", f"{name!r} differs from the folder name {path.parent.name!r}")
    sensor = top.data.get("sensor")
    if not (isinstance(sensor, list) and len(sensor) == 3 and all(type(v) is int and v > 0 for v in sensor)):
        top.fail("sensor", f"expected [width, height, polarities] as positive integers, got {sensor!r}")
    classes, splits = top.strings("classes"), top.strings("splits")
    for key, values in (("classes", classes), ("splits", splits)):
        if not values or len(set(values)) != len(values):
            top.fail(key, f"expected distinct names, got {list(values)!r}")
    files = top.table("files", required=True)
    sizes = {rel: files.integer(rel, 0, required=True, minimum=0) for rel in files.data}
    samples = tuple(_sample(t, classes, splits, sizes) for t in top.tables("samples"))
    return user_spec(name, Path(top.string("folder", required=True)), SensorSize(*sensor), classes, splits,
                     samples, sizes, top.string("fingerprint"))


def _sample(t: Table, classes: tuple[str, ...], splits: tuple[str, ...], sizes: Mapping[str, int]) -> UserSample:
    t.check_keys(_SAMPLE_KEYS)
    rel = t.string("path", required=True)
    if rel not in sizes:
        t.fail("path", f"{rel!r} is not listed in [files]")
    start, end = t.integer("start_us", minimum=0), t.integer("end_us", minimum=0)
    if (start is None) != (end is None) or (start is not None and end is not None and end <= start):
        t.fail("end_us", f"expected start_us < end_us (both, or neither), got {start} and {end}")
    label = t.string("label", required=True, choices=classes)
    split = t.string("split", required=True, choices=splits)
    return UserSample(rel, classes.index(label), split, WHOLE if start is None else start, WHOLE if end is None else end)


def user_dataset_toml(spec: UserDatasetSpec) -> str:
    """``spec`` as the text of its ``dataset.toml`` (read back by :func:`load_user_dataset`)."""

    def value(v: Any) -> str:  # JSON strings and numbers are TOML's too
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(value(i) for i in v) + "]"
        return json.dumps(v, ensure_ascii=False)

    lines = [
        f"# The user dataset {spec.name!r}, written by `eventpipe convert --from`; run that again to change it.",
        f"schema = {SCHEMA_VERSION}",
        f"name = {value(spec.name)}",
        f"folder = {value(spec.folder)}",
        f"sensor = {value(list(spec.sensor))}",
        f"classes = {value(spec.classes)}",
        f"splits = {value(spec.splits)}",
        f"fingerprint = {value(spec.fingerprint)}",
        "",
        "[files]",
        *(f"{value(rel)} = {size}" for rel, size in spec.files.items()),
    ]
    for s in spec.samples:
        lines += ["", "[[samples]]", f"path = {value(s.path)}", f"label = {value(spec.classes[s.label])}",
                  f"split = {value(s.split)}"]
        if s.start_us != WHOLE:
            lines += [f"start_us = {s.start_us}", f"end_us = {s.end_us}"]
    return "\n".join(lines) + "\n"


def find_user_dataset(name: str, roots: list[Path]) -> UserDatasetSpec | None:
    """The definition of user dataset ``name`` in the first of ``roots`` that holds one, else ``None``."""
    for root in roots:
        path = definition_path(root, name)
        if path.is_file():
            return load_user_dataset(path)
    return None



def user_dataset_folders(root: str | os.PathLike[str]) -> list[str]:
    """Names of the folders of ``root`` that hold a :data:`DEFINITION_FILE`, sorted (nothing is loaded)."""
    base = Path(root).expanduser()
    if not base.is_dir():
        return []
    return sorted(p.parent.name for p in base.glob(f"*/{DEFINITION_FILE}") if p.is_file())
