"""Float frames stores: a float plugin from prepare to the collate, damage, resume, fingerprints."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import zarr
from store_helpers import FRAMES_SENSOR as SENSOR
from store_helpers import build_store, frames_header, random_batch

from eventpipe.collate import pad_sequence_collate
from eventpipe.datasets import Demo
from eventpipe.errors import StoreCorruptError, StoreSchemaError
from eventpipe.frames import IntegrationSpec
from eventpipe.pipeline.prepare import prepare
from eventpipe.sources import get_dataset
from eventpipe.store import check_integrity
from eventpipe.store.events.reader import EventsStore
from eventpipe.store.frames import writer
from eventpipe.store.frames.reader import FramesStore

PLUGIN = '''
import numpy as np


def decay(events, H, W):
    """Per event count frames weighted by how recent each event is: fractional values."""
    t = events["t"].astype(np.float64)
    w = np.exp(-(t[-1] - t) / 200.0) if len(t) else t
    out = np.zeros((2, 2, H, W))
    half = len(t) // 2
    for f, sl in enumerate((slice(0, half), slice(half, len(t)))):
        np.add.at(out[f], (events["p"][sl].astype(int), events["y"][sl].astype(int), events["x"][sl].astype(int)), w[sl])
    return out
'''


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "float_plugin_mod.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "float_plugin_mod:decay"
    sys.modules.pop("float_plugin_mod", None)


def test_float_plugin_from_prepare_to_collate(tmp_path: Path, plugin: str) -> None:
    root = tmp_path / "data"
    events_location = str(get_dataset("demo").events_store_path(root))
    build_store(events_location, {"train": [random_batch(np.random.default_rng(3), [40, 0, 25, 60])]})
    result = prepare("demo", root, IntegrationSpec(fn=plugin), workers=1, progress=False)
    assert result.status == "prepared" and result.dtype == "float16"
    assert check_integrity(result.store) == []

    ds = Demo(root, split="train", fn=plugin)
    spec = IntegrationSpec(fn=plugin)
    events = EventsStore.open(events_location).split("train")
    for i in range(len(ds)):
        expected = spec(events.events(i), events.sensor)  # counts (zeros) for the empty sample, else float16
        assert expected.dtype == (np.uint8 if i == 1 else np.float16)
        x, _ = ds[i]
        assert x.dtype == torch.float32
        np.testing.assert_array_equal(x.numpy(), expected.astype(np.float32))
    batch, _, lengths = pad_sequence_collate([ds[i] for i in range(len(ds))])
    assert batch.dtype == torch.float32 and lengths.tolist() == [2] * len(ds)
    assert not torch.equal(batch.round(), batch)  # fractional values made it through

    wide = prepare("demo", root, IntegrationSpec(fn=plugin, frames_dtype="float32"), workers=1, progress=False)
    assert wide.store != result.store and wide.dtype == "float32"
    stored = FramesStore.open(wide.store)
    assert stored.fingerprint != FramesStore.open(result.store).fingerprint
    x32, _ = Demo(root, split="train", fn=plugin, frames_dtype="float32")[3]
    raw = IntegrationSpec(fn=plugin, frames_dtype="float32")(events.events(3), events.sensor)
    np.testing.assert_array_equal(x32.numpy(), raw)
    assert Demo(root, split="train", fn=plugin, dtype=torch.float16)[0][0].dtype == torch.float16


def test_voxel_grid_store_dataset_and_show(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from eventpipe.cli.main import app

    root = tmp_path / "data"
    events_location = str(get_dataset("demo").events_store_path(root))
    build_store(events_location, {"train": [random_batch(np.random.default_rng(4), [70, 30])]})
    ds = Demo(root, split="train", voxel_grid=3, prepare=True, workers=1, progress=False)
    assert tuple(ds.sensor_size) == (16, 12, 1)  # one signed channel
    events = EventsStore.open(events_location).split("train")
    expected = IntegrationSpec(voxel_grid=3)(events.events(0), events.sensor)
    np.testing.assert_array_equal(ds[0][0].numpy(), expected.astype(np.float32))
    assert (ds[0][0] < 0).any()
    out = tmp_path / "v.png"
    result = CliRunner().invoke(app, ["show", "demo", "--root", str(root), "--voxel-grid", "3", "--out", str(out)])
    assert result.exit_code == 0, (result.output, result.exception)
    assert out.stat().st_size > 0


def _float_store(location: str, spec: IntegrationSpec, blocks: list[np.ndarray], only: int | None = None) -> None:
    header = frames_header(spec, {"train": list(range(len(blocks) + 1))})
    writer.begin(location, header)
    for j, f in enumerate(blocks):
        if only is None or j == only:
            writer.write_block(location, "train", j, [f], SENSOR, spec.fixed_frames)
    if only is None:
        writer.finalize(location, header, {"train": np.zeros(len(blocks), np.int64)}, {})


def _frames(rng: np.random.Generator, dtype: type) -> np.ndarray:
    return rng.random(SENSOR.frame_shape(3)).astype(dtype)


def test_float_chunks_are_zarr_arrays_and_round_trip(tmp_path: Path, plugin: str) -> None:
    rng = np.random.default_rng(0)
    samples = [_frames(rng, np.float16), _frames(rng, np.float32)]
    loc = str(tmp_path / "f.zarr")
    _float_store(loc, IntegrationSpec(fn=plugin), samples)
    fs = FramesStore.open(loc)
    assert fs.dtype == np.float32  # float16 and float32 blocks promote to float32
    for i, expected in enumerate(samples):
        np.testing.assert_array_equal(fs.split("train").frames(i), expected.astype(np.float32))
        block = zarr.open_array(f"{loc}/blocks/train/b{i:05d}/frames", mode="r")
        assert block.dtype == expected.dtype
        np.testing.assert_array_equal(block[:], expected[None] if block.ndim == 5 else expected)
    with pytest.raises(ValueError, match="too narrow"):
        fs.split("train").frames(0, out=np.empty(SENSOR.frame_shape(3), np.int32))
    assert check_integrity(loc) == []


def test_damaged_float_chunk_is_named(tmp_path: Path, plugin: str) -> None:
    loc = str(tmp_path / "f.zarr")
    _float_store(loc, IntegrationSpec(fn=plugin, frames_dtype="float32"),
                 [_frames(np.random.default_rng(1), np.float32)])
    chunk = next((tmp_path / "f.zarr" / "blocks" / "train" / "b00000" / "frames" / "c").rglob("*"))
    while chunk.is_dir():
        chunk = next(chunk.iterdir())
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2] ^= 0xFF
    chunk.write_bytes(bytes(data))
    with pytest.raises(StoreCorruptError, match=r"array blocks/train/b00000/frames, chunk c/0/0/0/0: fails its CRC-32C"):
        FramesStore.open(loc).split("train").frames(0)
    chunk.unlink()
    with pytest.raises(StoreCorruptError, match=r"chunk c/0/0/0/0: missing"):
        FramesStore.open(loc).split("train").frames(0)


def test_float_store_resumes_and_is_keyed_by_dtype(tmp_path: Path, plugin: str) -> None:
    rng = np.random.default_rng(2)
    samples = [_frames(rng, np.float16) for _ in range(3)]
    loc = str(tmp_path / "f.zarr")
    spec = IntegrationSpec(fn=plugin, frames_dtype="float16")
    _float_store(loc, spec, samples, only=1)  # a run killed after one block
    header = frames_header(spec, {"train": [0, 1, 2, 3]})
    assert writer.begin(loc, header) == "resume"
    assert writer.completed_blocks(loc, "train", 3) == {1}
    for j in (0, 2):
        writer.write_block(loc, "train", j, [samples[j]], SENSOR, spec.fixed_frames)
    writer.finalize(loc, header, {"train": np.zeros(3, np.int64)}, {})
    split = FramesStore.open(loc).split("train")
    for i, expected in enumerate(samples):
        np.testing.assert_array_equal(split.frames(i), expected)
    other = frames_header(IntegrationSpec(fn=plugin, frames_dtype="float32"), {"train": [0, 1, 2, 3]})
    assert other.fingerprint != header.fingerprint
    with pytest.raises(StoreSchemaError, match="its integration spec differs"):
        writer.begin(loc, other)
