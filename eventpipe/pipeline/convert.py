"""``convert``: a dataset's raw files -> its events store, in parallel, resumable and idempotent.

>>> result = convert("demo", root)           # doctest: +SKIP
>>> result.status, result.num_samples        # doctest: +SKIP
('converted', {'train': 273, 'test': 61})

Steps: the dataset definition plans its parts (a few raw files each); under the store lock the store
is created or resumed (:func:`eventpipe.store.events.writer.begin`); one Dask task per part (or per
group of parts, ``partitions=``) reads the raw files and writes the part; the driver then indexes
the splits and marks the store complete. A killed run leaves finished parts marked complete and the
rest unmarked, so the next run redoes only the rest, and the finished store is identical to one from
an uninterrupted run. Partitioning and scheduler never change the store: the parts are fixed by the
plan, tasks only decide who writes which.

:func:`convert_folder` first defines a user dataset from a folder of recordings
(:mod:`eventpipe.sources.user.folder`), writes the definition to ``root/<name>/dataset.toml`` when it
is new or changed, then converts it like any dataset: the recordings are read where they are.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from eventpipe.errors import ConfigError, CorruptRecordingError, EventValidationError, FormatError
from eventpipe.events import SensorSize
from eventpipe.pipeline.dask import SYNCHRONOUS, dask_client, run_tasks
from eventpipe.pipeline.storage import storage_errors
from eventpipe.sources import get_dataset, is_registered, use_root
from eventpipe.sources.base import ON_ERROR_CHOICES, DatasetSpec, OnError, Part, check_choice, read_part
from eventpipe.sources.user import UserDatasetSpec, definition_path, find_user_dataset, user_dataset_toml
from eventpipe.store import events as events_writer
from eventpipe.store.location import StoreLike, exists, normalize
from eventpipe.store.lock import store_lock
from eventpipe.store.markers import COMPLETE, fingerprint, read_attrs

if TYPE_CHECKING:
    from distributed import Client

Status = Literal["converted", "resumed", "up-to-date"]


@dataclass(frozen=True)
class ConvertResult:
    """What :func:`convert` did.

    ``status`` is ``"converted"`` (new store), ``"resumed"`` (an interrupted store finished) or
    ``"up-to-date"`` (nothing to do). ``skipped`` lists raw files left out as corrupt (path, byte
    offset or None, reason, split). ``cpu_seconds`` is the CPU time the tasks used, summed over workers.
    ``definition`` is set by :func:`convert_folder`: the ``path`` of the user dataset's definition and
    its ``status`` (``"created"``, ``"updated"`` or ``"unchanged"``).
    """

    dataset: str
    store: str
    status: Status
    parts_total: int
    parts_written: int
    num_samples: dict[str, int]
    num_events: dict[str, int]
    skipped: list[dict[str, Any]]
    fingerprint: str
    seconds: float
    cpu_seconds: float = 0.0
    options: dict[str, Any] = field(default_factory=dict)
    definition: dict[str, str] = field(default_factory=dict)

    @property
    def events_total(self) -> int:
        return sum(self.num_events.values())


def plan_fingerprint(parts: Sequence[Part], raw_dir: Path) -> str:
    """Fingerprint of the plan: every part's units and the sizes of the files it checksums."""
    return fingerprint([
        {**p.describe(), "sizes": [(raw_dir / f).stat().st_size for f in p.checksums]} for p in parts
    ])


def convert_parts(
    spec: DatasetSpec,
    raw_dir: str,
    location: str,
    parts: Sequence[Part],
    options: Mapping[str, Any],
    on_error: OnError,
) -> list[dict[str, Any]]:
    """One task: read and write each of ``parts``; return one outcome per part attempted.

    A bad file under ``on_error="raise"`` ends the task with an outcome carrying ``error`` (the
    driver raises it; errors are returned as data because they cross process boundaries). ``cpu_s``
    is the CPU time the worker process spent on the part (exact for single-threaded workers).
    """
    outcomes: list[dict[str, Any]] = []
    for part in parts:
        cpu = time.process_time()
        try:
            result = read_part(spec, Path(raw_dir), part, options, on_error)
        except CorruptRecordingError as exc:
            outcomes.append({"part": part.key, "split": part.split,
                             "error": {"path": exc.path, "offset": exc.offset, "reason": exc.reason}})
            break
        except (FormatError, EventValidationError) as exc:
            outcomes.append({"part": part.key, "split": part.split,
                             "error": {"kind": type(exc).__name__, "message": str(exc)}})
            break
        sizes = events_writer.write_part(
            location, part.split, part.key, result.batch, sources=result.sources, skipped=result.skipped
        )
        outcomes.append({"part": part.key, "split": part.split, **sizes, "skipped": len(result.skipped),
                         "cpu_s": time.process_time() - cpu})
    return outcomes


def _raw_bytes(raw_dir: Path, parts: Sequence[Part]) -> int:
    """Bytes of the raw files ``parts`` read (each counted once): the estimate of a task's run time."""
    total = 0
    for name in dict.fromkeys(f for p in parts for u in p.units for f in u.depends_on()):
        with contextlib.suppress(OSError):  # a name that is no file: its unit lists its files too
            total += (raw_dir / name).stat().st_size
    return total


