"""``prepare``: events store -> frames store, equal to ``integrate`` sample by sample, resumable, refusing."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from eventpipe.errors import EventValidationError, StoreSchemaError
from eventpipe.events import SensorSize, make_events
from eventpipe.frames import IntegrationSpec, integrate
from eventpipe.pipeline.prepare import prepare
from eventpipe.store import check_integrity
from eventpipe.store.events.encoding import encode
from eventpipe.store.events.layout import StoreHeader
from eventpipe.store.events.reader import EventsStore
from eventpipe.store.events.writer import begin, finalize, write_part
from eventpipe.store.frames.reader import FramesStore
from eventpipe.store.samples import SampleBatch

SENSOR = SensorSize(16, 12, 2)
CLASSES = tuple(f"class{i}" for i in range(11))


def sample(rng: np.random.Generator, n: int, hot: bool = False) -> np.ndarray:
    """``n`` sorted events with bursts and gaps; ``hot`` adds 1,200 more on one pixel (counts past 255)."""
    t = np.cumsum(rng.choice([0, 1, 3, 40, 900], size=n)).astype(np.int64)
    ev = make_events(t, rng.integers(0, SENSOR.width, n), rng.integers(0, SENSOR.height, n), rng.integers(0, 2, n))
    if hot:
        extra = make_events(np.full(1200, t[-1] if n else 0), np.full(1200, 5), np.full(1200, 7), np.ones(1200))
        ev = np.concatenate([ev, extra])
    return ev


def write_events_store(location: Path, samples: dict[str, list[np.ndarray]], source: str = "test") -> None:
    """An events store for dataset ``demo`` holding ``samples`` (labels i % 11, metadata ``take``), two parts per split."""
    header = StoreHeader(dataset="demo", sensor=SENSOR, classes=CLASSES, splits=tuple(samples), options={"source": source},
                         plan=source)
    begin(str(location), header)
    keys: dict[str, list[str]] = {}
    for split, events in samples.items():
        half = len(events) // 2
        keys[split] = []
        for j, chunk in enumerate((events[:half], events[half:])):
            first = 0 if j == 0 else half
            batch = SampleBatch.concat([SampleBatch.single(ev, (first + i) % 11, {"take": first + i})
                                        for i, ev in enumerate(chunk)])
            key = f"p{j:05d}"
            write_part(str(location), split, key, encode(batch, SENSOR, key), sources=[])
            keys[split].append(key)
    finalize(str(location), header, keys)


def make_samples(seed: int = 0, n_train: int = 14, n_test: int = 5, size: int = 800) -> dict[str, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    train = [sample(rng, 100 if i == 9 else int(rng.integers(0, size)), hot=(i == 9)) for i in range(n_train)]
    train[2] = sample(rng, 0)  # no events at all
    return {"train": train, "test": [sample(rng, int(rng.integers(1, size))) for _ in range(n_test)]}


@pytest.fixture(scope="module")
def events_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("prepared")
    write_events_store(root / "demo" / "events.zarr", make_samples())
    return root


@pytest.fixture
def root(events_root: Path, tmp_path: Path) -> Path:
    """A fresh data root holding a copy of the shared events store (no raw files)."""
    shutil.copytree(events_root / "demo", tmp_path / "demo")
    return tmp_path


SPECS = [
    IntegrationSpec(frames=4),
    IntegrationSpec(frames=3, split_by="time"),
    IntegrationSpec(duration_us=2_000),
    IntegrationSpec(events_per_frame=150, drop_incomplete=True),
    IntegrationSpec(n_time_bins=3, overlap=0.5),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_store_equals_integrate(root: Path, spec: IntegrationSpec) -> None:
    result = prepare("demo", root, spec, workers=1, progress=False, block_events=1_500)
    assert result.status == "prepared" and result.store == str(root / "demo" / "frames" / f"{spec.name}.zarr")
    assert [s.step for s in result.steps] == ["download", "convert", "integrate"]
    assert result.steps[0].status == "skipped"  # events store complete, no raw files
    es, fs = EventsStore.open(root / "demo" / "events.zarr"), FramesStore.open(result.store)
    assert fs.spec == spec and fs.fixed_t == (spec.fixed_frames is not None)
    assert check_integrity(result.store) == []
    expected = {s: [spec(es.split(s).events(i), SENSOR) for i in range(len(es.split(s)))] for s in es.splits}
    assert fs.dtype == np.result_type(*(f.dtype for frames in expected.values() for f in frames))
    for split in es.splits:
        ev_split, fr_split = es.split(split), fs.split(split)
        assert len(fr_split) == len(ev_split) and fr_split.labels.tolist() == ev_split.labels.tolist()
        for i, frames in enumerate(expected[split]):
            got = fr_split.frames(i)
            assert got.dtype == fs.dtype
            np.testing.assert_array_equal(got, frames)
            assert fr_split.meta(i) == {"take": i}
    assert result.samples_written == 19 and result.num_samples == {"train": 14, "test": 5}
    assert result.events_integrated == sum(int(es.split(s).offsets[-1]) for s in es.splits)
    assert result.num_frames == {s: int(fs.split(s).offsets[-1]) for s in fs.splits}


def test_hot_pixel_widens_the_store(root: Path) -> None:
    result = prepare("demo", root, IntegrationSpec(frames=4), workers=1, progress=False, block_events=1_500)
    fs = FramesStore.open(result.store)
    assert fs.dtype == np.uint16 and result.dtype == "uint16"
    assert int(fs.split("train").frames(9).max()) >= 300
    assert fs.split("train").frames(0).dtype == np.uint16


def test_second_run_is_up_to_date(root: Path) -> None:
    spec = IntegrationSpec(frames=2)
    first = prepare("demo", root, spec, workers=1, progress=False)
    stamp = (Path(first.store) / "zarr.json").stat().st_mtime_ns
    again = prepare("demo", root, spec, workers=1, progress=False)
    assert again.status == "up-to-date" and again.samples_written == 0 and again.bytes == first.bytes
    assert (Path(first.store) / "zarr.json").stat().st_mtime_ns == stamp


def test_without_spec_stops_at_the_events_store(root: Path) -> None:
    result = prepare("demo", root, None)
    assert result.status == "up-to-date" and result.store is None and result.spec is None
    assert [(s.step, s.status) for s in result.steps] == [("download", "skipped"), ("convert", "up-to-date")]


def test_dry_run_changes_nothing(root: Path) -> None:
    spec = IntegrationSpec(duration_us=5_000)
    result = prepare("demo", root, spec, dry_run=True, block_events=1_500)
    assert result.status == "dry-run"
    assert [(s.step, s.status) for s in result.steps] == [("download", "skip"), ("convert", "check"),
                                                          ("integrate", "integrate")]
    assert not (root / "demo" / "frames").exists()
    prepare("demo", root, spec, workers=1, progress=False)
    assert prepare("demo", root, spec, dry_run=True).steps[-1].status == "up-to-date"


def test_changed_source_is_refused_then_overwritten(root: Path, tmp_path: Path) -> None:
    spec = IntegrationSpec(frames=2)
    prepare("demo", root, spec, workers=1, progress=False)
    shutil.rmtree(root / "demo" / "events.zarr")
    write_events_store(root / "demo" / "events.zarr", make_samples(seed=5), source="other")
    assert prepare("demo", root, spec, dry_run=True).steps[-1].status == "refuse"
    with pytest.raises(StoreSchemaError, match="events store was converted again.*--overwrite"):
        prepare("demo", root, spec, workers=1, progress=False)
    result = prepare("demo", root, spec, workers=1, progress=False, overwrite=True)
    assert result.status == "prepared"
    es = EventsStore.open(root / "demo" / "events.zarr")
    np.testing.assert_array_equal(FramesStore.open(result.store).split("test").frames(1),
                                  integrate(es.split("test").events(1), SENSOR, frames=2))


def test_out_of_sensor_sample_is_named(tmp_path: Path) -> None:
    from eventpipe.store.location import open_group

    bad = make_events([0, 1, 2], [1, 2, 3], [0, 0, 0], [1, 0, 1])
    write_events_store(tmp_path / "demo" / "events.zarr", {"train": [bad, bad], "test": [bad]})
    open_group(str(tmp_path / "demo" / "events.zarr"), "r+").attrs["sensor"] = [3, 12, 2]  # x = 3 no longer fits
    with pytest.raises(EventValidationError, match=r"sample train\[0\] \(take=0\): field x out of sensor bounds: x\[2\] = 3"):
        prepare("demo", tmp_path, IntegrationSpec(frames=1), workers=1, progress=False)
