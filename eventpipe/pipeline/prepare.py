"""``prepare``: a dataset's frames store, doing whatever is missing: download, convert, integrate.

>>> result = prepare("demo", root, IntegrationSpec(frames=20))   # doctest: +SKIP
>>> result.store                                                  # doctest: +SKIP
'.../demo/frames/frames_number_20_split_by_number.zarr'

Steps, each idempotent and resumable:

1. download: :func:`eventpipe.fetch.download_dataset` makes the raw files present and verifies each
   against the manifest's checksums (a verified file is re-hashed only when its size or time
   changes). Skipped when the events store is complete and the raw folder is gone, and for a
   dataset without a manifest (a user dataset reads its recordings where they are).
2. convert: :func:`eventpipe.pipeline.convert.convert` builds the events store (up to date when the
   raw files did not change).
3. integrate: one Dask task per block of samples (:func:`eventpipe.store.frames.layout.plan_blocks`)
   reads its samples from the events store, integrates them (Numba, single-threaded: see the
   threading policy in :mod:`eventpipe.frames`) and writes its block of the frames store. Blocks
   already marked complete by an interrupted run are not redone, and a finished store is left as
   it is. A store at the same path with another fingerprint is refused, never reused.

A static image dataset (``mnist``, ``demo-static``, ...) stops at its images store:
:func:`prepare_images` runs the download step, then the conversion it is given
(:func:`eventpipe.datasets.static.convert_images`); a pipeline's encoder makes spikes when it is read.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eventpipe.errors import ConfigError, EventpipeError
from eventpipe.frames import IntegrationSpec
from eventpipe.pipeline.dask import dask_client, run_tasks
from eventpipe.pipeline.storage import storage_errors
from eventpipe.sources import get_dataset
from eventpipe.sources.base import DatasetSpec
from eventpipe.sources.static import StaticImagesSpec
from eventpipe.store import frames as frames_store
from eventpipe.store.events.writer import is_store_complete
from eventpipe.store.images import completed_blocks as completed_image_blocks
from eventpipe.store.images.layout import KIND as IMAGES_KIND
from eventpipe.store.location import normalize, remove, size_on_disk
from eventpipe.store.lock import store_lock
from eventpipe.store.markers import COMPLETE, KIND_ATTR, is_complete, read_attrs

if TYPE_CHECKING:
    from distributed import Client

SMALL_JOB_EVENTS = 20_000_000
"""Below this many events to integrate, and unless ``workers`` is given, the work runs in this process:
starting worker processes (spawn, imports, Numba compilation in each) would cost more than the
share of so little work they could take over."""


@dataclass(frozen=True)
class StepResult:
    """One step of :func:`prepare`: its name, what it did (or would do), how long it took."""

    step: str
    status: str
    seconds: float = 0.0
    detail: str = ""


@dataclass(frozen=True)
class PrepareResult:
    """What :func:`prepare` did.

    ``status`` is ``"prepared"`` (new frames store), ``"resumed"`` (an interrupted one finished),
    ``"up-to-date"`` (nothing to integrate) or ``"dry-run"``. ``store`` is the frames store (None
    without a spec). ``samples_written``, ``events_integrated`` and ``integrate_seconds`` describe
    this run's integration; ``num_samples``, ``num_frames`` and ``bytes`` the whole store.
    """

    dataset: str
    spec: dict[str, Any] | None
    store: str | None
    events_store: str
    status: str
    steps: tuple[StepResult, ...]
    num_samples: dict[str, int] = field(default_factory=dict)
    num_frames: dict[str, int] = field(default_factory=dict)
    bytes: int = 0
    dtype: str = ""
    samples_written: int = 0
    events_integrated: int = 0
    integrate_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def samples_per_second(self) -> float:
        """Samples integrated per second of the integrate step (0 when nothing was integrated)."""
        return self.samples_written / self.integrate_seconds if self.integrate_seconds and self.samples_written else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary."""
        return {
            **{k: v for k, v in self.__dict__.items() if k != "steps"},
            "steps": [s.__dict__ for s in self.steps],
            "samples_per_second": self.samples_per_second,
        }


