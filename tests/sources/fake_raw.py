"""Tiny raw trees in each dataset's real layout and file formats, with the samples they must yield.

Each ``write_<dataset>(raw_dir)`` writes format-valid files with the readers' writers (or h5py /
scipy for HDF5 and MATLAB) and returns ``{split: [(events, label, meta), ...]}`` in the documented
store order, computed here independently of the dataset code.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from eventpipe.events import EVENT_DTYPE, SensorSize
from eventpipe.readers.aedat2 import write_aedat2
from eventpipe.readers.aedat3 import write_aedat3
from eventpipe.readers.atis import write_atis

Expected = dict[str, list[tuple[np.ndarray, int, dict[str, Any]]]]


def events(rng: np.random.Generator, n: int, sensor: SensorSize, t_start: int = 0, step: int = 40) -> np.ndarray:
    ev = np.zeros(n, dtype=EVENT_DTYPE)
    ev["t"] = t_start + np.cumsum(rng.integers(1, step, n))
    ev["x"] = rng.integers(0, sensor.width, n)
    ev["y"] = rng.integers(0, sensor.height, n)
    ev["p"] = rng.integers(0, sensor.polarities, n)
    return ev


def write_labels_csv(path: Path, rows: list[tuple[int, int, int]]) -> None:
    path.write_text("class,startTime_usec,endTime_usec\n" + "".join(f"{c},{a},{b}\n" for c, a, b in rows))


GESTURE_SENSOR = SensorSize(128, 128, 2)


def write_gesture_tree(raw_dir: Path, sensor: SensorSize = GESTURE_SENSOR, n_classes: int = 11) -> Expected:
    """Three recordings (two train, one test) in a ``DvsGesture/`` sub-folder, labels unsorted and repeating."""
    rng = np.random.default_rng(7)
    folder = raw_dir / "DvsGesture"
    folder.mkdir(parents=True)
    layout = {
        "train": {"user01_natural": [(5, 1_000, 3_000), (4, 3_500, 5_000), (8, 200, 900), (8, 6_000, 7_000)],
                  "user02_led": [(1, 0, 10_000), (n_classes, 2_000, 2_500)]},
        "test": {"user03_lab": [(2, 500, 4_000), (3, 9_000, 9_001)]},  # the last window holds no event
    }
    (folder / "trials_to_train.txt").write_text("user02_led.aedat\n\nuser01_natural.aedat\n")
    (folder / "trials_to_test.txt").write_text("user03_lab.aedat\n")
    expected: Expected = {"train": [], "test": []}
    for split, recordings in layout.items():
        for name in sorted(recordings):
            ev = events(rng, 400, sensor, t_start=0, step=20)
            ev = ev[ev["t"] != 9_000]
            write_aedat3(folder / f"{name}.aedat", ev, width=sensor.width, height=sensor.height, packet_size=64)
            write_labels_csv(folder / f"{name}_labels.csv", recordings[name])
            user, lighting = name.split("_", 1)
            for segment, (cls, a, b) in enumerate(recordings[name]):
                mask = (ev["t"] >= a) & (ev["t"] < b)
                meta = {"user": user, "lighting": lighting, "recording": name, "segment": segment}
                expected[split].append((ev[mask], cls - 1, meta))
    return expected


def write_nmnist_tree(raw_dir: Path) -> Expected:
    """``Train/<digit>/*.bin`` and ``Test/<digit>/*.bin``; samples ordered by digit, then file number."""
    rng = np.random.default_rng(1)
    sensor = SensorSize(34, 34, 2)
    expected: Expected = {"train": [], "test": []}
    for split, folder, digits in (("train", "Train", (0, 3, 9)), ("test", "Test", (1, 3))):
        for d in digits:
            (raw_dir / folder / str(d)).mkdir(parents=True)
            written = {}
            for stem in ("00010", "00002"):  # written out of order; 00002 sorts first
                written[stem] = events(rng, int(rng.integers(5, 40)), sensor)
                write_atis(raw_dir / folder / str(d) / f"{stem}.bin", written[stem])
            expected[split] += [(written[stem], d, {"file": stem}) for stem in ("00002", "00010")]
    return expected


def write_class_folder_tree(raw_dir: Path, classes: list[str], sensor: SensorSize, suffix: str,
                            per_class: int, writer: Any) -> dict[str, list[np.ndarray]]:
    """``raw_dir/<class>/<class>_<i><suffix>`` files; returns the events written per class, in file order."""
    rng = np.random.default_rng(2)
    written: dict[str, list[np.ndarray]] = {}
    for cls in classes:
        (raw_dir / cls).mkdir(parents=True)
        written[cls] = []
        for i in range(per_class):
            ev = events(rng, int(rng.integers(1, 30)), sensor)
            writer(raw_dir / cls / f"{cls}_{i:04d}{suffix}", ev)
            written[cls].append(ev)
    return written


def write_cifar_zips(raw_dir: Path, classes: list[str], per_class: int) -> dict[str, list[np.ndarray]]:
    """``<class>.zip`` archives holding ``<class>/cifar10_<class>_<i>.aedat`` (AEDAT 2.0) members."""
    rng = np.random.default_rng(3)
    raw_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[np.ndarray]] = {}
    tmp = raw_dir / "tmp.aedat"
    for cls in classes:
        written[cls] = []
        with zipfile.ZipFile(raw_dir / f"{cls}.zip", "w") as zf:
            for i in range(per_class):
                ev = events(rng, int(rng.integers(1, 30)), SensorSize(128, 128, 2))
                write_aedat2(tmp, ev)
                zf.write(tmp, f"{cls}/cifar10_{cls}_{i}.aedat")
                written[cls].append(ev)
    tmp.unlink()
    return written


def write_shd_file(path: Path, samples: list[tuple[np.ndarray, np.ndarray]], labels: list[int],
                   speakers: list[int]) -> None:
    """An SHD-layout HDF5 file: vlen ``spikes/times`` (s, float32) and ``spikes/units``."""
    import h5py

    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as h5:
        times = h5.create_dataset("spikes/times", (len(samples),), dtype=h5py.vlen_dtype(np.float32))
        units = h5.create_dataset("spikes/units", (len(samples),), dtype=h5py.vlen_dtype(np.uint16))
        for i, (t, u) in enumerate(samples):
            times[i] = t
            units[i] = u
        h5["labels"] = np.asarray(labels, dtype=np.uint8)
        h5["extra/speaker"] = np.asarray(speakers, dtype=np.uint16)
        h5["extra/keys"] = np.array([b"zero"] * 20)


def write_asl_mat(path: Path, ev: np.ndarray) -> None:
    """An ASL-DVS ``.mat`` file (columns ts, x, y, pol; y pointing up)."""
    import scipy.io

    scipy.io.savemat(path, {"ts": ev["t"].reshape(-1, 1).astype(np.int64), "x": ev["x"].reshape(-1, 1).astype(np.int32),
                            "y": (179 - ev["y"].astype(np.int32)).reshape(-1, 1),
                            "pol": ev["p"].reshape(-1, 1).astype(np.int32)})


def assert_same_samples(got: Expected, expected: Expected) -> None:
    assert sorted(got) == sorted(expected)
    for split in expected:
        assert len(got[split]) == len(expected[split]), split
        for i, ((ev, label, meta), (want_ev, want_label, want_meta)) in enumerate(zip(got[split], expected[split], strict=True)):
            assert (label, meta) == (want_label, want_meta), (split, i)
            np.testing.assert_array_equal(ev, want_ev, err_msg=f"{split} sample {i}")
