from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import fsspec
import pytest

from eventpipe.errors import StoreLockedError
from eventpipe.store.lock import lock_path, store_lock


def test_second_writer_is_refused_then_admitted(tmp_path: Path) -> None:
    store = tmp_path / "events.zarr"
    with store_lock(store), pytest.raises(StoreLockedError, match=rf"being written by process {os.getpid()}"), \
            store_lock(store):
        pass
    with store_lock(store):  # released: admitted again
        pass
    assert not Path(lock_path(store)).exists()


def test_lock_of_a_killed_process_is_released(tmp_path: Path) -> None:
    store = tmp_path / "events.zarr"
    code = (
        "import sys, time\n"
        "from eventpipe.store.lock import store_lock\n"
        f"with store_lock({str(store)!r}):\n"
        "    print('locked', flush=True)\n"
        "    time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with pytest.raises(StoreLockedError, match=f"process {proc.pid}"), store_lock(store):
            pass
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with store_lock(store):  # the kernel dropped the flock of the dead process
        pass


def test_url_lock_refuses_and_takes_over_dead_owner() -> None:
    store = f"memory://{uuid.uuid4().hex}/events.zarr"
    with store_lock(store), pytest.raises(StoreLockedError, match="being written by process"), store_lock(store):
        pass
    fs = fsspec.filesystem("memory")
    key = lock_path(store).removeprefix("memory://")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    fs.pipe_file(key, json.dumps({"host": socket.gethostname(), "pid": int(dead.stdout), "token": "x"}).encode())
    time.sleep(0.05)
    with store_lock(store):  # stale: its process is gone
        pass
    fs.pipe_file(key, json.dumps({"host": "elsewhere", "pid": 1, "token": "y"}).encode())
    with pytest.raises(StoreLockedError, match="host elsewhere"), store_lock(store):
        pass
