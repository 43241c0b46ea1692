"""Shared fixtures: the real sample recordings folder (tests using it skip when it is absent), and
the hypothesis profile."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests check results, not speed: no per-example deadline on a busy 2-core machine
# (Numba compiles inside the first examples).
settings.register_profile("eventpipe", deadline=None)
settings.load_profile("eventpipe")

REALDATA = Path(os.environ.get("EVENTPIPE_REALDATA", Path(__file__).resolve().parents[2] / "shared" / "realdata"))


@pytest.fixture(scope="session")
def realdata() -> Path:
    """Folder of small real recordings in their original formats; skip the test when it is absent."""
    if not REALDATA.is_dir():
        pytest.skip(f"real sample recordings not found at {REALDATA} (set EVENTPIPE_REALDATA)")
    return REALDATA


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the user's ~/.cache/eventpipe from a test."""
    monkeypatch.setenv("EVENTPIPE_HOME", str(tmp_path_factory.mktemp("eventpipe_home")))
