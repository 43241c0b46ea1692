"""PyTorch datasets over the events and frames stores.

>>> from eventpipe.datasets import DVS128Gesture                           # doctest: +SKIP
>>> train = DVS128Gesture(root, split="train", frames=20)                  # doctest: +SKIP
>>> x, y = train[0]       # Tensor [20, 2, 128, 128] float32, int          # doctest: +SKIP
>>> test = DVS128Gesture(root, split="test", duration_us=100_000)         # doctest: +SKIP
>>> events, y = DVS128Gesture(root, split="train")[0]   # structured array  # doctest: +SKIP

One integration mode (``frames=``, ``duration_us=``, ``events_per_frame=`` or ``fn=``) reads the
frames store ``root/<name>/frames/<spec name>.zarr``; none reads the events store
``root/<name>/events.zarr``. Missing data is built with ``prepare=True`` (download, verify, convert
and integrate, each step only if needed) or reported with the exact ``eventpipe prepare`` command.

The store is opened on first access in each process, so the dataset pickles as a few paths and
arrays and works with ``DataLoader(num_workers > 0)`` under both the fork and the spawn start
methods. Importing this module does not import Dask, Typer or CuPy.
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

from eventpipe.datasets import get_dataset
from eventpipe.errors import ConfigError, DataNotFoundError, StoreSchemaError
from eventpipe.events import SensorSize
from eventpipe.memory import keep_freed_memory
from eventpipe.paths import resolve_root

__all__ = [
    "ASLDVS",
    "CIFAR10DVS",
    "NMNIST",
    "SHD",
    "DVS128Gesture",
    "Demo",
    "NCaltech101",
    "NeuromorphicDataset",
    "dataset_class",
]


def _duration_option(duration_us: int) -> str:
    if duration_us % 1_000_000 == 0:
        return f"{duration_us // 1_000_000}s"
    if duration_us % 1000 == 0:
        return f"{duration_us // 1000}ms"
    return f"{duration_us}us"


def prepare_command(name: str, root: Path, spec: Any | None) -> str | None:
    """The command line that builds what a dataset with ``spec`` reads, or None when no command can.

    Frames need ``eventpipe prepare`` with the spec's option; raw events need ``eventpipe download``
    and ``eventpipe convert``. An unnamed plugin (a lambda, a function of ``__main__``) and
    ``drop_incomplete`` have no command-line form.
    """
    where = ["--root", str(root)]
    if spec is None:
        return f"{shlex.join(['eventpipe', 'download', name, *where])} && {shlex.join(['eventpipe', 'convert', name, *where])}"
    mode = spec.mode
    if mode in ("number", "time"):
        option = ["--frames", str(spec.frames), "--split-by", mode]
    elif mode == "duration":
        option = ["--duration", _duration_option(spec.duration_us)]
    elif mode == "events_per_frame" and not spec.drop_incomplete:
        option = ["--events-per-frame", str(spec.events_per_frame)]
    elif mode == "plugin" and "<" not in spec.plugin.ref and not spec.plugin.ref.startswith("__main__:"):
        option = ["--integrate", spec.plugin.ref]
    else:
        return None
    return shlex.join(["eventpipe", "prepare", name, *option, *where])


def _torch_name(counts: np.dtype[Any]) -> str:
    """The torch dtype name of the smallest type DataLoader collates that holds ``counts``."""
    return {1: "uint8", 2: "int32"}.get(counts.itemsize, "int64")


class NeuromorphicDataset(Dataset[tuple[Any, Any]]):
    """A split of a prepared dataset as a map-style torch Dataset.

    Parameters
    ----------
    root
        Data folder (default ``$EVENTPIPE_HOME``, else ``~/.cache/eventpipe``).
    split
        One of the dataset's splits, usually ``"train"`` or ``"test"``.
    frames, split_by
        ``M`` frames per sample split by event ``"number"`` or ``"time"`` (SpikingJelly's
        ``frames_number``/``split_by``).
    duration_us
        Frames of a fixed duration in microseconds; ``T`` varies per sample.
    events_per_frame, drop_incomplete
        Frames of a fixed number of events; optionally without the final partial frame.
    fn
        A plugin ``fn(events, H, W) -> [T, P, H, W]``, a ``"module:function"`` or registered name.
        With no mode argument at all, items are raw events.
    transform, target_transform
        Applied to the sample (frames Tensor or events array) and to the label.
    transforms
        Applied to ``(sample, label)`` together and returning both (for label-changing
        augmentations such as a mirror with a label map); exclusive with the two above.
    dtype
        Element type of the frames tensors: ``torch.float32`` (default), another floating type, or
        an integer type that holds the store's counts (``torch.uint8`` for most stores: a quarter of
        the bytes to pass from DataLoader workers and to the GPU; convert there with ``x.float()``).
    prepare
        Build missing or outdated stores through :func:`eventpipe.pipeline.prepare.prepare`. When
        False and the data is missing, :class:`~eventpipe.errors.DataNotFoundError` gives the command
        to run.
    workers, progress
        Parallel tasks (default: all cores) and progress bars while preparing.
    dataset
        Registered dataset name; only for the generic class (the named subclasses fix it).

    Items are ``(Tensor[T, P, H, W] float32, int)`` in frames mode (``dtype`` changes the element
    type) and ``(events, int)`` otherwise.
    """

    dataset_name: str = ""

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        split: str = "train",
        *,
        frames: int | None = None,
        split_by: str = "number",
        duration_us: int | None = None,
        events_per_frame: int | None = None,
        fn: Callable[..., Any] | str | None = None,
        drop_incomplete: bool = False,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        transforms: Callable[[Any, Any], tuple[Any, Any]] | None = None,
        dtype: torch.dtype = torch.float32,
        prepare: bool = False,
        workers: int | None = None,
        progress: bool = True,
        dataset: str | None = None,
    ) -> None:
        if dataset is not None and self.dataset_name and get_dataset(dataset).name != self.dataset_name:
            raise ConfigError(f"{type(self).__name__} reads dataset {self.dataset_name!r}, not {dataset!r}.")
        name = dataset or self.dataset_name
        if not name:
            raise ConfigError("NeuromorphicDataset needs dataset=<name>; or use a named class such as DVS128Gesture.")
        if transforms is not None and (transform is not None or target_transform is not None):
            raise ConfigError("Pass either transforms= or transform=/target_transform=, not both.")
        self.info = get_dataset(name)
        self.root = Path(root).expanduser() if root is not None else resolve_root()
        if split not in self.info.splits:
            valid = ", ".join(repr(s) for s in self.info.splits)
            raise ConfigError(f"Unknown value {split!r} for argument split. Valid values are {{{valid}}}.")
        self.split = split
        self.spec = self._integration_spec(frames, split_by, duration_us, events_per_frame, fn, drop_incomplete)
        self.transform = transform
        self.target_transform = target_transform
        self.transforms = transforms
        self.store_path = (
            self.info.events_store_path(self.root)
            if self.spec is None
            else self.info.frames_root(self.root) / f"{self.spec.name}.zarr"
        )
        store = self._open_store(prepare, workers, progress)
        self.dtype = self._frames_dtype(dtype, store)
        self.classes: tuple[str, ...] = tuple(store.classes)
        self.sensor_size: SensorSize = SensorSize(*store.sensor)
        reader = store.split(split)
        self.labels: np.ndarray = np.asarray(reader.labels, dtype=np.int64)
        self._reader: Any = reader
        self._reader_pid = os.getpid()
        self._lengths: np.ndarray | None = None

    # -- construction helpers ---------------------------------------------------------------------
    @staticmethod
    def _integration_spec(
        frames: int | None,
        split_by: str,
        duration_us: int | None,
        events_per_frame: int | None,
        fn: Any,
        drop_incomplete: bool,
    ) -> Any | None:
        if frames is None and duration_us is None and events_per_frame is None and fn is None:
            if split_by != "number" or drop_incomplete:
                raise ConfigError("split_by= and drop_incomplete= need an integration mode (frames=, events_per_frame=).")
            return None
        from eventpipe.frames import IntegrationSpec

        return IntegrationSpec(
            frames=frames,
            split_by=split_by,
            duration_us=duration_us,
            events_per_frame=events_per_frame,
            fn=fn,
            drop_incomplete=drop_incomplete,
        )

    def _frames_dtype(self, dtype: Any, store: Any) -> torch.dtype:
        """``dtype`` checked against the mode and the store's counts."""
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
        from eventpipe.store.frames_store import FramesStore

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

    def _open_store(self, prepare: bool, workers: int | None, progress: bool) -> Any:
        command = prepare_command(self.info.name, self.root, self.spec)
        build = f"Build it with: {command}  (or pass prepare=True)" if command else "Build it with prepare=True."
        try:
            store = self._open()
        except (DataNotFoundError, StoreSchemaError) as exc:
            if not prepare:
                what = "events store" if self.spec is None else f"frames store {self.spec.name}"
                why = "" if isinstance(exc, DataNotFoundError) else f" ({exc})"
                raise DataNotFoundError(f"{self.info.title}: no complete {what} at {self.store_path}{why}. {build}") from exc
            outdated = False
        else:
            outdated = self._outdated(store)
            if not outdated:
                return store
            if not prepare:
                rebuild = f"Rebuild it with: {command} --overwrite  (or pass prepare=True)" if command else (
                    "Rebuild it with prepare=True.")
                raise StoreSchemaError(
                    f"{self.store_path} was integrated from an older events store of {self.info.name}. {rebuild}"
                )
        from eventpipe.pipeline.prepare import prepare as run_prepare

        run_prepare(self.info.name, self.root, self.spec, workers=workers, progress=progress, overwrite=outdated)
        return self._open()

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


