"""A user dataset's definition made from a folder of recordings (``eventpipe convert --from DIR``).

Labels, in order of precedence:

- a labels CSV (``labels=``): ``path,label`` rows label whole files, ``path,label,start_us,end_us``
  rows label time segments (as DVS128 Gesture's ``*_labels.csv`` do); paths are relative to the
  folder; an optional header row starts with ``path``;
- else one sub-folder per class, ``DIR/<class>/**/<recording>``, or per split and class,
  ``DIR/train/<class>/...`` and ``DIR/test/<class>/...`` (detected when the sub-folders are split
  names). Files directly in ``DIR`` (a README, a labels file) are not recordings.

Splits: the split folders, else a split CSV (``split=``, ``path,split`` rows for every recording),
else :func:`~eventpipe.sources.splits.hash_split` per class with ``test_fraction``: deterministic,
stratified, and independent of listing order (adding files moves few samples). Segments are split
one by one; a split CSV keeps a recording's segments together.

Every recording's format is detected up front (:func:`eventpipe.readers.detect_format`). The sensor
is ``sensor=``, or else the largest of the sizes the recordings state (AEDAT headers, jAER chips) and
``max(x) + 1``, ``max(y) + 1`` of their events, which reads every recording once more.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from eventpipe.errors import ConfigError, DataNotFoundError, EventValidationError, FormatError
from eventpipe.events import SensorSize
from eventpipe.sources.base import OnError, _hidden, check_fraction, natural_key
from eventpipe.sources.splits import hash_split
from eventpipe.sources.user import WHOLE, UserDatasetSpec, UserSample, user_spec

SPLIT_ORDER = ("train", "val", "test")
"""Split folder names, in the order splits are listed."""
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_SPLIT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def check_name(name: str) -> None:
    """Require a dataset name that is also a plain folder name (lower-case letters, digits, ``-_.``)."""
    if not _NAME_RE.match(name):
        raise ConfigError(f"Expected the dataset name as lower-case letters, digits, '-', '_' or '.'. Got {name!r}.")


def parse_sensor(text: str) -> SensorSize:
    """``"346x260"`` (2 polarities) or ``"346x260x2"`` -> :class:`SensorSize`.

    >>> parse_sensor("346x260")
    SensorSize(width=346, height=260, polarities=2)
    """
    parts = text.lower().split("x")
    if len(parts) in (2, 3) and all(p.strip().isdigit() and int(p) > 0 for p in parts):
        values = [int(p) for p in parts]
        return SensorSize(values[0], values[1], values[2] if len(values) == 3 else 2)
    raise ConfigError(f"Expected the sensor as WIDTHxHEIGHT or WIDTHxHEIGHTxPOLARITIES, e.g. 346x260. Got {text!r}.")


def define_from_folder(
    folder: str | os.PathLike[str],
    name: str,
    *,
    labels: str | os.PathLike[str] | None = None,
    split: str | os.PathLike[str] | None = None,
    test_fraction: float = 0.2,
    sensor: SensorSize | None = None,
    on_error: OnError = "raise",
    previous: UserDatasetSpec | None = None,
) -> UserDatasetSpec:
    """The definition of user dataset ``name`` made from the recordings in ``folder``.

    ``previous`` is the definition already on disk, if any: when the folder listing, the labels, the
    split and the options are those it was made from, it is returned as it is (no recording is read).
    With ``on_error="skip"`` a recording that cannot be read stays in the definition (``convert``
    then skips it and lists it in the store) but does not count for the sensor size.

    Raises
    ------
    DataNotFoundError
        The folder, the labels or split file, or a file they name is missing; or no recordings.
    ConfigError
        Fewer than two classes, a bad split file or option.
    FormatError
        A malformed labels row, overlapping segments, or a recording whose format cannot be read.
    """
    check_name(name)
    check_fraction("test_fraction", test_fraction)
    root = Path(folder).expanduser().absolute()
    if not root.is_dir():
        raise DataNotFoundError(f"{root}: no such folder of recordings.")
    labelled, split_of = (_from_labels(root, Path(labels)) if labels is not None else _from_folders(root))
    if split is not None:
        if split_of:
            raise ConfigError(f"{root} is laid out in split folders; drop --split or move the class folders up.")
        split_of = _read_splits(Path(split), root, {path for path, *_ in labelled})
    if not labelled:
        raise DataNotFoundError(
            f"{root}: no recordings found; expected {root}/<class>/<recording> (a sub-folder per class) "
            "or a labels CSV (--labels FILE)."
        )
    classes = tuple(sorted({label for _, label, _, _ in labelled}, key=natural_key))
    if len(classes) < 2:
        raise ConfigError(
            f"{root}: found only the class {classes[0]!r}; a dataset needs two or more (a sub-folder per class, "
            "or labels in --labels FILE)."
        )
    samples = _assign_splits(labelled, classes, split_of, test_fraction)
    order = {name: i for i, name in enumerate(SPLIT_ORDER)}
    splits = tuple(sorted({s.split for s in samples}, key=lambda s: (order.get(s, len(order)), s)))
    files = {rel: (root / rel).stat().st_size for rel in sorted({s.path for s in samples}, key=natural_key)}
    stamp = _fingerprint(root, samples, classes, files, sensor)
    if previous is not None and previous.fingerprint == stamp and Path(previous.folder) == root:
        return previous
    if sensor is None:
        sensor = _detect_sensor(root, files, on_error)
    else:
        _check_formats(root, files, on_error)
    return user_spec(name, root, sensor, classes, splits, tuple(samples), files, stamp)


Labelled = list[tuple[str, str, int, int]]
"""``(path, label, start_us, end_us)`` rows, ``WHOLE`` bounds for whole files."""


def _from_folders(root: Path) -> tuple[Labelled, dict[str, str]]:
    """Class folders (``DIR/<class>``) or split and class folders (``DIR/<split>/<class>``)."""
    subs = sorted((p for p in root.iterdir() if p.is_dir() and not _hidden(p)), key=lambda p: natural_key(p.name))
    names = {p.name for p in subs}
    by_split = {"train", "test"} <= names and names <= set(SPLIT_ORDER)
    labelled: Labelled = []
    split_of: dict[str, str] = {}
    for top in subs:
        class_dirs = [d for d in sorted(top.iterdir(), key=lambda p: natural_key(p.name))
                      if d.is_dir() and not _hidden(d)] if by_split else [top]
        for class_dir in class_dirs:
            for f in sorted(class_dir.rglob("*"), key=lambda p: natural_key(p.as_posix())):
                if f.is_file() and not any(_hidden(Path(part)) for part in f.relative_to(root).parts):
                    rel = f.relative_to(root).as_posix()
                    labelled.append((rel, class_dir.name, WHOLE, WHOLE))
                    if by_split:
                        split_of[rel] = top.name
    return labelled, split_of


def _csv_rows(path: Path, what: str) -> list[tuple[int, list[str]]]:
    """``(line number, fields)`` of a CSV file, blank and ``#`` lines and a ``path,...`` header skipped."""
    if not path.is_file():
        raise DataNotFoundError(f"{what} not found: {path}")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [f.strip() for f in line.split(",")]
        if number == 1 and fields[0].lower() == "path":
            continue
        rows.append((number, fields))
    return rows


