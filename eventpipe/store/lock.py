"""One writer per store: a second run on the same store is refused, not interleaved.

On a local disk the lock is an advisory ``flock`` on the file ``<store>.lock`` next to the store: the
kernel drops it when the holder exits, even on ``kill -9``, so a killed run never blocks the next.
For other fsspec URLs the lock is the object ``<store>.lock`` holding the owner's host, pid and a
random token. Object stores have no atomic create, so that lock is best effort: a lock left by a
dead process on this host is taken over, one from another host must be removed by hand (the error
names it).
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from eventpipe.errors import StoreLockedError
from eventpipe.store.location import StoreLike, filesystem, is_local, normalize


def lock_path(location: StoreLike) -> str:
    """Where the lock of the store at ``location`` lives: ``<store>.lock``."""
    return normalize(location) + ".lock"


def _owner() -> dict[str, object]:
    return {"host": socket.gethostname(), "pid": os.getpid(), "token": uuid.uuid4().hex}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def _describe(owner: dict[str, object] | None) -> str:
    if not owner:
        return "another process"
    return f"process {owner.get('pid')} on host {owner.get('host')}"


@contextmanager
def store_lock(location: StoreLike) -> Iterator[None]:
    """Hold the write lock of the store at ``location`` for the ``with`` block.

    Raises
    ------
    StoreLockedError
        Another process (or another ``with`` block in this one) holds the lock.
    """
    if is_local(location):
        with _local_lock(lock_path(location), normalize(location)):
            yield
    else:
        with _url_lock(lock_path(location), normalize(location)):
            yield


@contextmanager
def _local_lock(path: str, store: str) -> Iterator[None]:
    import fcntl

    os.makedirs(os.path.dirname(path), exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                owner = json.loads(os.pread(fd, 4096, 0) or b"null")
            except ValueError:
                owner = None
            os.close(fd)
            raise StoreLockedError(
                f"{store} is being written by {_describe(owner)} (lock {path}); "
                "wait for that run to finish."
            ) from None
        # The holder before us may have unlinked the file between our open and our flock:
        # only a lock on the file that is still at ``path`` counts.
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(_owner()).encode(), 0)
        yield
    finally:
        try:
            os.unlink(path)
        finally:
            os.close(fd)  # closing releases the flock


@contextmanager
def _url_lock(path: str, store: str) -> Iterator[None]:
    fs, key = filesystem(path)
    if fs.exists(key):
        try:
            owner = json.loads(fs.cat_file(key))
        except (ValueError, OSError):
            owner = None
        stale = (
            isinstance(owner, dict)
            and owner.get("host") == socket.gethostname()
            and isinstance(owner.get("pid"), int)
            and not _alive(int(owner["pid"]))
        )
        if not stale:
            raise StoreLockedError(
                f"{store} is being written by {_describe(owner)} (lock {path}); wait for that run "
                "to finish, or delete the lock object if that process is gone."
            )
    me = _owner()
    fs.pipe_file(key, json.dumps(me).encode())
    try:
        if json.loads(fs.cat_file(key)).get("token") != me["token"]:
            raise StoreLockedError(f"{store}: another process took the lock {path} at the same time.")
        yield
    finally:
        try:
            if json.loads(fs.cat_file(key)).get("token") == me["token"]:
                fs.rm_file(key)
        except (FileNotFoundError, ValueError):
            pass
