"""The loader benchmark: its baseline reads what the frames store holds; a small end-to-end run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from eventpipe.bench.loader import NpzFramesDataset, loader_rates, run, table_rows
from eventpipe.cli.main import app
from eventpipe.datasets import Demo
from eventpipe.errors import ConfigError


def test_npz_baseline_reads_the_same_frames(stores_root: Path, tmp_path: Path) -> None:
    ds = Demo(stores_root, split="test", frames=4, prepare=True, workers=1, progress=False)
    files = []
    for i in range(len(ds)):
        files.append(tmp_path / f"{i}.npz")
        np.savez_compressed(files[-1], frames=ds[i][0].numpy().astype(np.float64))
    npz = NpzFramesDataset(files, ds.labels.tolist())
    for i in range(len(ds)):
        x, y = npz[i]
        assert x.dtype == torch.float32 and torch.equal(x, ds[i][0]) and y == ds[i][1]
    rates = loader_rates({"npz": npz, "store": ds}, workers=0, batch_size=4, epochs=1)
    assert set(rates) == {"npz", "store"} and min(rates.values()) > 0


def test_bad_workers_option() -> None:
    result = CliRunner().invoke(app, ["bench", "loader", "--workers", "0,x"])
    assert isinstance(result.exception, ConfigError) and "comma-separated" in str(result.exception)


@pytest.mark.slow
def test_small_run_end_to_end(tmp_path: Path) -> None:
    result = run(users=2, events_per_second=3000, workers=(0,), batch_size=8, epochs=1, root=tmp_path, prepare_workers=1)
    json.dumps(result)
    assert {r["source"] for r in result["rows"]} == {"frames_store", "frames_store_uint8", "npz_float64", "to_frames"}
    assert all(r["samples_per_s"] > 0 for r in result["rows"])
    assert result["config"]["samples"] == len(list((tmp_path / "npz_float64").iterdir())) > 10
    assert {s: set(by_w) for s, by_w in result["speedup_vs_npz"].items()} == {
        "frames_store": {"0"}, "frames_store_uint8": {"0"}}
    assert set(result["meets_target"]) == {"frames_store", "frames_store_uint8"}
    assert [r["x npz"] for r in table_rows(result) if r["source"] == "npz_float64"] == [1.0]
