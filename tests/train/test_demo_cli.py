"""End to end on the built-in demo: ``eventpipe train`` learns, stops, resumes, and ``evaluate`` agrees.

The demo is prepared once per module (synthetic raw files -> events store -> 8-frame store, in
this process) and trained in a smaller configuration than ``pipelines/demo.toml`` so that the test
stays within CI time.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eventpipe.cli.main import app
from eventpipe.frames import IntegrationSpec
from eventpipe.pipeline.prepare import prepare
from eventpipe.train.checkpoint import load_checkpoint
from eventpipe.train.metrics import read_jsonl

SMALL = ["--set", "data.frames=8", "--set", "data.batch_size=8", "--set", "model.channels=8",
         "--set", "model.hidden=64", "--set", "model.dropout=0.0", "--set", "train.plots=false"]
CHANCE = 1 / 11


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo_root")
    prepare("demo", root, IntegrationSpec(frames=8), scheduler="synchronous", progress=False)
    return root


def _invoke(*args: str) -> dict:
    result = CliRunner().invoke(app, ["-q", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_train_learns_stops_resumes_and_evaluates(demo_root: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    first = _invoke("train", "--root", str(demo_root), "--epochs", "4", "--stop-after", "1", "--output", str(run),
                    *SMALL, "--json")
    assert first["epochs"] == 1 and first["output"] == str(run.resolve())
    assert load_checkpoint(run)["epoch"] == 1

    final = _invoke("train", "--resume", str(run), "--json")  # the stored config, no pipeline needed
    assert final["epochs"] == 4 and not final["interrupted"]
    assert final["best_accuracy"] >= 4 * CHANCE, final  # well above chance (0.09)
    history = read_jsonl(run / "metrics.jsonl")
    assert [r["epoch"] for r in history] == [1, 2, 3, 4]
    assert final["final_accuracy"] == history[-1]["test_accuracy"]
    # top-5 and NeuroBench's metrics in every metrics row, the --json summary and evaluate
    assert all(r["test_accuracy"] <= r["test_top5_accuracy"] <= 1.0 for r in history)
    assert final["final_top5_accuracy"] == history[-1]["test_top5_accuracy"]
    assert final["neurobench"] == history[-1]["neurobench"]
    ops = final["neurobench"]["synaptic_operations"]
    assert ops["dense"] > 0 and 0 < ops["effective_acs"] + ops["effective_macs"] < ops["dense"]
    assert final["neurobench"]["footprint_bytes"] > 0

    report = _invoke("evaluate", str(run), "--root", str(demo_root), "--json")
    assert report["accuracy"] == pytest.approx(final["final_accuracy"])
    assert report["top_k"] == 5 and report["top5_accuracy"] == pytest.approx(final["final_top5_accuracy"])
    assert report["neurobench"]["synaptic_operations"] == pytest.approx(ops)
    assert report["neurobench"]["activation_sparsity"] == pytest.approx(final["neurobench"]["activation_sparsity"])
    assert report["neurobench"]["footprint_bytes"] == final["neurobench"]["footprint_bytes"]
    assert report["samples"] == 68 and len(report["confusion"]) == 11
    assert sum(map(sum, report["confusion"])) == 68
    best = _invoke("evaluate", str(run / "checkpoints" / "best.pt"), "--root", str(demo_root), "--json")
    assert best["accuracy"] == pytest.approx(final["best_accuracy"])
    text = CliRunner().invoke(app, ["-q", "evaluate", str(run), "--root", str(demo_root)]).output
    assert f"top-5 accuracy {report['top5_accuracy']:.4f}" in text
    assert f"NeuroBench: activation sparsity {report['neurobench']['activation_sparsity']:.4f}; " in text


def test_config_errors_are_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["train", "--set", "optimizer.lr=-1", "--root", str(tmp_path)])
    assert result.exit_code != 0
    assert "optimizer.lr" in str(result.exception)
    result = CliRunner().invoke(app, ["train", "--pipeline", "nope", "--root", str(tmp_path)])
    assert "bundled:" in str(result.exception) and "'demo'" in str(result.exception)
    result = CliRunner().invoke(app, ["train", "--set", "model.chanels=8", "--root", str(tmp_path),
                                      "--output", str(tmp_path / "run")])
    assert "model.chanels: not an argument of DVSGestureNet" in str(result.exception)
    assert not (tmp_path / "run").exists()  # rejected before any folder is made
