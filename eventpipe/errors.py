"""One exception hierarchy for eventpipe.

Every error a user can trigger is an :class:`EventpipeError`. Subclasses also inherit the builtin they
refine, so ``except ValueError`` or ``except FileNotFoundError`` in calling code keeps working.
"""

from __future__ import annotations

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
    """A file's checksum differs from the one its manifest publishes."""

    def __init__(self, path: str | Path, algorithm: str, expected: str, actual: str) -> None:
        self.path = str(path)
        self.algorithm = algorithm
        self.expected = expected
        self.actual = actual
        super().__init__(f"{self.path}: {algorithm} mismatch: expected {expected}, got {actual}")

    def __reduce__(self) -> tuple[type, tuple[str, str, str, str]]:
        return (type(self), (self.path, self.algorithm, self.expected, self.actual))


class DownloadError(EventpipeError, OSError):
    """A download failed on every URL after all retries."""


class UnsafeArchiveError(EventpipeError, ValueError):
    """An archive member would escape the extraction folder or is not a regular file or folder."""


class StoreSchemaError(EventpipeError, ValueError):
    """A store is missing, incomplete, of another schema version, or has another fingerprint."""


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