def _from_labels(root: Path, path: Path) -> tuple[Labelled, dict[str, str]]:
    """Rows of a labels CSV: ``path,label`` or ``path,label,start_us,end_us``; segments of one file
    must not overlap."""
    labelled: Labelled = []
    lines: dict[str, list[tuple[int, int, int]]] = {}
    for number, fields in _csv_rows(path, "labels file"):
        try:
            if len(fields) not in (2, 4) or not fields[0] or not fields[1]:
                raise ValueError
            start, end = (int(fields[2]), int(fields[3])) if len(fields) == 4 else (WHOLE, WHOLE)
            if len(fields) == 4 and not 0 <= start < end:
                raise ValueError
        except ValueError:
            raise FormatError(
                f"{path}: line {number}: expected path,label or path,label,start_us,end_us with "
                f"0 <= start_us < end_us, got {','.join(fields)!r}."
            ) from None
        rel = Path(fields[0]).as_posix()
        if Path(rel).is_absolute() or ".." in Path(rel).parts or not (root / rel).is_file():
            raise DataNotFoundError(f"{path}: line {number}: {fields[0]!r} is not a file in {root}.")
        for other, a, b in lines.get(rel, []):
            whole = WHOLE in (a, start)
            if whole or (start < b and a < end):
                raise FormatError(
                    f"{path}: line {number}: the segment of {rel!r} overlaps line {other}"
                    + ("" if whole else f" ({a}-{b} µs)") + "; give each moment of a recording one label."
                )
        lines.setdefault(rel, []).append((number, start, end))
        labelled.append((rel, fields[1], start, end))
    return labelled, {}


