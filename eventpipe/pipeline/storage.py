"""Running out of disk, or writing where one may not: one line naming the path, not a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from eventpipe.errors import EventpipeError, storage_error


@contextmanager
def storage_errors(target: str | Path) -> Iterator[None]:
    """Turn an ``OSError`` of a full disk, or of a permission refused on ``target`` (a store, its lock,
    a dataset folder: see :func:`~eventpipe.errors.storage_error`), into a
    :class:`~eventpipe.errors.StorageError`; any other error passes unchanged."""
    try:
        yield
    except OSError as exc:
        if isinstance(exc, EventpipeError):
            raise
        error = storage_error(exc, target)
        if error is None:
            raise
        raise error from None
