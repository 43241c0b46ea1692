"""A split of a dataset's events or frames store as a map-style PyTorch ``Dataset``.

:class:`StoreDataset` reads what is on disk and nothing else: a missing or outdated store is a
:class:`~eventpipe.errors.DataNotFoundError` (or :class:`~eventpipe.errors.StoreSchemaError`) that
gives the exact ``eventpipe prepare`` command. Building stores is the job of the public classes in
:mod:`eventpipe.datasets` (``prepare=True``), which extend this one; this module never imports the
pipeline, the downloader or Dask.

The store is opened on first access in each process, so the dataset pickles as a few paths and
arrays and works with ``DataLoader(num_workers > 0)`` under both the fork and the spawn start
methods.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from eventpipe.errors import ConfigError, DataNotFoundError, StoreSchemaError, StoreVersionError
from eventpipe.events import SensorSize
from eventpipe.frames.spec import IntegrationSpec, integration_spec
from eventpipe.memory import keep_freed_memory
from eventpipe.paths import resolve_root
from eventpipe.sources import get_dataset

__all__ = ["StoreDataset", "prepare_command"]


def prepare_command(name: str, root: Path, spec: IntegrationSpec | None, *, download: bool = True) -> str | None:
    """The command line that builds what a dataset with ``spec`` reads, or None when no command can.

    Frames need ``eventpipe prepare`` with the spec's options; raw events need ``eventpipe download``
    (unless ``download`` is False: a dataset without a manifest, such as a user dataset) and
    ``eventpipe convert``. An unnamed plugin (a lambda, a function of ``__main__``) has no
    command-line form.
    """
    where = ["--root", str(root)]
    if spec is None:
        convert = shlex.join(["eventpipe", "convert", name, *where])
        return f"{shlex.join(['eventpipe', 'download', name, *where])} && {convert}" if download else convert
    options = spec.command_line()
    return None if options is None else shlex.join(["eventpipe", "prepare", name, *options, *where])


def _torch_name(counts: np.dtype[Any]) -> str:
    """The torch dtype name of the smallest type DataLoader collates that holds ``counts``."""
    return {1: "uint8", 2: "int32"}.get(counts.itemsize, "int64")


class StoreDataset(Dataset[tuple[Any, Any]]):
    """A split of a dataset's store as a map-style torch Dataset.

    Parameters
    ----------
    root
        Data folder (default ``$EVENTPIPE_HOME``, else ``~/.cache/eventpipe``).
    split
        One of the dataset's splits, usually ``"train"`` or ``"test"``.
    spec
        A ready :class:`~eventpipe.frames.IntegrationSpec`, instead of the integration options below.
    **integration
        Integration options of :func:`eventpipe.frames.integration_spec` (every mode of
        :class:`~eventpipe.frames.IntegrationSpec`): ``frames=M, split_by="number"|"time"``
        (SpikingJelly's ``frames_number``/``split_by``), ``duration_us`` (an int or ``"10ms"``;
        variable ``T``), ``events_per_frame`` (+ ``drop_incomplete``), ``fn`` (a plugin
        ``fn(events, H, W) -> [T, P, H, W]``, ``"module:function"`` or a registered name), tonic's
        ``n_time_bins``, ``event_count``, ``time_window`` (+ ``overlap``, ``include_incomplete``).
        No mode at all: items are raw events.
    transform, target_transform
        Applied to the sample (frames Tensor or events array) and to the label.
    transforms
        Applied to ``(sample, label)`` together and returning both (for label-changing
        augmentations such as a mirror with a label map); exclusive with the two above.
    dtype
        Element type of the frames tensors: ``torch.float32`` (default), another floating type, or
        an integer type that holds the store's counts (``torch.uint8`` for most stores: a quarter of
        the bytes to pass from DataLoader workers and to the GPU; convert there with ``x.float()``).
    dataset
        Registered dataset name, or a user dataset under ``root``; only for the generic class (the
        named subclasses fix it).

    Items are ``(Tensor[T, P, H, W] float32, int)`` in frames mode (``dtype`` changes the element
    type) and ``(events, int)`` otherwise.
    """

    dataset_name: str = ""

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        split: str = "train",
        *,
        spec: IntegrationSpec | None = None,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        transforms: Callable[[Any, Any], tuple[Any, Any]] | None = None,
        dtype: torch.dtype = torch.float32,
        dataset: str | None = None,
        **integration: Any,
    ) -> None:
        self.root = Path(root).expanduser() if root is not None else resolve_root()
        if dataset is not None and self.dataset_name and get_dataset(dataset, self.root).name != self.dataset_name:
            raise ConfigError(f"{type(self).__name__} reads dataset {self.dataset_name!r}, not {dataset!r}.")
        name = dataset or self.dataset_name
        if not name:
            raise ConfigError(f"{type(self).__name__} needs dataset=<name>; or use a named class such as DVS128Gesture.")
        if transforms is not None and (transform is not None or target_transform is not None):
            raise ConfigError("Pass either transforms= or transform=/target_transform=, not both.")
        self.info = get_dataset(name, self.root)
        if split not in self.info.splits:
            valid = ", ".join(repr(s) for s in self.info.splits)
            raise ConfigError(f"Unknown value {split!r} for argument split. Valid values are {{{valid}}}.")
        self.split = split
        self.spec = integration_spec(integration, spec=spec)
        self.transform = transform
        self.target_transform = target_transform
        self.transforms = transforms
        self.store_path = (
            self.info.events_store_path(self.root)
            if self.spec is None
            else self.info.frames_root(self.root) / f"{self.spec.name}.zarr"
        )
        store = self._open_store()
        self.dtype = self._frames_dtype(dtype, store)
        self.classes: tuple[str, ...] = tuple(store.classes)
        self.sensor_size: SensorSize = SensorSize(*store.sensor)
        reader = store.split(split)
        self.labels: np.ndarray = np.asarray(reader.labels, dtype=np.int64)
        self._reader: Any = reader
        self._reader_pid = os.getpid()
        self._lengths: np.ndarray | None = None

    def _frames_dtype(self, dtype: Any, store: Any) -> torch.dtype:
        """``dtype`` checked against the mode and the store's counts or floats."""
        if not isinstance(dtype, torch.dtype):
            raise ConfigError(f"Expected dtype as a torch.dtype (torch.float32, torch.uint8, ...). Got {dtype!r} instead.")
        if self.spec is None:
            if dtype != torch.float32:
                raise ConfigError("dtype= sets the element type of frames; raw events have their own (pass a mode).")
            return dtype
        try:
            target = torch.empty(0, dtype=dtype).numpy().dtype
        except TypeError:
            target = None
        counts = np.dtype(store.dtype)
        if counts.kind == "f" and (target is None or target.kind != "f"):
            raise ConfigError(
                f"Invalid value {dtype} for argument dtype: frames of {self.store_path.name} are {counts} floats; "
                "only float dtypes are valid for float frames (torch.float16, torch.float32, torch.float64).")
        if target is None or dtype.is_complex or target.kind == "b" or (
                target.kind in "iu" and not np.can_cast(counts, target, "safe")):
            raise ConfigError(
                f"Invalid value {dtype} for argument dtype: frames of {self.store_path.name} are {counts} counts; "
                "valid are torch.float16, torch.float32, torch.float64 and integer types that hold "
                f"{counts} (e.g. torch.{_torch_name(counts)}).")
        return dtype

    def _open(self) -> Any:
        if self.spec is None:
            from eventpipe.store import EventsStore

            return EventsStore.open(self.store_path)
        from eventpipe.store.frames.reader import FramesStore

        return FramesStore.open(self.store_path)

    def _outdated(self, store: Any) -> bool:
        """True when a frames store was integrated from another events store than the one on disk."""
        if self.spec is None:
            return False
        from eventpipe.store import EventsStore

        try:
            events = EventsStore.open(self.info.events_store_path(self.root))
        except (DataNotFoundError, StoreSchemaError):
            return False  # the events store is gone (not needed once frames exist)
        return bool(store.attrs.get("source_fingerprint") != events.fingerprint)

    def _open_store(self) -> Any:
        """The store, opened; a missing, incomplete or outdated one goes to :meth:`_unavailable`."""
        try:
            store = self._open()
        except StoreVersionError as exc:  # frames of another schema version are rebuilt like outdated ones
            return self._unavailable(exc, outdated=self.spec is not None)
        except (DataNotFoundError, StoreSchemaError) as exc:
            return self._unavailable(exc, outdated=False)
        if self._outdated(store):
            return self._unavailable(None, outdated=True)
        return store

    def _unavailable(self, exc: Exception | None, *, outdated: bool) -> Any:
        """What to do without a usable store: here, an error that gives the command building it.

        :class:`eventpipe.datasets.NeuromorphicDataset` overrides this to build it (``prepare=True``).
        """
        command = prepare_command(self.info.name, self.root, self.spec, download=self.info.manifest is not None)
        if outdated:
            rebuild = (f"Rebuild it with: {command} --overwrite  (or pass prepare=True)" if command
                       else "Rebuild it with prepare=True.")
            why = (f"{self.store_path} has another store schema version than this eventpipe reads."
                   if exc is not None else
                   f"{self.store_path} was integrated from an older events store of {self.info.name}.")
            raise StoreSchemaError(f"{why} {rebuild}") from exc
        build = f"Build it with: {command}  (or pass prepare=True)" if command else "Build it with prepare=True."
        what = "events store" if self.spec is None else f"frames store {self.spec.name}"
        why = "" if isinstance(exc, DataNotFoundError) else f" ({exc})"
        raise DataNotFoundError(f"{self.info.title}: no complete {what} at {self.store_path}{why}. {build}") from exc

    # -- per-process store access -----------------------------------------------------------------
    def _split_reader(self) -> Any:
        """The split reader of this process (reopened after a fork, and after unpickling)."""
        if self._reader is None or self._reader_pid != os.getpid():
            if torch.utils.data.get_worker_info() is not None:
                keep_freed_memory()  # a DataLoader worker: reuse a batch's pages for the next one
            self._reader = self._open().split(self.split)
            self._reader_pid = os.getpid()
        return self._reader

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_reader"] = None
        return state

    # -- the Dataset protocol ---------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.labels)

    def _index(self, index: int) -> int:
        n = len(self.labels)
        if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
            raise TypeError(f"Expected an integer index. Got {type(index).__name__} instead.")
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for {self.info.name} {self.split!r} with {n} samples.")
        return int(index) % n

    def load(self, index: int) -> Any:
        """Sample ``index`` before any transform: frames ``Tensor[T, P, H, W]`` of ``dtype``, or events."""
        i = self._index(index)
        reader = self._split_reader()
        if self.spec is None:
            return reader.events(i)
        frames = torch.empty(self.sensor_size.frame_shape(reader.num_frames(i)), dtype=self.dtype)
        reader.frames(i, out=frames.numpy())  # decoded straight into the tensor
        return frames

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        i = self._index(index)
        sample: Any = self.load(i)
        target: Any = int(self.labels[i])
        if self.transforms is not None:
            return self.transforms(sample, target)
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target

    # -- metadata ---------------------------------------------------------------------------------
    @property
    def frames_mode(self) -> bool:
        """True when items are frames, False when they are events."""
        return self.spec is not None

    def meta(self, index: int) -> dict[str, Any]:
        """Per-sample metadata of sample ``index`` (user, lighting, file, ... as the dataset records)."""
        return dict(self._split_reader().meta(self._index(index)))

    @property
    def lengths(self) -> np.ndarray:
        """int64 ``[n]``: frames per sample (frames mode) or events per sample (events mode).

        Feed it to :class:`eventpipe.collate.BucketBatchSampler` to batch similar lengths together.
        """
        if self._lengths is None:
            self._lengths = np.diff(np.asarray(self._split_reader().offsets, dtype=np.int64))
        return self._lengths

    def __repr__(self) -> str:
        mode = "events" if self.spec is None else self.spec.name
        return (
            f"{type(self).__name__}(split={self.split!r}, {mode}, samples={len(self)}, "
            f"classes={len(self.classes)}, sensor_size={tuple(self.sensor_size)}, root={str(self.root)!r})"
        )



