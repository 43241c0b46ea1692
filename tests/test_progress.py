"""Progress bars stay out of logs: with stderr a file, a whole `prepare` writes lines, never redrawn bars."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from eventpipe.progress import bar_disabled


def test_bar_disabled() -> None:
    assert bar_disabled(False) is True and bar_disabled(True) is None


def test_prepare_writes_no_carriage_returns_to_a_log(tmp_path: Path) -> None:
    log = tmp_path / "stderr.log"
    with log.open("w") as err:
        proc = subprocess.run([sys.executable, "-m", "eventpipe", "prepare", "demo", "--frames", "4",
                               "--root", str(tmp_path / "data")], stdout=subprocess.PIPE, stderr=err, text=True,
                              timeout=300)
    assert proc.returncode == 0, log.read_text()
    assert "\r" not in log.read_text() and "prepared" in proc.stdout
