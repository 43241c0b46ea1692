"""One exception hierarchy for eventpipe.

Every error a user can trigger is an :class:`EventpipeError`. Subclasses also inherit the builtin they
refine, so ``except ValueError`` or ``except FileNotFoundError`` in calling code keeps working.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path


class EventpipeError(Exception):
    """Base class of every error eventpipe raises on purpose."""


class ConfigError(EventpipeError, ValueError):
    """An argument, option or configuration value is invalid."""


class UnknownNameError(ConfigError, KeyError):
    """A name (dataset, reader, integrator, ...) is not registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class EventValidationError(EventpipeError, ValueError):
    """Events break an invariant: unsorted timestamps, coordinates outside the sensor, wrong dtype."""


class FormatError(EventpipeError, ValueError):
    """A file is not in the format it was read as, or its format cannot be detected."""


class CorruptRecordingError(FormatError):
    """A raw recording is truncated or corrupt at a known byte offset."""

    def __init__(self, path: str | Path, offset: int | None, reason: str) -> None:
        self.path = str(path)
        self.offset = offset
        self.reason = reason
        where = f" at byte {offset}" if offset is not None else ""
        super().__init__(f"{self.path}: corrupt{where}: {reason}")

    def __reduce__(self) -> tuple[type, tuple[str, int | None, str]]:  # picklable across Dask workers
        return (type(self), (self.path, self.offset, self.reason))


class MissingDependencyError(EventpipeError, ImportError):
    """An optional package needed for this operation is not installed."""


class DataNotFoundError(EventpipeError, FileNotFoundError):
    """Raw files or a store that an operation needs are missing."""


class ChecksumMismatch(EventpipeError, ValueError):
    """A file's checksum differs from the one its manifest (or its store) records; ``fix`` says what to do."""

    def __init__(self, path: str | Path, algorithm: str, expected: str, actual: str, fix: str = "") -> None:
        self.path = str(path)
        self.algorithm = algorithm
        self.expected = expected
        self.actual = actual
        self.fix = fix
        hint = f" ({fix})" if fix else ""
        super().__init__(f"{self.path}: {algorithm} mismatch: expected {expected}, got {actual}{hint}")

    def __reduce__(self) -> tuple[type, tuple[str, str, str, str, str]]:
        return (type(self), (self.path, self.algorithm, self.expected, self.actual, self.fix))


class DownloadError(EventpipeError, OSError):
    """A download failed on every URL after all retries."""


class UnsafeArchiveError(EventpipeError, ValueError):
    """An archive member would escape the extraction folder or is not a regular file or folder."""


class StoreSchemaError(EventpipeError, ValueError):
    """A store is missing, incomplete, of another schema version, or has another fingerprint."""


class StoreVersionError(StoreSchemaError):
    """A store was written in another schema version: it must be rebuilt, it cannot be resumed."""


class StoreCorruptError(StoreSchemaError):
    """A chunk of a store is missing or fails its checksum: the store is damaged and must be rebuilt."""


class StoreLockedError(EventpipeError, RuntimeError):
    """Another process is writing the same store."""


class TrainingError(EventpipeError, RuntimeError):
    """Training cannot go on: the loss diverged (NaN/inf) or the device ran out of memory."""


class ManualDownloadRequired(DataNotFoundError):
    """Files of a dataset must be fetched by hand (their host needs a web browser); the message says which.

    ``files`` holds one dict per file (name, size, checksums, URLs, web pages, target path) for JSON output.
    """

    def __init__(self, message: str, files: list[dict[str, object]] | None = None) -> None:
        super().__init__(message)
        self.files = list(files or [])

    def __str__(self) -> str:  # OSError would format a single argument as the message anyway; keep it explicit
        return str(self.args[0]) if self.args else ""


class StorageError(EventpipeError, OSError):
    """Writing failed for want of room or of permission; the message names the path and the fix."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class StorageFullError(StorageError):
    """The disk (or quota, or this process's file size limit) is full."""


class NotWritableError(StorageError, PermissionError):
    """A path that must be written is on a read-only file system or not writable by this user."""


_FULL = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "the disk quota is exhausted",
         errno.EFBIG: "the file size limit was reached (ulimit -f, or the file system's largest file)"}
_NOT_WRITABLE = {errno.EROFS: "the file system is read-only", errno.EACCES: "permission denied",
                 errno.EPERM: "permission denied"}


def storage_error(exc: OSError, target: str | os.PathLike[str], folder: str | os.PathLike[str] | None = None,
                  ) -> StorageError | None:
    """The :class:`StorageError` for an ``OSError`` met while writing ``target`` (a file, a store, a
    folder) in ``folder`` (default: its parent), or None for other errors.

    The message names the file the error names, else ``target``. Permission errors count only for
    ``target``, the paths under it or next to it with its name as prefix (its ``.lock``), and the
    folders above it (created for it): elsewhere they come from reading an input.
    """
    where = os.fspath(target)
    where = where if "://" in where else os.path.abspath(where)  # a URL names the store as it is
    folder = os.fspath(folder) if folder is not None else where.rsplit("/", 1)[0]
    named = isinstance(exc.filename, (str, os.PathLike))
    path = os.path.abspath(exc.filename) if named else where
    if exc.errno in _FULL:
        return StorageFullError(f"Cannot write {path}: {_FULL[exc.errno]}. Free space in {folder} or choose "
                                "another data root (--root, EVENTPIPE_HOME).")
    ours = path.startswith(where) or where.startswith(path.rstrip(os.sep) + os.sep)
    if exc.errno in _NOT_WRITABLE and (exc.errno == errno.EROFS or ours):
        return NotWritableError(f"Cannot write {path}: {_NOT_WRITABLE[exc.errno]}. Make {folder} writable or "
                                "choose another data root (--root, EVENTPIPE_HOME).")
    return None
