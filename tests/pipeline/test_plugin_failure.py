"""A plugin that fails leaves no half frames store behind, while an interrupted store stays resumable and is
listed apart from finished ones."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from test_prepare import make_samples, write_events_store

from eventpipe.frames import IntegrationSpec, integrate
from eventpipe.pipeline.prepare import prepare
from eventpipe.sources import get_dataset
from eventpipe.sources.catalogue import catalogue
from eventpipe.store.frames.reader import FramesStore

BEHAVIOUR = {"at_event_count": -1, "raise": ValueError}


def two_frames(events: np.ndarray, H: int, W: int) -> np.ndarray:
    """Two frames per sample; raises ``BEHAVIOUR['raise']`` on the sample of that many events."""
    if len(events) == BEHAVIOUR["at_event_count"]:
        raise BEHAVIOUR["raise"]("the plugin failed")
    return integrate(events, (W, H, 2), frames=2)


def broken(events: np.ndarray, H: int, W: int) -> np.ndarray:
    """Fails on the fourth sample it sees in a process."""
    BEHAVIOUR["calls"] = BEHAVIOUR.get("calls", 0) + 1
    if BEHAVIOUR["calls"] == 4:
        raise ValueError("the plugin failed")
    return integrate(events, (W, H, 2), frames=2)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_events_store(tmp_path / "demo" / "events.zarr", make_samples())
    return tmp_path


def _row(root: Path) -> dict:
    return next(r for r in catalogue(root) if r["name"] == "demo")


def test_failed_run_removes_its_new_store(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(BEHAVIOUR, "calls", 0)
    spec = IntegrationSpec(fn=broken)
    with pytest.raises(ValueError, match="the plugin failed"):
        prepare("demo", root, spec, workers=1, progress=False, block_events=1_000)
    assert not (get_dataset("demo").frames_root(root) / f"{spec.name}.zarr").exists()
    assert _row(root)["frames"] == [] and _row(root)["frames_interrupted"] == []


def test_interrupted_store_is_kept_listed_and_resumed(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = IntegrationSpec(fn=two_frames)
    store = get_dataset("demo").frames_root(root) / f"{spec.name}.zarr"
    late = len(make_samples()["test"][3])  # a sample of the last blocks
    monkeypatch.setitem(BEHAVIOUR, "at_event_count", late)
    monkeypatch.setitem(BEHAVIOUR, "raise", KeyboardInterrupt)  # Ctrl-C: as good as a kill
    with pytest.raises(KeyboardInterrupt):
        prepare("demo", root, spec, workers=1, progress=False, block_events=1_000)
    assert store.is_dir() and _row(root)["frames"] == [] and _row(root)["frames_interrupted"] == [store.name]
    monkeypatch.setitem(BEHAVIOUR, "raise", ValueError)  # a failure while resuming keeps what is done
    with pytest.raises(ValueError, match="the plugin failed"):
        prepare("demo", root, spec, workers=1, progress=False, block_events=1_000)
    assert _row(root)["frames_interrupted"] == [store.name]
    monkeypatch.setitem(BEHAVIOUR, "at_event_count", -1)
    result = prepare("demo", root, spec, workers=1, progress=False, block_events=1_000)
    assert result.status == "resumed" and 0 < result.samples_written < sum(map(len, make_samples().values()))
    assert _row(root)["frames"] == [store.name] and _row(root)["frames_interrupted"] == []
    fresh = root / "again"
    shutil.copytree(root / "demo" / "events.zarr", fresh / "demo" / "events.zarr")
    prepare("demo", fresh, spec, workers=1, progress=False, block_events=1_000)
    again = FramesStore.open(str(get_dataset("demo").frames_root(fresh) / f"{spec.name}.zarr"))
    mine = FramesStore.open(str(store))
    for split in ("train", "test"):
        a, b = mine.split(split), again.split(split)
        assert all(np.array_equal(a.frames(i), b.frames(i)) for i in range(len(a)))


FAILING_PLUGIN = '''
from eventpipe.frames import integrate


def fn(events, H, W):
    if len(events) == {count}:
        raise ValueError("my plugin failed")
    return integrate(events, (W, H, 2), frames=2)
'''


@pytest.mark.parametrize("workers", ["1", "2"])
def test_cli_plugin_failure_is_one_line_naming_plugin_and_sample(root: Path, workers: str) -> None:
    """The user's exception in one line (type, message, sample), on a worker or not, and nothing else on stderr
    (not Dask's own log of the failed task); no store left behind."""
    import subprocess
    import sys

    bad = len(make_samples()["test"][1])
    (root / "badplug.py").write_text(FAILING_PLUGIN.format(count=bad))
    run = subprocess.run([sys.executable, "-m", "eventpipe", "prepare", "demo", "--root", str(root), "--workers",
                          workers, "--integrate", "badplug:fn"], cwd=root, capture_output=True, text=True, timeout=300)
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert run.returncode == 2 and len(errors) == 1, run.stderr
    assert run.stderr.splitlines() == errors, run.stderr  # nothing else: no "distributed.worker - ERROR" lines
    assert "distributed." not in run.stderr and "Compute Failed" not in run.stderr, run.stderr
    assert "Traceback (most recent call last)" not in run.stderr, run.stderr
    assert "plugin badplug:fn raised ValueError: my plugin failed on sample test[1]" in errors[0], errors
    assert not any(get_dataset("demo").frames_root(root).glob("*.zarr"))
    assert _row(root)["frames"] == [] and _row(root)["frames_interrupted"] == []
