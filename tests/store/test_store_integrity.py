from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from store_helpers import build_store, random_batch

from eventpipe.store import check_integrity
from eventpipe.store.integrity import check_offsets, register_integrity_check
from eventpipe.store.location import open_group


@pytest.fixture
def store(tmp_path: Path) -> str:
    location = str(tmp_path / "events.zarr")
    rng = np.random.default_rng(0)
    build_store(location, {"train": [random_batch(rng, [3, 4]), random_batch(rng, [5])],
                           "test": [random_batch(rng, [2])]})
    return location


def test_sound_store_has_no_problems(store: str) -> None:
    assert check_integrity(store) == []


def test_missing_store_and_unknown_kind(tmp_path: Path) -> None:
    assert check_integrity(tmp_path / "nope.zarr") == [f"{tmp_path / 'nope.zarr'}: no store found."]
    group = open_group(str(tmp_path / "odd.zarr"), "w")
    group.attrs["eventpipe_store"] = "mystery"
    assert "unknown store kind 'mystery'" in check_integrity(tmp_path / "odd.zarr")[0]


def test_tampered_offsets_are_found(store: str) -> None:
    group = open_group(store, "r+", path="train")
    offsets = group["offsets"][:]
    offsets[2] = 1  # decreasing
    group["offsets"][:] = offsets
    problems = check_integrity(store)
    assert any("offsets decrease at 2" in p for p in problems)
    assert any("disagree with the split index" in p for p in problems)


def test_incomplete_part_and_wrong_fingerprint_are_found(store: str) -> None:
    part = Path(store, "parts", "train", "p00001", "zarr.json")
    meta = json.loads(part.read_text())
    meta["attributes"]["complete"] = False
    part.write_text(json.dumps(meta))
    open_group(store, "r+").attrs["options"] = {"changed": True}
    sums = open_group(store, "r+", path="sources")["checksum"]
    sums[0] = "sha256:tampered"
    open_group(store, "r+").attrs["num_events"] = {"train": 0, "test": 2}
    problems = check_integrity(store)
    assert any("part train/p00001: missing or not complete" in p for p in problems)
    assert any("fingerprint" in p and "does not match" in p for p in problems)
    assert any("source list does not match" in p for p in problems)
    assert any("num_events says 0, the index holds 12" in p for p in problems)


def test_short_column_and_interrupted_store(store: str) -> None:
    column = Path(store, "parts", "test", "p00000", "x", "zarr.json")
    meta = json.loads(column.read_text())
    meta["shape"] = [1]
    column.write_text(json.dumps(meta))
    assert any("column 'x' has 1 events, expected 2" in p for p in check_integrity(store))
    open_group(store, "r+").attrs["complete"] = False
    assert "not complete" in check_integrity(store)[0]


def test_hook_for_another_kind_of_store(tmp_path: Path) -> None:
    seen = []

    def checker(location: str, attrs: dict) -> list[str]:
        seen.append(attrs["eventpipe_store"])
        return [f"{location}: checked"]

    register_integrity_check("test-kind", checker)
    group = open_group(str(tmp_path / "other.zarr"), "w")
    group.attrs["eventpipe_store"] = "test-kind"
    assert check_integrity(tmp_path / "other.zarr") == [f"{tmp_path / 'other.zarr'}: checked"]
    assert seen == ["test-kind"]


def test_check_offsets_golden() -> None:
    assert check_offsets(np.array([0, 2, 2, 5]), 5, "s") == []
    assert check_offsets(np.array([1, 2]), 3, "s") == ["s: offsets[0] = 1, expected 0.",
                                                       "s: offsets[-1] = 2, but 3 items are stored."]
    assert check_offsets(np.array([], dtype=np.int64), 0, "s") == ["s: offsets is empty (needs n + 1 entries)."]
