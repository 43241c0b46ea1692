"""On-the-fly integration: packed event batches integrated with torch equal the stored path's frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from eventpipe.collate import pad_sequence_collate_time_first
from eventpipe.datasets import Demo
from eventpipe.errors import ConfigError, EventValidationError
from eventpipe.events import make_events
from eventpipe.frames import IntegrationSpec, integrate
from eventpipe.loading.event_batches import pack_events_collate
from eventpipe.loading.torch_frames import TorchFrames
from eventpipe.transforms import DropEvent, SpatialJitter

SPECS = st.one_of(
    st.builds(lambda m: IntegrationSpec(frames=m), st.integers(1, 6)),
    st.builds(lambda m: IntegrationSpec(frames=m, split_by="time"), st.integers(1, 6)),
    st.builds(lambda d: IntegrationSpec(duration_us=d), st.integers(1, 400)),
    st.builds(lambda k, drop: IntegrationSpec(events_per_frame=k, drop_incomplete=drop), st.integers(1, 9), st.booleans()),
    st.builds(lambda m, o: IntegrationSpec(n_time_bins=m, overlap=o), st.integers(1, 6),
              st.sampled_from([0, 0.1, 0.25, 1 / 3, 0.5, 0.9])),
    st.builds(lambda k, o, inc: IntegrationSpec(event_count=k, overlap=min(o, k - 1), include_incomplete=inc),
              st.integers(1, 9), st.integers(0, 8), st.booleans()),
    st.builds(lambda w, o, inc: IntegrationSpec(time_window=w, overlap=o * w, include_incomplete=inc),
              st.integers(1, 300), st.sampled_from([0, 0.2, 0.5, 0.75]), st.booleans()),
    st.just(IntegrationSpec(event_image=True)),
)


@st.composite
def streams(draw: st.DrawFn) -> tuple[tuple[int, int, int], list[np.ndarray]]:
    width, height, polarities = draw(st.integers(1, 5)), draw(st.integers(1, 4)), draw(st.sampled_from([1, 2]))
    start = draw(st.sampled_from([0, 7, 2**40 + 3]))
    samples = []
    for _ in range(draw(st.integers(1, 4))):
        n = draw(st.integers(0, 30))
        gaps = draw(st.lists(st.integers(0, 60), min_size=n, max_size=n))
        t = start + draw(st.integers(0, 100)) + np.cumsum(np.asarray(gaps, dtype=np.int64))
        xy = draw(st.lists(st.tuples(st.integers(0, width - 1), st.integers(0, height - 1), st.integers(0, 1)),
                           min_size=n, max_size=n))
        cols = np.asarray(xy, dtype=np.int64).reshape(n, 3)
        samples.append(make_events(t=t, x=cols[:, 0], y=cols[:, 1], p=cols[:, 2]))
    return (width, height, polarities), samples


def stored(spec: IntegrationSpec, size: tuple[int, int, int], samples: list[np.ndarray]) -> tuple[torch.Tensor, ...]:
    """What the stored path feeds a model: each sample's frames as float32, padded time first."""
    items = [(torch.from_numpy(spec(ev, size).astype(np.float32)), i) for i, ev in enumerate(samples)]
    return pad_sequence_collate_time_first(items)


@settings(max_examples=150, deadline=None)
@given(streams(), SPECS)
def test_every_count_mode_equals_the_stored_frames(data: tuple[tuple[int, int, int], list[np.ndarray]],
                                                   spec: IntegrationSpec) -> None:
    size, samples = data
    batch = pack_events_collate([(ev, i) for i, ev in enumerate(samples)])
    x, y, mask = TorchFrames(spec, size)(batch, 0)
    want_x, want_y, want_mask = stored(spec, size, samples)
    assert x.dtype == torch.float32 and x.shape == want_x.shape and torch.equal(x, want_x)
    assert torch.equal(y, want_y) and torch.equal(mask, want_mask)


def test_every_sample_empty_and_no_frame_at_all() -> None:
    empty = make_events(t=[], x=[], y=[], p=[])
    batch = pack_events_collate([(empty, 0), (empty, 1)])
    x, _, mask = TorchFrames(IntegrationSpec(frames=3), (4, 3, 2))(batch)
    assert x.shape == (3, 2, 2, 3, 4) and not x.any() and mask.all()
    few = make_events(t=[1, 2], x=[0, 1], y=[0, 0], p=[1, 1])
    x, _, mask = TorchFrames(IntegrationSpec(events_per_frame=5, drop_incomplete=True), (4, 3, 2))(
        pack_events_collate([(few, 0), (empty, 1)]))
    assert x.shape == (0, 2, 2, 3, 4) and mask.shape == (0, 2)


def test_signed_polarity_packs_like_integrate() -> None:
    events = np.zeros(3, dtype=[("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("p", "<i1")])
    events["t"], events["x"], events["p"] = [0, 1, 2], [0, 1, 2], [-1, 1, -1]
    x, _, _ = TorchFrames(IntegrationSpec(event_image=True), (3, 1, 2))(pack_events_collate([(events, 0)]))
    assert torch.equal(x[0, 0], torch.from_numpy(integrate(events, (3, 1, 2), event_image=True)[0].astype(np.float32)))


def test_bad_inputs_name_the_fix() -> None:
    with pytest.raises(ConfigError, match="count modes"):
        TorchFrames(IntegrationSpec(voxel_grid=3), (4, 4, 2))
    with pytest.raises(ConfigError, match="frames store"):
        TorchFrames(IntegrationSpec(duration_us=10, duration_rule="next-event"), (4, 4, 2))
    with pytest.raises(ConfigError, match="filter_chain"):
        TorchFrames(IntegrationSpec(frames=2, filters=[{"name": "refractory_period", "period": 5}]), (4, 4, 2))
    with pytest.raises(ConfigError, match="raw events"):
        pack_events_collate([(torch.zeros(2, 2), 0)])
    with pytest.raises(ConfigError, match="non-empty"):
        pack_events_collate([])
    outside = make_events(t=[0], x=[9], y=[0], p=[0])
    with pytest.raises(EventValidationError, match="outside the sensor"):
        TorchFrames(IntegrationSpec(frames=1), (4, 4, 2))(pack_events_collate([(outside, 0)]))


def test_events_dataset_with_augmentation_packs_and_integrates(stores_root: Path) -> None:
    """The events mode of a dataset, augmented per sample, feeds the packer; without augmentation the
    integrated batch is the frames store's batch."""
    spec = IntegrationSpec(duration_us=50_000)
    events = Demo(stores_root, split="test", prepare=True, workers=1, progress=False)
    frames = Demo(stores_root, split="test", spec=spec, prepare=True, workers=1, progress=False)
    integrate_batch = TorchFrames(spec, events.sensor_size)
    idx = list(range(min(6, len(events))))
    x, y, mask = integrate_batch(pack_events_collate([events[i] for i in idx]))
    want = pad_sequence_collate_time_first([frames[i] for i in idx])
    assert torch.equal(x, want[0]) and torch.equal(y, want[1]) and torch.equal(mask, want[2])
    augment = Demo(stores_root, split="test", prepare=True, workers=1, progress=False,
                   transform=lambda ev: SpatialJitter(events.sensor_size, var_x=1, var_y=1, clip_outliers=True)(
                       DropEvent(p=0.5)(ev)))
    first, second = (integrate_batch(pack_events_collate([augment[i] for i in idx]))[0] for _ in range(2))
    assert first.sum() < x.sum() and not torch.equal(first, second)
