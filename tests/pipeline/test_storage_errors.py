"""Finished work on a read-only root is reported up to date without writing, and a full disk or an
unwritable root gives one line naming the path instead of a traceback."""

from __future__ import annotations

import errno
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from convert_helpers import write_tree

from eventpipe.errors import NotWritableError, StorageFullError, storage_error
from eventpipe.frames import IntegrationSpec
from eventpipe.pipeline.convert import convert
from eventpipe.pipeline.prepare import prepare
from eventpipe.sources import get_dataset

WRITE = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def snapshot(root: Path) -> dict[str, tuple[float, int]]:
    """Every path under ``root`` with its modification time and size."""
    return {str(p): (p.stat().st_mtime, p.stat().st_size) for p in [root, *root.rglob("*")]}


@contextmanager
def read_only(root: Path) -> Iterator[None]:
    """``chmod -R a-w root`` for the ``with`` block, permissions restored afterwards."""
    paths = [root, *root.rglob("*")]
    modes = {p: p.stat().st_mode for p in paths}
    try:
        for p in paths:
            p.chmod(modes[p] & ~WRITE)
        yield
    finally:
        for p in paths:
            p.chmod(stat.S_IMODE(modes[p]))


def test_up_to_date_work_on_a_read_only_root_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_tree(get_dataset("demo").raw_dir(root))
    spec = IntegrationSpec(frames=2)
    assert convert("demo", root, scheduler="synchronous", progress=False).status == "converted"
    assert prepare("demo", root, spec, scheduler="synchronous", progress=False).status == "prepared"
    # root ignores permissions: the snapshots show that nothing a read-only root refuses was tried
    before = snapshot(root)
    with read_only(root):
        assert convert("demo", root, scheduler="synchronous", progress=False).status == "up-to-date"
    assert snapshot(root) == before
    shutil.rmtree(get_dataset("demo").raw_dir(root))  # raw files not needed once converted
    before = snapshot(root)
    with read_only(root):
        result = prepare("demo", root, spec, scheduler="synchronous", progress=False)
    assert result.status == "up-to-date" and [s.status for s in result.steps] == ["skipped", "up-to-date", "up-to-date"]
    assert snapshot(root) == before


def _limited(args: list[str], cwd: Path, max_bytes: int) -> subprocess.CompletedProcess[str]:
    """``python -m eventpipe ARGS`` with files limited to ``max_bytes`` (``ulimit -f``): writing more fails
    with EFBIG, as a full disk fails with ENOSPC."""
    code = ("import resource, runpy, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
            f"resource.setrlimit(resource.RLIMIT_FSIZE, ({max_bytes}, {max_bytes})); "
            "sys.argv = ['eventpipe', *sys.argv[1:]]; runpy.run_module('eventpipe', run_name='__main__')")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def _messages(stderr: str) -> list[str]:
    """What a command wrote to stderr, progress bars left out."""
    return [line for line in stderr.strip().splitlines() if not line.startswith(("convert demo", "synthesising"))]


@pytest.mark.skipif(sys.platform == "win32", reason="needs RLIMIT_FSIZE")
def test_a_full_disk_gives_one_line(tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_tree(get_dataset("demo").raw_dir(root))
    convert_run = _limited(["convert", "demo", "--root", str(root), "--workers", "1"], tmp_path, 4096)
    assert convert_run.returncode == 2, convert_run.stderr
    line, = _messages(convert_run.stderr)
    assert "file size limit" in line and str(root / "demo" / "events.zarr") in line

    generate = _limited(["download", "demo", "--root", str(tmp_path / "fresh")], tmp_path, 4096)
    assert generate.returncode == 2, generate.stderr
    line, = _messages(generate.stderr)
    assert "file size limit" in line and str(tmp_path / "fresh") in line


def test_an_unwritable_store_names_its_path(tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_tree(get_dataset("demo").raw_dir(root))
    if os.geteuid() == 0:
        pytest.skip("root writes whatever the permissions say")
    with read_only(root):
        run = subprocess.run([sys.executable, "-m", "eventpipe", "convert", "demo", "--root", str(root)],
                             capture_output=True, text=True, timeout=300)
    line, = _messages(run.stderr)
    assert run.returncode == 2 and "permission denied" in line and str(root / "demo") in line


def test_only_writing_errors_become_storage_errors(tmp_path: Path) -> None:
    store = tmp_path / "demo" / "events.zarr"
    full = storage_error(OSError(errno.ENOSPC, "No space left on device"), store)
    assert isinstance(full, StorageFullError) and isinstance(full, OSError)
    assert str(full).startswith(f"Cannot write {store}: no space left") and "\n" not in str(full)
    lock = storage_error(PermissionError(errno.EACCES, "Permission denied", f"{store}.lock"), store)
    assert isinstance(lock, NotWritableError) and isinstance(lock, PermissionError) and f"{store}.lock" in str(lock)
    # a raw file this run could not read is no storage problem: it stays a PermissionError of its own
    assert storage_error(PermissionError(errno.EACCES, "Permission denied", tmp_path / "demo" / "raw" / "a"), store) is None
    assert storage_error(FileNotFoundError(errno.ENOENT, "No such file", store), store) is None
