"""The events store checker: a sound store passes, each kind of tampering is named."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from store_helpers import build_store, random_batch

from eventpipe.store import check_integrity
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
