"""A plugin module in the working folder is found the same way by ``--integrate`` and by a pipeline
TOML's ``fn``, in real processes whose import path does not hold that folder to begin with."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from eventpipe.frames.plugins import load_plugin

ROOT = Path(__file__).resolve().parents[2]

PLUGIN = '''
import numpy as np


def halves(events, H, W):
    """One frame of event counts per polarity."""
    out = np.zeros((1, 2, H, W), np.uint32)
    np.add.at(out, (0, events["p"], events["y"], events["x"]), 1)
    return out
'''


def _python(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -P ...``: the working folder is not put on the import path by Python itself."""
    return subprocess.run([sys.executable, "-P", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_cli_and_pipeline_toml_resolve_the_same_module(tmp_path: Path) -> None:
    (tmp_path / "mymod.py").write_text(PLUGIN)
    toml = (ROOT / "pipelines" / "demo.toml").read_text()
    toml = toml.replace('frames = 16\nsplit_by = "number"\n', 'fn = "mymod:halves"\n')
    assert 'fn = "mymod:halves"' in toml
    (tmp_path / "pipe.toml").write_text(toml)

    by_toml = _python("-c", "from eventpipe.train.config import load_config; "
                      "print(load_config('pipe.toml').data.integration.name)", cwd=tmp_path)
    assert by_toml.returncode == 0, by_toml.stderr
    by_cli = _python("-m", "eventpipe", "prepare", "demo", "--integrate", "mymod:halves", "--dry-run", "--json",
                     "--root", str(tmp_path / "data"), cwd=tmp_path)
    assert by_cli.returncode == 0, by_cli.stderr
    store = Path(json.loads(by_cli.stdout)["store"]).name
    assert store == f"{by_toml.stdout.strip()}.zarr" and store.startswith("plugin_halves_")


def test_a_bare_module_name_says_how_to_name_a_plugin(tmp_path: Path) -> None:
    from eventpipe.errors import UnknownNameError

    with pytest.raises(UnknownNameError) as caught:
        load_plugin("mymod")
    message = str(caught.value)
    assert "'module:function'" in message and "mymod:" in message and "registered" in message
    assert "Valid values are {}" not in message and "\n" not in message
    cli = _python("-m", "eventpipe", "prepare", "demo", "--integrate", "mymod", "--dry-run",
                  "--root", str(tmp_path), cwd=tmp_path)
    assert cli.returncode == 2 and len(cli.stderr.strip().splitlines()) == 1
    assert "module:function" in cli.stderr
