"""Process-wide memory settings: what they do, their off switches, and that nothing applies them unasked.

Tests that change the allocator run in a child process: the setting holds for the whole process.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from eventpipe.errors import ConfigError
from eventpipe.memory import (
    HUGE_PAGES,
    KEEP_FREED_BYTES,
    KEEP_FREED_MEMORY,
    keep_freed_memory,
    malloc_environment,
    setting_enabled,
    use_huge_pages,
)

GLIBC = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")

FAULTS = """
import resource
import numpy as np
from eventpipe.memory import keep_freed_memory

def faults():
    for _ in range(5):  # like a DataLoader worker: a batch of 16 samples of 3 MB, then all freed
        batch = [np.ones(3 << 20, np.uint8) for _ in range(16)]
        del batch
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

before = faults(); fresh = faults() - before
applied = keep_freed_memory()
kept_start = faults(); kept = faults() - kept_start
print(fresh, kept, int(applied))
"""


def _faults(**env: str) -> tuple[int, int, bool]:
    environ = {k: v for k, v in os.environ.items() if k != KEEP_FREED_MEMORY}
    done = subprocess.run([sys.executable, "-c", FAULTS], capture_output=True, text=True, timeout=120,
                          env={**environ, **env})
    assert done.returncode == 0, done.stderr
    fresh, kept, applied = map(int, done.stdout.split())
    return fresh, kept, bool(applied)


@GLIBC
def test_keep_freed_memory_reuses_pages() -> None:
    fresh, kept, applied = _faults()
    assert applied
    assert fresh > 5 * 16 * 768 // 2 and kept < fresh // 10  # 768 faults per fresh 3 MB array, then almost none


@GLIBC
def test_keep_freed_memory_off_switch_changes_nothing() -> None:
    fresh, kept, applied = _faults(**{KEEP_FREED_MEMORY: "0"})
    assert not applied
    assert kept > fresh // 2  # still fresh pages for every batch


@pytest.mark.parametrize(("value", "on"), [("", True), ("1", True), ("ON", True), ("yes", True), ("0", False),
                                           ("off", False), ("False", False), ("no", False)])
def test_setting_values(monkeypatch: pytest.MonkeyPatch, value: str, on: bool) -> None:
    monkeypatch.setenv("EVENTPIPE_TEST_SETTING", value)
    assert setting_enabled("EVENTPIPE_TEST_SETTING") is on


def test_setting_unset_is_on_and_a_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVENTPIPE_TEST_SETTING", raising=False)
    assert setting_enabled("EVENTPIPE_TEST_SETTING")
    monkeypatch.setenv("EVENTPIPE_TEST_SETTING", "maybe")
    with pytest.raises(ConfigError, match=r"'maybe' for environment variable EVENTPIPE_TEST_SETTING\. Valid values"):
        setting_enabled("EVENTPIPE_TEST_SETTING")


def test_malloc_environment_and_its_off_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEEP_FREED_MEMORY, raising=False)
    assert malloc_environment() == {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(KEEP_FREED_BYTES),
                                    "MALLOC_ARENA_MAX": "1"}
    monkeypatch.setenv(KEEP_FREED_MEMORY, "0")
    assert malloc_environment() == {}
    assert keep_freed_memory() is False


def test_one_threshold_for_every_worker() -> None:
    from eventpipe.pipeline import dask as pipeline_dask

    assert KEEP_FREED_BYTES == 1 << 30
    assert not hasattr(pipeline_dask, "KEEP_FREED_BYTES")


def test_huge_pages_set_unless_switched_off_or_already_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("THP_MEM_ALLOC_ENABLE", raising=False)
    monkeypatch.delenv(HUGE_PAGES, raising=False)
    assert use_huge_pages() and os.environ["THP_MEM_ALLOC_ENABLE"] == "1"
    monkeypatch.delenv("THP_MEM_ALLOC_ENABLE")
    monkeypatch.setenv(HUGE_PAGES, "0")
    assert not use_huge_pages() and "THP_MEM_ALLOC_ENABLE" not in os.environ
    monkeypatch.setenv("THP_MEM_ALLOC_ENABLE", "0")  # the user's own choice wins either way
    monkeypatch.setenv(HUGE_PAGES, "1")
    assert not use_huge_pages() and os.environ["THP_MEM_ALLOC_ENABLE"] == "0"


def test_importing_eventpipe_changes_no_process_setting() -> None:
    code = (
        "import os, sys; before = dict(os.environ)\n"
        "import eventpipe, eventpipe.memory, eventpipe.datasets, eventpipe.pipeline.dask, eventpipe.cli.main\n"
        "print(sorted(set(os.environ.items()) ^ set(before.items())))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("THP_MEM_ALLOC_ENABLE", "MALLOC_TRIM_THRESHOLD_")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.strip() == "[]"


USER_PROCESS = """
import os, resource, sys
import numpy as np
from pathlib import Path

root = Path(sys.argv[1])
before = dict(os.environ)
from eventpipe.datasets import Demo
from eventpipe.pipeline.convert import convert
from eventpipe.sources import get_dataset
from eventpipe.synth import write_gesture_raw

write_gesture_raw(get_dataset("demo").raw_dir(root), users=2, lightings=["lab"], test_users=1, sensor=(32, 32, 2),
                  events_per_second=3_000, gesture_seconds=0.3, noise_hz=0.1, time_step_us=5000, seed=1)
convert("demo", root, scheduler="synchronous", progress=False)
ds = Demo(root, split="train", frames=4, prepare=True, scheduler="synchronous", progress=False)  # integrates here
assert sum(int(ds[i][0].sum()) for i in range(len(ds))) > 0

def faults():
    for _ in range(5):
        batch = [np.ones(3 << 20, np.uint8) for _ in range(16)]
        del batch
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

start = faults(); fresh = faults() - start
print(fresh, sorted(set(os.environ.items()) ^ set(before.items())))
"""


@GLIBC
def test_a_dataset_and_a_pipeline_call_leave_the_users_process_as_it_was(tmp_path: os.PathLike[str]) -> None:
    """Building and reading a dataset in the user's own process applies no allocator setting there
    (every batch still gets fresh pages, as without eventpipe) and changes no environment variable."""
    environ = {k: v for k, v in os.environ.items() if k not in (KEEP_FREED_MEMORY, "MALLOC_TRIM_THRESHOLD_",
                                                                  "MALLOC_MMAP_MAX_", "MALLOC_ARENA_MAX")}
    done = subprocess.run([sys.executable, "-c", USER_PROCESS, str(tmp_path)], capture_output=True, text=True,
                          timeout=300, env=environ)
    assert done.returncode == 0, done.stderr
    fresh, changed = done.stdout.split(" ", 1)
    assert int(fresh) > 5 * 16 * 768 // 2  # glibc's own behaviour: fresh pages for every batch
    assert changed.strip() == "[]"
