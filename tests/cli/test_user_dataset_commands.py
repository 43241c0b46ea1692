"""A user dataset in the commands that take a dataset name, as a built-in: ``verify``, ``prepare``
(with its events store deleted, and ``--dry-run``), ``datasets``, and the ``EventDataset`` class.

One folder of NumPy recordings is converted once for the module; a test that changes a recording or
a store puts it back before it ends.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from eventpipe.cli.main import app
from eventpipe.datasets import EventDataset, NeuromorphicDataset
from eventpipe.errors import ChecksumMismatch, DataNotFoundError
from eventpipe.events import EVENT_DTYPE
from eventpipe.loading import StoreDataset
from eventpipe.pipeline.convert import convert_folder
from eventpipe.pipeline.prepare import prepare
from eventpipe.sources import dataset_names, user_dataset_names
from eventpipe.sources.catalogue import catalogue

SYNC = ["--scheduler", "synchronous"]


def _events(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ev = np.zeros(200, dtype=EVENT_DTYPE)
    ev["t"] = np.cumsum(rng.integers(1, 100, len(ev)))
    ev["x"], ev["y"], ev["p"] = rng.integers(0, 16, len(ev)), rng.integers(0, 12, len(ev)), rng.integers(0, 2, len(ev))
    return ev


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(recordings, root)``: user dataset ``mine``, two classes of four NumPy recordings, converted."""
    base = tmp_path_factory.mktemp("user")
    recs, root = base / "recs", base / "root"
    for c, name in enumerate(("clap", "wave")):
        (recs / name).mkdir(parents=True)
        for i in range(4):
            np.save(recs / name / f"take{i}.npy", _events(10 * c + i))
    convert_folder(recs, "mine", root, sensor=None, scheduler="synchronous", progress=False)
    return recs, root


@pytest.fixture
def restored(made: tuple[Path, Path]) -> Iterator[Path]:
    """``clap/take1.npy``, its bytes put back after the test."""
    path = made[0] / "clap" / "take1.npy"
    data = path.read_bytes()
    yield path
    path.write_bytes(data)