class DVS128Gesture(NeuromorphicDataset):
    """DVS128 Gesture: 11 hand and arm gestures, 128x128 sensor, official train/test users.

    A left-right mirror turns some gestures into others; see
    :class:`eventpipe.transforms.RandomHorizontalFlip` and :func:`eventpipe.transforms.mirror_label_map`.
    """

    dataset_name = "dvs128"


class NMNIST(NeuromorphicDataset):
    """N-MNIST: MNIST digits recorded by a moving ATIS sensor, 34x34, 10 classes."""

    dataset_name = "nmnist"


class CIFAR10DVS(NeuromorphicDataset):
    """CIFAR10-DVS: CIFAR-10 images on a moving screen, 128x128, 10 classes (split by the converter)."""

    dataset_name = "cifar10dvs"


class NCaltech101(NeuromorphicDataset):
    """N-Caltech101: Caltech101 images seen by a moving ATIS sensor, 240x180, 101 classes."""

    dataset_name = "ncaltech101"


class SHD(NeuromorphicDataset):
    """Spiking Heidelberg Digits: spoken digits as spikes of 700 cochlea channels (sensor 700x1x1)."""

    dataset_name = "shd"


class ASLDVS(NeuromorphicDataset):
    """ASL-DVS: 24 American Sign Language letters, 240x180 sensor."""

    dataset_name = "asl-dvs"


class Demo(NeuromorphicDataset):
    """The built-in synthetic gestures (generated locally, no download), DVS128 Gesture layout."""

    dataset_name = "demo"


_CLASSES: tuple[type[NeuromorphicDataset], ...] = (DVS128Gesture, NMNIST, CIFAR10DVS, NCaltech101, SHD, ASLDVS, Demo)


def dataset_class(name: str) -> type[NeuromorphicDataset]:
    """The torch class of dataset ``name`` (aliases accepted); the generic class for plugins."""
    canonical = get_dataset(name).name
    for cls in _CLASSES:
        if cls.dataset_name == canonical:
            return cls
    return NeuromorphicDataset