def _read_splits(path: Path, root: Path, recordings: set[str]) -> dict[str, str]:
    """``{recording: split}`` from ``path,split`` rows naming every recording once."""
    split_of: dict[str, str] = {}
    for number, fields in _csv_rows(path, "split file"):
        if len(fields) != 2 or not _SPLIT_RE.match(fields[1]):
            raise ConfigError(f"{path}: line {number}: expected path,split (a split name such as train), "
                              f"got {','.join(fields)!r}.")
        rel = Path(fields[0]).as_posix()
        if rel not in recordings:
            raise DataNotFoundError(f"{path}: line {number}: {fields[0]!r} is not a labelled recording in {root}.")
        if rel in split_of:
            raise ConfigError(f"{path}: line {number}: {rel!r} is listed twice.")
        split_of[rel] = fields[1]
    missing = sorted(recordings - set(split_of), key=natural_key)
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise ConfigError(f"{path}: no split for {', '.join(repr(m) for m in missing[:3])}{more}; list every recording.")
    return split_of


def _assign_splits(
    labelled: Labelled, classes: tuple[str, ...], split_of: Mapping[str, str], test_fraction: float
) -> list[UserSample]:
    """The samples with their splits: given per recording, else hashed per class."""
    index = {c: i for i, c in enumerate(classes)}
    if split_of:
        return [UserSample(p, index[c], split_of[p], a, b) for p, c, a, b in labelled]
    samples = [UserSample(p, index[c], "train", a, b) for p, c, a, b in labelled]
    for label, name in enumerate(classes):
        members = [i for i, s in enumerate(samples) if s.label == label]
        test = hash_split([samples[i].key for i in members], test_fraction, f"user/{name}")
        for i, is_test in zip(members, test, strict=True):
            if is_test:
                samples[i] = samples[i]._replace(split="test")
    return samples


def _fingerprint(root: Path, samples: Sequence[UserSample], classes: tuple[str, ...], files: Mapping[str, int],
                 sensor: SensorSize | None) -> str:
    """What a definition is made from: samples, classes, and each file's size and modification time."""
    stamps = {rel: [size, (root / rel).stat().st_mtime_ns] for rel, size in files.items()}
    data: dict[str, Any] = {"samples": [list(s) for s in samples], "classes": list(classes), "files": stamps,
                            "sensor": list(sensor) if sensor is not None else None}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _check_formats(root: Path, files: Mapping[str, int], on_error: OnError) -> None:
    """Detect every recording's format; one that has none is an error (or left for convert to skip)."""
    from eventpipe.readers import detect_format

    for rel in files:
        try:
            detect_format(root / rel)
        except FormatError:
            if on_error == "raise":
                raise


def _detect_sensor(root: Path, files: Mapping[str, int], on_error: OnError) -> SensorSize:
    """The largest of the recordings' own sensor sizes (where the file says) and ``max(x) + 1``,
    ``max(y) + 1`` of their events, with 2 polarities."""
    from eventpipe.readers.describe import describe_recording

    width = height = 0
    for rel in files:
        try:
            recording = describe_recording(root / rel)
        except (FormatError, EventValidationError):
            if on_error == "raise":
                raise
            continue
        events = recording.events
        if recording.sensor is not None:
            width, height = max(width, recording.sensor[0]), max(height, recording.sensor[1])
        if len(events):
            width, height = max(width, int(events["x"].max()) + 1), max(height, int(events["y"].max()) + 1)
    if not width or not height:
        raise DataNotFoundError(f"{root}: the recordings hold no events to size the sensor from; give --sensor WxH.")
    return SensorSize(width, height, 2)
