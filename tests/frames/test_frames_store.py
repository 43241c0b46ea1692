"""The frames store: block planning, begin/resume/refuse, round trips, integrity checks."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from eventpipe.errors import DataNotFoundError, StoreSchemaError, UnknownNameError
from eventpipe.events import SensorSize
from eventpipe.frames import IntegrationSpec
from eventpipe.store import check_integrity
from eventpipe.store import frames_store as fst
from eventpipe.store.location import open_group
from eventpipe.store.markers import read_attrs
from eventpipe.store.nodes import array_metadata, write_nodes

SENSOR = SensorSize(4, 3, 2)


def header(spec: IntegrationSpec, blocks: dict[str, list[int]], source: str = "src-fp") -> fst.FramesHeader:
    return fst.FramesHeader(
        dataset="demo", sensor=SENSOR, classes=("a", "b", "c"), splits=tuple(blocks), spec=spec,
        source_fingerprint=source, source_location="/nowhere/events.zarr", blocks=blocks,
    )


def random_frames(rng: np.random.Generator, t: int, high: int = 5, dtype: type = np.uint8) -> np.ndarray:
    return rng.integers(0, high, size=SENSOR.frame_shape(t)).astype(dtype)


def build(location: str, spec: IntegrationSpec, samples: dict[str, list[np.ndarray]], bounds: dict[str, list[int]]) -> None:
    h = header(spec, bounds)
    assert fst.begin(location, h) == "new"
    for split, frames in samples.items():
        b = bounds[split]
        for j in range(len(b) - 1):
            fst.write_block(location, split, j, frames[b[j]:b[j + 1]], SENSOR, spec.fixed_frames)
    labels = {s: np.arange(len(f)) % 3 for s, f in samples.items()}
    meta = {s: {"user": np.array([f"u{i}" for i in range(len(f))]), "take": np.arange(len(f))} for s, f in samples.items()}
    fst.finalize(location, h, labels, meta)


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
    assert fst.plan_blocks(np.array(offsets), target_events=target) == expected


def test_plan_blocks_caps_samples() -> None:
    assert fst.plan_blocks(np.arange(11), target_events=100, max_samples=4) == [0, 4, 8, 10]


def test_fixed_t_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    spec = IntegrationSpec(frames=3)
    train = [random_frames(rng, 3) for _ in range(5)]
    train[3] = random_frames(rng, 3, high=1000, dtype=np.uint16)  # one wide block
    train[1] = np.zeros((3, 2, 3, 4), np.uint8)  # an empty sample: its chunk is not even stored
    test = [random_frames(rng, 3) for _ in range(2)]
    loc = str(tmp_path / "f.zarr")
    build(loc, spec, {"train": train, "test": test}, {"train": [0, 2, 4, 5], "test": [0, 2]})

    fs = fst.FramesStore.open(loc)
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
    monkeypatch.setattr(fst, "CHUNK_BYTES", 8 * 2 * 3 * 4)  # 8 frames per chunk
    rng = np.random.default_rng(1)
    spec = IntegrationSpec(events_per_frame=100, drop_incomplete=True)
    train = [random_frames(rng, t) for t in (4, 0, 1, 70, 0, 2)]  # 70 frames spans several chunks
    loc = str(tmp_path / "v.zarr")
    build(loc, spec, {"train": train}, {"train": [0, 3, 4, 6]})
    fs = fst.FramesStore.open(loc)
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
        h = header(self.spec, self.blocks)
        assert fst.begin(loc, h) == "new"
        assert fst.begin(loc, h) == "resume"
        fst.write_block(loc, "train", 0, [np.zeros((2, 2, 3, 4), np.uint8)], SENSOR, 2)
        assert fst.completed_blocks(loc, "train", 1) == {0}
        fst.finalize(loc, h, {"train": np.zeros(1)}, {})
        assert fst.begin(loc, h) == "complete"

    def test_finalize_refuses_a_store_without_root_metadata(self, tmp_path: Path) -> None:
        loc = str(tmp_path / "s.zarr")
        h = header(self.spec, self.blocks)
        fst.begin(loc, h)
        fst.write_block(loc, "train", 0, [np.zeros((2, 2, 3, 4), np.uint8)], SENSOR, 2)
        (tmp_path / "s.zarr" / "zarr.json").unlink()
        with pytest.raises(StoreSchemaError, match="root metadata is missing or unreadable"):
            fst.finalize(loc, h, {"train": np.zeros(1)}, {})

    def test_other_fingerprint_is_refused_with_advice(self, tmp_path: Path) -> None:
        loc = str(tmp_path / "s.zarr")
        fst.begin(loc, header(self.spec, self.blocks))
        with pytest.raises(StoreSchemaError, match=r"events store was converted again.*rm -r .*--overwrite"):
            fst.begin(loc, header(self.spec, self.blocks, source="other"))
        assert fst.begin(loc, header(self.spec, self.blocks, source="other"), overwrite=True) == "new"
        assert read_attrs(loc)["source_fingerprint"] == "other"

    def test_interrupted_creation_is_recreated(self, tmp_path: Path) -> None:
        loc = str(tmp_path / "s.zarr")
        open_group(loc, "w")  # killed before the attributes were written
        assert fst.begin(loc, header(self.spec, self.blocks)) == "new"

    def test_foreign_folder_is_refused(self, tmp_path: Path) -> None:
        loc = tmp_path / "s.zarr"
        loc.mkdir()
        (loc / "notes.txt").write_text("mine")
        with pytest.raises(StoreSchemaError, match="not a Zarr store"):
            fst.begin(str(loc), header(self.spec, self.blocks))
        assert (loc / "notes.txt").exists()

    def test_open_refuses_unfinished(self, tmp_path: Path) -> None:
        loc = str(tmp_path / "s.zarr")
        with pytest.raises(DataNotFoundError, match="run `eventpipe prepare`"):
            fst.FramesStore.open(loc)
        fst.begin(loc, header(self.spec, self.blocks))
        with pytest.raises(StoreSchemaError, match="did not finish"):
            fst.FramesStore.open(loc)
        assert "not complete" in check_integrity(loc)[0]


def test_integrity_finds_tampering(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    spec = IntegrationSpec(duration_us=10)
    loc = str(tmp_path / "t.zarr")
    build(loc, spec, {"train": [random_frames(rng, t) for t in (2, 3, 1)]}, {"train": [0, 2, 3]})
    assert check_integrity(loc) == []
    root = open_group(loc, "r+")
    root.attrs["spec"] = {"mode": "duration", "duration_us": 20}
    assert any("fingerprint" in p for p in check_integrity(loc))
    root.attrs["spec"] = spec.to_dict()
    block = open_group(loc, "r+", path=fst.block_path("train", 1))
    block.attrs["n_frames"] = [4]
    problems = check_integrity(loc)
    assert any("frame counts disagree" in p for p in problems)
    block.attrs["complete"] = False
    assert any("block train/1: missing or not complete" in p for p in check_integrity(loc))


def test_arrays_written_like_zarr_writes_them(tmp_path: Path) -> None:
    """Metadata document and chunks, byte for byte, as Zarr's ``create_array`` and ``arr[...] = data``."""
    rng = np.random.default_rng(3)
    for data in (np.stack([random_frames(rng, 3), np.zeros((3, 2, 3, 4), np.uint8), random_frames(rng, 3)]),
                 random_frames(rng, 7, high=300, dtype=np.uint16)):  # fixed T (one chunk each); variable T
        chunks = (1, *data.shape[1:]) if data.ndim == 5 else (3, *data.shape[1:])
        root = tmp_path / f"cmp{data.ndim}.zarr"
        theirs = open_group(str(root), "w").create_array(
            "zarr", shape=data.shape, dtype=data.dtype, chunks=chunks, fill_value=0, serializer=fst._codecs()[0],
            compressors=None, filters=None)
        theirs[...] = data
        metadata = array_metadata(data.shape, data.dtype, chunks, fst._codecs())
        write_nodes(str(root), [("ours", metadata)], fst._encode_chunks("ours", metadata, data))
        np.testing.assert_array_equal(open_group(str(root), "r")["ours"][...], data)
        a = {p.relative_to(root / "ours"): p.read_bytes() for p in (root / "ours").rglob("*") if p.is_file()}
        b = {p.relative_to(root / "zarr"): p.read_bytes() for p in (root / "zarr").rglob("*") if p.is_file()}
        assert a == b and len(a) == (3 if data.ndim == 5 else 4)


