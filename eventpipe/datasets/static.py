"""Static image datasets: MNIST, Fashion-MNIST, CIFAR-10 and the built-in ``demo-static`` as torch datasets.

>>> from eventpipe.datasets.static import MNIST                          # doctest: +SKIP
>>> train = MNIST(root, split="train", prepare=True)                     # doctest: +SKIP
>>> x, y = train[0]     # Tensor [1, 28, 28] float32 in [0, 1], int       # doctest: +SKIP
>>> from eventpipe.loading.encode import make_encoder                    # doctest: +SKIP
>>> x, y = MNIST(root, encoder=make_encoder("poisson", 100))[0]          # doctest: +SKIP
>>> x.shape              # 100 steps of Poisson spikes                     # doctest: +SKIP
torch.Size([100, 1, 28, 28])

Each class is :class:`eventpipe.loading.images.ImageStoreDataset` plus ``prepare=True``, which builds
a missing images store with :func:`build_images_store`: download (or generate) and verify the raw
files, then :func:`convert_images`: read them in their original format and write the store. Every
step only if needed; a killed build resumes at the first unfinished block.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventpipe.errors import ConfigError, DataNotFoundError
from eventpipe.loading.images import ImageStoreDataset
from eventpipe.sources import get_dataset
from eventpipe.sources.static import StaticImagesSpec

__all__ = [
    "CIFAR10",
    "MNIST",
    "BuildResult",
    "DemoStatic",
    "FashionMNIST",
    "StaticImageDataset",
    "build_images_store",
    "convert_images",
    "static_dataset_class",
]


@dataclass(frozen=True)
class BuildResult:
    """What :func:`build_images_store` did: ``status`` is ``"built"``, ``"resumed"`` or ``"up-to-date"``."""

    dataset: str
    store: str
    status: str
    num_samples: dict[str, int]
    blocks_written: int


def static_spec(name: str) -> StaticImagesSpec:
    """The definition of the static image dataset ``name`` (an event dataset is a :class:`ConfigError`)."""
    spec = get_dataset(name)
    if not isinstance(spec, StaticImagesSpec):
        raise ConfigError(f"{spec.name} is an event dataset, not a static image dataset: it has no images store; "
                          f"use `eventpipe prepare {spec.name}` with integration options.")
    return spec


def build_images_store(name: str, root: str | os.PathLike[str], *, overwrite: bool = False, progress: bool = True,
                       manifest: str | os.PathLike[str] | None = None) -> BuildResult:
    """Make the images store of static dataset ``name`` under ``root`` complete and up to date.

    The raw files are downloaded (or generated) and verified against the manifest first
    (:func:`eventpipe.fetch.download_dataset`, which does only what is missing; ``manifest`` replaces
    the packaged one, e.g. to fetch from another host), then converted by :func:`convert_images`. A
    complete store whose raw folder was deleted is kept as it is.
    """
    from eventpipe.store.markers import is_complete

    spec = static_spec(name)
    root = Path(root).expanduser()
    location = str(spec.images_store_path(root))
    if not overwrite and not spec.raw_dir(root).exists() and is_complete(location):
        return _result(spec, location, "up-to-date", 0)
    from eventpipe.fetch import download_dataset

    download_dataset(spec.name, root, progress=progress, manifest=None if manifest is None else Path(manifest))
    return convert_images(spec.name, root, overwrite=overwrite)


def convert_images(name: str, root: str | os.PathLike[str], *, overwrite: bool = False) -> BuildResult:
    """Write the images store of static dataset ``name`` from the raw files under ``root/<name>/raw``.

    Every split is read in its original format (:mod:`eventpipe.readers.images`). The store's
    fingerprint covers the raw files' SHA-256: a complete store of the same files is left as it is,
    an interrupted one resumes at its first unfinished block, and a store built from other files is
    refused unless ``overwrite``.

    Raises
    ------
    DataNotFoundError
        The raw files are not there (the message says what is missing and how to get it).
    FormatError
        A raw file is not in its format (the message names it).
    StoreSchemaError
        Another store is in the way (without ``overwrite``).
    """
    from eventpipe.store import images as images_store
    from eventpipe.store.lock import store_lock

    spec = static_spec(name)
    root = Path(root).expanduser()
    location = str(spec.images_store_path(root))
    raw_dir = spec.raw_dir(root)
    files = spec.raw_files(raw_dir)
    splits = {split: spec.read_split(paths) for split, paths in files.items()}
    header = images_store.ImagesHeader(
        dataset=spec.name,
        shape=spec.image_shape,
        classes=spec.classes,
        splits=tuple(splits),
        blocks={split: images_store.plan_blocks(len(labels)) for split, (_, labels) in splits.items()},
        sources=[_source(raw_dir, p) for paths in files.values() for p in paths],
    )
    Path(location).parent.mkdir(parents=True, exist_ok=True)
    with store_lock(location):
        status = images_store.begin(location, header, overwrite=overwrite)
        if status == "complete":
            return _result(spec, location, "up-to-date", 0)
        written = 0
        for split, (images, _) in splits.items():
            bounds = header.blocks[split]
            done = images_store.completed_blocks(location, split, len(bounds) - 1)
            for j in range(len(bounds) - 1):
                if j not in done:
                    images_store.write_block(location, split, j, images[bounds[j]:bounds[j + 1]])
                    written += 1
        images_store.finalize(location, header, {split: labels for split, (_, labels) in splits.items()})
    return _result(spec, location, "built" if status == "new" else "resumed", written)


def _source(raw_dir: Path, path: Path) -> dict[str, Any]:
    from eventpipe.store.markers import file_sha256

    return {"path": path.relative_to(raw_dir).as_posix(), "size": path.stat().st_size,
            "checksum": "sha256:" + file_sha256(str(path))}


def _result(spec: StaticImagesSpec, location: str, status: str, written: int) -> BuildResult:
    from eventpipe.store.images import ImagesStore

    counts = ImagesStore.open(location).attrs.get("num_samples", {})
    return BuildResult(spec.name, location, status, {k: int(v) for k, v in counts.items()}, written)


class StaticImageDataset(ImageStoreDataset):
    """A split of a static image dataset (``dataset=NAME``); the named classes below fix the name.

    Takes every argument of :class:`~eventpipe.loading.images.ImageStoreDataset` (``encoder``,
    transforms) and ``prepare``: build a missing images store with :func:`build_images_store`. When
    False and the store is missing, :class:`~eventpipe.errors.DataNotFoundError` gives the command to run.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None, split: str = "train", *,
                 prepare: bool = False, progress: bool = True, **kwargs: Any) -> None:
        self._prepare = bool(prepare)
        self._progress = bool(progress)
        super().__init__(root, split, **kwargs)

    def _unavailable(self, exc: Exception) -> Any:
        if not self._prepare:
            return super()._unavailable(exc)
        build_images_store(self.info.name, self.root, overwrite=not isinstance(exc, DataNotFoundError),
                           progress=self._progress)
        return self._open()


