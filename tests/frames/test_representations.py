"""The float representations: equal to tonic's functional code on the same events, and to hand-computed
cases; their spec options, names and errors; the float16/float32 rule."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tonic.functional as tf
import torch

from eventpipe.cli.integration import spec_from_options
from eventpipe.errors import ConfigError
from eventpipe.events import SensorSize, make_events
from eventpipe.frames import IntegrationSpec, integrate, integration_spec
from eventpipe.frames.accumulate import float_frames
from eventpipe.train.config import load_config
from eventpipe.transforms import ToFrames
from eventpipe.viz import DIVERGING, SEQUENTIAL, render_sample

SIZE = SensorSize(20, 15, 2)


def _random(seed: int, n: int = 3000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return make_events(t=np.sort(rng.integers(0, 200_000, n)), x=rng.integers(0, SIZE.width, n),
                       y=rng.integers(0, SIZE.height, n), p=rng.integers(0, 2, n))


def _tonic(events: np.ndarray) -> np.ndarray:
    """The same events in tonic's structured dtype (a fresh copy: tonic edits ``p`` in place)."""
    out = np.zeros(len(events), dtype=[("x", np.int64), ("y", np.int64), ("t", np.int64), ("p", np.int64)])
    for k in "xytp":
        out[k] = events[k]
    return out


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("bins", [1, 7])
def test_voxel_grid_is_tonics_bit_for_bit(seed: int, bins: int) -> None:
    ev = _random(seed)
    ours = integrate(ev, SIZE, voxel_grid=bins, frames_dtype="float32")
    expected = tf.to_voxel_grid_numpy(_tonic(ev), tuple(SIZE), bins)
    assert ours.shape == (bins, 1, SIZE.height, SIZE.width) and ours.dtype == np.float32
    np.testing.assert_array_equal(ours, expected.astype(np.float32))


@pytest.mark.parametrize(("overlap", "incomplete"), [(0, False), (3000, True)])
def test_time_surface_is_tonics(overlap: int, incomplete: bool) -> None:
    ev = _random(2)
    ours = integrate(ev, SIZE, time_surface=10_000, tau=4000, overlap=overlap, include_incomplete=incomplete,
                     frames_dtype="float32")
    expected = tf.to_timesurface_numpy(_tonic(ev), tuple(SIZE), 10_000, 4000, overlap=overlap,
                                       include_incomplete=incomplete)
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=0)


def test_event_image_is_tonics_to_image() -> None:
    ev = _random(3)
    ours = integrate(ev, SIZE, event_image=True)
    np.testing.assert_array_equal(ours, tf.to_frame_numpy(_tonic(ev), tuple(SIZE), event_count=len(ev)))
    assert integrate(ev[:0], SIZE, event_image=True).shape == (1, *SIZE.frame_shape(0)[1:])


@pytest.mark.parametrize(("frames", "bits"), [(1, 8), (3, 4)])
def test_bina_rep_is_tonics(frames: int, bits: int) -> None:
    ev = _random(4)
    ours = integrate(ev, SIZE, bina_rep=frames, n_bits=bits, frames_dtype="float32")
    counts = tf.to_frame_numpy(_tonic(ev), tuple(SIZE), n_time_bins=frames * bits)
    np.testing.assert_array_equal(ours, tf.to_bina_rep_numpy(counts, frames, bits))


def test_exp_decay_equals_its_definition() -> None:
    ev = _random(5, 500)
    window, overlap, tau = 20_000, 5000, 7000
    ours = integrate(ev, SIZE, exp_decay=window, overlap=overlap, tau=tau, frames_dtype="float32")
    t0, stride = int(ev["t"][0]), window - overlap
    expected = np.zeros_like(ours, dtype=np.float64)
    for f in range(len(ours)):
        begin = t0 + f * stride
        for e in ev[(ev["t"] >= begin) & (ev["t"] < begin + window)]:
            expected[f, int(e["p"]), e["y"], e["x"]] += math.exp(-(begin + window - int(e["t"])) / tau)
    np.testing.assert_allclose(ours, expected, rtol=1e-6)


# Hand-computed cases on a 2 x 1 sensor: x = 0 or 1, y = 0.
TINY = SensorSize(2, 1, 2)


def test_voxel_grid_by_hand() -> None:
    ev = make_events(t=[0, 3, 4], x=[0, 1, 0], y=[0, 0, 0], p=[1, 0, 1])
    # ts = 2 t / 4 = 0, 1.5, 2: +1 in bin 0; -0.5 in bin 1 (its right half falls past the last bin); nothing
    got = integrate(ev, TINY, voxel_grid=2)
    assert got.tolist() == [[[[1.0, 0.0]]], [[[0.0, -0.5]]]]
    assert integrate(ev[:1], TINY, voxel_grid=2).tolist() == [[[[1.0, 0.0]]], [[[0.0, 0.0]]]]  # zero span: bin 0
    assert not integrate(ev[:0], TINY, voxel_grid=2).any()
    assert integrate(ev, (2, 1, 1), voxel_grid=2).tolist() == [[[[1.0, 0.0]]], [[[0.0, 0.5]]]]  # one polarity: +1


def test_time_surface_and_exp_decay_by_hand() -> None:
    ev = make_events(t=[0, 4, 12], x=[0, 1, 0], y=[0, 0, 0], p=[1, 1, 0])
    e = math.exp
    surfaces = integrate(ev, TINY, time_surface=10, tau=5, include_incomplete=True, frames_dtype="float32")
    expected = [[[[0, 0]], [[e(-10 / 5), e(-6 / 5)]]],  # after [0, 10): reference time 10
                [[[e(-8 / 5), 0]], [[e(-20 / 5), e(-16 / 5)]]]]  # after [10, 20): reference time 20
    np.testing.assert_allclose(surfaces, expected, rtol=1e-6)
    decayed = integrate(ev, TINY, exp_decay=10, tau=5, include_incomplete=True, frames_dtype="float32")
    expected = [[[[0, 0]], [[e(-10 / 5), e(-6 / 5)]]], [[[e(-8 / 5), 0]], [[0, 0]]]]
    np.testing.assert_allclose(decayed, expected, rtol=1e-6)


