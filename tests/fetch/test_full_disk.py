"""A download that fills its file system: one line naming the path and, from the manifest's declared sizes,
how much more space it needs; the rerun after space is freed resumes from the ``.part`` file."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import digests, payload, write_manifest
from .faultserver import FaultServer

BLOB = payload(3 << 20, seed=7)


def _namespaces() -> bool:
    """Whether this user may make a user and mount namespace (to mount a small tmpfs without privileges)."""
    if sys.platform != "linux" or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-Urm", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _namespaces(), reason="needs `unshare -Urm` to mount a small tmpfs")
def test_a_full_disk_says_how_much_more_the_download_needs(server: FaultServer, tmp_path: Path) -> None:
    server.add("/blob.bin", BLOB)
    manifest = write_manifest(tmp_path / "toyset.toml", "toyset", [
        {"name": "blob.bin", "size": len(BLOB), **digests(BLOB), "urls": [server.url("/blob.bin")]}])
    mnt, out = tmp_path / "mnt", tmp_path / "out"
    mnt.mkdir()
    out.mkdir()
    root = mnt / "data"
    ep = f"'{sys.executable}' -m eventpipe -q download toyset --root {root} --manifest {manifest}"
    script = [f"mount -t tmpfs -o size=1m tmpfs {mnt} || exit 90",
              f"({ep}) >{out}/full.out 2>{out}/full.err; echo $? >{out}/full.rc",
              f"du -sb {root}/toyset/raw/blob.bin.part | cut -f1 >{out}/part.size",
              f"mount -o remount,size=8m {mnt}",
              f"({ep} --json) >{out}/again.out 2>{out}/again.err; echo $? >{out}/again.rc"]
    run = subprocess.run(["unshare", "-Urm", "sh", "-c", "\n".join(script)], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert run.returncode == 0, run.stderr
    err = (out / "full.err").read_text()
    line, = err.strip().splitlines()
    assert (out / "full.rc").read_text().strip() == "2", err
    assert "no space left" in line and str(root) in line and "Traceback" not in err, line
    said = re.search(r"The download needs about ([\d.]+) MiB more\.$", line)
    assert said is not None, line
    kept = int((out / "part.size").read_text())
    assert 0 < kept < len(BLOB)
    assert abs(float(said.group(1)) - (len(BLOB) - kept) / (1 << 20)) < 0.2, (line, kept)  # what the .part lacks
    assert (out / "again.rc").read_text().strip() == "0", (out / "again.err").read_text()
    again = json.loads((out / "again.out").read_text())["files"][0]
    assert again["status"] == "downloaded" and again["resumed_from"] == kept  # the rerun kept what fitted
    assert server.requests_for("/blob.bin")[-1].range == f"bytes={kept}-"
