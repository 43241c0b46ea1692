"""The frames store: block planning, begin/resume/refuse, round trips, integrity checks."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from store_helpers import FRAMES_SENSOR as SENSOR
from store_helpers import build_frames_store, frames_header, random_frames

from eventpipe.errors import DataNotFoundError, StoreSchemaError, UnknownNameError
from eventpipe.frames import IntegrationSpec
from eventpipe.store import check_integrity
from eventpipe.store.frames import layout, writer
from eventpipe.store.frames.reader import FramesStore
from eventpipe.store.location import open_group
from eventpipe.store.markers import read_attrs


@pytest.mark.parametrize(
    ("offsets", "target", "expected"),
    [
        ([0, 5, 10, 30, 31, 32], 10, [0, 2, 3, 5]),
        ([0], 10, [0]),
        ([0, 0, 0, 0], 10, [0, 3]),
        ([0, 100, 200], 10, [0, 1, 2]),
    ],
)
def test_plan_blocks(offsets: list[int], target: int, expected: list[int]) -> None:
    assert layout.plan_blocks(np.array(offsets), target_events=target) == expected


def test_plan_blocks_caps_samples() -> None:
    assert layout.plan_blocks(np.arange(11), target_events=100, max_samples=4) == [0, 4, 8, 10]


def test_fixed_t_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    spec = IntegrationSpec(frames=3)
    train = [random_frames(rng, 3) for _ in range(5)]
    train[3] = random_frames(rng, 3, high=1000, dtype=np.uint16)  # one wide block
    train[1] = np.zeros((3, 2, 3, 4), np.uint8)  # an empty sample: its chunk is not even stored
    test = [random_frames(rng, 3) for _ in range(2)]
    loc = str(tmp_path / "f.zarr")
    build_frames_store(loc, spec, {"train": train, "test": test}, {"train": [0, 2, 4, 5], "test": [0, 2]})

    fs = FramesStore.open(loc)
    assert fs.fixed_t and fs.frames_per_sample == 3 and fs.spec == spec
    assert fs.dtype == np.uint16 and fs.classes == ("a", "b", "c") and fs.sensor == SENSOR
    sp = fs.split("train")
    assert len(sp) == 5 and sp.labels.tolist() == [0, 1, 2, 0, 1]
    for i, expected in enumerate(train):
        got = sp.frames(i)
        assert got.dtype == np.uint16 and sp.num_frames(i) == 3
        np.testing.assert_array_equal(got, expected)
    assert sp.meta(4) == {"take": 4, "user": "u4"}
    frames, label = fs.split("test")[-1]
    np.testing.assert_array_equal(frames, test[1])
    assert label == 1
    clone = pickle.loads(pickle.dumps(sp))
    np.testing.assert_array_equal(clone.frames(2), train[2])
    assert check_integrity(loc) == []
    with pytest.raises(UnknownNameError, match="Valid values are {'train', 'test'}"):
        fs.split("val")
    with pytest.raises(IndexError, match="out of range"):
        sp.frames(5)
    out = np.full((3, 2, 3, 4), -1, np.float32)  # decoded straight into a float array, widened on the way
    assert sp.frames(3, out=out) is out
    np.testing.assert_array_equal(out, train[3])
    with pytest.raises(ValueError, match="too narrow"):
        sp.frames(3, out=np.empty((3, 2, 3, 4), np.uint8))
    with pytest.raises(ValueError, match="shape"):
        sp.frames(3, out=np.empty((2, 2, 3, 4), np.float32))


def test_variable_t_round_trip_with_empty_samples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layout, "CHUNK_BYTES", 8 * 2 * 3 * 4)  # 8 frames per chunk
    rng = np.random.default_rng(1)
    spec = IntegrationSpec(events_per_frame=100, drop_incomplete=True)
    train = [random_frames(rng, t) for t in (4, 0, 1, 70, 0, 2)]  # 70 frames spans several chunks
    loc = str(tmp_path / "v.zarr")
    build_frames_store(loc, spec, {"train": train}, {"train": [0, 3, 4, 6]})
    fs = FramesStore.open(loc)
    assert not fs.fixed_t and fs.frames_per_sample is None and fs.dtype == np.uint8
    sp = fs.split("train")
    assert sp.offsets.tolist() == [0, 4, 4, 5, 75, 75, 77]
    for i, expected in enumerate(train):
        np.testing.assert_array_equal(sp.frames(i), expected)
        assert sp.frames(i).shape == (len(expected), 2, 3, 4)
        out = np.full(expected.shape, 9.5, np.float64)  # partial chunks at both ends of sample 3
        np.testing.assert_array_equal(sp.frames(i, out=out), expected)
    assert check_integrity(loc) == []


class TestBegin:
    spec = IntegrationSpec(frames=2)
    blocks = {"train": [0, 1]}

    def test_resume_then_complete(self, tmp_path: Path) -> None:
        loc = str(tmp_path / "s.zarr")
        h = frames_header(self.spec, self.blocks)
        assert writer.begin(loc, h) == "new"
        assert writer.begin(loc, h) == "resume"
        writer.write_block(loc, "train", 0, [np.zeros((2, 2, 3, 4), np.uint8)], SENSOR, 2)
        assert writer.completed_blocks(loc, "train", 1) == {0}
        writer.finalize(loc, h, {"train": np.zeros(1)}, {})
        assert writer.begin(loc, h) == "complete"

    def test_finalize_refuses_a_store_without_root_metadata(self, tmp_path: Path) -> None:
        loc = str(tmp_path / "s.zarr")
        h = frames_header(self.spec, self.blocks)
        writer.begin(loc, h)
        writer.write_block(loc, "train", 0, [np.zeros((2, 2, 3, 4), np.uint8)], SENSOR, 2)
        (tmp_path / "s.zarr" / "zarr.json").unlink()
        with pytest.raises(StoreSchemaError, match="root metadata is missing or unreadable"):
            writer.finalize(loc, h, {"train": np.zeros(1)}, {})

    def test_other_fingerprint_is_refused_with_advice(self, tmp_path: Path) -> None:
        loc = str(tmp_path / "s.zarr")
        writer.begin(loc, frames_header(self.spec, self.blocks))
        with pytest.raises(StoreSchemaError, match=r"events store was converted again.*rm -r .*--overwrite"):
            writer.begin(loc, frames_header(self.spec, self.blocks, source="other"))
        assert writer.begin(loc, frames_header(self.spec, self.blocks, source="other"), overwrite=True) == "new"
        assert read_attrs(loc)["source_fingerprint"] == "other"

    def test_interrupted_creation_is_recreated(self, tmp_path: Path) -> None:
        loc = str(tmp_path / "s.zarr")
        open_group(loc, "w")  # killed before the attributes were written
        assert writer.begin(loc, frames_header(self.spec, self.blocks)) == "new"

    def test_foreign_folder_is_refused(self, tmp_path: Path) -> None:
        loc = tmp_path / "s.zarr"
        loc.mkdir()
        (loc / "notes.txt").write_text("mine")
        with pytest.raises(StoreSchemaError, match="not a Zarr store"):
            writer.begin(str(loc), frames_header(self.spec, self.blocks))
        assert (loc / "notes.txt").exists()

    def test_open_refuses_unfinished(self, tmp_path: Path) -> None:
        loc = str(tmp_path / "s.zarr")
        with pytest.raises(DataNotFoundError, match="run `eventpipe prepare`"):
            FramesStore.open(loc)
        writer.begin(loc, frames_header(self.spec, self.blocks))
        with pytest.raises(StoreSchemaError, match="did not finish"):
            FramesStore.open(loc)
        assert "not complete" in check_integrity(loc)[0]


def test_integrity_finds_tampering(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    spec = IntegrationSpec(duration_us=10)
    loc = str(tmp_path / "t.zarr")
    build_frames_store(loc, spec, {"train": [random_frames(rng, t) for t in (2, 3, 1)]}, {"train": [0, 2, 3]})
    assert check_integrity(loc) == []
    root = open_group(loc, "r+")
    root.attrs["spec"] = {"mode": "duration", "duration_us": 20}
    assert any("fingerprint" in p for p in check_integrity(loc))
    root.attrs["spec"] = spec.to_dict()
    block = open_group(loc, "r+", path=layout.block_path("train", 1))
    block.attrs["n_frames"] = [4]
    problems = check_integrity(loc)
    assert any("frame counts disagree" in p for p in problems)
    block.attrs["complete"] = False
    assert any("block train/1: missing or not complete" in p for p in check_integrity(loc))
