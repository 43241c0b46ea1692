from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fake_raw import assert_same_samples, events, write_gesture_tree

from eventpipe.errors import DataNotFoundError, FormatError
from eventpipe.events import SensorSize
from eventpipe.readers.aedat3 import write_aedat3
from eventpipe.sources import get_dataset
from eventpipe.sources.base import read_part
from eventpipe.sources.dvs128 import read_labels_csv, slice_recording

# user01_natural_labels.csv as published (also in shared/realdata): class 5 before 4, class 8 twice.
REAL_ROWS = [
    (1, 53036986, 59508469), (2, 64889467, 73697045), (3, 74839238, 81768543), (5, 87200306, 97835393),
    (4, 98139978, 106541442), (6, 111008687, 120907694), (7, 122456000, 129994474), (8, 132355007, 141594080),
    (8, 142355542, 148751823), (9, 149970163, 156671029), (10, 161214419, 168625983), (11, 171367247, 177991967),
]


def test_alias_and_metadata() -> None:
    spec = get_dataset("dvs128_gesture")
    assert spec is get_dataset("dvs128") and spec.sensor == SensorSize(128, 128, 2)
    assert len(spec.classes) == 11 and spec.splits == ("train", "test") and spec.manual_download
    assert "Amir" in spec.citation and spec.license == "CC BY 4.0"
    assert spec.raw_dir("/data") == Path("/data/dvs128/raw")
    assert spec.events_store_path("/data") == Path("/data/dvs128/events.zarr")
    assert spec.frames_root("/data") == Path("/data/dvs128/frames")


def test_real_labels_file_slices_twelve_segments(realdata: Path, tmp_path: Path) -> None:
    csv_path = realdata / "dvsgesture" / "user01_natural_labels.csv"
    table = read_labels_csv(csv_path, 11)
    assert table.tolist() == [list(r) for r in REAL_ROWS]
    # one event every 10 ms from 50 s to 180 s, plus events exactly on every boundary
    t = np.unique(np.concatenate([np.arange(50_000_000, 180_000_000, 10_000), table[:, 1], table[:, 2]]))
    ev = np.zeros(len(t), dtype=[("t", "<i8"), ("x", "<u2"), ("y", "<u2"), ("p", "u1")])
    ev["t"] = t
    ev["x"] = np.arange(len(t)) % 128
    batch = slice_recording(ev, table, "user01_natural")
    assert len(batch) == 12
    labels = batch.labels.tolist()
    assert labels == [0, 1, 2, 4, 3, 5, 6, 7, 7, 8, 9, 10]
    assert labels.count(7) == 2 and labels.index(4) < labels.index(3)
    for i, (_, start, end) in enumerate(REAL_ROWS):
        sample = batch.sample(i)
        np.testing.assert_array_equal(sample, ev[(t >= start) & (t < end)])
        assert sample["t"][0] == start and sample["t"][-1] < end  # start included, end excluded
    assert batch.meta["segment"] == list(range(12)) and set(batch.meta["user"]) == {"user01"}
    assert set(batch.meta["lighting"]) == {"natural"}

    # the same through the dataset definition, on a real-format AEDAT 3.1 file
    folder = tmp_path / "raw"
    folder.mkdir()
    write_aedat3(folder / "user01_natural.aedat", ev)
    shutil.copy(csv_path, folder / "user01_natural_labels.csv")
    (folder / "trials_to_train.txt").write_text("user01_natural.aedat\n")
    (folder / "trials_to_test.txt").write_text("")
    spec = get_dataset("dvs128")
    part = spec.plan(folder, {})[0]
    result = read_part(spec, folder, part, {})
    assert result.batch.labels.tolist() == labels and result.batch.n_events == batch.n_events
    assert [s["path"] for s in result.sources] == ["user01_natural.aedat", "user01_natural_labels.csv",
                                                   "trials_to_train.txt"]


def test_fake_tree_golden(tmp_path: Path, convert_and_read: Callable) -> None:
    expected = write_gesture_tree(get_dataset("dvs128").raw_dir(tmp_path))
    assert [m["recording"] for _, _, m in expected["train"]][:1] == ["user01_natural"]
    assert_same_samples(convert_and_read("dvs128", tmp_path), expected)


