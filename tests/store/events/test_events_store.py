from __future__ import annotations

import pickle
import shutil
import uuid
from pathlib import Path

import numpy as np
import pytest
from store_helpers import CLASSES, SENSOR, build_store, random_batch

from eventpipe.errors import DataNotFoundError, StoreSchemaError, UnknownNameError
from eventpipe.store import EventsStore
from eventpipe.store.events import writer as events_writer
from eventpipe.store.events.encoding import encode
from eventpipe.store.events.layout import StoreHeader, store_fingerprint
from eventpipe.store.events.reader import read_sources
from eventpipe.store.location import open_group, remove


@pytest.fixture(params=["local", "memory"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "local":
        return str(tmp_path / "events.zarr")
    return f"memory://{uuid.uuid4().hex}/events.zarr"


def _expected(batches: list) -> list[tuple[np.ndarray, int]]:
    return [(b.events[b.offsets[i]:b.offsets[i + 1]], int(b.labels[i])) for b in batches for i in range(len(b))]


def test_roundtrip_every_sample(location: str) -> None:
    rng = np.random.default_rng(0)
    train = [random_batch(rng, [5, 0, 17]), random_batch(rng, [3], first_label=2), random_batch(rng, [])]
    test = [random_batch(rng, [9, 1])]
    build_store(location, {"train": train, "test": test})
    store = EventsStore.open(location)
    assert store.dataset == "toy" and store.sensor == SENSOR and store.classes == CLASSES
    assert store.splits == ("train", "test") and len(store.fingerprint) == 64
    for name, batches in (("train", train), ("test", test)):
        split = store.split(name)
        expected = _expected(batches)
        assert len(split) == len(expected)
        assert split.offsets.tolist() == np.cumsum([0] + [len(e) for e, _ in expected]).tolist()
        for i, (events, label) in enumerate(expected):
            got, got_label = split[i]
            np.testing.assert_array_equal(got, events)
            assert got_label == label and split.num_events(i) == len(events)
            if len(events):
                assert split.durations_us[i] == events["t"][-1] - events["t"][0]
    train_split = store.split("train")
    assert train_split.meta(1) == {"seg": 1, "user": "u1"}
    assert train_split.meta_columns["user"].tolist() == ["u0", "u1", "u0", "u0"]
    assert train_split.events(-1).shape == (3,)


def test_reading_a_sample_touches_only_its_part(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    parts = [random_batch(rng, [40, 60]), random_batch(rng, [30])]
    location = str(tmp_path / "events.zarr")
    build_store(location, {"train": parts})
    for column in ("dt", "x", "y", "p"):  # drop the other part's event data entirely
        shutil.rmtree(Path(location, "parts", "train", "p00000", column, "c"))
    np.testing.assert_array_equal(EventsStore.open(location).split("train").events(2), parts[1].events)


def test_pickles_cheaply_and_reopens(location: str) -> None:
    build_store(location, {"train": [random_batch(np.random.default_rng(2), [4, 5])]})
    split = EventsStore.open(location).split("train")
    split.events(0)  # fill the caches
    clone = pickle.loads(pickle.dumps(split))
    assert len(pickle.dumps(split)) < 500
    np.testing.assert_array_equal(clone.events(1), split.events(1))
    store = pickle.loads(pickle.dumps(EventsStore.open(location)))
    assert len(store.split("train")) == 2


def test_open_errors(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="run `eventpipe convert` first"):
        EventsStore.open(tmp_path / "missing.zarr")
    location = str(tmp_path / "events.zarr")
    header = StoreHeader("toy", SENSOR, CLASSES, ("train",), {}, "p")
    events_writer.begin(location, header)
    with pytest.raises(StoreSchemaError, match="did not finish"):
        EventsStore.open(location)
    open_group(location, "r+").attrs["schema_version"] = 99
    with pytest.raises(StoreSchemaError, match="schema version 99"):
        EventsStore.open(location)
    open_group(location, "r+").attrs["eventpipe_store"] = "frames"
    with pytest.raises(StoreSchemaError, match="not an events store"):
        EventsStore.open(location)
    remove(location)
    build_store(location, {"train": [random_batch(np.random.default_rng(0), [2])]})
    store = EventsStore.open(location)
    with pytest.raises(UnknownNameError, match=r"Unknown value 'val' for argument split. Valid values are \{'train'\}"):
        store.split("val")
    with pytest.raises(IndexError, match="out of range"):
        store.split("train").events(5)


def test_begin_resumes_same_identity_and_erases_other(tmp_path: Path) -> None:
    location = str(tmp_path / "events.zarr")
    header = StoreHeader("toy", SENSOR, CLASSES, ("train",), {"a": 1}, "plan-1")
    assert events_writer.begin(location, header) == "new"
    batch = random_batch(np.random.default_rng(3), [4])
    events_writer.write_part(location, "train", "p00000", encode(batch, SENSOR, "x"), sources=[])
    assert events_writer.begin(location, header) == "resume"
    assert events_writer.completed_parts(location, "train", ["p00000", "p00001"]) == {"p00000"}
    events_writer.finalize(location, header, {"train": ["p00000"]})
    assert events_writer.begin(location, header) == "complete"
    other = StoreHeader("toy", SENSOR, CLASSES, ("train",), {"a": 2}, "plan-1")
    assert events_writer.begin(location, other) == "new"
    assert events_writer.completed_parts(location, "train", ["p00000"]) == set()


def test_finalize_refuses_incomplete_parts(tmp_path: Path) -> None:
    location = str(tmp_path / "events.zarr")
    header = StoreHeader("toy", SENSOR, CLASSES, ("train",), {}, "p")
    events_writer.begin(location, header)
    with pytest.raises(StoreSchemaError, match="part train/p00000 is not complete"):
        events_writer.finalize(location, header, {"train": ["p00000"]})


def test_finalize_refuses_a_store_without_root_metadata(tmp_path: Path) -> None:
    location = str(tmp_path / "events.zarr")
    header = StoreHeader("toy", SENSOR, CLASSES, ("train",), {}, "p")
    events_writer.begin(location, header)
    (tmp_path / "events.zarr" / "zarr.json").unlink()
    with pytest.raises(StoreSchemaError, match="root metadata is missing or unreadable"):
        events_writer.finalize(location, header, {"train": []})


def test_resume_clears_leftover_partial_files(tmp_path: Path) -> None:
    location = str(tmp_path / "events.zarr")
    header = StoreHeader("toy", SENSOR, CLASSES, ("train",), {}, "p")
    events_writer.begin(location, header)
    leftover = tmp_path / "events.zarr" / "parts" / "train" / "zarr.json.123.partial"
    leftover.write_text("{")  # a killed writer's temporary file
    assert events_writer.begin(location, header) == "resume" and not leftover.exists()


def test_split_without_its_index_is_refused(tmp_path: Path) -> None:
    location = str(tmp_path / "events.zarr")
    build_store(location, {"train": [random_batch(np.random.default_rng(0), [2])]})
    (tmp_path / "events.zarr" / "train" / "zarr.json").write_text('{"zarr_format": 3, "node_ty')  # cut short
    with pytest.raises(StoreSchemaError, match="split 'train' has no readable index"):
        EventsStore.open(location).split("train").events(0)


def test_sources_are_listed_and_fingerprinted(tmp_path: Path) -> None:
    location = str(tmp_path / "events.zarr")
    build_store(location, {"train": [random_batch(np.random.default_rng(4), [2]), random_batch(np.random.default_rng(5), [1])]})
    sources = read_sources(location)
    assert [s["path"] for s in sources] == ["train/p00000.bin", "train/p00001.bin"]
    store = EventsStore.open(location)
    assert store.attrs["sources"]["count"] == 2
    assert store_fingerprint(store.attrs) == store.fingerprint


def test_begin_never_erases_foreign_data(tmp_path: Path) -> None:
    header = StoreHeader("toy", SENSOR, CLASSES, ("train",), {}, "p")
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "keep.jpg").write_bytes(b"x")
    with pytest.raises(StoreSchemaError, match="not a Zarr store; refusing"):
        events_writer.begin(str(folder), header)
    assert (folder / "keep.jpg").exists()
    frames = open_group(str(tmp_path / "frames.zarr"), "w")
    frames.attrs["eventpipe_store"] = "frames"
    with pytest.raises(StoreSchemaError, match="is a 'frames' store"):
        events_writer.begin(str(tmp_path / "frames.zarr"), header)
    (tmp_path / "empty").mkdir()
    assert events_writer.begin(str(tmp_path / "empty"), header) == "new"
