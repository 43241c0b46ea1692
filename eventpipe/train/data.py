"""Datasets of a training run: build what is missing, then open the train and test splits, and turn a
loader's batch into the model's input on the device."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, cast

import torch
from torch.utils.data import Dataset, Subset, default_collate

from eventpipe.collate import pad_sequence_collate_time_first
from eventpipe.frames.spec import IntegrationSpec
from eventpipe.paths import resolve_root
from eventpipe.train.config import TrainConfig
from eventpipe.train.ddp import DistContext, barrier


class SizedDataset(Protocol):
    """A map-style dataset with a length (what the trainer's samplers need)."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Any: ...


Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
"""What a model step takes: ``(x [T, N, ...] float32, y [N] int64, mask [T, N] bool)``."""


class BatchTransform(Protocol):
    """Turns a loader batch already on the device into a :data:`Batch`; random draws follow ``seed``."""

    def __call__(self, batch: tuple[torch.Tensor, ...], seed: int) -> Batch: ...


@dataclass(frozen=True)
class EncodeImages:
    """A batch ``(images [N, C, H, W], labels [N])`` as spikes ``[T, N, C, H, W]`` of the encoder ``name``.

    The encoder (:func:`eventpipe.loading.encode.make_encoder`) runs where the batch is, drawing from a
    generator on that device seeded with ``seed``: the same seed gives the same spikes.
    """

    name: str
    steps: int

    def __call__(self, batch: tuple[torch.Tensor, ...], seed: int) -> Batch:
        from eventpipe.loading.encode import make_encoder

        images, labels = batch
        generator = torch.Generator(images.device).manual_seed(seed)
        x = make_encoder(self.name, self.steps, generator)(images)
        return x, labels, torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)


@dataclass(frozen=True)
class DataBundle:
    """The two splits of a run, the class names (label ``i`` is ``classes[i]``) and how batches are made.

    ``collate`` stacks a loader's samples; ``transform``, when set, finishes the batch on the device
    (:func:`to_device`). The default takes items ``(frames [T, ...], label)``, ``T`` varying between
    samples. Static image datasets yield images ``[C, H, W]``, stacked, and encoded per batch on the
    device by :class:`EncodeImages`.
    """

    train: SizedDataset
    test: SizedDataset
    classes: tuple[str, ...]
    collate: Callable[[list[Any]], Any] = pad_sequence_collate_time_first
    transform: BatchTransform | None = None

    def example(self, split: str = "train", device: torch.device | None = None) -> Batch:
        """The first sample of ``split`` as a batch of one, as the model takes it (e.g. for its input geometry)."""
        dataset = self.train if split == "train" else self.test
        return to_device(self.collate([dataset[0]]), device or torch.device("cpu"), self.transform, batch_seed(0))