def test_event_image_and_bina_rep_by_hand() -> None:
    ev = make_events(t=[0, 5, 12, 20], x=[0, 1, 1, 0], y=[0, 0, 0, 0], p=[1, 1, 1, 0])
    assert integrate(ev, TINY, event_image=True).tolist() == [[[[1, 0]], [[1, 2]]]]
    # two bins of 10 µs: [0, 10) has x = 0 and 1 (ON), [10, 20) has x = 1; t = 20 falls past the last bin
    got = integrate(ev, TINY, bina_rep=1, n_bits=2, frames_dtype="float32")
    np.testing.assert_array_equal(got, np.array([[[[0, 0]], [[2 / 3, 1]]]], np.float32))


def test_float16_rule() -> None:
    assert float_frames(np.array([0.0, 0.5, 1 / 3, -2.25])).dtype == np.float16  # within float16's roundoff
    assert float_frames(np.array([0.5, 1e-6])).dtype == np.float32  # a subnormal in float16 loses precision
    assert float_frames(np.array([70_000.0])).dtype == np.float32  # past float16's range
    assert float_frames(np.array([0.1]), "float32").dtype == np.float32
    with pytest.raises(ConfigError, match="exceed float16"):
        float_frames(np.array([70_000.0]), "float16")


CASES: list[tuple[dict[str, Any], str, list[str]]] = [
    ({"voxel_grid": 5}, "voxel_grid_5", ["--voxel-grid", "5"]),
    ({"time_surface": "10ms", "tau": "5ms", "frames_dtype": "float32"}, "time_surface_10000us_tau_5000us_float32",
     ["--time-surface", "10ms", "--tau", "5ms", "--frames-dtype", "float32"]),
    ({"event_image": True}, "event_image", ["--event-image"]),
    ({"bina_rep": 2, "n_bits": 4}, "bina_rep_2_bits_4", ["--bina-rep", "2", "--n-bits", "4"]),
    ({"exp_decay": "20ms", "tau": "5ms", "overlap": 1000, "include_incomplete": True},
     "exp_decay_20000us_tau_5000us_overlap_1000us_include_incomplete",
     ["--exp-decay", "20ms", "--overlap", "1000", "--include-incomplete", "--tau", "5ms"]),
]


@pytest.mark.parametrize(("options", "name", "cli"), CASES, ids=[c[1] for c in CASES])
def test_every_surface_builds_the_same_spec(options: dict[str, Any], name: str, cli: list[str], tmp_path: Path) -> None:
    spec = integration_spec(options, required=True)
    assert spec.name == name and spec.command_line() == cli
    assert IntegrationSpec.from_dict(spec.to_dict()) == spec
    flags = {k.replace("duration_us", "duration"): v for k, v in options.items()}
    assert spec_from_options(flags) == spec
    data = "\n".join(f"{k} = {json.dumps(v)}" for k, v in options.items())
    toml = tmp_path / "p.toml"
    toml.write_text(f'[data]\ndataset = "demo"\nroot = "{tmp_path}"\n{data}\n\n[model]\nname = "DVSGestureNet"\n')
    assert load_config(toml).data.integration == spec
    x = ToFrames(SIZE, **options)(_random(6, 400))
    assert x.dtype == torch.float32 and tuple(x.shape[1:]) == tuple(spec.frame_size(SIZE).frame_shape(0)[1:])


@pytest.mark.parametrize(
    ("options", "pattern"),
    [
        ({"time_surface": 1000}, "time_surface needs tau"),
        ({"frames": 4, "tau": 5}, "tau applies only with time_surface or exp_decay; got it with frames"),
        ({"frames": 4, "frames_dtype": "float16"}, "frames_dtype applies only with fn or voxel_grid"),
        ({"voxel_grid": 4, "frames_dtype": "float64"}, "Unknown value 'float64' for argument frames_dtype"),
        ({"bina_rep": 2, "n_bits": 1}, r"Expected n_bits in \[2, 24\]"),
        ({"event_image": 3}, "Expected event_image as True"),
        ({"exp_decay": 100, "tau": 5, "overlap": 100}, r"Expected overlap in \[0, exp_decay\)"),
    ],
)
def test_bad_options_are_named(options: dict[str, Any], pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern):
        integration_spec(options)


@pytest.mark.parametrize(("options", "cmap"), [({"voxel_grid": 3}, DIVERGING),
                                               ({"time_surface": 50_000, "tau": 5000}, SEQUENTIAL)])
def test_float_frames_are_drawn_with_a_colour_scale(tmp_path: Path, options: dict[str, Any], cmap: str) -> None:
    from matplotlib import colormaps
    from PIL import Image

    frames = integrate(_random(7, 800), SIZE, **options)
    gif = render_sample(frames, tmp_path / "x.gif", sensor_size=SIZE, title="t", values=True)
    with Image.open(gif) as im:
        assert im.n_frames == len(frames)
        palette = np.array(im.getpalette()[:6]).reshape(2, 3)
    np.testing.assert_allclose(palette, np.rint(colormaps[cmap]([0.0, 1 / 223])[:, :3] * 255), atol=1)
    assert render_sample(frames, tmp_path / "x.png", sensor_size=SIZE).stat().st_size > 0
