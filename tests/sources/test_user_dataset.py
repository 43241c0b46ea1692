"""User datasets from a folder of recordings: definition, splits, conversion, resolution by name, bad input.

Recordings are written byte by byte by the project's writers (AEDAT 2.0, AEDAT 3.1, ATIS, NumPy),
mixed in one folder; conversion runs in this process.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eventpipe.errors import (
    ConfigError,
    CorruptRecordingError,
    DataNotFoundError,
    FormatError,
    UnknownNameError,
)
from eventpipe.events import EVENT_DTYPE, SensorSize
from eventpipe.pipeline.convert import convert, convert_folder
from eventpipe.readers.aedat2 import write_aedat2
from eventpipe.readers.aedat3 import write_aedat3
from eventpipe.readers.atis import write_atis
from eventpipe.sources import get_dataset, use_root
from eventpipe.sources.user import UserDatasetSpec, definition_path, load_user_dataset, user_dataset_toml
from eventpipe.sources.user.folder import define_from_folder, parse_sensor
from eventpipe.store import EventsStore, check_integrity

RUN = {"scheduler": "synchronous", "progress": False}
SENSOR = SensorSize(40, 30, 2)


def make_events(seed: int, n: int = 300, t0: int = 0, corner: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ev = np.zeros(n, dtype=EVENT_DTYPE)
    ev["t"] = t0 + np.cumsum(rng.integers(1, 50, n))
    ev["x"] = rng.integers(0, SENSOR.width - 1, n)
    ev["y"] = rng.integers(0, SENSOR.height - 1, n)
    ev["p"] = rng.integers(0, 2, n)
    if corner:  # the event that sizes the sensor
        ev["x"][-1], ev["y"][-1] = SENSOR.width - 1, SENSOR.height - 1
    return ev


def write(path: Path, ev: np.ndarray) -> np.ndarray:
    """``ev`` in the format the suffix names; returns ``ev``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".aedat":
        write_aedat2(path, ev)
    elif path.suffix == ".aedat3":
        write_aedat3(path, ev, width=SENSOR.width, height=SENSOR.height)
    elif path.suffix == ".bin":
        write_atis(path, ev)
    else:
        np.save(path, ev)
    return ev


def class_tree(folder: Path, per_class: int = 5) -> dict[str, np.ndarray]:
    """``folder/<class>/<n>.<fmt>`` for classes clap and wave, every format in each; ``{path: events}``."""
    out = {}
    suffixes = (".aedat", ".aedat3", ".bin", ".npy")
    for c, name in enumerate(("clap", "wave")):
        for i in range(per_class):
            rel = f"{name}/rec{i}{suffixes[i % len(suffixes)]}"
            out[rel] = write(folder / rel, make_events(10 * c + i, corner=(c, i) == (1, 2)))
    return out


def read_store(root: Path, name: str) -> dict[str, list[tuple[np.ndarray, int, dict]]]:
    location = get_dataset(name, root).events_store_path(root)
    assert check_integrity(location) == []
    store = EventsStore.open(location)
    return {s: [(store.split(s).events(i), int(store.split(s).labels[i]), store.split(s).meta(i))
                for i in range(len(store.split(s)))] for s in store.splits}


def test_class_folders_of_mixed_formats_convert_and_resolve_by_name(tmp_path: Path) -> None:
    written = class_tree(tmp_path / "recs")
    root = tmp_path / "root"
    result = convert_folder(tmp_path / "recs", "mine", root, **RUN)
    assert result.status == "converted" and result.definition["status"] == "created"
    spec = load_user_dataset(definition_path(root, "mine"))
    assert isinstance(spec, UserDatasetSpec) and spec.classes == ("clap", "wave")
    assert spec.sensor == SensorSize(128, 128, 2)  # the AEDAT files state a DVS128
    assert spec.folder == str((tmp_path / "recs").absolute()) and spec.splits == ("train", "test")
    assert load_user_dataset(definition_path(root, "mine")) == spec  # the TOML round-trips
    samples = read_store(root, "mine")
    got = {meta["recording"]: (ev, label, split) for split, rows in samples.items() for ev, label, meta in rows}
    assert set(got) == set(written)
    for rel, ev in written.items():
        np.testing.assert_array_equal(got[rel][0], ev)
        assert got[rel][1] == ("clap", "wave").index(rel.split("/")[0])
    assert [len(samples["test"]), len(samples["train"])] == [2, 8]  # round(0.2 * 5) per class
    assert not list(root.glob("mine/raw"))  # nothing copied or linked
    with pytest.raises(UnknownNameError, match="Unknown dataset 'mine'"):
        get_dataset("mine", tmp_path / "elsewhere")
    use_root(tmp_path / "elsewhere")
    use_root(root)
    assert get_dataset("mine") == spec  # by name alone: the roots in use, latest first
    assert get_dataset("dvs128").name == "dvs128"  # built-ins resolve as before