def sample_name(split: str, i: int, meta: dict[str, Any]) -> str:
    """How errors name a sample: ``train[12]`` plus its metadata, e.g. ``train[12] (user=user01)``."""
    extra = ", ".join(f"{k}={v}" for k, v in meta.items())
    return f"{split}[{i}]" + (f" ({extra})" if extra else "")


@lru_cache(maxsize=8)
def _events_split(location: str, split: str, fingerprint: str) -> Any:
    """The events store split a worker reads, opened once per process (its index, metadata and last
    decoded chunks stay loaded between blocks); ``fingerprint`` keys out a store converted again."""
    from eventpipe.store.events.reader import EventsStore

    return EventsStore.open(location).split(split)


def _add_note(exc: BaseException, note: str) -> None:
    """``exc.add_note(note)`` on Python 3.10 too: ``__notes__`` lives in the exception's ``__dict__``, so it
    travels back from a worker with the pickled exception."""
    notes = getattr(exc, "__notes__", None)
    with contextlib.suppress(AttributeError, TypeError):  # an exception type without a __dict__
        exc.__notes__ = [*(notes if isinstance(notes, list) else []), note]  # type: ignore[attr-defined]


def integrate_block(
    events_location: str, frames_location: str, split: str, block: int, start: int, stop: int,
    spec: IntegrationSpec, source_fingerprint: str,
) -> None:
    """One task: integrate samples ``start:stop`` of ``split`` and write them as block ``block``
    (its summary goes into the store, read back by ``finalize``)."""
    samples = _events_split(events_location, split, source_fingerprint)
    sensor = samples.sensor
    meta = samples.meta_columns
    frames = []
    for i in range(start, stop):
        name = sample_name(split, i, {k: v[i] for k, v in meta.items()}) if meta else f"{split}[{i}]"
        try:
            frames.append(spec(samples.events(i), sensor, sample=name, validated=True))  # checked when written
        except Exception as exc:
            if spec.fn is not None and not isinstance(exc, EventpipeError):  # the user's code: say where
                _add_note(exc, f"on sample {name}")
            raise
    frames_store.write_block(frames_location, split, block, frames, spec.frame_size(sensor), spec.fixed_frames)


def _has_raw_files(raw_dir: Path) -> bool:
    return raw_dir.is_dir() and any(raw_dir.iterdir())


def _path(manifest: str | os.PathLike[str] | None) -> Path | None:
    return None if manifest is None else Path(manifest).expanduser()


def _download_step(name: str, root: Path, progress: bool, manifest: Path | None = None) -> StepResult:
    from eventpipe.fetch import download_dataset

    started = time.perf_counter()
    result = download_dataset(name, root, progress=progress, manifest=manifest)
    counts: dict[str, int] = {}
    for f in result.files:
        counts[f.status] = counts.get(f.status, 0) + 1
    detail = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + " (checksums verified)"
    status = "present" if set(counts) <= {"present", "unpacked"} else "downloaded"
    if "generated" in counts:
        status = "generated"
    return StepResult("download", status, time.perf_counter() - started, detail)


def _events_up_to_date(name: str, root: Path) -> bool:
    from eventpipe.pipeline.convert import events_up_to_date

    return events_up_to_date(name, root)


def _convert_step(name: str, root: Path, workers: int | None, scheduler: str | Client | None, progress: bool,
                  dashboard: Callable[[str], None] | None) -> StepResult:
    from eventpipe.pipeline.convert import convert

    result = convert(name, root, workers=workers, scheduler=scheduler, progress=progress, dashboard=dashboard)
    samples = sum(result.num_samples.values())
    detail = f"{samples} samples, {result.events_total / 1e6:.2f} M events"
    if result.skipped:
        detail += f", {len(result.skipped)} corrupt files skipped"
    return StepResult("convert", result.status, result.seconds, detail)