def test_frames_with_other_codecs_read_through_zarr(tmp_path: Path) -> None:
    """A block rewritten with Zarr's default codecs (by another tool, say) still reads per sample."""
    rng = np.random.default_rng(5)
    group = open_group(str(tmp_path / "other.zarr"), "w")
    fixed = np.stack([random_frames(rng, 3) for _ in range(4)])  # [N, T, P, H, W]
    variable = random_frames(rng, 9)  # [frames, P, H, W]
    for name, data, chunks in (("fixed", fixed, (1, 3, 2, 3, 4)), ("variable", variable, (4, 2, 3, 4))):
        arr = group.create_array(name, shape=data.shape, dtype=data.dtype, chunks=chunks, fill_value=0)
        arr[...] = data
        frames = data.reshape(-1, 2, 3, 4)
        for start, stop in ((0, 3), (6, 9), (3, 5), (4, 4)):
            out = np.full((stop - start, 2, 3, 4), -1.0, np.float32)
            fst._read_frames(arr, start, stop, out)
            np.testing.assert_array_equal(out, frames[start:stop])
        out = np.empty((3, 2, 4, 3), np.float32).transpose(0, 1, 3, 2)  # not C-contiguous: through Zarr too
        fst._read_frames(arr, 3, 6, out)
        np.testing.assert_array_equal(out, frames[3:6])
