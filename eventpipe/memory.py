"""Keep freed memory in worker processes that allocate and free the same large arrays in a loop.

Two ways in: :func:`keep_freed_memory` for the running process (a DataLoader worker), and
:func:`malloc_environment` for processes about to start (Dask workers; glibc reads it at start).

glibc's malloc gives every block of 128 KB or more (raised as blocks are freed, up to 32 MB) its
own ``mmap`` and hands it back to the kernel when freed, and trims freed memory at the top of its
heap. A DataLoader worker allocates a few MB per sample and frees a whole batch at a time, so
every sample lands on fresh pages that the kernel faults in and zeroes one 4 KB page at a time:
measured 3.0-3.3 ms per 20-frame 128x128 float32 sample against 1.4-1.9 ms once the freed memory
is kept for the next batch (``eventpipe bench loader``).
"""

from __future__ import annotations

import ctypes
import ctypes.util

KEEP_FREED_BYTES = 512 << 20
"""Freed memory a process keeps at the top of its heap for reuse, bytes."""

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4


def keep_freed_memory(keep_bytes: int = KEEP_FREED_BYTES) -> bool:
    """Serve large blocks from the heap and keep up to ``keep_bytes`` of freed memory for reuse in
    this process (glibc's ``mallopt``). Returns False, changing nothing, where the C library is not
    glibc.

    The process then holds on to its largest working set (a batch, say) between uses instead of
    returning it to the kernel: meant for worker processes, not for a user's main process.
    """
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, int(keep_bytes)))


def malloc_environment(keep_bytes: int = KEEP_FREED_BYTES) -> dict[str, str]:
    """Environment variables that give a process started with them the setting of
    :func:`keep_freed_memory`, and one malloc arena: a task's thread would otherwise get a secondary
    arena, whose 64 MB heaps send large blocks to ``mmap`` anyway."""
    return {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(int(keep_bytes)), "MALLOC_ARENA_MAX": "1"}
