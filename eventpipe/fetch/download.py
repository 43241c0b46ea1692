"""``download_dataset``: make a dataset's raw files present, verified and unpacked (idempotent, resumable)."""

from __future__ import annotations

import errno
import functools
import importlib
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from eventpipe.errors import (
    ChecksumMismatch,
    ConfigError,
    DataNotFoundError,
    DownloadError,
    EventpipeError,
    FormatError,
    ManualDownloadRequired,
    UnsafeArchiveError,
    storage_error,
)
from eventpipe.fetch.extract import extract_archive, move_entries
from eventpipe.fetch.hashing import first_mismatch, hash_file
from eventpipe.fetch.manual import find_in_source, human_size, manual_info, manual_message, take_copy
from eventpipe.fetch.records import (
    RECORD_DIR,
    file_stamp,
    is_verified,
    mark_unpacked,
    mark_verified,
    read_record,
    record_path,
    unpacked_entries,
    write_record,
)
from eventpipe.fetch.transfer import (
    Cancel,
    FetchOptions,
    HostUnreachable,
    fetch_file,
    move_aside,
    partial_path,
)
from eventpipe.manifests import FileEntry, Manifest, load_manifest


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file.

    ``status`` is one of ``present`` (already there and verified), ``unpacked`` (the archive was deleted
    after a complete unpack), ``downloaded``, ``copied`` or ``linked`` (taken from ``source``), ``generated``.
    """

    name: str
    path: Path
    status: str
    url: str | None = None  # the URL that delivered it
    source: str | None = None  # the user's copy it was taken from
    received: int = 0  # bytes received over the network
    resumed_from: int = 0  # bytes of an earlier partial download that were kept (0 when all was sent again)

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "path": str(self.path)}


@dataclass(frozen=True)
class DownloadResult:
    """Outcome of :func:`download_dataset`."""

    name: str
    raw_dir: Path
    files: tuple[FileOutcome, ...]
    unpacked: tuple[str, ...] = ()  # archives unpacked by this call
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.name,
            "raw_dir": str(self.raw_dir),
            "files": [f.to_dict() for f in self.files],
            "unpacked": list(self.unpacked),
            "warnings": list(self.warnings),
        }


def raw_dir_for(root: str | Path, name: str) -> Path:
    """``<root>/<name>/raw``: where a dataset's raw files live."""
    return Path(root).expanduser() / name / "raw"


def resolve_manifest(name: str, manifest: Manifest | str | Path | None = None) -> Manifest:
    """The manifest for dataset ``name``: the packaged one, or ``manifest`` (object or TOML path) checked
    to describe ``name``."""
    if manifest is None:
        return load_manifest(name)
    loaded = manifest if isinstance(manifest, Manifest) else load_manifest(Path(manifest))
    if name.strip().lower() not in (loaded.name, *loaded.aliases):
        raise ConfigError(f"manifest {loaded.source} describes {loaded.name!r}, not {name!r}")
    return loaded


def _storage_errors(fn: Callable[..., DownloadResult]) -> Callable[..., DownloadResult]:
    """``fn(name, root, ...)`` with a full or unwritable data root reported in one line (:func:`storage_error`)."""

    @functools.wraps(fn)
    def wrapper(name: str, root: str | Path, *args: Any, **kwargs: Any) -> DownloadResult:
        try:
            return fn(name, root, *args, **kwargs)
        except EventpipeError:
            raise
        except OSError as exc:
            folder = Path(root).expanduser()
            mapped = storage_error(exc, folder, folder)
            if mapped is None:
                raise
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                more = _space_short(name, folder, kwargs.get("manifest"))
                if more is not None:
                    mapped = type(mapped)(f"{mapped} The download needs about {human_size(more)} more.")
            raise mapped from exc

    return wrapper