def _header(es: Any, splits: dict[str, Any], spec: IntegrationSpec, block_events: int) -> frames_store.FramesHeader:
    """The frames store header for the events store ``es`` (its ``splits`` opened)."""
    return frames_store.FramesHeader(
        dataset=es.dataset,
        sensor=spec.frame_size(es.sensor),  # a voxel grid's one channel
        classes=es.classes,
        splits=es.splits,
        spec=spec,
        source_fingerprint=es.fingerprint,
        source_location=es.location,
        blocks={s: frames_store.plan_blocks(splits[s].offsets, block_events) for s in es.splits},
    )


@dataclass(frozen=True)
class IntegrateResult:
    """What :func:`integrate_store` did: ``status`` (``"prepared"``, ``"resumed"``, ``"up-to-date"``), the
    store's root attributes, and the samples and events integrated by this call in ``seconds``."""

    status: str
    attrs: dict[str, Any]
    samples: int
    events: int
    seconds: float


def integrate_store(
    events_location: str,
    frames_location: str,
    spec: IntegrationSpec,
    *,
    workers: int | None = None,
    scheduler: str | Client | None = None,
    progress: bool = True,
    overwrite: bool = False,
    block_events: int = frames_store.BLOCK_EVENTS,
    dashboard: Callable[[str], None] | None = None,
) -> IntegrateResult:
    """The integrate step: events store -> frames store, one Dask task per unfinished block.

    Takes the store lock, creates or resumes the frames store (refusing one with another
    fingerprint unless ``overwrite``), runs the blocks not yet complete and indexes the store.
    """
    from eventpipe.store.events.reader import EventsStore

    started = time.perf_counter()
    events_location, frames_location = normalize(events_location), normalize(frames_location)
    es = EventsStore.open(events_location)
    splits = {s: es.split(s) for s in es.splits}  # index arrays load once, here
    header = _header(es, splits, spec, block_events)
    attrs = read_attrs(frames_location)
    if attrs is not None and attrs.get(COMPLETE) and attrs.get("fingerprint") == header.fingerprint:
        # up to date: read, never locked or written, so a read-only root works too
        return IntegrateResult("up-to-date", attrs, 0, 0, time.perf_counter() - started)
    with storage_errors(frames_location), store_lock(frames_location):
        status = frames_store.begin(frames_location, header, overwrite=overwrite)
        if status == "complete":
            return IntegrateResult("up-to-date", read_attrs(frames_location) or {}, 0, 0, time.perf_counter() - started)
        try:
            if status == "resume":  # keep the blocks the store was planned with
                header = replace(header, blocks=(read_attrs(frames_location) or {})["blocks"])
            todo = []
            for split in header.splits:
                bounds = header.blocks[split]
                done = frames_store.completed_blocks(frames_location, split, len(bounds) - 1) if status == "resume" else set()
                todo += [(events_location, frames_location, split, j, bounds[j], bounds[j + 1], spec,
                          header.source_fingerprint) for j in range(len(bounds) - 1) if j not in done]
            if frames_location.startswith("memory://") and scheduler is None:
                scheduler = "synchronous"  # worker processes cannot see this process's memory file system
            events = sum(int(splits[a[2]].offsets[a[5]] - splits[a[2]].offsets[a[4]]) for a in todo)
            if workers is None and scheduler is None and events < SMALL_JOB_EVENTS:
                workers = 1
            # the blocks' futures, released once the store is final: a local scheduler forgetting them
            # in this process would take turns with finalize and slow it down
            finished: list[Any] = []
            if todo:
                with dask_client(workers, scheduler, n_tasks=len(todo), keep_freed_memory=True,
                                 dashboard=dashboard) as client:
                    finished = run_tasks(integrate_block, todo, client, progress=progress, collect=False,
                                         desc=f"integrate {es.dataset} {spec.name}", unit="sample",
                                         weight=lambda a: a[5] - a[4],
                                         cost=lambda a: float(splits[a[2]].offsets[a[5]] - splits[a[2]].offsets[a[4]]))
            attrs = frames_store.finalize(frames_location, header, {s: sp.labels for s, sp in splits.items()},
                                          {s: sp.meta_columns for s, sp in splits.items()})
            del finished
        except Exception:
            if status == "new":  # a failed run (a plugin's error, say) leaves no half store; a killed one does
                remove(frames_location)
            raise
    return IntegrateResult("prepared" if status == "new" else "resumed", attrs, sum(a[5] - a[4] for a in todo),
                           events, time.perf_counter() - started)


