from __future__ import annotations

import json

from typer.testing import CliRunner

from eventpipe.bench.neurons import bench_neurons
from eventpipe.cli.main import app


def test_bench_reports_cpu_rows_and_speedup() -> None:
    result = bench_neurons((3, 2, 4, 4, 4), repeat=1, gpu=False)
    assert result["shape"] == [3, 2, 4, 4, 4]
    backends = [(r["device"], r["backend"]) for r in result["rows"]]
    assert backends == [("cpu", "loop (autograd per step)"), ("cpu", "torch (fused)")]
    assert result["cpu_speedup"] > 0 and all(r["ms"] > 0 and r["GB/s"] > 0 for r in result["rows"])
    assert result["gpu"] is None


def test_cli_prints_json_and_table() -> None:
    runner = CliRunner()
    out = runner.invoke(
        app, ["bench", "neurons", "--shape", "2,2,2,4,4", "--repeat", "1", "--no-gpu", "--json"]
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["shape"] == [2, 2, 2, 4, 4]
    table = runner.invoke(app, ["bench", "neurons", "--shape", "2,2,2,4,4", "--repeat", "1", "--no-gpu"])
    assert table.exit_code == 0 and "torch (fused)" in table.output and "faster" in table.output
    bad = runner.invoke(app, ["bench", "neurons", "--shape", "2,2,x"])
    assert bad.exit_code != 0
