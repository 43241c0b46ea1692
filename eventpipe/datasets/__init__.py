"""The public dataset classes: a split of a dataset as a torch ``Dataset``, built on demand.

>>> from eventpipe.datasets import DVS128Gesture                           # doctest: +SKIP
>>> train = DVS128Gesture(root, split="train", frames=20)                  # doctest: +SKIP
>>> x, y = train[0]       # Tensor [20, 2, 128, 128] float32, int          # doctest: +SKIP
>>> test = DVS128Gesture(root, split="test", duration_us=100_000)         # doctest: +SKIP
>>> events, y = DVS128Gesture(root, split="train")[0]   # structured array  # doctest: +SKIP

Each class is :class:`eventpipe.loading.StoreDataset` (reading a store) plus ``prepare=True``, which
builds a missing or outdated store through :func:`eventpipe.pipeline.prepare.prepare` (download,
verify, convert and integrate, each step only if needed). Without it, missing data is an error that
gives the exact ``eventpipe prepare`` command. Importing this module does not import Dask, Typer or
CuPy: the pipeline loads only when something has to be built.

Any dataset by name, including a user dataset made by ``eventpipe convert --from DIR --name NAME``:

>>> mine = EventDataset(root, "mine", split="train", frames=16, prepare=True)  # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Any, TypedDict

from eventpipe.loading.dataset import StoreDataset
from eventpipe.sources import get_dataset, use_root

__all__ = [
    "ASLDVS",
    "CIFAR10DVS",
    "NMNIST",
    "SHD",
    "DVS128Gesture",
    "DVSLip",
    "Demo",
    "EventDataset",
    "NCaltech101",
    "NeuromorphicDataset",
    "dataset_class",
]


class _Build(TypedDict):
    """How a missing store is built (the arguments of ``prepare`` kept from the constructor)."""

    enabled: bool
    workers: int | None
    scheduler: str | None
    progress: bool

class NeuromorphicDataset(StoreDataset):
    """A split of a registered or user dataset (``dataset=NAME``); the named classes below fix the name.

    A user dataset (made by ``eventpipe convert --from DIR --name NAME``) is found under ``root``:
    ``NeuromorphicDataset(root, "train", dataset="mine", frames=16)``.

    Takes every argument of :class:`~eventpipe.loading.StoreDataset` (integration options, ``spec=``,
    transforms, ``dtype``) and:

    Parameters
    ----------
    prepare
        Build missing or outdated stores through :func:`eventpipe.pipeline.prepare.prepare`. When
        False and the data is missing, :class:`~eventpipe.errors.DataNotFoundError` gives the command
        to run.
    workers, scheduler, progress
        Parallel tasks (default: all cores), the address of an existing Dask scheduler, and progress
        bars while preparing.
    """

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        split: str = "train",
        *,
        prepare: bool = False,
        workers: int | None = None,
        scheduler: str | None = None,
        progress: bool = True,
        **kwargs: Any,
    ) -> None:
        self._build: _Build = {"enabled": bool(prepare), "workers": workers, "scheduler": scheduler, "progress": progress}
        if root is not None:
            use_root(root)
        super().__init__(root, split, **kwargs)

    def _unavailable(self, exc: Exception | None, *, outdated: bool) -> Any:
        if not self._build["enabled"]:
            return super()._unavailable(exc, outdated=outdated)
        from eventpipe.pipeline.prepare import prepare

        prepare(self.info.name, self.root, self.spec, workers=self._build["workers"],
                scheduler=self._build["scheduler"], progress=self._build["progress"], overwrite=outdated)
        return self._open()


class EventDataset(NeuromorphicDataset):
    """A split of the dataset named ``name``: built-in, plugin, or a user dataset under ``root``.

    ``EventDataset(root, "mine", split="test", frames=16)`` is
    ``NeuromorphicDataset(root, "test", dataset="mine", frames=16)``; every other argument is
    :class:`NeuromorphicDataset`'s (integration options, ``prepare``, transforms, ``dtype``).
    """

    def __init__(self, root: str | os.PathLike[str] | None, name: str, split: str = "train", **kwargs: Any) -> None:
        super().__init__(root, split, dataset=name, **kwargs)


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


class DVSLip(NeuromorphicDataset):
    """DVS-Lip: 100 spoken words seen as lip motion, 128x128 mouth crops, official train/test split."""

    dataset_name = "dvs-lip"


class Demo(NeuromorphicDataset):
    """The built-in synthetic gestures (generated locally, no download), DVS128 Gesture layout."""

    dataset_name = "demo"


_CLASSES: tuple[type[NeuromorphicDataset], ...] = (
    DVS128Gesture, NMNIST, CIFAR10DVS, NCaltech101, SHD, ASLDVS, DVSLip, Demo)


def dataset_class(name: str, root: str | os.PathLike[str] | None = None) -> type[NeuromorphicDataset]:
    """The class of dataset ``name`` (aliases accepted); the generic class for plugin and user datasets
    (user datasets are looked up under ``root``, see :func:`eventpipe.sources.get_dataset`)."""
    canonical = get_dataset(name, root).name
    for cls in _CLASSES:
        if cls.dataset_name == canonical:
            return cls
    return NeuromorphicDataset
