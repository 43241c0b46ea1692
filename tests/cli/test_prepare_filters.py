"""``eventpipe prepare demo --filter ...``: denoised frames in a store of their own name and fingerprint."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from eventpipe.cli.main import main
from eventpipe.events import SensorSize, make_events
from eventpipe.frames import filters, integrate
from eventpipe.store.events.encoding import encode
from eventpipe.store.events.layout import StoreHeader
from eventpipe.store.events.reader import EventsStore
from eventpipe.store.events.writer import begin, finalize, write_part
from eventpipe.store.frames.reader import FramesStore
from eventpipe.store.samples import SampleBatch

SENSOR = SensorSize(16, 12, 2)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A ``demo`` events store of 6 samples with isolated noise events that denoise removes."""
    rng = np.random.default_rng(3)
    samples = []
    for _ in range(6):
        n = int(rng.integers(200, 600))
        t = np.cumsum(rng.choice([0, 5, 200, 30_000], size=n, p=[0.3, 0.4, 0.25, 0.05])).astype(np.int64)
        samples.append(make_events(t, rng.integers(0, SENSOR.width, n), rng.integers(0, SENSOR.height, n),
                                   rng.integers(0, 2, n)))
    location = str(tmp_path / "demo" / "events.zarr")
    header = StoreHeader(dataset="demo", sensor=SENSOR, classes=("a", "b"), splits=("train",),
                         options={"source": "test"}, plan="test")
    begin(location, header)
    batch = SampleBatch.concat([SampleBatch.single(ev, i % 2, {}) for i, ev in enumerate(samples)])
    write_part(location, "train", "p00000", encode(batch, SENSOR, "p00000"), sources=[])
    finalize(location, header, {"train": ["p00000"]})
    return tmp_path


def prepare(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> dict:
    monkeypatch.setattr(sys, "argv", ["eventpipe", "--quiet", "prepare", "demo", "--frames", "8", *args,
                                      "--root", str(root), "--scheduler", "synchronous", "--json"])
    try:
        main()
    except SystemExit as exc:
        assert not exc.code, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_prepare_with_a_filter_writes_denoised_frames_in_their_own_store(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    plain = prepare(monkeypatch, capsys, root)
    denoised = prepare(monkeypatch, capsys, root, "--filter", "denoise:filter_time=10000")
    again = prepare(monkeypatch, capsys, root, "--filter", "denoise:filter_time=10ms")

    assert plain["store"].endswith("frames_number_8_split_by_number.zarr")
    assert Path(denoised["store"]).name.startswith("frames_number_8_split_by_number_filters_")
    assert again["status"] == "up-to-date" and again["store"] == denoised["store"]  # same chain, same store
    plain_store, store = FramesStore.open(plain["store"]), FramesStore.open(denoised["store"])
    assert store.fingerprint != plain_store.fingerprint
    assert store.spec.to_dict()["filters"] == [{"name": "denoise", "filter_time": 10_000}]

    events = EventsStore.open(root / "demo" / "events.zarr").split("train")
    fewer = 0
    for i in range(6):
        ev = events[i][0]
        kept = filters.denoise(ev, 10_000)
        fewer += len(kept) < len(ev)
        assert (store.split("train").frames(i) == integrate(kept, SENSOR, frames=8)).all()
        assert (plain_store.split("train").frames(i) == integrate(ev, SENSOR, frames=8)).all()
    assert fewer == 6
