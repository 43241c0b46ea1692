"""Batches of raw events: a loader's samples concatenated, with the offsets of each sample.

A batch of ``N`` samples becomes one tensor per event field plus ``offsets [N + 1]`` (sample ``i``
holds events ``offsets[i] <= e < offsets[i + 1]``) and the labels: no padding, one copy to the
device per field. :class:`eventpipe.loading.torch_frames.TorchFrames` integrates such a batch into
frames where it lies, so a training run reads events and needs no frames store.

>>> from eventpipe.events import make_events
>>> a = make_events(t=[0, 5], x=[1, 2], y=[0, 1], p=[1, 0])
>>> batch = pack_events_collate([(a, 3), (a[:0], 1), (a[1:], 0)])
>>> batch.offsets.tolist(), batch.t.tolist(), batch.labels.tolist()
([0, 2, 2, 3], [0, 5, 5], [3, 1, 0])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import torch

from eventpipe.errors import ConfigError

__all__ = ["EventBatch", "pack_events_collate"]


class EventBatch(NamedTuple):
    """Events of ``N`` samples, concatenated: ``t`` int64 µs, ``x``/``y`` int32 pixels, ``p`` bool
    (``p != 0``), ``offsets`` int64 ``[N + 1]`` and ``labels`` int64 ``[N]``."""

    t: torch.Tensor
    x: torch.Tensor
    y: torch.Tensor
    p: torch.Tensor
    offsets: torch.Tensor
    labels: torch.Tensor


def _fields(events: Any, i: int) -> np.ndarray:
    names = getattr(getattr(events, "dtype", None), "names", None)
    if names is None or not {"t", "x", "y", "p"} <= set(names):
        raise ConfigError(
            f"Expected raw events (a structured array with fields t, x, y, p) at batch index {i}. Got "
            f"{type(events).__name__} instead: open the dataset without an integration mode to pack its events.")
    return np.asarray(events).reshape(-1)


def _polarity(p: np.ndarray) -> np.ndarray:
    """Channel bit of every event: ``p > 0`` for a -1/+1 convention, else ``p != 0`` (as ``integrate``)."""
    signed = p.dtype.kind in "if" and len(p) and float(p.min()) < 0
    return (p > 0) if signed else (p != 0)


def pack_events_collate(batch: Sequence[tuple[Any, Any]]) -> EventBatch:
    """Concatenate ``(events, label)`` pairs into one :class:`EventBatch` (a loader's ``collate_fn``).

    ``events`` are structured arrays with fields t, x, y, p, sorted by ``t`` (as a dataset without an
    integration mode yields them, after any event transforms); labels are integers.
    """
    if len(batch) == 0:
        raise ConfigError("Expected a non-empty batch of (events, label) pairs. Got an empty batch instead.")
    samples = [_fields(item[0], i) for i, item in enumerate(batch)]
    counts = np.fromiter((len(s) for s in samples), dtype=np.int64, count=len(samples))
    offsets = np.zeros(len(samples) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])

    def column(name: str, dtype: Any) -> torch.Tensor:
        parts = [np.asarray(s[name]) for s in samples]
        if name == "p":
            parts = [_polarity(part) for part in parts]
        return torch.from_numpy(np.concatenate(parts).astype(dtype, copy=False))

    labels = torch.as_tensor(np.asarray([int(item[1]) for item in batch], dtype=np.int64))
    return EventBatch(column("t", np.int64), column("x", np.int32), column("y", np.int32), column("p", np.bool_),
                      torch.from_numpy(offsets), labels)
