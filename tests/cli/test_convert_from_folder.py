"""``eventpipe convert --from DIR --name NAME``, then the user dataset everywhere a dataset name goes:
prepare, info, show, the dataset class and a one-epoch ``train`` with a pipeline naming it.

The recordings are written byte by byte by the project's writers, in three formats in one folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from eventpipe.cli.main import app
from eventpipe.datasets import NeuromorphicDataset, dataset_class
from eventpipe.errors import ConfigError, DataNotFoundError, FormatError
from eventpipe.events import EVENT_DTYPE
from eventpipe.readers.aedat2 import write_aedat2
from eventpipe.readers.aedat3 import write_aedat3

PIPELINE = """\
name = "mine-tiny"
[data]
dataset = "mine"
frames = 4
split_by = "number"
batch_size = 4
workers = 0
[model]
name = "DVSGestureNet"
channels = 4
blocks = 2
hidden = 16
dropout = 0.0
[optimizer]
name = "adam"
lr = 0.01
[train]
epochs = 1
device = "cpu"
plots = false
"""


def recordings(folder: Path) -> None:
    """Three classes of eight recordings each: AEDAT 2.0, AEDAT 3.1 and NumPy, on a 32x24 sensor."""
    for c, name in enumerate(("left", "right", "still")):
        for i in range(8):
            rng = np.random.default_rng(100 * c + i)
            ev = np.zeros(400, dtype=EVENT_DTYPE)
            ev["t"] = np.cumsum(rng.integers(1, 100, len(ev)))
            ev["x"] = rng.integers(0, 31, len(ev)) if name == "still" else (ev["t"] // 1300 + 10 * c) % 31
            ev["y"] = rng.integers(0, 23, len(ev))
            ev["p"] = rng.integers(0, 2, len(ev))
            ev["x"][-1], ev["y"][-1] = 31, 23
            path = folder / name / f"take{i}"
            path.parent.mkdir(parents=True, exist_ok=True)
            if i % 3 == 0:
                write_aedat2(path.with_suffix(".aedat"), ev)
            elif i % 3 == 1:
                write_aedat3(path.with_suffix(".aedat3"), ev, width=32, height=24)
            else:
                np.save(path.with_suffix(".npy"), ev)


def invoke(*args: str) -> dict:
    result = CliRunner().invoke(app, ["-q", *args, *(["--workers", "1"] if args[0] in ("convert", "prepare") else [])])
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def fails(*args: str) -> BaseException:
    result = CliRunner().invoke(app, ["-q", *args, "--workers", "1"])
    assert result.exit_code != 0 and result.exception is not None
    return result.exception


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_from_a_folder_to_a_trained_network(tmp_path: Path) -> None:
    recs, root = tmp_path / "recs", str(tmp_path / "root")
    recordings(recs)
    made = invoke("convert", "--from", str(recs), "--name", "mine", "--sensor", "32x24", "--root", root, "--json")
    assert made["status"] == "converted" and made["definition"]["status"] == "created"
    assert made["num_samples"] == {"train": 18, "test": 6}
    again = invoke("convert", "mine", "--from", str(recs), "--sensor", "32x24", "--root", root, "--json")
    assert (again["status"], again["definition"]["status"]) == ("up-to-date", "unchanged")

    prepared = invoke("prepare", "mine", "--frames", "4", "--root", root, "--json")
    assert prepared["num_samples"] == {"train": 18, "test": 6}
    info = invoke("info", "mine", "--root", root, "--json")
    assert info["dataset"] == "mine" and info["sensor"] == [32, 24, 2]
    result = CliRunner().invoke(app, ["-q", "show", "mine", "--out", str(tmp_path / "s.png"), "--frames", "4", "--root", root])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "s.png").stat().st_size > 0

    assert dataset_class("mine", root) is NeuromorphicDataset
    ds = NeuromorphicDataset(root, "test", dataset="mine", frames=4)
    x, y = ds[0]
    assert tuple(x.shape) == (4, 2, 24, 32) and ds.classes == ("left", "right", "still") and 0 <= y < 3

    pipeline = tmp_path / "mine.toml"
    pipeline.write_text(PIPELINE)
    run = invoke("train", "--pipeline", str(pipeline), "--root", root, "--output", str(tmp_path / "run"), "--json")
    assert run["epochs"] == 1 and 0.0 <= run["final_accuracy"] <= 1.0


def test_bad_inputs_are_one_line_errors(tmp_path: Path) -> None:
    root = str(tmp_path / "root")
    (tmp_path / "empty").mkdir()
    error = fails("convert", "--from", str(tmp_path / "empty"), "--name", "mine", "--root", root)
    assert isinstance(error, DataNotFoundError) and "no recordings found" in str(error)
    recordings(tmp_path / "recs")
    error = fails("convert", "--from", str(tmp_path / "recs"), "--name", "nmnist", "--root", root)
    assert isinstance(error, ConfigError) and "pick another name" in str(error)
    error = fails("convert", "--from", str(tmp_path / "recs"), "--root", root)
    assert isinstance(error, ConfigError) and "--from DIR --name NAME" in str(error)
    error = fails("convert", "mine", "--labels", str(tmp_path / "l.csv"), "--root", root)
    assert isinstance(error, ConfigError) and "use it with --from DIR --name NAME" in str(error)
    error = fails("convert", "--from", str(tmp_path / "recs"), "--name", "mine", "--sensor", "big", "--root", root)
    assert isinstance(error, ConfigError) and "WIDTHxHEIGHT" in str(error)
    (tmp_path / "recs" / "left" / "take9.aedat").write_bytes(b"#!AER-DAT2.0\r\n\x00\x00")
    error = fails("convert", "--from", str(tmp_path / "recs"), "--name", "mine", "--root", root)
    assert isinstance(error, FormatError) and "take9.aedat" in str(error) and "\n" not in str(error)
    skipped = invoke("convert", "--from", str(tmp_path / "recs"), "--name", "mine", "--root", root,
                     "--on-error", "skip", "--json")
    assert [s["path"] for s in skipped["skipped"]] == ["left/take9.aedat"]
