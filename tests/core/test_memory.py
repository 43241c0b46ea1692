"""Allocator setting for worker processes (run in a child process: it changes the whole process)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_keep_freed_memory_reuses_pages() -> None:
    code = """
import resource
import numpy as np
from eventpipe.memory import keep_freed_memory

def faults():
    for _ in range(5):  # like a DataLoader worker: a batch of 16 samples of 3 MB, then all freed
        batch = [np.ones(3 << 20, np.uint8) for _ in range(16)]
        del batch
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

before = faults(); fresh = faults() - before
assert keep_freed_memory()
kept_start = faults(); kept = faults() - kept_start
print(fresh, kept)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    fresh, kept = map(int, done.stdout.split())
    assert fresh > 5 * 16 * 768 // 2 and kept < fresh // 10  # 768 faults per fresh 3 MB array, then almost none
