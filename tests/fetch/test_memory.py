"""A 200 MiB download streams in bounded memory (measured in a separate process)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from .conftest import payload
from .faultserver import FaultServer

SIZE = 200 * 1024 * 1024
PATTERN = payload((1 << 20) + 4099, seed=9)  # not a multiple of the read size: every chunk differs

CHILD = r"""
import json, resource, sys, tracemalloc
from pathlib import Path
from eventpipe.fetch import FetchOptions, fetch_file

url, dest, sha256, size = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
rss_before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
fetch_file([url], dest, checksums={"sha256": sha256}, size=size, options=FetchOptions(read_timeout_s=30),
           progress=False)
traced_peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
rss_after_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rss_growth": (rss_after_kib - rss_before_kib) * 1024, "traced_peak": traced_peak,
                  "size": dest.stat().st_size}))
"""


def _read(offset: int, length: int) -> bytes:
    """Bytes [offset, offset+length) of an endless repetition of PATTERN, made on demand."""
    out = bytearray()
    start = offset % len(PATTERN)
    while len(out) < length:
        piece = PATTERN[start:start + length - len(out)]
        out += piece
        start = 0
    return bytes(out)


def test_200_mib_download_streams_in_bounded_memory(server: FaultServer, tmp_path: Path) -> None:
    expected = hashlib.sha256()
    for offset in range(0, SIZE, 1 << 22):
        expected.update(_read(offset, min(1 << 22, SIZE - offset)))
    server.add("/big.bin", size=SIZE, read=_read)
    dest = tmp_path / "big.bin"
    proc = subprocess.run([sys.executable, "-c", CHILD, server.url("/big.bin"), str(dest), expected.hexdigest(),
                           str(SIZE)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)
    assert stats["size"] == SIZE
    assert stats["traced_peak"] < 16 * 1024 * 1024  # Python allocations: a few 1 MiB chunks at most
    assert stats["rss_growth"] < 64 * 1024 * 1024  # the whole process: far below the 200 MiB file
    dest.unlink()
