"""Progress output: one line per training or test pass when stderr is not a terminal (a log, CI)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from eventpipe.train.loop import train

from .train_toy import bundle, config, tiny_net


def test_progress_is_one_line_per_pass_when_stderr_is_not_a_terminal(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    train(config(str(tmp_path / "run"), **{"train.epochs": 2}), data=bundle(), model=tiny_net(), progress=True,
          log=lambda _m: None)
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = err.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "epoch 1/2 train", "epoch 1/2 test", "epoch 2/2 train", "epoch 2/2 test"]
    assert lines[0].startswith("epoch 1/2 train: 96/96 samples in ") and ", loss " in lines[0]
    assert lines[1].startswith("epoch 1/2 test: 48/48 samples in ")


def test_no_progress_leaves_no_thread_behind(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    train(config(str(tmp_path / "run"), **{"train.epochs": 1}), data=bundle(), model=tiny_net(), progress=False,
          log=lambda _m: None)
    assert set(threading.enumerate()) <= before
