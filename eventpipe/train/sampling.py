"""Sample order for training and evaluation: seeded per epoch, sharded across processes, resumable.

The training order of epoch ``e`` is a permutation drawn from ``seed + e`` alone, so it does not depend
on what ran before (a resumed run sees the same batches as an uninterrupted one). With ``R`` processes,
process ``r`` takes every ``R``-th index of that permutation: its batch ``k`` and the other processes'
batch ``k`` together are exactly the single-process batch ``k`` of a batch ``R`` times larger.

>>> s = ShardSampler(5, shuffle=False, num_replicas=2, rank=1)
>>> list(s)
[1, 3, 0]
>>> list(ShardSampler(5, shuffle=False, num_replicas=2, rank=1, pad=False))
[1, 3]
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch.utils.data import Sampler

from eventpipe.errors import ConfigError


class ShardSampler(Sampler[int]):
    """Indices of one process's share of a dataset of ``n`` samples.

    Parameters
    ----------
    n
        Dataset length.
    shuffle
        Permute per epoch (seeded by ``seed + epoch``); otherwise dataset order.
    seed
        Base seed of the permutations.
    num_replicas, rank
        Number of processes and this one's index.
    pad
        Repeat the first indices so every process gets the same count (training, where all processes
        must take the same number of steps); without it shares differ by at most one (evaluation, where
        every sample must count once).
    """

    def __init__(self, n: int, *, shuffle: bool = True, seed: int = 0, num_replicas: int = 1, rank: int = 0,
                 pad: bool = True) -> None:
        if n < 0:
            raise ConfigError(f"Expected a dataset length >= 0. Got {n} instead.")
        if num_replicas < 1 or not 0 <= rank < num_replicas:
            raise ConfigError(f"Expected 0 <= rank < num_replicas. Got rank={rank}, num_replicas={num_replicas}.")
        self.n = n
        self.shuffle = shuffle
        self.seed = seed
        self.num_replicas = num_replicas
        self.rank = rank
        self.pad = pad
        self.epoch = 0
        self.start = 0

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        """Use epoch ``epoch``'s order, skipping this process's first ``start`` indices (a resumed epoch)."""
        self.epoch = int(epoch)
        self.start = int(start)

    def _order(self) -> list[int]:
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(self.n, generator=g).tolist()
        else:
            order = list(range(self.n))
        if self.pad and self.n:
            total = math.ceil(self.n / self.num_replicas) * self.num_replicas
            order = (order * math.ceil(total / self.n))[:total]
        return order[self.rank :: self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        return iter(self._order()[self.start :])

    def share(self) -> int:
        """Number of indices per epoch for this process (before skipping ``start``)."""
        if self.pad:
            return math.ceil(self.n / self.num_replicas)
        return len(range(self.rank, self.n, self.num_replicas))

    def __len__(self) -> int:
        return max(0, self.share() - self.start)
