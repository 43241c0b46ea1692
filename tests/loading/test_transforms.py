"""Frame augmentations: hand-computed cases, per-sample consistency, determinism; tonic interop."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest
import torch

from eventpipe.errors import ConfigError
from eventpipe.events import EVENT_DTYPE, SensorSize, check_in_sensor, make_events, validate_events
from eventpipe.transforms import (
    CenterCrop,
    Compose,
    RandomCrop,
    RandomHorizontalFlip,
    RandomTemporalCrop,
    RandomTemporalDelete,
    RandomTranslate,
    TemporalDownsample,
    ToTensor,
    mirror_label_map,
)
from eventpipe.transforms import functional as F


def _frames(t: int = 6, p: int = 2, h: int = 5, w: int = 7) -> torch.Tensor:
    return torch.arange(t * p * h * w, dtype=torch.float32).reshape(t, p, h, w)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------- flips and labels


def test_hflip_hand_computed_numpy_and_torch() -> None:
    f = np.array([[[[1, 2, 3], [4, 5, 6]]]], dtype=np.uint8)  # [1, 1, 2, 3]
    expected = [[[[3, 2, 1], [6, 5, 4]]]]
    assert RandomHorizontalFlip(p=1.0)(f).tolist() == expected
    assert RandomHorizontalFlip(p=1.0)(torch.from_numpy(f)).tolist() == expected
    assert RandomHorizontalFlip(p=0.0)(f).tolist() == f.tolist()


def test_hflip_keeps_polarity_channels() -> None:
    f = torch.zeros(2, 2, 3, 4)
    f[:, 1, 0, 0] = 1.0  # ON events in the top-left pixel
    out = RandomHorizontalFlip(p=1.0)(f)
    assert out[:, 1, 0, 3].tolist() == [1.0, 1.0] and out[:, 0].sum() == 0


def test_hflip_events_matches_frames() -> None:
    ev = make_events(t=[0, 1, 2], x=[0, 3, 9], y=[1, 2, 3], p=[1, 0, 1])
    out = RandomHorizontalFlip(p=1.0, sensor_size=(10, 4, 2))(ev)
    assert out.dtype == EVENT_DTYPE and out["x"].tolist() == [9, 6, 0]
    assert out["y"].tolist() == [1, 2, 3] and out["p"].tolist() == [1, 0, 1]
    assert ev["x"].tolist() == [0, 3, 9]  # input untouched
    with pytest.raises(ConfigError, match="sensor_size"):
        RandomHorizontalFlip(p=1.0)(ev)
    with pytest.raises(ConfigError, match="outside a sensor 5 pixels wide"):
        RandomHorizontalFlip(p=1.0, sensor_size=(5, 4, 2))(ev)


def test_gesture_mirror_label_map_from_class_names() -> None:
    tonic_names = [
        "Hand clapping", "Right hand wave", "Left hand wave", "Right arm cw", "Right arm ccw",
        "Left arm cw", "Left arm ccw", "Arm roll", "Air drums", "Air guitar", "Other gestures",
    ]
    expected = {1: 2, 2: 1, 3: 6, 6: 3, 4: 5, 5: 4}
    assert mirror_label_map(tonic_names) == expected
    long_names = [n.replace("ccw", "counter clockwise").replace(" cw", " clockwise") for n in tonic_names]
    assert mirror_label_map(long_names) == expected
    assert mirror_label_map(["a", "b"]) == {}


def test_flip_relabels_only_when_flipped() -> None:
    f = _frames(2)
    flip = RandomHorizontalFlip(p=1.0, label_map={1: 2, 2: 1})
    assert flip(f, 1)[1] == 2 and flip(f, 0)[1] == 0
    assert RandomHorizontalFlip(p=0.0, label_map={1: 2})(f, 1)[1] == 1
    gen = _gen(3)
    half = RandomHorizontalFlip(p=0.5, label_map={1: 2, 2: 1})
    for _ in range(20):
        out, label = half(f, 1, generator=gen)
        assert (label == 2) == torch.equal(out, f.flip(-1))
        assert (label == 1) == torch.equal(out, f)


# ---------------------------------------------------------------- spatial


def test_random_crop_is_one_window_for_all_frames() -> None:
    f = _frames()
    t = RandomCrop((3, 4))
    for seed in range(10):
        params = t.make_params(f, _gen(seed))
        out = t(f, generator=_gen(seed))
        top, left = params["top"], params["left"]
        assert 0 <= top <= 2 and 0 <= left <= 3
        assert torch.equal(out, f[..., top : top + 3, left : left + 4])


def test_random_crop_with_padding_hand_computed() -> None:
    f = torch.ones(1, 1, 2, 2)
    t = RandomCrop(2, padding=1)
    tops_lefts = set()
    for seed in range(40):
        p = t.make_params(f, _gen(seed))
        tops_lefts.add((p["top"], p["left"]))
        out = t.transform(f, p)
        padded = torch.zeros(1, 1, 4, 4)
        padded[..., 1:3, 1:3] = 1
        assert torch.equal(out, padded[..., p["top"] : p["top"] + 2, p["left"] : p["left"] + 2])
    assert tops_lefts == {(a, b) for a in range(3) for b in range(3)}
    with pytest.raises(ConfigError, match="larger than"):
        RandomCrop(5)(f)


def test_center_crop() -> None:
    f = _frames(1, 1, 5, 7)
    assert torch.equal(CenterCrop((3, 3))(f), f[..., 1:4, 2:5])


def test_translate_hand_computed() -> None:
    f = torch.arange(1, 10, dtype=torch.float32).reshape(1, 1, 3, 3)
    assert F.translate(f, 1, 0)[0, 0].tolist() == [[0, 0, 0], [1, 2, 3], [4, 5, 6]]
    assert F.translate(f, 0, -1)[0, 0].tolist() == [[2, 3, 0], [5, 6, 0], [8, 9, 0]]
    assert F.translate(f.numpy(), -1, 1)[0, 0].tolist() == [[0, 4, 5], [0, 7, 8], [0, 0, 0]]
    assert F.translate(f, 3, 0).sum() == 0
    t = RandomTranslate(2)
    for seed in range(10):
        p = t.make_params(f, _gen(seed))
        assert -2 <= p["dx"] <= 2 and -2 <= p["dy"] <= 2
        assert torch.equal(t(f, generator=_gen(seed)), F.translate(f, p["dy"], p["dx"]))


# ---------------------------------------------------------------- temporal


def test_random_temporal_delete_keeps_sorted_subset() -> None:
    f = _frames(8, 1, 1, 1)
    t = RandomTemporalDelete(5)
    kept_sets = set()
    for seed in range(30):
        out = t(f, generator=_gen(seed))
        kept = out.flatten().long().tolist()
        assert len(kept) == 5 and kept == sorted(set(kept)) and set(kept) <= set(range(8))
        kept_sets.add(tuple(kept))
    assert len(kept_sets) > 10
    assert torch.equal(RandomTemporalDelete(10)(f), f)
    assert RandomTemporalDelete(3)(f.numpy()).shape == (3, 1, 1, 1)


def test_random_temporal_crop_is_contiguous() -> None:
    f = _frames(8, 1, 1, 1)
    starts = set()
    for seed in range(30):
        kept = RandomTemporalCrop(3)(f, generator=_gen(seed)).flatten().long().tolist()
        assert kept == list(range(kept[0], kept[0] + 3))
        starts.add(kept[0])
    assert starts == set(range(6))
    assert torch.equal(RandomTemporalCrop(9)(f), f)


def test_temporal_downsample_hand_computed() -> None:
    f = torch.tensor([1, 2, 3, 4, 5], dtype=torch.float32).reshape(5, 1, 1, 1)
    assert TemporalDownsample(2)(f).flatten().tolist() == [3, 7, 5]
    assert TemporalDownsample(2, drop_incomplete=True)(f).flatten().tolist() == [3, 7]
    assert TemporalDownsample(2, mode="stride")(f).flatten().tolist() == [1, 3, 5]
    assert TemporalDownsample(2, mode="stride", drop_incomplete=True)(f).flatten().tolist() == [1, 3]
    assert TemporalDownsample(5)(f).flatten().tolist() == [15]
    u8 = np.full((4, 1, 1, 1), 200, dtype=np.uint8)
    out = TemporalDownsample(4)(u8)
    assert out.flatten().tolist() == [800]  # summed in a wider integer type, no overflow
    assert TemporalDownsample(4)(torch.from_numpy(u8)).flatten().tolist() == [800]
    assert TemporalDownsample(3)(np.zeros((0, 2, 1, 1))).shape == (0, 2, 1, 1)


def test_same_seed_same_result_and_draws_vary() -> None:
    f = _frames()
    t = Compose([RandomHorizontalFlip(), RandomCrop(4, padding=2), RandomTemporalDelete(4)])
    a, b = t(f, generator=_gen(7)), t(f, generator=_gen(7))
    assert torch.equal(a, b)
    torch.manual_seed(0)
    outs = {tuple(t(f).flatten().tolist()) for _ in range(8)}
    assert len(outs) > 1


def test_compose_threads_the_target_and_accepts_callables() -> None:
    t = Compose([RandomHorizontalFlip(p=1.0, label_map={0: 1}), lambda x: x * 2, ToTensor(torch.float64)])
    out, label = t(np.ones((1, 1, 2, 2), dtype=np.uint8), 0)
    assert label == 1 and out.dtype == torch.float64 and out.sum() == 8


def test_transforms_are_frozen_picklable_and_hashable() -> None:
    t = RandomHorizontalFlip(p=0.3, label_map={1: 2, 2: 1}, sensor_size=(4, 4, 2))
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.p = 1.0  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(t)) == t
    assert hash(t) == hash(RandomHorizontalFlip(p=0.3, label_map={2: 1, 1: 2}, sensor_size=SensorSize(4, 4, 2)))
    assert pickle.loads(pickle.dumps(Compose([RandomCrop(2), TemporalDownsample(2)]))).transforms[1].factor == 2


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: RandomHorizontalFlip(p=1.5), "p in the inclusive range"),
        (lambda: RandomCrop(0), r"size\[0\]"),
        (lambda: RandomCrop((2, 2, 2)), "height, width"),
        (lambda: RandomTemporalDelete(0), "T_remain"),
        (lambda: TemporalDownsample(2, mode="mean"), "Valid values are"),
        (lambda: RandomTranslate(-1), "max_dx >= 0"),
    ],
)
def test_bad_arguments_are_named(make, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=match):
        make()


def test_frame_transforms_reject_events() -> None:
    ev = make_events(t=[0], x=[0], y=[0], p=[0])
    with pytest.raises(ConfigError, match="ToFrames"):
        RandomCrop(1)(ev)
    with pytest.raises(TypeError, match="at most one target"):
        RandomCrop(1)(_frames(), 1, 2)


# ---------------------------------------------------------------- tonic's event transforms on our events


@pytest.fixture
def events() -> np.ndarray:
    rng = np.random.default_rng(0)
    n = 2000
    t = np.sort(rng.integers(0, 100_000, n))
    return make_events(t=t, x=rng.integers(0, 32, n), y=rng.integers(0, 24, n), p=rng.integers(0, 2, n))


def test_tonic_flip_matches_ours(events: np.ndarray) -> None:
    tonic = pytest.importorskip("tonic")
    theirs = tonic.transforms.RandomFlipLR(sensor_size=(32, 24, 2), p=1.0)(events)
    ours = RandomHorizontalFlip(p=1.0, sensor_size=(32, 24, 2))(events)
    assert theirs.dtype == EVENT_DTYPE
    assert np.array_equal(theirs, ours)


def test_tonic_drop_event_and_jitters(events: np.ndarray) -> None:
    tonic = pytest.importorskip("tonic")
    np.random.seed(0)
    dropped = tonic.transforms.DropEvent(p=0.25)(events)
    assert dropped.dtype == EVENT_DTYPE and len(dropped) == len(events) - 500
    assert np.isin(dropped, events).all()
    validate_events(dropped, (32, 24, 2))

    jittered = tonic.transforms.SpatialJitter(sensor_size=(32, 24, 2), var_x=2, var_y=2, clip_outliers=True)(events)
    assert jittered.dtype == EVENT_DTYPE and 0 < len(jittered) <= len(events)
    check_in_sensor(jittered, (32, 24, 2))

    shifted = tonic.transforms.TimeJitter(std=100, clip_negative=True, sort_timestamps=True)(events)
    assert shifted.dtype == EVENT_DTYPE
    validate_events(shifted, (32, 24, 2))
    assert np.abs(np.sort(shifted["t"]) - shifted["t"]).max() == 0


def test_tonic_denoise_drops_isolated_events() -> None:
    tonic = pytest.importorskip("tonic")
    ev = make_events(
        t=[10_000, 10_010, 10_020, 15_000, 110_000],
        x=[5, 6, 5, 20, 2],
        y=[5, 5, 6, 20, 2],
        p=[1, 1, 0, 1, 0],
    )
    out = tonic.transforms.Denoise(filter_time=1000)(ev)
    assert out.dtype == EVENT_DTYPE
    # the first event has no earlier neighbour; the next two are supported by it; the last two are isolated
    # (tonic treats times below filter_time as supported, hence the offset)
    assert out["t"].tolist() == [10_010, 10_020]


def test_tonic_compose_with_ours(events: np.ndarray) -> None:
    tonic = pytest.importorskip("tonic")
    t = tonic.transforms.Compose(
        [tonic.transforms.RefractoryPeriod(delta=1000), RandomHorizontalFlip(p=1.0, sensor_size=(32, 24, 2))]
    )
    out = t(events)
    assert out.dtype == EVENT_DTYPE and 0 < len(out) < len(events)
    validate_events(out, (32, 24, 2))
