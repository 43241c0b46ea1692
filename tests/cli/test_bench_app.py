"""The ``bench`` sub-app: a leaf package, its ``--markdown`` sections of ``docs/benchmarks.md``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eventpipe.bench.document import INTRODUCTION, TOPICS, update_section
from eventpipe.bench.report import markdown_table, target_lines
from eventpipe.cli.main import app
from eventpipe.errors import ConfigError

NEURONS = ["bench", "neurons", "--shape", "2,2,2,4,4", "--repeat", "1", "--no-gpu"]


def test_bench_imports_nothing_from_the_cli() -> None:
    code = ("import sys; import eventpipe.bench.app, eventpipe.bench.commands.loader; "
            "print([m for m in sys.modules if m.startswith('eventpipe.cli')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_cli_mounts_every_topic() -> None:
    from eventpipe.bench.app import app as bench_app

    assert [c.name for c in bench_app.registered_commands] == list(TOPICS)
    result = CliRunner().invoke(app, ["bench", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and all(f" {t} " in result.output for t in TOPICS)


def test_update_section_keeps_the_others(tmp_path: Path) -> None:
    doc = tmp_path / "docs" / "benchmarks.md"
    update_section(doc, "loader", "| a |\n| --: |\n| 1 |", command="eventpipe bench loader --epochs 1",
                   summary="Read a dataset.")
    text = doc.read_text()
    assert text.startswith(INTRODUCTION)
    assert [t for t in TOPICS if f"<!-- bench:{t} -->" in text] == list(TOPICS)  # every section, in order
    assert text.index("<!-- bench:readers -->") < text.index("<!-- bench:loader -->") < text.index("<!-- bench:train")
    assert "Read a dataset.\n\nMeasured " in text and "`eventpipe bench loader --epochs 1` on: " in text
    assert "cores available" in text and "| 1 |" in text
    assert "Not measured yet. Generate this section with `eventpipe bench frames --markdown docs/benchmarks.md`" in text
    doc.write_text(doc.read_text().replace("# Benchmarks", "# Benchmarks\n\nA note kept by hand."))
    update_section(doc, "readers", "readers body", command="eventpipe bench readers")
    update_section(doc, "loader", "second loader body", command="eventpipe bench loader")
    text = doc.read_text()
    assert "A note kept by hand." in text and "readers body" in text and "second loader body" in text
    assert "| 1 |" not in text and text.count("<!-- bench:loader -->") == 1
    with pytest.raises(ConfigError, match="Unknown value 'nope' for argument topic"):
        update_section(doc, "nope", "", command="")


def test_markdown_table_and_targets() -> None:
    table = markdown_table([{"source": "npz", "samples/s": 100.0, "note": None},
                            {"source": "frames|store", "samples/s": 312.456, "note": "x"}])
    assert table.splitlines() == [
        "| source        | samples/s | note |",
        "| :------------ | --------: | :--- |",
        "| npz           |       100 |      |",
        "| frames\\|store |       312 | x    |",
    ]
    assert markdown_table([]) == ""
    lines = target_lines({"speedup": {"value": 1.8, "target": 1.7, "met": True},
                          "bytes": {"value": 0.6, "target": 0.5, "met": False, "at_most": True},
                          "missing": {"value": None, "target": 2, "met": False}})
    assert lines == ["- target `speedup`: 1.8 (goal >= 1.7), met", "- target `bytes`: 0.6 (goal <= 0.5), NOT met",
                     "- target `missing`: n/a (goal >= 2), NOT met"]


def test_markdown_option_writes_the_printed_section(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    result = CliRunner().invoke(app, [*NEURONS, "--markdown", str(doc)])
    assert result.exit_code == 0, result.output
    printed = result.stdout
    assert "| device" in printed and "torch (fused)" in printed and "faster than the per-step" in printed
    text = doc.read_text()
    section = text.split("<!-- bench:neurons -->")[1].split("<!-- /bench:neurons -->")[0]
    assert "`eventpipe bench neurons --shape 2,2,2,4,4 --repeat 1 --no-gpu` on: " in section
    assert "LIF forward + backward over T" in section  # the command's own summary
    assert printed.strip() in section
    as_json = CliRunner().invoke(app, [*NEURONS, "--json"])
    assert json.loads(as_json.stdout)["shape"] == [2, 2, 2, 4, 4]