def test_labels_csv_time_segments_and_whole_files(tmp_path: Path) -> None:
    folder = tmp_path / "recs"
    long = write(folder / "session" / "user01_natural.aedat3", make_events(1, n=2000, corner=True))
    whole = write(folder / "extra.npy", make_events(2))
    t = long["t"]
    cuts = [int(t[100]), int(t[600]), int(t[900]), int(t[1500]), int(t[1999]) + 1]
    labels = folder / "labels.csv"
    labels.write_text("path,label,start_us,end_us\n"
                      f"session/user01_natural.aedat3,wave,{cuts[0]},{cuts[1]}\n"
                      f"session/user01_natural.aedat3,clap,{cuts[2]},{cuts[3]}\n"
                      f"session/user01_natural.aedat3,wave,{cuts[3]},{cuts[4]}\n"
                      "extra.npy,clap\n")
    split = tmp_path / "split.csv"
    split.write_text("session/user01_natural.aedat3,train\nextra.npy,test\n")
    root = tmp_path / "root"
    convert_folder(folder, "segs", root, labels=labels, split=split, **RUN)
    samples = read_store(root, "segs")
    train = [(ev, label, meta["start_us"]) for ev, label, meta in samples["train"]]
    expected = [(long[(t >= a) & (t < b)], label, a)
                for a, b, label in ((cuts[0], cuts[1], 1), (cuts[2], cuts[3], 0), (cuts[3], cuts[4], 1))]
    assert len(train) == 3
    for (ev, label, start), (want, want_label, want_start) in zip(train, expected, strict=True):
        np.testing.assert_array_equal(ev, want)
        assert (label, start) == (want_label, want_start)
    np.testing.assert_array_equal(samples["test"][0][0], whole)


def test_split_folders_are_detected(tmp_path: Path) -> None:
    folder = tmp_path / "recs"
    for split, n in (("train", 3), ("test", 1)):
        for c in ("a", "b"):
            for i in range(n):
                write(folder / split / c / f"{i}.npy", make_events(i, corner=True))
    spec = define_from_folder(folder, "bysplit")
    assert spec.splits == ("train", "test") and spec.classes == ("a", "b")
    assert {(s.path, s.split) for s in spec.samples} >= {("test/a/0.npy", "test"), ("train/b/2.npy", "train")}


def test_stratified_split_is_deterministic(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for folder, order in ((one, range(10)), (two, reversed(range(10)))):
        for i in order:  # other creation order, same names
            for c in ("a", "b", "c"):
                write(folder / c / f"r{i}.npy", make_events(i, n=20, corner=True))
    first, second = define_from_folder(one, "x", test_fraction=0.3), define_from_folder(two, "x", test_fraction=0.3)
    split_of = [{(s.path, s.split) for s in spec.samples} for spec in (first, second)]
    assert split_of[0] == split_of[1]
    for label in range(3):
        assert sum(s.split == "test" and s.label == label for s in first.samples) == 3


def test_rerun_is_idempotent_and_a_changed_folder_rebuilds(tmp_path: Path) -> None:
    folder, root = tmp_path / "recs", tmp_path / "root"
    class_tree(folder, per_class=3)
    convert_folder(folder, "mine", root, **RUN)
    text = definition_path(root, "mine").read_text()
    again = convert_folder(folder, "mine", root, **RUN)
    assert (again.status, again.definition["status"]) == ("up-to-date", "unchanged")
    assert definition_path(root, "mine").read_text() == text
    write(folder / "wave" / "new.npy", make_events(99))
    grown = convert_folder(folder, "mine", root, **RUN)
    assert (grown.status, grown.definition["status"]) == ("converted", "updated")
    assert sum(grown.num_samples.values()) == 7
    (folder / "clap" / "rec0.aedat").unlink()
    with pytest.raises(DataNotFoundError, match=r"rec0.aedat is missing .*convert --from .* --name mine"):
        convert("mine", root, **RUN)


def test_sensor_from_the_events_where_no_file_states_it(tmp_path: Path) -> None:
    for c in ("a", "b"):
        write(tmp_path / "recs" / c / "1.npy", make_events(1, corner=c == "b"))
        write(tmp_path / "recs" / c / "2.bin", make_events(2))
    assert define_from_folder(tmp_path / "recs", "small").sensor == SENSOR


def test_sensor_given_and_parsed(tmp_path: Path) -> None:
    class_tree(tmp_path / "recs", per_class=2)
    spec = define_from_folder(tmp_path / "recs", "big", sensor=parse_sensor("346x260"))
    assert spec.sensor == SensorSize(346, 260, 2)
    assert parse_sensor("64x48x1") == SensorSize(64, 48, 1)
    with pytest.raises(ConfigError, match="WIDTHxHEIGHT"):
        parse_sensor("346 by 260")


# -- bad input: one line naming the file or the fix ------------------------------------------------

def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "recs").mkdir()
    with pytest.raises(DataNotFoundError, match=r"recs: no recordings found; expected .*<class>"):
        define_from_folder(tmp_path / "recs", "mine")


