"""What a dataset definition is: metadata, options, and how its raw layout becomes parts of samples.

A :class:`DatasetSpec` knows a dataset's sensor, classes, splits, license and citation, and two
things about its raw files:

- :meth:`DatasetSpec.plan` lists the work: per split, a sequence of :class:`Part` objects, each a
  few raw files (or one large file, or a slice of one) that one task reads and writes as one part of
  the events store. The plan depends only on file names and sizes, so it is the same on every run.
- :meth:`DatasetSpec.read_unit` reads one :class:`Unit` (usually one raw file) into a
  :class:`~eventpipe.store.samples.SampleBatch` of labelled samples.

:func:`read_part` reads every unit of a part under the ``on_error`` policy: ``"raise"`` stops at the
first bad file, ``"skip"`` leaves it out and reports it (path, byte offset, reason), never silently.
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from eventpipe.errors import (
    ConfigError,
    CorruptRecordingError,
    DataNotFoundError,
    EventValidationError,
    FormatError,
)
from eventpipe.events import SensorSize
from eventpipe.manifests import Manifest, load_manifest
from eventpipe.store.events.encoding import EncodedBatch, encode
from eventpipe.store.samples import SampleBatch

if TYPE_CHECKING:
    from eventpipe.readers._digest import FileDigest

OnError = Literal["raise", "skip"]
ON_ERROR_CHOICES = ("raise", "skip")

PART_BYTES = 32 << 20
"""Raw bytes per part when a dataset batches small files: ~4 M events of an 8-byte format, a few
hundred MB of memory per task at most, and enough work per task to hide Dask's overhead."""


@dataclass(frozen=True)
class Unit:
    """One thing a dataset reads in one go: a raw file, a member of an archive, or a slice of a file.

    ``path`` names what is read, relative to the raw folder (POSIX separators): a file, or
    ``<archive>/<member>``; errors and the skipped-files list name it. ``files`` are the raw files the
    unit reads (checksummed; empty means ``path`` itself); ``args`` are dataset-specific,
    JSON-serialisable details (label, member name, sample range).
    """

    path: str
    args: tuple[Any, ...] = ()
    files: tuple[str, ...] = ()

    def depends_on(self) -> tuple[str, ...]:
        """Every raw file the unit reads."""
        return self.files or (self.path,)


@dataclass(frozen=True)
class Part:
    """The units of one part of the events store, written by one task.

    ``checksums`` are the raw files whose size and SHA-256 this part records: each raw file is
    checksummed by exactly one part, the first in plan order that reads it.
    """

    split: str
    index: int
    units: tuple[Unit, ...]
    checksums: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The part's name in the store: ``p00000``, ``p00001``, ..."""
        return f"p{self.index:05d}"

    def describe(self) -> dict[str, Any]:
        """A JSON-serialisable description, the input of the plan fingerprint."""
        return {
            "split": self.split,
            "key": self.key,
            "units": [[u.path, list(u.args), list(u.files)] for u in self.units],
            "checksums": list(self.checksums),
        }