class MNIST(StaticImageDataset):
    """MNIST: handwritten digits, 28x28 grey (``[1, 28, 28]``), 10 classes, 60,000 + 10,000 images."""

    dataset_name = "mnist"


class FashionMNIST(StaticImageDataset):
    """Fashion-MNIST: Zalando article images, 28x28 grey (``[1, 28, 28]``), 10 classes, 60,000 + 10,000."""

    dataset_name = "fashion-mnist"


class CIFAR10(StaticImageDataset):
    """CIFAR-10 (binary version): 32x32 colour images (``[3, 32, 32]``), 10 classes, 50,000 + 10,000."""

    dataset_name = "cifar10"


class DemoStatic(StaticImageDataset):
    """The built-in synthetic digits (generated locally, no download), 28x28 grey, MNIST's layout."""

    dataset_name = "demo-static"


_CLASSES: tuple[type[StaticImageDataset], ...] = (MNIST, FashionMNIST, CIFAR10, DemoStatic)


def static_dataset_class(name: str) -> type[StaticImageDataset]:
    """The class of static dataset ``name`` (aliases accepted); the generic class for other static datasets."""
    canonical = static_spec(name).name
    for cls in _CLASSES:
        if cls.dataset_name == canonical:
            return cls
    return StaticImageDataset

