"""What a static image dataset's definition adds to :class:`~eventpipe.sources.base.DatasetSpec`.

Static datasets (MNIST, Fashion-MNIST, CIFAR-10, the built-in ``demo-static``) hold images, not
events: their raw files become an images store (:mod:`eventpipe.store.images`) at
``root/<name>/images.zarr``, and a pipeline turns images into spikes with an encoder on the fly. The
definition knows the image shape ``(C, H, W)`` (its ``sensor`` is ``(W, H, C)`` for the catalogue),
which raw files make each split, and reads a split with :mod:`eventpipe.readers.images`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eventpipe.errors import ConfigError, FormatError
from eventpipe.sources.base import DatasetSpec, Part, Unit, find_dir
from eventpipe.store.samples import SampleBatch


@dataclass(frozen=True)
class StaticImagesSpec(DatasetSpec):
    """A static image dataset: ``split_files`` names the raw files (relative to the folder that
    :meth:`locate` finds) that make each split, in order."""

    split_files: Mapping[str, Sequence[str]] = field(default_factory=dict, hash=False)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of every image."""
        return int(self.sensor.polarities), int(self.sensor.height), int(self.sensor.width)

    def images_store_path(self, root: str | os.PathLike[str]) -> Path:
        """The images store: ``root/<name>/images.zarr``."""
        return Path(root) / self.name / "images.zarr"

    def locate(self, raw_dir: Path) -> Path:
        names = [f for files in self.split_files.values() for f in files]
        return find_dir(raw_dir, names, f"{self.title} files")

    def raw_files(self, raw_dir: Path) -> dict[str, list[Path]]:
        """The raw files of each split, in reading order (raises :class:`~eventpipe.errors.DataNotFoundError`)."""
        folder = self.locate(raw_dir)
        return {split: [folder / f for f in files] for split, files in self.split_files.items()}

    def read_split(self, files: Sequence[Path]) -> tuple[np.ndarray, np.ndarray]:
        """Images ``[N, C, H, W]`` uint8 and labels ``[N]`` int64 of one split's raw ``files``."""
        raise NotImplementedError

    def check_images(self, path: Path, images: np.ndarray) -> None:
        """Require images of this dataset's shape (``path`` names the file in the error)."""
        if tuple(images.shape[1:]) != self.image_shape:
            found = "x".join(map(str, images.shape[1:]))
            want = "x".join(map(str, self.image_shape))
            raise FormatError(f"{path}: images of {found} (C x H x W); {self.name} images are {want}")

    def _not_events(self) -> ConfigError:
        return ConfigError(f"{self.name} holds static images, not events: build its images store with "
                           f"`eventpipe prepare {self.name}` and train it with a [data] encoder.")

    def plan(self, raw_dir: Path, options: Mapping[str, Any]) -> list[Part]:
        raise self._not_events()

    def read_unit(self, raw_dir: Path, unit: Unit, options: Mapping[str, Any]) -> SampleBatch:
        raise self._not_events()
