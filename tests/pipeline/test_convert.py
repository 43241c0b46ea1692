from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from convert_helpers import assert_same_store, write_tree

from eventpipe.errors import ConfigError, StoreLockedError
from eventpipe.pipeline.convert import _groups, convert
from eventpipe.pipeline.dask import local_cluster
from eventpipe.readers import read_events
from eventpipe.sources import get_dataset
from eventpipe.store import EventsStore, check_integrity
from eventpipe.store.lock import store_lock


@pytest.fixture(scope="module")
def raw_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("tree") / "raw"
    write_tree(raw)
    return raw


def _root_with(raw: Path, root: Path, name: str = "demo") -> Path:
    shutil.copytree(raw, get_dataset(name).raw_dir(root))
    return root


def test_convert_then_up_to_date(raw_tree: Path, tmp_path: Path) -> None:
    root = _root_with(raw_tree, tmp_path)
    result = convert("demo", root, scheduler="synchronous", progress=False)
    assert result.status == "converted" and result.parts_total == result.parts_written == 6
    store = EventsStore.open(get_dataset("demo").events_store_path(root))
    assert result.num_samples == {s: len(store.split(s)) for s in store.splits}
    assert result.fingerprint == store.fingerprint and check_integrity(store.location) == []
    # every event of every sample comes from its recording, inside its label window
    train = store.split("train")
    for i in range(len(train)):
        meta = train.meta(i)
        rec = read_events(get_dataset("demo").raw_dir(root) / f"{meta['recording']}.aedat")
        ev = train.events(i)
        assert np.isin(ev["t"], rec["t"]).all()
    again = convert("demo", root, scheduler="synchronous", progress=False)
    assert again.status == "up-to-date" and again.parts_written == 0 and again.fingerprint == result.fingerprint


def test_changed_raw_files_rebuild_the_store(raw_tree: Path, tmp_path: Path) -> None:
    root = _root_with(raw_tree, tmp_path)
    first = convert("demo", root, scheduler="synchronous", progress=False)
    trials = get_dataset("demo").raw_dir(root) / "trials_to_test.txt"
    trials.write_text(trials.read_text().splitlines()[0] + "\n")  # one test recording fewer
    second = convert("demo", root, scheduler="synchronous", progress=False)
    assert second.status == "converted" and second.parts_total == 5
    assert second.fingerprint != first.fingerprint


@pytest.mark.parametrize("partitions", [1, 2, 4])
def test_partitions_give_identical_stores(raw_tree: Path, tmp_path: Path, partitions: int) -> None:
    reference = _root_with(raw_tree, tmp_path / "ref")
    convert("demo", reference, scheduler="synchronous", progress=False)
    other = _root_with(raw_tree, tmp_path / "other")
    convert("demo", other, scheduler="synchronous", progress=False, partitions=partitions)
    spec = get_dataset("demo")
    assert_same_store(spec.events_store_path(reference), spec.events_store_path(other))


@pytest.mark.slow
def test_two_process_cluster_gives_identical_store(raw_tree: Path, tmp_path: Path) -> None:
    spec = get_dataset("demo")
    reference = _root_with(raw_tree, tmp_path / "ref")
    convert("demo", reference, scheduler="synchronous", progress=False)
    other = _root_with(raw_tree, tmp_path / "cluster")
    result = convert("demo", other, workers=2, progress=False)  # a local cluster of 2 worker processes
    assert result.parts_written == 6 and result.cpu_seconds > 0
    assert_same_store(spec.events_store_path(reference), spec.events_store_path(other))
    with local_cluster(2) as address:  # an existing cluster, as with --scheduler ADDRESS
        result = convert("demo", other, store=tmp_path / "via-address.zarr", scheduler=address, progress=False)
    assert result.status == "converted"
    assert_same_store(spec.events_store_path(reference), tmp_path / "via-address.zarr")


def test_memory_store(raw_tree: Path, tmp_path: Path) -> None:
    root = _root_with(raw_tree, tmp_path)
    local = convert("demo", root, scheduler="synchronous", progress=False)
    url = f"memory://{tmp_path.name}/demo/events.zarr"
    remote = convert("demo", root, store=url, progress=False)  # runs in this process: memory is per process
    assert remote.fingerprint == local.fingerprint and check_integrity(url) == []
    assert_same_store(local.store, url)
    with pytest.raises(ConfigError, match="lives in this process's memory"):
        convert("demo", root, store=url + "2", scheduler="tcp://127.0.0.1:1", progress=False)


def test_concurrent_run_is_refused(raw_tree: Path, tmp_path: Path) -> None:
    root = _root_with(raw_tree, tmp_path)
    with store_lock(get_dataset("demo").events_store_path(root)), pytest.raises(StoreLockedError):
        convert("demo", root, scheduler="synchronous", progress=False)


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"Unknown value 'ignore' for option on_error"):
        convert("demo", tmp_path, on_error="ignore")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="Unknown option 'frames' for dataset 'demo'"):
        convert("demo", tmp_path, frames=3)
    with pytest.raises(ConfigError, match="partitions as an integer >= 1"):
        _groups([], 0)
    assert [len(g) for g in _groups(list(range(7)), 3)] == [3, 2, 2]  # type: ignore[arg-type]
