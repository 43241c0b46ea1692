"""The nine kinds of store damage found by hand, made in a built demo dataset: ``eventpipe verify``,
``eventpipe show`` and the torch dataset each stop with one line naming the store, the array and the
chunk (the console entry point prints an EventpipeError as that one line, never a traceback)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from test_store_damage import _delete, _flip, _mutate_frames, _names, _truncate
from typer.testing import CliRunner

from eventpipe.cli.main import app
from eventpipe.datasets import Demo
from eventpipe.errors import EventpipeError, StoreCorruptError
from eventpipe.frames import IntegrationSpec
from eventpipe.pipeline.prepare import prepare

SPEC = IntegrationSpec(frames=4)
EVENTS = "events.zarr"
FRAMES = f"frames/{SPEC.name}.zarr"
X = f"{EVENTS}/parts/train/p00000/x/c/0"
DT = f"{EVENTS}/parts/train/p00000/dt/c/0"
LABELS = f"{EVENTS}/train/labels/c/0"

CASES: list[tuple[str, str, Callable[[Path], None]]] = [
    ("labels chunk deleted", LABELS, _delete),
    ("x chunk deleted", X, _delete),
    ("x chunk byte flipped", X, _flip),
    ("dt chunk byte flipped", DT, _flip),
    ("events chunk truncated", DT, _truncate),
    ("frames block chunk deleted", "FRAMES", _delete),
    ("frames chunk byte flipped", "FRAMES", _flip),
    ("frames chunk truncated", "FRAMES", _truncate),
    ("frames chunk mutated", "FRAMES", _mutate_frames),
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    prepare("demo", root, SPEC, scheduler="synchronous", progress=False)
    return root


def _first_frames_chunk(root: Path) -> str:
    """The chunk holding the first frames of train sample 0."""
    folder = root / "demo" / FRAMES / "blocks" / "train" / "b00000" / "frames" / "c"
    first = min(folder.iterdir(), key=lambda p: int(p.name))
    while first.is_dir():
        first = next(first.iterdir())
    return first.relative_to(root / "demo").as_posix()


def _one_line(result: object) -> str:
    """The message the console entry point prints for the command's exception: one line."""
    exc = getattr(result, "exception", None)
    assert isinstance(exc, EventpipeError), (exc, getattr(result, "output", ""))
    assert "\n" not in str(exc)
    return str(exc)


@pytest.mark.slow
@pytest.mark.parametrize(("case", "chunk", "damage"), CASES, ids=[c[0] for c in CASES])
def test_damage_stops_verify_show_and_the_dataset(
    demo: Path, tmp_path: Path, case: str, chunk: str, damage: Callable[[Path], None],
) -> None:
    root = tmp_path / "root"
    (root / "demo").mkdir(parents=True)
    os.symlink(demo / "demo" / "raw", root / "demo" / "raw")
    for store in (EVENTS, "frames"):
        shutil.copytree(demo / "demo" / store, root / "demo" / store)
    frames = chunk == "FRAMES"
    chunk = _first_frames_chunk(root) if frames else chunk
    damage(root / "demo" / chunk)
    where = _names(chunk)
    runner = CliRunner()

    verified = runner.invoke(app, ["verify", "demo", "--root", str(root)])
    assert verified.exit_code != 0 and where in _one_line(verified), verified.output
    assert f"{where}: " in verified.output and "Traceback" not in verified.output
    quick = runner.invoke(app, ["verify", "demo", "--root", str(root), "--quick"])
    assert (quick.exit_code == 0) == (chunk != LABELS), quick.output  # a labels chunk is read by the index check

    options = ["--frames", "4"] if frames else []
    shown = runner.invoke(app, ["show", "demo", "--root", str(root), "-o", str(tmp_path / "s.png"), *options])
    assert shown.exit_code != 0 and where in _one_line(shown), shown.output
    assert not (tmp_path / "s.png").exists()

    with pytest.raises(StoreCorruptError) as raised:
        data = Demo(root, "train", frames=4) if frames else Demo(root, "train")
        for i in range(len(data)):
            data[i]
    assert where in str(raised.value) and "\n" not in str(raised.value)
