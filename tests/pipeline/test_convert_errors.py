"""Corrupt raw files: ``on_error="raise"`` names file and byte offset, ``"skip"`` finishes and lists them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from convert_helpers import write_tree
from typer.testing import CliRunner

from eventpipe.cli.main import app
from eventpipe.errors import CorruptRecordingError, StoreSchemaError
from eventpipe.pipeline.convert import convert
from eventpipe.sources import get_dataset
from eventpipe.store import EventsStore, check_integrity

BAD = "user02_lab.aedat"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    raw = get_dataset("demo").raw_dir(tmp_path)
    write_tree(raw)
    data = (raw / BAD).read_bytes()
    (raw / BAD).write_bytes(data[: len(data) // 2 + 3])  # cut inside a packet
    return tmp_path


def test_raise_names_file_and_offset(root: Path) -> None:
    with pytest.raises(CorruptRecordingError) as info:
        convert("demo", root, scheduler="synchronous", progress=False)
    err = info.value
    assert err.path.endswith(BAD) and isinstance(err.offset, int) and err.offset > 0
    assert f"{BAD}: corrupt at byte {err.offset}: truncated" in str(err)
    with pytest.raises(StoreSchemaError, match="did not finish"):
        EventsStore.open(get_dataset("demo").events_store_path(root))


def test_skip_finishes_and_lists_the_file(root: Path) -> None:
    result = convert("demo", root, scheduler="synchronous", progress=False, on_error="skip")
    assert [(s["path"], s["split"]) for s in result.skipped] == [(BAD, "train")]
    assert result.skipped[0]["offset"] > 0 and "truncated" in result.skipped[0]["reason"]
    store = EventsStore.open(result.store)
    assert store.skipped == result.skipped and check_integrity(store.location) == []
    recordings = set(store.split("train").meta_columns["recording"].tolist())
    assert "user02_lab" not in recordings and "user01_lab" in recordings
    # the raise run would have failed; a skip run of the same files is complete and up to date
    assert convert("demo", root, scheduler="synchronous", progress=False, on_error="skip").status == "up-to-date"


def test_cli_skip_and_json(root: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["convert", "demo", "--root", str(root), "--on-error", "skip", "--scheduler",
                              "synchronous"])
    assert out.exit_code == 0, out.output
    assert f"skipped (train): {BAD} at byte" in out.output and "store:" in out.output
    data = json.loads(runner.invoke(app, ["convert", "demo", "--root", str(root), "--on-error", "skip",
                                          "--json"]).output)
    assert data["status"] == "up-to-date" and data["skipped"][0]["path"] == BAD


def test_cli_error_is_one_line_exit_2(root: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "eventpipe", "-q", "convert", "demo", "--root", str(root), "--scheduler",
         "synchronous"], capture_output=True, text=True,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and BAD in lines[0] and "corrupt at byte" in lines[0]


def test_cli_options_are_parsed(tmp_path: Path) -> None:
    from eventpipe.cli.commands.convert import parse_option
    from eventpipe.errors import ConfigError

    assert parse_option("test_fraction=0.25") == ("test_fraction", 0.25)
    assert parse_option("split_scheme=first_100") == ("split_scheme", "first_100")
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_option("oops")
