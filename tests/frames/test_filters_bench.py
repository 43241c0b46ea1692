"""``eventpipe bench transforms`` on a tiny sample: every filter timed next to tonic, targets reported."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from eventpipe.bench.commands.transforms import report, transforms


def test_bench_transforms_command_on_tiny_input() -> None:
    app = typer.Typer()
    app.command("transforms")(transforms)
    app.command("other")(lambda: None)  # two commands: the sub-command name is then required, as under `bench`
    result = CliRunner().invoke(app, ["transforms", "--events", "3000", "--repeat", "1", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    names = [r["filter"] for r in out["rows"]]
    assert names[:2] == ["denoise", "refractory_period"] and len(names) == 12
    assert all(r["equal_to_tonic"] in (True, None) and r["speedup_vs_tonic"] > 0 for r in out["rows"])
    assert set(out["targets"]) == {"denoise x tonic", "refractory_period x tonic"}
    text = report(out)
    assert "| denoise " in text and "target `denoise x tonic`" in text and "| random " in text
