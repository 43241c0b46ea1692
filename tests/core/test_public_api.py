"""The curated top-level API: every exported name resolves, and importing it stays light."""

from __future__ import annotations

import subprocess
import sys

import eventpipe


def test_every_exported_name_resolves() -> None:
    for name in eventpipe.__all__:
        assert getattr(eventpipe, name) is not None, name


def test_import_is_light() -> None:
    code = (
        "import sys, eventpipe; heavy = [m for m in ('dask', 'distributed', 'torch', 'typer', 'cupy', 'zarr', 'numba')"
        " if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""