@dataclass(frozen=True)
class PartResult:
    """What reading a part produced: its samples in stored form, the files checksummed, the files skipped."""

    batch: EncodedBatch
    sources: list[dict[str, Any]]
    skipped: list[dict[str, Any]]


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset definition. Subclasses implement :meth:`plan` and :meth:`read_unit`.

    Attributes are the catalogue entry: ``name`` (registry key), ``title``, ``sensor``, ``classes``,
    ``splits``, ``license``, ``citation``, ``homepage``, ``manual_download`` (the host needs a login),
    ``size`` (download size, human readable), ``aliases``, ``meta_columns`` (per-sample metadata
    written to the store), ``defaults`` (dataset options and their default values) and ``manifest``.
    Built-in definitions are made by :meth:`from_manifest`, so the facts their manifest states
    (name, aliases, title, license, citation, homepage, manual hosts) are written only there.
    """

    name: str
    title: str
    sensor: SensorSize
    classes: tuple[str, ...]
    splits: tuple[str, ...] = ("train", "test")
    license: str = ""
    citation: str = ""
    homepage: str = ""
    manual_download: bool = False
    size: str = ""
    aliases: tuple[str, ...] = ()
    meta_columns: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict, hash=False)
    manifest: Manifest | None = field(default=None, hash=False, compare=False, repr=False)

    @classmethod
    def from_manifest(cls, name: str, **layout: Any) -> Any:
        """The definition of the packaged manifest ``name``: facts from the manifest, the rest from ``layout``."""
        m = load_manifest(name)
        return cls(name=m.name, aliases=m.aliases, title=m.title, license=m.license, citation=m.citation,
                   homepage=m.homepage, manual_download=m.manual, manifest=m, **layout)

    # -- paths -------------------------------------------------------------------------------
    def raw_dir(self, root: str | os.PathLike[str]) -> Path:
        """Folder of the raw files: ``root/<name>/raw``."""
        return Path(root) / self.name / "raw"

    def events_store_path(self, root: str | os.PathLike[str]) -> Path:
        """The events store: ``root/<name>/events.zarr``."""
        return Path(root) / self.name / "events.zarr"

    def frames_root(self, root: str | os.PathLike[str]) -> Path:
        """Folder of the frames stores: ``root/<name>/frames``."""
        return Path(root) / self.name / "frames"

    # -- options -----------------------------------------------------------------------------
    def options(self, **given: Any) -> dict[str, Any]:
        """The dataset options with defaults filled in, validated; unknown names are an error."""
        unknown = sorted(set(given) - set(self.defaults))
        if unknown:
            valid = ", ".join(repr(k) for k in sorted(self.defaults)) or "none"
            raise ConfigError(f"Unknown option {unknown[0]!r} for dataset {self.name!r}. Valid options are {{{valid}}}.")
        merged = {**self.defaults, **given}
        self.check_options(merged)
        return merged

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Raise :class:`ConfigError` for an invalid option value (datasets with options override)."""

    # -- raw layout --------------------------------------------------------------------------
    def locate(self, raw_dir: Path) -> Path:
        """The folder holding the dataset's files inside ``raw_dir`` (it may sit one or two levels
        down, as archives extract). Raises :class:`DataNotFoundError` naming what is missing."""
        raise NotImplementedError

    def raw_present(self, root: str | os.PathLike[str]) -> bool:
        """True when the raw files are in place (cheap: no file is read)."""
        try:
            self.locate(self.raw_dir(root))
        except DataNotFoundError:
            return False
        return True

    def plan(self, raw_dir: Path, options: Mapping[str, Any]) -> list[Part]:
        """Every part of every split, in store order. Raises :class:`DataNotFoundError`."""
        raise NotImplementedError

    def read_unit(self, raw_dir: Path, unit: Unit, options: Mapping[str, Any]) -> SampleBatch:
        """The labelled samples of one unit. Raises :class:`FormatError` for a bad file."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.name


# -- helpers for plans ---------------------------------------------------------------------------
def find_dir(raw_dir: Path, contains: Sequence[str], what: str, depth: int = 2, *, any_of: bool = False) -> Path:
    """The first folder at most ``depth`` levels under ``raw_dir`` (breadth first, sorted) that holds
    every name in ``contains`` (or at least one, with ``any_of``); raises :class:`DataNotFoundError`
    describing the expected layout."""
    test = any if any_of else all
    level = [raw_dir]
    for _ in range(depth + 1):
        for folder in level:
            if test((folder / name).exists() for name in contains):
                return folder
        level = sorted(d for f in level if f.is_dir() for d in f.iterdir() if d.is_dir() and not _hidden(d))
    wanted = (" or " if any_of else ", ").join(contains[:4]) + (" ..." if len(contains) > 4 else "")
    raise DataNotFoundError(
        f"{what} not found: no folder under {raw_dir} holds {wanted}. "
        "Run `eventpipe download` or place the extracted files there."
    )


def _hidden(path: Path) -> bool:
    """Dot folders (``.eventpipe`` download records, ``__MACOSX`` archive debris) are not data."""
    return path.name.startswith(".") or path.name == "__MACOSX"


def natural_key(name: str) -> tuple[Any, ...]:
    """Sort key that orders embedded numbers by value: ``img_2`` before ``img_10``."""
    return tuple(int(s) if s.isdigit() else s for s in re.split(r"(\d+)", name))


def relpath(path: Path, raw_dir: Path) -> str:
    """``path`` relative to ``raw_dir`` with POSIX separators (how stores and errors name files)."""
    return path.relative_to(raw_dir).as_posix()


def batch_by_size(items: Sequence[tuple[Any, int]], budget: int = PART_BYTES) -> list[list[Any]]:
    """Consecutive groups of ``(item, n_bytes)`` holding about ``budget`` bytes each (at least one item)."""
    groups: list[list[Any]] = []
    current: list[Any] = []
    size = 0
    for item, n in items:
        if current and size + n > budget:
            groups.append(current)
            current, size = [], 0
        current.append(item)
        size += n
    if current:
        groups.append(current)
    return groups


def class_files(folder: Path, classes: Sequence[str], suffix: str) -> list[tuple[int, Path]]:
    """``(label, file)`` for every ``folder/<class>/*<suffix>``, by label then natural file order.

    A sub-folder that is not a class name is an error (it would otherwise be dropped silently); a
    class without a folder simply has no samples.
    """
    index = {c: i for i, c in enumerate(classes)}
    found: list[tuple[int, Path]] = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not _hidden(p)):
        if sub.name not in index:
            valid = ", ".join(repr(c) for c in classes[:12]) + (", ..." if len(classes) > 12 else "")
            raise DataNotFoundError(
                f"{sub}: folder {sub.name!r} is not a class of this dataset. Valid class folders are {{{valid}}}."
            )
        files = sorted((f for f in sub.iterdir() if f.is_file() and f.name.endswith(suffix) and not _hidden(f)),
                       key=lambda f: natural_key(f.name))
        found += [(index[sub.name], f) for f in files]
    found.sort(key=lambda item: item[0])  # stable: keeps the natural order within a class
    return found


def make_parts(units_by_split: Mapping[str, Iterable[Sequence[Unit]]]) -> list[Part]:
    """Number the parts of each split and give each raw file to the first part that reads it."""
    parts: list[Part] = []
    seen: set[str] = set()
    for split, groups in units_by_split.items():
        for index, units in enumerate(groups):
            files = [f for u in units for f in u.depends_on()]
            mine = tuple(f for f in dict.fromkeys(files) if f not in seen)
            seen.update(mine)
            parts.append(Part(split, index, tuple(units), mine))
    return parts


def check_fraction(name: str, value: Any) -> None:
    """Require ``0 <= value < 1`` for a split fraction option."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
        raise ConfigError(f"Expected option {name} as a number in [0, 1). Got {value!r} instead.")


def check_choice(name: str, value: Any, choices: Sequence[str]) -> None:
    """Require ``value`` to be one of ``choices``."""
    if value not in choices:
        valid = ", ".join(repr(c) for c in choices)
        raise ConfigError(f"Unknown value {value!r} for option {name}. Valid values are {{{valid}}}.")


# -- reading a part ------------------------------------------------------------------------------
def read_part(
    spec: DatasetSpec, raw_dir: Path, part: Part, options: Mapping[str, Any], on_error: OnError = "raise"
) -> PartResult:
    """Read and encode every unit of ``part``; with ``on_error="skip"`` bad files are left out and listed.

    Each unit is checked as it is encoded (sorted timestamps per sample, events inside the sensor),
    so one bad file never costs the rest of its part.

    The SHA-256 of each file in ``part.checksums`` comes from the reads that decoded it
    (:func:`eventpipe.readers._digest.record_digests`) where its reader streams it; only the others
    (label files, formats read by a library, skipped files) are read again to hash them.
    """
    from eventpipe.readers._digest import record_digests

    check_choice("on_error", on_error, ON_ERROR_CHOICES)
    batches: list[EncodedBatch] = []
    skipped: list[dict[str, Any]] = []
    with record_digests() as digests:
        for unit in part.units:
            try:
                batches.append(encode(spec.read_unit(raw_dir, unit, options), spec.sensor, unit.path))
            except (FormatError, EventValidationError) as exc:
                if on_error == "raise":
                    raise
                offset = exc.offset if isinstance(exc, CorruptRecordingError) else None
                reason = exc.reason if isinstance(exc, CorruptRecordingError) else str(exc)
                skipped.append({"path": unit.path, "offset": offset, "reason": reason})
    batch = EncodedBatch.concat(batches) if batches else EncodedBatch.empty(spec.sensor, spec.meta_columns)
    sources = [_source(raw_dir, rel, digests) for rel in part.checksums]
    return PartResult(batch, sources, skipped)


def _source(raw_dir: Path, rel: str, digests: Mapping[str, FileDigest]) -> dict[str, Any]:
    """The ``{"path", "size", "checksum"}`` record of raw file ``rel``: from ``digests`` when a reader
    hashed it while reading, else read and hashed now."""
    from eventpipe.readers._digest import FileDigest, digest_key
    from eventpipe.store.markers import file_sha256

    path = raw_dir / rel
    digest = digests.get(digest_key(path))
    if digest is None:
        digest = FileDigest(path.stat().st_size, file_sha256(str(path)))
    return {"path": rel, "size": digest.size, "checksum": "sha256:" + digest.sha256}


def segment_bounds(t: np.ndarray, start_us: np.ndarray, end_us: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index ranges of sorted timestamps ``t`` with ``start <= t < end`` for each segment.

    Bisection straight on the (strided) field: ``np.searchsorted`` would first copy it whole.
    """
    starts = [bisect.bisect_left(t, int(v)) for v in start_us]
    stops = [bisect.bisect_left(t, int(v)) for v in end_us]
    return np.asarray(starts, dtype=np.int64), np.asarray(stops, dtype=np.int64)