def _no_download(dataset: DatasetSpec, root: Path) -> str:
    """Why ``dataset`` needs no download step (``""`` when it does): no manifest to download from."""
    if dataset.manifest is not None:
        return ""
    return f"no download: recordings read from {dataset.raw_dir(root)}"


def _dry_run(dataset: DatasetSpec, root: Path, events_location: str, frames_location: str | None,
             spec: IntegrationSpec | None, block_events: int) -> list[StepResult]:
    events_done = is_store_complete(events_location)
    raw = _has_raw_files(dataset.raw_dir(root))
    skip = events_done and not raw
    local = _no_download(dataset, root)
    steps = [
        StepResult("download", "skip", detail=local) if local and not skip else
        StepResult("download", "skip" if skip else "check", detail="events store complete, raw files not needed"
                   if skip else "download missing raw files and verify checksums"),
        StepResult("convert", "check" if events_done else "convert", detail="events store complete (rebuilt only "
                   "if the raw files changed)" if events_done else "build the events store"),
    ]
    if spec is None or frames_location is None:
        return steps
    if not events_done:
        return [*steps, StepResult("integrate", "integrate", detail=f"integrate every sample with {spec.name}")]
    from eventpipe.store.events.reader import EventsStore

    es = EventsStore.open(events_location)
    header = _header(es, {s: es.split(s) for s in es.splits}, spec, block_events)
    attrs = read_attrs(frames_location)
    blocks = sum(len(b) - 1 for b in header.blocks.values())
    if attrs is None:
        return [*steps, StepResult("integrate", "integrate", detail=f"{blocks} blocks into a new store")]
    if attrs.get("fingerprint") != header.fingerprint:
        return [*steps, StepResult("integrate", "refuse", detail="a store with another fingerprint is in the way "
                                   "(delete it or use --overwrite)")]
    if attrs.get(COMPLETE):
        return [*steps, StepResult("integrate", "up-to-date", detail="frames store complete")]
    planned = attrs.get("blocks", header.blocks)
    blocks = sum(len(b) - 1 for b in planned.values())
    done = sum(len(frames_store.completed_blocks(frames_location, s, len(b) - 1)) for s, b in planned.items())
    return [*steps, StepResult("integrate", "resume", detail=f"{blocks - done} of {blocks} blocks left")]


