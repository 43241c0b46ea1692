"""Process-wide memory settings: where eventpipe applies them, and the switches that turn them off.

eventpipe never changes a setting of the user's own process on import, nor from a dataset or
a pipeline call in it. It applies these in processes it owns or is asked to tune:

``EVENTPIPE_KEEP_FREED_MEMORY`` (default on; ``0`` turns it off)
    Worker processes keep up to :data:`KEEP_FREED_BYTES` of freed memory for reuse: the DataLoader
    workers of eventpipe's datasets (:func:`keep_freed_memory`, called in each worker) and the Dask
    workers of the pipeline's local cluster (:func:`malloc_environment`, given to each worker as it
    starts; glibc reads it then).
``EVENTPIPE_HUGE_PAGES`` (default on; ``0`` turns it off)
    The ``eventpipe`` command puts torch's CPU tensors of 2 MB and more on transparent huge pages
    (:func:`use_huge_pages`, in the command's own process, before torch starts). A
    ``THP_MEM_ALLOC_ENABLE`` already in the environment is left as it is.

Why keep freed memory: glibc's malloc gives every block of 128 KB or more (a threshold it raises as
blocks are freed, up to 32 MB) its own ``mmap`` and hands it back to the kernel when freed, and
trims freed memory at the top of its heap. A worker that allocates a few MB per sample (a
DataLoader worker) or a few hundred MB per raw file (a conversion task), frees it and allocates the
same again, then has every array land on fresh pages that the kernel faults in and zeroes 4 KB at a
time. Kept, the next batch or task reuses the pages of the last one; the cost is that a worker holds
on to its largest working set, up to :data:`KEEP_FREED_BYTES` more, between uses. The effect on
DataLoader throughput is measured by ``eventpipe bench loader`` (see ``docs/benchmarks.md``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

__all__ = [
    "HUGE_PAGES",
    "KEEP_FREED_BYTES",
    "KEEP_FREED_MEMORY",
    "keep_freed_memory",
    "malloc_environment",
    "setting_enabled",
    "use_huge_pages",
]

KEEP_FREED_MEMORY = "EVENTPIPE_KEEP_FREED_MEMORY"
"""Environment variable: ``0`` stops eventpipe's worker processes from keeping freed memory."""
HUGE_PAGES = "EVENTPIPE_HUGE_PAGES"
"""Environment variable: ``0`` stops the ``eventpipe`` command from enabling torch's huge pages."""

KEEP_FREED_BYTES = 1 << 30
"""Freed memory a worker process keeps at the top of its heap for reuse, bytes (1 GiB): above a
conversion task's few hundred MB per raw file and a DataLoader worker's batch, so that the next task
or batch finds all its pages; a worker never keeps more than its own largest working set."""

_ON = ("", "1", "on", "true", "yes")
_OFF = ("0", "off", "false", "no")

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4


def setting_enabled(name: str) -> bool:
    """Whether the on/off setting in environment variable ``name`` is on (unset means on).

    Raises :class:`~eventpipe.errors.ConfigError` for a value that is neither on (``1``, ``on``,
    ``true``, ``yes``) nor off (``0``, ``off``, ``false``, ``no``), case-insensitive.

    >>> setting_enabled("EVENTPIPE_SETTING_NOBODY_SET")
    True
    """
    value = os.environ.get(name, "").strip().lower()
    if value in _ON:
        return True
    if value in _OFF:
        return False
    from eventpipe.errors import ConfigError

    valid = ", ".join(repr(v) for v in _ON[1:] + _OFF)
    raise ConfigError(f"Unknown value {os.environ[name]!r} for environment variable {name}. Valid values are {{{valid}}}.")


def keep_freed_memory(keep_bytes: int = KEEP_FREED_BYTES) -> bool:
    """Serve large blocks from the heap and keep up to ``keep_bytes`` of freed memory for reuse in
    this process (glibc's ``mallopt``). Returns whether it did: False, changing nothing, with
    ``EVENTPIPE_KEEP_FREED_MEMORY=0`` or where the C library is not glibc.

    A process-wide change: eventpipe calls it only in its DataLoader workers; call it yourself in a
    process of your own that allocates and frees the same large arrays in a loop.
    """
    if not setting_enabled(KEEP_FREED_MEMORY):
        return False
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
    arena, whose 64 MB heaps send large blocks to ``mmap`` anyway. Empty with
    ``EVENTPIPE_KEEP_FREED_MEMORY=0``."""
    if not setting_enabled(KEEP_FREED_MEMORY):
        return {}
    return {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(int(keep_bytes)), "MALLOC_ARENA_MAX": "1"}


def use_huge_pages() -> bool:
    """Let torch put CPU tensors of 2 MB and more on transparent huge pages in this process
    (``THP_MEM_ALLOC_ENABLE=1``, which torch reads at its first allocation). Returns whether it is on.

    Collating a batch of frames (tens of MB) into fresh 4 KB pages costs more than decoding it; on
    huge pages the kernel faults in 512 times fewer pages. The ``eventpipe`` command calls this in
    its own process before importing torch; ``EVENTPIPE_HUGE_PAGES=0`` turns it off, and a
    ``THP_MEM_ALLOC_ENABLE`` already set (to anything) is left as it is.
    """
    if "THP_MEM_ALLOC_ENABLE" not in os.environ and setting_enabled(HUGE_PAGES):
        os.environ["THP_MEM_ALLOC_ENABLE"] = "1"
    return os.environ.get("THP_MEM_ALLOC_ENABLE") == "1"
