"""The import rules of docs/ARCHITECTURE.md, checked by import-linter's contracts in pyproject.toml.

The second test proves the check has teeth: a copy of the package with one forbidden import added
must break a contract.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed (pip install -e '.[dev]')")


def lint(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)} if pythonpath else dict(os.environ)
    return subprocess.run([str(LINT), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_import_contracts_hold() -> None:
    result = lint(REPO)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("loading/dataset.py", "import eventpipe.pipeline.prepare", "The loading side never builds"),
        ("train/data.py", "from eventpipe.cli.common import state", "The CLI and the benchmarks are leaves"),
        ("fetch/download.py", "import eventpipe.sources", "fetch works from a Manifest"),
        ("store/markers.py", "import eventpipe.sources", "Layers"),
        ("frames/slicing.py", "import eventpipe.frames.spec", "No import cycle"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(tmp_path: Path, module: str, line: str, broken: str) -> None:
    shutil.copytree(REPO / "eventpipe", tmp_path / "eventpipe", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "eventpipe" / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    result = lint(tmp_path, pythonpath=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{broken}" in result.stdout and "BROKEN" in result.stdout
