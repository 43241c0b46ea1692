"""ToFrames: the frames store's integration, on the fly, composable with event augmentations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from eventpipe.errors import ConfigError
from eventpipe.events import make_events
from eventpipe.frames import IntegrationSpec, integrate
from eventpipe.transforms import Compose, RandomHorizontalFlip, TemporalDownsample, ToFrames


def _events(n: int = 400, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return make_events(
        t=np.sort(rng.integers(0, 1_000_000, n)), x=rng.integers(0, 8, n), y=rng.integers(0, 6, n), p=rng.integers(0, 2, n)
    )


def test_hand_computed_two_frames() -> None:
    ev = make_events(t=[0, 1, 2, 3, 4], x=[0, 1, 1, 0, 1], y=[0, 0, 1, 1, 1], p=[1, 0, 1, 1, 0])
    out = ToFrames((2, 2, 2), frames=2)(ev)  # di = 2: frame 0 = events 0, 1; frame 1 = events 2, 3, 4
    expected = torch.zeros(2, 2, 2, 2)
    expected[0, 1, 0, 0] = 1
    expected[0, 0, 0, 1] = 1
    expected[1, 1, 1, 1] = 1
    expected[1, 1, 1, 0] = 1
    expected[1, 0, 1, 1] = 1
    assert out.dtype == torch.float32
    assert torch.equal(out, expected)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"frames": 5},
        {"frames": 5, "split_by": "time"},
        {"duration_us": 150_000},
        {"events_per_frame": 64},
        {"events_per_frame": 64, "drop_incomplete": True},
    ],
)
def test_equals_integrate(kwargs: dict) -> None:
    ev = _events()
    ref = integrate(ev, (8, 6, 2), **kwargs)
    assert np.array_equal(ToFrames((8, 6, 2), **kwargs)(ev).numpy(), ref.astype(np.float32))
    raw = ToFrames((8, 6, 2), dtype=None, **kwargs)(ev)
    assert raw.dtype == ref.dtype and np.array_equal(raw, ref)


def test_spec_argument_gives_tonic_modes() -> None:
    ev = _events()
    spec = IntegrationSpec(n_time_bins=4)
    assert np.array_equal(ToFrames((8, 6, 2), spec=spec, dtype=None)(ev), spec(ev, (8, 6, 2)))
    with pytest.raises(ConfigError, match="either spec"):
        ToFrames((8, 6, 2), frames=2, spec=spec)


def test_temporal_downsample_of_20_frames_is_5_frames() -> None:
    ev = _events(n=400)  # N a multiple of 20: frames 4k..4k+3 of 20 are frame k of 5
    twenty = ToFrames((8, 6, 2), frames=20)(ev)
    assert torch.equal(TemporalDownsample(4)(twenty), ToFrames((8, 6, 2), frames=5)(ev))


def test_event_flip_then_frames_equals_frames_then_flip() -> None:
    ev = _events()
    a = Compose([RandomHorizontalFlip(p=1.0, sensor_size=(8, 6, 2)), ToFrames((8, 6, 2), frames=4)])(ev)
    b = Compose([ToFrames((8, 6, 2), frames=4), RandomHorizontalFlip(p=1.0)])(ev)
    assert torch.equal(a, b)


def test_tonic_drop_event_then_to_frames() -> None:
    tonic = pytest.importorskip("tonic")
    np.random.seed(1)
    t = tonic.transforms.Compose([tonic.transforms.DropEvent(p=0.5), ToFrames((8, 6, 2), frames=3)])
    out = t(_events())
    assert out.shape == (3, 2, 6, 8) and int(out.sum()) == 200


def test_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="exactly one of"):
        ToFrames((8, 6, 2))
    with pytest.raises(ConfigError, match="exactly one of"):
        ToFrames((8, 6, 2), frames=2, duration_us=10)
    with pytest.raises(ConfigError, match="split_by"):
        ToFrames((8, 6, 2), frames=2, split_by="tme")
    with pytest.raises(ConfigError, match="expects events"):
        ToFrames((8, 6, 2), frames=2)(torch.zeros(2, 2, 6, 8))
