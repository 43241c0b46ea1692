"""``kill -9`` during a conversion, then a rerun: the store equals an uninterrupted run, array by array."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from convert_helpers import SLOW_ENV, assert_same_store, register_slow_dataset, write_tree

from eventpipe.pipeline.convert import convert
from eventpipe.sources import get_dataset
from eventpipe.store import EventsStore
from eventpipe.store.events.writer import completed_parts, is_store_complete
from eventpipe.store.location import open_group

SCRIPT = """
import sys
sys.path.insert(0, {helpers!r})
from convert_helpers import register_slow_dataset
from eventpipe.pipeline.convert import convert
convert(register_slow_dataset(), {root!r}, scheduler="synchronous", progress=False)
"""


@pytest.mark.slow
def test_kill_then_resume_equals_uninterrupted(tmp_path: Path) -> None:
    name = register_slow_dataset()
    spec = get_dataset(name)
    killed, reference = tmp_path / "killed", tmp_path / "reference"
    write_tree(spec.raw_dir(killed))
    shutil.copytree(spec.raw_dir(killed), spec.raw_dir(reference))
    store = spec.events_store_path(killed)
    keys = [f"p{i:05d}" for i in range(4)]

    script = SCRIPT.format(helpers=str(Path(__file__).parent), root=str(killed))
    env = {**os.environ, SLOW_ENV: "0.5"}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if store.exists() and len(completed_parts(str(store), "train", keys)) >= 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    done_before = completed_parts(str(store), "train", keys)
    assert 2 <= len(done_before) < 4 and not is_store_complete(store)
    # leftovers of a part cut short mid-write (arrays, no completion marker) must be redone
    pending = next(k for k in keys if k not in done_before)
    half = open_group(str(store), "r+", path="parts/train").create_group(pending, overwrite=True)
    half.create_array("dt", shape=(3,), dtype="u4")[:] = [7, 7, 7]

    resumed = convert(name, killed, scheduler="synchronous", progress=False)
    assert resumed.status == "resumed" and resumed.parts_written == resumed.parts_total - len(done_before)
    uninterrupted = convert(name, reference, scheduler="synchronous", progress=False)
    assert uninterrupted.status == "converted"
    assert_same_store(store, spec.events_store_path(reference))
    assert EventsStore.open(store).fingerprint == uninterrupted.fingerprint