def prepare(
    name: str,
    root: str | os.PathLike[str],
    spec: IntegrationSpec | None,
    *,
    workers: int | None = None,
    scheduler: str | Client | None = None,
    progress: bool = True,
    dry_run: bool = False,
    overwrite: bool = False,
    block_events: int = frames_store.BLOCK_EVENTS,
    dashboard: Callable[[str], None] | None = None,
    manifest: str | os.PathLike[str] | None = None,
) -> PrepareResult:
    """Make dataset ``name``'s frames store for ``spec`` under ``root``, doing only what is missing.

    Parameters
    ----------
    name
        A registered dataset (``eventpipe datasets`` lists them) or a user dataset under ``root``.
    root
        Data folder: raw files in ``root/<name>/raw`` (a user dataset's in its folder), stores in
        ``root/<name>/``.
    spec
        How to integrate; ``None`` stops after the events store.
    workers, scheduler
        Parallelism (see :mod:`eventpipe.pipeline.dask`): one task per block of samples. With neither
        given, fewer than :data:`SMALL_JOB_EVENTS` events are integrated in this process.
    progress
        Progress bars.
    dry_run
        Report what each step would do; change nothing.
    overwrite
        Replace a frames store whose fingerprint differs instead of refusing it.
    block_events
        Events per block (one task); changes how work is split, never the frames.
    dashboard
        Start each local cluster's Dask dashboard (on 127.0.0.1) and call this with its URL; without
        it the clusters have none.
    manifest
        Download with this manifest TOML instead of the packaged one (e.g. from another host).

    Raises
    ------
    StoreSchemaError
        A frames store with another fingerprint is at the target path (and ``overwrite`` is False).
    StoreLockedError
        Another run is writing the same store.
    EventValidationError
        A sample has coordinates outside the sensor (the message names the sample).
    """
    started = time.perf_counter()
    root = Path(root).expanduser()
    dataset = get_dataset(name, root)
    events_location = normalize(dataset.events_store_path(root))
    frames_location = normalize(dataset.frames_root(root) / f"{spec.name}.zarr") if spec is not None else None
    base: dict[str, Any] = {"dataset": dataset.name, "spec": spec.to_dict() if spec else None, "store": frames_location,
            "events_store": events_location}
    if dry_run:
        planned = _dry_run(dataset, root, events_location, frames_location, spec, block_events)
        return PrepareResult(**base, status="dry-run", steps=tuple(planned), seconds=time.perf_counter() - started)
    steps: list[StepResult] = []
    if is_store_complete(events_location) and not _has_raw_files(dataset.raw_dir(root)):
        steps.append(StepResult("download", "skipped", 0.0, "events store complete, raw files not needed"))
        steps.append(StepResult("convert", "up-to-date", 0.0, "events store complete"))
    elif _events_up_to_date(dataset.name, root):
        steps.append(StepResult("download", "skipped", 0.0, "events store made from the raw files present"))
        steps.append(StepResult("convert", "up-to-date", 0.0, "events store complete"))
    else:
        if local := _no_download(dataset, root):
            steps.append(StepResult("download", "skipped", 0.0, local))
        else:
            with storage_errors(dataset.raw_dir(root).parent):  # raw files and the folders they are made in
                steps.append(_download_step(dataset.name, root, progress, _path(manifest)))
        steps.append(_convert_step(dataset.name, root, workers, scheduler, progress, dashboard))
    if spec is None or frames_location is None:
        return PrepareResult(**base, status="up-to-date", steps=tuple(steps), seconds=time.perf_counter() - started)
    done = integrate_store(events_location, frames_location, spec, workers=workers, scheduler=scheduler,
                           progress=progress, overwrite=overwrite, block_events=block_events, dashboard=dashboard)
    status, attrs, samples, events, seconds = done.status, done.attrs, done.samples, done.events, done.seconds
    num_samples = dict(attrs.get("num_samples", {}))
    num_frames = dict(attrs.get("num_frames", {}))
    nbytes = size_on_disk(frames_location)
    detail = (f"{sum(num_samples.values())} samples, {sum(num_frames.values())} frames, "
              f"{nbytes / 1e6:.1f} MB ({attrs.get('dtype', '?')})")
    if samples:
        detail += f"; {samples} samples integrated at {samples / seconds:.0f} samples/s, {events / seconds / 1e6:.1f} M events/s"
    steps.append(StepResult("integrate", status, seconds, detail))
    return PrepareResult(
        **base, status=status, steps=tuple(steps), num_samples=num_samples, num_frames=num_frames, bytes=nbytes,
        dtype=str(attrs.get("dtype", "")), samples_written=samples, events_integrated=events,
        integrate_seconds=seconds if samples else 0.0, seconds=time.perf_counter() - started,
    )



_IMAGES_STATUS = {"built": "prepared", "resumed": "resumed", "up-to-date": "up-to-date"}
"""The :class:`PrepareResult` status of each status of a conversion into an images store."""


