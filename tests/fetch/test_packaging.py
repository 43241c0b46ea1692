"""The manifests and pipeline configs ship inside the wheel and are found through packaged_path."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from eventpipe.manifests import manifest_names
from eventpipe.paths import packaged_dir

REPO = Path(__file__).resolve().parents[2]


def test_the_source_checkout_finds_the_top_level_folders() -> None:
    assert packaged_dir("manifest").resolve() == (REPO / "data_manifests").resolve()
    assert packaged_dir("pipeline").resolve() == (REPO / "pipelines").resolve()
    assert set(manifest_names()) == {p.stem for p in (REPO / "data_manifests").glob("*.toml")}


def test_wheel_contains_every_manifest_and_pipeline(tmp_path: Path) -> None:
    pytest.importorskip("pip")
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("eventpipe", "data_manifests", "pipelines"):
        shutil.copytree(REPO / name, src / name, symlinks=True, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
                           "-q", "-w", str(tmp_path / "dist")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    (wheel,) = (tmp_path / "dist").glob("eventpipe-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, kind in (("data_manifests", "manifests"), ("pipelines", "pipelines")):
        for toml in (REPO / folder).glob("*.toml"):
            assert f"eventpipe/packaged/{kind}/{toml.name}" in names