def test_one_class(tmp_path: Path) -> None:
    write(tmp_path / "recs" / "only" / "a.npy", make_events(0))
    with pytest.raises(ConfigError, match="found only the class 'only'; a dataset needs two or more"):
        define_from_folder(tmp_path / "recs", "mine")


@pytest.mark.parametrize("name", ["dvs128", "dvs128_gesture", "demo"])
def test_a_built_in_name_or_alias_is_refused(tmp_path: Path, name: str) -> None:
    class_tree(tmp_path / "recs", per_class=1)
    with pytest.raises(ConfigError, match=f"'{name}' is the name of a built-in dataset; pick another name"):
        convert_folder(tmp_path / "recs", name, tmp_path / "root", **RUN)
    assert not (tmp_path / "root").exists()


def test_an_unreadable_file_is_named_or_skipped(tmp_path: Path) -> None:
    folder, root = tmp_path / "recs", tmp_path / "root"
    class_tree(folder, per_class=2)
    (folder / "wave" / "notes.xyz").write_text("not events\n")
    with pytest.raises(FormatError, match=r"wave/notes.xyz: cannot detect the format") as info:
        convert_folder(folder, "mine", root, **RUN)
    assert "\n" not in str(info.value)
    bad = folder / "clap" / "rec0.aedat"
    bad.write_bytes(bad.read_bytes()[:-3])  # a truncated event
    (folder / "wave" / "notes.xyz").unlink()
    with pytest.raises(CorruptRecordingError, match="rec0.aedat"):
        convert_folder(folder, "mine", root, **RUN)
    result = convert_folder(folder, "mine", root, on_error="skip", **RUN)
    assert [s["path"] for s in result.skipped] == ["clap/rec0.aedat"]
    assert sum(result.num_samples.values()) == 3


def test_labels_csv_naming_a_missing_file(tmp_path: Path) -> None:
    class_tree(tmp_path / "recs", per_class=1)
    labels = tmp_path / "labels.csv"
    labels.write_text("clap/rec0.aedat,clap\nclap/gone.aedat,wave\n")
    with pytest.raises(DataNotFoundError, match=r"labels.csv: line 2: 'clap/gone.aedat' is not a file in "):
        define_from_folder(tmp_path / "recs", "mine", labels=labels)


def test_overlapping_segments(tmp_path: Path) -> None:
    write(tmp_path / "recs" / "s.npy", make_events(0))
    labels = tmp_path / "labels.csv"
    labels.write_text("path,label,start_us,end_us\ns.npy,a,0,1000\ns.npy,b,2000,3000\ns.npy,a,2500,4000\n")
    with pytest.raises(FormatError, match=r"labels.csv: line 4: the segment of 's.npy' overlaps line 3 "
                                          r"\(2000-3000 µs\)"):
        define_from_folder(tmp_path / "recs", "mine", labels=labels)
    labels.write_text("s.npy,a,0,1000\ns.npy,b,1000,x\n")
    with pytest.raises(FormatError, match=r"line 2: expected path,label or path,label,start_us,end_us"):
        define_from_folder(tmp_path / "recs", "mine", labels=labels)


def test_split_file_must_name_every_recording(tmp_path: Path) -> None:
    class_tree(tmp_path / "recs", per_class=2)
    split = tmp_path / "split.csv"
    split.write_text("path,split\nclap/rec0.aedat,train\n")
    with pytest.raises(ConfigError, match=r"split.csv: no split for 'clap/rec1.aedat3'.*; list every recording"):
        define_from_folder(tmp_path / "recs", "mine", split=split)


def test_a_damaged_definition_names_the_key(tmp_path: Path) -> None:
    class_tree(tmp_path / "recs", per_class=1)
    spec = define_from_folder(tmp_path / "recs", "mine")
    path = definition_path(tmp_path, "mine")
    path.parent.mkdir()
    path.write_text(user_dataset_toml(spec).replace('label = "wave"', 'label = "wav"'))
    with pytest.raises(ConfigError, match=r"dataset.toml: samples\[1\].label: unknown value 'wav'"):
        load_user_dataset(path)
