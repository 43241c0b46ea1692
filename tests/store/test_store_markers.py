from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from store_helpers import build_store, random_batch

from eventpipe.events import make_events
from eventpipe.store.location import (
    exists,
    is_local,
    join,
    normalize,
    open_group,
    remove,
    remove_partial_writes,
    size_on_disk,
)
from eventpipe.store.markers import file_sha256, fingerprint, is_complete, mark_complete, read_attrs
from eventpipe.store.stats import events_summary, store_summary


def test_fingerprint_is_canonical() -> None:
    assert fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": [1, 2], "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})


def test_marker_written_last_and_unreadable_metadata(tmp_path: Path) -> None:
    loc = str(tmp_path / "s.zarr")
    open_group(loc, "w").create_group("part", attributes={"n": 1})
    assert not is_complete(loc, "part") and not is_complete(loc, "missing")
    assert mark_complete(loc, "part", {"n": 3}) == {"n": 3, "complete": True}
    assert read_attrs(loc, "part") == {"n": 3, "complete": True} and is_complete(loc, "part")
    assert dict(open_group(loc, "r", path="part").attrs) == {"n": 3, "complete": True}
    memory = "memory://markers-test/s.zarr"
    mark_complete(memory, "", {"kind": "x"})
    assert read_attrs(memory) == {"kind": "x", "complete": True} and read_attrs(memory, "nothing") is None
    (tmp_path / "s.zarr" / "part" / "zarr.json").write_text('{"zarr_format": 3, "node_ty')  # cut short
    assert read_attrs(str(tmp_path / "s.zarr"), "part") is None
    assert read_attrs(str(tmp_path / "s.zarr"), "missing") is None


def test_file_sha256(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 10_000)
    assert file_sha256(str(path), block_size=999) == hashlib.sha256(b"x" * 10_000).hexdigest()


def test_location_helpers(tmp_path: Path) -> None:
    assert normalize("memory://a/b/") == "memory://a/b"
    assert normalize(f"file://{tmp_path}/x") == str(tmp_path / "x")
    assert is_local(tmp_path) and not is_local("memory://a")
    assert join("memory://a", "b", "c") == "memory://a/b/c" and join(tmp_path, "b") == str(tmp_path / "b")
    open_group("memory://loc-test/s", "w").create_group("g")
    assert exists("memory://loc-test/s") and size_on_disk("memory://loc-test/s") > 0
    remove("memory://loc-test/s")
    assert not exists("memory://loc-test/s") and size_on_disk("memory://loc-test/s") == 0


def test_events_summary_golden() -> None:
    ev = make_events([10, 20, 10_010, 30_000], [3, 1, 4, 1], [5, 9, 2, 6], [1, 1, 0, 1])
    s = events_summary(ev)
    assert s["events"] == 4 and s["duration_us"] == 29_990 and s["t_range_us"] == [10, 30_000]
    assert s["x_range"] == [1, 4] and s["y_range"] == [2, 9] and s["polarities"] == [0, 1]
    assert s["on_fraction"] == 0.75 and s["peak_rate_ev_per_s"] == 200.0  # 2 events in the first 10 ms
    assert events_summary(make_events([], [], [], []))["events"] == 0


def test_store_summary(tmp_path: Path) -> None:
    location = str(tmp_path / "events.zarr")
    rng = np.random.default_rng(0)
    build_store(location, {"train": [random_batch(rng, [4, 10, 6])], "test": [random_batch(rng, [])]})
    s = store_summary(location)
    train = s["splits"]["train"]
    assert train["samples"] == 3 and train["events"] == 20
    assert train["events_per_sample"] == {"min": 4, "median": 6.0, "max": 10}
    assert train["class_histogram"] == {"a": 1, "b": 1, "c": 1}
    assert s["splits"]["test"]["events_per_sample"]["min"] is None
    assert s["bytes_on_disk"] == size_on_disk(location) and s["bytes_per_event"] > 0


def test_remove_partial_writes_keeps_everything_else(tmp_path: Path) -> None:
    (tmp_path / "s.zarr" / "blocks" / "b1").mkdir(parents=True)
    kept = [tmp_path / "s.zarr" / "zarr.json", tmp_path / "s.zarr" / "blocks" / "b1" / "zarr.json"]
    for f in kept:
        f.write_text("{}")
    (tmp_path / "s.zarr" / "blocks" / "b1" / "zarr.0123abcd.partial").write_text("{")
    remove_partial_writes(str(tmp_path / "s.zarr"))
    assert sorted(p for p in (tmp_path / "s.zarr").rglob("*") if p.is_file()) == sorted(kept)
    remove_partial_writes("memory://nothing-to-do.zarr")
