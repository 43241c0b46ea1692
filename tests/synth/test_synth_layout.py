"""The written raw tree is exactly the DVS128 Gesture layout, and its files read back consistently."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from synth_helpers import SMALL, read_back

from eventpipe.events import validate_events
from eventpipe.synth import LIGHTINGS, write_gesture_raw
from eventpipe.synth.layout import labels_csv
from eventpipe.synth.recording import Segment

NAME = re.compile(
    r"^user(\d\d)_(" + "|".join(sorted(LIGHTINGS, key=len, reverse=True)) + r")(\.aedat|_labels\.csv)$"
)


def test_file_names_and_trial_lists(small_raw: tuple[Path, list[Path]]) -> None:
    raw, paths = small_raw
    assert sorted(p.name for p in raw.iterdir()) == sorted(p.name for p in paths)  # nothing else, no .part
    assert [p.name for p in paths[-2:]] == ["trials_to_train.txt", "trials_to_test.txt"]
    recordings = paths[:-2]
    assert len(recordings) == 2 * 3 * 2  # 3 users x 2 lightings x (aedat, csv)
    for aedat, csv in zip(recordings[::2], recordings[1::2], strict=True):
        assert NAME.match(aedat.name) and NAME.match(csv.name)
        assert csv.name == aedat.name.replace(".aedat", "_labels.csv")
        assert aedat.read_bytes().startswith(b"#!AER-DAT3.1")
    train = (raw / "trials_to_train.txt").read_bytes()
    test = (raw / "trials_to_test.txt").read_bytes()
    assert b"\r" not in train + test and train.endswith(b"\n")
    assert all(n.startswith((b"user01_", b"user02_")) for n in train.split())
    assert [n.decode() for n in test.split()] == [
        p.name for p in recordings[::2] if p.name.startswith("user03_")
    ]
    assert len(train.split()) == 4 and len(test.split()) == 2


def test_each_user_records_under_rotating_lightings(small_raw: tuple[Path, list[Path]]) -> None:
    names = [p.name for p in small_raw[1] if p.suffix == ".aedat"]
    by_user: dict[str, set[str]] = {}
    for n in names:
        m = NAME.match(n)
        assert m is not None
        by_user.setdefault(m.group(1), set()).add(m.group(2))
    assert all(len(v) == 2 for v in by_user.values())
    assert len({frozenset(v) for v in by_user.values()}) > 1


def test_labels_csv_format() -> None:
    text = labels_csv([Segment(0, 53036986, 59508469), Segment(10, 60000000, 61000000)])
    assert text == "class,startTime_usec,endTime_usec\n1,53036986,59508469\n11,60000000,61000000\n"


def test_labels_are_1_based_ordered_windows(small_raw: tuple[Path, list[Path]]) -> None:
    for csv in small_raw[1][1:-2:2]:
        data = csv.read_bytes()
        assert b"\r" not in data and data.endswith(b"\n")
        rows = np.array([[int(v) for v in line.split(",")] for line in data.decode().splitlines()[1:]])
        assert set(rows[:, 0]) == set(range(1, 12))  # all 11 classes, 1-based
        assert len(rows) in (11, 12)
        assert (rows[:, 1] < rows[:, 2]).all()
        assert (rows[1:, 1] > rows[:-1, 2]).all()  # chronological, with gaps between gestures


def test_events_read_back_sorted_inside_sensor_and_cover_labels(small_raw: tuple[Path, list[Path]]) -> None:
    for rec in read_back(small_raw[0]):
        ev = rec.events
        validate_events(ev, (40, 24, 2), sample=rec.name)
        assert ev["t"][0] > 20_000_000  # an absolute camera clock, tens of seconds in
        assert ev["t"][0] < rec.labels[0, 1] and rec.labels[-1, 2] < ev["t"][-1]
        assert set(np.unique(ev["p"])) == {0, 1}
        assert ev["x"].max() > 24  # the wide axis is used: x spans up to 40
        inside = np.zeros(len(ev), dtype=bool)
        for _, start, end in rec.labels:
            lo, hi = np.searchsorted(ev["t"], [start, end])
            inside[lo:hi] = True
            assert hi - lo > 500  # every gesture has events
        gesture_s = (rec.labels[:, 2] - rec.labels[:, 1]).sum() / 1e6
        gap_s = (ev["t"][-1] - ev["t"][0]) / 1e6 - gesture_s
        gesture_rate, gap_rate = inside.sum() / gesture_s, (~inside).sum() / gap_s
        assert gap_rate < 0.1 * gesture_rate  # gaps hold only sensor noise


def _digests(paths: list[Path]) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_same_seed_same_bytes_across_processes(small_raw: tuple[Path, list[Path]], tmp_path: Path) -> None:
    again = write_gesture_raw(tmp_path / "again", **SMALL)  # type: ignore[arg-type]
    assert _digests(again) == _digests(small_raw[1])
    code = (
        "import sys; from eventpipe.synth import write_gesture_raw; "
        f"write_gesture_raw(sys.argv[1], **{SMALL!r})"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "child")], check=True)
    child = sorted((tmp_path / "child").iterdir())
    assert _digests(child) == _digests(small_raw[1])


def test_other_seed_other_data(small_raw: tuple[Path, list[Path]], tmp_path: Path) -> None:
    other = write_gesture_raw(tmp_path, **{**SMALL, "seed": 8})  # type: ignore[arg-type]
    assert [p.name for p in other] == [p.name for p in small_raw[1]]
    assert all(a.read_bytes() != b.read_bytes() for a, b in zip(other[:-2], small_raw[1][:-2], strict=True))


def test_a_recording_does_not_depend_on_the_others(
    small_raw: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    """Recordings derive their randomness from (seed, user, lighting) alone, so subsets agree."""
    subset = write_gesture_raw(tmp_path, **{**SMALL, "users": [3], "test_users": [3]})  # type: ignore[arg-type]
    full = {p.name: p.read_bytes() for p in small_raw[1]}
    for p in subset[:-2]:
        assert p.read_bytes() == full[p.name]


def test_progress_bar_and_replacement(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # bars are drawn on terminals only
    params = {**SMALL, "users": 1, "test_users": 0, "lightings": ["natural"]}
    first = write_gesture_raw(tmp_path, progress=True, **params)  # type: ignore[arg-type]
    assert "synthesising" in capsys.readouterr().err
    before = _digests(first)
    (tmp_path / "user01_natural.aedat").write_bytes(b"garbage")
    assert _digests(write_gesture_raw(tmp_path, **params)) == before  # type: ignore[arg-type]
    assert (tmp_path / "trials_to_test.txt").read_text() == ""
