"""``eventpipe bench train``: full training steps of the DVS Gesture net, reported as samples/s."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from eventpipe.bench.train import bench_train
from eventpipe.cli.main import app


def test_bench_library_small() -> None:
    result = bench_train(channels=4, frames=2, batch=2, size=32, steps=1, warmup=0, device="cpu")
    assert result["model"] == "DVSGestureNet" and result["frames"] == 2
    (row,) = result["rows"]
    assert row["device"] == "cpu" and row["backend"] == "torch" and row["amp"] is False
    assert row["samples_per_s"] > 0 and row["step_ms"] > 0
    assert abs(row["samples_per_s"] * row["step_ms"] / 1000 - 2) < 1e-6


def test_bench_cli_json_and_table() -> None:
    runner = CliRunner()
    args = ["bench", "train", "--channels", "4", "-T", "2", "-b", "2", "--size", "32", "--steps", "1",
            "--warmup", "0", "--device", "cpu"]
    out = runner.invoke(app, [*args, "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["rows"][0]["samples_per_s"] > 0
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.output
    assert "samples_per_s" in out.stdout and "DVSGestureNet(channels=4)" in out.stdout
