"""Bookkeeping in ``<root>/<dataset>/raw/.eventpipe/``: what was verified, unpacked or generated.

Records make ``download`` idempotent without re-hashing gigabytes on every call:

``verified/<file>.json``
    A file whose checksums matched, with its size and modification time (ns); while both are unchanged
    the file is trusted. ``eventpipe verify`` always re-hashes.
``unpacked/<archive>.json``
    An archive unpacked completely: its published checksums, the folder and the top-level entries it
    created. Written last, so an interrupted unpack is redone; valid only while the checksums equal the
    manifest's and the entries exist (the archive itself may then be deleted).
``generated.json``
    Files made by a generator (the ``demo`` dataset), with their sizes and sha256.

Records are written atomically (temporary file, then rename).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

RECORD_DIR = ".eventpipe"


def record_path(raw_dir: Path, kind: str, name: str = "") -> Path:
    """``raw_dir/.eventpipe/<kind>/<name>.json``, or ``raw_dir/.eventpipe/<kind>.json`` without a name."""
    base = raw_dir / RECORD_DIR
    return base / kind / f"{name}.json" if name else base / f"{kind}.json"


def read_record(path: Path) -> dict[str, Any] | None:
    """The JSON object at ``path``; ``None`` when it is missing or unreadable (then the work is redone)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_record(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` as JSON at ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def file_stamp(path: Path) -> dict[str, int]:
    """Size (bytes) and modification time (ns) of ``path``."""
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def mark_verified(raw_dir: Path, path: Path, checksums: Mapping[str, str]) -> None:
    """Record that ``path`` (a file directly in ``raw_dir``) has the published ``checksums``."""
    write_record(record_path(raw_dir, "verified", path.name), {**file_stamp(path), "checksums": dict(checksums)})


def is_verified(raw_dir: Path, path: Path, checksums: Mapping[str, str]) -> bool:
    """Whether ``path`` was verified against ``checksums`` and has not changed since."""
    record = read_record(record_path(raw_dir, "verified", path.name))
    if record is None or not path.is_file() or record.get("checksums") != dict(checksums):
        return False
    return all(record.get(k) == v for k, v in file_stamp(path).items())


def unpacked_entries(raw_dir: Path, archive: str, checksums: Mapping[str, str], extract_to: str) -> list[str] | None:
    """Top-level entries of a complete unpack of ``archive`` with these checksums, if they all still exist."""
    record = read_record(record_path(raw_dir, "unpacked", archive))
    if record is None or record.get("checksums") != dict(checksums) or record.get("extract_to") != extract_to:
        return None
    entries = record.get("entries")
    if not isinstance(entries, list):
        return None
    folder = raw_dir / extract_to
    return entries if all((folder / str(e)).exists() for e in entries) else None


def mark_unpacked(raw_dir: Path, archive: str, checksums: Mapping[str, str], extract_to: str,
                  entries: list[str]) -> None:
    """Record a complete unpack (call only after every entry is in place)."""
    write_record(record_path(raw_dir, "unpacked", archive),
                 {"checksums": dict(checksums), "extract_to": extract_to, "entries": sorted(entries)})