def prepare_images(
    name: str,
    root: str | os.PathLike[str],
    convert: Callable[..., Any],
    *,
    progress: bool = True,
    dry_run: bool = False,
    overwrite: bool = False,
    manifest: str | os.PathLike[str] | None = None,
) -> PrepareResult:
    """Make static image dataset ``name``'s images store under ``root``, doing only what is missing.

    The download step makes the raw files present and verified (or generates them), as for an event
    dataset; ``convert(name, root, overwrite=...)`` (:func:`eventpipe.datasets.static.convert_images`)
    then writes the store, resuming an interrupted one. A complete store whose raw files were deleted
    is kept as it is. The result's ``store`` is the images store; it has no ``spec`` and no frames.

    Raises
    ------
    ConfigError
        ``name`` is an event dataset (it is prepared with integration options by :func:`prepare`).
    StoreSchemaError
        An images store of other raw files is in the way (and ``overwrite`` is False).
    """
    started = time.perf_counter()
    root = Path(root).expanduser()
    dataset = get_dataset(name, root)
    if not isinstance(dataset, StaticImagesSpec):
        raise ConfigError(f"{dataset.name} is an event dataset: prepare it with integration options, e.g. "
                          f"`eventpipe prepare {dataset.name} --frames 10`.")
    location = normalize(dataset.images_store_path(root))
    base: dict[str, Any] = {"dataset": dataset.name, "spec": None, "store": location, "events_store": ""}
    if dry_run:
        planned = _images_dry_run(dataset, root, location, overwrite)
        return PrepareResult(**base, status="dry-run", steps=tuple(planned), seconds=time.perf_counter() - started)
    steps: list[StepResult] = []
    if not overwrite and is_complete(location) and not _has_raw_files(dataset.raw_dir(root)):
        steps.append(StepResult("download", "skipped", 0.0, "images store complete, raw files not needed"))
        status = "up-to-date"
    else:
        with storage_errors(dataset.raw_dir(root).parent):
            steps.append(_download_step(dataset.name, root, progress, _path(manifest)))
        converting = time.perf_counter()
        status = convert(dataset.name, root, overwrite=overwrite).status
        steps.append(StepResult("convert", status, time.perf_counter() - converting, ""))
    attrs = read_attrs(location) or {}
    num_samples = {str(k): int(v) for k, v in attrs.get("num_samples", {}).items()}
    nbytes = size_on_disk(location)
    splits = ", ".join(f"{s} {n}" for s, n in num_samples.items())
    shape = "x".join(str(v) for v in attrs.get("shape", ()))
    detail = f"{sum(num_samples.values())} images ({splits}) of {shape}, {nbytes / 1e6:.1f} MB (uint8)"
    if steps[-1].step == "convert":
        steps[-1] = replace(steps[-1], detail=detail)
    else:
        steps.append(StepResult("convert", "up-to-date", 0.0, detail))
    return PrepareResult(**base, status=_IMAGES_STATUS.get(status, status), steps=tuple(steps),
                         num_samples=num_samples, bytes=nbytes, dtype="uint8", seconds=time.perf_counter() - started)


def _images_dry_run(dataset: StaticImagesSpec, root: Path, location: str, overwrite: bool) -> list[StepResult]:
    """What :func:`prepare_images` would do, from the raw folder and the store's markers (no file hashed)."""
    attrs = read_attrs(location)
    complete = bool(attrs and attrs.get(COMPLETE))
    skip = complete and not overwrite and not _has_raw_files(dataset.raw_dir(root))
    if skip:
        download = StepResult("download", "skip", detail="images store complete, raw files not needed")
    elif dataset.manifest is not None and dataset.manifest.generator is not None:
        download = StepResult("download", "check", detail="generate the raw files locally if missing, "
                              "verify their checksums")
    else:
        download = StepResult("download", "check", detail="download missing raw files and verify checksums")
    if attrs is None:
        convert = StepResult("convert", "convert", detail=f"build the images store {location}")
    elif attrs.get(KIND_ATTR) != IMAGES_KIND:
        convert = StepResult("convert", "convert" if overwrite else "refuse",
                             detail="replace what is in the way" if overwrite else
                             f"{location} is not an images store (delete it or use --overwrite)")
    elif complete:
        convert = StepResult("convert", "check", detail="images store complete (rebuilt only if the raw files "
                             "changed)")
    else:
        planned = attrs.get("blocks", {})
        blocks = sum(len(b) - 1 for b in planned.values())
        done = sum(len(completed_image_blocks(location, s, len(b) - 1)) for s, b in planned.items())
        convert = StepResult("convert", "resume", detail=f"{blocks - done} of {blocks} blocks left")
    return [download, convert]
