"""Frames mode of every dataset class: stores built through prepare=True, checked against oracles."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from eventpipe.collate import pad_sequence_collate, padded_sequence_mask
from eventpipe.datasets import (
    ASLDVS,
    CIFAR10DVS,
    NMNIST,
    SHD,
    Demo,
    DVS128Gesture,
    DVSLip,
    NCaltech101,
    NeuromorphicDataset,
)
from eventpipe.errors import ConfigError, StoreSchemaError
from eventpipe.frames import reference
from eventpipe.transforms import RandomHorizontalFlip, ToFrames, mirror_label_map

CLASSES = [DVS128Gesture, NMNIST, CIFAR10DVS, NCaltech101, SHD, ASLDVS, DVSLip, Demo]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_frames_items_match_the_reference_integration(cls: type[NeuromorphicDataset], stores_root: Path) -> None:
    frames_ds = cls(stores_root, split="train", frames=4, prepare=True, workers=1, progress=False)
    events_ds = cls(stores_root, split="train")
    size = events_ds.sensor_size
    assert frames_ds.frames_mode and frames_ds.spec.name == "frames_number_4_split_by_number"
    assert frames_ds.store_path.name == "frames_number_4_split_by_number.zarr"
    assert len(frames_ds) == len(events_ds) and np.array_equal(frames_ds.labels, events_ds.labels)
    assert frames_ds.classes == events_ds.classes and frames_ds.sensor_size == size
    assert np.array_equal(frames_ds.lengths, np.full(len(frames_ds), 4))
    for i in range(len(frames_ds)):
        x, y = frames_ds[i]
        events, label = events_ds[i]
        assert x.dtype == torch.float32 and tuple(x.shape) == size.frame_shape(4)
        assert y == label and isinstance(y, int)
        assert np.array_equal(x.numpy(), reference.number(events, size, 4).astype(np.float32))
        assert int(x.sum()) == len(events)
        assert frames_ds.meta(i) == events_ds.meta(i)
    assert "frames_number_4_split_by_number" in repr(frames_ds)


def test_variable_t_frames_collate_and_mask(stores_root: Path) -> None:
    ds = DVS128Gesture(stores_root, split="test", duration_us=50_000, prepare=True, workers=1, progress=False)
    events_ds = DVS128Gesture(stores_root, split="test")
    assert len(set(ds.lengths.tolist())) > 1
    for i in range(len(ds)):
        x, _ = ds[i]
        assert x.shape[0] == ds.lengths[i]
        assert np.array_equal(x.numpy(), reference.duration(events_ds[i][0], ds.sensor_size, 50_000))
    x, y, lengths = pad_sequence_collate([ds[i] for i in range(4)])
    assert torch.equal(lengths, torch.as_tensor(ds.lengths[:4]))
    mask = padded_sequence_mask(lengths)
    assert x.shape[1] == mask.shape[0] == int(ds.lengths[:4].max())
    per_step = x.sum(dim=(2, 3, 4))  # [N, T]
    assert torch.all(per_step.t()[~mask] == 0)
    assert torch.equal(per_step.sum(1).long(), torch.as_tensor([len(events_ds[i][0]) for i in range(4)]))


def test_to_frames_on_the_fly_equals_the_store(stores_root: Path) -> None:
    stored = Demo(stores_root, split="test", frames=4, prepare=True, workers=1, progress=False)
    on_the_fly = Demo(stores_root, split="test", transform=ToFrames(stored.sensor_size, frames=4))
    for i in range(len(stored)):
        assert torch.equal(stored[i][0], on_the_fly[i][0])


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int16, torch.int64, torch.float16, torch.float64])
def test_frames_in_another_dtype(stores_root: Path, dtype: torch.dtype) -> None:
    """Fixed and variable T, each sample equal to the float32 default and collated in its dtype."""
    for mode in ({"frames": 4}, {"duration_us": 50_000}):
        default = DVS128Gesture(stores_root, split="test", prepare=True, workers=1, progress=False, **mode)
        other = DVS128Gesture(stores_root, split="test", dtype=dtype, **mode)
        for i in range(len(default)):
            x, y = other[i]
            assert x.dtype == dtype and y == default[i][1]
            assert torch.equal(x.double(), default[i][0].double())
    x, _ = next(iter(DataLoader(DVS128Gesture(stores_root, split="test", frames=4, dtype=dtype), batch_size=3)))
    assert x.dtype == dtype and x.shape[0] == 3


@pytest.mark.parametrize("dtype", [torch.int8, torch.bool, torch.bfloat16, torch.complex64, "float32", np.float32])
def test_frames_dtype_refused(stores_root: Path, dtype: object) -> None:
    DVS128Gesture(stores_root, split="test", frames=4, prepare=True, workers=1, progress=False)
    with pytest.raises(ConfigError, match="dtype"):
        DVS128Gesture(stores_root, split="test", frames=4, dtype=dtype)  # type: ignore[arg-type]


def test_dtype_needs_frames(stores_root: Path) -> None:
    with pytest.raises(ConfigError, match="element type of frames"):
        DVS128Gesture(stores_root, split="test", dtype=torch.uint8)
    assert DVS128Gesture(stores_root, split="test", dtype=torch.float32)[0][0].dtype.names == ("t", "x", "y", "p")


def test_mirror_transform_relabels_gestures(stores_root: Path) -> None:
    plain = DVS128Gesture(stores_root, split="train", frames=4, prepare=True, workers=1, progress=False)
    label_map = mirror_label_map(plain.classes)
    assert label_map[plain.classes.index("right_hand_wave")] == plain.classes.index("left_hand_wave")
    flipped = DVS128Gesture(stores_root, split="train", frames=4, transforms=RandomHorizontalFlip(1.0, label_map))
    for i in range(len(plain)):
        (x, y), (fx, fy) = plain[i], flipped[i]
        assert torch.equal(fx, x.flip(-1)) and fy == label_map.get(y, y)


def _frame_batches(loader: DataLoader) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    return list(loader)


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_frames_dataloader_workers_match_single_process(context: str, stores_root: Path) -> None:
    ds = DVS128Gesture(stores_root, split="test", duration_us=50_000, prepare=True, workers=1, progress=False)
    kwargs = {"batch_size": 5, "collate_fn": pad_sequence_collate}
    expected = _frame_batches(DataLoader(ds, num_workers=0, **kwargs))
    got = _frame_batches(DataLoader(ds, num_workers=2, multiprocessing_context=context, **kwargs))
    assert len(got) == len(expected) == 3
    for (x, y, n), (ex, ey, en) in zip(got, expected, strict=True):
        assert torch.equal(x, ex) and torch.equal(y, ey) and torch.equal(n, en)


def test_outdated_frames_store_is_refused_then_rebuilt(tmp_path: Path, make_events_store) -> None:  # type: ignore[no-untyped-def]
    make_events_store(tmp_path, "nmnist", 1)
    first = NMNIST(tmp_path, split="test", frames=2, prepare=True, workers=1, progress=False)
    before = [first[i][0] for i in range(len(first))]
    shutil.rmtree(first.info.events_store_path(tmp_path))
    make_events_store(tmp_path, "nmnist", 2)  # other events: the frames store is now outdated
    with pytest.raises(StoreSchemaError, match=r"older events store.*eventpipe prepare nmnist --frames 2 .*--overwrite"):
        NMNIST(tmp_path, split="test", frames=2)
    rebuilt = NMNIST(tmp_path, split="test", frames=2, prepare=True, workers=1, progress=False)
    events = NMNIST(tmp_path, split="test")
    after = [rebuilt[i][0] for i in range(len(rebuilt))]
    assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=False))
    for i in range(len(rebuilt)):
        assert int(after[i].sum()) == len(events[i][0])
    assert pickle.loads(pickle.dumps(rebuilt))[0][1] == rebuilt[0][1]