def _raise(error: Mapping[str, Any]) -> None:
    if "path" in error:
        raise CorruptRecordingError(error["path"], error["offset"], error["reason"])
    if error["kind"] == "EventValidationError":
        raise EventValidationError(error["message"])
    raise FormatError(error["message"])


def _check_partitions(partitions: int | None) -> None:
    if partitions is not None and (isinstance(partitions, bool) or not isinstance(partitions, int) or partitions < 1):
        raise ConfigError(f"Expected partitions as an integer >= 1. Got {partitions!r} instead.")


def _groups(parts: Sequence[Part], partitions: int | None) -> list[list[Part]]:
    """Consecutive groups of ``parts``: one per part, or ``partitions`` groups of near-equal size."""
    _check_partitions(partitions)
    if partitions is None:
        return [[p] for p in parts]
    n = min(partitions, len(parts)) or 1
    size, extra = divmod(len(parts), n)
    groups, start = [], 0
    for i in range(n):
        stop = start + size + (1 if i < extra else 0)
        groups.append(list(parts[start:stop]))
        start = stop
    return [g for g in groups if g]


def _store_header(spec: DatasetSpec, options: Any, parts: Sequence[Part],
                  raw_dir: Path) -> events_writer.StoreHeader:
    return events_writer.StoreHeader(
        dataset=spec.name, sensor=spec.sensor, classes=spec.classes, splits=spec.splits,
        options=options, plan=plan_fingerprint(parts, raw_dir),
    )


def events_up_to_date(name: str, root: str | os.PathLike[str], **dataset_options: Any) -> bool:
    """Whether :func:`convert` has nothing to do: the complete events store was made from the raw files
    there now. Reads only, so ``prepare`` needs no download check (a manual archive already unpacked
    and removed, a read-only root) when the store is current."""
    spec = get_dataset(name, root)
    location = normalize(spec.events_store_path(root))
    attrs = read_attrs(location) if exists(location) else None
    if not (attrs and attrs.get(COMPLETE)):
        return False
    raw_dir = (spec.recordings_dir if isinstance(spec, UserDatasetSpec) else spec.raw_dir(root)).absolute()
    options = spec.options(**dataset_options)
    try:
        parts = spec.plan(raw_dir, options)
    except (OSError, ValueError):  # raw files half there: the download step puts them right
        return False
    return _store_header(spec, options, parts, raw_dir).matches(attrs)


def convert(
    name: str,
    root: str | os.PathLike[str],
    *,
    store: StoreLike | None = None,
    workers: int | None = None,
    scheduler: str | Client | None = None,
    on_error: OnError = "raise",
    progress: bool = True,
    partitions: int | None = None,
    dashboard: Callable[[str], None] | None = None,
    **dataset_options: Any,
) -> ConvertResult:
    """Convert dataset ``name``'s raw files under ``root`` into its events store.

    Parameters
    ----------
    name:
        A registered dataset (``eventpipe datasets`` lists them) or a user dataset under ``root``.
    root:
        Data folder; raw files are read from ``root/<name>/raw`` (a user dataset's from its folder).
    store:
        Where to write the events store (local path or fsspec URL); default ``root/<name>/events.zarr``.
    workers, scheduler:
        Parallelism, see :mod:`eventpipe.pipeline.dask`.
    on_error:
        ``"raise"`` stops at the first corrupt raw file (the error names file and byte offset);
        ``"skip"`` leaves such files out and lists them in the store attributes and the result.
    progress:
        Show a progress bar.
    partitions:
        Number of tasks to spread the parts over (default: one task per part).
    dashboard:
        Start a local cluster's Dask dashboard (on 127.0.0.1) and call this with its URL; without it
        the cluster has none.
    **dataset_options:
        Dataset-specific options, e.g. ``split_scheme="first_100"`` for ``cifar10dvs``.

    Raises
    ------
    UnknownNameError, ConfigError
        Unknown dataset, option or value.
    DataNotFoundError
        The raw files are missing.
    StoreLockedError
        Another run is writing the same store.
    CorruptRecordingError, FormatError, EventValidationError
        A bad raw file under ``on_error="raise"``.
    """
    started = time.perf_counter()
    check_choice("on_error", on_error, ON_ERROR_CHOICES)
    _check_partitions(partitions)
    spec = get_dataset(name, root)
    options = spec.options(**dataset_options)
    raw_dir = (spec.recordings_dir if isinstance(spec, UserDatasetSpec) else spec.raw_dir(root)).absolute()
    location = normalize(store if store is not None else spec.events_store_path(root))
    if location.startswith("memory://"):  # other processes cannot see this process's memory file system
        if scheduler not in (None, SYNCHRONOUS):
            raise ConfigError(f"The store {location} lives in this process's memory; convert it with "
                              f"scheduler=None or {SYNCHRONOUS!r}, not on the cluster at {scheduler!r}.")
        scheduler = SYNCHRONOUS
    parts = spec.plan(raw_dir, options)
    header = _store_header(spec, options, parts, raw_dir)
    keys = {s: [p.key for p in parts if p.split == s] for s in spec.splits}
    todo: list[Part] = []
    cpu_seconds = 0.0
    attrs = read_attrs(location) if exists(location) else None
    if attrs is not None and attrs.get(COMPLETE) and header.matches(attrs):
        status = "complete"  # up to date: read, never locked or written, so a read-only root works too
    else:
        with storage_errors(location), store_lock(location):
            status = events_writer.begin(location, header)
            todo = list(parts)
            if status == "resume":
                done = {s: events_writer.completed_parts(location, s, keys[s]) for s in spec.splits}
                todo = [p for p in parts if p.key not in done[p.split]]
            if status != "complete":
                cpu_seconds = _run(spec, raw_dir, location, todo, options, on_error, workers, scheduler, progress,
                                   partitions, dashboard)
                attrs = events_writer.finalize(location, header, keys)
            else:
                attrs = read_attrs(location)
    attrs = attrs or {}
    return ConvertResult(
        dataset=spec.name,
        store=location,
        status={"new": "converted", "resume": "resumed", "complete": "up-to-date"}[status],  # type: ignore[arg-type]
        parts_total=len(parts),
        parts_written=0 if status == "complete" else len(todo),
        num_samples=dict(attrs.get("num_samples", {})),
        num_events=dict(attrs.get("num_events", {})),
        skipped=list(attrs.get("skipped", [])),
        fingerprint=str(attrs.get("fingerprint", "")),
        seconds=time.perf_counter() - started,
        cpu_seconds=cpu_seconds,
        options=options,
    )