def _space_short(name: str, root: Path, manifest: Manifest | str | Path | None) -> int | None:
    """Bytes the rest of the download needs beyond the free space of its raw folder, or None when unknown.

    Known from the manifest's declared sizes: what the files still to download lack (their ``.part``
    files stay for the rerun) and the declared members of the archives still to unpack. Unknown when a
    file left to download declares no size (or the manifest is a generator's), or when the estimate fits.
    """
    try:
        m = resolve_manifest(name, manifest)
        raw_dir = raw_dir_for(root, m.name)
        if m.generator is not None:
            return None
        needed = 0
        for entry in m.files:
            dest = raw_dir / entry.name
            if entry.extract and unpacked_entries(raw_dir, entry.name, entry.checksums, entry.extract_to) is not None:
                continue
            if not is_verified(raw_dir, dest, entry.checksums):
                if entry.size is None:
                    return None
                part = partial_path(dest)
                needed += max(entry.size - (part.stat().st_size if part.exists() else 0), 0)
            if entry.extract:
                needed += sum(member.size or 0 for member in entry.members)
        short = needed - shutil.disk_usage(raw_dir).free
    except (EventpipeError, OSError):
        return None
    return short if short > 0 else None


@_storage_errors
def download_dataset(
    name: str,
    root: str | Path,
    *,
    source: str | Path | None = None,
    link: bool = False,
    mirrors: Sequence[str] = (),
    progress: bool = True,
    manifest: Manifest | str | Path | None = None,
    options: FetchOptions | None = None,
) -> DownloadResult:
    """Make the raw files of dataset ``name`` present and verified under ``<root>/<name>/raw``.

    Files already verified are kept; partial downloads resume; archives are unpacked once (safely). For
    a generated dataset (``demo``) the generator writes the raw files instead. Safe to call again at any
    time: it only does what is missing.

    Parameters
    ----------
    name
        Dataset name or alias (``eventpipe datasets`` lists them).
    root
        Data root (``<root>/<name>/raw`` receives the files).
    source
        Folder holding copies fetched by hand (searched recursively by file name). Copies are verified
        before they are taken; files not found there are downloaded when their hosts allow it.
    link
        Hard-link copies from ``source`` instead of copying them (falls back to copying across file systems).
    mirrors
        Extra base URLs tried before the manifest's URLs: ``<mirror>/<file name>``. They are also tried
        for files marked manual.
    progress
        Progress bars (bytes, rate, ETA).
    manifest
        Use this manifest (object or TOML path) instead of the packaged one.
    options
        Timeouts, retries, backoff and concurrency (:class:`FetchOptions`).

    Raises
    ------
    ManualDownloadRequired
        Some files must be fetched by hand; the message says which, from where, their sizes, checksums
        and target paths (``.files`` has the same as dicts).
    HostUnreachable
        No host could be reached for any failed file (offline): one line that suggests ``--source``.
    ChecksumMismatch, DownloadError, UnsafeArchiveError, FormatError
        A file could not be obtained intact, in time (``DownloadTimedOut``) or unpacked safely within
        ``options.unpack`` (all other files are still completed).
    """
    m = resolve_manifest(name, manifest)
    root = Path(root).expanduser()
    raw_dir = raw_dir_for(root, m.name)
    raw_dir.mkdir(parents=True, exist_ok=True)
    if m.generator is not None:
        return _generate(m.name, m.generator, raw_dir, progress=progress)
    options = options or FetchOptions()
    bases = [_check_mirror(url) for url in mirrors]
    source_dir = Path(source).expanduser() if source is not None else None
    if source_dir is not None and not source_dir.is_dir():
        raise DataNotFoundError(f"--source folder {source_dir} does not exist")

    outcomes: dict[str, FileOutcome] = {}
    errors: list[EventpipeError] = []
    warnings: list[str] = []
    reasons: dict[str, str] = {}
    manual: list[FileEntry] = []
    jobs: list[tuple[FileEntry, list[str]]] = []
    for entry in m.files:
        dest = raw_dir / entry.name
        present = _present(entry, raw_dir, progress=progress, reasons=reasons)
        if present is not None:
            outcomes[entry.name] = present
            continue
        if source_dir is not None:
            src = find_in_source(source_dir, entry.name)
            if src is not None:
                try:
                    status = take_copy(entry, src, dest, link=link, progress=progress)
                except ChecksumMismatch as exc:
                    errors.append(exc)
                    continue
                mark_verified(raw_dir, dest, entry.checksums)
                outcomes[entry.name] = FileOutcome(entry.name, dest, status, source=str(src))
                continue
            reasons[entry.name] = f"not found in {source_dir}"
        urls = [f"{base}/{quote(entry.name)}" for base in bases] + ([] if entry.manual else list(entry.urls))
        if urls:
            jobs.append((entry, urls))
        else:
            manual.append(entry)

    _download_all(jobs, raw_dir, options, progress, outcomes, errors)
    unpacked = _unpack_all(m, raw_dir, outcomes, options, progress, errors, warnings)
    warnings += [f"{file}: {why}" for file, why in reasons.items() if file in outcomes]
    if len(errors) > 1 and all(isinstance(e, HostUnreachable) for e in errors):  # offline: one line says it
        more = len(errors) - 1
        raise HostUnreachable(f"{errors[0]} ({more} more file{'s' if more > 1 else ''} failed the same way)")
    if errors:
        raise errors[0] if len(errors) == 1 else DownloadError(
            f"{m.name}: {len(errors)} files failed:\n  " + "\n  ".join(str(e) for e in errors))
    if manual:
        raise ManualDownloadRequired(
            manual_message(m, manual, raw_dir, root=root, reasons=reasons),
            [manual_info(e, raw_dir, reasons.get(e.name, "")) for e in manual],
        )
    files = tuple(outcomes[e.name] for e in m.files)
    return DownloadResult(m.name, raw_dir, files, tuple(unpacked), tuple(warnings))


