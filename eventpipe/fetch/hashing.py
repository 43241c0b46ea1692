"""Checksums computed incrementally (while bytes stream in) for every algorithm a manifest publishes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path

from tqdm.auto import tqdm

from eventpipe.progress import bar_disabled

#: Read size when hashing files on disk (bytes).
CHUNK_BYTES = 1 << 20


def new_hash(algorithm: str) -> hashlib._Hash:
    """A fresh hash object; md5 is used to check integrity only, never for security."""
    return hashlib.new(algorithm, usedforsecurity=False)


class Digest:
    """Several hashes of one byte stream, fed chunk by chunk; ``nbytes`` counts the bytes seen."""

    def __init__(self, algorithms: Iterable[str]) -> None:
        self.algorithms = tuple(algorithms)
        self.reset()

    def reset(self) -> None:
        """Forget everything seen so far (start the stream again from byte 0)."""
        self._hashes = {a: new_hash(a) for a in self.algorithms}
        self.nbytes = 0

    def update(self, chunk: bytes) -> None:
        for h in self._hashes.values():
            h.update(chunk)
        self.nbytes += len(chunk)

    def hexdigests(self) -> dict[str, str]:
        return {a: h.hexdigest() for a, h in self._hashes.items()}

    def feed_file(self, path: Path, *, limit: int | None = None, bar: tqdm | None = None) -> None:
        """Hash the first ``limit`` bytes of ``path`` (all of it when ``None``), in bounded memory."""
        remaining = limit
        with open(path, "rb") as fh:
            while remaining is None or remaining > 0:
                chunk = fh.read(CHUNK_BYTES if remaining is None else min(CHUNK_BYTES, remaining))
                if not chunk:
                    break
                self.update(chunk)
                if remaining is not None:
                    remaining -= len(chunk)
                if bar is not None:
                    bar.update(len(chunk))


def hash_file(path: Path, algorithms: Iterable[str], *, progress: bool = False) -> dict[str, str]:
    """Hex digests of the whole file ``path`` for each algorithm (a progress bar in bytes when asked)."""
    digest = Digest(algorithms)
    with tqdm(total=path.stat().st_size, unit="B", unit_scale=True, unit_divisor=1024,
              desc=f"check {path.name}", disable=bar_disabled(progress), leave=False) as bar:
        digest.feed_file(path, bar=bar)
    return digest.hexdigests()


def first_mismatch(expected: Mapping[str, str], actual: Mapping[str, str]) -> tuple[str, str, str] | None:
    """``(algorithm, expected, actual)`` of the first published checksum that differs, else ``None``."""
    for algorithm in sorted(expected, key=lambda a: a != "sha256"):  # report sha256 first when both differ
        if actual.get(algorithm) != expected[algorithm]:
            return algorithm, expected[algorithm], actual.get(algorithm, "")
    return None