def _run(
    spec: DatasetSpec, raw_dir: Path, location: str, todo: list[Part], options: Mapping[str, Any],
    on_error: OnError, workers: int | None, scheduler: str | Client | None, progress: bool, partitions: int | None,
    dashboard: Callable[[str], None] | None = None,
) -> float:
    """Run the tasks; raise the first bad-file error; return the CPU seconds the parts took."""
    if not todo:
        return 0.0
    groups = _groups(todo, partitions)
    args = [(spec, str(raw_dir), location, group, dict(options), on_error) for group in groups]
    errors: list[Mapping[str, Any]] = []
    cpu = [0.0]

    def check(outcomes: list[dict[str, Any]]) -> bool:
        errors.extend(o["error"] for o in outcomes if "error" in o)
        cpu[0] += sum(o.get("cpu_s", 0.0) for o in outcomes)
        return not errors

    raw_bytes = {id(group): _raw_bytes(raw_dir, group) for group in groups}
    with dask_client(workers, scheduler, n_tasks=len(groups), keep_freed_memory=True, dashboard=dashboard) as client:
        run_tasks(convert_parts, args, client, progress=progress, desc=f"convert {spec.name}", unit="part",
                  weight=lambda a: len(a[3]), cost=lambda a: raw_bytes[id(a[3])], on_result=check)
    if errors:
        _raise(errors[0])
    return cpu[0]


def convert_folder(
    folder: str | os.PathLike[str],
    name: str,
    root: str | os.PathLike[str],
    *,
    labels: str | os.PathLike[str] | None = None,
    split: str | os.PathLike[str] | None = None,
    test_fraction: float = 0.2,
    sensor: SensorSize | None = None,
    on_error: OnError = "raise",
    **run: Any,
) -> ConvertResult:
    """Define user dataset ``name`` from the recordings in ``folder`` and convert it under ``root``.

    The definition (see :func:`eventpipe.sources.user.folder.define_from_folder` for ``labels``,
    ``split``, ``test_fraction`` and ``sensor``) is written to ``root/<name>/dataset.toml`` when it
    is new or changed; nothing is copied from ``folder``. Running it again on the same folder changes
    nothing; a folder with files added, removed or changed rebuilds the events store (its plan
    fingerprint changes) and so, on their next use, the frames stores. ``run`` takes the other
    arguments of :func:`convert` (``workers``, ``scheduler``, ``progress``, ``partitions``, ``dashboard``).

    Raises
    ------
    ConfigError
        ``name`` is a built-in dataset name or alias, or a bad option (see also :func:`convert`).
    """
    from eventpipe.sources.user.folder import check_name, define_from_folder

    check_name(name)
    if is_registered(name):
        raise ConfigError(f"{name!r} is the name of a built-in dataset; pick another name for your recordings.")
    check_choice("on_error", on_error, ON_ERROR_CHOICES)
    path = definition_path(root, name)
    try:
        previous = find_user_dataset(name, [Path(root).expanduser()])
    except ConfigError:  # a damaged definition: this run writes a new one
        previous = None
    spec = define_from_folder(folder, name, labels=labels, split=split, test_fraction=test_fraction, sensor=sensor,
                              on_error=on_error, previous=previous)
    status = "unchanged" if spec is previous else "created" if previous is None else "updated"
    if status != "unchanged":
        text = user_dataset_toml(spec)
        with storage_errors(path.parent):
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.partial")
            partial.write_text(text, encoding="utf-8")
            os.replace(partial, path)
    use_root(root)
    result = convert(name, root, on_error=on_error, **run)
    return replace(result, definition={"path": str(path), "status": status})