def _check_mirror(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"Expected an http(s) URL for mirrors (--mirror). Got {url!r} instead.")
    return url.rstrip("/")


def _present(entry: FileEntry, raw_dir: Path, *, progress: bool, reasons: dict[str, str]) -> FileOutcome | None:
    """The outcome when ``entry`` needs no work; a corrupt file in its place is moved aside first."""
    dest = raw_dir / entry.name
    if not dest.exists():
        if entry.extract and unpacked_entries(raw_dir, entry.name, entry.checksums, entry.extract_to) is not None:
            return FileOutcome(entry.name, dest, "unpacked")
        return None
    if is_verified(raw_dir, dest, entry.checksums):
        return FileOutcome(entry.name, dest, "present")
    bad = first_mismatch(entry.checksums, hash_file(dest, entry.checksums, progress=progress))
    if bad is None:
        mark_verified(raw_dir, dest, entry.checksums)
        return FileOutcome(entry.name, dest, "present")
    aside = move_aside(dest, dest)
    algorithm, expected, actual = bad
    reasons[entry.name] = (f"the file in place had {algorithm} {actual}, expected {expected}; "
                           f"moved aside to {aside.name}")
    return None


def _download_all(jobs: list[tuple[FileEntry, list[str]]], raw_dir: Path, options: FetchOptions, progress: bool,
                  outcomes: dict[str, FileOutcome], errors: list[EventpipeError]) -> None:
    """Download the files of ``jobs`` concurrently (``options.max_workers`` threads)."""
    if not jobs:
        return
    workers = min(options.max_workers, len(jobs))
    cancel = Cancel()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="eventpipe-download")
    try:
        futures = {
            pool.submit(fetch_file, urls, raw_dir / entry.name, checksums=entry.checksums, size=entry.size,
                        options=options, progress=progress, position=i if workers > 1 else None,
                        cancel=cancel): entry
            for i, (entry, urls) in enumerate(jobs)
        }
        for future in as_completed(futures):
            entry = futures[future]
            try:
                transfer = future.result()
            except (ChecksumMismatch, DownloadError) as exc:
                errors.append(exc)
                continue
            dest = raw_dir / entry.name
            mark_verified(raw_dir, dest, entry.checksums)
            outcomes[entry.name] = FileOutcome(entry.name, dest, "downloaded", url=transfer.url,
                                               received=transfer.received, resumed_from=transfer.resumed_from)
    except BaseException:
        cancel.set()  # Ctrl-C: shut the connections down so the threads stop now; .part files stay for a resume
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _unpack_all(m: Manifest, raw_dir: Path, outcomes: dict[str, FileOutcome], options: FetchOptions,
                progress: bool, errors: list[EventpipeError], warnings: list[str]) -> list[str]:
    """Unpack every present archive that has no complete-unpack record yet; returns their names."""
    done: list[str] = []
    protected = {f.name for f in m.files} | {RECORD_DIR}
    for entry in m.files:
        if not entry.extract or entry.name not in outcomes:
            continue
        if unpacked_entries(raw_dir, entry.name, entry.checksums, entry.extract_to) is not None:
            continue
        sizes = {member.path: member.size for member in entry.members if member.size is not None}
        try:
            entries = extract_archive(raw_dir / entry.name, raw_dir / entry.extract_to, nested=entry.nested,
                                      protected=protected if entry.extract_to == "." else (), sizes=sizes,
                                      limits=options.unpack, progress=progress)
        except (UnsafeArchiveError, FormatError) as exc:
            errors.append(exc)
            continue
        mark_unpacked(raw_dir, entry.name, entry.checksums, entry.extract_to, entries)
        done.append(entry.name)
        missing = [p for p in entry.provides if not (raw_dir / p).exists()]
        if missing:
            warnings.append(f"{entry.name}: unpacked, but {missing} did not appear in {raw_dir} "
                            "(the archive's layout differs from the manifest)")
    return done


