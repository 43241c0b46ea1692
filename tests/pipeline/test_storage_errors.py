"""Finished work on a read-only root is reported up to date without writing, and a full disk or an
unwritable root gives one line naming the path instead of a traceback."""

from __future__ import annotations

import errno
import json
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


def _namespaces() -> bool:
    """Whether this user may make a user and mount namespace (to mount a small tmpfs without privileges)."""
    if sys.platform != "linux" or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-Urm", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _namespaces(), reason="needs `unshare -Urm` to mount a small tmpfs")
def test_a_really_full_file_system_gives_one_line_and_the_rerun_resumes(tmp_path: Path) -> None:
    """ENOSPC from a real file system: a 500 KB tmpfs, grown (space freed) between the runs."""
    raw, mnt, out = tmp_path / "raw", tmp_path / "mnt", tmp_path / "out"
    for folder in (mnt, out):
        folder.mkdir()
    write_tree(raw)
    data = mnt / "data"
    ep = f"'{sys.executable}' -m eventpipe"
    steps = {  # name: (command, tmpfs size before it)
        "convert_full": (f"{ep} convert demo --root {data} --workers 1", "500k"),
        "convert_again": (f"{ep} convert demo --root {data} --workers 1 --json", "2m"),
        "prepare_full": (f"rm {data}/demo/raw && {ep} prepare demo --root {data} --workers 1 --frames 4",
                         "1000k"),
        "prepare_again": (f"{ep} prepare demo --root {data} --workers 1 --frames 4 --json", "64m"),
        "generate_full": (f"{ep} download demo --root {mnt}/fresh", "2m"),
        "verify": (f"{ep} verify demo --root {data}", "64m"),
    }
    script = [f"mount -t tmpfs -o size=500k tmpfs {mnt} || exit 90",
              f"mkdir -p {data}/demo && ln -s {raw} {data}/demo/raw"]
    for name, (command, size) in steps.items():
        script += [f"mount -o remount,size={size} {mnt}",
                   f"({command}) >{out}/{name}.out 2>{out}/{name}.err; echo $? >{out}/{name}.rc"]
    run = subprocess.run(["unshare", "-Urm", "sh", "-c", "\n".join(script)], capture_output=True, text=True,
                         timeout=600, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert run.returncode == 0, run.stderr

    def result(name: str) -> tuple[int, str, str]:
        return (int((out / f"{name}.rc").read_text()), (out / f"{name}.out").read_text(),
                (out / f"{name}.err").read_text())

    for name, target in (("convert_full", data / "demo" / "events.zarr"), ("prepare_full", data / "demo"),
                         ("generate_full", mnt / "fresh")):
        rc, _, err = result(name)
        line, = _messages(err)
        assert rc == 2 and "no space left" in line and str(target) in line, (name, err)
    rc, stdout, err = result("convert_again")
    converted = json.loads(stdout)
    assert rc == 0 and converted["status"] == "resumed", err
    assert 0 < converted["parts_written"] < converted["parts_total"]  # the parts finished before ENOSPC are kept
    rc, stdout, err = result("prepare_again")
    assert rc == 0 and json.loads(stdout)["status"] in ("prepared", "resumed"), err
    _, stdout, err = result("verify")  # the raw files were removed: the stores alone are checked
    stores = [line.split() for line in stdout.splitlines() if ".zarr" in line]
    assert len(stores) == 2 and all(line[1:3] == ["store", "ok"] for line in stores), stdout + err


@pytest.mark.skipif(not _namespaces(), reason="needs `unshare -Urm` to mount the root read-only")
def test_a_read_only_mount_runs_finished_work_and_refuses_new_work_in_one_line(tmp_path: Path) -> None:
    """A real read-only file system (EROFS, which binds root too): finished convert and prepare succeed,
    new work is one line naming the path."""
    root = tmp_path / "data"
    write_tree(get_dataset("demo").raw_dir(root))
    convert("demo", root, scheduler="synchronous", progress=False)
    prepare("demo", root, IntegrationSpec(frames=2), scheduler="synchronous", progress=False)
    out = tmp_path / "out"
    out.mkdir()
    ep = f"'{sys.executable}' -m eventpipe"
    steps = {"convert": f"{ep} convert demo --root {root} --json",
             "prepare": f"{ep} prepare demo --root {root} --frames 2 --json",
             "new_spec": f"{ep} prepare demo --root {root} --frames 3"}
    script = [f"mount --bind -o ro {root} {root} || exit 90"]
    script += [f"({command}) >{out}/{name}.out 2>{out}/{name}.err; echo $? >{out}/{name}.rc"
               for name, command in steps.items()]
    run = subprocess.run(["unshare", "-Urm", "sh", "-c", "\n".join(script)], capture_output=True, text=True,
                         timeout=600, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert run.returncode == 0, run.stderr
    rc = {name: int((out / f"{name}.rc").read_text()) for name in steps}
    assert rc["convert"] == 0 and json.loads((out / "convert.out").read_text())["status"] == "up-to-date"
    assert rc["prepare"] == 0 and json.loads((out / "prepare.out").read_text())["status"] == "up-to-date"
    line, = _messages((out / "new_spec.err").read_text())
    assert rc["new_spec"] == 2 and "read-only" in line and str(root / "demo" / "frames") in line, line
