"""Helpers for the synthetic-generator tests: a small dataset's parameters and a raw-tree reader."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eventpipe.events import Events

SMALL = dict(
    users=3,
    lightings=2,
    test_users=1,
    sensor=(40, 24, 2),
    seed=7,
    events_per_second=8_000,
    gesture_seconds=0.4,
    time_step_us=4000,
)
"""A quick dataset with a non-square sensor (40 wide, 24 high) so x/y mix-ups show."""


@dataclass(frozen=True)
class Recording:
    """A written recording read back: events and label rows ``(class, start_us, end_us)``."""

    name: str
    events: Events
    labels: np.ndarray


def read_labels(path: Path) -> np.ndarray:
    """Rows of a labels CSV as an int64 ``[n, 3]`` array (after checking the header)."""
    lines = path.read_text().splitlines()
    assert lines[0] == "class,startTime_usec,endTime_usec"
    return np.array([[int(v) for v in line.split(",")] for line in lines[1:]], dtype=np.int64).reshape(-1, 3)


def read_back(raw: Path) -> list[Recording]:
    """Every recording listed in the trial files, read with the package's AEDAT reader."""
    from eventpipe.readers import read_events

    names = (raw / "trials_to_train.txt").read_text().split() + (
        raw / "trials_to_test.txt"
    ).read_text().split()
    return [
        Recording(n, read_events(raw / n), read_labels(raw / n.replace(".aedat", "_labels.csv")))
        for n in sorted(names)
    ]
