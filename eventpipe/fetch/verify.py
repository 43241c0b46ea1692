"""``verify_raw``, ``verify_stores`` and ``verify_recordings``: re-check a dataset's files and stores from scratch.

Nothing is trusted from earlier runs here: every raw file (and every unpacked member with a published
checksum) is hashed again, and every store under ``<root>/<name>/`` (``events.zarr``, ``frames/*.zarr``,
and a static image dataset's ``images.zarr``) goes through
:func:`eventpipe.store.check_integrity` (every chunk's presence and checksum too, unless quick).
A user dataset has no manifest: :func:`verify_recordings` checks its recordings against the sizes its
definition lists and the SHA-256 its events store recorded when they were converted. Nothing is modified.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from eventpipe.errors import ChecksumMismatch, DataNotFoundError, StoreSchemaError
from eventpipe.fetch.download import generated_files, raw_dir_for, resolve_manifest
from eventpipe.fetch.hashing import first_mismatch, hash_file
from eventpipe.fetch.records import unpacked_entries
from eventpipe.manifests import FileEntry, Manifest
from eventpipe.progress import bar_disabled

#: Status of a check, best first.
STATUSES = ("ok", "missing", "mismatch", "problem")


@dataclass(frozen=True)
class Check:
    """One verified thing. ``target`` is relative to ``<root>/<dataset>`` (a user dataset's recording: its path)."""

    target: str
    kind: str  # "file", "unpacked", "member", "generated", "recording" or "store"
    status: str  # "ok", "missing", "mismatch" (checksums) or "problem" (store integrity)
    detail: str = ""
    algorithm: str = ""  # for a mismatch: which checksum, published and found
    expected: str = ""
    actual: str = ""

    def to_dict(self) -> dict[str, str]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class VerifyReport:
    """All checks of one dataset; ``ok`` when every check passed."""

    name: str
    folder: Path  # <root>/<name>
    checks: tuple[Check, ...]
    fix: str = ""  # what to run about missing files (default: download the dataset again)

    @property
    def ok(self) -> bool:
        return all(c.status == "ok" for c in self.checks)

    @property
    def problems(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status != "ok")

    def __add__(self, other: VerifyReport) -> VerifyReport:
        return VerifyReport(self.name, self.folder, self.checks + other.checks, self.fix or other.fix)

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.name, "folder": str(self.folder), "ok": self.ok,
                "checks": [c.to_dict() for c in self.checks]}

    def raise_for_problems(self) -> None:
        """Raise for the first problem (checksum mismatches first, then stores, then missing files)."""
        problems = self.problems
        if not problems:
            return
        summary = f"{self.name}: {len(problems)} of {len(self.checks)} checks failed"
        fix = self.fix or f"run `eventpipe download {self.name}`"
        for c in problems:
            if c.status == "mismatch":
                raise ChecksumMismatch(self.folder / c.target, c.algorithm, c.expected, c.actual, fix)
        for c in problems:
            if c.status == "problem":
                where = str(self.folder / c.target)
                detail = c.detail if c.detail.startswith(where) else f"{where}: {c.detail}"
                raise StoreSchemaError(f"{summary}; {detail}")
        missing = ", ".join(c.target for c in problems)
        raise DataNotFoundError(f"{summary}; missing: {missing} ({fix})")


def verify_raw(name: str, root: str | Path, *, manifest: Manifest | str | Path | None = None,
               progress: bool = True) -> VerifyReport:
    """Re-hash the raw files of dataset ``name`` under ``<root>/<name>/raw`` against its manifest.

    Archives are checked as files; once unpacked, their members with published checksums are hashed
    too (so an archive deleted after a complete unpack still counts as ok). For a generated dataset,
    the files are checked against the checksums recorded when they were generated.
    """
    m = resolve_manifest(name, manifest)
    raw_dir = raw_dir_for(root, m.name)
    folder = raw_dir.parent
    if m.generator is not None:
        return VerifyReport(m.name, folder, tuple(_check_generated(raw_dir, m.generator, progress)))
    checks: list[Check] = []
    for entry in m.files:
        checks += _check_file(entry, raw_dir, progress)
    return VerifyReport(m.name, folder, tuple(checks))


def verify_stores(name: str, root: str | Path, *, manifest: Manifest | str | Path | None = None,
                  quick: bool = False) -> VerifyReport:
    """Integrity of every store of dataset ``name``: ``events.zarr``, ``frames/*.zarr`` and ``images.zarr``
    (none: no checks).

    Every chunk of every array is read and checked against its checksum; ``quick`` checks the
    metadata and index only."""
    m = resolve_manifest(name, manifest)
    return _verify_stores(m.name, raw_dir_for(root, m.name).parent, quick)


