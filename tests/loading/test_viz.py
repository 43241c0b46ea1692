"""Pictures are decoded back (PIL) and checked: frame count, size, colours, titles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageSequence

from eventpipe.errors import ConfigError
from eventpipe.events import make_events
from eventpipe.viz import (
    LEVELS,
    OFF_COLOUR,
    ON_COLOUR,
    frames_to_rgb,
    render_sample,
    save_events_scatter,
    save_frames_gif,
    save_frames_grid,
)

LINE = 11 + 3  # one line of the GIF title band


def _frames() -> np.ndarray:
    f = np.zeros((3, 2, 4, 5), dtype=np.uint16)
    f[0, 1, 1, 1] = 4  # ON
    f[0, 0, 2, 3] = 4  # OFF
    f[1, :, 0, 0] = 4  # both
    f[2, 1, 3, 4] = 2  # half-bright ON
    return f


def _mix(on: float, off: float) -> tuple[int, ...]:
    return tuple(int(np.clip(round(on * a + off * b), 0, 255)) for a, b in zip(ON_COLOUR, OFF_COLOUR, strict=True))


def test_frames_to_rgb_colours() -> None:
    rgb = frames_to_rgb(torch.from_numpy(_frames().astype(np.float32)))
    assert rgb.shape == (3, 4, 5, 3) and rgb.dtype == np.uint8
    assert tuple(rgb[0, 1, 1]) == ON_COLOUR
    assert tuple(rgb[0, 2, 3]) == OFF_COLOUR
    assert tuple(rgb[1, 0, 0]) == _mix(1, 1)
    assert tuple(rgb[2, 3, 4]) == _mix(7 / (LEVELS - 1), 0)
    assert tuple(rgb[0, 0, 0]) == (0, 0, 0)
    # an explicit vmax saturates the half-bright pixel too
    assert tuple(frames_to_rgb(_frames(), vmax=2)[2, 3, 4]) == ON_COLOUR


def test_gif_frames_size_colours_and_title(tmp_path: Path) -> None:
    path = save_frames_gif(_frames(), tmp_path / "s.gif", title="demo test[0] label 1", fps=5)
    with Image.open(path) as im:
        assert im.format == "GIF" and im.n_frames == 3
        s = 8  # 320 px target, capped at 8x for a 5-pixel-wide sensor
        BAND = im.size[1] - 4 * s
        # the title wraps to the 40-pixel width ("demo", "test[0]", "label 1"), then "frame i/3" and the key
        assert im.size == (5 * s, 5 * LINE + 4 + 4 * s)
        assert im.info["duration"] == 200
        decoded = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]
    body = [d[BAND:] for d in decoded]
    assert tuple(body[0][1 * s + 3, 1 * s + 3]) == ON_COLOUR
    assert tuple(body[0][2 * s, 3 * s + s - 1]) == OFF_COLOUR
    assert tuple(body[1][0, 0]) == _mix(1, 1)
    assert tuple(body[2][3 * s + 1, 4 * s + 1]) == _mix(7 / (LEVELS - 1), 0)
    for d in decoded:
        header = d[:BAND]
        assert (header == 255).all(axis=-1).sum() > 20  # white title text
        assert set(map(tuple, header.reshape(-1, 3))) <= {(0, 0, 0), (255, 255, 255), ON_COLOUR, OFF_COLOUR}
        assert ON_COLOUR in set(map(tuple, header.reshape(-1, 3)))  # the colour key
    # the frame counters differ, so the three headers differ
    assert not np.array_equal(decoded[0][:BAND], decoded[1][:BAND])


def test_gif_of_1d_sensor_is_one_raster(tmp_path: Path) -> None:
    f = np.zeros((6, 1, 1, 700), dtype=np.uint8)
    f[2, 0, 0, 10] = 3
    path = save_frames_gif(f, tmp_path / "shd.gif", scale=1)
    BAND = 3 * LINE + 4  # empty title, "frame 1/1", the key
    with Image.open(path) as im:
        assert im.n_frames == 1 and im.size == (700, BAND + 6)
        rgb = np.asarray(im.convert("RGB"))
    assert tuple(rgb[BAND + 2, 10]) == ON_COLOUR


def test_png_grid_has_panels_in_both_colours(tmp_path: Path) -> None:
    path = save_frames_grid(_frames(), tmp_path / "grid.png", title="label 3")
    with Image.open(path) as im:
        assert im.format == "PNG"
        w, h = im.size
        rgb = np.asarray(im.convert("RGB")).reshape(-1, 3)
    assert w == 3 * 160 and h == round((1 * 1.6 * 4 / 5 + 0.6) * 100)  # one row of three panels
    colours = set(map(tuple, rgb))
    assert ON_COLOUR in colours and OFF_COLOUR in colours and (0, 0, 0) in colours


def test_events_scatter_and_montage(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 500
    ev = make_events(t=np.sort(rng.integers(0, 50_000, n)), x=rng.integers(0, 16, n), y=rng.integers(0, 12, n), p=rng.integers(0, 2, n))
    path = save_events_scatter(ev, tmp_path / "ev.png", (16, 12, 2), title="events", max_points=200)
    with Image.open(path) as im:
        assert im.size == (700, 600)
        colours = np.asarray(im.convert("RGB")).reshape(-1, 3).astype(int)
    near = lambda c: (np.abs(colours - np.array(c)).sum(1) < 30).sum()  # noqa: E731
    assert near(ON_COLOUR) > 0 and near(OFF_COLOUR) > 0
    pytest.importorskip("eventpipe.frames", reason="needs eventpipe.frames.integrate")
    gif = render_sample(ev, tmp_path / "ev.gif", sensor_size=(16, 12, 2), title="x", bins=4)
    with Image.open(gif) as im:
        assert im.n_frames == 4


def test_render_sample_dispatch_and_errors(tmp_path: Path) -> None:
    f = _frames()
    with Image.open(render_sample(f, tmp_path / "a.gif", sensor_size=(5, 4, 2))) as im:
        assert im.n_frames == 3
    with Image.open(render_sample(f, tmp_path / "a.png", sensor_size=(5, 4, 2))) as im:
        assert im.format == "PNG"
    with pytest.raises(ConfigError, match="Valid suffixes"):
        render_sample(f, tmp_path / "a.jpg", sensor_size=(5, 4, 2))
    with pytest.raises(ConfigError, match="P in"):
        frames_to_rgb(np.zeros((2, 3, 4, 4)))
    ev = make_events(t=[0], x=[0], y=[0], p=[1])
    with pytest.raises(ConfigError, match=r"\.png"):
        render_sample(ev, tmp_path / "e.gif", sensor_size=(5, 4, 2), events_view="scatter")
