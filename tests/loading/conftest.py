"""Small events stores of every built-in dataset, converted from fake raw trees in their real formats.

Each writer produces a few format-valid recordings laid out as the dataset definition expects; the
real converter turns them into ``root/<name>/events.zarr`` once per test session. The raw trees are
then removed: ``prepare`` skips downloading (and checking the fake files against the published
checksums) when the events store is complete and no raw files remain.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from eventpipe.events import SensorSize, make_events


def _events(rng: np.random.Generator, n: int, sensor: SensorSize, span_us: int = 300_000) -> np.ndarray:
    t = np.sort(rng.integers(0, span_us, n)) + 1000
    p = rng.integers(0, min(2, sensor.polarities), n)
    return make_events(t=t, x=rng.integers(0, sensor.width, n), y=rng.integers(0, sensor.height, n), p=p)


def _gesture(raw: Path, rng: np.random.Generator, sensor: tuple[int, int, int]) -> None:
    from eventpipe.synth import write_gesture_raw

    write_gesture_raw(
        raw, users=2, lightings=["lab"], test_users=1, sensor=sensor, events_per_second=3_000,
        gesture_seconds=0.3, noise_hz=0.1, time_step_us=5000, seed=int(rng.integers(1 << 30)),
    )


def _nmnist(raw: Path, rng: np.random.Generator) -> None:
    from eventpipe.readers.atis import write_atis

    for folder, per_class in (("Train", 2), ("Test", 1)):
        for digit in (0, 3, 7):
            (raw / folder / str(digit)).mkdir(parents=True)
            for k in range(per_class):
                n = int(rng.integers(50, 200))
                write_atis(raw / folder / str(digit) / f"{digit}{k:04d}.bin", _events(rng, n, SensorSize(34, 34, 2)))


def _ncaltech101(raw: Path, rng: np.random.Generator) -> None:
    from eventpipe.readers.atis import write_atis

    for cls in ("Faces_easy", "ant"):
        (raw / "Caltech101" / cls).mkdir(parents=True)
        for k in range(1, 4):
            write_atis(raw / "Caltech101" / cls / f"image_{k:04d}.bin", _events(rng, 120, SensorSize(240, 180, 2)))


def _cifar10dvs(raw: Path, rng: np.random.Generator) -> None:
    from eventpipe.readers.aedat2 import write_aedat2

    for cls in ("airplane", "cat"):
        (raw / cls).mkdir(parents=True)
        for k in range(6):
            write_aedat2(raw / cls / f"cifar10_{cls}_{k}.aedat", _events(rng, 150, SensorSize(128, 128, 2)))


def _shd(raw: Path, rng: np.random.Generator) -> None:
    import h5py

    raw.mkdir(parents=True)
    for split, n in (("train", 4), ("test", 3)):
        with h5py.File(raw / f"shd_{split}.h5", "w") as h5:
            times = h5.create_dataset("spikes/times", (n,), dtype=h5py.vlen_dtype(np.float32))
            units = h5.create_dataset("spikes/units", (n,), dtype=h5py.vlen_dtype(np.uint16))
            for i in range(n):
                k = int(rng.integers(30, 90))
                times[i] = np.sort(rng.uniform(0.0, 0.8, k)).astype(np.float32)
                units[i] = rng.integers(0, 700, k).astype(np.uint16)
            h5.create_dataset("labels", data=rng.integers(0, 20, n).astype(np.uint16))
            h5.create_dataset("extra/speaker", data=rng.integers(0, 5, n).astype(np.uint16))


def _asl_dvs(raw: Path, rng: np.random.Generator) -> None:
    import scipy.io

    for letter in ("a", "b"):
        (raw / letter).mkdir(parents=True)
        for k in range(1, 4):
            ev = _events(rng, 100, SensorSize(240, 180, 2))
            scipy.io.savemat(
                raw / letter / f"{letter}_{k:04d}.mat",
                {"ts": ev["t"].reshape(-1, 1), "x": ev["x"].reshape(-1, 1).astype(np.int32),
                 "y": ev["y"].reshape(-1, 1).astype(np.int32), "pol": ev["p"].reshape(-1, 1).astype(np.int32)},
            )


def _dvs_lip(raw: Path, rng: np.random.Generator) -> None:
    """The released files' own layout: x, y (int16), p (bool), t (int64, µs) in one structured array."""
    dtype = np.dtype([("x", np.int16), ("y", np.int16), ("p", bool), ("t", np.int64)])
    for split, per_class in (("train", 2), ("test", 1)):
        for word in ("accused", "young"):
            folder = raw / "DVS-Lip" / split / word
            folder.mkdir(parents=True)
            for k in range(per_class):
                ev = _events(rng, int(rng.integers(80, 200)), SensorSize(128, 128, 2))
                out = np.empty(len(ev), dtype=dtype)
                for field in "xypt":
                    out[field] = ev[field]
                np.save(folder / f"{k}.npy", out)


FAKE_RAW: dict[str, Callable[[Path, np.random.Generator], None]] = {
    "dvs128": lambda raw, rng: _gesture(raw, rng, (128, 128, 2)),
    "demo": lambda raw, rng: _gesture(raw, rng, (32, 32, 2)),
    "nmnist": _nmnist,
    "ncaltech101": _ncaltech101,
    "cifar10dvs": _cifar10dvs,
    "shd": _shd,
    "asl-dvs": _asl_dvs,
    "dvs-lip": _dvs_lip,
}


@pytest.fixture(scope="session")
def stores_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root with the events store of every built-in dataset, built from fake raw trees."""
    root = tmp_path_factory.mktemp("data")
    for i, name in enumerate(FAKE_RAW):
        build_events_store(root, name, seed=100 + i)
    return root


def build_events_store(root: Path, name: str, seed: int) -> None:
    """Write a fake raw tree of dataset ``name``, convert it, then remove the raw files."""
    from eventpipe.pipeline.convert import convert
    from eventpipe.sources import get_dataset

    raw = get_dataset(name).raw_dir(root)
    FAKE_RAW[name](raw, np.random.default_rng(seed))
    convert(name, root, scheduler="synchronous", progress=False)
    shutil.rmtree(raw)


@pytest.fixture(scope="session")
def make_events_store() -> Callable[[Path, str, int], None]:
    """:func:`build_events_store`, for tests that need a store of their own."""
    return build_events_store