def verify_recordings(name: str, root: str | Path, folder: Path, sizes: Mapping[str, int], *,
                      quick: bool = False, progress: bool = True) -> VerifyReport:
    """Check user dataset ``name``: its recordings in ``folder`` and its stores under ``<root>/<name>``.

    ``sizes`` maps each recording (relative to ``folder``) to its size when the dataset was defined.
    A recording is missing, of another size, or (once the events store is complete) of another SHA-256
    than the one recorded when it was converted; before that only the size is checked. The stores
    are checked as by :func:`verify_stores`.
    """
    home = Path(root).expanduser() / name
    recorded = _recorded_sha256(home / "events.zarr")
    redefine = f"run `eventpipe convert --from {folder} --name {name}` again"
    checks = []
    for rel, size in tqdm(sorted(sizes.items()), desc=f"check {name} recordings", unit=" files",
                          disable=bar_disabled(progress), leave=False):
        checks.append(_check_recording(folder / rel, size, recorded.get(rel), f"restore it or {redefine}"))
    return VerifyReport(name, home, tuple(checks), f"restore them or {redefine}") + _verify_stores(name, home, quick)


def _recorded_sha256(events_store: Path) -> dict[str, str]:
    """``{path: sha256}`` of the raw files a complete events store was converted from (none without one)."""
    if not events_store.exists():
        return {}
    from eventpipe.store.events import is_store_complete, read_sources

    if not is_store_complete(events_store):
        return {}
    return {s["path"]: s["checksum"].removeprefix("sha256:") for s in read_sources(events_store)}


def _check_recording(path: Path, size: int, sha256: str | None, fix: str) -> Check:
    target = str(path)
    if not path.is_file():
        return Check(target, "recording", "missing", f"gone since the dataset was defined; {fix}")
    found = path.stat().st_size
    if found != size:
        return Check(target, "recording", "mismatch", f"size: expected {size}, got {found}; {fix}", "size",
                     str(size), str(found))
    if sha256 is None:
        return Check(target, "recording", "ok", "size only: no complete events store records its checksum")
    check = _compare(target, "recording", path, {"sha256": sha256}, False)
    return replace(check, detail=f"{check.detail}; {fix}") if check.status != "ok" else check


def _verify_stores(name: str, folder: Path, quick: bool) -> VerifyReport:
    stores = [folder / name for name in ("events.zarr", "images.zarr") if (folder / name).exists()]
    stores += sorted((folder / "frames").glob("*.zarr"))
    if not stores:
        return VerifyReport(name, folder, ())
    from eventpipe.store import check_integrity  # zarr is only needed when there are stores

    checks = []
    for store in stores:
        problems = check_integrity(store, quick=quick)
        checks.append(Check(store.relative_to(folder).as_posix(), "store", "problem" if problems else "ok",
                            "; ".join(problems)))
    return VerifyReport(name, folder, tuple(checks))


def _rel(raw_dir: Path, path: Path) -> str:
    return path.relative_to(raw_dir.parent).as_posix()


def _compare(target: str, kind: str, path: Path, checksums: Mapping[str, str], progress: bool) -> Check:
    if not path.is_file():
        return Check(target, kind, "missing")
    bad = first_mismatch(checksums, hash_file(path, checksums, progress=progress))
    if bad is None:
        return Check(target, kind, "ok")
    algorithm, expected, actual = bad
    return Check(target, kind, "mismatch", f"{algorithm}: expected {expected}, got {actual}", algorithm, expected, actual)


def _check_file(entry: FileEntry, raw_dir: Path, progress: bool) -> list[Check]:
    dest = raw_dir / entry.name
    target = _rel(raw_dir, dest)
    entries = unpacked_entries(raw_dir, entry.name, entry.checksums, entry.extract_to) if entry.extract else None
    if dest.is_file() or entries is None:
        checks = [_compare(target, "file", dest, entry.checksums, progress)]
    else:
        checks = [Check(target, "file", "ok", "archive deleted after a complete unpack")]
    if not entry.extract:
        return checks
    if entries is None:
        if dest.is_file():
            checks.append(Check(target, "unpacked", "missing", "not unpacked (run the download again)"))
        return checks
    where = entry.extract_to
    checks.append(Check(target, "unpacked", "ok", f"{len(entries)} top-level entries in {where}"))
    folder = raw_dir / where
    for member in tqdm(entry.members, desc=f"check {entry.name} members", unit=" files",
                       disable=bar_disabled(progress and bool(entry.members)), leave=False):
        path = folder / member.path
        checks.append(_compare(_rel(raw_dir, path), "member", path, member.checksums, False))
    return checks


def _check_generated(raw_dir: Path, generator: str, progress: bool) -> list[Check]:
    files = generated_files(raw_dir, generator)
    if files is None:
        return [Check(_rel(raw_dir, raw_dir), "generated", "missing", "not generated yet")]
    return [_compare(_rel(raw_dir, raw_dir / rel), "generated", raw_dir / rel, {"sha256": str(info.get("sha256", ""))}, False)
            for rel, info in tqdm(sorted(files.items()), desc="check generated files", unit=" files",
                                  disable=bar_disabled(progress), leave=False)]