# ------------------------------------------------------------------------------------------ generated data


def _generate(name: str, spec: str, raw_dir: Path, *, progress: bool) -> DownloadResult:
    """Run the generator ``spec`` once; later calls keep its files while they are unchanged."""
    files = generated_files(raw_dir, spec)
    if files is not None and all(_stamp_matches(raw_dir / rel, info) for rel, info in files.items()):
        return DownloadResult(name, raw_dir, tuple(FileOutcome(rel, raw_dir / rel, "present") for rel in files))
    generator = resolve_generator(spec)
    for stale in raw_dir.parent.glob(f".{name}.*.generating"):  # left by an interrupted run
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".generating", dir=raw_dir.parent))
    try:
        generator(tmp, progress=progress)
        made = sorted(_walk_files(tmp))
        move_entries(tmp, raw_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    record = {rel: {**file_stamp(raw_dir / rel), **hash_file(raw_dir / rel, ["sha256"])} for rel in made}
    write_record(record_path(raw_dir, "generated"), {"generator": spec, "files": record})
    return DownloadResult(name, raw_dir, tuple(FileOutcome(rel, raw_dir / rel, "generated") for rel in made))


def generated_files(raw_dir: Path, generator: str) -> dict[str, dict[str, Any]] | None:
    """``{relative path: {size, mtime_ns, sha256}}`` recorded for ``generator``, or ``None``."""
    record = read_record(record_path(raw_dir, "generated"))
    if record is None or record.get("generator") != generator or not isinstance(record.get("files"), dict):
        return None
    return record["files"]


def resolve_generator(spec: str) -> Callable[..., Any]:
    """The function named ``"eventpipe.module:function"``."""
    module_name, _, func_name = spec.partition(":")
    try:
        func = getattr(importlib.import_module(module_name), func_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"generator {spec!r} is not available: {exc}") from exc
    if not callable(func):
        raise ConfigError(f"generator {spec!r} is not a function")
    return func


def _stamp_matches(path: Path, info: dict[str, Any]) -> bool:
    return path.is_file() and all(info.get(k) == v for k, v in file_stamp(path).items())


def _walk_files(folder: Path) -> list[str]:
    found = []
    for current, dirs, files in os.walk(folder):
        dirs.sort()
        found += [Path(current, f).relative_to(folder).as_posix() for f in files]
    return found
