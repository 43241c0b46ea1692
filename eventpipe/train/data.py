"""Datasets of a training run: ``prepare`` what is missing, then open the train and test splits."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, cast

import torch
from torch.utils.data import Dataset, Subset

from eventpipe.errors import DataNotFoundError
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
    from eventpipe.cli.common import resolve_root

    return resolve_root(Path(config.data.root) if config.data.root else None)


def build_data(config: TrainConfig, ctx: DistContext, *, progress: bool = True, workers: int | None = None,
               scheduler: str | None = None) -> DataBundle:
    """Open both splits of ``config.data``; when a store is missing, rank 0 runs ``prepare`` (others wait).

    ``prepare`` downloads, verifies, converts and integrates only what is missing, with ``workers``
    parallel tasks or on the Dask cluster at ``scheduler``.
    """
    from eventpipe.datasets import get_dataset
    from eventpipe.datasets.torch_datasets import dataset_class

    root = data_root(config)
    info = get_dataset(config.data.dataset)
    cls = dataset_class(info.name)
    integration = config.data.integration()

    def open_splits() -> tuple[Any, Any]:
        return (cls(root, split=config.data.train_split, progress=False, **integration),
                cls(root, split=config.data.test_split, progress=False, **integration))

    if ctx.is_main:
        try:
            open_splits()
        except DataNotFoundError:
            from eventpipe.frames import IntegrationSpec
            from eventpipe.pipeline.prepare import prepare

            prepare(info.name, root, IntegrationSpec(**integration), workers=workers, scheduler=scheduler,
                    progress=progress)
    barrier(ctx)
    train, test = open_splits()
    return DataBundle(train=train, test=test, classes=tuple(getattr(train, "classes", info.classes)))


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