def invoke(*args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(app, ["-q", *args])
    return result.exit_code, result.stdout, result.exception


def test_verify_a_user_dataset(made: tuple[Path, Path]) -> None:
    code, out, error = invoke("verify", "mine", "--root", str(made[1]), "--json")
    assert code == 0, error
    report = json.loads(out)
    recordings = [c for c in report["checks"] if c["kind"] == "recording"]
    assert report["ok"] and len(recordings) == 8 and all(c["status"] == "ok" for c in recordings)
    assert [c["target"] for c in report["checks"] if c["kind"] == "store"] == ["events.zarr"]
    code, out, _ = invoke("verify", "mine", "--root", str(made[1]), "--quick")
    assert code == 0 and "recordings: 8 of 8 ok" in out and "mine: 9 checks, ok" in out


def test_verify_names_a_changed_recording(made: tuple[Path, Path], restored: Path) -> None:
    data = bytearray(restored.read_bytes())
    data[-1] ^= 1  # same size, other bytes: only the checksum the events store recorded tells
    restored.write_bytes(bytes(data))
    code, out, error = invoke("verify", "mine", "--root", str(made[1]))
    assert code != 0 and isinstance(error, ChecksumMismatch) and "convert --from" in str(error)
    assert str(restored) in str(error) and "sha256" in str(error) and "\n" not in str(error)
    assert "recordings: 7 of 8 ok" in out and "convert --from" in out


def test_verify_names_a_deleted_recording(made: tuple[Path, Path], restored: Path) -> None:
    restored.unlink()
    code, _, error = invoke("verify", "mine", "--root", str(made[1]))
    assert code != 0 and isinstance(error, DataNotFoundError)
    message = str(error)
    assert str(restored) in message and f"convert --from {made[0]} --name mine" in message and "\n" not in message


def test_verify_finds_a_damaged_store_chunk(made: tuple[Path, Path]) -> None:
    chunk = next(p for p in sorted((made[1] / "mine" / "events.zarr").rglob("c/*")) if p.is_file())
    data = chunk.read_bytes()
    try:
        chunk.write_bytes(bytes(b ^ 0xFF for b in data))
        code, _, error = invoke("verify", "mine", "--root", str(made[1]))
        assert code != 0 and "events.zarr" in str(error)
        assert invoke("verify", "mine", "--root", str(made[1]), "--quick")[0] == 0  # metadata only
    finally:
        chunk.write_bytes(data)


def test_prepare_rebuilds_a_deleted_events_store_from_the_folder(made: tuple[Path, Path]) -> None:
    recs, root = made
    shutil.rmtree(root / "mine" / "events.zarr")
    code, out, error = invoke("prepare", "mine", "--frames", "2", "--root", str(root), "--dry-run", "--json")
    assert code == 0, error
    steps = {s["step"]: s for s in json.loads(out)["steps"]}
    assert steps["download"]["status"] == "skip" and str(recs) in steps["download"]["detail"]
    assert (steps["convert"]["status"], steps["integrate"]["status"]) == ("convert", "integrate")
    code, out, error = invoke("prepare", "mine", "--frames", "2", "--root", str(root), *SYNC, "--json")
    assert code == 0, error
    result = json.loads(out)
    assert [(s["step"], s["status"]) for s in result["steps"]] == [
        ("download", "skipped"), ("convert", "converted"), ("integrate", "prepared")]
    assert sum(result["num_samples"].values()) == 8
    again = prepare("mine", root, None, scheduler="synchronous", progress=False)
    assert [s.status for s in again.steps] == ["skipped", "up-to-date"]


def test_datasets_lists_user_datasets_after_the_registered_ones(made: tuple[Path, Path]) -> None:
    recs, root = made
    assert user_dataset_names(root) == ["mine"] and "mine" not in dataset_names()
    rows = catalogue(root)
    assert [r["name"] for r in rows] == [*dataset_names(), "mine"]
    mine = rows[-1]
    assert (mine["kind"], mine["folder"], mine["raw"], mine["store"]) == ("user", str(recs), True, "converted")
    assert all(r["kind"] == "registered" and r["folder"] is None for r in rows[:-1])
    code, out, _ = invoke("datasets", "--root", str(root))
    assert code == 0 and f"mine: {recs}" in out and "user datasets" in out


def test_a_definition_under_a_registered_name_is_not_listed(tmp_path: Path, made: tuple[Path, Path]) -> None:
    root = tmp_path / "root"
    shutil.copytree(made[1] / "mine", root / "nmnist")
    (root / "broken").mkdir()
    (root / "broken" / "dataset.toml").write_text("schema = 1\n")
    assert user_dataset_names(root) == ["broken"]
    rows = {r["name"]: r for r in catalogue(root)}
    assert rows["nmnist"]["kind"] == "registered" and "broken" in rows and "dataset.toml" in rows["broken"]["problem"]


def test_event_dataset_reads_a_user_dataset_by_name(made: tuple[Path, Path]) -> None:
    root = made[1]
    ds = EventDataset(root, "mine", split="test", frames=3, prepare=True, scheduler="synchronous", progress=False)
    x, y = ds[0]
    assert isinstance(ds, NeuromorphicDataset) and ds.classes == ("clap", "wave") and 0 <= y < 2
    assert tuple(x.shape) == (3, 2, ds.sensor_size.height, ds.sensor_size.width)
    events, label = EventDataset(root, "mine")[0]
    assert events.dtype == EVENT_DTYPE and label in (0, 1)


def test_store_dataset_finds_it_under_its_root_alone(made: tuple[Path, Path], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("eventpipe.sources._USER_ROOTS", [])  # no root opened in this process
    monkeypatch.setenv("EVENTPIPE_HOME", str(tmp_path))
    ds = StoreDataset(made[1], "train", dataset="mine")
    assert ds.info.name == "mine" and len(ds) == 6
