"""A split of a static dataset's images store as a map-style PyTorch ``Dataset``.

:class:`ImageStoreDataset` reads what is on disk and nothing else: a missing store is a
:class:`~eventpipe.errors.DataNotFoundError` that gives the ``eventpipe prepare`` command (the public
classes in :mod:`eventpipe.datasets.static` build it with ``prepare=True``). Items are
``(Tensor[C, H, W] float32 in [0, 1], int)``, or with an ``encoder`` the spikes ``Tensor[T, C, H, W]``
of :mod:`eventpipe.loading.encode`, drawn afresh at every access (the trainer sets none: it encodes
whole batches on its device).

A split's images are read once per process (a whole split is at most a few hundred MB of uint8) and
the dataset pickles as its paths, so it works with ``DataLoader(num_workers > 0)``.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from eventpipe.errors import ConfigError, DataNotFoundError, StoreSchemaError
from eventpipe.paths import resolve_root
from eventpipe.sources import get_dataset
from eventpipe.sources.static import StaticImagesSpec

__all__ = ["ImageStoreDataset"]


class ImageStoreDataset(Dataset[tuple[Any, Any]]):
    """A split of a static dataset's images store as a map-style torch Dataset.

    Parameters
    ----------
    root
        Data folder (default ``$EVENTPIPE_HOME``, else ``~/.cache/eventpipe``).
    split
        One of the dataset's splits, ``"train"`` or ``"test"``.
    encoder
        A module turning an image ``[C, H, W]`` in ``[0, 1]`` into ``[T, C, H, W]`` (e.g.
        :func:`eventpipe.loading.encode.make_encoder`); None: items are the images.
    transform, target_transform
        Applied to the image (before the encoder) and to the label.
    dataset
        Registered dataset name; only for the generic class (the named subclasses fix it).
    """

    dataset_name: str = ""

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        split: str = "train",
        *,
        encoder: nn.Module | None = None,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        dataset: str | None = None,
    ) -> None:
        if dataset is not None and self.dataset_name and get_dataset(dataset).name != self.dataset_name:
            raise ConfigError(f"{type(self).__name__} reads dataset {self.dataset_name!r}, not {dataset!r}.")
        name = dataset or self.dataset_name
        if not name:
            raise ConfigError(f"{type(self).__name__} needs dataset=<name>; or use a named class such as MNIST.")
        info = get_dataset(name)
        if not isinstance(info, StaticImagesSpec):
            raise ConfigError(f"{info.name} is an event dataset, not a static image dataset; open it with "
                              "eventpipe.datasets.NeuromorphicDataset.")
        self.info = info
        if split not in self.info.splits:
            valid = ", ".join(repr(s) for s in self.info.splits)
            raise ConfigError(f"Unknown value {split!r} for argument split. Valid values are {{{valid}}}.")
        self.root = Path(root).expanduser() if root is not None else resolve_root()
        self.split = split
        self.encoder = encoder
        self.transform = transform
        self.target_transform = target_transform
        self.store_path: Path = self.info.images_store_path(self.root)
        store = self._open_store()
        self.classes: tuple[str, ...] = tuple(store.classes)
        self.image_shape: tuple[int, int, int] = store.shape
        reader = store.split(split)
        self.labels: np.ndarray = np.asarray(reader.labels, dtype=np.int64)
        self._images: np.ndarray | None = None

    def _open(self) -> Any:
        from eventpipe.store.images import ImagesStore

        return ImagesStore.open(self.store_path)

    def _open_store(self) -> Any:
        try:
            return self._open()
        except (DataNotFoundError, StoreSchemaError) as exc:
            return self._unavailable(exc)

    def _unavailable(self, exc: Exception) -> Any:
        """Without a usable store: an error that gives the command building it (subclasses build it)."""
        command = shlex.join(["eventpipe", "prepare", self.info.name, "--root", str(self.root)])
        why = "" if isinstance(exc, DataNotFoundError) else f" ({exc})"
        raise DataNotFoundError(f"{self.info.title}: no complete images store at {self.store_path}{why}. "
                                f"Build it with: {command}  (or pass prepare=True)") from exc

    def images(self) -> np.ndarray:
        """Every image of the split, uint8 ``[N, C, H, W]``, read on first use in each process."""
        if self._images is None:
            self._images = self._open().split(self.split).images()
        return self._images

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_images"] = None
        return state

    def __len__(self) -> int:
        return len(self.labels)

    def _index(self, index: int) -> int:
        n = len(self.labels)
        if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
            raise TypeError(f"Expected an integer index. Got {type(index).__name__} instead.")
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for {self.info.name} {self.split!r} with {n} samples.")
        return int(index) % n

    def load(self, index: int) -> torch.Tensor:
        """Image ``index`` as float32 ``[C, H, W]`` in ``[0, 1]``, before any transform."""
        return torch.from_numpy(self.images()[self._index(index)].astype(np.float32)) / 255.0

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        i = self._index(index)
        sample: Any = self.load(i)
        target: Any = int(self.labels[i])
        if self.transform is not None:
            sample = self.transform(sample)
        if self.encoder is not None:
            sample = self.encoder(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(split={self.split!r}, samples={len(self)}, classes={len(self.classes)}, "
                f"image_shape={self.image_shape}, encoder={self.encoder}, root={str(self.root)!r})")