def batch_seed(*parts: int) -> int:
    """A seed mixed from ``parts`` (run seed, epoch, batch index, rank): every combination draws its own numbers."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def to_device(batch: tuple[torch.Tensor, ...], device: torch.device, transform: BatchTransform | None = None,
              seed: int = 0) -> Batch:
    """Move a loader batch to ``device``, finish it with ``transform(batch, seed)`` there; ``x`` becomes float32."""
    non_blocking = device.type == "cuda"
    moved = tuple(t.to(device, non_blocking=non_blocking) for t in batch)
    x, y, mask = moved if transform is None else transform(moved, seed)
    return x.float(), y.long(), mask


def data_root(config: TrainConfig) -> Path:
    """``data.root``, else ``$EVENTPIPE_HOME``, else ``~/.cache/eventpipe``."""
    return resolve_root(Path(config.data.root) if config.data.root else None)


def build_data(config: TrainConfig, ctx: DistContext, *, progress: bool = True, workers: int | None = None,
               scheduler: str | None = None) -> DataBundle:
    """Open both splits of ``config.data``; rank 0 builds what is missing first (the others wait).

    Building goes through the dataset classes' ``prepare=True``: download, verify, convert and
    integrate only what is missing, with ``workers`` parallel tasks or on the Dask cluster at ``scheduler``.
    A static image dataset (``config.data.encoder`` set) builds its images store instead; its images
    are stacked and each batch is encoded into ``config.data.steps`` steps on the device (:class:`EncodeImages`).
    With ``config.data.on_the_fly`` the splits yield events: each batch is packed with its offsets
    (:func:`~eventpipe.loading.event_batches.pack_events_collate`) and integrated on the device
    (:class:`~eventpipe.loading.torch_frames.TorchFrames`), so only the events store is built; the
    spec's event filters then run on each sample as the dataset's transform, as ``prepare`` runs them.
    """
    root = data_root(config)
    static = config.data.encoder is not None
    if static:
        open_split = _static_opener(config, root, progress)
    else:
        open_split = _events_opener(config, root, progress, workers, scheduler)

    if ctx.is_main:
        open_split(config.data.train_split, True)
    barrier(ctx)
    train, test = open_split(config.data.train_split, False), open_split(config.data.test_split, False)
    if config.data.on_the_fly:
        from eventpipe.loading.event_batches import pack_events_collate
        from eventpipe.loading.torch_frames import TorchFrames

        spec = cast(IntegrationSpec, config.data.integration)
        integrate = TorchFrames(replace(spec, filters=()), train.sensor_size)  # the datasets ran the filters
        return DataBundle(train=train, test=test, classes=tuple(train.classes), collate=pack_events_collate,
                          transform=integrate)
    if not static:
        return DataBundle(train=train, test=test, classes=tuple(train.classes))
    return DataBundle(train=train, test=test, classes=tuple(train.classes), collate=default_collate,
                      transform=EncodeImages(str(config.data.encoder), int(config.data.steps or 1)))


def _events_opener(config: TrainConfig, root: Path, progress: bool, workers: int | None,
                   scheduler: str | None) -> Callable[[str, bool], Any]:
    """``open_split(split, prepare)`` of the event dataset of ``config``, integrated as it says (raw
    events when the integration happens on the fly)."""
    from eventpipe.datasets import dataset_class

    cls = dataset_class(config.data.dataset, root)
    spec = None if config.data.on_the_fly else config.data.integration
    name = None if cls.dataset_name else config.data.dataset  # the generic class: plugin and user datasets

    filters = config.data.integration.filter_chain if config.data.on_the_fly and config.data.integration else None

    def open_split(split: str, prepare: bool) -> Any:
        return cls(root, split=split, spec=spec, prepare=prepare, workers=workers, scheduler=scheduler,
                   progress=progress and prepare, dataset=name, transform=filters or None)

    return open_split


def _static_opener(config: TrainConfig, root: Path, progress: bool) -> Callable[[str, bool], Any]:
    """``open_split(split, prepare)`` of the static image dataset of ``config``: items are images ``[C, H, W]``."""
    from eventpipe.datasets.static import static_dataset_class

    cls = static_dataset_class(config.data.dataset)

    def open_split(split: str, prepare: bool) -> Any:
        return cls(root, split=split, prepare=prepare, progress=progress and prepare)

    return open_split


def subset(data: DataBundle, limit_train: int, limit_test: int, seed: int) -> DataBundle:
    """At most ``limit_train`` / ``limit_test`` samples (0 = all), a seeded random choice kept in dataset order."""

    def pick(ds: SizedDataset, limit: int, salt: int) -> SizedDataset:
        n = len(ds)
        if limit <= 0 or limit >= n:
            return ds
        g = torch.Generator().manual_seed(seed * 7919 + salt)
        idx = torch.randperm(n, generator=g)[:limit].sort().values.tolist()
        return Subset(cast(Dataset[Any], ds), idx)

    return replace(data, train=pick(data.train, limit_train, 1), test=pick(data.test, limit_test, 2))
