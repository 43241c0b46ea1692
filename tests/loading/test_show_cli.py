"""``eventpipe show``: the written pictures are decoded and compared with the dataset's sample."""

from __future__ import annotations

import shlex
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageSequence
from typer.testing import CliRunner

from eventpipe.cli.main import app
from eventpipe.datasets import Demo, DVS128Gesture
from eventpipe.errors import ConfigError, DataNotFoundError
from eventpipe.frames import IntegrationSpec
from eventpipe.loading import prepare_command
from eventpipe.viz import frames_to_rgb

runner = CliRunner()


def _show(*args: str) -> None:
    result = runner.invoke(app, ["show", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "wrote" in result.output


def test_frames_gif_shows_the_sample(stores_root: Path, tmp_path: Path) -> None:
    ds = DVS128Gesture(stores_root, split="test", frames=4, prepare=True, workers=1, progress=False)
    out = tmp_path / "s.gif"
    _show("dvs128", "--split", "test", "--index", "2", "--out", str(out), "--frames", "4", "--root", str(stores_root))
    with Image.open(out) as im:
        assert im.n_frames == 4
        s = 3  # 128-pixel sensor enlarged to ~320 pixels
        assert im.size[0] == 128 * s
        band = im.size[1] - 128 * s
        decoded = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]
    expected = frames_to_rgb(ds[2][0])
    for t in range(4):
        body = decoded[t][band:]
        assert np.array_equal(body[::s, ::s], expected[t])
        assert (decoded[t][:band] == 255).all(axis=-1).any()  # title text
    assert decoded[0][:band].tobytes() != decoded[1][:band].tobytes()  # frame counter changes


def test_frames_png_grid(stores_root: Path, tmp_path: Path) -> None:
    ds = Demo(stores_root, split="train", duration_us=100_000, prepare=True, workers=1, progress=False)
    out = tmp_path / "grid.png"
    _show("demo", "--index", "0", "--out", str(out), "--duration", "100ms", "--root", str(stores_root))
    with Image.open(out) as im:
        assert im.format == "PNG"
        colours = set(map(tuple, np.asarray(im.convert("RGB")).reshape(-1, 3).tolist()))
    expected = frames_to_rgb(ds[0][0]).reshape(-1, 3)
    values, counts = np.unique(expected[expected.any(axis=1)], axis=0, return_counts=True)
    for colour in values[np.argsort(counts)[-3:]]:  # the three most common colours of the sample
        assert tuple(colour.tolist()) in colours


def test_events_scatter_and_montage(stores_root: Path, tmp_path: Path) -> None:
    png, gif = tmp_path / "ev.png", tmp_path / "ev.gif"
    _show("nmnist", "--split", "test", "--out", str(png), "--root", str(stores_root))
    _show("nmnist", "--split", "test", "--out", str(gif), "--bins", "5", "--root", str(stores_root))
    with Image.open(png) as im:
        assert im.format == "PNG" and im.size == (700, 600)
    with Image.open(gif) as im:
        assert im.n_frames == 5 and im.size[0] == 34 * 8


def test_errors(stores_root: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["show", "dvs128", "--out", str(tmp_path / "x.gif"), "--frames", "7", "--root", str(tmp_path)])
    assert isinstance(result.exception, DataNotFoundError)
    assert "eventpipe prepare dvs128 --frames 7 --split-by number" in str(result.exception)
    result = runner.invoke(app, ["show", "shd", "--index", "99", "--out", str(tmp_path / "x.png"), "--root", str(stores_root)])
    assert isinstance(result.exception, ConfigError) and "--index" in str(result.exception)


@pytest.mark.parametrize(
    "spec", [IntegrationSpec(frames=3, split_by="time"), IntegrationSpec(duration_us=250_000), IntegrationSpec(events_per_frame=9),
             IntegrationSpec(event_count=50, overlap=10, include_incomplete=True), IntegrationSpec(n_time_bins=3, overlap=0.5)]
)
def test_suggested_prepare_command_parses(spec: IntegrationSpec, tmp_path: Path) -> None:
    command = prepare_command("demo", tmp_path, spec)
    assert command is not None
    argv = shlex.split(command)
    assert argv[:2] == ["eventpipe", "prepare"]
    result = runner.invoke(app, [*argv[1:], "--dry-run"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert spec.name in result.output
