"""Golden conversions of each dataset's layout, on tiny trees written in the real file formats."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fake_raw import (
    assert_same_samples,
    events,
    write_asl_mat,
    write_cifar_zips,
    write_class_folder_tree,
    write_nmnist_tree,
    write_shd_file,
)

from eventpipe.errors import ConfigError, DataNotFoundError
from eventpipe.events import EVENT_DTYPE, SensorSize
from eventpipe.readers.aedat2 import write_aedat2
from eventpipe.readers.atis import write_atis
from eventpipe.sources import get_dataset
from eventpipe.sources.splits import hash_split


def test_nmnist(tmp_path: Path, convert_and_read: Callable) -> None:
    expected = write_nmnist_tree(get_dataset("nmnist").raw_dir(tmp_path) / "NMNIST")
    assert_same_samples(convert_and_read("nmnist", tmp_path), expected)


def _hash_expected(written: dict[str, list[np.ndarray]], classes: tuple[str, ...], salt: str, fraction: float,
                   stem: Callable[[str, int], str], meta: Callable[[str, int], dict]) -> dict:
    expected: dict = {"train": [], "test": []}
    for cls, evs in written.items():
        names = [stem(cls, i) for i in range(len(evs))]
        test = hash_split([n for n in names], fraction, f"{salt}/{cls}")
        for i, ev in enumerate(evs):
            expected["test" if test[i] else "train"].append((ev, classes.index(cls), meta(cls, i)))
    for split in expected:
        expected[split].sort(key=lambda s: s[1])  # by label; stable keeps file order within a class
    return expected


def test_ncaltech101_split_by_hash(tmp_path: Path, convert_and_read: Callable) -> None:
    spec = get_dataset("ncaltech101")
    classes = ["Faces_easy", "BACKGROUND_Google", "yin_yang"]
    folder = spec.raw_dir(tmp_path) / "Caltech101"
    written = write_class_folder_tree(folder, classes, SensorSize(240, 180, 2), ".bin", 5, write_atis)
    expected = _hash_expected(written, spec.classes, "ncaltech101", 0.2, lambda c, i: f"{c}_{i:04d}.bin",
                              lambda c, i: {"file": f"{c}_{i:04d}"})
    assert [len(v) for v in expected.values()] == [12, 3]  # 1 of 5 per class in test
    assert_same_samples(convert_and_read("ncaltech101", tmp_path), expected)
    assert spec.classes[:2] == ("BACKGROUND_Google", "Faces_easy") and len(spec.classes) == 101


def test_unknown_class_folder_is_an_error(tmp_path: Path) -> None:
    spec = get_dataset("ncaltech101")
    folder = spec.raw_dir(tmp_path) / "Caltech101"
    (folder / "Faces").mkdir(parents=True)  # not part of N-Caltech101
    (folder.parent / ".eventpipe" / "verified").mkdir(parents=True)  # download records are ignored
    with pytest.raises(DataNotFoundError, match="folder 'Faces' is not a class"):
        spec.plan(spec.raw_dir(tmp_path), {"test_fraction": 0.2})


@pytest.mark.parametrize("scheme", ["hash", "first_100"])
def test_cifar10dvs_from_zips(tmp_path: Path, convert_and_read: Callable, scheme: str) -> None:
    spec = get_dataset("cifar10dvs")
    classes = ["airplane", "truck"]
    written = write_cifar_zips(spec.raw_dir(tmp_path), classes, 103)
    if scheme == "hash":
        expected = _hash_expected(written, spec.classes, "cifar10dvs", 0.1, lambda c, i: f"cifar10_{c}_{i}.aedat",
                                  lambda c, i: {"file": f"cifar10_{c}_{i}", "index": i})
        assert len(expected["test"]) == 20  # round(10.3) per class
    else:
        expected = {"train": [], "test": []}
        for cls in classes:
            for i, ev in enumerate(written[cls]):
                expected["test" if i < 100 else "train"].append(
                    (ev, spec.classes.index(cls), {"file": f"cifar10_{cls}_{i}", "index": i}))
    assert_same_samples(convert_and_read("cifar10dvs", tmp_path, split_scheme=scheme), expected)


def test_cifar10dvs_from_folders_matches_zips(tmp_path: Path) -> None:
    spec = get_dataset("cifar10dvs")
    zipped = write_cifar_zips(tmp_path / "z", ["cat"], 4)
    folder = tmp_path / "f" / "cat"
    folder.mkdir(parents=True)
    for i, ev in enumerate(zipped["cat"]):
        write_aedat2(folder / f"cifar10_cat_{i}.aedat", ev)
    opts = spec.options()
    from eventpipe.sources.base import read_part

    for raw in (tmp_path / "z", tmp_path / "f"):
        parts = spec.plan(raw, opts)
        batches = [read_part(spec, raw, p, opts).batch for p in parts]
        assert sum(len(b) for b in batches) == 4
    with pytest.raises(ConfigError, match=r"Unknown value 'random' for option split_scheme"):
        spec.options(split_scheme="random")
    with pytest.raises(ConfigError, match=r"option test_fraction as a number in \[0, 1\)"):
        spec.options(test_fraction=1.5)
    with pytest.raises(ConfigError, match=r"Unknown option 'seed' for dataset 'cifar10dvs'"):
        spec.options(seed=1)


def test_shd(tmp_path: Path, convert_and_read: Callable) -> None:
    rng = np.random.default_rng(4)
    raw = get_dataset("shd").raw_dir(tmp_path)
    expected: dict = {"train": [], "test": []}
    for split, n in (("train", 4), ("test", 2)):
        samples, labels, speakers = [], [], []
        for i in range(n):
            k = int(rng.integers(0, 50))
            times = np.sort(rng.integers(0, 1_000_000, k)).astype(np.float32) / np.float32(1e6)
            units = rng.integers(0, 700, k).astype(np.uint16)
            samples.append((times, units))
            labels.append(int(rng.integers(0, 20)))
            speakers.append(i + 3)
            ev = np.zeros(k, dtype=EVENT_DTYPE)
            ev["t"] = np.round(times.astype(np.float64) * 1e6)
            ev["x"] = units
            order = np.argsort(ev["t"], kind="stable")
            expected[split].append((ev[order], labels[-1], {"speaker": i + 3}))
        write_shd_file(raw / f"shd_{split}.h5", samples, labels, speakers)
    assert_same_samples(convert_and_read("shd", tmp_path), expected)
    assert get_dataset("shd").sensor == SensorSize(700, 1, 1)


def test_asl_dvs_flips_y(tmp_path: Path, convert_and_read: Callable) -> None:
    spec = get_dataset("asl-dvs")
    folder = spec.raw_dir(tmp_path) / "ICCV2019_DVS_dataset"
    written = write_class_folder_tree(folder, ["a", "y"], spec.sensor, ".mat", 5, write_asl_mat)
    expected = _hash_expected(written, spec.classes, "asl-dvs", 0.2, lambda c, i: f"{c}_{i:04d}.mat",
                              lambda c, i: {"file": f"{c}_{i:04d}"})
    assert_same_samples(convert_and_read("asl-dvs", tmp_path), expected)
    assert "j" not in spec.classes and "z" not in spec.classes and len(spec.classes) == 24


def test_demo_is_the_gesture_layout(tmp_path: Path) -> None:
    from eventpipe.synth import DEMO_CLASSES, DEMO_SENSOR

    spec = get_dataset("demo")
    assert spec.sensor == DEMO_SENSOR and spec.classes == DEMO_CLASSES and not spec.manual_download
    from fake_raw import write_gesture_tree

    write_gesture_tree(spec.raw_dir(tmp_path), sensor=DEMO_SENSOR)
    assert [p.key for p in spec.plan(spec.raw_dir(tmp_path), {})] == ["p00000", "p00001", "p00000"]


def test_small_files_are_batched_by_size(tmp_path: Path) -> None:
    from eventpipe.sources import base

    folder = tmp_path / "Train" / "0"
    folder.mkdir(parents=True)
    (tmp_path / "Test").mkdir()
    ev = events(np.random.default_rng(0), 100, SensorSize(34, 34, 2))
    for i in range(7):
        write_atis(folder / f"{i}.bin", ev)
    size = (folder / "0.bin").stat().st_size
    assert base.batch_by_size([(i, size) for i in range(7)], budget=3 * size) == [[0, 1, 2], [3, 4, 5], [6]]
    parts = get_dataset("nmnist").plan(tmp_path, {})
    assert len(parts) == 1 and len(parts[0].units) == 7
