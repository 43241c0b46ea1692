"""Batching variable-length frame sequences: zero padding, padding masks and length bucketing.

Samples integrated with a fixed duration (``duration_us=``) or a fixed number of events per frame
have different numbers of frames ``T``. :func:`pad_sequence_collate` pads a batch to the longest
sample and returns the true lengths, exactly like SpikingJelly's function of the same name, so code
written for it runs unchanged; :func:`padded_sequence_mask` turns the lengths into a ``[T, N]`` mask.
:class:`BucketBatchSampler` groups samples of similar length so that less padding is needed at all.

>>> import torch
>>> batch = [(torch.ones(n, 2), n) for n in (2, 3, 4)]
>>> x, y, lengths = pad_sequence_collate(batch)
>>> tuple(x.shape), y.tolist(), lengths.tolist()
((3, 4, 2), [2, 3, 4], [2, 3, 4])
>>> padded_sequence_mask(lengths).int().tolist()
[[1, 1, 1], [1, 1, 1], [0, 1, 1], [0, 0, 1]]
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Sampler

from eventpipe.errors import ConfigError

__all__ = [
    "BucketBatchSampler",
    "pad_sequence_collate",
    "pad_sequence_collate_time_first",
    "padded_sequence_mask",
    "padding_fraction",
]


def _check_batch(batch: Sequence[Any]) -> tuple[list[torch.Tensor], list[Any]]:
    """Split ``[(x, y), ...]`` into tensors and labels; check that trailing shapes agree."""
    if len(batch) == 0:
        raise ConfigError("Expected a non-empty batch of (x, y) pairs. Got an empty batch instead.")
    xs: list[torch.Tensor] = []
    ys: list[Any] = []
    for i, item in enumerate(batch):
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise ConfigError(
                f"Expected each batch item to be an (x, y) pair. Got {type(item).__name__} "
                f"of length {len(item) if isinstance(item, (tuple, list)) else 'n/a'} at batch index {i} instead."
            )
        if getattr(item[0], "dtype", None) is not None and getattr(item[0].dtype, "names", None):
            raise ConfigError(
                f"Expected frames [T, ...] at batch index {i}. Got raw events (a structured array with fields "
                f"{', '.join(item[0].dtype.names)}) instead: give the dataset an integration mode (e.g. frames=16) "
                "or add eventpipe.transforms.ToFrames to its transform."
            )
        x = torch.as_tensor(item[0])
        if x.ndim < 1:
            raise ConfigError(f"Expected x with a leading time axis [T, ...]. Got a scalar at batch index {i} instead.")
        xs.append(x)
        ys.append(item[1])
    first = xs[0]
    for i, x in enumerate(xs):
        if x.shape[1:] != first.shape[1:] or x.dtype != first.dtype or x.device != first.device:
            raise ConfigError(
                f"Expected every x in a batch to share trailing shape, dtype and device "
                f"({tuple(first.shape[1:])}, {first.dtype}, {first.device}). Got "
                f"({tuple(x.shape[1:])}, {x.dtype}, {x.device}) at batch index {i} instead."
            )
    return xs, ys


def _stack_targets(ys: list[Any]) -> torch.Tensor:
    """Labels as one tensor: integers give a LongTensor ``[N]``, tensors are stacked."""
    if all(isinstance(y, torch.Tensor) for y in ys):
        return torch.stack(ys)
    arr = np.asarray(ys)
    if arr.dtype.kind in "iu":
        arr = arr.astype(np.int64)
    return torch.as_tensor(arr)


def _pad(xs: list[torch.Tensor], time_first: bool) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([x.shape[0] for x in xs], dtype=torch.long)
    t_max = int(lengths.max())
    n = len(xs)
    rest = tuple(xs[0].shape[1:])
    shape = (t_max, n, *rest) if time_first else (n, t_max, *rest)
    out = xs[0].new_zeros(shape)
    for i, x in enumerate(xs):
        if time_first:
            out[: x.shape[0], i] = x
        else:
            out[i, : x.shape[0]] = x
    return out, lengths


def pad_sequence_collate(batch: Sequence[tuple[Any, Any]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Zero-pad ``(x [T_i, ...], y)`` pairs to the longest ``T`` in the batch, batch first.

    Parameters
    ----------
    batch
        Pairs of a sequence ``x`` (Tensor or ndarray ``[T_i, ...]``, equal trailing shape and dtype)
        and a label ``y`` (int or Tensor).

    Returns
    -------
    x : Tensor ``[N, T_max, ...]``
        Same dtype and device as the inputs; frames past ``T_i`` are zero.
    y : Tensor ``[N, ...]``
        ``LongTensor[N]`` for integer labels; tensor labels are stacked.
    lengths : LongTensor ``[N]``
        ``T_i`` of every sample, on the CPU.
    """
    xs, ys = _check_batch(batch)
    x, lengths = _pad(xs, time_first=False)
    return x, _stack_targets(ys), lengths


