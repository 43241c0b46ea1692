"""Unpacked or generated files reach a raw folder on another file system (``raw`` a link to another disk):
renames fail there with EXDEV, so entries are copied under a temporary name and renamed into place."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from eventpipe.fetch.extract import move_entries


def _other_device(here: Path) -> Path | None:
    """A writable folder on another file system than ``here`` (/dev/shm is a tmpfs on Linux), or None."""
    for candidate in ("/dev/shm", f"/run/user/{os.getuid()}" if hasattr(os, "getuid") else ""):
        if candidate and os.path.isdir(candidate) and os.access(candidate, os.W_OK) \
                and os.stat(candidate).st_dev != os.stat(here).st_dev:
            return Path(candidate)
    return None


@pytest.fixture
def elsewhere(tmp_path: Path) -> Iterator[Path]:
    other = _other_device(tmp_path)
    if other is None:
        pytest.skip("no writable folder on another file system than the temporary folder")
    with tempfile.TemporaryDirectory(dir=other) as folder:
        yield Path(folder)


def test_entries_move_across_file_systems_replacing_same_names(tmp_path: Path, elsewhere: Path) -> None:
    src = tmp_path / "unpacked"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "a.bin").write_bytes(b"new a")
    (src / "top.txt").write_text("new top")
    os.symlink("sub/a.bin", src / "link")
    raw = tmp_path / "raw"
    raw.symlink_to(elsewhere, target_is_directory=True)
    (elsewhere / "sub").mkdir()
    (elsewhere / "sub" / "old.bin").write_bytes(b"replaced with its folder")
    (elsewhere / "top.txt").write_text("old top")
    (elsewhere / "keep.txt").write_text("not in the archive")
    (elsewhere / ".sub.0123abcd.moving").mkdir()  # an interrupted copy of an earlier call
    with pytest.raises(OSError) as exdev:  # the bad input: a rename across the two file systems fails
        os.rename(src / "top.txt", raw / "probe")
    assert exdev.value.errno == 18  # EXDEV
    move_entries(src, raw)
    assert sorted(p.name for p in elsewhere.iterdir()) == ["keep.txt", "link", "sub", "top.txt"]
    assert (raw / "sub" / "a.bin").read_bytes() == b"new a" and not (raw / "sub" / "old.bin").exists()
    assert (raw / "top.txt").read_text() == "new top" and (raw / "keep.txt").read_text() == "not in the archive"
    assert os.readlink(raw / "link") == "sub/a.bin" and (raw / "link").read_bytes() == b"new a"
    assert list(src.iterdir()) == []


def test_download_generates_into_a_raw_folder_on_another_file_system(tmp_path: Path, elsewhere: Path) -> None:
    """``eventpipe download demo`` with ``ROOT/demo/raw`` a link to another disk: done, no traceback; rerun keeps it."""
    root = tmp_path / "data"
    (root / "demo").mkdir(parents=True)
    (root / "demo" / "raw").symlink_to(elsewhere, target_is_directory=True)
    command = [sys.executable, "-m", "eventpipe", "download", "demo", "--root", str(root)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr and "cross-device" not in run.stderr, run.stderr
    made = sorted(p.relative_to(elsewhere).as_posix() for p in elsewhere.rglob("*") if p.is_file())
    assert made and not any(".moving" in name for name in made), made
    assert not list((root / "demo").glob(".demo.*"))  # the generator's temporary folder is gone
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert sorted(p.relative_to(elsewhere).as_posix() for p in elsewhere.rglob("*") if p.is_file()) == made