def test_plan_is_one_part_per_recording(tmp_path: Path) -> None:
    raw = get_dataset("dvs128").raw_dir(tmp_path)
    write_gesture_tree(raw)
    parts = get_dataset("dvs128").plan(raw, {})
    assert [(p.split, p.key, p.units[0].path) for p in parts] == [
        ("train", "p00000", "DvsGesture/user01_natural.aedat"),
        ("train", "p00001", "DvsGesture/user02_led.aedat"),
        ("test", "p00000", "DvsGesture/user03_lab.aedat"),
    ]
    assert "DvsGesture/trials_to_train.txt" in parts[0].checksums
    assert "DvsGesture/trials_to_train.txt" not in parts[1].checksums


def test_missing_files_are_named(tmp_path: Path) -> None:
    spec = get_dataset("dvs128")
    with pytest.raises(DataNotFoundError, match="trial lists not found"):
        spec.plan(tmp_path, {})
    raw = spec.raw_dir(tmp_path)
    write_gesture_tree(raw)
    (raw / "DvsGesture" / "user02_led_labels.csv").unlink()
    with pytest.raises(DataNotFoundError, match="DvsGesture/user02_led_labels.csv"):
        spec.plan(raw, {})
    assert not spec.raw_present(tmp_path / "elsewhere")


@pytest.mark.parametrize(("content", "match"), [
    ("klass,start,end\n1,0,5\n", "expected the header"),
    ("class,startTime_usec,endTime_usec\n1,0\n", "line 2: expected three integers"),
    ("class,startTime_usec,endTime_usec\n12,0,5\n", "row 1: class 12 outside 1..11"),
])
def test_bad_labels_file(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "x_labels.csv"
    path.write_text(content)
    with pytest.raises(FormatError, match=match):
        read_labels_csv(path, 11)


def test_labels_file_from_the_generator_round_trips(tmp_path: Path) -> None:
    rows = [(3, 10, 20), (1, 0, 5)]
    path = tmp_path / "u_labels.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")  # CRLF line endings are accepted too
        writer.writerow(["class", "startTime_usec", "endTime_usec"])
        writer.writerows(rows)
    assert read_labels_csv(path, 11).tolist() == [list(r) for r in rows]
    ev = events(np.random.default_rng(0), 10, SensorSize(4, 4, 2), step=3)
    assert len(slice_recording(ev, read_labels_csv(path, 11), "odd-name").meta["lighting"]) == 2


@pytest.mark.parametrize("on_error", ["raise", "skip"])
def test_source_checksums_equal_a_separate_hash(tmp_path: Path, on_error: str, monkeypatch: pytest.MonkeyPatch
                                                ) -> None:
    """Checksums hashed while decoding equal file_sha256 of every file, a skipped corrupt one included;
    only files the readers did not decode to the end are read a second time to hash them."""
    from eventpipe.store import markers
    from eventpipe.store.markers import file_sha256

    rehashed: list[str] = []
    monkeypatch.setattr(markers, "file_sha256", lambda path: rehashed.append(Path(path).name) or file_sha256(path))
    spec = get_dataset("dvs128")
    raw = spec.raw_dir(tmp_path)
    write_gesture_tree(raw)
    bad = raw / "DvsGesture" / "user01_natural.aedat"
    if on_error == "skip":
        bad.write_bytes(bad.read_bytes()[:-3])
    parts = spec.plan(raw, {})
    sources = [s for p in parts for s in read_part(spec, raw, p, {}, on_error).sources]  # type: ignore[arg-type]
    assert len(sources) == 8  # 3 recordings, 3 labels files, 2 trial lists
    for s in sources:
        path = raw / s["path"]
        assert s == {"path": s["path"], "size": path.stat().st_size, "checksum": "sha256:" + file_sha256(str(path))}
    again = sorted(n for n in rehashed if n.endswith(".aedat"))
    assert again == (["user01_natural.aedat"] if on_error == "skip" else [])
