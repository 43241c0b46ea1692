"""``eventpipe bench train``: full training steps of the DVS Gesture net and a spiking ResNet-18, as samples/s."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from eventpipe.bench.train import MODELS, bench_train
from eventpipe.cli.main import app
from eventpipe.errors import UnknownNameError


def test_bench_library_small() -> None:
    result = bench_train(models=("DVSGestureNet",), channels=4, frames=2, batch=2, size=32, steps=1, warmup=0,
                         device="cpu")
    assert result["models"] == ["DVSGestureNet"] and result["frames"] == 2
    (row,) = result["rows"]
    assert row["model"] == "DVSGestureNet(channels=4)" and row["device"] == "cpu" and row["backend"] == "torch"
    assert row["amp"] is False and row["samples_per_s"] > 0 and row["step_ms"] > 0
    assert abs(row["samples_per_s"] * row["step_ms"] / 1000 - 2) < 1e-6


def test_bench_covers_a_spiking_resnet18_by_default() -> None:
    assert MODELS == ("DVSGestureNet", "spiking_resnet18")
    result = bench_train(models=("spiking_resnet18",), frames=2, batch=1, size=32, steps=1, warmup=0, device="cpu")
    (row,) = result["rows"]
    assert row["model"] == "spiking_resnet18" and row["samples_per_s"] > 0


def test_bench_unknown_model_is_named() -> None:
    with pytest.raises(UnknownNameError, match=r"Unknown value 'resnet18' for option --model\. Valid values are "
                                               r"\{.*'spiking_resnet18'.*\}"):
        bench_train(models=("resnet18",), device="cpu")


def test_bench_cli_json_and_table() -> None:
    runner = CliRunner()
    args = ["bench", "train", "--model", "DVSGestureNet", "--channels", "4", "-T", "2", "-b", "2", "--size", "32",
            "--steps", "1", "--warmup", "0", "--device", "cpu"]
    out = runner.invoke(app, [*args, "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["rows"][0]["samples_per_s"] > 0
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.output
    assert "samples_per_s" in out.stdout and "| DVSGestureNet(channels=4) | cpu" in out.stdout
    assert "Training on 2x32x32 event frames, T=2, batch 2, median of 1 steps" in out.stdout