def pad_sequence_collate_time_first(
    batch: Sequence[tuple[Any, Any]],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Like :func:`pad_sequence_collate` but time first, with the mask instead of the lengths.

    Spiking networks step over time, so ``[T, N, ...]`` is what neurons consume; building it here
    avoids a transposed copy per batch.

    Returns
    -------
    x : Tensor ``[T_max, N, ...]``
        Zero-padded, same dtype and device as the inputs.
    y : Tensor ``[N, ...]``
        As in :func:`pad_sequence_collate`.
    mask : BoolTensor ``[T_max, N]``
        True where ``x`` holds a real frame (``padded_sequence_mask(lengths)``).
    """
    xs, ys = _check_batch(batch)
    x, lengths = _pad(xs, time_first=True)
    return x, _stack_targets(ys), padded_sequence_mask(lengths.to(x.device))


def padded_sequence_mask(lengths: torch.Tensor | Sequence[int], T: int | None = None) -> torch.Tensor:
    """Boolean mask ``[T, N]`` that is True at time steps ``t < lengths[n]``.

    Parameters
    ----------
    lengths
        Sequence lengths ``[N]`` (integers >= 0); the mask is built on their device.
    T
        Number of time steps of the mask; defaults to ``max(lengths)``. A larger ``T`` pads the mask
        with False, a smaller one truncates it.

    Returns
    -------
    BoolTensor ``[T, N]``
    """
    lengths = torch.as_tensor(lengths)
    if lengths.ndim != 1 or lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
        raise ConfigError(
            f"Expected lengths as a 1-D integer tensor [N]. Got dtype {lengths.dtype} and shape "
            f"{tuple(lengths.shape)} instead."
        )
    if lengths.numel() and int(lengths.min()) < 0:
        raise ConfigError(f"Expected lengths >= 0. Got {lengths.tolist()} instead.")
    if T is None:
        T = int(lengths.max()) if lengths.numel() else 0
    elif int(T) < 0:
        raise ConfigError(f"Expected T >= 0. Got {T} instead.")
    steps = torch.arange(int(T), device=lengths.device).unsqueeze(1)
    return steps < lengths.unsqueeze(0)


def padding_fraction(batches: Sequence[Sequence[int]], lengths: Sequence[int] | np.ndarray) -> float:
    """Fraction of padded time steps when each batch is padded to its longest sample (0 = none)."""
    lens = np.asarray(lengths, dtype=np.int64)
    padded = real = 0
    for b in batches:
        lb = lens[np.asarray(b, dtype=np.int64)]
        if len(lb):
            padded += int(lb.max()) * len(lb)
            real += int(lb.sum())
    return 0.0 if padded == 0 else 1.0 - real / padded


class BucketBatchSampler(Sampler[list[int]]):
    """Batches of samples with similar lengths, shuffled per epoch and shardable across processes.

    Each epoch, the dataset order is shuffled, cut into pools of ``batch_size * pool_batches``
    samples, every pool is sorted by length and cut into batches, and the batch order is shuffled.
    Padding then stays small while batch composition still changes every epoch. Everything is drawn
    from ``seed + epoch``, so every process computes the same batches and takes its own share:
    process ``rank`` of ``num_replicas`` gets batches ``rank, rank + num_replicas, ...`` (the batch
    list is first extended by repeating its start, or cut with ``drop_last``, so that every process
    gets the same number of batches, as distributed training needs).

    Parameters
    ----------
    lengths
        Length (number of frames) of every sample, e.g. ``dataset.lengths``.
    batch_size
        Samples per batch (>= 1).
    shuffle
        Shuffle within each epoch. Without it, batches are consecutive runs of the length-sorted order.
    drop_last
        Drop batches smaller than ``batch_size`` (and trailing batches that do not divide evenly
        between replicas).
    seed
        Base seed; call :meth:`set_epoch` at the start of every epoch for a new order.
    pool_batches
        Pool size in batches; larger pools pad less but mix lengths less across batches.
    num_replicas, rank
        Shard for distributed training (defaults: one process).

    Examples
    --------
    >>> sampler = BucketBatchSampler([5, 1, 4, 2, 3, 6], batch_size=2, shuffle=False)
    >>> list(sampler)
    [[1, 3], [4, 2], [0, 5]]
    """

    def __init__(
        self,
        lengths: Sequence[int] | np.ndarray,
        batch_size: int,
        *,
        shuffle: bool = True,
        drop_last: bool = False,
        seed: int = 0,
        pool_batches: int = 50,
        num_replicas: int = 1,
        rank: int = 0,
    ) -> None:
        lens = np.asarray(lengths)
        if lens.ndim != 1 or (len(lens) and lens.dtype.kind not in "iu"):
            raise ConfigError(f"Expected lengths as a 1-D sequence of integers. Got dtype {lens.dtype}, shape {lens.shape}.")
        for name, value in (("batch_size", batch_size), ("pool_batches", pool_batches), ("num_replicas", num_replicas)):
            if int(value) < 1:
                raise ConfigError(f"Expected {name} >= 1. Got {value} instead.")
        if not 0 <= int(rank) < int(num_replicas):
            raise ConfigError(f"Expected rank in the range [0, {num_replicas - 1}]. Got {rank} instead.")
        self.lengths = lens.astype(np.int64)
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = int(seed)
        self.pool_batches = int(pool_batches)
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Use the order of ``epoch`` (same seed and epoch give the same batches on every process)."""
        self.epoch = int(epoch)

    def _all_batches(self) -> list[np.ndarray]:
        n = len(self.lengths)
        if self.shuffle:
            rng = np.random.default_rng([self.seed, self.epoch])
            order = rng.permutation(n)
            pool = self.batch_size * self.pool_batches
            pieces = []
            for start in range(0, n, pool):
                chunk = order[start : start + pool]
                pieces.append(chunk[np.argsort(self.lengths[chunk], kind="stable")])
            order = np.concatenate(pieces) if pieces else order
        else:
            order = np.argsort(self.lengths, kind="stable")
        batches = [order[i : i + self.batch_size] for i in range(0, n, self.batch_size)]
        if self.drop_last and batches and len(batches[-1]) < self.batch_size:
            batches.pop()
        if self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return batches

    def _share(self, batches: list[np.ndarray]) -> list[np.ndarray]:
        if self.num_replicas == 1 or not batches:
            return batches
        if self.drop_last:
            batches = batches[: len(batches) - len(batches) % self.num_replicas]
        else:
            total = math.ceil(len(batches) / self.num_replicas) * self.num_replicas
            batches = [batches[i % len(batches)] for i in range(total)]
        return batches[self.rank :: self.num_replicas]

    def __iter__(self) -> Iterator[list[int]]:
        for b in self._share(self._all_batches()):
            yield b.tolist()

    def __len__(self) -> int:
        n = len(self.lengths)
        full, rem = divmod(n, self.batch_size)
        count = full if self.drop_last or rem == 0 else full + 1
        if self.num_replicas == 1:
            return count
        if self.drop_last:
            return count // self.num_replicas
        return math.ceil(count / self.num_replicas)
