"""DVS128 Gesture (IBM, CVPR 2017): 11 hand and arm gestures by 29 users under 5 lightings.

Raw layout (the extracted ``DvsGesture.tar.gz``, directly in the raw folder or in a sub-folder)::

    trials_to_train.txt        one userXX_<lighting>.aedat per line (98 recordings, users 01-23)
    trials_to_test.txt         24 recordings, users 24-29
    user01_fluorescent.aedat   AEDAT 3.1, 128x128, t in µs
    user01_fluorescent_labels.csv   header class,startTime_usec,endTime_usec; 1-based classes

Each recording is cut into one sample per row of its labels file: label = class - 1, events with
``startTime_usec <= t < endTime_usec``. Rows are taken in file order; a class can appear twice in a
file and rows need not be sorted by class or time (user01_natural: class 5 before 4, class 8 twice).
Per-sample metadata: ``user`` ("user01"), ``lighting``, ``recording`` ("user01_natural") and
``segment`` (0-based row of the labels file).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eventpipe.errors import DataNotFoundError, FormatError
from eventpipe.events import SensorSize
from eventpipe.sources.base import DatasetSpec, Part, Unit, find_dir, make_parts, relpath, segment_bounds
from eventpipe.store.samples import SampleBatch

TRIAL_LISTS = {"train": "trials_to_train.txt", "test": "trials_to_test.txt"}
LABELS_SUFFIX = "_labels.csv"
_RECORDING = re.compile(r"^(user\d+)_(.+)$")


def read_trial_list(path: Path) -> list[str]:
    """Recording file names listed in a ``trials_to_*.txt`` file (blank lines ignored)."""
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def read_labels_csv(path: Path, n_classes: int) -> np.ndarray:
    """Rows ``(class, start_us, end_us)`` of a labels file as int64 ``[n, 3]`` (1-based classes).

    Raises :class:`FormatError` naming the file and row when it is malformed or a class is outside
    ``1..n_classes``.
    """
    lines = path.read_text().splitlines()
    if not lines or lines[0].replace(" ", "").lower() != "class,starttime_usec,endtime_usec":
        raise FormatError(f"{path}: expected the header 'class,startTime_usec,endTime_usec'.")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split(",")
        try:
            if len(fields) != 3:
                raise ValueError
            rows.append([int(f) for f in fields])
        except ValueError:
            raise FormatError(f"{path}: line {number}: expected three integers, got {line!r}.") from None
    table = np.asarray(rows, dtype=np.int64).reshape(-1, 3)
    bad = np.flatnonzero((table[:, 0] < 1) | (table[:, 0] > n_classes))
    if len(bad):
        raise FormatError(f"{path}: row {int(bad[0]) + 1}: class {int(table[bad[0], 0])} outside 1..{n_classes}.")
    return table


def slice_recording(events: np.ndarray, table: np.ndarray, recording: str) -> SampleBatch:
    """One sample per labels row: label = class - 1, events with ``start <= t < end`` (t sorted)."""
    starts, stops = segment_bounds(events["t"], table[:, 1], table[:, 2])
    user, lighting = _split_name(recording)
    n = len(table)
    meta: dict[str, list[Any]] = {
        "user": [user] * n,
        "lighting": [lighting] * n,
        "recording": [recording] * n,
        "segment": list(range(n)),
    }
    return SampleBatch.from_segments(events, starts, stops, table[:, 0] - 1, meta)


def _split_name(recording: str) -> tuple[str, str]:
    match = _RECORDING.match(recording)
    return (match.group(1), match.group(2)) if match else (recording, "")


@dataclass(frozen=True)
class GestureLayoutSpec(DatasetSpec):
    """A dataset in the DVS128 Gesture raw layout (the real one and the synthetic demo)."""

    def locate(self, raw_dir: Path) -> Path:
        return find_dir(raw_dir, tuple(TRIAL_LISTS.values()), f"{self.title} trial lists")

    def plan(self, raw_dir: Path, options: Mapping[str, Any]) -> list[Part]:
        folder = self.locate(raw_dir)
        lists = {split: relpath(folder / TRIAL_LISTS[split], raw_dir) for split in self.splits}
        units: dict[str, list[list[Unit]]] = {}
        missing: list[str] = []
        for split in self.splits:
            names = sorted(read_trial_list(raw_dir / lists[split]))
            units[split] = []
            for name in names:
                aedat = folder / name
                labels = folder / (Path(name).stem + LABELS_SUFFIX)
                missing += [relpath(p, raw_dir) for p in (aedat, labels) if not p.is_file()]
                rel = relpath(aedat, raw_dir), relpath(labels, raw_dir)
                unit = Unit(rel[0], (rel[1],), (*rel, lists[split]))
                units[split].append([unit])
        if missing:
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            raise DataNotFoundError(
                f"{self.title}: files listed in the trial lists are missing under {raw_dir}: "
                f"{', '.join(missing[:5])}{more}."
            )
        return make_parts(units)

    def read_unit(self, raw_dir: Path, unit: Unit, options: Mapping[str, Any]) -> SampleBatch:
        from eventpipe.readers import read_events

        table = read_labels_csv(raw_dir / unit.args[0], len(self.classes))
        events = read_events(raw_dir / unit.path, format="aedat3")
        return slice_recording(events, table, Path(unit.path).stem)


CLASSES = (
    "hand_clapping",
    "right_hand_wave",
    "left_hand_wave",
    "right_arm_clockwise",
    "right_arm_counter_clockwise",
    "left_arm_clockwise",
    "left_arm_counter_clockwise",
    "arm_roll",
    "air_drums",
    "air_guitar",
    "other_gestures",
)
"""Label ``i`` is CSV class ``i + 1`` (the order of the dataset's ``gesture_mapping.csv``)."""

SPEC = GestureLayoutSpec.from_manifest(
    "dvs128",
    sensor=SensorSize(128, 128, 2),
    classes=CLASSES,
    size="~3 GB",
    meta_columns=("user", "lighting", "recording", "segment"),
)
