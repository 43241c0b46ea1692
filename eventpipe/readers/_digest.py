"""SHA-256 of the raw files the readers read, computed from the bytes they read anyway.

A conversion records every raw file's size and SHA-256 in the store. Hashing a file on its own
reads it a second time; inside :func:`record_digests`, the streaming readers
(:func:`eventpipe.readers._stream.decode_file`) hash each buffer right after reading it, while it
is still in cache, and record the digest of every file they read to its end. The digest is the one
:func:`eventpipe.store.markers.file_sha256` gives for the same bytes.

Hashing costs the same either way; what the streaming readers save is the separate pass: reading
the file again and the Python overhead of its loop (``eventpipe bench convert`` times conversion
with the digests).

>>> from eventpipe.readers import read_events  # doctest: +SKIP
>>> with record_digests() as digests:         # doctest: +SKIP
...     events = read_events("user01_natural.aedat")
>>> digests[digest_key("user01_natural.aedat")].sha256  # doctest: +SKIP
'5b1f...'
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class FileDigest:
    """A whole file as read: ``size`` in bytes and the hex ``sha256`` of those bytes."""

    size: int
    sha256: str


_DIGESTS: ContextVar[dict[str, FileDigest] | None] = ContextVar("eventpipe_file_digests", default=None)


def digest_key(path: str | os.PathLike[str]) -> str:
    """The key of ``path`` in a :func:`record_digests` mapping: its absolute, normalised path."""
    return os.path.abspath(os.fspath(path))


@contextmanager
def record_digests() -> Iterator[dict[str, FileDigest]]:
    """Collect ``{digest_key(path): FileDigest}`` of every file a streaming reader reads to its end
    within the block (in this thread or task; nested blocks collect separately). A file whose read
    fails is not recorded."""
    digests: dict[str, FileDigest] = {}
    token = _DIGESTS.set(digests)
    try:
        yield digests
    finally:
        _DIGESTS.reset(token)


class FileHasher:
    """Hashes a file's bytes as a reader reads them, then records the digest (see the module docstring).

    ``update`` every buffer read, in file order from byte 0; ``finish`` once the end of the file was
    reached.
    """

    def __init__(self, path: str | os.PathLike[str], into: dict[str, FileDigest]) -> None:
        self._key = digest_key(path)
        self._into = into
        self._sha = hashlib.sha256()
        self._size = 0

    @classmethod
    def if_recording(cls, path: str | os.PathLike[str]) -> FileHasher | None:
        """A hasher for ``path`` inside :func:`record_digests`, else None (nothing to do)."""
        into = _DIGESTS.get()
        return None if into is None else cls(path, into)

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """Hash the next bytes of the file (hashlib releases the GIL for large buffers)."""
        self._sha.update(data)
        self._size += memoryview(data).nbytes

    def finish(self) -> FileDigest:
        """Record and return the digest of everything hashed."""
        digest = FileDigest(self._size, self._sha.hexdigest())
        self._into[self._key] = digest
        return digest
