"""Integrity checks of any store: dispatch by the store's kind, and the checks both kinds share."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eventpipe.store import check_integrity, integrity
from eventpipe.store.checks import check_offsets
from eventpipe.store.location import open_group


def test_missing_store_and_unknown_kind(tmp_path: Path) -> None:
    assert check_integrity(tmp_path / "nope.zarr") == [f"{tmp_path / 'nope.zarr'}: no store found."]
    group = open_group(str(tmp_path / "odd.zarr"), "w")
    group.attrs["eventpipe_store"] = "mystery"
    assert "unknown store kind 'mystery'" in check_integrity(tmp_path / "odd.zarr")[0]


def test_each_kind_goes_to_its_checker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []

    def checker(location: str, attrs: dict) -> list[str]:
        seen.append(attrs["eventpipe_store"])
        return [f"{location}: checked"]

    monkeypatch.setitem(integrity._CHECKERS, "test-kind", (checker, 1))
    group = open_group(str(tmp_path / "other.zarr"), "w")
    group.attrs["eventpipe_store"] = "test-kind"
    assert check_integrity(tmp_path / "other.zarr") == [f"{tmp_path / 'other.zarr'}: checked"]
    assert seen == ["test-kind"]


def test_check_offsets_golden() -> None:
    assert check_offsets(np.array([0, 2, 2, 5]), 5, "s") == []
    assert check_offsets(np.array([1, 2]), 3, "s") == ["s: offsets[0] = 1, expected 0.",
                                                       "s: offsets[-1] = 2, but 3 items are stored."]
    assert check_offsets(np.array([], dtype=np.int64), 0, "s") == ["s: offsets is empty (needs n + 1 entries)."]
