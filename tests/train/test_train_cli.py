"""What ``eventpipe train`` tells the user at the end of a run, and its progress output in logs."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from typer.testing import CliRunner

from eventpipe.cli.commands.train import _summary_line
from eventpipe.cli.main import app
from eventpipe.train.loop import train

from .train_toy import bundle, config, tiny_net


def test_resuming_a_finished_run_prints_its_summary(tmp_path: Path) -> None:
    run = tmp_path / "run"
    done = train(config(str(run)), data=bundle(), model=tiny_net(), progress=False, log=lambda _m: None)
    result = CliRunner().invoke(app, ["train", "--resume", str(run)])  # no data is needed for that
    assert result.exit_code == 0, result.output
    assert not any(line.startswith("resuming") for line in result.output.splitlines())
    assert " 0.0 samples/s" not in result.output
    assert f"{run} is already complete (3 epochs): best test accuracy {done.best_accuracy:.4f} " \
           f"(epoch {done.best_epoch})" in result.output
    assert f"final {done.final_accuracy:.4f} (top-5 {done.final_top5_accuracy:.4f})" in result.output
    nb = done.neurobench
    assert (f"NeuroBench (test, final epoch): activation sparsity {nb['activation_sparsity']:.4f}; synaptic "
            f"operations per sample: dense {nb['synaptic_operations']['dense']:.4g}") in result.output
    assert f"footprint {nb['footprint_bytes']:,} bytes" in result.output
    as_json = CliRunner().invoke(app, ["train", "--resume", str(run), "--json"])
    summary = json.loads(as_json.stdout)
    assert summary["final_top5_accuracy"] == done.final_top5_accuracy
    assert summary["neurobench"] == nb and "history" not in summary


def test_stop_in_the_first_epoch_says_no_epoch_completed(tmp_path: Path) -> None:
    model = tiny_net()
    calls = {"n": 0}

    def interrupt(module, inputs, output):
        calls["n"] += 1
        if calls["n"] == 3:
            os.kill(os.getpid(), signal.SIGINT)

    model.register_forward_hook(interrupt)
    r = train(config(str(tmp_path / "run")), data=bundle(), model=model, progress=False, log=lambda _m: None)
    assert r.interrupted and r.epochs == 0 and not r.history
    line = _summary_line(r)
    assert line.startswith("stopped before the first epoch completed (no test accuracy yet)")
    assert "epoch 0" not in line and f"--resume {tmp_path / 'run'}" in line
