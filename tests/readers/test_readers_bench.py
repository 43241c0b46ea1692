"""The readers benchmark runs end to end on a small size and reports every method for every format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

import eventpipe.readers as readers
from eventpipe.bench.readers import (
    numpy_aedat3,
    numpy_atis,
    numpy_hdf5,
    numpy_text,
    run,
    synthetic_events,
    table_rows,
    write_dsec,
)
from eventpipe.cli.main import app
from eventpipe.readers.aedat3 import write_aedat3
from eventpipe.readers.atis import write_atis
from eventpipe.readers.text import write_text


def test_baselines_agree_with_readers(tmp_path: Path) -> None:
    ev = synthetic_events(20_000, width=34, height=34, rate_hz=1e3)  # spans 20 s: ATIS overflow markers
    np.testing.assert_array_equal(numpy_atis(write_atis(tmp_path / "a.bin", ev)), ev)
    np.testing.assert_array_equal(numpy_aedat3(write_aedat3(tmp_path / "a.aedat", ev, packet_size=999)), ev)
    np.testing.assert_array_equal(numpy_text(write_text(tmp_path / "a.txt", ev)), ev)
    dsec = write_dsec(tmp_path / "a.h5", ev, t_offset=int(ev["t"][0]))
    np.testing.assert_array_equal(numpy_hdf5(dsec), ev)
    np.testing.assert_array_equal(readers.read_events(dsec), ev)


def test_run_reports_all_methods(tmp_path: Path) -> None:
    result = run(size_mb=1, repeat=1, workdir=tmp_path, progress=False)
    assert [f["format"] for f in result["formats"]] == ["aedat3", "atis", "text", "hdf5"]
    for fmt in result["formats"]:
        kernel = {"kernel"} if fmt["format"] != "hdf5" else set()
        assert set(fmt["rows"]) == {"eventpipe", "numpy", "memcpy", "file read"} | kernel
        assert all(r["M_events_per_s"] > 0 for r in fmt["rows"].values())
    assert len(table_rows(result)) == 19
    assert list(tmp_path.iterdir()) == []  # generated files removed


def test_cli_json(tmp_path: Path) -> None:
    out = CliRunner().invoke(app, ["bench", "readers", "--size-mb", "1", "--repeat", "1", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["threads"] == 1


def test_public_names_resolve() -> None:
    for name in readers.__all__:
        assert getattr(readers, name) is not None
