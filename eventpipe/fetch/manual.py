"""Files fetched by hand: exact instructions, and taking the user's verified copies (``--source``)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from eventpipe.errors import ChecksumMismatch
from eventpipe.fetch.hashing import CHUNK_BYTES, Digest, first_mismatch, hash_file
from eventpipe.fetch.transfer import partial_path
from eventpipe.manifests import FileEntry, Manifest
from eventpipe.progress import bar_disabled


def human_size(nbytes: int) -> str:
    """``1536`` -> ``'1.5 KiB'`` (binary units)."""
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    size, i = float(nbytes), 0
    while size >= 1024 and i < len(units) - 1:
        size, i = size / 1024, i + 1
    return f"{nbytes} B" if i == 0 else f"{size:.1f} {units[i]}"


def describe_size(entry: FileEntry) -> str:
    """The published size in bytes and in binary units, or 'unknown' plus the manifest's note."""
    text = "unknown" if entry.size is None else f"{entry.size:,} bytes ({human_size(entry.size)})"
    return f"{text}; {entry.note}" if entry.note else text


def manual_info(entry: FileEntry, raw_dir: Path, reason: str = "") -> dict[str, Any]:
    """What a person needs to fetch ``entry`` by hand (plain JSON)."""
    return {
        "name": entry.name,
        "size": entry.size,
        "note": entry.note,
        "checksums": dict(entry.checksums),
        "pages": list(entry.pages),
        "urls": list(entry.urls),
        "target": str(raw_dir / entry.name),
        "reason": reason,
    }


def manual_message(manifest: Manifest, entries: Sequence[FileEntry], raw_dir: Path, *, root: Path,
                   reasons: Mapping[str, str] | None = None) -> str:
    """Instructions: which files, from where, their sizes and checksums, and where they go."""
    reasons = reasons or {}
    plural = "s" if len(entries) > 1 else ""
    lines = [
        f"{manifest.name} ({manifest.title}): {len(entries)} file{plural} must be downloaded by hand "
        f"(the hosts need a web browser).",
        f"Save {'them' if plural else 'it'} into this folder: {raw_dir}",
        "(or into any folder, then pass that folder with --source)",
        "",
    ]
    for entry in entries:
        lines.append(f"  {entry.name}")
        lines.append(f"    size    {describe_size(entry)}")
        for algorithm, value in sorted(entry.checksums.items()):
            lines.append(f"    {algorithm:<7} {value}")
        lines += [f"    page    {page}" for page in entry.pages]
        lines += [f"    url     {url}" for url in entry.urls]
        lines.append(f"    target  {raw_dir / entry.name}")
        if reasons.get(entry.name):
            lines.append(f"    status  {reasons[entry.name]}")
    lines += [
        "",
        f"Then run: eventpipe download {manifest.name} --root {root} --source FOLDER"
        " (add --link to hard-link instead of copying).",
        f"License: {manifest.license}. Cite: {manifest.citation}",
    ]
    return "\n".join(lines)


def find_in_source(source: Path, name: str) -> Path | None:
    """``source/name``, else the first file called ``name`` below ``source`` (sorted walk), else ``None``."""
    direct = source / name
    if direct.is_file():
        return direct
    for folder, dirs, files in os.walk(source):
        dirs.sort()
        if name in files:
            return Path(folder) / name
    return None


def take_copy(entry: FileEntry, src: Path, dest: Path, *, link: bool = False, progress: bool = True) -> str:
    """Verify the user's copy ``src`` of ``entry`` and place it at ``dest``; returns 'copied' or 'linked'.

    A copy is hashed while it is written (the bytes that land are the bytes checked); with ``link`` the
    source is hashed, then hard-linked (copied when the file systems differ: returns 'copied').

    Raises
    ------
    ChecksumMismatch
        ``src`` has another size or checksum than published (``dest`` is left untouched).
    """
    actual_size = src.stat().st_size
    if entry.size is not None and actual_size != entry.size:
        raise ChecksumMismatch(src, "size", f"{entry.size} bytes", f"{actual_size} bytes")
    part = partial_path(dest)
    part.unlink(missing_ok=True)
    if link:
        _check(src, entry.checksums, hash_file(src, entry.checksums, progress=progress))
        try:
            os.link(src, part)
        except OSError:
            pass  # another file system: fall back to a verified copy
        else:
            os.replace(part, dest)
            return "linked"
    digest = Digest(entry.checksums)
    with tqdm(total=actual_size, unit="B", unit_scale=True, unit_divisor=1024, desc=f"copy {entry.name}",
              disable=bar_disabled(progress), leave=False) as bar, open(src, "rb") as fin, open(part, "wb") as fout:
        while chunk := fin.read(CHUNK_BYTES):
            fout.write(chunk)
            digest.update(chunk)
            bar.update(len(chunk))
    try:
        _check(src, entry.checksums, digest.hexdigests())
    except ChecksumMismatch:
        part.unlink(missing_ok=True)
        raise
    shutil.copystat(src, part)
    os.replace(part, dest)
    return "copied"


def _check(src: Path, expected: Mapping[str, str], actual: Mapping[str, str]) -> None:
    bad = first_mismatch(expected, actual)
    if bad is not None:
        raise ChecksumMismatch(src, *bad)
