"""Samples in memory: what a dataset's reader hands to the events store writer.

A :class:`SampleBatch` holds ``n`` samples of one event array, ``offsets[n+1]``, integer labels and
per-sample metadata columns. Sample ``i`` has ``offsets[i+1] - offsets[i]`` events; they are
``events[offsets[i]:offsets[i+1]]`` when the samples are stored back to back, or
``events[starts[i]:starts[i] + length]`` when the batch is a set of windows into one recording
(:meth:`SampleBatch.from_segments`: cutting a recording into labelled segments copies nothing).
Either way there is never a Python object per event.

>>> from eventpipe.events import make_events
>>> a = SampleBatch.single(make_events([0, 1], [0, 0], [0, 0], [1, 1]), 3, {"user": "u1"})
>>> b = SampleBatch.concat([a, a])
>>> len(b), b.offsets.tolist(), b.meta["user"]
(2, [0, 2, 4], ['u1', 'u1'])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from eventpipe.errors import EventValidationError
from eventpipe.events import EVENT_DTYPE, Events, empty_events

MetaValue = str | int


def _raw(events: Events) -> np.ndarray:
    """``events`` viewed as opaque 13-byte records: NumPy copies structured records field by field,
    and the same bytes as ``V13`` items at memory speed."""
    return events.view(np.dtype((np.void, EVENT_DTYPE.itemsize)))


def concat_events(arrays: Sequence[Events]) -> Events:
    """Concatenate event arrays at memory speed (see :func:`_raw`)."""
    if len(arrays) == 1:
        return arrays[0]
    out = np.empty(sum(len(a) for a in arrays), dtype=EVENT_DTYPE)
    np.concatenate([_raw(np.ascontiguousarray(a, dtype=EVENT_DTYPE)) for a in arrays], out=_raw(out))
    return out


@dataclass(frozen=True)
class SampleBatch:
    """``n`` samples of ``events``: ``offsets`` (n+1, int64), ``labels`` (n, int64), ``meta``, ``starts``.

    ``meta`` maps a column name to a list of ``n`` values, each a ``str`` or an ``int``. ``starts``
    (n, int64) is ``None`` for samples stored back to back, else where each sample begins in
    ``events`` (see the module docstring); use :meth:`sample` to read one either way.
    """

    events: Events
    offsets: np.ndarray
    labels: np.ndarray
    meta: dict[str, list[MetaValue]] = field(default_factory=dict)
    starts: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.labels)
        if self.offsets.shape != (n + 1,):
            raise EventValidationError(f"offsets must have n + 1 = {n + 1} entries. Got {self.offsets.shape} instead.")
        lengths = np.diff(self.offsets)
        if self.offsets[0] != 0 or np.any(lengths < 0):
            raise EventValidationError(
                f"offsets must rise from 0. Got {self.offsets[:1].tolist()}...{self.offsets[-1:].tolist()} instead."
            )
        if self.starts is None:
            if self.offsets[-1] != len(self.events):
                raise EventValidationError(
                    f"offsets must end at len(events) = {len(self.events)}. Got {int(self.offsets[-1])} instead."
                )
        elif self.starts.shape != (n,) or (n and (self.starts.min() < 0 or
                                                  np.max(self.starts + lengths) > len(self.events))):
            raise EventValidationError(f"starts must hold {n} windows inside the {len(self.events)} events.")
        for name, values in self.meta.items():
            if len(values) != n:
                raise EventValidationError(f"meta column {name!r} has {len(values)} values for {n} samples.")

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def n_events(self) -> int:
        """Events over all samples (a window counted once per sample that holds it)."""
        return int(self.offsets[-1])

    def source_starts(self) -> np.ndarray:
        """Where each sample begins in :attr:`events` (``offsets[:-1]`` for back-to-back samples)."""
        return self.offsets[:-1] if self.starts is None else self.starts

    def sample(self, i: int) -> Events:
        """The events of sample ``i`` (a view)."""
        a = int(self.source_starts()[i])
        return self.events[a:a + int(self.offsets[i + 1] - self.offsets[i])]

    def compact(self) -> SampleBatch:
        """The same samples stored back to back (a copy only when they are windows)."""
        if self.starts is None:
            return self
        out = np.empty(self.n_events, dtype=EVENT_DTYPE)
        src, dst = _raw(np.ascontiguousarray(self.events, dtype=EVENT_DTYPE)), _raw(out)
        for a, o, b in zip(self.starts.tolist(), self.offsets[:-1].tolist(), self.offsets[1:].tolist(), strict=True):
            dst[o:b] = src[a:a + b - o]  # one copy per sample, not per event
        return SampleBatch(out, self.offsets, self.labels, self.meta)

    @classmethod
    def empty(cls, meta_columns: Sequence[str] = ()) -> SampleBatch:
        """No samples."""
        return cls(empty_events(), np.zeros(1, np.int64), np.zeros(0, np.int64), {c: [] for c in meta_columns})

    @classmethod
    def single(cls, events: Events, label: int, meta: Mapping[str, MetaValue] | None = None) -> SampleBatch:
        """One sample."""
        return cls(
            np.ascontiguousarray(events, dtype=EVENT_DTYPE),
            np.array([0, len(events)], dtype=np.int64),
            np.array([label], dtype=np.int64),
            {k: [v] for k, v in (meta or {}).items()},
        )

    @classmethod
    def from_segments(
        cls,
        events: Events,
        starts: np.ndarray,
        stops: np.ndarray,
        labels: np.ndarray,
        meta: Mapping[str, list[MetaValue]] | None = None,
    ) -> SampleBatch:
        """Samples ``events[starts[i]:stops[i]]`` of one recording, as windows (no copy; segments may
        overlap or repeat; a stop before its start is an empty sample)."""
        starts = np.asarray(starts, dtype=np.int64)
        stops = np.maximum(np.asarray(stops, dtype=np.int64), starts)
        offsets = np.zeros(len(starts) + 1, dtype=np.int64)
        np.cumsum(stops - starts, out=offsets[1:])
        return cls(events, offsets, np.asarray(labels, dtype=np.int64), dict(meta or {}), starts)

    @classmethod
    def concat(cls, batches: Sequence[SampleBatch]) -> SampleBatch:
        """Samples of ``batches`` one after the other, back to back; every batch must have the same
        meta columns."""
        if not batches:
            return cls.empty()
        columns = list(batches[0].meta)
        for b in batches[1:]:
            if list(b.meta) != columns:
                raise EventValidationError(f"meta columns differ between batches: {columns} vs {list(b.meta)}.")
        compact = [b.compact() for b in batches]
        sizes = np.array([b.n_events for b in compact], dtype=np.int64)
        shifts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        offsets = np.concatenate([[0]] + [b.offsets[1:] + s for b, s in zip(compact, shifts, strict=True)])
        return cls(
            concat_events([b.events for b in compact]),
            offsets.astype(np.int64),
            np.concatenate([b.labels for b in compact]).astype(np.int64),
            {c: [v for b in compact for v in b.meta[c]] for c in columns},
        )
