"""Datasets of a training run: build what is missing, then open the train and test splits."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, cast

import torch
from torch.utils.data import Dataset, Subset

from eventpipe.paths import resolve_root
from eventpipe.train.config import TrainConfig
from eventpipe.train.ddp import DistContext, barrier


class SizedDataset(Protocol):
    """A map-style dataset with a length (what the trainer's samplers need)."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Any: ...


@dataclass(frozen=True)
class DataBundle:
    """The two splits of a run and the class names (label ``i`` is ``classes[i]``).

    Items are ``(frames [T, ...], label)``; ``T`` may vary between samples.
    """

    train: SizedDataset
    test: SizedDataset
    classes: tuple[str, ...]


def data_root(config: TrainConfig) -> Path:
    """``data.root``, else ``$EVENTPIPE_HOME``, else ``~/.cache/eventpipe``."""
    return resolve_root(Path(config.data.root) if config.data.root else None)


def build_data(config: TrainConfig, ctx: DistContext, *, progress: bool = True, workers: int | None = None,
               scheduler: str | None = None) -> DataBundle:
    """Open both splits of ``config.data``; rank 0 builds what is missing first (the others wait).

    Building goes through the dataset classes' ``prepare=True``: download, verify, convert and
    integrate only what is missing, with ``workers`` parallel tasks or on the Dask cluster at ``scheduler``.
    """
    from eventpipe.datasets import dataset_class

    root = data_root(config)
    cls = dataset_class(config.data.dataset)
    spec = config.data.integration

    def open_split(split: str, prepare: bool) -> Any:
        return cls(root, split=split, spec=spec, prepare=prepare, workers=workers, scheduler=scheduler,
                   progress=progress and prepare)

    if ctx.is_main:
        open_split(config.data.train_split, True)
    barrier(ctx)
    train, test = open_split(config.data.train_split, False), open_split(config.data.test_split, False)
    return DataBundle(train=train, test=test, classes=tuple(train.classes))


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
