"""Fixtures for the synthetic generator: the demo dataset and a small custom dataset, written once."""

from __future__ import annotations

from pathlib import Path

import pytest
from synth_helpers import SMALL, Recording, read_back

from eventpipe.synth import write_demo_raw, write_gesture_raw


@pytest.fixture(scope="session")
def demo_raw(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    raw = tmp_path_factory.mktemp("demo") / "raw"
    return raw, write_demo_raw(raw)


@pytest.fixture(scope="session")
def demo_recordings(demo_raw: tuple[Path, list[Path]]) -> list[Recording]:
    return read_back(demo_raw[0])


@pytest.fixture(scope="session")
def small_raw(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    raw = tmp_path_factory.mktemp("small") / "raw"
    return raw, write_gesture_raw(raw, **SMALL)  # type: ignore[arg-type]
