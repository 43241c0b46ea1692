"""Every torch dataset class over small stores converted from fake raw trees."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

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
    dataset_class,
)
from eventpipe.errors import ConfigError, DataNotFoundError
from eventpipe.events import EVENT_DTYPE, SensorSize
from eventpipe.frames import IntegrationSpec
from eventpipe.loading import prepare_command
from eventpipe.sources import get_dataset
from eventpipe.store import EventsStore

CLASSES = [DVS128Gesture, NMNIST, CIFAR10DVS, NCaltech101, SHD, ASLDVS, DVSLip, Demo]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("split", ["train", "test"])
def test_events_items_match_the_store(cls: type[NeuromorphicDataset], split: str, stores_root: Path) -> None:
    info = get_dataset(cls.dataset_name)
    ds = cls(stores_root, split=split)
    store = EventsStore.open(info.events_store_path(stores_root)).split(split)
    assert len(ds) == len(store) > 0
    assert ds.classes == info.classes and ds.sensor_size == info.sensor
    assert isinstance(ds.sensor_size, SensorSize)
    assert not ds.frames_mode and ds.spec is None
    assert np.array_equal(ds.labels, store.labels)
    assert np.array_equal(ds.lengths, np.diff(store.offsets))
    for i in (0, len(ds) - 1, -1):
        events, label = ds[i]
        assert events.dtype == EVENT_DTYPE and isinstance(label, int)
        assert np.array_equal(events, store.events(i)) and label == int(store.labels[i])
        assert ds.meta(i) == store.meta(i)
        assert set(ds.meta(i)) == set(info.meta_columns)
    assert cls.__name__ in repr(ds) and "events" in repr(ds)


def test_dataset_class_lookup() -> None:
    assert dataset_class("dvs128_gesture") is DVS128Gesture
    assert dataset_class("asl_dvs") is ASLDVS
    assert all(dataset_class(c.dataset_name) is c for c in CLASSES)


def test_generic_class_needs_a_name(stores_root: Path) -> None:
    ds = NeuromorphicDataset(stores_root, split="test", dataset="nmnist")
    assert len(ds) == len(NMNIST(stores_root, split="test"))
    with pytest.raises(ConfigError, match="dataset=<name>"):
        NeuromorphicDataset(stores_root)
    with pytest.raises(ConfigError, match="reads dataset 'nmnist'"):
        NMNIST(stores_root, dataset="shd")


def test_transform_target_transform_and_joint_transforms(stores_root: Path) -> None:
    seen = []

    def transform(events: np.ndarray) -> int:
        seen.append(len(events))
        return len(events)

    ds = NMNIST(stores_root, split="train", transform=transform, target_transform=lambda y: y + 100)
    x, y = ds[1]
    assert x == ds.lengths[1] and y == int(ds.labels[1]) + 100 and seen == [x]
    joint = NMNIST(stores_root, split="train", transforms=lambda ev, y: (ev[:5], -y))
    x, y = joint[1]
    assert len(x) == 5 and y == -int(ds.labels[1])
    with pytest.raises(ConfigError, match="either transforms"):
        NMNIST(stores_root, transforms=lambda a, b: (a, b), transform=len)


def test_bad_split_and_index(stores_root: Path) -> None:
    with pytest.raises(ConfigError, match=r"Unknown value 'val' for argument split. Valid values are \{'train', 'test'\}"):
        SHD(stores_root, split="val")
    ds = SHD(stores_root, split="test")
    with pytest.raises(IndexError, match="out of range"):
        ds[len(ds)]
    with pytest.raises(TypeError, match="integer index"):
        ds["0"]  # type: ignore[index]
    with pytest.raises(ConfigError, match="Expected exactly one of frames"):
        SHD(stores_root, split_by="time")


def test_missing_store_names_the_prepare_command(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError) as info:
        DVS128Gesture(tmp_path, split="train", frames=20)
    message = str(info.value)
    assert f"eventpipe prepare dvs128 --frames 20 --split-by number --root {tmp_path}" in message
    assert "prepare=True" in message
    with pytest.raises(DataNotFoundError, match=f"eventpipe download nmnist --root {tmp_path} && eventpipe convert"):
        NMNIST(tmp_path)
    with pytest.raises(DataNotFoundError, match="--events-per-frame 100 --drop-incomplete --root"):
        NMNIST(tmp_path, events_per_frame=100, drop_incomplete=True)
    with pytest.raises(DataNotFoundError, match="Build it with prepare=True"):
        NMNIST(tmp_path, fn=lambda ev, h, w: None)
    with pytest.raises(DataNotFoundError, match="--duration 100ms"):
        Demo(tmp_path, split="test", duration_us=100_000)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (None, "eventpipe download demo --root /r && eventpipe convert demo --root /r"),
        (IntegrationSpec(frames=16, split_by="time"), "eventpipe prepare demo --frames 16 --split-by time --root /r"),
        (IntegrationSpec(duration_us=2_000_000), "eventpipe prepare demo --duration 2s --root /r"),
        (IntegrationSpec(duration_us=1500), "eventpipe prepare demo --duration 1500us --root /r"),
        (IntegrationSpec(events_per_frame=500), "eventpipe prepare demo --events-per-frame 500 --root /r"),
        (IntegrationSpec(events_per_frame=500, drop_incomplete=True),
         "eventpipe prepare demo --events-per-frame 500 --drop-incomplete --root /r"),
        (IntegrationSpec(time_window=20_000, overlap=5000, include_incomplete=True),
         "eventpipe prepare demo --time-window 20ms --overlap 5000 --include-incomplete --root /r"),
        (IntegrationSpec(n_time_bins=4, overlap=0.25), "eventpipe prepare demo --n-time-bins 4 --overlap 0.25 --root /r"),
        (IntegrationSpec(fn="eventpipe.frames.reference:number"),
         "eventpipe prepare demo --integrate eventpipe.frames.reference:number --root /r"),
        (IntegrationSpec(fn=lambda ev, h, w: None), None),
    ],
)
def test_prepare_command(spec: IntegrationSpec | None, expected: str | None) -> None:
    assert prepare_command("demo", Path("/r"), spec) == expected


def test_default_root_is_eventpipe_home(stores_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTPIPE_HOME", str(stores_root))
    assert len(ASLDVS(split="test")) == len(ASLDVS(stores_root, split="test"))


def test_pickle_roundtrip_reopens_the_store(stores_root: Path) -> None:
    ds = CIFAR10DVS(stores_root, split="train")
    ds[0]
    clone = pickle.loads(pickle.dumps(ds))
    assert clone._reader is None
    assert np.array_equal(clone[3][0], ds[3][0]) and clone.meta(3) == ds.meta(3)
    assert len(pickle.dumps(ds)) < 20_000


def _batches(loader: DataLoader) -> list:
    return [[(ev.tobytes(), y) for ev, y in batch] for batch in loader]


def test_events_dataloader_workers_match_single_process(stores_root: Path) -> None:
    # fork here; both start methods are exercised in frames mode (test_frames_datasets.py)
    ds = DVS128Gesture(stores_root, split="test")
    expected = _batches(DataLoader(ds, batch_size=4, num_workers=0, collate_fn=list))
    got = _batches(
        DataLoader(ds, batch_size=4, num_workers=2, collate_fn=list, multiprocessing_context="fork")
    )
    assert got == expected and len(got) == 3


def test_lengths_drive_the_bucket_sampler(stores_root: Path) -> None:
    from eventpipe.collate import BucketBatchSampler

    ds = Demo(stores_root, split="train")
    batches = list(BucketBatchSampler(ds.lengths, batch_size=3, shuffle=False))
    sorted_lengths = [int(ds.lengths[i]) for b in batches for i in b]
    assert sorted_lengths == sorted(ds.lengths.tolist())
    assert torch.is_tensor(torch.as_tensor(ds.lengths))
